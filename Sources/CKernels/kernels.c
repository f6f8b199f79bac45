#include "CKernels.h"
#include <math.h>

/* Optimiser state decays geometrically (m by 0.9 per step), so rarely-active weights reach
   subnormal floats within a few hundred steps, where x86 arithmetic is ~100x slower. The
   optimiser loops flush subnormals to zero (FTZ/DAZ) for their duration; values below 1e-38
   change nothing a float32 update could resolve. */
#if defined(__x86_64__)
#include <xmmintrin.h>
#define FLUSH_SUBNORMALS_BEGIN unsigned int saved_csr = _mm_getcsr(); _mm_setcsr(saved_csr | 0x8040);
#define FLUSH_SUBNORMALS_END _mm_setcsr(saved_csr);
#else
#define FLUSH_SUBNORMALS_BEGIN
#define FLUSH_SUBNORMALS_END
#endif

/* sqrtf may set errno, which stops the loop from being vectorised; the elementwise builtin may not. */
#if defined(__has_builtin) && __has_builtin(__builtin_elementwise_sqrt)
#define SQRT(x) __builtin_elementwise_sqrt(x)
#else
#define SQRT(x) sqrtf(x)
#endif

#include "multiversion.h"

MULTIVERSION
void fl_adam_update(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, size_t n,
                    float beta1, float beta2, float eps, float step_size,
                    float inv_corr2, float coupled_decay, float shrink) {
    FLUSH_SUBNORMALS_BEGIN
    const float one_minus_b1 = 1.0f - beta1, one_minus_b2 = 1.0f - beta2;
    for (size_t i = 0; i < n; i++) {
        float grad = g[i] + coupled_decay * p[i];
        float mi = m[i] + one_minus_b1 * (grad - m[i]);
        float vi = beta2 * v[i] + one_minus_b2 * grad * grad;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * shrink - step_size * mi / (SQRT(vi) * inv_corr2 + eps);
    }
    FLUSH_SUBNORMALS_END
}

MULTIVERSION
void fl_sgd_update(float *restrict p, const float *restrict g, float *restrict b, size_t n, float lr,
                   float weight_decay, float momentum, float dampening_keep, int nesterov, int first) {
    FLUSH_SUBNORMALS_BEGIN
    if (b == NULL || momentum == 0.0f) {
        for (size_t i = 0; i < n; i++) p[i] -= lr * (g[i] + weight_decay * p[i]);
    } else {
        for (size_t i = 0; i < n; i++) {
            float grad = g[i] + weight_decay * p[i];
            float bi = first ? grad : momentum * b[i] + dampening_keep * grad;
            b[i] = bi;
            p[i] -= lr * (nesterov ? grad + momentum * bi : bi);
        }
    }
    FLUSH_SUBNORMALS_END
}

/* Written as "x <= 0 ? 0 : x", as PyTorch's threshold does, so that a NaN passes through both ways (and a
   diverging run is seen as one) instead of turning into 0. */
MULTIVERSION
void fl_relu_forward(float *restrict y, const float *restrict x, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] <= 0.0f ? 0.0f : x[i];
}

MULTIVERSION
void fl_relu_backward(float *restrict dx, const float *restrict dy, const float *restrict y, size_t n) {
    for (size_t i = 0; i < n; i++) dx[i] = y[i] <= 0.0f ? 0.0f : dy[i];
}

MULTIVERSION
void fl_add_row_vector(float *restrict out, const float *restrict bias, size_t rows, size_t cols, size_t ld, int relu) {
    for (size_t r = 0; r < rows; r++) {
        float *row = out + r * ld;
        if (bias && relu) {
            for (size_t c = 0; c < cols; c++) {
                float value = row[c] + bias[c];
                row[c] = value <= 0.0f ? 0.0f : value;
            }
        } else if (bias) {
            for (size_t c = 0; c < cols; c++) row[c] += bias[c];
        } else if (relu) {
            for (size_t c = 0; c < cols; c++) row[c] = row[c] <= 0.0f ? 0.0f : row[c];
        }
    }
}

MULTIVERSION
void fl_sum_rows(float *restrict sum, const float *restrict x, size_t rows, size_t cols, int accumulate) {
    if (!accumulate) for (size_t c = 0; c < cols; c++) sum[c] = 0.0f;
    for (size_t r = 0; r < rows; r++) {
        const float *row = x + r * cols;
        for (size_t c = 0; c < cols; c++) sum[c] += row[c];
    }
}

static inline void prefetch_image(const uint8_t *image, size_t bytes) {
    for (size_t offset = 0; offset < bytes; offset += 64) __builtin_prefetch(image + offset);
}

void fl_prefetch_images(const uint8_t *images, const int32_t *index, size_t rows, size_t pixels) {
    for (size_t r = 0; r < rows; r++) prefetch_image(images + (size_t)index[r] * pixels, pixels);
}

MULTIVERSION
void fl_gather_pixels(float *restrict out, const uint8_t *restrict images, const int32_t *restrict index,
                      size_t rows, size_t pixels, const float *restrict table) {
    /* A shuffled batch reads its images from all over the 47 MB of pixels, each a cache miss; fetching
       the image four rows ahead while this one converts took a batch of 32 from ~20 µs to ~7. */
    enum { AHEAD = 4 };
    for (size_t r = 0; r < rows + AHEAD; r++) {
        if (r < rows) prefetch_image(images + (size_t)index[r] * pixels, pixels);
        if (r < AHEAD) continue;
        const uint8_t *source = images + (size_t)index[r - AHEAD] * pixels;
        float *target = out + (r - AHEAD) * pixels;
        for (size_t i = 0; i < pixels; i++) target[i] = table[source[i]];
    }
}

/* im2col for one image [C, H, W] into [C*k*k, Ho*Wo], zero padding. For each output row the columns
   whose input lies inside the image form one range: zeros before it, a copy (contiguous for stride 1),
   zeros after it. */
MULTIVERSION
void fl_im2col(const float *restrict image, long channels, long height, long width, long kernel, long stride,
               long padding, float *restrict col) {
    long out_h = (height + 2 * padding - kernel) / stride + 1, out_w = (width + 2 * padding - kernel) / stride + 1;
    for (long c = 0; c < channels; c++) {
        const float *plane = image + c * height * width;
        for (long ky = 0; ky < kernel; ky++) {
            for (long kx = 0; kx < kernel; kx++) {
                float *row = col + ((c * kernel + ky) * kernel + kx) * out_h * out_w;
                /* ox with 0 <= ox*stride - padding + kx < width */
                long first = padding - kx > 0 ? (padding - kx + stride - 1) / stride : 0;
                long last = (width - 1 + padding - kx) >= 0 ? (width - 1 + padding - kx) / stride + 1 : 0;
                if (last > out_w) last = out_w;
                if (first > last) first = last;
                for (long oy = 0; oy < out_h; oy++) {
                    long iy = oy * stride - padding + ky;
                    float *line = row + oy * out_w;
                    if (iy < 0 || iy >= height) { for (long ox = 0; ox < out_w; ox++) line[ox] = 0.0f; continue; }
                    const float *source = plane + iy * width - padding + kx;
                    for (long ox = 0; ox < first; ox++) line[ox] = 0.0f;
                    if (stride == 1) {
                        for (long ox = first; ox < last; ox++) line[ox] = source[ox];
                    } else {
                        for (long ox = first; ox < last; ox++) line[ox] = source[ox * stride];
                    }
                    for (long ox = last; ox < out_w; ox++) line[ox] = 0.0f;
                }
            }
        }
    }
}

/* The adjoint of fl_im2col: adds columns back into an image gradient [C, H, W]. */
MULTIVERSION
void fl_col2im(const float *restrict col, long channels, long height, long width, long kernel, long stride,
               long padding, float *restrict image) {
    long out_h = (height + 2 * padding - kernel) / stride + 1, out_w = (width + 2 * padding - kernel) / stride + 1;
    for (long c = 0; c < channels; c++) {
        float *plane = image + c * height * width;
        for (long ky = 0; ky < kernel; ky++) {
            for (long kx = 0; kx < kernel; kx++) {
                const float *row = col + ((c * kernel + ky) * kernel + kx) * out_h * out_w;
                for (long oy = 0; oy < out_h; oy++) {
                    long iy = oy * stride - padding + ky;
                    if (iy < 0 || iy >= height) continue;
                    float *target = plane + iy * width;
                    const float *line = row + oy * out_w;
                    for (long ox = 0; ox < out_w; ox++) {
                        long ix = ox * stride - padding + kx;
                        if (ix >= 0 && ix < width) target[ix] += line[ox];
                    }
                }
            }
        }
    }
}

