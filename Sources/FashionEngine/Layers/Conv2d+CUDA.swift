extension Conv2d: CUDARunnable {
    func makeCUDALayer(inputShape: [Int], context: CUDALayerContext) throws -> CUDALayer {
        try context.device.load(.core)
        try context.device.load(Self.cudaProgram)
        return CUDAConv2d(self, inputShape: inputShape, context: context)
    }

    static let cudaProgram = CUDAProgram(name: "conv2d", source: #"""
    // Convolution as one GEMM per batch: im2col lays every image's patches side by side,
    // col[c·k·k + ky·k + kx, b·P + oy·Wo + ox] = x[b, c, oy·s − pad + ky, ox·s − pad + kx] (0 outside), P = Ho·Wo.
    extern "C" __global__ void im2col(float* col, const float* x, int batch, int channels, int height, int width, int kernel,
                                      int stride, int padding, int out_height, int out_width) {
        long long positions = (long long)out_height * out_width, columns = batch * positions;
        FOR_EACH(i, (long long)channels * kernel * kernel * columns) {
            long long row = i / columns, column = i % columns;
            int b = (int)(column / positions), p = (int)(column % positions);
            int c = (int)(row / (kernel * kernel)), r = (int)(row % (kernel * kernel));
            int y = p / out_width * stride - padding + r / kernel, xx = p % out_width * stride - padding + r % kernel;
            col[i] = y >= 0 && y < height && xx >= 0 && xx < width ? x[(((long long)b * channels + c) * height + y) * width + xx] : 0.0f;
        }
    }

    // The adjoint of im2col: dx[b, c, y, x] = the sum of the column entries im2col copied x[b, c, y, x] to.
    extern "C" __global__ void col2im(float* dx, const float* dcol, int batch, int channels, int height, int width, int kernel,
                                      int stride, int padding, int out_height, int out_width) {
        long long positions = (long long)out_height * out_width, columns = batch * positions;
        FOR_EACH(i, (long long)batch * channels * height * width) {
            int xx = (int)(i % width), y = (int)(i / width % height), c = (int)(i / ((long long)width * height) % channels);
            int b = (int)(i / ((long long)width * height * channels));
            float sum = 0.0f;
            for (int ky = 0; ky < kernel; ky++) {
                int oy = y + padding - ky;
                if (oy < 0 || oy % stride != 0 || oy / stride >= out_height) continue;
                for (int kx = 0; kx < kernel; kx++) {
                    int ox = xx + padding - kx;
                    if (ox < 0 || ox % stride != 0 || ox / stride >= out_width) continue;
                    sum += dcol[((long long)(c * kernel + ky) * kernel + kx) * columns + b * positions + oy / stride * out_width + ox / stride];
                }
            }
            dx[i] = sum;
        }
    }

    // y[b, c, p] = t[c, b·P + p] + bias[c] (bias may be null): the convolution GEMM's output in batch-major order.
    extern "C" __global__ void channels_to_batch_major(float* y, const float* t, const float* bias, int batch, int channels,
                                                       int positions) {
        FOR_EACH(i, (long long)batch * channels * positions) {
            int p = (int)(i % positions), c = (int)(i / positions % channels), b = (int)(i / ((long long)positions * channels));
            y[i] = t[((long long)c * batch + b) * positions + p] + (bias ? bias[c] : 0.0f);
        }
    }

    // t[c, b·P + p] = dy[b, c, p]: an output gradient in the order the convolution's GEMMs take it.
    extern "C" __global__ void batch_to_channels_major(float* t, const float* dy, int batch, int channels, int positions) {
        FOR_EACH(i, (long long)batch * channels * positions) {
            int p = (int)(i % positions), b = (int)(i / positions % batch), c = (int)(i / ((long long)positions * batch));
            t[i] = dy[((long long)b * channels + c) * positions + p];
        }
    }
    """#)
}

/// `Conv2d` on the GPU as one GEMM per batch: im2col puts every image's patches side by side (`[C·k·k, B·Ho·Wo]`),
/// so the forward pass, the weight gradient and the column gradient are each one cuBLAS call.
final class CUDAConv2d: CUDALayer {
    let layer: Conv2d
    let height: Int, width: Int, outHeight: Int, outWidth: Int
    let store: CUDAParameterStore
    let work: CUDAWorkspace

    init(_ layer: Conv2d, inputShape: [Int], context: CUDALayerContext) {
        self.layer = layer
        (height, width) = (inputShape[1], inputShape[2])
        let out = layer.outputShape(for: inputShape)
        (outHeight, outWidth) = (out[1], out[2])
        store = context.parameters
        work = CUDAWorkspace(device: context.device)
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

    func backward(_ outputGradient: UInt64, rows: Int, needsInputGradient: Bool, sgdRate: Float?) throws -> UInt64? {
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
