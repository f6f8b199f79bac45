/* The four Winograd transforms of winograd.c with AVX-512, for planes at most 30 columns wide (every
   plane of a network on 28×28 images): a row of tiles (at most 15) is then one vector.

   winograd.c first copies each plane into even and odd columns and then runs the tile loop a few lanes at
   a time; here a padded row of up to 32 columns lives in two registers, and the columns a tile needs
   (2j, 2j+1, 2j+2, 2j+3 for tile j) are picked out of them with one two-register permute each. The sums
   are the same, in the same order, as in winograd.c, so the results are bit for bit the same
   (`WinogradTests.vectorTransformsMatchThePortableOnes`). The layouts are winograd.c's. */
#include "CKernels.h"
#include "winograd_avx512.h"

#if defined(__x86_64__)
#include "avx512.h"

AVX512 __m512 negate(__m512 x) {
    return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u)));
}

/* Lane j + 1 gets lane j; lane 0 gets 0. */
AVX512 __m512 shift_up(__m512 x) { return _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(x), _mm512_setzero_si512(), 15)); }

/* Lane j gets lane j + 1; lane 15 gets 0. */
AVX512 __m512 shift_down(__m512 x) { return _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_setzero_si512(), _mm512_castps_si512(x), 1)); }

/* row[2j] = a[j], row[2j + 1] = b[j] for the first `width` (≤ 32) columns of row. */
AVX512 void store_interleaved(float *row, __m512 a, __m512 b, long width) {
    const __m512i low = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i high = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
    _mm512_mask_storeu_ps(row, tail_mask(width), _mm512_permutex2var_ps(a, low, b));
    _mm512_mask_storeu_ps(row + 16, tail_mask(width - 16), _mm512_permutex2var_ps(a, high, b));
}

AVX512_FUNCTION
static void input_avx512(const float *x, long images, long channels, long height, long width, float *v, long ld) {
    const long tilesHigh = (height + 1) / 2, tilesWide = (width + 1) / 2, tiles = tilesHigh * tilesWide;
    const long step = channels * ld;
    const __mmask16 lanes = tail_mask(tilesWide);
    const __m512i column[4] = {every_other_column(0), every_other_column(1), every_other_column(2), every_other_column(3)};
    for (long image = 0; image < images; image++) {
        for (long c = 0; c < channels; c++) {
            const float *plane = x + (image * channels + c) * height * width;
            /* The tile row's four padded rows (padded row r is image row r − 1, zero outside the image), each
               as columns 0–15 and 16–31; rows 2 and 3 of one tile row are rows 0 and 1 of the next. */
            __m512 d[4][2];
            d[0][0] = d[0][1] = _mm512_setzero_ps();
            load_row(plane, width, 1, &d[1][0], &d[1][1]);
            for (long ty = 0; ty < tilesHigh; ty++) {
                for (int r = 2; r < 4; r++) {
                    long imageRow = 2 * ty + r - 1;
                    if (imageRow < height) load_row(plane + imageRow * width, width, 1, &d[r][0], &d[r][1]);
                    else d[r][0] = d[r][1] = _mm512_setzero_ps();
                }
                float *out = v + c * ld + image * tiles + ty * tilesWide;
                for (int i = 0; i < 4; i++) {
                    __m512 s[2];   /* row i of Bᵀ d, over all the columns */
                    for (int h = 0; h < 2; h++) {
                        switch (i) {
                        case 0: s[h] = _mm512_sub_ps(d[0][h], d[2][h]); break;
                        case 1: s[h] = _mm512_add_ps(d[1][h], d[2][h]); break;
                        case 2: s[h] = _mm512_sub_ps(d[2][h], d[1][h]); break;
                        default: s[h] = _mm512_sub_ps(d[1][h], d[3][h]); break;
                        }
                    }
                    /* (Bᵀ d) B: tile j's columns 2j … 2j+3 */
                    __m512 s0 = pick(s[0], column[0], s[1]), s1 = pick(s[0], column[1], s[1]);
                    __m512 s2 = pick(s[0], column[2], s[1]), s3 = pick(s[0], column[3], s[1]);
                    _mm512_mask_storeu_ps(out + (4 * i + 0) * step, lanes, _mm512_sub_ps(s0, s2));
                    _mm512_mask_storeu_ps(out + (4 * i + 1) * step, lanes, _mm512_add_ps(s1, s2));
                    _mm512_mask_storeu_ps(out + (4 * i + 2) * step, lanes, _mm512_sub_ps(s2, s1));
                    _mm512_mask_storeu_ps(out + (4 * i + 3) * step, lanes, _mm512_sub_ps(s1, s3));
                }
                for (int h = 0; h < 2; h++) {
                    d[0][h] = d[2][h];
                    d[1][h] = d[3][h];
                }
            }
        }
    }
}

AVX512_FUNCTION
static void output_avx512(const float *m, long ld, long images, long outChannels, long height, long width,
                               const float *bias, float *y) {
    const long tilesHigh = (height + 1) / 2, tilesWide = (width + 1) / 2, tiles = tilesHigh * tilesWide;
    const long step = outChannels * ld;
    const __mmask16 lanes = tail_mask(tilesWide);
    for (long image = 0; image < images; image++) {
        for (long o = 0; o < outChannels; o++) {
            const __m512 b = _mm512_set1_ps(bias ? bias[o] : 0.0f);
            float *plane = y + (image * outChannels + o) * height * width;
            for (long ty = 0; ty < tilesHigh; ty++) {
                const float *in = m + o * ld + image * tiles + ty * tilesWide;
                __m512 p[2][4];   /* Aᵀ M */
                for (int k = 0; k < 4; k++) {
                    __m512 m0 = _mm512_maskz_loadu_ps(lanes, in + k * step), m1 = _mm512_maskz_loadu_ps(lanes, in + (4 + k) * step);
                    __m512 m2 = _mm512_maskz_loadu_ps(lanes, in + (8 + k) * step), m3 = _mm512_maskz_loadu_ps(lanes, in + (12 + k) * step);
                    p[0][k] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
                    p[1][k] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
                }
                for (int r = 0; r < 2 && 2 * ty + r < height; r++) {   /* (Aᵀ M) A: the tile's row r, columns 0 and 1 */
                    __m512 left = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(p[r][0], p[r][1]), p[r][2]), b);
                    __m512 right = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(p[r][1], p[r][2]), p[r][3]), b);
                    store_interleaved(plane + (2 * ty + r) * width, left, right, width);
                }
            }
        }
    }
}

AVX512_FUNCTION
static void output_gradient_avx512(const float *dy, long images, long outChannels, long height, long width, float *dz, long ld) {
    const long tilesHigh = (height + 1) / 2, tilesWide = (width + 1) / 2, tiles = tilesHigh * tilesWide;
    const long step = outChannels * ld;
    const __mmask16 lanes = tail_mask(tilesWide);
    const __m512i even = every_other_column(0), odd = every_other_column(1);
    for (long image = 0; image < images; image++) {
        for (long o = 0; o < outChannels; o++) {
            const float *plane = dy + (image * outChannels + o) * height * width;
            for (long ty = 0; ty < tilesHigh; ty++) {
                /* The tile's two rows of dY, even and odd columns apart (zero past the plane's last row and column). */
                __m512 e[2], od[2];
                for (int r = 0; r < 2; r++) {
                    __m512 lo = _mm512_setzero_ps(), hi = _mm512_setzero_ps();
                    if (2 * ty + r < height) load_row(plane + (2 * ty + r) * width, width, 0, &lo, &hi);
                    e[r] = pick(lo, even, hi);
                    od[r] = pick(lo, odd, hi);
                }
                __m512 q[4][2] = {   /* A dY */
                    {e[0], od[0]},
                    {_mm512_add_ps(e[0], e[1]), _mm512_add_ps(od[0], od[1])},
                    {_mm512_sub_ps(e[0], e[1]), _mm512_sub_ps(od[0], od[1])},
                    {negate(e[1]), negate(od[1])},
                };
                float *out = dz + o * ld + image * tiles + ty * tilesWide;
                for (int i = 0; i < 4; i++) {   /* (A dY) Aᵀ */
                    _mm512_mask_storeu_ps(out + (4 * i + 0) * step, lanes, q[i][0]);
                    _mm512_mask_storeu_ps(out + (4 * i + 1) * step, lanes, _mm512_add_ps(q[i][0], q[i][1]));
                    _mm512_mask_storeu_ps(out + (4 * i + 2) * step, lanes, _mm512_sub_ps(q[i][0], q[i][1]));
                    _mm512_mask_storeu_ps(out + (4 * i + 3) * step, lanes, negate(q[i][1]));
                }
            }
        }
    }
}

/* Writes padded row `r` of the input gradient, held as its even and odd columns, into image row r − 1
   when that is a row of the image: column k is padded column k + 1, odd[k/2] for even k, even[(k+1)/2] for odd k. */
AVX512 void store_padded_row(float *plane, long r, long height, long width, __m512 even, __m512 odd) {
    if (r >= 1 && r <= height) store_interleaved(plane + (r - 1) * width, odd, shift_down(even), width);
}

AVX512_FUNCTION
static void input_gradient_avx512(const float *dv, long ld, long images, long channels, long height, long width, float *dx) {
    const long tilesHigh = (height + 1) / 2, tilesWide = (width + 1) / 2, tiles = tilesHigh * tilesWide;
    const long step = channels * ld;
    const __mmask16 lanes = tail_mask(tilesWide), carried = (__mmask16)(tail_mask(tilesWide + 1) & ~1u);
    for (long image = 0; image < images; image++) {
        for (long c = 0; c < channels; c++) {
            float *plane = dx + (image * channels + c) * height * width;
            /* Padded rows 2ty … 2ty+3 of the gradient, even and odd columns apart: rows 0 and 1 hold what the
               tile row above added, rows 2 and 3 start at zero. */
            __m512 even[4], odd[4];
            for (int row = 0; row < 4; row++) even[row] = odd[row] = _mm512_setzero_ps();
            for (long ty = 0; ty < tilesHigh; ty++) {
                const float *in = dv + c * ld + image * tiles + ty * tilesWide;
                __m512 d[4][4];
                for (int x = 0; x < 16; x++) d[x / 4][x % 4] = _mm512_maskz_loadu_ps(lanes, in + x * step);
                __m512 r[4][4];   /* B dV: the patch's rows */
                for (int k = 0; k < 4; k++) {
                    r[0][k] = d[0][k];
                    r[1][k] = _mm512_add_ps(_mm512_sub_ps(d[1][k], d[2][k]), d[3][k]);
                    r[2][k] = _mm512_add_ps(_mm512_add_ps(negate(d[0][k]), d[1][k]), d[2][k]);
                    r[3][k] = negate(d[3][k]);
                }
                for (int row = 0; row < 4; row++) {   /* (B dV) Bᵀ, added into the patch's columns 2j … 2j+3 */
                    __m512 ownOdd = _mm512_add_ps(_mm512_sub_ps(r[row][1], r[row][2]), r[row][3]);
                    __m512 nextEven = _mm512_add_ps(_mm512_add_ps(negate(r[row][0]), r[row][1]), r[row][2]);
                    __m512 nextOdd = negate(r[row][3]);
                    even[row] = _mm512_mask_add_ps(even[row], lanes, even[row], r[row][0]);
                    odd[row] = _mm512_mask_add_ps(odd[row], lanes, odd[row], ownOdd);
                    even[row] = _mm512_mask_add_ps(even[row], carried, even[row], shift_up(nextEven));
                    odd[row] = _mm512_mask_add_ps(odd[row], carried, odd[row], shift_up(nextOdd));
                }
                /* Padded rows 2ty and 2ty+1 are complete. */
                for (int row = 0; row < 2; row++) {
                    store_padded_row(plane, 2 * ty + row, height, width, even[row], odd[row]);
                    even[row] = even[row + 2];
                    odd[row] = odd[row + 2];
                    even[row + 2] = odd[row + 2] = _mm512_setzero_ps();
                }
            }
            for (int row = 0; row < 2; row++) store_padded_row(plane, 2 * tilesHigh + row, height, width, even[row], odd[row]);
        }
    }
}

/* Each runs the transform and returns 1 when the plane fits in a vector and the CPU has AVX-512, else 0. */
static int fits(long width) { return width <= 30 && fl_gemm_available(); }

int fl_winograd_input_avx512(const float *x, long images, long channels, long height, long width, float *v, long ld) {
    if (!fits(width)) return 0;
    input_avx512(x, images, channels, height, width, v, ld);
    return 1;
}

int fl_winograd_output_avx512(const float *m, long ld, long images, long outChannels, long height, long width,
                              const float *bias, float *y) {
    if (!fits(width)) return 0;
    output_avx512(m, ld, images, outChannels, height, width, bias, y);
    return 1;
}

int fl_winograd_output_gradient_avx512(const float *dy, long images, long outChannels, long height, long width, float *dz, long ld) {
    if (!fits(width)) return 0;
    output_gradient_avx512(dy, images, outChannels, height, width, dz, ld);
    return 1;
}

int fl_winograd_input_gradient_avx512(const float *dv, long ld, long images, long channels, long height, long width, float *dx) {
    if (!fits(width)) return 0;
    input_gradient_avx512(dv, ld, images, channels, height, width, dx);
    return 1;
}

#else

int fl_winograd_input_avx512(const float *x, long images, long channels, long height, long width, float *v, long ld) { return 0; }
int fl_winograd_output_avx512(const float *m, long ld, long images, long outChannels, long height, long width,
                              const float *bias, float *y) { return 0; }
int fl_winograd_output_gradient_avx512(const float *dy, long images, long outChannels, long height, long width, float *dz, long ld) { return 0; }
int fl_winograd_input_gradient_avx512(const float *dv, long ld, long images, long channels, long height, long width, float *dx) { return 0; }

#endif
