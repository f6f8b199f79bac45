import Foundation
import FashionCore
import FashionData
import FashionEngine

/// What an observer tells the trainer after an epoch.
public enum TrainingDecision: Sendable {
    case `continue`, stop
}

/// Sees a run as it happens: each batch (for progress bars), each epoch (to log, or stop early) and the end of
/// `Trainer.run` (the history as it returns it: interrupted, or with the test set measured once).
/// A batch's `loss` is the mean training loss of the epoch so far, as Keras's progress bar shows it. On the
/// GPU, where the losses are summed, it is read back at most four times a second (NaN before the first read).
public protocol TrainingObserver: AnyObject {
    func trainer(_ trainer: Trainer, didFinishBatch index: Int, of count: Int, loss: Float)
    func trainer(_ trainer: Trainer, didFinishEpoch metrics: EpochMetrics) -> TrainingDecision
    func trainer(_ trainer: Trainer, didFinishRun history: TrainingHistory)
}

extension TrainingObserver {
    public func trainer(_ trainer: Trainer, didFinishBatch index: Int, of count: Int, loss: Float) {}
    public func trainer(_ trainer: Trainer, didFinishEpoch metrics: EpochMetrics) -> TrainingDecision { .continue }
    public func trainer(_ trainer: Trainer, didFinishRun history: TrainingHistory) {}
}

/// Trains a model on a dataset, epoch by epoch, and measures it after each epoch: the one training loop,
/// for every device. It owns the batch plan and the learning-rate clock and hands each step to an engine
/// (`TrainingEngine`: the CPU's or the GPU's), which does the arithmetic.
///
/// ```swift
/// let data = try FashionMNISTLoader().load()
/// var config = TrainingConfig()
/// config.optimizer = .adam; config.learningRate = 0.001
/// let trainer = try Trainer(config: config, train: data.train, test: data.test)
/// let history = try trainer.run()
/// print(history.last!.validationAccuracy!)
/// ```
/// What it measures after each epoch is the test set (the notebook's definition), or with
/// `config.validationSplit` training images held out for it, the test set then measured once at the end
/// (`history.test`). The best epoch by `config.monitor` is kept (`best.safetensors` in the checkpoint directory);
/// `config.earlyStopping` ends the run when it stops improving and restores that epoch's weights.
/// `Trainer(model:config:…)` trains a network of one's own (`Sequential`) instead of the one `config` names.
public final class Trainer {
    public let config: TrainingConfig
    public let model: Sequential
    public let optimizer: Optimizer
    /// The images trained on.
    public let train: Dataset
    /// Measured after every epoch: held-out training images, or the test set (`TrainingConfig.runData`).
    public let validation: Dataset?
    /// Measured once at the end when the validation set was held out; nil when the test set is the validation set.
    public let test: Dataset?
    /// The best epoch's weights so far (by `config.monitor`), kept to restore after early stopping.
    var bestWeights: Safetensors?
    public private(set) var history: TrainingHistory
    /// The order of the batches and the generator that shuffles and augments them.
    public let plan: BatchPlan
    /// When set, a checkpoint (weights, optimiser state, shuffling state, metrics) is written here,
    /// atomically, after every epoch; `TrainingCheckpoint.resume(from:train:test:backend:)` continues from it.
    /// `metrics.json` is written beside it after every epoch and, with `--log-every`, at most four times a
    /// second during an epoch, so a dashboard follows the run as it trains.
    public var checkpointDirectory: String?
    /// When `metrics.json` was last written during an epoch, and the time until the next write (a quarter of a
    /// second, or ten times the last write's duration when that is longer).
    private var lastLiveWrite: UInt64 = 0
    private var liveWriteInterval: UInt64 = 250_000_000
    /// Polled between batches; when it returns true the epoch in progress is abandoned and the run
    /// ends with `history.interrupted` set (the completed epochs are kept).
    public var stopRequested: (() -> Bool)?
    /// Where this trainer computes: the backend asked for, or the CPU when that cannot run this model.
    public let backend: ComputeBackend
    /// Why the trainer runs on the CPU although a GPU was asked for; nil otherwise.
    public let backendFallback: String?
    /// The engine, made at the first step (after a resume has restored the host state it copies).
    private var madeEngine: TrainingEngine?

    /// A trainer for `config`, training the network it names, initialised from its seed; `backend` `.cuda` trains on
    /// the GPU when it can run the model. Throws when the settings name no usable network.
    public convenience init(config: TrainingConfig, train: Dataset, test: Dataset?, backend: ComputeBackend = .cpu) throws {
        self.init(training: try config.buildModel(), config: config, train: train, test: test, backend: backend)
    }

    /// A trainer for `config`, training `model`, a network of one's own (recorded in the run's configuration, so its
    /// checkpoints rebuild it without code); `backend` `.cuda` trains on the GPU when it can run the model. Throws
    /// `ModelDescriptionError`, saying how to register it, when a layer cannot be described (a layer type of one's
    /// own that is not registered): its run could be neither saved nor rebuilt.
    public convenience init(model: Sequential, config: TrainingConfig, train: Dataset, test: Dataset?, backend: ComputeBackend = .cpu) throws {
        var config = config
        let described = try ModelDescription(model)
        if described != (try? config.modelDescription()) {
            config.model = .custom
            config.architecture = described
        }
        self.init(training: model, config: config, train: train, test: test, backend: backend)
    }

    private init(training model: Sequential, config: TrainingConfig, train: Dataset, test: Dataset?, backend: ComputeBackend) {
        self.config = config
        let data = config.runData(train: train, test: test)
        (self.train, validation, self.test) = (data.train, data.validation, data.test)
        self.model = model
        optimizer = config.makeOptimizer()
        history = TrainingHistory(config: config)
        // The shuffling (and augmentation) stream is separate from the initialisation stream, both from the seed.
        plan = BatchPlan(count: data.train.count, batchSize: config.batchSize, shuffle: true, generator: SeededGenerator(seed: config.seed ^ 0x5EED_BA7C))
        (self.backend, backendFallback) = backend.running(self.model)
    }

    /// The engine of this run on its backend.
    public func engine() throws -> TrainingEngine {
        if let madeEngine { return madeEngine }
        let setup = TrainingSetup(optimizer: optimizer, data: train, plan: plan, augmentation: config.augmentation,
                                  labelSmoothing: config.labelSmoothing ?? 0)
        let engine = try backend.makeEngine(for: model, encoding: config.encoding, training: setup)
        madeEngine = engine
        return engine
    }

    /// Trains for the configured epochs (or until the observer stops it, the loss diverges or a stop
    /// is requested). Throws only when a checkpoint cannot be written or the device fails.
    @discardableResult
    public func run(observer: TrainingObserver? = nil) throws -> TrainingHistory {
        while !history.isFinished {
            guard let metrics = try runEpoch(observer: observer) else { break }
            let decision = observer?.trainer(self, didFinishEpoch: metrics) ?? .continue
            if history.diverged { break }
            if decision == .stop || patienceRanOut {
                history.stoppedEarly = true
                break
            }
        }
        guard !history.interrupted else {
            observer?.trainer(self, didFinishRun: history)
            return history
        }
        if history.stoppedByEarlyStopping, let bestWeights, history.bestEpoch != history.epochs.count {
            try model.load(bestWeights, name: "the best epoch's weights")
            madeEngine = nil  // the host weights changed: an engine made from now on starts from them
        }
        if let test, history.test == nil, let epoch = history.weightsEpoch {
            let result = try evaluate(on: test)
            history.test = TestMeasurement(loss: result.loss, accuracy: result.accuracy, epoch: epoch)
            try saveCheckpoint()
        }
        observer?.trainer(self, didFinishRun: history)
        return history
    }

    /// True when early stopping's patience has run out: that many epochs since the best one.
    private var patienceRanOut: Bool {
        guard let rule = config.earlyStopping, let best = history.bestEpoch else { return false }
        return history.epochs.count - best >= rule.patience
    }

    /// Trains one epoch, evaluates, appends the metrics to `history` and writes the checkpoint;
    /// nil when a stop was requested during the epoch.
    @discardableResult
    public func runEpoch(observer: TrainingObserver? = nil) throws -> EpochMetrics? {
        let trainStart = DispatchTime.now()
        guard let trained = try trainEpoch(observer: observer) else {
            history.interrupted = true
            let completed = Double(history.epochs.count)
            history.steps.removeAll { $0.epoch > completed }  // the abandoned epoch's
            return nil
        }
        let trainSeconds = seconds(since: trainStart)

        let evaluationStart = DispatchTime.now()
        let trainAccuracy = config.trainingMetrics == .batches ? trained.accuracy : try evaluate(on: train).accuracy
        let validationResult = try validation.map { try evaluate(on: $0) }
        try engine().synchronizeHost()
        let metrics = EpochMetrics(
            epoch: history.epochs.count + 1, learningRate: optimizer.learningRate,
            trainLoss: trained.loss, trainAccuracy: trainAccuracy,
            validationLoss: validationResult?.loss, validationAccuracy: validationResult?.accuracy,
            trainSeconds: trainSeconds, evaluationSeconds: seconds(since: evaluationStart))
        history.epochs.append(metrics)
        if !trained.loss.isFinite { history.diverged = true }
        if history.bestEpoch == metrics.epoch, validation != nil {
            bestWeights = model.stateDict()
            if let checkpointDirectory { try RunDirectory.saveModel(history: history, model: model, to: checkpointDirectory + "/" + RunDirectory.bestModelFile) }
        }
        try saveCheckpoint()
        return metrics
    }

    /// The checkpoint and `metrics.json`, when the trainer has a checkpoint directory.
    private func saveCheckpoint() throws {
        guard let checkpointDirectory else { return }
        try TrainingCheckpoint.save(self, to: checkpointDirectory)
        try RunDirectory.saveHistory(history, to: checkpointDirectory)
    }

    /// Puts a run back where a checkpoint left it (used by `TrainingCheckpoint.resume`).
    func restore(history: TrainingHistory, optimizerState: [String: Tensor], stepCount: Int,
                 order: [Int32], generator: SeededGenerator) throws {
        precondition(madeEngine == nil, "restore before the first epoch")
        try optimizer.restore(state: optimizerState, stepCount: stepCount, parameters: model.parameters)
        guard plan.restore(order: order) else {
            throw TrainingCheckpointError(message: "the saved batch order does not match the training set")
        }
        plan.generator = generator
        self.history = history
        self.history.interrupted = false
    }

    /// Loss and accuracy of the model over `dataset`, on the trainer's engine, encoded as in training.
    public func evaluate(on dataset: Dataset) throws -> EvaluationResult {
        try engine().evaluate(dataset, batchSize: config.effectiveEvaluationBatchSize)
    }

    /// The learning rate of step `index` of the epoch after the completed ones: the schedule's one
    /// function, evaluated every step (the nanoGPT way), times the warmup's factor.
    func learningRate(step index: Int) -> Float {
        let batches = plan.batchCount
        let step = history.epochs.count * batches + index
        return config.schedule.rate(base: config.learningRate, step: step, steps: config.epochs * batches, epochs: config.epochs)
            * config.warmupFactor(step: step)
    }

    /// One pass over the shuffled training set; returns the mean batch loss (NaN or infinite once
    /// diverged) and the fraction of training samples classified correctly as they were trained,
    /// or nil when a stop was requested. Throws when the device fails.
    ///
    /// An engine that has each batch's loss at once (the CPU) lets the epoch stop at the first non-finite
    /// one; one that sums it on the device (the GPU) is read at most four times a second for the observer's
    /// running loss, and divergence shows at the epoch's end.
    public func trainEpoch(observer: TrainingObserver? = nil) throws -> (loss: Double, accuracy: Double)? {
        let engine = try engine()
        plan.startEpoch()
        try engine.startEpoch()
        let count = plan.batchCount
        var runningLoss = Float.nan, reportedLossSum = 0.0, lastRead = DispatchTime.now().uptimeNanoseconds
        var logged = (steps: 0, lossSum: 0.0)  // the epoch's steps and loss sum at the last --log-every point
        for index in 0..<count {
            if let stopRequested, stopRequested() { return nil }
            let stepLoss = try engine.trainStep(batch: index, learningRate: learningRate(step: index))
            if let every = config.logEvery, (index + 1) % every == 0 {
                // Summed on the device or here: the mean over the window is the growth of the sum.
                let sum = stepLoss == nil ? try engine.epochTotals().lossSum : reportedLossSum + Double(stepLoss!)
                let step = history.epochs.count * count + index + 1
                history.steps.append(StepLoss(step: step, epoch: Double(step) / Double(count), loss: (sum - logged.lossSum) / Double(index + 1 - logged.steps)))
                logged = (index + 1, sum)
                let now = DispatchTime.now().uptimeNanoseconds
                if let checkpointDirectory, now - lastLiveWrite > liveWriteInterval {
                    try RunDirectory.saveHistory(history, to: checkpointDirectory)
                    lastLiveWrite = DispatchTime.now().uptimeNanoseconds
                    // The history grows with every logged step: never spend more than a tenth of the time writing it.
                    liveWriteInterval = max(250_000_000, 10 * (lastLiveWrite - now))
                }
            }
            if let loss = stepLoss {
                guard loss.isFinite else { return (Double(loss), .nan) }  // diverged: further steps would only spread NaNs
                reportedLossSum += Double(loss)
                runningLoss = Float(reportedLossSum / Double(index + 1))
            } else if observer != nil {
                // Each read waits for the device: at most four a second, and at the epoch's end.
                let now = DispatchTime.now().uptimeNanoseconds
                if index == count - 1 || now - lastRead > 250_000_000 {
                    runningLoss = Float(try engine.epochTotals().lossSum / Double(index + 1))
                    lastRead = now
                }
            }
            observer?.trainer(self, didFinishBatch: index, of: count, loss: runningLoss)
        }
        let totals = try engine.epochTotals()
        return (totals.lossSum / Double(count), Double(totals.correct) / Double(train.count))
    }

    private func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
