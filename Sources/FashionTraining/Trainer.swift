import Foundation
import FashionCore
import FashionData
import FashionEngine

/// What an observer tells the trainer after an epoch.
public enum TrainingDecision: Sendable {
    case `continue`, stop
}

/// Sees a run as it happens: each batch (for progress bars) and each epoch (to log, or stop early).
/// A batch's `loss` is the mean training loss of the epoch so far, as Keras's progress bar shows it. On the
/// GPU, where the losses are summed, it is read back at most four times a second (NaN before the first read).
public protocol TrainingObserver: AnyObject {
    func trainer(_ trainer: Trainer, didFinishBatch index: Int, of count: Int, loss: Float)
    func trainer(_ trainer: Trainer, didFinishEpoch metrics: EpochMetrics) -> TrainingDecision
}

extension TrainingObserver {
    public func trainer(_ trainer: Trainer, didFinishBatch index: Int, of count: Int, loss: Float) {}
    public func trainer(_ trainer: Trainer, didFinishEpoch metrics: EpochMetrics) -> TrainingDecision { .continue }
}

/// Trains a model on a dataset, epoch by epoch, and measures it after each epoch.
///
/// ```swift
/// let data = try FashionMNISTLoader().load()
/// var config = TrainingConfig()
/// config.optimizer = .adam; config.learningRate = 0.001
/// let trainer = Trainer(config: config, train: data.train, validation: data.test)
/// let history = try trainer.run()
/// print(history.last!.validationAccuracy!)
/// ```
public final class Trainer {
    public let config: TrainingConfig
    public let model: Sequential
    public let optimizer: Optimizer
    public let train: Dataset
    public let validation: Dataset?
    public private(set) var history: TrainingHistory
    public let batches: BatchIterator
    private let loss: SoftmaxCrossEntropy
    /// When set, a checkpoint (weights, optimiser state, shuffling state, metrics) is written here,
    /// atomically, after every epoch; `Trainer.resume(from:…)` continues from it.
    public var checkpointDirectory: String?
    /// Polled between batches; when it returns true the epoch in progress is abandoned and the run
    /// ends with `history.interrupted` set (the completed epochs are kept).
    public var stopRequested: (() -> Bool)?
    /// Where this trainer computes: the backend asked for, or the CPU when that cannot run this run.
    public let backend: ComputeBackend
    /// Why the trainer runs on the CPU although a GPU was asked for; nil otherwise.
    public let backendFallback: String?
    /// The GPU side of the run, set up at the first epoch (after a resume has restored the host state).
    private var cuda: CUDATraining?

    /// A trainer for `config`; `backend` `.cuda` trains on the GPU when it can run the model.
    public init(config: TrainingConfig, train: Dataset, validation: Dataset?, backend: ComputeBackend = .cpu) {
        self.config = config
        let train = config.trainingSubset.map { train.subset(0..<min($0, train.count)) } ?? train
        self.train = train
        self.validation = validation
        model = config.makeModel()
        optimizer = config.makeOptimizer()
        history = TrainingHistory(config: config)
        loss = SoftmaxCrossEntropy(labelSmoothing: config.labelSmoothing ?? 0)
        // The shuffling (and augmentation) stream is separate from the initialisation stream, both from the seed.
        batches = BatchIterator(dataset: train, batchSize: config.batchSize, shuffle: true, encoding: config.encoding,
                                augmentation: config.augmentation, sampleShape: model.inputShape,
                                generator: SeededGenerator(seed: config.seed ^ 0x5EED_BA7C))
        (self.backend, backendFallback) = backend.running(model)
    }

    /// Trains for the configured epochs (or until the observer stops it, the loss diverges or a stop
    /// is requested). Throws only when a checkpoint cannot be written.
    @discardableResult
    public func run(observer: TrainingObserver? = nil) throws -> TrainingHistory {
        while history.epochs.count < config.epochs {
            guard let metrics = try runEpoch(observer: observer) else { break }
            let decision = observer?.trainer(self, didFinishEpoch: metrics) ?? .continue
            if history.diverged { break }
            if decision == .stop {
                history.stoppedEarly = true
                break
            }
        }
        return history
    }

    /// Trains one epoch, evaluates, appends the metrics to `history` and writes the checkpoint;
    /// nil when a stop was requested during the epoch.
    @discardableResult
    public func runEpoch(observer: TrainingObserver? = nil) throws -> EpochMetrics? {
        let epochIndex = history.epochs.count
        optimizer.learningRate = config.schedule.rate(base: config.learningRate, epoch: epochIndex, epochs: config.epochs)
        let trainStart = DispatchTime.now()
        guard let trained = try trainEpoch(observer: observer) else {
            history.interrupted = true
            return nil
        }
        let trainSeconds = seconds(since: trainStart)

        let evaluationStart = DispatchTime.now()
        let trainAccuracy = config.trainingMetrics == .batches ? trained.accuracy : try evaluate(on: train).accuracy
        let validationResult = try validation.map { try evaluate(on: $0) }
        try cuda?.synchronizeHost()
        let trainLoss = trained.loss
        let metrics = EpochMetrics(
            epoch: epochIndex + 1, learningRate: optimizer.learningRate,
            trainLoss: trainLoss, trainAccuracy: trainAccuracy,
            validationLoss: validationResult?.loss, validationAccuracy: validationResult?.accuracy,
            trainSeconds: trainSeconds, evaluationSeconds: seconds(since: evaluationStart))
        history.epochs.append(metrics)
        if !trainLoss.isFinite { history.diverged = true }
        if let checkpointDirectory { try TrainingCheckpoint.save(self, to: checkpointDirectory) }
        return metrics
    }

    /// Puts a run back where a checkpoint left it (used by `TrainingCheckpoint.resume`).
    func restore(history: TrainingHistory, optimizerState: [String: Tensor], stepCount: Int,
                 order: [Int32], generator: SeededGenerator) throws {
        try optimizer.restore(state: optimizerState, stepCount: stepCount)
        guard batches.restore(order: order) else {
            throw TrainingCheckpointError(message: "the saved batch order does not match the training set")
        }
        batches.generator = generator
        self.history = history
        self.history.interrupted = false
    }

    /// Loss and accuracy of the model over `dataset`, on the trainer's backend, encoded as in training.
    public func evaluate(on dataset: Dataset) throws -> EvaluationResult {
        let batchSize = config.effectiveEvaluationBatchSize
        if case .cuda(let device) = backend { return try gpuSide(device).evaluate(on: dataset, batchSize: batchSize) }
        return model.evaluate(on: dataset, encoding: config.encoding, batchSize: batchSize)
    }

    /// One pass over the shuffled training set; returns the mean batch loss (NaN or infinite once
    /// diverged) and the fraction of training samples classified correctly as they were trained,
    /// or nil when a stop was requested. Throws when the GPU fails.
    public func trainEpoch(observer: TrainingObserver? = nil) throws -> (loss: Double, accuracy: Double)? {
        batches.startEpoch()
        if case .cuda(let device) = backend { return try trainEpochOnGPU(device, observer: observer) }
        let parameters = model.parameters
        // Plain SGD is applied inside the backward pass (see `Parameter.fusedSGDRate`).
        let fusedRate = (optimizer as? SGD)?.isPlain == true ? optimizer.learningRate : nil
        for parameter in parameters { parameter.fusedSGDRate = fusedRate }
        defer { for parameter in parameters { parameter.fusedSGDRate = nil } }
        var lossSum = 0.0
        var correct = 0
        let epochIndex = history.epochs.count, schedule = config.schedule
        for index in 0..<batches.batchCount {
            if let stopRequested, stopRequested() { return nil }
            if schedule.isPerStep {
                optimizer.learningRate = schedule.rate(base: config.learningRate, step: epochIndex * batches.batchCount + index,
                                                       steps: config.epochs * batches.batchCount, epochs: config.epochs)
                if fusedRate != nil { for parameter in parameters { parameter.fusedSGDRate = optimizer.learningRate } }
            }
            let (inputs, labels) = batches.load(batch: index)
            model.zeroGradients()
            let result = loss(model.forward(inputs, training: true), labels)
            model.backward(loss.gradient!)
            optimizer.step(parameters)
            lossSum += Double(result.loss)
            correct += result.correct
            observer?.trainer(self, didFinishBatch: index, of: batches.batchCount, loss: Float(lossSum / Double(index + 1)))
            if !result.loss.isFinite {
                return (Double(result.loss), .nan)  // diverged: further steps would only spread NaNs
            }
        }
        return (lossSum / Double(batches.batchCount), Double(correct) / Double(train.count))
    }

    /// The GPU side of the run, set up on first use from the host model and optimiser as they are then.
    private func gpuSide(_ device: CUDADevice) throws -> CUDATraining {
        if let cuda { return cuda }
        let created = try CUDATraining(device: device, model: model, optimizer: optimizer, train: train, encoding: config.encoding,
                                       batchSize: config.batchSize)
        cuda = created
        return created
    }

    /// `trainEpoch` on the GPU: the same order and learning rates; the loss is summed on the GPU and read
    /// once at the end (and, for an observer, a few times a second), so divergence is seen at the epoch's end.
    private func trainEpochOnGPU(_ device: CUDADevice, observer: TrainingObserver?) throws -> (loss: Double, accuracy: Double)? {
        let epochIndex = history.epochs.count, schedule = config.schedule, count = batches.batchCount
        let gpu = try gpuSide(device)
        // Each read waits for the GPU, so the observer's running loss is refreshed every 0.25 s, not every batch.
        var runningLoss = Float.nan, lastRead = DispatchTime.now().uptimeNanoseconds
        let totals = try gpu.trainEpoch(
            order: batches.order, batchSize: config.batchSize, labelSmoothing: config.labelSmoothing ?? 0,
            learningRate: { index in
                schedule.isPerStep ? schedule.rate(base: self.config.learningRate, step: epochIndex * count + index,
                                                   steps: self.config.epochs * count, epochs: self.config.epochs) : nil
            },
            drawAugmentation: batches.augmentation.map { augmentation in
                { changes, rows in
                    augmentation.draw(into: changes, count: rows, height: self.train.rows, width: self.train.cols, using: &self.batches.generator)
                }
            },
            shouldStop: { self.stopRequested?() ?? false },
            afterBatch: { index in
                guard let observer else { return }
                let now = DispatchTime.now().uptimeNanoseconds
                if index == count - 1 || now - lastRead > 250_000_000, let sum = try? gpu.runningLossSum() {
                    runningLoss = Float(sum / Double(index + 1))
                    lastRead = now
                }
                observer.trainer(self, didFinishBatch: index, of: count, loss: runningLoss)
            })
        guard let totals else { return nil }
        // The GPU summed each batch's mean loss: the epoch's loss is their mean, as on the CPU.
        return (totals.lossSum / Double(count), Double(totals.correct) / Double(train.count))
    }

    private func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
