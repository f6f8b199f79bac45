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

/// The CUDA implementation of `TrainingEngine`: the training set resident on the GPU as bytes, each batch
/// gathered, encoded and augmented there from the plan's order, the model (`CUDAModel`) and its optimiser
/// (`CUDAOptimizer`) updated there, and the loss and correct count summed there and read back when asked.
///
/// The host keeps the plan (the same seeded order and augmentation draws as on the CPU) and the
/// hyperparameters; `synchronizeHost()` brings parameters and optimiser state back.
public final class CUDAEngine: TrainingEngine {
    public let model: Sequential
    public var fusesOptimizerIntoBackward = true
    let device: CUDADevice
    let gpu: CUDAModel
    private let encoding: PixelEncoding
    private let training: TrainingSetup?
    private let optimizer: CUDAOptimizer?
    private let train: ResidentDataset?
    /// Datasets already on the GPU (the training set first); arrays that share storage compare in O(1).
    private var residents: [ResidentDataset]
    private let order: DeviceBuffer
    private let batch: CUDABatch
    private var logitsGradient: DeviceBuffer
    private let lossSum: DeviceBuffer
    private let correct: DeviceBuffer
    private let classes: Int
    private var lastLogits: (address: UInt64, rows: Int) = (0, 0)
    /// The parameter ranges the optimiser updates, with and without fused SGD (`CUDAModel.rangesLeftToOptimizer`).
    private let allRanges: [Range<Int>], rangesWithFusedSGD: [Range<Int>]
    /// A batch's augmentation changes as drawn on the host, and the augmented batch.
    private var changes: [Int32] = []
    private var changeBuffer: DeviceBuffer?
    private var augmented: DeviceBuffer?

    public init(device: CUDADevice, model: Sequential, encoding: PixelEncoding, training: TrainingSetup?) throws {
        try device.makeCurrent()
        try device.load(.core)
        self.device = device
        self.model = model
        self.encoding = encoding
        self.training = training
        let gpu = try CUDAModel(model, device: device)
        self.gpu = gpu
        optimizer = try training.map { try CUDAOptimizer($0.optimizer, model: gpu) }
        train = try training.map { try ResidentDataset($0.data, on: device) }
        residents = []
        classes = model.outputShape(for: model.inputShape).reduce(1, *)
        order = try device.allocate(max(training?.data.count ?? 1, 1), of: Int32.self)
        let pixels = model.inputShape.reduce(1, *)
        batch = try CUDABatch(device: device, encoding: encoding, pixels: pixels, capacity: training?.plan.batchSize ?? 1)
        logitsGradient = try device.allocate(batch.capacity * classes)
        lossSum = try device.allocate(1, of: Double.self)
        correct = try device.allocate(1, of: UInt32.self)
        allRanges = gpu.rangesLeftToOptimizer(sgdRate: nil)
        rangesWithFusedSGD = gpu.rangesLeftToOptimizer(sgdRate: 1)
        if let train { residents = [train] }
    }

    /// Gathers rows `start..<start+rows` of `order` from `data` into the batch buffers.
    private func load(_ data: ResidentDataset, order: DeviceBuffer, start: Int, rows: Int) throws {
        try batch.load(data, order: order, start: start, rows: rows)
        if logitsGradient.byteCount < rows * classes * 4 { logitsGradient = try device.allocate(rows * classes) }
    }

    /// `rows` gathered images augmented on the GPU with changes drawn on the host from the plan's generator.
    private func augment(_ augmentation: Augmentation, rows: Int, plan: BatchPlan, data: Dataset) throws -> UInt64 {
        let (height, width) = (data.rows, data.cols)
        let words = rows * Augmentation.changeWords
        if changes.count < words { changes = [Int32](repeating: 0, count: words) }
        changes.withUnsafeMutableBufferPointer {
            augmentation.draw(into: UnsafeMutableBufferPointer(rebasing: $0[..<words]), count: rows, height: height, width: width,
                              using: &plan.generator)
        }
        if (changeBuffer?.byteCount ?? 0) < words * 4 { changeBuffer = try device.allocate(words, of: Int32.self) }
        if (augmented?.byteCount ?? 0) < batch.inputs.byteCount { augmented = try device.allocate(batch.inputs.byteCount / 4) }
        try changes.withUnsafeBufferPointer { try device.upload($0.baseAddress!, count: words, to: changeBuffer!) }
        try device.launch("augment", covering: rows * height * width, [
            .buffer(augmented), .buffer(batch.inputs), .buffer(changeBuffer), .int(rows), .int(height), .int(width), .float(batch.black),
        ])
        return augmented!.address
    }

    public func startEpoch() throws {
        guard let training else { preconditionFailure("CUDAEngine.startEpoch without a TrainingSetup") }
        try device.makeCurrent()
        try training.plan.order.withUnsafeBufferPointer { try device.upload($0.baseAddress!, count: $0.count, to: order) }
        try device.zero(lossSum)
        try device.zero(correct)
    }

    public func trainStep(batch index: Int, learningRate: Float) throws -> Float? {
        guard let training, let optimizer, let train else { preconditionFailure("CUDAEngine.trainStep without a TrainingSetup") }
        optimizer.host.learningRate = learningRate
        let rows = training.plan.rows(of: index)
        try load(train, order: order, start: rows.lowerBound, rows: rows.count)
        let input = try training.augmentation.map { try augment($0, rows: rows.count, plan: training.plan, data: training.data) }
            ?? batch.inputs.address
        let logits = try gpu.forward(input: input, rows: rows.count)
        try device.softmaxCrossEntropy(logits: logits, labels: batch.labels, rows: rows.count, classes: classes, gradient: logitsGradient,
                                       lossSum: lossSum, correct: correct, scale: 1 / Float(rows.count),
                                       labelSmoothing: training.labelSmoothing)
        let sgdRate = fusesOptimizerIntoBackward ? optimizer.host.fusableSGDRate : nil
        try gpu.backward(outputGradient: logitsGradient.address, rows: rows.count, sgdRate: sgdRate)
        try optimizer.step(ranges: sgdRate == nil ? allRanges : rangesWithFusedSGD)
        lastLogits = (logits, rows.count)
        return nil
    }

    public func epochTotals() throws -> (lossSum: Double, correct: Int) {
        var loss = 0.0, count: UInt32 = 0
        try device.download(lossSum, count: 1, into: &loss)
        try device.download(correct, count: 1, into: &count)
        return (loss, Int(count))
    }

    private func residentCopy(of dataset: Dataset) throws -> ResidentDataset {
        if let known = residents.first(where: { $0.dataset.images == dataset.images && $0.dataset.labels == dataset.labels }) {
            return known
        }
        let copy = try ResidentDataset(dataset, on: device)
        residents.append(copy)
        return copy
    }

    /// Runs `body` on the logits of each evaluation batch of `dataset` (copied to the GPU on first use).
    private func forEachEvaluationBatch(_ dataset: Dataset, batchSize: Int, _ body: (UInt64, _ start: Int, _ rows: Int) throws -> Void) throws {
        try device.makeCurrent()
        let resident = try residentCopy(of: dataset)
        for start in stride(from: 0, to: dataset.count, by: batchSize) {
            let rows = min(batchSize, dataset.count - start)
            try load(resident, order: resident.inFileOrder, start: start, rows: rows)
            try body(try gpu.forward(input: batch.inputs.address, rows: rows, training: false), start, rows)
        }
    }

    public func evaluate(_ dataset: Dataset, batchSize: Int) throws -> EvaluationResult {
        // The epoch's sums are read before evaluation, which reuses their buffers.
        try device.zero(lossSum)
        try device.zero(correct)
        try forEachEvaluationBatch(dataset, batchSize: batchSize) { logits, _, rows in
            try device.softmaxCrossEntropy(logits: logits, labels: batch.labels, rows: rows, classes: classes, gradient: nil,
                                           lossSum: lossSum, correct: correct, scale: 1)
        }
        let (loss, count) = try epochTotals()
        return EvaluationResult(loss: loss / Double(dataset.count), accuracy: Double(count) / Double(dataset.count))
    }

    public func logits(_ dataset: Dataset, batchSize: Int) throws -> [Float] {
        var logits = [Float](repeating: 0, count: dataset.count * classes)
        try logits.withUnsafeMutableBufferPointer { out in
            try forEachEvaluationBatch(dataset, batchSize: batchSize) { address, start, rows in
                try device.download(from: address, count: rows * classes, into: out.baseAddress! + start * classes)
            }
        }
        return logits
    }

    public func lastStep() throws -> (logits: [Float], gradients: [(name: String, values: [Float])]) {
        var logits = [Float](repeating: 0, count: lastLogits.rows * classes)
        try logits.withUnsafeMutableBufferPointer { try device.download(from: lastLogits.address, count: $0.count, into: $0.baseAddress!) }
        let sgdRate = fusesOptimizerIntoBackward ? optimizer?.host.fusableSGDRate : nil
        let updated = Set(model.parametersLeftToOptimizer(sgdRate: sgdRate).map(ObjectIdentifier.init))
        var gradients: [(name: String, values: [Float])] = []
        for (parameter, offset) in zip(model.parameters, gpu.offsets) where updated.contains(ObjectIdentifier(parameter)) {
            var values = [Float](repeating: 0, count: parameter.value.count)
            try values.withUnsafeMutableBufferPointer { try device.download(gpu.gradients, offset: offset, count: $0.count, into: $0.baseAddress!) }
            gradients.append((parameter.name, values))
        }
        return (logits, gradients)
    }

    public func synchronizeHost() throws {
        try device.makeCurrent()
        try gpu.download()
        try optimizer?.download()
    }
}
