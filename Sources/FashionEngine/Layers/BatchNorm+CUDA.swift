extension BatchNorm: CUDARunnable {
    func makeCUDALayer(inputShape: [Int], context: CUDALayerContext) throws -> CUDALayer {
        try context.device.load(Self.cudaProgram)
        return try CUDABatchNorm(self, inputShape: inputShape, context: context)
    }

    static let cudaProgram = CUDAProgram(name: "batchnorm", source: #"""
    // Batch normalisation statistics per channel of [batch, channels, spatial]: in training the batch's mean and
    // biased variance (in double), and the running statistics updated with the unbiased variance (PyTorch's);
    // in evaluation the running statistics. Writes the mean and 1/sqrt(variance + eps) used to normalise.
    extern "C" __global__ void batchnorm_statistics(float* mean_out, float* inv_std_out, float* running_mean, float* running_var,
                                                    const float* x, int batch, int channels, int spatial, float momentum,
                                                    float epsilon, int training) {
        __shared__ double shared[256];
        FOR_EACH_CHANNEL(c, channels) {
            long long count = (long long)batch * spatial;
            float mean, variance;
            if (training) {
                double sum = 0.0;
                FOR_EACH_IN_BLOCK(i, count) sum += x[channel_index(i, c, channels, spatial)];
                double m = block_sum(sum, shared) / count;
                double squares = 0.0;
                FOR_EACH_IN_BLOCK(i, count) {
                    double d = x[channel_index(i, c, channels, spatial)] - m;
                    squares += d * d;
                }
                double v = block_sum(squares, shared) / count;
                mean = (float)m;
                variance = (float)v;
                if (threadIdx.x == 0) {
                    float unbiased = count > 1 ? (float)(v * count / (count - 1)) : variance;
                    running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * mean;
                    running_var[c] = (1.0f - momentum) * running_var[c] + momentum * unbiased;
                }
            } else {
                mean = running_mean[c];
                variance = running_var[c];
            }
            if (threadIdx.x == 0) {
                mean_out[c] = mean;
                inv_std_out[c] = 1.0f / sqrtf(variance + epsilon);
            }
        }
    }

    // The output γ·x̂ + β, rectified when a ReLU follows (fused); the backward pass recomputes it the same way.
    static inline __device__ float batchnorm_output(float gamma, float xhat, float beta, int relu) {
        float y = gamma * xhat + beta;
        return relu && y <= 0.0f ? 0.0f : y;
    }

    // x̂ = (x − mean) · inv_std and y = gamma · x̂ + beta (then max(0, ·) with relu), per channel.
    extern "C" __global__ void batchnorm_forward(float* y, float* xhat, const float* x, const float* mean, const float* inv_std,
                                                 const float* gamma, const float* beta, int batch, int channels, int spatial,
                                                 int relu) {
        FOR_EACH(i, (long long)batch * channels * spatial) {
            int c = (int)(i / spatial % channels);
            float value = (x[i] - mean[c]) * inv_std[c];
            xhat[i] = value;
            y[i] = batchnorm_output(gamma[c], value, beta[c], relu);
        }
    }

    // Per channel: dbeta = Σdy, dgamma = Σdy·x̂ (written, not accumulated), and, when dx is not null,
    // dx = gamma·inv_std/N · (N·dy − Σdy − x̂·Σdy·x̂). With relu, dy is first cut where the output is ≤ 0.
    extern "C" __global__ void batchnorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy_in, const float* xhat,
                                                  const float* gamma, const float* beta, const float* inv_std, int batch,
                                                  int channels, int spatial, int relu) {
        __shared__ double shared[256];
        FOR_EACH_CHANNEL(c, channels) {
            long long count = (long long)batch * spatial;
            double sum_dy = 0.0, sum_dy_xhat = 0.0;
            FOR_EACH_IN_BLOCK(i, count) {
                long long j = channel_index(i, c, channels, spatial);
                float dy = relu && batchnorm_output(gamma[c], xhat[j], beta[c], 1) <= 0.0f ? 0.0f : dy_in[j];
                sum_dy += dy;
                sum_dy_xhat += (double)dy * xhat[j];
            }
            float s = (float)block_sum(sum_dy, shared), sx = (float)block_sum(sum_dy_xhat, shared);
            if (threadIdx.x == 0) {
                dgamma[c] = sx;
                dbeta[c] = s;
            }
            if (dx) {
                float n = (float)count, scale = gamma[c] * inv_std[c] / n;
                FOR_EACH_IN_BLOCK(i, count) {
                    long long j = channel_index(i, c, channels, spatial);
                    float dy = relu && batchnorm_output(gamma[c], xhat[j], beta[c], 1) <= 0.0f ? 0.0f : dy_in[j];
                    dx[j] = scale * (n * dy - s - xhat[j] * sx);
                }
            }
        }
    }
    """#, perChannelKernels: ["batchnorm_statistics", "batchnorm_backward"])
}

/// `BatchNorm` (1d or 2d) on the GPU: batch statistics and running statistics in training, running statistics in
/// evaluation; a following ReLU applied in the same kernels (`appliesReLU`).
final class CUDABatchNorm: CUDALayer {
    let layer: BatchNorm
    let spatial: Int
    let store: CUDAParameterStore
    let work: CUDAWorkspace
    let runningMean: DeviceBuffer, runningVariance: DeviceBuffer, mean: DeviceBuffer, inverseStd: DeviceBuffer

    init(_ layer: BatchNorm, inputShape: [Int], context: CUDALayerContext) throws {
        self.layer = layer
        spatial = inputShape.dropFirst().reduce(1, *)
        store = context.parameters
        work = CUDAWorkspace(device: context.device)
        runningMean = try context.device.allocate(layer.channels)
        runningVariance = try context.device.allocate(layer.channels)
        mean = try context.device.allocate(layer.channels)
        inverseStd = try context.device.allocate(layer.channels)
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
            .int(layer.appliesReLU ? 1 : 0),
        ])
        if training { layer.batchesTracked.value.data[0] += 1 }
        return output
    }

    func backward(_ outputGradient: UInt64, rows: Int, needsInputGradient: Bool, sgdRate: Float?) throws -> UInt64? {
        let channels = layer.channels, count = rows * channels * spatial
        let xhat = try work.buffer("normalized", count).address
        let dx = needsInputGradient ? try work.buffer("inputGradient", count).address : 0
        try work.device.launch("batchnorm_backward", covering: channels, [
            .address(dx), .address(store.gradient(layer.weight)), .address(store.gradient(layer.bias)), .address(outputGradient),
            .address(xhat), .address(store.value(layer.weight)), .address(store.value(layer.bias)), .buffer(inverseStd),
            .int(rows), .int(channels), .int(spatial), .int(layer.appliesReLU ? 1 : 0),
        ])
        return needsInputGradient ? dx : nil
    }
}
