import Foundation
import FashionCore
import FashionData
import FashionEngine

/// What an observer tells the trainer after an epoch.
public enum TrainingDecision: Sendable {
    case `continue`, stop
}

/// Sees a run as it happens: each batch (for progress bars) and each epoch (to log, or stop early).
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
/// let history = trainer.run()
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
    private let loss = SoftmaxCrossEntropy()

    public init(config: TrainingConfig, train: Dataset, validation: Dataset?) {
        self.config = config
        self.train = train
        self.validation = validation
        model = config.makeModel()
        optimizer = config.makeOptimizer()
        history = TrainingHistory(config: config)
        // The shuffling stream is separate from the initialisation stream, both from the seed.
        batches = BatchIterator(dataset: train, batchSize: config.batchSize, shuffle: true, scale: config.scale,
                                sampleShape: model.inputShape, generator: SeededGenerator(seed: config.seed ^ 0x5EED_BA7C))
    }

    /// Trains for the configured epochs (or until the observer stops it, or the loss diverges).
    @discardableResult
    public func run(observer: TrainingObserver? = nil) -> TrainingHistory {
        while history.epochs.count < config.epochs {
            let metrics = runEpoch(observer: observer)
            let decision = observer?.trainer(self, didFinishEpoch: metrics) ?? .continue
            if history.diverged { break }
            if decision == .stop {
                history.stoppedEarly = true
                break
            }
        }
        return history
    }

    /// Trains one epoch, evaluates, and appends the metrics to `history`.
    @discardableResult
    public func runEpoch(observer: TrainingObserver? = nil) -> EpochMetrics {
        let epochIndex = history.epochs.count
        optimizer.learningRate = config.schedule.rate(base: config.learningRate, epoch: epochIndex, epochs: config.epochs)
        let trainStart = DispatchTime.now()
        let trainLoss = trainEpoch(observer: observer)
        let trainSeconds = seconds(since: trainStart)

        let evaluationStart = DispatchTime.now()
        let trainResult = model.evaluate(on: train, scale: config.scale, batchSize: config.evaluationBatchSize)
        let validationResult = validation.map { model.evaluate(on: $0, scale: config.scale, batchSize: config.evaluationBatchSize) }
        let metrics = EpochMetrics(
            epoch: epochIndex + 1, learningRate: optimizer.learningRate,
            trainLoss: trainLoss, trainAccuracy: trainResult.accuracy,
            validationLoss: validationResult?.loss, validationAccuracy: validationResult?.accuracy,
            trainSeconds: trainSeconds, evaluationSeconds: seconds(since: evaluationStart))
        history.epochs.append(metrics)
        if !trainLoss.isFinite { history.diverged = true }
        return metrics
    }

    /// One pass over the shuffled training set; returns the mean batch loss (NaN or infinite once diverged).
    public func trainEpoch(observer: TrainingObserver? = nil) -> Double {
        batches.startEpoch()
        let parameters = model.parameters
        // Plain SGD is applied inside the backward pass (see `Parameter.fusedSGDRate`).
        let fusedRate = (optimizer as? SGD)?.isPlain == true ? optimizer.learningRate : nil
        for parameter in parameters { parameter.fusedSGDRate = fusedRate }
        defer { for parameter in parameters { parameter.fusedSGDRate = nil } }
        var lossSum = 0.0
        for index in 0..<batches.batchCount {
            let (inputs, labels) = batches.load(batch: index)
            model.zeroGradients()
            let result = loss(model.forward(inputs, training: true), labels)
            model.backward(loss.gradient!)
            optimizer.step(parameters)
            lossSum += Double(result.loss)
            observer?.trainer(self, didFinishBatch: index, of: batches.batchCount, loss: result.loss)
            if !result.loss.isFinite {
                return Double(result.loss)  // diverged: further steps would only spread NaNs
            }
        }
        return lossSum / Double(batches.batchCount)
    }

    private func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
