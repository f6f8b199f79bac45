extension Dropout: CUDARunnable {
    func makeCUDALayer(inputShape: [Int], context: CUDALayerContext) throws -> CUDALayer {
        try context.device.load(Self.cudaProgram)
        return CUDADropout(self, size: inputShape.reduce(1, *), device: context.device)
    }

    static let cudaProgram = CUDAProgram(name: "dropout", source: #"""
    // y = x · (keep ? scale : 0), with the keep mask drawn on the host (the CPU's generator, so both backends drop the
    // same units); the backward pass is the same with dy.
    extern "C" __global__ void dropout(float* y, const float* x, const unsigned char* keep, long long n, float scale) {
        FOR_EACH(i, n) y[i] = x[i] * (keep[i] ? scale : 0.0f);
    }
    """#)
}

/// `Dropout` on the GPU: the keep mask is drawn on the host by the CPU layer's own generator stream (so both
/// engines drop the same units for a seed) and copied over; the multiplications happen on the GPU.
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

    func backward(_ outputGradient: UInt64, rows: Int, needsInputGradient: Bool, sgdRate: Float?) throws -> UInt64? {
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
