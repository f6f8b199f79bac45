import CKernels
import FashionCore
import FashionData
import FashionEngine

/// Cuts a dataset into batches: reshuffled every epoch from a seeded generator (or in file order),
/// the last partial batch kept (PyTorch's `DataLoader` default), pixels converted to floats by a
/// `PixelEncoding` and, for training, augmented — into buffers allocated once.
public final class BatchIterator {
    public let dataset: Dataset
    public let batchSize: Int
    public let shuffle: Bool
    public let encoding: PixelEncoding
    /// Random changes applied to every image of a batch (training only); nil for none.
    public let augmentation: Augmentation?
    /// The generator that shuffles and augments; part of a run's state.
    public var generator: SeededGenerator
    /// The inputs of the current batch, `[B] + sampleShape` (`[B, 784]` or `[B, 1, 28, 28]`).
    public let inputs: Tensor
    /// The labels of the current batch.
    public let labels: LabelBuffer
    /// Shape of one sample as the model wants it (`[784]` or `[1, 28, 28]`).
    public let sampleShape: [Int]

    /// The order of the current epoch (a permutation of the dataset's indices); part of a run's state.
    public private(set) var order: [Int32]
    private let pixelValues: [Float]

    public init(dataset: Dataset, batchSize: Int, shuffle: Bool, encoding: PixelEncoding, augmentation: Augmentation? = nil,
                sampleShape: [Int]? = nil, generator: SeededGenerator = SeededGenerator(seed: 0)) {
        precondition(batchSize > 0, "batch size must be positive")
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.encoding = encoding
        self.augmentation = augmentation.flatMap { $0.isIdentity ? nil : $0 }
        self.generator = generator
        self.sampleShape = sampleShape ?? [dataset.pixelsPerImage]
        let rows = min(batchSize, dataset.count)
        inputs = Tensor(shape: [rows] + self.sampleShape)
        labels = LabelBuffer(capacity: rows)
        order = (0..<Int32(dataset.count)).map { $0 }
        pixelValues = encoding.table
    }

    /// Continues from a saved order; it must be a permutation of `0..<dataset.count`.
    public func restore(order saved: [Int32]) -> Bool {
        guard saved.count == dataset.count else { return false }
        var seen = [Bool](repeating: false, count: saved.count)
        for index in saved {
            guard index >= 0, Int(index) < saved.count, !seen[Int(index)] else { return false }
            seen[Int(index)] = true
        }
        order = saved
        return true
    }

    /// Number of batches per epoch.
    public var batchCount: Int { (dataset.count + batchSize - 1) / batchSize }

    /// Starts an epoch: a new random order when shuffling.
    public func startEpoch() {
        guard shuffle else { return }
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            let j = Int(generator.next() % UInt64(i + 1))
            order.swapAt(i, j)
        }
    }

    /// Gathers batch `index` of the epoch into `inputs` and `labels`.
    @discardableResult
    public func load(batch index: Int) -> (inputs: Tensor, labels: LabelBuffer) {
        let start = index * batchSize
        let rows = min(batchSize, dataset.count - start)
        inputs.reshape([rows] + sampleShape)
        labels.resize(rows)
        dataset.images.withUnsafeBufferPointer { images in
            pixelValues.withUnsafeBufferPointer { table in
                order.withUnsafeBufferPointer { order in
                    fl_gather_pixels(inputs.data, images.baseAddress!, order.baseAddress! + start, rows,
                                     dataset.pixelsPerImage, table.baseAddress!)
                    for row in 0..<rows { labels.data[row] = Int32(dataset.labels[Int(order[start + row])]) }
                }
            }
        }
        augmentation?.apply(to: inputs.data, count: rows, height: dataset.rows, width: dataset.cols,
                            black: pixelValues[0], using: &generator)
        return (inputs, labels)
    }
}
