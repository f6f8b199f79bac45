import FashionCore

/// The batches of a run, written once for every engine: how many there are, which positions of the epoch's
/// order batch *i* covers (the last partial batch kept, as PyTorch's `DataLoader`), and the order itself,
/// reshuffled every epoch from a seeded generator. The generator also draws the training augmentation, so
/// the plan is what a checkpoint saves of the input pipeline.
public final class BatchPlan {
    /// Images in the dataset the plan covers.
    public let count: Int
    public let batchSize: Int
    public let shuffle: Bool
    /// The order of the current epoch: a permutation of `0..<count`.
    public private(set) var order: [Int32]
    /// Shuffles the order and draws augmentations; part of a run's state.
    public var generator: SeededGenerator

    public init(count: Int, batchSize: Int, shuffle: Bool, generator: SeededGenerator = SeededGenerator(seed: 0)) {
        precondition(batchSize > 0, "batch size must be positive")
        self.count = count
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.generator = generator
        order = (0..<Int32(count)).map { $0 }
    }

    /// Number of batches per epoch.
    public var batchCount: Int { (count + batchSize - 1) / batchSize }

    /// The positions in `order` that batch `index` covers.
    public func rows(of index: Int) -> Range<Int> {
        let start = index * batchSize
        return start..<min(start + batchSize, count)
    }

    /// Starts an epoch: a new random order when shuffling (Fisher–Yates, from the last position down).
    public func startEpoch() {
        guard shuffle else { return }
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            let j = Int(generator.next() % UInt64(i + 1))
            order.swapAt(i, j)
        }
    }

    /// Continues from a saved order; false unless it is a permutation of `0..<count`.
    public func restore(order saved: [Int32]) -> Bool {
        guard saved.count == count else { return false }
        var seen = [Bool](repeating: false, count: saved.count)
        for index in saved {
            guard index >= 0, Int(index) < saved.count, !seen[Int(index)] else { return false }
            seen[Int(index)] = true
        }
        order = saved
        return true
    }
}
