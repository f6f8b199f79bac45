extension MaxPool2d: CUDARunnable {
    func makeCUDALayer(inputShape: [Int], context: CUDALayerContext) throws -> CUDALayer {
        try context.device.load(Self.cudaProgram)
        return CUDAMaxPool2d(self, inputShape: inputShape, device: context.device)
    }

    static let cudaProgram = CUDAProgram(name: "maxpool2d", source: #"""
    // size×size max pooling with stride size (floor mode) over [planes, H, W]; argmax holds each maximum's index in
    // its plane. NaN wins, as in PyTorch.
    extern "C" __global__ void maxpool_forward(float* y, int* argmax, const float* x, long long planes, int height, int width,
                                               int size) {
        int out_height = height / size, out_width = width / size;
        FOR_EACH(o, planes * out_height * out_width) {
            const float* source = x + o / (out_height * out_width) * height * width;
            int r = (int)(o % (out_height * out_width)), oy = r / out_width, ox = r % out_width;
            int best = oy * size * width + ox * size;
            for (int dy = 0; dy < size; dy++)
                for (int dx = 0; dx < size; dx++) {
                    int index = (oy * size + dy) * width + ox * size + dx;
                    if (source[index] > source[best] || source[index] != source[index]) best = index;
                }
            y[o] = source[best];
            argmax[o] = best;
        }
    }

    // dx = dy at each window's maximum, 0 elsewhere (windows do not overlap: one thread per input element).
    extern "C" __global__ void maxpool_backward(float* dx, const float* dy, const int* argmax, long long planes, int height,
                                                int width, int size) {
        int out_height = height / size, out_width = width / size;
        FOR_EACH(i, planes * height * width) {
            long long plane = i / ((long long)height * width);
            int r = (int)(i % ((long long)height * width)), oy = r / width / size, ox = r % width / size;
            long long o = (plane * out_height + oy) * out_width + ox;
            dx[i] = oy < out_height && ox < out_width && argmax[o] == r ? dy[o] : 0.0f;
        }
    }
    """#)
}

/// `MaxPool2d` on the GPU, remembering each window's maximum for the backward pass.
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

    func backward(_ outputGradient: UInt64, rows: Int, needsInputGradient: Bool, sgdRate: Float?) throws -> UInt64? {
        guard needsInputGradient else { return nil }
        let planes = rows * channels, outputs = planes * (height / size) * (width / size)
        let argmax = try work.buffer("argmax", outputs, of: Int32.self).address
        let dx = try work.buffer("inputGradient", planes * height * width).address
        try work.device.launch("maxpool_backward", covering: planes * height * width,
                               [.address(dx), .address(outputGradient), .address(argmax), .long(planes), .int(height), .int(width), .int(size)])
        return dx
    }
}
