extension GlobalAveragePool: CUDARunnable {
    func makeCUDALayer(inputShape: [Int], context: CUDALayerContext) throws -> CUDALayer {
        try context.device.load(Self.cudaProgram)
        return CUDAGlobalAveragePool(inputShape: inputShape, device: context.device)
    }

    static let cudaProgram = CUDAProgram(name: "global_average_pool", source: #"""
    // y[p] = the mean of plane p's positions (global average pooling), summed in order as on the CPU.
    extern "C" __global__ void average_pool_forward(float* y, const float* x, long long planes, int positions) {
        FOR_EACH(p, planes) {
            float sum = 0.0f;
            for (int i = 0; i < positions; i++) sum += x[p * positions + i];
            y[p] = sum / positions;
        }
    }

    extern "C" __global__ void average_pool_backward(float* dx, const float* dy, long long planes, int positions) {
        FOR_EACH(i, planes * positions) dx[i] = dy[i / positions] / positions;
    }
    """#)
}

/// `GlobalAveragePool` on the GPU: each channel's mean.
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

    func backward(_ outputGradient: UInt64, rows: Int, needsInputGradient: Bool, sgdRate: Float?) throws -> UInt64? {
        guard needsInputGradient else { return nil }
        let dx = try work.buffer("inputGradient", rows * channels * positions).address
        try work.device.launch("average_pool_backward", covering: rows * channels * positions,
                               [.address(dx), .address(outputGradient), .long(rows * channels), .int(positions)])
        return dx
    }
}
