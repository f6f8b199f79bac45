#ifndef FASHIONLAB_CKERNELS_H
#define FASHIONLAB_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Elementwise loops that must be vectorised for the CPU the program runs on. Each is compiled
/// for AVX-512, AVX2+FMA and baseline x86-64 (or the platform's default elsewhere); the loader
/// picks the best at run time, so one binary is both portable and fast.

/// Adam/AdamW over [0, n): m = m + (1-b1)(g' - m); v = b2 v + (1-b2) g'^2;
/// p = p*shrink - step * m / (sqrt(v)*inv_corr2 + eps), with g' = g + decay*p.
void fl_adam_update(float *p, const float *g, float *m, float *v, size_t n,
                    float beta1, float beta2, float eps, float step_size,
                    float inv_corr2, float coupled_decay, float shrink);

/// SGD over [0, n): g' = g + wd*p; with momentum b = first ? g' : mu*b + damp*g';
/// p -= lr * (nesterov ? g' + mu*b : b) (or lr*g' without momentum, b may be NULL).
void fl_sgd_update(float *p, const float *g, float *b, size_t n, float lr, float weight_decay,
                   float momentum, float dampening_keep, int nesterov, int first);

/// y = max(x, 0).
void fl_relu_forward(float *y, const float *x, size_t n);

/// dx = y > 0 ? dy : 0.
void fl_relu_backward(float *dx, const float *dy, const float *y, size_t n);

/// out[r·ld + c] += bias[c] for r < rows, c < cols (no bias when NULL); then, with `relu`, out = out <= 0 ? 0 : out
/// (a ReLU after a Linear, fused).
void fl_add_row_vector(float *out, const float *bias, size_t rows, size_t cols, size_t ld, int relu);

/// sum[c] (+)= x[r, c] over r < rows.
void fl_sum_rows(float *sum, const float *x, size_t rows, size_t cols, int accumulate);

/// Gathers images: out[r, :] = table[images[index[r]*pixels + :]] for r < rows.
void fl_gather_pixels(float *out, const uint8_t *images, const int32_t *index, size_t rows,
                      size_t pixels, const float *table);

/// Asks the cache for images index[0 … rows) (a later batch's, so that they have arrived when it is gathered).
void fl_prefetch_images(const uint8_t *images, const int32_t *index, size_t rows, size_t pixels);

/// Unrolls one image [C, H, W] into columns [C·k·k, Ho·Wo] (zero padding), for convolution as a GEMM.
void fl_im2col(const float *image, long channels, long height, long width, long kernel, long stride,
               long padding, float *col);

/// Adds columns [C·k·k, Ho·Wo] back into an image gradient [C, H, W] (the adjoint of fl_im2col).
void fl_col2im(const float *col, long channels, long height, long width, long kernel, long stride,
               long padding, float *image);

/// Winograd F(2×2, 3×3) for 3×3 convolutions with stride 1 and padding 1 (winograd.c explains the maths).
/// Layouts: weights [O, C, 3, 3] transform to U [16, O, C]; a chunk of `images` images [images, C, H, W]
/// to V [16, C, ld] and outputs (or their gradients) to [16, O, ld], column = image·T + tile, where
/// T = ⌈H/2⌉·⌈W/2⌉. The 16 GEMMs between the transforms are the caller's.

/// Floats of scratch the transforms of an H×W plane need.
long fl_winograd_scratch_count(long height, long width);

/// U = G g Gᵀ for the (output, input) channel pairs of output channels [first, end).
void fl_winograd_weights(const float *w, long outChannels, long channels, float *u, long first, long end);

/// dw (+)= Gᵀ (Σ over `parts` of dU) G: the weight gradient from `parts` partial sums [parts, 16, O, C],
/// for output channels [first, end). The sums are left in the first part (its rows for those channels).
void fl_winograd_weight_gradient(float *du, long parts, long outChannels, long channels, float *dw, int accumulate,
                                 long first, long end);

/// V = Bᵀ d B for every 4×4 input tile of every channel of `images` images.
void fl_winograd_input(const float *x, long images, long channels, long height, long width, float *v, long ld, float *scratch);

/// y = Aᵀ M A (+ bias) for every tile: the output planes of `images` images, [images, O, H, W].
void fl_winograd_output(const float *m, long ld, long images, long outChannels, long height, long width,
                        const float *bias, float *y, float *scratch);

/// dZ = A dY Aᵀ for every tile of the output gradient [images, O, H, W] (the adjoint of fl_winograd_output).
void fl_winograd_output_gradient(const float *dy, long images, long outChannels, long height, long width,
                                 float *dz, long ld, float *scratch);

/// dx = Σ over tiles of B dV Bᵀ placed at each tile's input patch: the input gradient [images, C, H, W]
/// (the adjoint of fl_winograd_input; dx is overwritten).
void fl_winograd_input_gradient(const float *dv, long ld, long images, long channels, long height, long width,
                                float *dx, float *scratch);

/// Winograd F(4×4, 3×3), the same functions for 4×4 output tiles (winograd4.c): U [36, O, C], V [36, C, ld],
/// outputs [36, O, ld], T = ⌈H/4⌉·⌈W/4⌉; 36 multiplications per tile and channel pair for 16 outputs.
long fl_winograd4_scratch_count(long height, long width);
void fl_winograd4_weights(const float *w, long outChannels, long channels, float *u, long first, long end);
void fl_winograd4_weight_gradient(float *du, long parts, long outChannels, long channels, float *dw, int accumulate,
                                  long first, long end);
void fl_winograd4_input(const float *x, long images, long channels, long height, long width, float *v, long ld, float *scratch);
void fl_winograd4_output(const float *m, long ld, long images, long outChannels, long height, long width,
                         const float *bias, float *y, float *scratch);
void fl_winograd4_output_gradient(const float *dy, long images, long outChannels, long height, long width,
                                  float *dz, long ld, float *scratch);
void fl_winograd4_input_gradient(const float *dv, long ld, long images, long channels, long height, long width,
                                 float *dx, float *scratch);

/// Batch normalisation over [B, C, S] data (S = H·W, or 1 for [B, C]) for the channels [first, end) (batchnorm.c);
/// the arrays of per-channel values are indexed by channel.

/// sums[c] = the sum of channel c (added in double row by row, then rounded; with `accumulate`, plus what sums[c]
/// held): a convolution's bias gradient.
void fl_channel_sums(const float *x, long batch, long channels, long spatial, long first, long end, float *sums, int accumulate);

/// The mean, (biased) variance and unbiased variance of each channel, computed in double and rounded.
void fl_batchnorm_moments(const float *x, long batch, long channels, long spatial, long first, long end, float *mean, float *variance,
                          float *unbiased_variance);

/// y = γ·(x − mean)·inv_std + β; with `relu`, y = max(0, that) (a ReLU after the normalisation, fused).
void fl_batchnorm_apply(const float *x, float *y, long batch, long channels, long spatial, long first, long end,
                        const float *mean, const float *inv_std, const float *gamma, const float *beta, int relu);

/// The backward pass from the forward pass's input x, mean and inv_std: Σdy and Σdy·x̂ into sum_dy and sum_dy_xhat,
/// and (when dx is not NULL) dx = γ·inv_std/N · (N·dy − Σdy − x̂·Σdy·x̂). With `relu` (fused as in fl_batchnorm_apply),
/// dy is first zeroed where γ·x̂ + β ≤ 0.
void fl_batchnorm_backward(const float *dy, const float *x, float *dx, long batch, long channels, long spatial, long first, long end,
                           const float *mean, const float *inv_std, const float *gamma, const float *beta, int relu,
                           float *sum_dy, float *sum_dy_xhat);

/// 2×2 max pooling with stride 2 over [planes, H, W] (floor mode, PyTorch's choice among ties and NaNs), recording
/// each maximum's flat index in x plus index_base (the index of x's first value in the whole input).
void fl_maxpool2(const float *x, long planes, long height, long width, float *y, int32_t *argmax, long index_base);

/// dst = srcᵀ for a rows × columns matrix: dst[j·ld_dst + i] = src[i·ld_src + j]; nothing else in dst is written.
void fl_transpose(const float *src, long rows, long columns, long ld_src, float *dst, long ld_dst);

/// A task of a parallel loop: called once for each index in [0, count).
typedef void (*fl_task_fn)(void *context, long index);

/// Runs fn(context, i) for i in [0, count) on up to `threads` threads (the caller is one of them)
/// and returns when all are done. Workers spin briefly between jobs, then sleep.
void fl_parallel_run(long count, fl_task_fn fn, void *context, int threads);

/// Makes the first SIGINT/SIGTERM set a flag instead of ending the process (a second one ends it).
void fl_install_interrupt_handler(void);

/// 1 once SIGINT or SIGTERM arrived after fl_install_interrupt_handler().
int fl_interrupt_requested(void);

/// 1 when this CPU runs the project's own GEMM (x86-64 with AVX-512), 0 otherwise.
int fl_gemm_available(void);

/// C = alpha·A·B + beta·C for rows [0, M) of C, with A(m, k) = A[m·sam + k·sak] (so A or Aᵀ, unpacked)
/// and B row-major with leading dimension ldb. Needs fl_gemm_available().
void fl_gemm_broadcast(long M, long N, long K, float alpha, const float *A, long sam, long sak,
                       const float *B, long ldb, float beta, float *C, long ldc);

/// `iterations` rounds of 16 independent 16-lane FMAs on registers (the core's peak, no memory touched);
/// returns the floating-point operations done (2 per lane per FMA). Needs fl_gemm_available(); writes a
/// value that depends on every FMA to `sink` so that none is optimised away.
double fl_fma_loop(long iterations, float *sink);

/// C = alpha·A·Bᵀ + beta·C, A [M×K] and B [N×K] row-major; then, over each block of C just computed (still in
/// cache), + bias[n] when `bias` is not NULL and max(0, ·) when `relu` is 1 (a linear layer's forward pass in
/// one go). Needs fl_gemm_available().
void fl_gemm_dot(long M, long N, long K, float alpha, const float *A, long lda,
                 const float *B, long ldb, float beta, float *C, long ldc, const float *bias, int relu);

#endif
