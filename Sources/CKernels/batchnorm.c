/* Batch normalisation over [B, C, S] data (S = H·W for images, 1 for [B, C]), for a range of channels
   [first, end), and the per-channel sums a convolution's bias gradient needs.

   Every sum runs in a fixed order, so results do not depend on how the channels are shared among threads:
   a channel's sum over all its values is taken 16 lanes along each row, the lanes then added in double row
   by row (fl_channel_sums, the moments); the backward pass keeps one float sum per lane over all rows. One
   such chain of additions waits on the adder's latency at every step, so the loops take up to four channels
   side by side: four independent chains, and for each image the four rows lie next to each other in memory. */
#include "CKernels.h"
#include "multiversion.h"

#define INLINE static inline __attribute__((always_inline))
#define GROUP 4

/* γ·x̂ + β, one function for the forward pass and for the backward pass's recomputation of it (same rounding). */
INLINE float batchnorm_output(float gamma, float xhat, float beta) { return gamma * xhat + beta; }

/* x̂ = (x − mean)·inv_std, the same in both passes. */
INLINE float normalized(float x, float mean, float inv_std) { return (x - mean) * inv_std; }

/* 16 floats as one value (one AVX-512 register, two AVX ones, …), loaded from any address: the loops below
   keep one per channel in flight, which the compiler does not do by itself for the arrays it would replace. */
typedef float lanes16 __attribute__((vector_size(64), aligned(4)));

typedef int mask16 __attribute__((vector_size(64)));

#define load16(p) (*(const lanes16 *)(p))

/* For the G channels from `first`: total[g] = Σ over rows (in double) of the row's 16-lane float sum of x,
   or, with `squares`, of (x − center[g])². */
INLINE void row_sums(const int G, const int squares, const float *x, long batch, long channels, long spatial, long first,
                     const float *center, double *total) {
    double sum[GROUP] = {0};
    for (long b = 0; b < batch; b++) {
        const float *rows = x + (b * channels + first) * spatial;
        lanes16 partial[GROUP];
        UNROLL for (int g = 0; g < G; g++) partial[g] = (lanes16){0};
        long i = 0;
        for (; i + 16 <= spatial; i += 16)
            UNROLL for (int g = 0; g < G; g++) {
                lanes16 value = load16(rows + g * spatial + i);
                if (squares) { lanes16 d = value - center[g]; partial[g] += d * d; }
                else partial[g] += value;
            }
        for (; i < spatial; i++)
            UNROLL for (int g = 0; g < G; g++) {
                float value = rows[g * spatial + i];
                if (squares) { float d = value - center[g]; partial[g][0] += d * d; }
                else partial[g][0] += value;
            }
        UNROLL for (int g = 0; g < G; g++) for (int l = 0; l < 16; l++) sum[g] += partial[g][l];
    }
    for (int g = 0; g < G; g++) total[g] = sum[g];
}

/* Runs body(G, c) over [first, end) in groups of four channels, then one at a time. */
#define FOR_GROUPS(first, end, body)                                 \
    do {                                                             \
        long c_ = (first);                                           \
        for (; c_ + GROUP <= (end); c_ += GROUP) body(GROUP, c_);    \
        for (; c_ < (end); c_++) body(1, c_);                        \
    } while (0)

MULTIVERSION
void fl_channel_sums(const float *x, long batch, long channels, long spatial, long first, long end, float *sums, int accumulate) {
#define SUMS(G, c)                                                                      \
    do {                                                                                \
        double total[GROUP];                                                            \
        row_sums(G, 0, x, batch, channels, spatial, c, NULL, total);                    \
        for (int g = 0; g < G; g++) sums[(c) + g] = (float)total[g] + (accumulate ? sums[(c) + g] : 0.0f); \
    } while (0)
    FOR_GROUPS(first, end, SUMS);
#undef SUMS
}

MULTIVERSION
void fl_batchnorm_moments(const float *x, long batch, long channels, long spatial, long first, long end, float *mean, float *variance,
                          float *unbiased_variance) {
    const long count = batch * spatial;
#define MOMENTS(G, c)                                                                   \
    do {                                                                                \
        double sum[GROUP], squares[GROUP];                                              \
        float center[GROUP];                                                            \
        row_sums(G, 0, x, batch, channels, spatial, c, NULL, sum);                      \
        for (int g = 0; g < G; g++) center[g] = mean[(c) + g] = (float)(sum[g] / (double)count); \
        row_sums(G, 1, x, batch, channels, spatial, c, center, squares);                \
        for (int g = 0; g < G; g++) {                                                   \
            double v = squares[g] / (double)count;                                      \
            variance[(c) + g] = (float)v;                                               \
            unbiased_variance[(c) + g] = count > 1 ? (float)(v * (double)count / (double)(count - 1)) : (float)v; \
        }                                                                               \
    } while (0)
    FOR_GROUPS(first, end, MOMENTS);
#undef MOMENTS
}

MULTIVERSION
void fl_batchnorm_apply(const float *restrict x, float *restrict y, long batch, long channels, long spatial, long first, long end,
                        const float *mean, const float *inv_std, const float *gamma, const float *beta, int relu) {
    for (long b = 0; b < batch; b++) {
        for (long c = first; c < end; c++) {
            const long offset = (b * channels + c) * spatial;
            const float m = mean[c], s = inv_std[c], g = gamma[c], bt = beta[c];
            for (long i = 0; i < spatial; i++) {
                float out = batchnorm_output(g, normalized(x[offset + i], m, s), bt);
                y[offset + i] = relu && out <= 0.0f ? 0.0f : out;
            }
        }
    }
}

/* The backward pass for channel c (see fl_batchnorm_backward). One channel at a time: its dy and x stay in L2
   between the two passes (four channels' would not), and the loop is bound by memory, not by its sums' latency. */
INLINE void backward_channel(const float *restrict dy_in, const float *restrict x, float *restrict dx, long batch, long channels,
                             long spatial, long c, float mean, float inv_std, float gamma, float beta, int relu,
                             float *sum_dy, float *sum_dy_xhat) {
    /* With the ReLU after it fused, the upstream gradient is cut where the output was ≤ 0 (as in fl_relu_backward);
       x̂ and the output are recomputed exactly as the forward pass computed them. */
#define UPSTREAM(j, xhat) (relu && batchnorm_output(gamma, xhat, beta) <= 0.0f ? 0.0f : dy_in[j])
    lanes16 partial_dy = {0}, partial_dy_xhat = {0};
    for (long b = 0; b < batch; b++) {
        const long offset = (b * channels + c) * spatial;
        long i = 0;
        for (; i + 16 <= spatial; i += 16) {
            lanes16 xhat = (load16(x + offset + i) - mean) * inv_std;
            lanes16 dy = load16(dy_in + offset + i);
            if (relu) {   /* zero where the output γ·x̂ + β was ≤ 0 (the comparison is all ones there) */
                lanes16 out = gamma * xhat + beta;
                dy = (lanes16)((mask16)dy & ~(mask16)(out <= 0.0f));
            }
            partial_dy += dy;
            partial_dy_xhat += dy * xhat;
        }
        for (; i < spatial; i++) {
            float xhat = normalized(x[offset + i], mean, inv_std), dy = UPSTREAM(offset + i, xhat);
            partial_dy[0] += dy;
            partial_dy_xhat[0] += dy * xhat;
        }
    }
    float s = 0, sx = 0;
    for (int l = 0; l < 16; l++) { s += partial_dy[l]; sx += partial_dy_xhat[l]; }
    *sum_dy = s;
    *sum_dy_xhat = sx;
    if (!dx) return;
    const float count = (float)(batch * spatial), scale = gamma * inv_std / count;
    for (long b = 0; b < batch; b++) {
        const long offset = (b * channels + c) * spatial;
        for (long i = 0; i < spatial; i++) {
            float xhat = normalized(x[offset + i], mean, inv_std);
            dx[offset + i] = scale * (count * UPSTREAM(offset + i, xhat) - s - xhat * sx);
        }
    }
#undef UPSTREAM
}

MULTIVERSION
void fl_batchnorm_backward(const float *dy, const float *x, float *dx, long batch, long channels, long spatial, long first, long end,
                           const float *mean, const float *inv_std, const float *gamma, const float *beta, int relu,
                           float *sum_dy, float *sum_dy_xhat) {
    for (long c = first; c < end; c++)
        backward_channel(dy, x, dx, batch, channels, spatial, c, mean[c], inv_std[c], gamma[c], beta[c], relu, sum_dy + c, sum_dy_xhat + c);
}
