/// The CUDA C kernels of the GPU backend, compiled by NVRTC for the GPU present, once per process.
///
/// Each kernel is the GPU twin of a CPU loop in `CKernels` (same arithmetic, same order of
/// operations where it matters), so both backends compute the same numbers. GEMMs are cuBLAS's.
/// Everything is launched on the default stream, in order, so no kernel needs a barrier of its own.
public enum CUDAKernelSource {
    /// Names of the kernels, each looked up once after compilation.
    public static let kernelNames = [
        "gather_pixels", "bias_forward", "relu_forward", "relu_backward", "channel_sum",
        "softmax_cross_entropy", "sgd_update", "adam_update",
        "im2col", "col2im", "channels_to_batch_major", "batch_to_channels_major",
        "batchnorm_statistics", "batchnorm_forward", "batchnorm_backward",
        "maxpool_forward", "maxpool_backward", "dropout", "average_pool_forward", "average_pool_backward", "augment",
    ]

    /// Kernels that run one block per channel (reducing over it with `blockThreads` threads) rather than
    /// one thread per element: launched with `covering:` the number of channels.
    public static let perChannelKernels: Set<String> = ["channel_sum", "batchnorm_statistics", "batchnorm_backward"]
    /// Threads of a per-channel block (a power of two: the reduction halves it; at most the kernels' 256 shared slots).
    public static let blockThreads = 256

    public static let source = #"""
    // One thread per output element unless said otherwise; grid-stride loops so any grid size works.
    #define FOR_EACH(i, n) for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < (n); \
                                i += (long long)blockDim.x * gridDim.x)
    // Per-channel kernels: one block per channel (blocks stride over the channels), its threads over the channel's values.
    #define FOR_EACH_CHANNEL(c, n) for (int c = blockIdx.x; c < (n); c += gridDim.x)
    #define FOR_EACH_IN_BLOCK(i, n) for (long long i = threadIdx.x; i < (n); i += blockDim.x)

    // The sum of v over the block's threads, returned to every thread (blockDim.x a power of two, at most 256).
    __device__ double block_sum(double v, double* shared) {
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
    __device__ long long channel_index(long long i, int c, int channels, int spatial) {
        return (i / spatial * channels + c) * spatial + i % spatial;
    }

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

    // x̂ = (x − mean) · inv_std and y = gamma · x̂ + beta, per channel.
    extern "C" __global__ void batchnorm_forward(float* y, float* xhat, const float* x, const float* mean, const float* inv_std,
                                                 const float* gamma, const float* beta, int batch, int channels, int spatial) {
        FOR_EACH(i, (long long)batch * channels * spatial) {
            int c = (int)(i / spatial % channels);
            float value = (x[i] - mean[c]) * inv_std[c];
            xhat[i] = value;
            y[i] = gamma[c] * value + beta[c];
        }
    }

    // Per channel: dbeta = Σdy, dgamma = Σdy·x̂ (written, not accumulated), and, when dx is not null,
    // dx = gamma·inv_std/N · (N·dy − Σdy − x̂·Σdy·x̂).
    extern "C" __global__ void batchnorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* xhat,
                                                  const float* gamma, const float* inv_std, int batch, int channels, int spatial) {
        __shared__ double shared[256];
        FOR_EACH_CHANNEL(c, channels) {
            long long count = (long long)batch * spatial;
            double sum_dy = 0.0, sum_dy_xhat = 0.0;
            FOR_EACH_IN_BLOCK(i, count) {
                long long j = channel_index(i, c, channels, spatial);
                sum_dy += dy[j];
                sum_dy_xhat += (double)dy[j] * xhat[j];
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
                    dx[j] = scale * (n * dy[j] - s - xhat[j] * sx);
                }
            }
        }
    }

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

    // y = x · (keep ? scale : 0), with the keep mask drawn on the host (the CPU's generator, so both backends drop the
    // same units); the backward pass is the same with dy.
    extern "C" __global__ void dropout(float* y, const float* x, const unsigned char* keep, long long n, float scale) {
        FOR_EACH(i, n) y[i] = x[i] * (keep[i] ? scale : 0.0f);
    }

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
    """#
}
