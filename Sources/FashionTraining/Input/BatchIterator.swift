import CKernels
import FashionCore
import FashionData
import FashionEngine

/// Gathers the batches of a `BatchPlan` on the CPU: pixels converted to floats by a `PixelEncoding` and, for
/// training, augmented (drawing from the plan's generator) — into buffers allocated once.
public final class BatchIterator {
    public let dataset: Dataset
    /// Which images each batch holds.
    public let plan: BatchPlan
    public let encoding: PixelEncoding
    /// Random changes applied to every image of a batch (training only); nil for none.
    public let augmentation: Augmentation?
    /// The inputs of the current batch, `[B] + sampleShape` (`[B, 784]` or `[B, 1, 28, 28]`).
    public let inputs: Tensor
    /// The labels of the current batch.
    public let labels: LabelBuffer
    /// Shape of one sample as the model wants it (`[784]` or `[1, 28, 28]`).
    public let sampleShape: [Int]
    private let pixelValues: [Float]

    public init(dataset: Dataset, plan: BatchPlan, encoding: PixelEncoding, augmentation: Augmentation? = nil, sampleShape: [Int]? = nil) {
        precondition(plan.count == dataset.count, "a plan for \(plan.count) images over a dataset of \(dataset.count)")
        self.dataset = dataset
        self.plan = plan
        self.encoding = encoding
        self.augmentation = augmentation.flatMap { $0.isIdentity ? nil : $0 }
        self.sampleShape = sampleShape ?? [dataset.pixelsPerImage]
        let rows = min(plan.batchSize, dataset.count)
        inputs = Tensor(shape: [rows] + self.sampleShape)
        labels = LabelBuffer(capacity: rows)
        pixelValues = encoding.table
    }

    /// Batches of `batchSize` over `dataset`, in file order or shuffled by `generator`.
    public convenience init(dataset: Dataset, batchSize: Int, shuffle: Bool, encoding: PixelEncoding, augmentation: Augmentation? = nil,
                            sampleShape: [Int]? = nil, generator: SeededGenerator = SeededGenerator(seed: 0)) {
        self.init(dataset: dataset, plan: BatchPlan(count: dataset.count, batchSize: batchSize, shuffle: shuffle, generator: generator),
                  encoding: encoding, augmentation: augmentation, sampleShape: sampleShape)
    }

    /// Number of batches per epoch.
    public var batchCount: Int { plan.batchCount }

    /// Starts an epoch (a new order when shuffling).
    public func startEpoch() { plan.startEpoch() }

    /// Gathers batch `index` of the epoch into `inputs` and `labels`.
    @discardableResult
    public func load(batch index: Int) -> (inputs: Tensor, labels: LabelBuffer) {
        let range = plan.rows(of: index)
        let (start, rows) = (range.lowerBound, range.count)
        inputs.reshape([rows] + sampleShape)
        labels.resize(rows)
        dataset.images.withUnsafeBufferPointer { images in
            pixelValues.withUnsafeBufferPointer { table in
                plan.order.withUnsafeBufferPointer { order in
                    let (pixels, inputs) = (dataset.pixelsPerImage, inputs.data)
                    let (images, batchOrder, table) = (images.baseAddress!, order.baseAddress! + start, table.baseAddress!)
                    // Split over the cores only for evaluation's large batches; a training batch is one chunk.
                    parallelFor(rows, minimumChunk: max(1, 32_768 / max(1, pixels))) { part in
                        fl_gather_pixels(inputs + part.lowerBound * pixels, images, batchOrder + part.lowerBound, part.count, pixels, table)
                    }
                    for row in 0..<rows { labels.data[row] = Int32(dataset.labels[Int(order[start + row])]) }
                    // The next batch's images are requested now, so that they arrive while this one trains and the
                    // gather does not wait for memory.
                    if index + 1 < plan.batchCount {
                        let next = plan.rows(of: index + 1)
                        fl_prefetch_images(images, order.baseAddress! + next.lowerBound, next.count, pixels)
                    }
                }
            }
        }
        augmentation?.apply(to: inputs.data, count: rows, height: dataset.rows, width: dataset.cols,
                            black: pixelValues[0], using: &plan.generator)
        return (inputs, labels)
    }
}
