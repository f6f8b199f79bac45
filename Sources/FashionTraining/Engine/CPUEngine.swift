import FashionData
import FashionEngine

/// The CPU implementation of `TrainingEngine`: batches gathered and augmented on the host (`BatchIterator`),
/// the layers' own forward and backward passes, the optimiser's fused C loops.
public final class CPUEngine: TrainingEngine {
    public let model: Sequential
    public var fusesOptimizerIntoBackward = true
    let encoding: PixelEncoding
    private let training: TrainingSetup?
    private let batches: BatchIterator?
    private let loss: SoftmaxCrossEntropy
    private var lossSum = 0.0
    private var correct = 0
    private var lastLogits: [Float] = []
    /// What the optimiser updates after a backward pass without and with fused SGD (found once, not every step).
    private let allParameters: [Parameter], parametersWithFusedSGD: [Parameter]
    private var lastUpdated: [Parameter] = []

    public init(model: Sequential, encoding: PixelEncoding, training: TrainingSetup? = nil) {
        self.model = model
        self.encoding = encoding
        self.training = training
        batches = training.map {
            BatchIterator(dataset: $0.data, plan: $0.plan, encoding: encoding, augmentation: $0.augmentation, sampleShape: model.inputShape)
        }
        loss = SoftmaxCrossEntropy(labelSmoothing: training?.labelSmoothing ?? 0)
        allParameters = model.parametersLeftToOptimizer(sgdRate: nil)
        parametersWithFusedSGD = model.parametersLeftToOptimizer(sgdRate: 1)
    }

    public func startEpoch() throws {
        lossSum = 0
        correct = 0
    }

    public func trainStep(batch index: Int, learningRate: Float) throws -> Float? {
        guard let training, let batches else { preconditionFailure("CPUEngine.trainStep without a TrainingSetup") }
        let optimizer = training.optimizer
        optimizer.learningRate = learningRate
        let (inputs, labels) = batches.load(batch: index)
        model.zeroGradients()
        let logits = model.forward(inputs, training: true)
        let result = loss(logits, labels)
        let sgdRate = fusesOptimizerIntoBackward ? optimizer.fusableSGDRate : nil
        model.backward(loss.gradient!, sgdRate: sgdRate)
        lastUpdated = sgdRate == nil ? allParameters : parametersWithFusedSGD
        optimizer.step(lastUpdated)
        if !fusesOptimizerIntoBackward { lastLogits = logits.toArray() }
        lossSum += Double(result.loss)
        correct += result.correct
        return result.loss
    }

    public func epochTotals() throws -> (lossSum: Double, correct: Int) { (lossSum, correct) }

    public func evaluate(_ dataset: Dataset, batchSize: Int) throws -> EvaluationResult {
        model.evaluate(on: dataset, encoding: encoding, batchSize: batchSize)
    }

    public func logits(_ dataset: Dataset, batchSize: Int) throws -> [Float] {
        let batches = BatchIterator(dataset: dataset, batchSize: batchSize, shuffle: false, encoding: encoding, sampleShape: model.inputShape)
        var logits: [Float] = []
        logits.reserveCapacity(dataset.count * 10)
        for index in 0..<batches.batchCount {
            logits += model.forward(batches.load(batch: index).inputs, training: false).buffer
        }
        return logits
    }

    /// Only after a step with `fusesOptimizerIntoBackward` off (the logits are not kept otherwise).
    public func lastStep() throws -> (logits: [Float], gradients: [(name: String, values: [Float])]) {
        (lastLogits, lastUpdated.map { ($0.name, $0.gradient.toArray()) })
    }

    public func synchronizeHost() throws {}
}
