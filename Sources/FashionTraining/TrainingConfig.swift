import FashionCore
import FashionEngine

/// Which optimiser a run uses.
public enum OptimizerKind: String, Codable, Sendable, CaseIterable {
    case sgd, adam, adamw
}

/// How a run measures training accuracy after each epoch.
public enum TrainingMetrics: String, Codable, Sendable, CaseIterable {
    /// A separate pass over the whole training set in evaluation mode (the notebook's definition).
    case wholeSet = "whole-set"
    /// The running mean over the epoch's training batches as they were trained (Keras's definition:
    /// free, but measured in training mode while the weights still change).
    case batches
}

/// Everything that defines a training run; saved with its metrics and checkpoint.
public struct TrainingConfig: Codable, Sendable, Equatable {
    /// "mlp" (the notebook's network), "cnn" (`Sequential.cnn`) or "cnn-large" (`Sequential.largeCNN`).
    public var model = "mlp"
    /// Hidden layer sizes of the MLP.
    public var hidden = [1000]
    public var optimizer = OptimizerKind.sgd
    public var learningRate: Float = 0.01
    /// SGD momentum.
    public var momentum: Float = 0
    /// Nesterov momentum (SGD).
    public var nesterov = false
    public var weightDecay: Float = 0
    public var schedule = LearningRateSchedule.constant
    public var batchSize = 32
    public var epochs = 5
    /// Divide pixels by 255 (true) or feed raw 0…255 values (false).
    public var scale = true
    public var seed: UInt64 = 0
    /// Subtract the training pixels' mean and divide by their standard deviation (after scaling); nil for none.
    public var normalization: PixelEncoding.Normalization?
    /// Random changes to training images; nil for none.
    public var augmentation: Augmentation?
    /// Label smoothing of the training loss (PyTorch's `CrossEntropyLoss(label_smoothing:)`); nil for none.
    public var labelSmoothing: Float?
    /// How training accuracy and loss are measured after each epoch; nil means `.wholeSet`.
    public var trainingMetrics: TrainingMetrics?
    /// Batch size of the evaluation passes (does not change results, only speed and memory).
    public var evaluationBatchSize = 1000
    /// The evaluation batch actually used. The CNNs evaluate in batches of the training size (at least 32):
    /// their layers then reuse the training buffers instead of holding a second, larger set (a CNN's
    /// activations for 1,000 images take about 600 MB), and their per-image GEMMs gain nothing from more.
    public var effectiveEvaluationBatchSize: Int {
        isConvolutional ? min(evaluationBatchSize, max(batchSize, 32)) : evaluationBatchSize
    }
    /// True for the models that take `[1, 28, 28]` images.
    public var isConvolutional: Bool { model != "mlp" }
    /// Train on the first N training images only (quick experiments, tests); nil for all.
    public var trainingSubset: Int?

    public init() {}

    /// How pixels become inputs in this run, for training, evaluation and prediction alike.
    public var encoding: PixelEncoding { PixelEncoding(scale: scale, normalization: normalization) }

    /// A new model as this configuration describes, initialised from `seed`.
    public func makeModel() -> Sequential {
        switch model {
        case "cnn": Sequential.cnn(seed: seed)
        case "cnn-large": Sequential.largeCNN(seed: seed)
        default: Sequential.mlp(inputs: 784, hidden: hidden, classes: 10, seed: seed)
        }
    }

    /// Copies the weights of `file` (read from `path`) into `model`, a model these settings made. When they do not
    /// fit, the error also names the network the settings describe: a file saved for another version of it (or
    /// edited) is the likely cause.
    public func load(_ file: Safetensors, into model: Sequential, from path: String) throws {
        do {
            try model.load(file, name: path)
        } catch let error as SafetensorsError {
            throw SafetensorsError(path, "\(error.message) — the file does not hold the \(network) its settings name (saved by another version of FashionLab?)")
        }
    }

    /// The models `makeModel` knows.
    public static let models = ["mlp", "cnn", "cnn-large"]

    /// A new optimiser for this configuration.
    public func makeOptimizer() -> Optimizer {
        switch optimizer {
        case .sgd: SGD(learningRate: learningRate, momentum: momentum, weightDecay: weightDecay, nesterov: nesterov)
        case .adam: Adam(learningRate: learningRate, weightDecay: weightDecay)
        case .adamw: Adam(learningRate: learningRate, weightDecay: weightDecay, decoupled: true)
        }
    }

    /// The network in a few words: `mlp 784-1000-10`, `cnn (4 conv + BN, 2 pools, 256 dense)`.
    public var network: String {
        switch model {
        case "cnn": "cnn (4 conv + BN, 2 pools, 256 dense)"
        case "cnn-large": "cnn-large (6 conv + BN, 64-128-256 channels, global average pooling)"
        default: "\(model) 784-\(hidden.map(String.init).joined(separator: "-"))-10"
        }
    }

    /// A one-line description: `mlp 784-1000-10, adam lr 0.001, batch 32, scaled, 5 epochs, seed 0`.
    public var summary: String {
        var parts = [network,
                     "\(optimizer.rawValue) lr \(learningRate)"]
        if momentum != 0 { parts.append("momentum \(momentum)\(nesterov ? " (Nesterov)" : "")") }
        if weightDecay != 0 { parts.append("weight decay \(weightDecay)") }
        if schedule != .constant { parts.append("\(schedule) schedule") }
        parts += ["batch \(batchSize)", scale ? "scaled" : "unscaled", "\(epochs) epochs", "seed \(seed)"]
        if normalization != nil { parts.append("normalised") }
        if let augmentation, !augmentation.isIdentity { parts.append("augmented (\(augmentation.summary))") }
        if let labelSmoothing, labelSmoothing > 0 { parts.append("label smoothing \(labelSmoothing)") }
        if let trainingSubset { parts.append("first \(trainingSubset) training images") }
        return parts.joined(separator: ", ")
    }
}
