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

/// Which network a run trains: a built-in one, or `custom`, described by `TrainingConfig.architecture`.
public enum ModelKind: String, Codable, Sendable, CaseIterable {
    /// The notebook's MLP, sized by `TrainingConfig.hidden` (`ModelDescription.mlp`).
    case mlp
    /// `ModelDescription.cnn`.
    case cnn
    /// `ModelDescription.largeCNN`.
    case cnnLarge = "cnn-large"
    /// The network `TrainingConfig.architecture` describes.
    case custom

    /// The built-in models, by name.
    public static let builtin: [ModelKind] = [.mlp, .cnn, .cnnLarge]
}

/// Everything that defines a training run; saved with its metrics and checkpoint.
public struct TrainingConfig: Codable, Sendable, Equatable {
    /// The network: `mlp` (the notebook's), `cnn`, `cnn-large` or `custom` (described by `architecture`).
    public var model = ModelKind.mlp
    /// Hidden layer sizes of the MLP.
    public var hidden = [1000]
    /// The network of a `custom` model (nil for the built-in ones, whose description `modelDescription()` gives).
    public var architecture: ModelDescription?
    /// The optimiser: `sgd` (the notebook's), `adam` or `adamw` (`--optimizer`).
    public var optimizer = OptimizerKind.sgd
    /// The learning rate, the peak of a schedule (`--lr`).
    public var learningRate: Float = 0.01
    /// SGD momentum.
    public var momentum: Float = 0
    /// Nesterov momentum (SGD).
    public var nesterov = false
    /// Weight decay: L2 for sgd and adam, decoupled for adamw (`--weight-decay`).
    public var weightDecay: Float = 0
    /// How the learning rate changes over the run (`--schedule`).
    public var schedule = LearningRateSchedule.constant
    /// Linear warmup over the first N steps (`warmupFactor(step:)`); nil for none.
    public var warmup: Int?
    /// Images per training step (`--batch-size`).
    public var batchSize = 32
    /// Passes over the training set (`--epochs`).
    public var epochs = 5
    /// Divide pixels by 255 (true) or feed raw 0…255 values (false).
    public var scale = true
    /// Seeds the initial weights, the shuffling, augmentation and the validation split (`--seed`): the same seed
    /// and settings train the same weights.
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
    /// True for the models that take `[C, H, W]` images rather than flat vectors.
    public var isConvolutional: Bool { ((try? modelDescription())?.inputShape.count ?? 1) == 3 }
    /// Train on the first N training images only (quick experiments, tests); nil for all.
    public var trainingSubset: Int?
    /// Training images held out as the validation set (stratified by class, chosen from `seed`: `runData`); the test
    /// set is then measured once, at the end. nil: the test set is the validation set (the notebook's definition).
    public var validationSplit: Int?
    /// What picks the best epoch (`best.safetensors`) and what early stopping watches; nil means `.validationLoss`.
    public var monitor: Monitor?
    /// Stop when the monitored metric stops improving, and restore the best epoch's weights; nil for none.
    public var earlyStopping: EarlyStopping?
    /// Record the mean training loss of every N steps in `TrainingHistory.steps` (the curves can draw it); nil
    /// for the epochs' points only.
    public var logEvery: Int?

    public init() {}

    /// The fraction of the scheduled learning rate that step `step` (0-based, counted over the run) trains at:
    /// (step + 1) / warmup during the warmup, 1 after it (PyTorch: `LambdaLR(lambda t: min(1, (t + 1) / N))`
    /// stepped every batch, multiplied into the schedule).
    public func warmupFactor(step: Int) -> Float {
        guard let warmup, step < warmup else { return 1 }
        return Float(step + 1) / Float(warmup)
    }

    /// How pixels become inputs in this run, for training, evaluation and prediction alike.
    public var encoding: PixelEncoding { PixelEncoding(scale: scale, normalization: normalization) }

    /// The network these settings name, as a description.
    public func modelDescription() throws -> ModelDescription {
        switch model {
        case .mlp: return .mlp(inputs: 784, hidden: hidden, classes: 10)
        case .cnn: return .cnn()
        case .cnnLarge: return .largeCNN()
        case .custom:
            guard let architecture else { throw ModelDescriptionError("model custom needs an architecture (a model description)") }
            return architecture
        }
    }

    /// A new model as this configuration describes, initialised from `seed`; throws for a description that is not
    /// valid (one decoded from a file is valid: decoding checks it).
    public func buildModel() throws -> Sequential {
        try Sequential(description: modelDescription(), seed: seed)
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

    /// The built-in models' names.
    public static let models = ModelKind.builtin.map(\.rawValue)

    /// A new optimiser for this configuration.
    public func makeOptimizer() -> Optimizer {
        switch optimizer {
        case .sgd: SGD(learningRate: learningRate, momentum: momentum, weightDecay: weightDecay, nesterov: nesterov)
        case .adam: Adam(learningRate: learningRate, weightDecay: weightDecay)
        case .adamw: Adam(learningRate: learningRate, weightDecay: weightDecay, decoupled: true)
        }
    }

    /// The network in a few words: `mlp 784-1000-10`, `cnn (4 conv + BN, 2 pools, 256 dense)`,
    /// `custom (3 Conv2d, 1 Linear; 12,345 parameters)`.
    public var network: String {
        switch model {
        case .mlp: return "mlp 784-\(hidden.map(String.init).joined(separator: "-"))-10"
        case .cnn: return "cnn (4 conv + BN, 2 pools, 256 dense)"
        case .cnnLarge: return "cnn-large (6 conv + BN, 64-128-256 channels, global average pooling)"
        case .custom:
            guard let architecture, let check = try? architecture.validate() else { return "custom (no valid architecture)" }
            var counts: [(String, Int)] = []
            for layer in architecture.layers where ["Conv2d", "Linear"].contains(layer.type) {
                if let i = counts.firstIndex(where: { $0.0 == layer.type }) { counts[i].1 += 1 } else { counts.append((layer.type, 1)) }
            }
            var digits = String(check.parameterCount), parameters = ""
            while digits.count > 3 {
                parameters = "," + digits.suffix(3) + parameters
                digits.removeLast(3)
            }
            parameters = digits + parameters
            return "custom (\(counts.map { "\($0.1) \($0.0)" }.joined(separator: ", ")); \(parameters) parameters)"
        }
    }

    /// A one-line description: `mlp 784-1000-10, adam lr 0.001, batch 32, scaled, 5 epochs, seed 0`.
    public var summary: String {
        var parts = [network,
                     "\(optimizer.rawValue) lr \(learningRate)"]
        if momentum != 0 { parts.append("momentum \(momentum)\(nesterov ? " (Nesterov)" : "")") }
        if weightDecay != 0 { parts.append("weight decay \(weightDecay)") }
        if schedule != .constant { parts.append("\(schedule) schedule") }
        if let warmup { parts.append("warmup \(warmup) steps") }
        parts += ["batch \(batchSize)", scale ? "scaled" : "unscaled", epochs == 1 ? "1 epoch" : "\(epochs) epochs", "seed \(seed)"]
        if normalization != nil { parts.append("normalised") }
        if let augmentation, !augmentation.isIdentity { parts.append("augmented (\(augmentation.summary))") }
        if let labelSmoothing, labelSmoothing > 0 { parts.append("label smoothing \(labelSmoothing)") }
        if let trainingSubset { parts.append("first \(trainingSubset) training images") }
        if let validationSplit { parts.append("\(validationSplit) held out for validation") }
        if let monitor { parts.append("best epoch by \(monitor.rawValue)") }
        if let earlyStopping { parts.append("early stopping (patience \(earlyStopping.patience)\(earlyStopping.minDelta > 0 ? ", min delta \(earlyStopping.minDelta)" : ""))") }
        return parts.joined(separator: ", ")
    }
}
