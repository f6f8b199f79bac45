import FashionData
import FashionEngine

/// Where a model trains and is evaluated: one implementation per device (`CPUEngine`, `CUDAEngine`) behind
/// the one interface that `Trainer`, evaluation and `ReferenceCheck` use. An engine takes a batch of the plan
/// and the step's learning rate and trains on it; it evaluates a dataset. Everything device-specific (buffers,
/// kernels, fusions, where the dataset lives) stays inside it.
///
/// The host's `Sequential` and `Optimizer` stay the source of truth between epochs: an engine may keep its own
/// copies (the GPU's), and `synchronizeHost()` brings them back for checkpoints, charts and prediction.
public protocol TrainingEngine: AnyObject {
    /// The model it computes (its host copy).
    var model: Sequential { get }
    /// False to keep every gradient (to read them, as `ReferenceCheck` does) rather than let the layers that can
    /// apply plain SGD in their backward pass (`Optimizer.fusableSGDRate`); the results are the same to rounding.
    var fusesOptimizerIntoBackward: Bool { get set }
    /// Starts an epoch of the training plan, after `plan.startEpoch()`: the epoch's sums start from zero.
    func startEpoch() throws
    /// Trains on batch `index` of the plan: forward, loss, backward and the optimiser's update at `learningRate`.
    /// Returns the batch's mean loss when the engine has it without waiting (the CPU), nil otherwise.
    func trainStep(batch index: Int, learningRate: Float) throws -> Float?
    /// The sum of the epoch's batch losses so far and how many of its images were classified right (waits for
    /// the device).
    func epochTotals() throws -> (lossSum: Double, correct: Int)
    /// Loss and accuracy of the model over `dataset`, in evaluation mode, in batches of `batchSize`.
    func evaluate(_ dataset: Dataset, batchSize: Int) throws -> EvaluationResult
    /// The logits of every image of `dataset` (`[count, classes]`, row-major), in evaluation mode.
    func logits(_ dataset: Dataset, batchSize: Int) throws -> [Float]
    /// The last training step's logits and the gradient of every parameter the optimiser updated, by
    /// `state_dict` name (for `ReferenceCheck`; waits for the device).
    func lastStep() throws -> (logits: [Float], gradients: [(name: String, values: [Float])])
    /// Copies parameters, buffers and optimiser state back into the host model and optimiser.
    func synchronizeHost() throws
}

/// What an engine needs to train, beyond the model: the optimiser, the training set and its batch plan, the
/// augmentation and the loss's label smoothing.
public struct TrainingSetup {
    public let optimizer: Optimizer
    public let data: Dataset
    public let plan: BatchPlan
    public let augmentation: Augmentation?
    public let labelSmoothing: Float

    public init(optimizer: Optimizer, data: Dataset, plan: BatchPlan, augmentation: Augmentation? = nil, labelSmoothing: Float = 0) {
        self.optimizer = optimizer
        self.data = data
        self.plan = plan
        self.augmentation = augmentation.flatMap { $0.isIdentity ? nil : $0 }
        self.labelSmoothing = labelSmoothing
    }
}

extension ComputeBackend {
    /// This backend's engine for `model`, its inputs encoded by `encoding`; able to train with `training`
    /// (nil: evaluation only). The one place that picks an implementation by device.
    public func makeEngine(for model: Sequential, encoding: PixelEncoding, training: TrainingSetup? = nil) throws -> TrainingEngine {
        switch self {
        case .cpu: CPUEngine(model: model, encoding: encoding, training: training)
        case .cuda(let device): try CUDAEngine(device: device, model: model, encoding: encoding, training: training)
        }
    }
}
