import FashionEngine

/// A setting that cannot be used, as `TrainingConfig.validate()` finds it: which setting (by its `train` flag and
/// by its key in `metrics.json`, checkpoints and the web API) and what is wrong with its value.
public struct SettingProblem: Error, Sendable, CustomStringConvertible {
    /// `train`'s flag for it, without the dashes: `lr`.
    public let flag: String
    /// Its key where settings are stored (`TrainingConfig`'s coding key): `learningRate`.
    public let key: String
    /// What is wrong, with the value: `must be a positive number, got -1`.
    public let message: String

    /// As a flag's error: `--lr must be a positive number, got -1`.
    public var asFlag: String { "--\(flag) \(message)" }
    /// As a file's error: `runs/a/metrics.json: learningRate must be a positive number, got -1`.
    public func inFile(_ path: String, at prefix: String = "") -> String { "\(path): \(prefix)\(key) \(message)" }
    public var description: String { "\(key) \(message)" }
}

extension TrainingConfig {
    /// The bounds `validate()` holds every setting to: what the engines are written and tested for, and what this
    /// kind of machine can hold (a hostile file must not make FashionLab allocate terabytes or loop for years).
    public enum Limits {
        public static let batchSize = 1...100_000
        public static let epochs = 1...100_000
        public static let hiddenLayers = 1...100
        public static let hiddenWidth = 1...1_000_000
        /// The learning rate's upper bound: far above any rate that trains (the lab's largest is 0.1).
        public static let learningRate: Float = 1000
        public static let weightDecay: Float = 10
        /// Crop padding, in pixels: at most half an image side.
        public static let cropPadding = 0...14
        /// Training images a validation split may hold out (it must also leave a batch to train on).
        public static let validationSplit = 1...1_000_000
        /// Early stopping's patience, in epochs.
        public static let patience = 1...100_000
    }

    /// Checks every setting against its bounds — finite, positive where it must be, within `Limits` — and the
    /// network (`modelDescription().validate()`, which bounds parameters and activations per image). The one
    /// check of settings from every source: flags, study files, checkpoints, `metrics.json`, model files.
    public func validate() throws {
        func problem(_ flag: String, _ key: String, _ message: String) -> SettingProblem {
            SettingProblem(flag: flag, key: key, message: message)
        }
        if model == .mlp {
            guard Limits.hiddenLayers.contains(hidden.count) else {
                throw problem("hidden", "hidden", "must list 1 to \(Limits.hiddenLayers.upperBound) layer sizes, got \(hidden.count)")
            }
            if let bad = hidden.first(where: { !Limits.hiddenWidth.contains($0) }) {
                throw problem("hidden", "hidden", "sizes must be 1 to \(Limits.hiddenWidth.upperBound), got \(bad)")
            }
        }
        let check: ModelDescription.Check
        do {
            check = try modelDescription().validate()
        } catch {
            throw problem("model", model == .custom ? "architecture" : "model", "does not describe a usable network: \(error)")
        }
        guard learningRate.isFinite, learningRate > 0, learningRate <= Limits.learningRate else {
            throw problem("lr", "learningRate", "must be a positive number up to \(Limits.learningRate), got \(learningRate)")
        }
        guard momentum.isFinite, momentum >= 0, momentum < 1 else { throw problem("momentum", "momentum", "must be in [0, 1), got \(momentum)") }
        guard momentum == 0 || optimizer == .sgd else { throw problem("momentum", "momentum", "applies to the sgd optimiser only, got \(momentum) with \(optimizer.rawValue)") }
        guard !nesterov || (momentum > 0 && optimizer == .sgd) else { throw problem("nesterov", "nesterov", "needs the sgd optimiser and a momentum above 0") }
        guard weightDecay.isFinite, weightDecay >= 0, weightDecay <= Limits.weightDecay else {
            throw problem("weight-decay", "weightDecay", "must be 0 to \(Limits.weightDecay), got \(weightDecay)")
        }
        if let reason = schedule.problem { throw problem("schedule", "schedule", reason) }
        guard Limits.batchSize.contains(batchSize) else {
            throw problem("batch-size", "batchSize", "must be 1 to \(Limits.batchSize.upperBound), got \(batchSize)")
        }
        guard Limits.batchSize.contains(evaluationBatchSize) else {
            throw problem("eval-batch-size", "evaluationBatchSize", "must be 1 to \(Limits.batchSize.upperBound), got \(evaluationBatchSize)")
        }
        for (flag, key, size) in [("batch-size", "batchSize", batchSize), ("eval-batch-size", "evaluationBatchSize", effectiveEvaluationBatchSize)] {
            if let tooMuch = check.workingMemoryProblem(batchSize: size) { throw problem(flag, key, "\(size) is too large: \(tooMuch)") }
        }
        guard Limits.epochs.contains(epochs) else { throw problem("epochs", "epochs", "must be 1 to \(Limits.epochs.upperBound), got \(epochs)") }
        if let trainingSubset, trainingSubset < 1 { throw problem("subset", "trainingSubset", "must be at least 1, got \(trainingSubset)") }
        if let validationSplit, !Limits.validationSplit.contains(validationSplit) {
            throw problem("val-split", "validationSplit", "must hold out 1 to \(Limits.validationSplit.upperBound) images, got \(validationSplit)")
        }
        if let logEvery, !(1...1_000_000).contains(logEvery) {
            throw problem("log-every", "logEvery", "must be 1 to 1000000 steps, got \(logEvery)")
        }
        if let earlyStopping {
            guard Limits.patience.contains(earlyStopping.patience) else {
                throw problem("early-stop", "earlyStopping.patience", "must be 1 to \(Limits.patience.upperBound) epochs, got \(earlyStopping.patience)")
            }
            guard earlyStopping.minDelta.isFinite, earlyStopping.minDelta >= 0, earlyStopping.minDelta <= 1e6 else {
                throw problem("min-delta", "earlyStopping.minDelta", "must be a number from 0 to 1000000, got \(earlyStopping.minDelta)")
            }
        }
        if let labelSmoothing, !(labelSmoothing.isFinite && labelSmoothing >= 0 && labelSmoothing < 1) {
            throw problem("label-smoothing", "labelSmoothing", "must be in [0, 1), got \(labelSmoothing)")
        }
        if let normalization, !(normalization.mean.isFinite && normalization.std.isFinite && normalization.std > 0) {
            throw problem("normalize", "normalization", "needs a finite mean and a positive standard deviation, got \(normalization.mean) and \(normalization.std)")
        }
        if let augmentation, !augmentation.isIdentity {
            guard Limits.cropPadding.contains(augmentation.cropPadding) else {
                throw problem("augment", "augmentation", "crop padding must be 0 to \(Limits.cropPadding.upperBound), got \(augmentation.cropPadding)")
            }
            guard augmentation.erasing.isFinite, augmentation.erasing >= 0, augmentation.erasing <= 1 else {
                throw problem("augment", "augmentation", "erasing must be a probability in [0, 1], got \(augmentation.erasing)")
            }
            guard isConvolutional else {
                throw problem("augment", "augmentation", "needs a convolutional model (cnn, cnn-large, or a description whose input_shape is [1, 28, 28])")
            }
        }
    }
}

extension LearningRateSchedule {
    /// What is wrong with this schedule's parameters, or nil (the bounds `init(parsing:)` holds text to).
    var problem: String? {
        switch self {
        case .constant: nil
        case let .step(every, gamma):
            every >= 1 && every <= 100_000 && gamma.isFinite && gamma > 0 && gamma <= 10 ? nil
                : "step:EVERY:GAMMA needs EVERY of 1 to 100000 and GAMMA in (0, 10], got step:\(every):\(gamma)"
        case let .cosine(minimum):
            minimum.isFinite && minimum >= 0 ? nil : "cosine:MIN needs a MIN of 0 or more, got \(minimum)"
        case let .oneCycle(warmup):
            warmup.isFinite && warmup > 0 && warmup < 1 ? nil : "onecycle:WARMUP needs WARMUP in (0, 1), got \(warmup)"
        }
    }
}
