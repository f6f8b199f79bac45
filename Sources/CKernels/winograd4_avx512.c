/* The four Winograd F(4×4, 3×3) transforms of winograd4.c with AVX-512, for planes at most 28 columns wide
   (every plane of a network on 28×28 images): a padded row (at most 30 columns) lives in two registers and a
   row of tiles (at most 7) in the lanes of one 8-lane vector.

   Each transform applies its 1-D map along the rows of the tiles first, on whole padded rows at once (16-lane
   vectors), then picks each tile's columns out of the result with one two-register permute per column (tile j's
   column k is the row's column 4j + k) and applies the map along them with a tile in each of 8 lanes. Half-width
   vectors there because a row has at most 7 tiles: the arithmetic costs half of what 16-lane vectors would on
   CPUs that split them in two (AMD Zen 4). The maps are winograd4_maps.h's; the layouts winograd4.c's. */
#include "CKernels.h"
#include "winograd4_avx512.h"

#if defined(__x86_64__)
#include "avx512.h"
#include "winograd4_maps.h"

/* The functions here also use 8-lane masked loads and stores (AVX-512 VL). */
#define AVX512VL __attribute__((target("avx512f,avx512vl"), always_inline)) static inline
#define AVX512VL_FUNCTION __attribute__((target("avx512f,avx512vl")))

/* Lane j holds column 4j + first of a 32-column row held as (lo, hi) (_mm512_permutex2var_ps indices; lanes past
   the row wrap around and are never stored). */
AVX512 __m512i every_fourth_column(int first) {
    return _mm512_add_epi32(_mm512_set1_epi32(first), _mm512_set_epi32(60, 56, 52, 48, 44, 40, 36, 32, 28, 24, 20, 16, 12, 8, 4, 0));
}

/* Tile j's column k of a row held as (lo, hi), for the first 8 tiles. */
AVX512VL __m256 tile_column(__m512 lo, __m512 hi, __m512i column) { return _mm512_castps512_ps256(pick(lo, column, hi)); }

/* (a, b) as the two halves of a 16-lane vector. */
AVX512 __m512 join(__m256 a, __m256 b) {
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(a)), _mm256_castps_pd(b), 1));
}

/* The inverse of tile_column for four columns: (lo, hi) with column 4j + l = lane j of y[l]. */
AVX512 void spread_by_fours(const __m256 y[4], __m512 *lo, __m512 *hi) {
    /* Column c = 4j + l comes from lane j of y[l]: lane (l & 1)·8 + j of join(y0, y1) for l < 2, of join(y2, y3) after. */
    const __m512i low = _mm512_set_epi32(27, 19, 11, 3, 26, 18, 10, 2, 25, 17, 9, 1, 24, 16, 8, 0);
    const __m512i high = _mm512_set_epi32(31, 23, 15, 7, 30, 22, 14, 6, 29, 21, 13, 5, 28, 20, 12, 4);
    const __m512 a = join(y[0], y[1]), b = join(y[2], y[3]);
    *lo = _mm512_permutex2var_ps(a, low, b);
    *hi = _mm512_permutex2var_ps(a, high, b);
}

/* For the input gradient: (lo, hi) with columns 4j + 4 and 4j + 5 = lane j of y4 and y5, zero elsewhere. */
AVX512 void spread_carries(__m256 y4, __m256 y5, __m512 *lo, __m512 *hi) {
    const __m512i low = _mm512_set_epi32(0, 0, 10, 2, 0, 0, 9, 1, 0, 0, 8, 0, 0, 0, 0, 0);
    const __m512i high = _mm512_set_epi32(0, 0, 14, 6, 0, 0, 13, 5, 0, 0, 12, 4, 0, 0, 11, 3);
    const __m512 a = join(y4, y5);
    *lo = _mm512_maskz_permutexvar_ps((__mmask16)0x3330, low, a);
    *hi = _mm512_maskz_permutexvar_ps((__mmask16)0x3333, high, a);
}

/* Rows of tiles g = image·tilesHigh + ty are contiguous in V and M (column g·tilesWide + j): each transform takes
   as many whole rows of tiles at a time as fit in 8 lanes (1 of 28×28 planes, 2 of 14×14, 4 of 7×7), lane
   q·tilesWide + j for row q's tile j. */
static long rows_per_vector(long tilesWide) { return 8 / tilesWide; }

/* How many rows of tiles the vector starting at row `first` takes: `group`, fewer at the end. */
static long rows_in_vector(long first, long group, long rowsOfTiles) { return first + group <= rowsOfTiles ? group : rowsOfTiles - first; }

/* Column k of every tile in a vector's rows of tiles, each row q given as a 32-column row (lo[q], hi[q]): lane
   q·tilesWide + j gets column 4j + k of row q. */
AVX512VL __m256 group_column(const __m512 *lo, const __m512 *hi, long count, long tilesWide, int k) {
    const __m512i column = every_fourth_column(k);
    __m256 d = tile_column(lo[0], hi[0], column);
    for (long q = 1; q < count; q++) {
        const __m512i shifted = _mm512_sub_epi32(column, _mm512_set1_epi32((int)(4 * q * tilesWide)));
        const __mmask8 lanes = (__mmask8)(tail_mask((q + 1) * tilesWide) & ~tail_mask(q * tilesWide));
        d = _mm256_mask_mov_ps(d, lanes, tile_column(lo[q], hi[q], shifted));
    }
    return d;
}

AVX512VL_FUNCTION
static void input_avx512(const float *x, long images, long channels, long height, long width, float *v, long ld) {
    const long tilesHigh = (height + 3) / 4, tilesWide = (width + 3) / 4;
    const long step = channels * ld, rowsOfTiles = images * tilesHigh, group = rows_per_vector(tilesWide);
    for (long c = 0; c < channels; c++) {
        for (long first = 0; first < rowsOfTiles; first += group) {
            const long count = rows_in_vector(first, group, rowsOfTiles);
            __m512 tLo[6][8], tHi[6][8];   /* Bᵀ d over all the columns: row i of the transform, row of tiles q */
            for (long q = 0; q < count; q++) {
                const long image = (first + q) / tilesHigh, ty = (first + q) % tilesHigh;
                const float *plane = x + (image * channels + c) * height * width;
                /* the six padded rows of the row of tiles (padded row r is image row r − 1, zero outside the image) */
                __m512 lo[6], hi[6];
                UNROLL for (int r = 0; r < 6; r++) {
                    const long imageRow = 4 * ty + r - 1;
                    if (imageRow >= 0 && imageRow < height) load_row(plane + imageRow * width, width, 1, &lo[r], &hi[r]);
                    else lo[r] = hi[r] = _mm512_setzero_ps();
                }
                __m512 mappedLo[6], mappedHi[6];
                W4_INPUT_MAP(lo, mappedLo);
                W4_INPUT_MAP(hi, mappedHi);
                UNROLL for (int i = 0; i < 6; i++) tLo[i][q] = mappedLo[i], tHi[i][q] = mappedHi[i];
            }
            float *out = v + c * ld + first * tilesWide;
            const __mmask8 lanes = (__mmask8)tail_mask(count * tilesWide);
            UNROLL for (int i = 0; i < 6; i++) {   /* (Bᵀ d) B: tile j's columns 4j … 4j+5 */
                __m256 d[6], s[6];
                UNROLL for (int k = 0; k < 6; k++) d[k] = group_column(tLo[i], tHi[i], count, tilesWide, k);
                W4_INPUT_MAP(d, s);
                UNROLL for (int l = 0; l < 6; l++) _mm256_mask_storeu_ps(out + (6 * i + l) * step, lanes, s[l]);
            }
        }
    }
}

/* Stores columns [first, first + width) of a 32-column row held as (lo, hi) at row[0 … width). */
AVX512 void store_columns(float *row, long first, long width, __m512 lo, __m512 hi) {
    _mm512_mask_storeu_ps(row - first, (__mmask16)(tail_mask(first + width) & ~tail_mask(first)), lo);
    _mm512_mask_storeu_ps(row - first + 16, (__mmask16)(tail_mask(first + width - 16) & ~tail_mask(first - 16)), hi);
}

AVX512VL_FUNCTION
static void output_avx512(const float *m, long ld, long images, long outChannels, long height, long width,
                          const float *bias, float *y) {
    const long tilesHigh = (height + 3) / 4, tilesWide = (width + 3) / 4;
    const long step = outChannels * ld;
    const long rowsOfTiles = images * tilesHigh, group = rows_per_vector(tilesWide);
    for (long o = 0; o < outChannels; o++) {
        const __m256 b = _mm256_set1_ps(bias ? bias[o] : 0.0f);
        for (long first = 0; first < rowsOfTiles; first += group) {
            const long count = rows_in_vector(first, group, rowsOfTiles);
            const __mmask8 lanes = (__mmask8)tail_mask(count * tilesWide);
            const float *in = m + o * ld + first * tilesWide;
            __m256 p[4][6];   /* Aᵀ M, a column at a time */
            UNROLL for (int k = 0; k < 6; k++) {
                __m256 column[6], mapped[4];
                UNROLL for (int i = 0; i < 6; i++) column[i] = _mm256_maskz_loadu_ps(lanes, in + (6 * i + k) * step);
                W4_OUTPUT_MAP(column, mapped);
                UNROLL for (int i = 0; i < 4; i++) p[i][k] = mapped[i];
            }
            UNROLL for (int i = 0; i < 4; i++) {   /* (Aᵀ M) A: row i of every tile */
                __m256 outputs[4];
                W4_OUTPUT_MAP(p[i], outputs);
                UNROLL for (int l = 0; l < 4; l++) outputs[l] = _mm256_add_ps(outputs[l], b);
                __m512 lo, hi;
                spread_by_fours(outputs, &lo, &hi);
                for (long q = 0; q < count; q++) {
                    const long image = (first + q) / tilesHigh, r = 4 * ((first + q) % tilesHigh) + i;
                    if (r < height) store_columns(y + ((image * outChannels + o) * height + r) * width, 4 * q * tilesWide, width, lo, hi);
                }
            }
        }
    }
}

AVX512VL_FUNCTION
static void output_gradient_avx512(const float *dy, long images, long outChannels, long height, long width, float *dz, long ld) {
    const long tilesHigh = (height + 3) / 4, tilesWide = (width + 3) / 4;
    const long step = outChannels * ld, rowsOfTiles = images * tilesHigh, group = rows_per_vector(tilesWide);
    for (long o = 0; o < outChannels; o++) {
        for (long first = 0; first < rowsOfTiles; first += group) {
            const long count = rows_in_vector(first, group, rowsOfTiles);
            __m512 qLo[6][8], qHi[6][8];   /* A dY over all the columns: row i of the transform, row of tiles q */
            for (long q = 0; q < count; q++) {
                const long image = (first + q) / tilesHigh, ty = (first + q) % tilesHigh;
                const float *plane = dy + (image * outChannels + o) * height * width;
                __m512 lo[4], hi[4];   /* the four rows of dY (zero past the plane's last row and column) */
                UNROLL for (int r = 0; r < 4; r++) {
                    if (4 * ty + r < height) load_row(plane + (4 * ty + r) * width, width, 0, &lo[r], &hi[r]);
                    else lo[r] = hi[r] = _mm512_setzero_ps();
                }
                __m512 mappedLo[6], mappedHi[6];
                W4_OUTPUT_ADJOINT(lo, mappedLo);
                W4_OUTPUT_ADJOINT(hi, mappedHi);
                UNROLL for (int i = 0; i < 6; i++) qLo[i][q] = mappedLo[i], qHi[i][q] = mappedHi[i];
            }
            float *out = dz + o * ld + first * tilesWide;
            const __mmask8 lanes = (__mmask8)tail_mask(count * tilesWide);
            UNROLL for (int i = 0; i < 6; i++) {   /* (A dY) Aᵀ: tile j's columns 4j … 4j+3 */
                __m256 d[4], s[6];
                UNROLL for (int l = 0; l < 4; l++) d[l] = group_column(qLo[i], qHi[i], count, tilesWide, l);
                W4_OUTPUT_ADJOINT(d, s);
                UNROLL for (int k = 0; k < 6; k++) _mm256_mask_storeu_ps(out + (6 * i + k) * step, lanes, s[k]);
            }
        }
    }
}

/* Lanes [first, end) of a 32-lane row held as two 16-lane halves: the mask of the low half, then of the high. */
AVX512 void row_range(long first, long end, __mmask16 *lo, __mmask16 *hi) {
    *lo = (__mmask16)(tail_mask(end) & ~tail_mask(first));
    *hi = (__mmask16)(tail_mask(end - 16) & ~tail_mask(first - 16));
}

AVX512VL_FUNCTION
static void input_gradient_avx512(const float *dv, long ld, long images, long channels, long height, long width, float *dx) {
    const long tilesHigh = (height + 3) / 4, tilesWide = (width + 3) / 4;
    /* Row of tiles q's padded columns 0 … width (the last is image column width − 1) are lanes 4q·tilesWide + k of a
       32-lane row: a vector takes fewer rows of tiles where the last would not fit (planes 4, 8 or 16 wide). */
    const long fitting = (31 - width) / (4 * tilesWide) + 1, vectorRows = rows_per_vector(tilesWide);
    const long step = channels * ld, rowsOfTiles = images * tilesHigh, group = fitting < vectorRows ? fitting : vectorRows;
    for (long c = 0; c < channels; c++) {
        for (long first = 0; first < rowsOfTiles; first += group) {
            const long count = rows_in_vector(first, group, rowsOfTiles);
            const __mmask8 lanes = (__mmask8)tail_mask(count * tilesWide);
            const float *in = dv + c * ld + first * tilesWide;
            __m256 t[6][6];   /* B dV, a column at a time: the patches' rows */
            UNROLL for (int l = 0; l < 6; l++) {
                __m256 column[6], mapped[6];
                UNROLL for (int i = 0; i < 6; i++) column[i] = _mm256_maskz_loadu_ps(lanes, in + (6 * i + l) * step);
                W4_INPUT_ADJOINT(column, mapped);
                UNROLL for (int r = 0; r < 6; r++) t[r][l] = mapped[r];
            }
            /* (B dV) Bᵀ: row r of the patches side by side, row of tiles q's from column 4q·tilesWide: their columns
               4j … 4j+3 in `own`, 4j+4 and 4j+5 in `carried` (whose last two reach into row q + 1's columns, kept
               apart by the masks below). */
            __m512 ownLo[6], ownHi[6], carriedLo[6], carriedHi[6];
            UNROLL for (int r = 0; r < 6; r++) {
                __m256 d[6];
                W4_INPUT_ADJOINT(t[r], d);
                spread_by_fours(d, &ownLo[r], &ownHi[r]);
                spread_carries(d[4], d[5], &carriedLo[r], &carriedHi[r]);
            }
            /* Added into the gradient, rows of tiles in order: rows 0 and 1 of a patch continue rows 4 and 5 of the
               row of tiles above, the others start at zero. */
            for (long q = 0; q < count; q++) {
                const long image = (first + q) / tilesHigh, ty = (first + q) % tilesHigh, offset = 4 * q * tilesWide;
                __mmask16 storeLo, storeHi, ownMaskLo, ownMaskHi, carriedMaskLo, carriedMaskHi;
                row_range(offset + 1, offset + 1 + width, &storeLo, &storeHi);
                row_range(offset, offset + 4 * tilesWide, &ownMaskLo, &ownMaskHi);
                row_range(offset + 4, offset + 4 * tilesWide + 2, &carriedMaskLo, &carriedMaskHi);
                UNROLL for (int r = 0; r < 6; r++) {
                    const long padded = 4 * ty + r;
                    if (padded < 1 || padded > height) continue;
                    /* padded column k of row of tiles q is lane offset + k, image column k − 1 */
                    float *row = dx + ((image * channels + c) * height + padded - 1) * width - 1 - offset;
                    const int continues = r < 2 && ty > 0;
                    __m512 lo = continues ? _mm512_maskz_loadu_ps(storeLo, row) : _mm512_setzero_ps();
                    __m512 hi = continues ? _mm512_maskz_loadu_ps(storeHi, row + 16) : _mm512_setzero_ps();
                    /* in winograd4.c's order: a tile's own columns first, then the carries from the tile before */
                    lo = _mm512_mask_add_ps(lo, ownMaskLo, lo, ownLo[r]);
                    hi = _mm512_mask_add_ps(hi, ownMaskHi, hi, ownHi[r]);
                    lo = _mm512_mask_add_ps(lo, carriedMaskLo, lo, carriedLo[r]);
                    hi = _mm512_mask_add_ps(hi, carriedMaskHi, hi, carriedHi[r]);
                    _mm512_mask_storeu_ps(row, storeLo, lo);
                    _mm512_mask_storeu_ps(row + 16, storeHi, hi);
                }
            }
        }
    }
}

/* Each runs the transform and returns 1 when a padded row fits in two registers and the CPU has AVX-512, else 0. */
static int fits(long width) {
    __builtin_cpu_init();
    return width <= 28 && fl_gemm_available() && __builtin_cpu_supports("avx512vl");
}

int fl_winograd4_input_avx512(const float *x, long images, long channels, long height, long width, float *v, long ld) {
    if (!fits(width)) return 0;
    input_avx512(x, images, channels, height, width, v, ld);
    return 1;
}

int fl_winograd4_output_avx512(const float *m, long ld, long images, long outChannels, long height, long width,
                               const float *bias, float *y) {
    if (!fits(width)) return 0;
    output_avx512(m, ld, images, outChannels, height, width, bias, y);
    return 1;
}

int fl_winograd4_output_gradient_avx512(const float *dy, long images, long outChannels, long height, long width, float *dz, long ld) {
    if (!fits(width)) return 0;
    output_gradient_avx512(dy, images, outChannels, height, width, dz, ld);
    return 1;
}

int fl_winograd4_input_gradient_avx512(const float *dv, long ld, long images, long channels, long height, long width, float *dx) {
    if (!fits(width)) return 0;
    input_gradient_avx512(dv, ld, images, channels, height, width, dx);
    return 1;
}

#else

int fl_winograd4_input_avx512(const float *x, long images, long channels, long height, long width, float *v, long ld) { return 0; }
int fl_winograd4_output_avx512(const float *m, long ld, long images, long outChannels, long height, long width,
                               const float *bias, float *y) { return 0; }
int fl_winograd4_output_gradient_avx512(const float *dy, long images, long outChannels, long height, long width, float *dz, long ld) { return 0; }
int fl_winograd4_input_gradient_avx512(const float *dv, long ld, long images, long channels, long height, long width, float *dx) { return 0; }

#endif
