/// Speed and time left of a run in progress, as a progress bar shows them: images per second, milliseconds per
/// step, and the time left in the epoch and in the run (the epochs to come at this epoch's pace, plus the
/// evaluation time the last epoch took).
public struct TrainingProgress: Sendable {
    public let epochs: Int
    public let batchesPerEpoch: Int
    public let imagesPerEpoch: Int

    /// What the bar shows after a batch.
    public struct Snapshot: Sendable, Equatable {
        public let imagesPerSecond: Double
        public let millisecondsPerStep: Double
        public let epochSecondsLeft: Double
        public let runSecondsLeft: Double
    }

    public init(epochs: Int, batchesPerEpoch: Int, imagesPerEpoch: Int) {
        (self.epochs, self.batchesPerEpoch, self.imagesPerEpoch) = (epochs, max(1, batchesPerEpoch), imagesPerEpoch)
    }

    /// After batch `index` (0-based) of epoch `epoch` (1-based), `elapsed` seconds into the epoch's training;
    /// `evaluationSeconds` is what the evaluation after an epoch takes (the last one's, 0 before the first).
    public func snapshot(epoch: Int, batch index: Int, elapsed: Double, evaluationSeconds: Double) -> Snapshot {
        let done = Double(index + 1)
        let perStep = elapsed / done
        let epochLeft = perStep * Double(batchesPerEpoch - index - 1)
        let laterEpochs = Double(max(0, epochs - epoch))
        let runLeft = epochLeft + evaluationSeconds + laterEpochs * (perStep * Double(batchesPerEpoch) + evaluationSeconds)
        let images = Double(imagesPerEpoch) * done / Double(batchesPerEpoch)
        return Snapshot(imagesPerSecond: elapsed > 0 ? images / elapsed : 0, millisecondsPerStep: perStep * 1000,
                        epochSecondsLeft: epochLeft, runSecondsLeft: runLeft)
    }

    /// The time left of work measured in images trained (a study's runs, a lab's): `left` images at the pace kept
    /// so far, `done` images in `elapsed` seconds (evaluations included, since they were part of that time). nil
    /// before there is a pace to go by.
    public static func secondsLeft(done: Double, elapsed: Double, left: Double) -> Double? {
        guard done > 0, elapsed > 0, left >= 0 else { return nil }
        return left * elapsed / done
    }

    /// The images a run trains over all its epochs: its training images (the subset, less the validation split,
    /// `available` at most) times its epochs.
    public static func images(of config: TrainingConfig, available: Int) -> Double {
        let subset = min(config.trainingSubset ?? available, available)
        return Double(config.epochs) * Double(max(0, subset - (config.validationSplit ?? 0)))
    }

    /// `0:42`, `12:05`, `1:02:03`.
    public static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "–" }
        let total = Int(seconds.rounded())
        let (hours, minutes, rest) = (total / 3600, total / 60 % 60, total % 60)
        let twoDigits = { (n: Int) in n < 10 ? "0\(n)" : "\(n)" }
        return hours > 0 ? "\(hours):\(twoDigits(minutes)):\(twoDigits(rest))" : "\(minutes):\(twoDigits(rest))"
    }
}
