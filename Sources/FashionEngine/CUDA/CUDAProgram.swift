/// A piece of CUDA C, compiled for the GPU present (NVRTC; clang for the host emulation) the first time a
/// model or engine that needs it is set up on a device. Each layer's GPU half brings its own program
/// (`Layers/*+CUDA.swift`); `CUDAProgram.core` holds what the engine and several layers share.
///
/// Kernels are `extern "C" __global__ void name(…)` functions and are looked up by their names, which must be
/// unique across programs. Each program is compiled after `CUDAProgram.prelude`: the grid-stride loops and
/// block reductions every kernel uses.
public struct CUDAProgram: Sendable {
    /// A name for messages and for compiling each program once per device.
    public let name: String
    /// The CUDA C source (without the prelude).
    public let source: String
    /// Kernels that run one block per channel (reducing over it with `CUDAProgram.blockThreads` threads) rather
    /// than one thread per element: launched with `covering:` the number of channels.
    public let perChannelKernels: Set<String>

    public init(name: String, source: String, perChannelKernels: Set<String> = []) {
        self.name = name
        self.source = source
        self.perChannelKernels = perChannelKernels
    }

    /// The kernels it defines, in source order (read from the source, so no list can fall out of step with it).
    public var kernelNames: [String] {
        source.components(separatedBy: "extern \"C\" __global__ void ").dropFirst().compactMap { rest in
            rest.firstIndex(of: "(").map { String(rest[..<$0]) }
        }
    }

    /// The source as compiled: the prelude, then the program.
    public var fullSource: String { Self.prelude + source }

    /// Threads of a per-channel block (a power of two: the reduction halves it; at most the kernels' 256 shared slots).
    public static let blockThreads = 256

    /// What every program starts with.
    public static let prelude = #"""
    // One thread per output element unless said otherwise; grid-stride loops so any grid size works.
    #define FOR_EACH(i, n) for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < (n); \
                                i += (long long)blockDim.x * gridDim.x)
    // Per-channel kernels: one block per channel (blocks stride over the channels), its threads over the channel's values.
    #define FOR_EACH_CHANNEL(c, n) for (int c = blockIdx.x; c < (n); c += gridDim.x)
    #define FOR_EACH_IN_BLOCK(i, n) for (long long i = threadIdx.x; i < (n); i += blockDim.x)

    // The sum of v over the block's threads, returned to every thread (blockDim.x a power of two, at most 256).
    [[maybe_unused]] static inline __device__ double block_sum(double v, double* shared) {
        shared[threadIdx.x] = v;
        __syncthreads();
        for (int half = blockDim.x / 2; half > 0; half /= 2) {
            if (threadIdx.x < half) shared[threadIdx.x] += shared[threadIdx.x + half];
            __syncthreads();
        }
        double total = shared[0];
        __syncthreads();
        return total;
    }

    // Element i of channel c in [batch, channels, spatial] data, counting the channel's values b-major.
    [[maybe_unused]] static inline __device__ long long channel_index(long long i, int c, int channels, int spatial) {
        return (i / spatial * channels + c) * spatial + i % spatial;
    }

    """#

    /// The kernels of the training loop (batch gathering, augmentation, the loss, the optimisers) and the
    /// elementwise kernels several layers share (bias, ReLU, per-channel sums).
    public static let core = CUDAProgram(name: "core", source: #"""
    // Batch gathering: out[r, p] = table[images[order[start + r], p]], labels_out[r] = labels[order[start + r]].
    // The dataset stays on the GPU as bytes; `table` maps a byte to its encoded value (scaled, normalised).
    extern "C" __global__ void gather_pixels(float* out, int* labels_out, const unsigned char* images,
                                             const unsigned char* labels, const int* order, int start, int rows,
                                             int pixels, const float* table) {
        FOR_EACH(i, (long long)rows * pixels) {
            int r = (int)(i / pixels), p = (int)(i % pixels);
            int image = order[start + r];
            out[i] = table[images[(long long)image * pixels + p]];
            if (p == 0) labels_out[r] = labels[image];
        }
    }

    // Training augmentation, drawn on the host (`Augmentation.draw`, 7 ints per image: flip, dy, dx, and the erased
    // rectangle's top, left, height, width): out = in flipped left-right, then shifted by (dy, dx) with `black`
    // outside, then 0 in the rectangle.
    extern "C" __global__ void augment(float* out, const float* in, const int* changes, int count, int height, int width,
                                       float black) {
        FOR_EACH(i, (long long)count * height * width) {
            int x = (int)(i % width), y = (int)(i / width % height);
            long long image = i / ((long long)height * width);
            const int* change = changes + image * 7;
            int sy = y + change[1], sx = x + change[2];
            float value = sy < 0 || sy >= height || sx < 0 || sx >= width
                ? black : in[image * height * width + sy * width + (change[0] ? width - 1 - sx : sx)];
            if (y >= change[3] && y < change[3] + change[5] && x >= change[4] && x < change[4] + change[6]) value = 0.0f;
            out[i] = value;
        }
    }

    // out[r, c] += bias[c], then max(0, ·) when relu is set (a Linear followed by ReLU, fused).
    extern "C" __global__ void bias_forward(float* out, const float* bias, int rows, int cols, int relu) {
        FOR_EACH(i, (long long)rows * cols) {
            float v = out[i] + bias[i % cols];
            out[i] = relu && v <= 0.0f ? 0.0f : v;
        }
    }

    // As PyTorch's threshold: a NaN passes through both ways.
    extern "C" __global__ void relu_forward(float* y, const float* x, long long n) {
        FOR_EACH(i, n) y[i] = x[i] <= 0.0f ? 0.0f : x[i];
    }

    // dx = 0 where the ReLU's output was ≤ 0, else dy (a NaN output passes dy, as in PyTorch; dx may be dy: in place).
    extern "C" __global__ void relu_backward(float* dx, const float* dy, const float* y, long long n) {
        FOR_EACH(i, n) dx[i] = y[i] <= 0.0f ? 0.0f : dy[i];
    }

    // target[c] = beta * target[c] + alpha * (the sum of channel c of [batch, channels, spatial] x), summed in double:
    // a bias gradient (alpha = 1, beta = 0; a Linear layer's is spatial = 1) or the fused plain-SGD update of a bias
    // (alpha = -lr, beta = 1).
    extern "C" __global__ void channel_sum(float* target, const float* x, int batch, int channels, int spatial, float alpha,
                                           float beta) {
        __shared__ double shared[256];
        FOR_EACH_CHANNEL(c, channels) {
            double sum = 0.0;
            FOR_EACH_IN_BLOCK(i, (long long)batch * spatial) sum += x[channel_index(i, c, channels, spatial)];
            sum = block_sum(sum, shared);
            if (threadIdx.x == 0) target[c] = (beta == 0.0f ? 0.0f : beta * target[c]) + alpha * (float)sum;
        }
    }

    // Softmax cross-entropy over rows of `classes` logits, one thread per row: adds each sample's loss times
    // `scale` to *loss_sum (scale = 1/rows in training sums batch means, 1 in evaluation sums losses), counts
    // the rows whose label is the first largest logit in *correct, and, when dlogits is not null, writes
    // (softmax - target) * scale with target = (1 - s)·onehot + s/classes.
    extern "C" __global__ void softmax_cross_entropy(const float* logits, const int* labels, float* dlogits,
                                                     double* loss_sum, unsigned int* correct, int rows,
                                                     int classes, float scale, float smoothing) {
        FOR_EACH(b, rows) {
            const float* z = logits + b * classes;
            int label = labels[b];
            float max_value = z[0];
            int argmax = 0;
            for (int c = 1; c < classes; c++) if (z[c] > max_value) { max_value = z[c]; argmax = c; }
            float sum = 0.0f;
            for (int c = 0; c < classes; c++) sum += expf(z[c] - max_value);
            float log_sum = logf(sum);
            float loss = log_sum + (max_value - z[label]);
            if (smoothing > 0.0f) {
                float mean_loss = 0.0f;
                for (int c = 0; c < classes; c++) mean_loss += log_sum + (max_value - z[c]);
                loss = (1.0f - smoothing) * loss + smoothing * mean_loss / classes;
            }
            atomicAdd(loss_sum, (double)loss * scale);
            if (argmax == label) atomicAdd(correct, 1u);
            if (dlogits) {
                float* row = dlogits + b * classes;
                float spread = smoothing / classes * scale;
                for (int c = 0; c < classes; c++) row[c] = expf((z[c] - max_value) - log_sum) * scale - spread;
                row[label] -= (1.0f - smoothing) * scale;
            }
        }
    }

    // torch.optim.SGD: g += wd·p; with momentum b = mu·b + keep·g (b = g on the first step);
    // p -= lr·(nesterov ? g + mu·b : b).
    extern "C" __global__ void sgd_update(float* p, const float* g, float* b, long long n, float lr, float weight_decay,
                                          float momentum, float dampening_keep, int nesterov, int first) {
        FOR_EACH(i, n) {
            float grad = g[i] + weight_decay * p[i];
            if (b == 0 || momentum == 0.0f) {
                p[i] -= lr * grad;
            } else {
                float bi = first ? grad : momentum * b[i] + dampening_keep * grad;
                b[i] = bi;
                p[i] -= lr * (nesterov ? grad + momentum * bi : bi);
            }
        }
    }

    // torch.optim.Adam / AdamW in one pass (`Adam.StepScalars`: the step size and bias corrections come from the host).
    extern "C" __global__ void adam_update(float* p, const float* g, float* m, float* v, long long n, float beta1,
                                           float beta2, float eps, float step_size, float inv_corr2,
                                           float coupled_decay, float shrink) {
        FOR_EACH(i, n) {
            float grad = g[i] + coupled_decay * p[i];
            float mi = m[i] + (1.0f - beta1) * (grad - m[i]);
            float vi = beta2 * v[i] + (1.0f - beta2) * grad * grad;
            m[i] = mi;
            v[i] = vi;
            p[i] = p[i] * shrink - step_size * mi / (sqrtf(vi) * inv_corr2 + eps);
        }
    }
    """#, perChannelKernels: ["channel_sum"])
}
