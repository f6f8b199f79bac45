import FashionCore

/// The GPU side of one layer: the twin of a CPU `Layer`, working on device addresses. `forward` keeps
/// what `backward` needs; `backward` writes its parameters' gradients (overwriting: every parameter is
/// used once per step) and returns the input gradient's address when asked for it.
protocol CUDALayer: AnyObject {
    func forward(_ input: UInt64, rows: Int, training: Bool) throws -> UInt64
    func backward(_ outputGradient: UInt64, rows: Int, needsInputGradient: Bool, fusedSGDRate: Float?) throws -> UInt64?
    /// Copies non-trained state (BatchNorm's running statistics) between the host layer and the GPU.
    func uploadState() throws
    func downloadState() throws
}

extension CUDALayer {
    func uploadState() throws {}
    func downloadState() throws {}
}

/// Where a model's parameters and gradients are on the GPU (one buffer each, in `state_dict` order).
struct CUDAParameterStore {
    let values: DeviceBuffer
    let gradients: DeviceBuffer
    let offsets: [ObjectIdentifier: Int]

    func value(_ parameter: Parameter) -> UInt64 { values.address(at: offsets[ObjectIdentifier(parameter)]!) }
    func gradient(_ parameter: Parameter) -> UInt64 { gradients.address(at: offsets[ObjectIdentifier(parameter)]!) }
}

/// Device buffers a layer keeps for the largest batch seen so far, grown when a larger one comes.
final class CUDAWorkspace {
    let device: CUDADevice
    private var buffers: [String: DeviceBuffer] = [:]

    init(device: CUDADevice) { self.device = device }

    /// The buffer named `name`, holding at least `count` values of `T`.
    func buffer<T>(_ name: String, _ count: Int, of type: T.Type = Float.self) throws -> DeviceBuffer {
        if let existing = buffers[name], existing.byteCount >= count * MemoryLayout<T>.stride { return existing }
        let buffer = try device.allocate(count, of: T.self)
        buffers[name] = buffer
        return buffer
    }
}

/// `Linear` (with the `ReLU` after it fused into its bias kernel when `relu`).
final class CUDALinear: CUDALayer {
    let layer: Linear
    let relu: Bool
    let store: CUDAParameterStore
    let work: CUDAWorkspace
    private var input: UInt64 = 0
    private var output: UInt64 = 0

    init(_ layer: Linear, relu: Bool, store: CUDAParameterStore, device: CUDADevice) {
        self.layer = layer
        self.relu = relu
        self.store = store
        work = CUDAWorkspace(device: device)
    }

    func forward(_ input: UInt64, rows: Int, training: Bool) throws -> UInt64 {
        let (inFeatures, outFeatures) = (layer.inFeatures, layer.outFeatures)
        self.input = input
        output = try work.buffer("output", rows * outFeatures).address
        // y[B, O] = x[B, I] · W[O, I]ᵀ, then + b and ReLU in one kernel.
        try work.device.gemm(transposeA: false, transposeB: true, m: rows, n: outFeatures, k: inFeatures, alpha: 1,
                             a: input, lda: inFeatures, b: store.value(layer.weight), ldb: inFeatures, beta: 0, c: output, ldc: outFeatures)
        if let bias = layer.bias {
            try work.device.launch("bias_forward", covering: rows * outFeatures,
                                   [.address(output), .address(store.value(bias)), .int(rows), .int(outFeatures), .int(relu ? 1 : 0)])
        } else if relu {
            try work.device.launch("relu_forward", covering: rows * outFeatures, [.address(output), .address(output), .long(rows * outFeatures)])
        }
        return output
    }

    func backward(_ outputGradient: UInt64, rows: Int, needsInputGradient: Bool, fusedSGDRate: Float?) throws -> UInt64? {
        let (inFeatures, outFeatures) = (layer.inFeatures, layer.outFeatures)
        var dy = outputGradient
        if relu {
            // Through the ReLU first (in place when dy is this layer's own buffer).
            let gradient = try work.buffer("reluGradient", rows * outFeatures).address
            try work.device.launch("relu_backward", covering: rows * outFeatures,
                                   [.address(gradient), .address(dy), .address(output), .long(rows * outFeatures)])
            dy = gradient
        }
        // dx first: it needs the weights before a fused update changes them.
        var dx: UInt64?
        if needsInputGradient {
            let gradient = try work.buffer("inputGradient", rows * inFeatures).address
            // dx[B, I] = dy[B, O] · W[O, I]
            try work.device.gemm(transposeA: false, transposeB: false, m: rows, n: inFeatures, k: outFeatures, alpha: 1,
                                 a: dy, lda: outFeatures, b: store.value(layer.weight), ldb: inFeatures, beta: 0, c: gradient, ldc: inFeatures)
            dx = gradient
        }
        // dW[O, I] = dy[B, O]ᵀ · x[B, I]   (fused SGD: W −= rate · dy[B, O]ᵀ · x[B, I])
        try work.device.gemm(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: rows,
                             alpha: fusedSGDRate.map { -$0 } ?? 1, a: dy, lda: outFeatures, b: input, ldb: inFeatures,
                             beta: fusedSGDRate != nil ? 1 : 0,
                             c: fusedSGDRate != nil ? store.value(layer.weight) : store.gradient(layer.weight), ldc: inFeatures)
        if let bias = layer.bias {
            try work.device.launch("channel_sum", covering: outFeatures, [
                .address(fusedSGDRate != nil ? store.value(bias) : store.gradient(bias)), .address(dy), .int(rows), .int(outFeatures), .int(1),
                .float(fusedSGDRate.map { -$0 } ?? 1), .float(fusedSGDRate != nil ? 1 : 0),
            ])
        }
        return dx
    }
}

/// `ReLU` on its own (after a BatchNorm, say).
final class CUDAReLU: CUDALayer {
    let size: Int
    let work: CUDAWorkspace
    private var output: UInt64 = 0

    init(size: Int, device: CUDADevice) {
        self.size = size
        work = CUDAWorkspace(device: device)
    }

    func forward(_ input: UInt64, rows: Int, training: Bool) throws -> UInt64 {
        output = try work.buffer("output", rows * size).address
        try work.device.launch("relu_forward", covering: rows * size, [.address(output), .address(input), .long(rows * size)])
        return output
    }

    func backward(_ outputGradient: UInt64, rows: Int, needsInputGradient: Bool, fusedSGDRate: Float?) throws -> UInt64? {
        guard needsInputGradient else { return nil }
        let dx = try work.buffer("inputGradient", rows * size).address
        try work.device.launch("relu_backward", covering: rows * size, [.address(dx), .address(outputGradient), .address(output), .long(rows * size)])
        return dx
    }
}

/// `Conv2d` as one GEMM per batch: im2col puts every image's patches side by side (`[C·k·k, B·Ho·Wo]`), so the
/// forward pass, the weight gradient and the column gradient are each one cuBLAS call.
final class CUDAConv2d: CUDALayer {
    let layer: Conv2d
    let height: Int, width: Int, outHeight: Int, outWidth: Int
    let store: CUDAParameterStore
    let work: CUDAWorkspace

    init(_ layer: Conv2d, inputShape: [Int], store: CUDAParameterStore, device: CUDADevice) {
        self.layer = layer
        (height, width) = (inputShape[1], inputShape[2])
        let out = layer.outputShape(for: inputShape)
        (outHeight, outWidth) = (out[1], out[2])
        self.store = store
        work = CUDAWorkspace(device: device)
    }

    private var depth: Int { layer.inChannels * layer.kernel * layer.kernel }
    private var positions: Int { outHeight * outWidth }

    /// The im2col arguments after the two buffers.
    private func geometry(_ rows: Int) -> [CUDADevice.Argument] {
        [.int(rows), .int(layer.inChannels), .int(height), .int(width), .int(layer.kernel), .int(layer.stride), .int(layer.padding),
         .int(outHeight), .int(outWidth)]
    }

    func forward(_ input: UInt64, rows: Int, training: Bool) throws -> UInt64 {
        let columns = rows * positions, channels = layer.outChannels
        let col = try work.buffer("columns", depth * columns).address
        let product = try work.buffer("product", channels * columns).address
        let output = try work.buffer("output", rows * channels * positions).address
        try work.device.launch("im2col", covering: depth * columns, [.address(col), .address(input)] + geometry(rows))
        // t[O, B·P] = W[O, C·k·k] · col[C·k·k, B·P]
        try work.device.gemm(transposeA: false, transposeB: false, m: channels, n: columns, k: depth, alpha: 1,
                             a: store.value(layer.weight), lda: depth, b: col, ldb: columns, beta: 0, c: product, ldc: columns)
        try work.device.launch("channels_to_batch_major", covering: rows * channels * positions, [
            .address(output), .address(product), .address(layer.bias.map(store.value) ?? 0), .int(rows), .int(channels), .int(positions),
        ])
        return output
    }

    func backward(_ outputGradient: UInt64, rows: Int, needsInputGradient: Bool, fusedSGDRate: Float?) throws -> UInt64? {
        let columns = rows * positions, channels = layer.outChannels
        let col = try work.buffer("columns", depth * columns).address  // the forward pass's, still there
        let dyT = try work.buffer("product", channels * columns).address
        try work.device.launch("batch_to_channels_major", covering: rows * channels * positions,
                               [.address(dyT), .address(outputGradient), .int(rows), .int(channels), .int(positions)])
        // dW[O, C·k·k] = dyT[O, B·P] · colᵀ
        try work.device.gemm(transposeA: false, transposeB: true, m: channels, n: depth, k: columns, alpha: 1,
                             a: dyT, lda: columns, b: col, ldb: columns, beta: 0, c: store.gradient(layer.weight), ldc: depth)
        if let bias = layer.bias {
            try work.device.launch("channel_sum", covering: channels, [
                .address(store.gradient(bias)), .address(outputGradient), .int(rows), .int(channels), .int(positions), .float(1), .float(0),
            ])
        }
        guard needsInputGradient else { return nil }
        // dcol[C·k·k, B·P] = Wᵀ · dyT, then back into image layout (overwriting the columns: they are no longer needed).
        try work.device.gemm(transposeA: true, transposeB: false, m: depth, n: columns, k: channels, alpha: 1,
                             a: store.value(layer.weight), lda: depth, b: dyT, ldb: columns, beta: 0, c: col, ldc: columns)
        let dx = try work.buffer("inputGradient", rows * layer.inChannels * height * width).address
        try work.device.launch("col2im", covering: rows * layer.inChannels * height * width, [.address(dx), .address(col)] + geometry(rows))
        return dx
    }
}

/// `BatchNorm` (1d or 2d): batch statistics and running statistics in training, running statistics in evaluation.
final class CUDABatchNorm: CUDALayer {
    let layer: BatchNorm
    let spatial: Int
    let store: CUDAParameterStore
    let work: CUDAWorkspace
    let runningMean: DeviceBuffer, runningVariance: DeviceBuffer, mean: DeviceBuffer, inverseStd: DeviceBuffer

    init(_ layer: BatchNorm, inputShape: [Int], store: CUDAParameterStore, device: CUDADevice) throws {
        self.layer = layer
        spatial = inputShape.dropFirst().reduce(1, *)
        self.store = store
        work = CUDAWorkspace(device: device)
        runningMean = try device.allocate(layer.channels)
        runningVariance = try device.allocate(layer.channels)
        mean = try device.allocate(layer.channels)
        inverseStd = try device.allocate(layer.channels)
        try uploadState()
    }

    func uploadState() throws {
        try work.device.upload(layer.runningMean.value.data, count: layer.channels, to: runningMean)
        try work.device.upload(layer.runningVariance.value.data, count: layer.channels, to: runningVariance)
    }

    func downloadState() throws {
        try work.device.download(runningMean, count: layer.channels, into: layer.runningMean.value.data)
        try work.device.download(runningVariance, count: layer.channels, into: layer.runningVariance.value.data)
    }

    func forward(_ input: UInt64, rows: Int, training: Bool) throws -> UInt64 {
        let channels = layer.channels, count = rows * channels * spatial
        let output = try work.buffer("output", count).address, xhat = try work.buffer("normalized", count).address
        try work.device.launch("batchnorm_statistics", covering: channels, [
            .buffer(mean), .buffer(inverseStd), .buffer(runningMean), .buffer(runningVariance), .address(input),
            .int(rows), .int(channels), .int(spatial), .float(layer.momentum), .float(layer.epsilon), .int(training ? 1 : 0),
        ])
        try work.device.launch("batchnorm_forward", covering: count, [
            .address(output), .address(xhat), .address(input), .buffer(mean), .buffer(inverseStd),
            .address(store.value(layer.weight)), .address(store.value(layer.bias)), .int(rows), .int(channels), .int(spatial),
        ])
        if training { layer.batchesTracked.value.data[0] += 1 }
        return output
    }

    func backward(_ outputGradient: UInt64, rows: Int, needsInputGradient: Bool, fusedSGDRate: Float?) throws -> UInt64? {
        let channels = layer.channels, count = rows * channels * spatial
        let xhat = try work.buffer("normalized", count).address
        let dx = needsInputGradient ? try work.buffer("inputGradient", count).address : 0
        try work.device.launch("batchnorm_backward", covering: channels, [
            .address(dx), .address(store.gradient(layer.weight)), .address(store.gradient(layer.bias)), .address(outputGradient),
            .address(xhat), .address(store.value(layer.weight)), .buffer(inverseStd), .int(rows), .int(channels), .int(spatial),
        ])
        return needsInputGradient ? dx : nil
    }
}

/// `MaxPool2d`, remembering each window's maximum for the backward pass.
final class CUDAMaxPool2d: CUDALayer {
    let size: Int, channels: Int, height: Int, width: Int
    let work: CUDAWorkspace

    init(_ layer: MaxPool2d, inputShape: [Int], device: CUDADevice) {
        size = layer.size
        (channels, height, width) = (inputShape[0], inputShape[1], inputShape[2])
        work = CUDAWorkspace(device: device)
    }

    func forward(_ input: UInt64, rows: Int, training: Bool) throws -> UInt64 {
        let planes = rows * channels, outputs = planes * (height / size) * (width / size)
        let output = try work.buffer("output", outputs).address
        let argmax = try work.buffer("argmax", outputs, of: Int32.self).address
        try work.device.launch("maxpool_forward", covering: outputs,
                               [.address(output), .address(argmax), .address(input), .long(planes), .int(height), .int(width), .int(size)])
        return output
    }

    func backward(_ outputGradient: UInt64, rows: Int, needsInputGradient: Bool, fusedSGDRate: Float?) throws -> UInt64? {
        guard needsInputGradient else { return nil }
        let planes = rows * channels, outputs = planes * (height / size) * (width / size)
        let argmax = try work.buffer("argmax", outputs, of: Int32.self).address
        let dx = try work.buffer("inputGradient", planes * height * width).address
        try work.device.launch("maxpool_backward", covering: planes * height * width,
                               [.address(dx), .address(outputGradient), .address(argmax), .long(planes), .int(height), .int(width), .int(size)])
        return dx
    }
}

/// `Dropout`: the keep mask is drawn on the host by the CPU layer's own generator stream (so both backends
/// drop the same units for a seed) and copied over; the multiplications happen on the GPU.
final class CUDADropout: CUDALayer {
    let layer: Dropout
    let size: Int
    let work: CUDAWorkspace
    private var keep: [UInt8] = []

    init(_ layer: Dropout, size: Int, device: CUDADevice) {
        self.layer = layer
        self.size = size
        work = CUDAWorkspace(device: device)
    }

    func forward(_ input: UInt64, rows: Int, training: Bool) throws -> UInt64 {
        guard training, layer.probability > 0 else { return input }
        let count = rows * size
        if keep.count < count { keep = [UInt8](repeating: 0, count: count) }
        keep.withUnsafeMutableBufferPointer { layer.drawKeepMask(into: UnsafeMutableBufferPointer(rebasing: $0[..<count])) }
        let mask = try work.buffer("mask", count, of: UInt8.self)
        try keep.withUnsafeBufferPointer { try work.device.upload($0.baseAddress!, count: count, to: mask) }
        let output = try work.buffer("output", count).address
        try work.device.launch("dropout", covering: count,
                               [.address(output), .address(input), .buffer(mask), .long(count), .float(1 / (1 - layer.probability))])
        return output
    }

    func backward(_ outputGradient: UInt64, rows: Int, needsInputGradient: Bool, fusedSGDRate: Float?) throws -> UInt64? {
        guard needsInputGradient else { return nil }
        guard layer.probability > 0 else { return outputGradient }
        let count = rows * size
        let dx = try work.buffer("inputGradient", count).address
        try work.device.launch("dropout", covering: count, [
            .address(dx), .address(outputGradient), .buffer(try work.buffer("mask", count, of: UInt8.self)), .long(count),
            .float(1 / (1 - layer.probability)),
        ])
        return dx
    }
}

/// `GlobalAveragePool`: each channel's mean.
final class CUDAGlobalAveragePool: CUDALayer {
    let channels: Int, positions: Int
    let work: CUDAWorkspace

    init(inputShape: [Int], device: CUDADevice) {
        channels = inputShape[0]
        positions = inputShape.dropFirst().reduce(1, *)
        work = CUDAWorkspace(device: device)
    }

    func forward(_ input: UInt64, rows: Int, training: Bool) throws -> UInt64 {
        let output = try work.buffer("output", rows * channels).address
        try work.device.launch("average_pool_forward", covering: rows * channels,
                               [.address(output), .address(input), .long(rows * channels), .int(positions)])
        return output
    }

    func backward(_ outputGradient: UInt64, rows: Int, needsInputGradient: Bool, fusedSGDRate: Float?) throws -> UInt64? {
        guard needsInputGradient else { return nil }
        let dx = try work.buffer("inputGradient", rows * channels * positions).address
        try work.device.launch("average_pool_backward", covering: rows * channels * positions,
                               [.address(dx), .address(outputGradient), .long(rows * channels), .int(positions)])
        return dx
    }
}
