/// The CUDA C kernels of the GPU backend, compiled by NVRTC for the GPU present, once per process.
///
/// Each kernel is the GPU twin of a CPU loop in `CKernels` (same arithmetic, same order of
/// operations where it matters), so both backends compute the same numbers. GEMMs are cuBLAS's.
/// Everything is launched on the default stream, in order, so no kernel needs a barrier of its own.
public enum CUDAKernelSource {
    /// Names of the kernels, each looked up once after compilation.
    public static let kernelNames = [
        "gather_pixels", "bias_forward", "relu_forward", "relu_backward", "bias_backward",
        "softmax_cross_entropy", "sgd_update", "adam_update",
    ]

    public static let source = #"""
    // One thread per output element unless said otherwise; grid-stride loops so any grid size works.
    #define FOR_EACH(i, n) for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < (n); \
                                i += (long long)blockDim.x * gridDim.x)

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

    // out[r, c] += bias[c], then max(0, ·) when relu is set (a Linear followed by ReLU, fused).
    extern "C" __global__ void bias_forward(float* out, const float* bias, int rows, int cols, int relu) {
        FOR_EACH(i, (long long)rows * cols) {
            float v = out[i] + bias[i % cols];
            out[i] = relu && v < 0.0f ? 0.0f : v;
        }
    }

    extern "C" __global__ void relu_forward(float* y, const float* x, long long n) {
        FOR_EACH(i, n) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
    }

    // dx = dy where the ReLU's output was positive, else 0 (dx may be dy: in place).
    extern "C" __global__ void relu_backward(float* dx, const float* dy, const float* y, long long n) {
        FOR_EACH(i, n) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
    }

    // target[c] = beta * target[c] + alpha * sum over r of dy[r, c]: one thread per column, rows in order
    // (alpha = 1, beta = 0 writes the bias gradient; alpha = -lr, beta = 1 is the fused plain-SGD update).
    extern "C" __global__ void bias_backward(float* target, const float* dy, int rows, int cols, float alpha,
                                             float beta) {
        FOR_EACH(c, cols) {
            float sum = 0.0f;
            for (int r = 0; r < rows; r++) sum += dy[(long long)r * cols + c];
            target[c] = (beta == 0.0f ? 0.0f : beta * target[c]) + alpha * sum;
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

    // torch.optim.Adam / AdamW in one pass (the step size and bias corrections come from the host).
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
    """#
}
