import FashionData
import FashionEngine

/// A dataset copied to the GPU once, as bytes, with the identity order for evaluation passes.
final class ResidentDataset {
    let dataset: Dataset
    let images: DeviceBuffer
    let labels: DeviceBuffer
    let inFileOrder: DeviceBuffer

    init(_ dataset: Dataset, on device: CUDADevice) throws {
        self.dataset = dataset
        images = try device.allocate(dataset.images.count, of: UInt8.self)
        labels = try device.allocate(dataset.count, of: UInt8.self)
        inFileOrder = try device.allocate(dataset.count, of: Int32.self)
        try dataset.images.withUnsafeBufferPointer { try device.upload($0.baseAddress!, count: $0.count, to: images) }
        try dataset.labels.withUnsafeBufferPointer { try device.upload($0.baseAddress!, count: $0.count, to: labels) }
        let order = (0..<Int32(dataset.count)).map { $0 }
        try order.withUnsafeBufferPointer { try device.upload($0.baseAddress!, count: $0.count, to: inFileOrder) }
    }
}

/// A batch on the GPU: images gathered from a resident dataset in a given order and encoded through the
/// 256-entry pixel table, with their labels; the buffers grow when a larger batch comes.
final class CUDABatch {
    let device: CUDADevice
    /// The encoded value of each byte, and that of a black pixel (what crop padding shows).
    let table: DeviceBuffer
    let black: Float
    private(set) var inputs: DeviceBuffer
    private(set) var labels: DeviceBuffer
    private(set) var capacity: Int
    private let pixels: Int

    init(device: CUDADevice, encoding: PixelEncoding, pixels: Int, capacity: Int) throws {
        self.device = device
        let table = try device.allocate(256)
        try encoding.table.withUnsafeBufferPointer { try device.upload($0.baseAddress!, count: 256, to: table) }
        self.table = table
        black = encoding.table[0]
        self.pixels = pixels
        self.capacity = max(capacity, 1)
        inputs = try device.allocate(self.capacity * pixels)
        labels = try device.allocate(self.capacity, of: Int32.self)
    }

    /// Gathers images `order[start..<start+rows]` of `data` into `inputs` and their labels into `labels`.
    func load(_ data: ResidentDataset, order: DeviceBuffer, start: Int, rows: Int) throws {
        if rows > capacity {
            capacity = rows
            inputs = try device.allocate(rows * pixels)
            labels = try device.allocate(rows, of: Int32.self)
        }
        try device.launch("gather_pixels", covering: rows * pixels, [
            .buffer(inputs), .buffer(labels), .buffer(data.images), .buffer(data.labels), .buffer(order),
            .int(start), .int(rows), .int(pixels), .buffer(table),
        ])
    }
}

/// The logits of every image of `dataset` (`[count, classes]`, row-major) under `model`, in evaluation mode,
/// computed on the GPU in batches of `batchSize`.
func logitsOnGPU(_ model: Sequential, dataset: Dataset, encoding: PixelEncoding, batchSize: Int, device: CUDADevice) throws -> [Float] {
    try device.makeCurrent()
    let gpu = try CUDAModel(model, device: device)
    let resident = try ResidentDataset(dataset, on: device)
    let batch = try CUDABatch(device: device, encoding: encoding, pixels: dataset.pixelsPerImage, capacity: batchSize)
    let classes = model.outputShape(for: model.inputShape).reduce(1, *)
    var logits = [Float](repeating: 0, count: dataset.count * classes)
    try logits.withUnsafeMutableBufferPointer { out in
        for start in stride(from: 0, to: dataset.count, by: batchSize) {
            let rows = min(batchSize, dataset.count - start)
            try batch.load(resident, order: resident.inFileOrder, start: start, rows: rows)
            let result = try gpu.forward(input: batch.inputs.address, rows: rows, training: false)
            try device.download(from: result, count: rows * classes, into: out.baseAddress! + start * classes)
        }
    }
    return logits
}

/// The GPU half of a `Trainer`: the training (and validation) set resident on the GPU, each batch
/// gathered and encoded there from the epoch's order, the model and its optimiser updated there, and the
/// loss and correct count summed there and read back once per epoch.
///
/// The host keeps the shuffling (the same seeded order as on the CPU) and the hyperparameters;
/// `synchronizeHost()` brings parameters and optimiser state back for checkpoints and charts.
final class CUDATraining {
    let device: CUDADevice
    let model: CUDAModel
    let optimizer: CUDAOptimizer
    let train: ResidentDataset
    /// Datasets already on the GPU (the training set first); arrays that share storage compare in O(1).
    private var residents: [ResidentDataset]
    private let order: DeviceBuffer
    private let batch: CUDABatch
    private var logitsGradient: DeviceBuffer
    private let lossSum: DeviceBuffer
    private let correct: DeviceBuffer
    private let classes: Int
    /// A batch's augmentation changes as drawn on the host, and the augmented batch.
    private var changes: [Int32] = []
    private var changeBuffer: DeviceBuffer?
    private var augmented: DeviceBuffer?

    init(device: CUDADevice, model: Sequential, optimizer: Optimizer, train: Dataset, encoding: PixelEncoding, batchSize: Int) throws {
        try device.makeCurrent()
        self.device = device
        self.model = try CUDAModel(model, device: device)
        self.optimizer = try CUDAOptimizer(optimizer, model: self.model)
        self.train = try ResidentDataset(train, on: device)
        residents = [self.train]
        classes = model.outputShape(for: model.inputShape).reduce(1, *)
        order = try device.allocate(train.count, of: Int32.self)
        batch = try CUDABatch(device: device, encoding: encoding, pixels: train.pixelsPerImage, capacity: batchSize)
        logitsGradient = try device.allocate(batch.capacity * classes)
        lossSum = try device.allocate(1, of: Double.self)
        correct = try device.allocate(1, of: UInt32.self)
    }

    /// Gathers rows `start..<start+rows` of `order` from `data` into the batch buffers.
    private func load(_ data: ResidentDataset, order: DeviceBuffer, start: Int, rows: Int) throws {
        try batch.load(data, order: order, start: start, rows: rows)
        if logitsGradient.byteCount < rows * classes * 4 { logitsGradient = try device.allocate(rows * classes) }
    }

    /// The sum of the batch losses of the epoch so far (waits for the GPU).
    func runningLossSum() throws -> Double {
        var loss = 0.0
        try device.download(lossSum, count: 1, into: &loss)
        return loss
    }

    private func readTotals() throws -> (lossSum: Double, correct: Int) {
        var count: UInt32 = 0
        try device.download(correct, count: 1, into: &count)
        return (try runningLossSum(), Int(count))
    }

    /// `rows` gathered images augmented on the GPU with changes `draw` writes (`Augmentation.changeWords` per image).
    private func augment(rows: Int, draw: (UnsafeMutableBufferPointer<Int32>, Int) -> Void) throws -> UInt64 {
        let (height, width) = (train.dataset.rows, train.dataset.cols)
        let words = rows * Augmentation.changeWords
        if changes.count < words { changes = [Int32](repeating: 0, count: words) }
        changes.withUnsafeMutableBufferPointer { draw(UnsafeMutableBufferPointer(rebasing: $0[..<words]), rows) }
        if (changeBuffer?.byteCount ?? 0) < words * 4 { changeBuffer = try device.allocate(words, of: Int32.self) }
        if (augmented?.byteCount ?? 0) < batch.inputs.byteCount { augmented = try device.allocate(batch.inputs.byteCount / 4) }
        try changes.withUnsafeBufferPointer { try device.upload($0.baseAddress!, count: words, to: changeBuffer!) }
        try device.launch("augment", covering: rows * height * width, [
            .buffer(augmented), .buffer(batch.inputs), .buffer(changeBuffer), .int(rows), .int(height), .int(width), .float(batch.black),
        ])
        return augmented!.address
    }

    /// One epoch over `epochOrder` in batches of `batchSize`: `learningRate(i)` gives batch i's rate
    /// (nil keeps the optimiser's), `drawAugmentation` (when augmenting) writes a batch's changes,
    /// `shouldStop` is polled between batches (nil result when it stops).
    func trainEpoch(order epochOrder: [Int32], batchSize: Int, labelSmoothing: Float, learningRate: (Int) -> Float?,
                    drawAugmentation: ((UnsafeMutableBufferPointer<Int32>, Int) -> Void)?,
                    shouldStop: () -> Bool, afterBatch: (Int) -> Void) throws -> (lossSum: Double, correct: Int)? {
        try device.makeCurrent()
        try epochOrder.withUnsafeBufferPointer { try device.upload($0.baseAddress!, count: $0.count, to: order) }
        try device.zero(lossSum)
        try device.zero(correct)
        let count = epochOrder.count, batches = (count + batchSize - 1) / batchSize
        for index in 0..<batches {
            if shouldStop() { return nil }
            if let rate = learningRate(index) { optimizer.host.learningRate = rate }
            let start = index * batchSize, rows = min(batchSize, count - start)
            try load(train, order: order, start: start, rows: rows)
            let input = try drawAugmentation.map { try augment(rows: rows, draw: $0) } ?? batch.inputs.address
            let logits = try model.forward(input: input, rows: rows)
            try device.softmaxCrossEntropy(logits: logits, labels: batch.labels, rows: rows, classes: classes, gradient: logitsGradient,
                                           lossSum: lossSum, correct: correct, scale: 1 / Float(rows), labelSmoothing: labelSmoothing)
            let fusedRate = optimizer.fusableSGDRate
            try model.backward(outputGradient: logitsGradient.address, rows: rows, fusedSGDRate: fusedRate)
            try optimizer.step(fusedIntoBackward: fusedRate != nil)
            afterBatch(index)
        }
        return try readTotals()
    }

    private func residentCopy(of dataset: Dataset) throws -> ResidentDataset {
        if let known = residents.first(where: { $0.dataset.images == dataset.images && $0.dataset.labels == dataset.labels }) {
            return known
        }
        let copy = try ResidentDataset(dataset, on: device)
        residents.append(copy)
        return copy
    }

    /// Loss and accuracy of the model over `dataset` (copied to the GPU on first use), in batches of `batchSize`.
    func evaluate(on dataset: Dataset, batchSize: Int) throws -> EvaluationResult {
        try device.makeCurrent()
        let resident = try residentCopy(of: dataset)
        try device.zero(lossSum)
        try device.zero(correct)
        var start = 0
        while start < dataset.count {
            let rows = min(batchSize, dataset.count - start)
            try load(resident, order: resident.inFileOrder, start: start, rows: rows)
            let logits = try model.forward(input: batch.inputs.address, rows: rows, training: false)
            try device.softmaxCrossEntropy(logits: logits, labels: batch.labels, rows: rows, classes: classes, gradient: nil,
                                           lossSum: lossSum, correct: correct, scale: 1)
            start += rows
        }
        let (loss, count) = try readTotals()
        return EvaluationResult(loss: loss / Double(dataset.count), accuracy: Double(count) / Double(dataset.count))
    }

    /// Copies parameters and optimiser state back to the host model and optimiser.
    func synchronizeHost() throws {
        try device.makeCurrent()
        try model.download()
        try optimizer.download()
    }
}
