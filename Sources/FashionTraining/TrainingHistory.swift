/// What one epoch measured.
public struct EpochMetrics: Codable, Sendable, Equatable {
    /// 1-based.
    public var epoch: Int
    public var learningRate: Float
    /// Mean of the epoch's batch losses.
    public var trainLoss: Double
    /// Accuracy over the whole training set after the epoch (the notebook's definition), 0…1.
    public var trainAccuracy: Double
    /// Loss and accuracy over the validation (test) set after the epoch; nil without one.
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    /// Seconds spent training and evaluating.
    public var trainSeconds: Double
    public var evaluationSeconds: Double

    public init(epoch: Int, learningRate: Float, trainLoss: Double, trainAccuracy: Double, validationLoss: Double?,
                validationAccuracy: Double?, trainSeconds: Double, evaluationSeconds: Double) {
        self.epoch = epoch
        self.learningRate = learningRate
        self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy
        self.validationLoss = validationLoss
        self.validationAccuracy = validationAccuracy
        self.trainSeconds = trainSeconds
        self.evaluationSeconds = evaluationSeconds
    }
}

/// The mean training loss over `config.logEvery` steps (`--log-every`), as TensorBoard's scalars log it.
public struct StepLoss: Codable, Sendable, Equatable {
    /// The last step of the window, counted from the run's start (1-based).
    public var step: Int
    /// Where that is in epochs (2.5: half-way through the third epoch), for the curves' epoch axis.
    public var epoch: Double
    public var loss: Double

    public init(step: Int, epoch: Double, loss: Double) {
        (self.step, self.epoch, self.loss) = (step, epoch, loss)
    }
}

/// A run's configuration and its per-epoch metrics; written as `metrics.json` and `metrics.csv`.
public struct TrainingHistory: Codable, Sendable {
    public var config: TrainingConfig
    public var epochs: [EpochMetrics] = []
    /// True when the loss became NaN or infinite; training stopped after that epoch.
    public var diverged = false
    /// True when an observer stopped the run early.
    public var stoppedEarly = false
    /// True when the run was interrupted (Ctrl-C) during an epoch; the completed epochs are kept.
    public var interrupted = false
    /// The test set measured once at the end, when the validation set was held out of the training set.
    public var test: TestMeasurement?
    /// The mean training loss of every `config.logEvery` steps (empty without it).
    public var steps: [StepLoss] = []

    /// True when the run needs no more training: all epochs done, diverged or stopped by an observer.
    public var isFinished: Bool { diverged || stoppedEarly || epochs.count >= config.epochs }

    public init(config: TrainingConfig) { self.config = config }

    enum CodingKeys: String, CodingKey { case config, epochs, diverged, stoppedEarly, interrupted, test, bestEpoch, steps }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        config = try container.decode(TrainingConfig.self, forKey: .config)
        epochs = try container.decode([EpochMetrics].self, forKey: .epochs)
        diverged = try container.decodeIfPresent(Bool.self, forKey: .diverged) ?? false
        stoppedEarly = try container.decodeIfPresent(Bool.self, forKey: .stoppedEarly) ?? false
        interrupted = try container.decodeIfPresent(Bool.self, forKey: .interrupted) ?? false
        test = try container.decodeIfPresent(TestMeasurement.self, forKey: .test)
        steps = try container.decodeIfPresent([StepLoss].self, forKey: .steps) ?? []
        // `bestEpoch` is written for readers of metrics.json and worked out again from the epochs, never read.
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(config, forKey: .config)
        try container.encode(epochs, forKey: .epochs)
        try container.encode(diverged, forKey: .diverged)
        try container.encode(stoppedEarly, forKey: .stoppedEarly)
        try container.encode(interrupted, forKey: .interrupted)
        try container.encodeIfPresent(test, forKey: .test)
        try container.encodeIfPresent(bestEpoch, forKey: .bestEpoch)
        if !steps.isEmpty { try container.encode(steps, forKey: .steps) }
    }

    public var last: EpochMetrics? { epochs.last }

    /// Comma-separated values, one row per epoch, with a header.
    public func csv() -> String {
        var lines = ["epoch,learning_rate,train_loss,train_accuracy,validation_loss,validation_accuracy,train_seconds,evaluation_seconds"]
        for e in epochs {
            let fields: [String] = [
                "\(e.epoch)", "\(e.learningRate)", csvNumber(e.trainLoss), csvNumber(e.trainAccuracy),
                e.validationLoss.map(csvNumber) ?? "", e.validationAccuracy.map(csvNumber) ?? "",
                "\(e.trainSeconds)", "\(e.evaluationSeconds)",
            ]
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A number for CSV: NaN and infinities spelled as pandas and numpy read them.
func csvNumber(_ value: Double) -> String {
    value.isNaN ? "nan" : value.isInfinite ? (value > 0 ? "inf" : "-inf") : "\(value)"
}
