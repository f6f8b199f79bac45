import FashionCore
import FashionData

/// The images of a run: what it trains on, what it measures after every epoch, what it tests on once.
public struct RunData: Sendable {
    public let train: Dataset
    /// Measured after every epoch: the held-out training images with `TrainingConfig.validationSplit`, else the
    /// test set (the notebook's definition).
    public let validation: Dataset?
    /// Measured once, at the end: the test set when the validation set was held out of the training set; nil when
    /// the test set is the validation set.
    public let test: Dataset?
}

/// `--val-split`'s value: a number of training images, or a fraction of them (in JSON: `5000` or `0.1`).
public enum ValidationSplit: Equatable, Sendable, CustomStringConvertible, Codable {
    case images(Int)
    case fraction(Double)

    /// `5000` or `0.1`; nil for anything else (zero, negative, a fraction of 1 or more, not a number).
    public init?(parsing text: String) {
        if let count = Int(text) {
            guard count >= 1 else { return nil }
            self = .images(count)
        } else if let fraction = Double(text), fraction > 0, fraction < 1 {
            self = .fraction(fraction)
        } else {
            return nil
        }
    }

    /// How many of `trainingImages` are held out (a fraction rounds to the nearest image, at least one).
    public func images(outOf trainingImages: Int) -> Int {
        switch self {
        case .images(let count): count
        case .fraction(let fraction): max(1, Int((fraction * Double(trainingImages)).rounded()))
        }
    }

    /// `number` as a split: a whole number ≥ 1 of images, or a fraction in (0, 1); nil for anything else.
    public init?(number: Double) {
        if number >= 1, number == number.rounded(), number <= 1e9 {
            self = .images(Int(number))
        } else if number > 0, number < 1 {
            self = .fraction(number)
        } else {
            return nil
        }
    }

    public init(from decoder: Decoder) throws {
        let number = try decoder.singleValueContainer().decode(Double.self)
        guard let split = ValidationSplit(number: number) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a validation split is a number of images ≥ 1 or a fraction in (0, 1), not \(number)"))
        }
        self = split
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .images(let count): try container.encode(count)
        case .fraction(let fraction): try container.encode(fraction)
        }
    }

    public var description: String {
        switch self {
        case .images(let count): "\(count)"
        case .fraction(let fraction): "\(fraction)"
        }
    }
}

extension TrainingConfig {
    /// The run's images from the dataset's `train` and `test` splits: the first `trainingSubset` training images
    /// (all without one), then, with `validationSplit`, that many of them held out as the validation set — the
    /// same number of each class as far as the counts allow (stratified, as scikit-learn's `train_test_split`),
    /// chosen from the run's seed, so that a resumed run holds out the same images.
    public func runData(train: Dataset, test: Dataset?) -> RunData {
        let images = trainingSubset.map { train.subset(0..<min($0, train.count)) } ?? train
        guard let validationSplit, validationSplit < images.count else {
            return RunData(train: images, validation: test, test: nil)
        }
        let (kept, heldOut) = images.stratifiedSplit(holdingOut: validationSplit, seed: seed ^ 0x5A11_DA7E)
        return RunData(train: kept, validation: heldOut, test: test)
    }
}

extension Dataset {
    /// Holds out `count` images, each class in proportion to its share (the images rounding down leaves over go to
    /// the largest remainders, ties to the lower class), drawn at random from `seed`; both parts keep the images' order.
    public func stratifiedSplit(holdingOut count: Int, seed: UInt64) -> (kept: Dataset, heldOut: Dataset) {
        precondition(count >= 1 && count < self.count, "hold out 1 to \(self.count - 1) images, not \(count)")
        var byClass = [[Int]](repeating: [], count: classCount)
        for (index, label) in labels.enumerated() { byClass[Int(label)].append(index) }
        let exact = byClass.map { Double($0.count) * Double(count) / Double(self.count) }
        var shares = exact.map { Int($0) }
        let leftOver = count - shares.reduce(0, +)
        let byRemainder = exact.indices.sorted { (exact[$0] - Double(shares[$0]), -$0) > (exact[$1] - Double(shares[$1]), -$1) }
        for k in byRemainder.prefix(leftOver) { shares[k] += 1 }
        var generator = SeededGenerator(seed: seed)
        var heldOut = Set<Int>()
        for (k, indices) in byClass.enumerated() {
            var pool = indices
            pool.shuffle(using: &generator)
            heldOut.formUnion(pool.prefix(shares[k]))
        }
        let kept = (0..<self.count).filter { !heldOut.contains($0) }
        return (subset(kept), subset(heldOut.sorted()))
    }
}
