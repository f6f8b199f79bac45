import FashionCore
import FashionTraining

/// One run of a study: a label and its complete configuration.
public struct StudyRun: Codable, Sendable, Equatable {
    public var label: String
    public var config: TrainingConfig
    /// Normalise the inputs by the training set's mean and standard deviation, measured when the run trains
    /// (`StudyRunner` stores them in the config's `normalization`, as `train --normalize` does).
    public var normalize: Bool
    /// The validation split as the study file gave it (a fraction is resolved against the training set when the
    /// run trains, as `train --val-split` is); nil for none.
    public var split: ValidationSplit?

    public init(label: String, config: TrainingConfig, normalize: Bool = false, split: ValidationSplit? = nil) {
        self.label = label
        self.config = config
        self.normalize = normalize
        self.split = split
    }

    private enum CodingKeys: String, CodingKey { case label, config, normalize, split }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        label = try container.decode(String.self, forKey: .label)
        config = try container.decode(TrainingConfig.self, forKey: .config)
        normalize = try container.decodeIfPresent(Bool.self, forKey: .normalize) ?? false
        split = try container.decodeIfPresent(ValidationSplit.self, forKey: .split)
    }
}

/// What a study studies, which decides the findings and the titles its report writes: one of the lab's questions,
/// or `custom` (a study file, `--seeds`), whose findings compare its runs without a question of their own.
public enum StudyKind: String, Codable, Sendable, CaseIterable {
    case scaling
    case batchSize = "batch-size"
    case optimizer
    case learningRate = "learning-rate"
    case learningRateLong = "learning-rate-long"
    case weights
    case custom
}

/// A study: several runs that differ in one setting, and what the report says about them.
public struct Study: Codable, Sendable, Equatable {
    /// The name used on the command line (`scaling`, `batch-size`, …).
    public var name: String
    /// What it studies: the findings and titles its report writes.
    public var kind: StudyKind
    public var runs: [StudyRun]
    /// Draw each run's weight and bias histograms.
    public var showsWeights: Bool

    public init(name: String, kind: StudyKind, runs: [StudyRun], showsWeights: Bool = false) {
        self.name = name
        self.kind = kind
        self.runs = runs
        self.showsWeights = showsWeights
    }

    /// Throws `InvalidPathName` unless the name can become a directory name: the study's outputs go to
    /// `OUT/NAME`, so `..`, `a/b`, a leading `-` or control characters are refused (`PathName`).
    public func validateName() throws {
        try PathName.validate(name, what: "study name")
    }

    /// Where the study's charts and report go under `out` (`OUT/NAME`), after ``validateName()``.
    public func outputDirectory(under out: String) throws -> String {
        try validateName()
        return out + "/" + name
    }

    /// The same study with every run trained for `epochs` epochs.
    public func withEpochs(_ epochs: Int) -> Study {
        var copy = self
        for index in copy.runs.indices { copy.runs[index].config.epochs = epochs }
        return copy
    }
}

/// The lab's studies, with the course notebook's settings (GUIDE §2): the MLP 784-1000-10,
/// cross-entropy, shuffled batches, the test set as validation set.
public enum BuiltinStudies {
    static func base(_ optimizer: OptimizerKind, lr: Float, batch: Int = 32, scale: Bool = true, epochs: Int = 5) -> TrainingConfig {
        var config = TrainingConfig()
        config.optimizer = optimizer
        config.learningRate = lr
        config.batchSize = batch
        config.scale = scale
        config.epochs = epochs
        return config
    }

    public static let scaling = Study(name: "scaling", kind: .scaling, runs: [
        StudyRun(label: "unscaled", config: base(.sgd, lr: 0.01, scale: false)),
        StudyRun(label: "scaled", config: base(.sgd, lr: 0.01, scale: true)),
    ])

    public static let batchSize = Study(name: "batch-size", kind: .batchSize, runs: [
        StudyRun(label: "batch 32", config: base(.adam, lr: 0.01, batch: 32)),
        StudyRun(label: "batch 10,000", config: base(.adam, lr: 0.01, batch: 10_000)),
    ])

    public static let optimizer = Study(name: "optimizer", kind: .optimizer, runs: [
        StudyRun(label: "SGD", config: base(.sgd, lr: 0.01, epochs: 10)),
        StudyRun(label: "Adam", config: base(.adam, lr: 0.01, epochs: 10)),
    ])

    public static let learningRate = Study(name: "learning-rate", kind: .learningRate, runs: [
        StudyRun(label: "lr 0.1", config: base(.adam, lr: 0.1)),
        StudyRun(label: "lr 0.001", config: base(.adam, lr: 0.001)),
        StudyRun(label: "lr 0.00001", config: base(.adam, lr: 0.00001)),
    ], showsWeights: true)

    public static let learningRateUnscaled = Study(name: "learning-rate-unscaled", kind: .learningRate, runs: [
        StudyRun(label: "lr 0.1", config: base(.adam, lr: 0.1, scale: false)),
        StudyRun(label: "lr 0.001", config: base(.adam, lr: 0.001, scale: false)),
        StudyRun(label: "lr 0.00001", config: base(.adam, lr: 0.00001, scale: false)),
    ], showsWeights: true)

    /// The notebook's remark: the smallest learning rate needs about 100 epochs.
    public static let learningRateLong = Study(name: "learning-rate-long", kind: .learningRateLong, runs: [
        StudyRun(label: "lr 0.00001, 100 epochs", config: base(.adam, lr: 0.00001, epochs: 100)),
    ])

    /// The weight-distribution view: the learning-rate runs, scaled and unscaled, as histograms.
    public static let weights = Study(name: "weights", kind: .weights,
                                      runs: learningRate.runs.map { StudyRun(label: $0.label + ", scaled", config: $0.config) }
                                          + learningRateUnscaled.runs.map { StudyRun(label: $0.label + ", unscaled", config: $0.config) },
                                      showsWeights: true)

    /// The studies `fashionlab lab` runs, in report order.
    public static let lab = [scaling, batchSize, optimizer, learningRate, learningRateUnscaled]

    /// Every built-in study by name.
    public static let all = lab + [weights, learningRateLong]

    public static func named(_ name: String) -> Study? { all.first { $0.name == name } }
}
