extension AvgPool2d: CUDARunnable {
    func makeCUDALayer(inputShape: [Int], context: CUDALayerContext) throws -> CUDALayer {
        try context.device.load(Self.cudaProgram)
        return CUDAAvgPool2d(self, inputShape: inputShape, device: context.device)
    }

    static let cudaProgram = CUDAProgram(name: "avgpool2d", source: #"""
    // size×size average pooling with stride size (floor mode) over [planes, H, W], each window summed row by row.
    extern "C" __global__ void avgpool_forward(float* y, const float* x, long long planes, int height, int width, int size) {
        int out_height = height / size, out_width = width / size;
        float scale = 1.0f / (size * size);
        FOR_EACH(o, planes * out_height * out_width) {
            const float* source = x + o / (out_height * out_width) * height * width;
            int r = (int)(o % (out_height * out_width)), oy = r / out_width, ox = r % out_width;
            float sum = 0.0f;
            for (int dy = 0; dy < size; dy++)
                for (int dx = 0; dx < size; dx++) sum += source[(oy * size + dy) * width + ox * size + dx];
            y[o] = sum * scale;
        }
    }

    // dx = dy / size² over each window, 0 past the last whole window (one thread per input element).
    extern "C" __global__ void avgpool_backward(float* dx, const float* dy, long long planes, int height, int width, int size) {
        int out_height = height / size, out_width = width / size;
        float scale = 1.0f / (size * size);
        FOR_EACH(i, planes * height * width) {
            long long plane = i / ((long long)height * width);
            int r = (int)(i % ((long long)height * width)), oy = r / width / size, ox = r % width / size;
            dx[i] = oy < out_height && ox < out_width ? dy[(plane * out_height + oy) * out_width + ox] * scale : 0.0f;
        }
    }
    """#)
}

/// `AvgPool2d` on the GPU.
final class CUDAAvgPool2d: CUDALayer {
    let size: Int, channels: Int, height: Int, width: Int
    let work: CUDAWorkspace

    init(_ layer: AvgPool2d, inputShape: [Int], device: CUDADevice) {
        size = layer.size
        (channels, height, width) = (inputShape[0], inputShape[1], inputShape[2])
        work = CUDAWorkspace(device: device)
    }

    func forward(_ input: UInt64, rows: Int, training: Bool) throws -> UInt64 {
        let planes = rows * channels, outputs = planes * (height / size) * (width / size)
        let output = try work.buffer("output", outputs).address
        try work.device.launch("avgpool_forward", covering: outputs,
                               [.address(output), .address(input), .long(planes), .int(height), .int(width), .int(size)])
        return output
    }

    func backward(_ outputGradient: UInt64, rows: Int, needsInputGradient: Bool, sgdRate: Float?) throws -> UInt64? {
        guard needsInputGradient else { return nil }
        let planes = rows * channels
        let dx = try work.buffer("inputGradient", planes * height * width).address
        try work.device.launch("avgpool_backward", covering: planes * height * width,
                               [.address(dx), .address(outputGradient), .long(planes), .int(height), .int(width), .int(size)])
        return dx
    }
}
