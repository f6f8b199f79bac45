import Foundation
import FashionData
import FashionEngine

/// fastai's learning-rate range test (Smith, "Cyclical Learning Rates", 2015): a fresh model trained for a few
/// hundred steps while the rate grows exponentially from `start` to `end`; the loss, smoothed, falls while the rate
/// helps and explodes once it is too large. The test stops there (the smoothed loss above four times its minimum, or
/// not finite) and suggests two rates: where the smoothed loss falls fastest against log(rate) (`steepest`), and a
/// tenth of the rate at its minimum (`minimumDividedBy10`).
public struct LearningRateFinder: Sendable {
    public var start: Float = 1e-7
    public var end: Float = 10
    /// Steps of the ramp (fastai's `num_it`); the test may end earlier.
    public var steps = 100
    /// The exponential moving average's weight of the past (fastai's 0.98), debiased as Adam's moments are.
    public var smoothing = 0.98

    public init(start: Float = 1e-7, end: Float = 10, steps: Int = 100) {
        (self.start, self.end, self.steps) = (start, end, steps)
    }

    /// One step of the test.
    public struct Point: Codable, Sendable, Equatable {
        public let learningRate: Float
        public let loss: Double
        public let smoothedLoss: Double

        public init(learningRate: Float, loss: Double, smoothedLoss: Double) {
            (self.learningRate, self.loss, self.smoothedLoss) = (learningRate, loss, smoothedLoss)
        }
    }

    /// What the test measured and suggests.
    public struct Result: Codable, Sendable {
        public let config: TrainingConfig
        public let points: [Point]
        /// The rate where the smoothed loss falls fastest (its most negative slope against log(rate)).
        public let steepest: Float?
        /// A tenth of the rate where the smoothed loss is lowest.
        public let minimumDividedBy10: Float?
        /// Why the test ended before its last step ("the loss exploded"), or nil.
        public let stoppedEarly: String?
    }

    /// The rate of step `index`: `start · (end / start)^(index / (steps − 1))`.
    public func rate(step index: Int) -> Float {
        guard steps > 1 else { return start }
        return Float(Double(start) * pow(Double(end) / Double(start), Double(index) / Double(steps - 1)))
    }

    /// Runs the test for `config`'s model and optimiser (its schedule and epochs are not used) on `train`, on `backend`.
    /// `progress` is called after each step with its index and the smoothed loss.
    public func run(config: TrainingConfig, train: Dataset, backend: ComputeBackend = .cpu,
                    progress: ((Int, Double) -> Void)? = nil) throws -> Result {
        let trainer = try Trainer(config: config, train: train, test: nil, backend: backend)
        let engine = try trainer.engine()
        var points: [Point] = []
        var average = 0.0, best = Double.infinity
        var stopped: String?
        var batch = trainer.plan.batchCount
        var lossSum = 0.0
        for index in 0..<steps {
            if batch == trainer.plan.batchCount {
                trainer.plan.startEpoch()
                try engine.startEpoch()
                (batch, lossSum) = (0, 0)
            }
            let learningRate = rate(step: index)
            var loss = try engine.trainStep(batch: batch, learningRate: learningRate).map(Double.init)
            if loss == nil {
                // An engine that sums the losses on the device: this step's is the growth of the sum.
                let total = try engine.epochTotals().lossSum
                loss = total - lossSum
                lossSum = total
            }
            batch += 1
            average = smoothing * average + (1 - smoothing) * loss!
            let smoothed = average / (1 - pow(smoothing, Double(index + 1)))
            points.append(Point(learningRate: learningRate, loss: loss!, smoothedLoss: smoothed))
            progress?(index, smoothed)
            if !smoothed.isFinite || smoothed > 4 * best {
                stopped = String(format: "the loss exploded at rate %.3g (smoothed %@ against a minimum of %.4f)", learningRate,
                                 smoothed.isFinite ? String(format: "%.4f", smoothed) : "\(smoothed)", best)
                break
            }
            best = min(best, smoothed)
        }
        let (steepest, minimum) = Self.suggestions(points)
        return Result(config: config, points: points, steepest: steepest, minimumDividedBy10: minimum.map { $0 / 10 }, stoppedEarly: stopped)
    }

    /// The steepest descent and the minimum of the smoothed loss, both as rates; the points after an explosion
    /// (the last, when it ended the test) are left out.
    public static func suggestions(_ points: [Point]) -> (steepest: Float?, minimum: Float?) {
        let usable = points.filter { $0.smoothedLoss.isFinite }
        guard usable.count >= 3 else { return (nil, usable.min { $0.smoothedLoss < $1.smoothedLoss }?.learningRate) }
        let lowest = usable.indices.min { usable[$0].smoothedLoss < usable[$1].smoothedLoss }!
        // numpy's gradient: central differences inside, one-sided at the ends; up to the minimum (past it the loss
        // rises, and a fall there is noise before the explosion).
        let x = usable.map { log(Double($0.learningRate)) }, y = usable.map(\.smoothedLoss)
        var slopes: [Double] = []
        for i in 0...lowest {
            let (a, b) = (max(0, i - 1), min(usable.count - 1, i + 1))
            slopes.append((y[b] - y[a]) / (x[b] - x[a]))
        }
        let steepest = slopes.indices.min { slopes[$0] < slopes[$1] }!
        return (usable[steepest].learningRate, usable[lowest].learningRate)
    }
}
