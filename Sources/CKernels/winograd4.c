/* Winograd F(4×4, 3×3) for 3×3 convolutions with stride 1 and padding 1 (Lavin and Gray, 2015): the larger
   sibling of winograd.c's F(2×2, 3×3), with the same structure and layouts.

   Each 4×4 block of outputs (a tile) comes from the 6×6 block of padded input around it as
       Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A,
   36 multiplications per tile and channel pair where direct convolution needs 144 and F(2×2, 3×3) 64, so
   the 36 GEMMs between the transforms do 1.78× less work than winograd.c's 16. The price is in the
   transforms, which take more arithmetic per tile (constants 4, 5, 1/6, 1/24 …) and are a little less
   exact (errors grow with the interpolation points 0, ±1, ±2; still ~1e-6 relative in single precision).

       Bᵀ = | 4  0 −5  0  1  0 |     G = |  1/4     0     0  |     Aᵀ = | 1  1  1  1  1  0 |
            | 0 −4 −4  1  1  0 |         | −1/6  −1/6  −1/6 |          | 0  1 −1  2 −2  0 |
            | 0  4 −4 −1  1  0 |         | −1/6   1/6  −1/6 |          | 0  1  1  4  4  0 |
            | 0 −2 −1  2  1  0 |         | 1/24  1/12   1/6 |          | 0  1 −1  8 −8  1 |
            | 0  2 −1 −2  1  0 |         | 1/24 −1/12   1/6 |
            | 0  4  0 −5  0  1 |         |   0     0     1  |

   Layouts: U[36][O][C]; a chunk of images becomes V[36][C][ld] and M (or dZ) [36][O][ld], column
   n = image·T + tile, T = ⌈H/4⌉·⌈W/4⌉ tiles in row-major order; ξ = 6·row + column of the 6×6 transform.

   As in winograd.c the loops run along a row of tiles, which the compiler vectorises. A padded plane is
   first split into its four column phases, so tile j's six columns 4j … 4j+5 are phase0[j], phase1[j],
   phase2[j], phase3[j], phase0[j+1], phase1[j+1]: contiguous loads. Each transform applies a 1-D map to
   the rows of a tile and then to the columns (winograd4_maps.h); winograd4_avx512.c does the same with the
   rows of a plane in registers. */
#include "CKernels.h"
#include "multiversion.h"
#include "winograd_common.h"
#include "winograd4_maps.h"
#include "winograd4_avx512.h"

INLINE void input_map(const float d[6], float s[6]) { W4_INPUT_MAP(d, s); }
INLINE void input_adjoint(const float s[6], float d[6]) { W4_INPUT_ADJOINT(s, d); }
INLINE void output_map(const float m[6], float y[4]) { W4_OUTPUT_MAP(m, y); }
INLINE void output_adjoint(const float y[4], float m[6]) { W4_OUTPUT_ADJOINT(y, m); }

/* u = G g: six values from a kernel's three. */
INLINE void weight_map(const float g[3], float u[6]) {
    u[0] = 0.25f * g[0];
    u[1] = (-1.0f / 6) * (g[0] + g[1] + g[2]);
    u[2] = (-1.0f / 6) * (g[0] - g[1] + g[2]);
    u[3] = (1.0f / 24) * g[0] + (1.0f / 12) * g[1] + (1.0f / 6) * g[2];
    u[4] = (1.0f / 24) * g[0] - (1.0f / 12) * g[1] + (1.0f / 6) * g[2];
    u[5] = g[2];
}

/* g = Gᵀ u, the adjoint of weight_map. */
INLINE void weight_adjoint(const float u[6], float g[3]) {
    g[0] = 0.25f * u[0] - (1.0f / 6) * (u[1] + u[2]) + (1.0f / 24) * (u[3] + u[4]);
    g[1] = (1.0f / 6) * (u[2] - u[1]) + (1.0f / 12) * (u[3] - u[4]);
    g[2] = (1.0f / 6) * (u[3] + u[4] - u[1] - u[2]) + u[5];
}

long fl_winograd4_scratch_count(long height, long width) {
    const long tilesHigh = (height + 3) / 4, tilesWide = (width + 3) / 4;
    const long rows = 4 * tilesHigh + 2, quarter = tilesWide + 1;
    /* the four phases of a padded plane, the input gradient's carries (6 rows × 2 columns), a row of 4·quarter */
    return 4 * rows * quarter + 12 * tilesWide + 4 * quarter;
}

MULTIVERSION
void fl_winograd4_weights(const float *w, long outChannels, long channels, float *u, long first, long end) {
    const long plane = outChannels * channels;
    for (long o = first; o < end; o++) {
        CHANNEL_LOOP for (long c = 0; c < channels; c++) {
            const float *g = w + (o * channels + c) * 9;
            float t[6][3];   /* G g, a column at a time */
            UNROLL for (int b = 0; b < 3; b++) {
                float column[3] = {g[b], g[3 + b], g[6 + b]}, mapped[6];
                weight_map(column, mapped);
                UNROLL for (int i = 0; i < 6; i++) t[i][b] = mapped[i];
            }
            float *out = u + o * channels + c;
            UNROLL for (int i = 0; i < 6; i++) {   /* (G g) Gᵀ */
                float row[6];
                weight_map(t[i], row);
                UNROLL for (int l = 0; l < 6; l++) out[(6 * i + l) * plane] = row[l];
            }
        }
    }
}

MULTIVERSION
void fl_winograd4_weight_gradient(float *du, long parts, long outChannels, long channels, float *dw, int accumulate,
                                  long first, long end) {
    const long plane = outChannels * channels;
    winograd_sum_parts(du, parts, 36, outChannels, channels, first, end);
    for (long o = first; o < end; o++) {
        CHANNEL_LOOP for (long c = 0; c < channels; c++) {
            float s[6][3];   /* dU G, a row at a time */
            UNROLL for (int i = 0; i < 6; i++) {
                float row[6];
                UNROLL for (int l = 0; l < 6; l++) row[l] = du[(6 * i + l) * plane + o * channels + c];
                weight_adjoint(row, s[i]);
            }
            float *g = dw + (o * channels + c) * 9;
            UNROLL for (int b = 0; b < 3; b++) {   /* Gᵀ (dU G) */
                float column[6] = {s[0][b], s[1][b], s[2][b], s[3][b], s[4][b], s[5][b]}, kernel[3];
                weight_adjoint(column, kernel);
                UNROLL for (int a = 0; a < 3; a++) g[3 * a + b] = accumulate ? g[3 * a + b] + kernel[a] : kernel[a];
            }
        }
    }
}

/* Splits a row into its four column phases: phase k (phase0 + k·phase) gets columns k, k + 4, k + 8, … (quarter of
   them) of `source` (NULL: zeros) shifted right by `shift` columns, zero before it and past its width.
   `row` is scratch for 4·quarter floats. */
INLINE void split_row(const float *source, long width, long shift, long quarter, float *phase0, long phase, float *row) {
    memset(row, 0, (size_t)(4 * quarter) * sizeof(float));
    if (source) memcpy(row + shift, source, (size_t)width * sizeof(float));
    float *restrict p0 = phase0, *restrict p1 = p0 + phase, *restrict p2 = p1 + phase, *restrict p3 = p2 + phase;
    for (long j = 0; j < quarter; j++) {
        p0[j] = row[4 * j];
        p1[j] = row[4 * j + 1];
        p2[j] = row[4 * j + 2];
        p3[j] = row[4 * j + 3];
    }
}

/* The inverse: row[k] = phases[(k + shift) % 4][(k + shift) / 4] for k < width; `row` has room for 4·quarter
   floats past `shift`. */
INLINE void merge_phases(float *row, const float *p0, const float *p1, const float *p2, const float *p3,
                         long quarter, long width, long shift, float *scratch) {
    for (long j = 0; j < quarter; j++) {
        scratch[4 * j] = p0[j];
        scratch[4 * j + 1] = p1[j];
        scratch[4 * j + 2] = p2[j];
        scratch[4 * j + 3] = p3[j];
    }
    memcpy(row, scratch + shift, (size_t)width * sizeof(float));
}

MULTIVERSION
void fl_winograd4_input(const float *x, long images, long channels, long height, long width, float *v, long ld, float *scratch) {
    if (fl_winograd4_input_avx512(x, images, channels, height, width, v, ld)) return;
    const long tilesHigh = (height + 3) / 4, tilesWide = (width + 3) / 4, tiles = tilesHigh * tilesWide;
    const long rows = 4 * tilesHigh + 2, quarter = tilesWide + 1, phase = rows * quarter, step = channels * ld;
    float *phases = scratch, *row = scratch + 4 * phase;
    for (long image = 0; image < images; image++) {
        for (long c = 0; c < channels; c++) {
            /* `rows` zero-padded rows: padded row r is image row r − 1, padded column k image column k − 1 */
            const float *plane = x + (image * channels + c) * height * width;
            for (long r = 0; r < rows; r++)
                split_row(r >= 1 && r <= height ? plane + (r - 1) * width : NULL, width, 1, quarter, phases + r * quarter, phase, row);
            for (long ty = 0; ty < tilesHigh; ty++) {
                const float *p = phases + 4 * ty * quarter;   /* phase k, tile row r: p[k·phase + r·quarter] */
                float *restrict out = v + c * ld + image * tiles + ty * tilesWide;
                TILE_LOOP
                for (long j = 0; j < tilesWide; j++) {
                    float t[6][6];   /* Bᵀ d, a column at a time */
                    UNROLL for (int k = 0; k < 6; k++) {
                        const float *column = p + (k % 4) * phase + j + k / 4;
                        float d[6];
                        UNROLL for (int r = 0; r < 6; r++) d[r] = column[r * quarter];
                        float mapped[6];
                        input_map(d, mapped);
                        UNROLL for (int i = 0; i < 6; i++) t[i][k] = mapped[i];
                    }
                    UNROLL for (int i = 0; i < 6; i++) {   /* (Bᵀ d) B */
                        float s[6];
                        input_map(t[i], s);
                        UNROLL for (int l = 0; l < 6; l++) out[(6 * i + l) * step + j] = s[l];
                    }
                }
            }
        }
    }
}

MULTIVERSION
void fl_winograd4_output(const float *m, long ld, long images, long outChannels, long height, long width,
                         const float *bias, float *y, float *scratch) {
    if (fl_winograd4_output_avx512(m, ld, images, outChannels, height, width, bias, y)) return;
    const long tilesHigh = (height + 3) / 4, tilesWide = (width + 3) / 4, tiles = tilesHigh * tilesWide;
    const long quarter = tilesWide + 1, step = outChannels * ld;
    float *block = scratch, *row = scratch + 16 * quarter;   /* block[i][l][j]: row i, column 4j + l of a tile row */
    for (long image = 0; image < images; image++) {
        for (long o = 0; o < outChannels; o++) {
            const float b = bias ? bias[o] : 0.0f;
            float *plane = y + (image * outChannels + o) * height * width;
            for (long ty = 0; ty < tilesHigh; ty++) {
                const float *in = m + o * ld + image * tiles + ty * tilesWide;
                TILE_LOOP
                for (long j = 0; j < tilesWide; j++) {
                    float p[4][6];   /* Aᵀ M, a column at a time */
                    UNROLL for (int k = 0; k < 6; k++) {
                        float column[6], mapped[4];
                        UNROLL for (int i = 0; i < 6; i++) column[i] = in[(6 * i + k) * step + j];
                        output_map(column, mapped);
                        UNROLL for (int i = 0; i < 4; i++) p[i][k] = mapped[i];
                    }
                    UNROLL for (int i = 0; i < 4; i++) {   /* (Aᵀ M) A */
                        float outputs[4];
                        output_map(p[i], outputs);
                        UNROLL for (int l = 0; l < 4; l++) block[(4 * i + l) * quarter + j] = outputs[l] + b;
                    }
                }
                for (int i = 0; i < 4 && 4 * ty + i < height; i++) {
                    const float *q = block + 4 * i * quarter;
                    merge_phases(plane + (4 * ty + i) * width, q, q + quarter, q + 2 * quarter, q + 3 * quarter, tilesWide,
                                 width, 0, row);
                }
            }
        }
    }
}

MULTIVERSION
void fl_winograd4_output_gradient(const float *dy, long images, long outChannels, long height, long width,
                                  float *dz, long ld, float *scratch) {
    if (fl_winograd4_output_gradient_avx512(dy, images, outChannels, height, width, dz, ld)) return;
    const long tilesHigh = (height + 3) / 4, tilesWide = (width + 3) / 4, tiles = tilesHigh * tilesWide;
    const long rows = 4 * tilesHigh, quarter = tilesWide + 1, phase = rows * quarter, step = outChannels * ld;
    float *phases = scratch, *row = scratch + 4 * phase;
    for (long image = 0; image < images; image++) {
        for (long o = 0; o < outChannels; o++) {
            /* The plane in four phases, zero past its last row and column (no padding before the first). */
            const float *plane = dy + (image * outChannels + o) * height * width;
            for (long r = 0; r < rows; r++)
                split_row(r < height ? plane + r * width : NULL, width, 0, quarter, phases + r * quarter, phase, row);
            for (long ty = 0; ty < tilesHigh; ty++) {
                const float *p = phases + 4 * ty * quarter;
                float *restrict out = dz + o * ld + image * tiles + ty * tilesWide;
                TILE_LOOP
                for (long j = 0; j < tilesWide; j++) {
                    float q[6][4];   /* A dY, a column at a time */
                    UNROLL for (int l = 0; l < 4; l++) {
                        float column[4], mapped[6];
                        UNROLL for (int r = 0; r < 4; r++) column[r] = p[l * phase + r * quarter + j];
                        output_adjoint(column, mapped);
                        UNROLL for (int i = 0; i < 6; i++) q[i][l] = mapped[i];
                    }
                    UNROLL for (int i = 0; i < 6; i++) {   /* (A dY) Aᵀ */
                        float s[6];
                        output_adjoint(q[i], s);
                        UNROLL for (int k = 0; k < 6; k++) out[(6 * i + k) * step + j] = s[k];
                    }
                }
            }
        }
    }
}

MULTIVERSION
void fl_winograd4_input_gradient(const float *dv, long ld, long images, long channels, long height, long width,
                                 float *dx, float *scratch) {
    if (fl_winograd4_input_gradient_avx512(dv, ld, images, channels, height, width, dx)) return;
    const long tilesHigh = (height + 3) / 4, tilesWide = (width + 3) / 4, tiles = tilesHigh * tilesWide;
    const long rows = 4 * tilesHigh + 2, quarter = tilesWide + 1, phase = rows * quarter, step = channels * ld;
    float *phases = scratch;
    float *carry = phases + 4 * phase;   /* [6 rows][columns 4, 5][tilesWide]: what tile j adds to phases 0, 1 at j + 1 */
    float *row = carry + 12 * tilesWide;
    for (long image = 0; image < images; image++) {
        for (long c = 0; c < channels; c++) {
            memset(phases, 0, (size_t)(4 * phase) * sizeof(float));
            for (long ty = 0; ty < tilesHigh; ty++) {
                const float *in = dv + c * ld + image * tiles + ty * tilesWide;
                float *p = phases + 4 * ty * quarter;
                TILE_LOOP
                for (long j = 0; j < tilesWide; j++) {
                    float t[6][6];   /* B dV, a column at a time: the patch's rows */
                    UNROLL for (int l = 0; l < 6; l++) {
                        float column[6], mapped[6];
                        UNROLL for (int i = 0; i < 6; i++) column[i] = in[(6 * i + l) * step + j];
                        input_adjoint(column, mapped);
                        UNROLL for (int r = 0; r < 6; r++) t[r][l] = mapped[r];
                    }
                    UNROLL for (int r = 0; r < 6; r++) {   /* (B dV) Bᵀ, added into the patch's columns */
                        float d[6];
                        input_adjoint(t[r], d);
                        UNROLL for (int k = 0; k < 4; k++) p[k * phase + r * quarter + j] += d[k];
                        carry[(2 * r) * tilesWide + j] = d[4];
                        carry[(2 * r + 1) * tilesWide + j] = d[5];
                    }
                }
                UNROLL for (int r = 0; r < 6; r++) {
                    TILE_LOOP
                    for (long j = 0; j < tilesWide; j++) {
                        p[r * quarter + j + 1] += carry[(2 * r) * tilesWide + j];
                        p[phase + r * quarter + j + 1] += carry[(2 * r + 1) * tilesWide + j];
                    }
                }
            }
            /* dx[r][k] is padded position (r + 1, k + 1). */
            float *plane = dx + (image * channels + c) * height * width;
            for (long r = 0; r < height; r++) {
                const float *p = phases + (r + 1) * quarter;
                merge_phases(plane + r * width, p, p + phase, p + 2 * phase, p + 3 * phase, quarter, width, 1, row);
            }
        }
    }
}
