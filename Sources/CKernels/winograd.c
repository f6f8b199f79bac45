/* Winograd F(2×2, 3×3) for 3×3 convolutions with stride 1 and padding 1 (Lavin and Gray, 2015).

   Each 2×2 block of outputs (a "tile") comes from the 4×4 block of padded input around it as
       Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d Bᵀᵀ) ] A,
   so once the weights are transformed (U = G g Gᵀ) and the input tiles too (V = Bᵀ d B), the
   convolution is 16 independent GEMMs over channels, M[ξ] = U[ξ]·V[ξ]: 16 multiplications per tile
   and channel pair instead of 36. The backward pass runs the transposes of the same linear maps:
   dZ = A dY Aᵀ, the weight gradient dU[ξ] = Σ dZ[ξ]·V[ξ]ᵀ (then dg = Gᵀ dU G), and the input gradient
   dV[ξ] = U[ξ]ᵀ·dZ[ξ], dd = B dV Bᵀ added back into the overlapping input tiles.

   Layouts: U[16][O][C]; a chunk of images becomes V[16][C][ld] and M (or dZ) [16][O][ld], where column
   n = image·T + tile, T = ⌈H/2⌉·⌈W/2⌉ tiles in row-major order. The GEMMs are the caller's.

   The loops run along a row of tiles so the compiler vectorises them. A plane is first copied into a
   zero-padded buffer with its even and odd columns apart, so tile j's four columns 2j, 2j+1, 2j+2, 2j+3
   are even[j], odd[j], even[j+1], odd[j+1]: contiguous loads, no gathers. */
#include "CKernels.h"
#include "multiversion.h"
#include "winograd_avx512.h"
#include "winograd_common.h"

long fl_winograd_scratch_count(long height, long width) {
    long tilesHigh = (height + 1) / 2, tilesWide = (width + 1) / 2;
    return 2 * (2 * tilesHigh + 2) * (tilesWide + 1) + 8 * tilesWide;
}

MULTIVERSION
void fl_winograd_weights(const float *w, long outChannels, long channels, float *u, long first, long end) {
    const long plane = outChannels * channels;
    for (long o = first; o < end; o++) {
        CHANNEL_LOOP for (long c = 0; c < channels; c++) {
            const float *g = w + (o * channels + c) * 9;
            float t[4][3];   /* G g */
            for (int b = 0; b < 3; b++) {
                t[0][b] = g[b];
                t[1][b] = 0.5f * (g[b] + g[3 + b] + g[6 + b]);
                t[2][b] = 0.5f * (g[b] - g[3 + b] + g[6 + b]);
                t[3][b] = g[6 + b];
            }
            float *out = u + o * channels + c;
            for (int i = 0; i < 4; i++) {   /* (G g) Gᵀ */
                out[(4 * i + 0) * plane] = t[i][0];
                out[(4 * i + 1) * plane] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
                out[(4 * i + 2) * plane] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
                out[(4 * i + 3) * plane] = t[i][2];
            }
        }
    }
}

MULTIVERSION
void fl_winograd_weight_gradient(float *du, long parts, long outChannels, long channels, float *dw, int accumulate,
                                 long first, long end) {
    const long plane = outChannels * channels;
    winograd_sum_parts(du, parts, 16, outChannels, channels, first, end);
    for (long o = first; o < end; o++) {
        CHANNEL_LOOP for (long c = 0; c < channels; c++) {
            float d[4][4];
            for (int x = 0; x < 16; x++) d[x / 4][x % 4] = du[x * plane + o * channels + c];
            float s[4][3];   /* dU G */
            for (int i = 0; i < 4; i++) {
                s[i][0] = d[i][0] + 0.5f * (d[i][1] + d[i][2]);
                s[i][1] = 0.5f * (d[i][1] - d[i][2]);
                s[i][2] = 0.5f * (d[i][1] + d[i][2]) + d[i][3];
            }
            float *g = dw + (o * channels + c) * 9;
            for (int b = 0; b < 3; b++) {   /* Gᵀ (dU G) */
                float row0 = s[0][b] + 0.5f * (s[1][b] + s[2][b]);
                float row1 = 0.5f * (s[1][b] - s[2][b]);
                float row2 = 0.5f * (s[1][b] + s[2][b]) + s[3][b];
                g[b] = accumulate ? g[b] + row0 : row0;
                g[3 + b] = accumulate ? g[3 + b] + row1 : row1;
                g[6 + b] = accumulate ? g[6 + b] + row2 : row2;
            }
        }
    }
}

/* Copies a plane into `rows` zero-padded rows (row r holds image row r − 1, column k image column k − 1),
   even columns into `even`, odd ones into `odd`, each row `half` long. */
INLINE void pad_and_split(const float *plane, long height, long width, long rows, long half, float *even, float *odd) {
    for (long r = 0; r < rows; r++) {
        float *restrict e = even + r * half, *restrict o = odd + r * half;
        if (r == 0 || r > height) {
            memset(e, 0, (size_t)half * sizeof(float));
            memset(o, 0, (size_t)half * sizeof(float));
            continue;
        }
        const float *restrict source = plane + (r - 1) * width;
        e[0] = 0;
        for (long j = 0; j < width / 2; j++) {
            o[j] = source[2 * j];
            e[j + 1] = source[2 * j + 1];
        }
        if (width & 1) o[width / 2] = source[width - 1];
        for (long j = (width + 1) / 2; j < half; j++) o[j] = 0;
        for (long j = width / 2 + 1; j < half; j++) e[j] = 0;
    }
}

/* row[k] = even[k/2] for even k, odd[k/2] for odd k, k < width. */
INLINE void interleave(float *restrict row, const float *restrict even, const float *restrict odd, long width) {
    for (long j = 0; j < width / 2; j++) {
        row[2 * j] = even[j];
        row[2 * j + 1] = odd[j];
    }
    if (width & 1) row[width - 1] = even[width / 2];
}

MULTIVERSION
void fl_winograd_input(const float *x, long images, long channels, long height, long width, float *v, long ld, float *scratch) {
    if (fl_winograd_input_avx512(x, images, channels, height, width, v, ld)) return;
    const long tilesHigh = (height + 1) / 2, tilesWide = (width + 1) / 2, tiles = tilesHigh * tilesWide;
    const long rows = 2 * tilesHigh + 2, half = tilesWide + 1, step = channels * ld;
    float *even = scratch, *odd = scratch + rows * half;
    for (long image = 0; image < images; image++) {
        for (long c = 0; c < channels; c++) {
            pad_and_split(x + (image * channels + c) * height * width, height, width, rows, half, even, odd);
            for (long ty = 0; ty < tilesHigh; ty++) {
                const float *e0 = even + 2 * ty * half, *e1 = e0 + half, *e2 = e1 + half, *e3 = e2 + half;
                const float *o0 = odd + 2 * ty * half, *o1 = o0 + half, *o2 = o1 + half, *o3 = o2 + half;
                float *restrict out = v + c * ld + image * tiles + ty * tilesWide;
                TILE_LOOP
                for (long j = 0; j < tilesWide; j++) {
                    /* Bᵀ d: rows 0…3 of the tile combined, for its four columns (even j, odd j, even j+1, odd j+1) */
                    float s[4][4] = {
                        {e0[j] - e2[j], o0[j] - o2[j], e0[j + 1] - e2[j + 1], o0[j + 1] - o2[j + 1]},
                        {e1[j] + e2[j], o1[j] + o2[j], e1[j + 1] + e2[j + 1], o1[j + 1] + o2[j + 1]},
                        {e2[j] - e1[j], o2[j] - o1[j], e2[j + 1] - e1[j + 1], o2[j + 1] - o1[j + 1]},
                        {e1[j] - e3[j], o1[j] - o3[j], e1[j + 1] - e3[j + 1], o1[j + 1] - o3[j + 1]},
                    };
                    for (int i = 0; i < 4; i++) {   /* (Bᵀ d) B */
                        out[(4 * i + 0) * step + j] = s[i][0] - s[i][2];
                        out[(4 * i + 1) * step + j] = s[i][1] + s[i][2];
                        out[(4 * i + 2) * step + j] = s[i][2] - s[i][1];
                        out[(4 * i + 3) * step + j] = s[i][1] - s[i][3];
                    }
                }
            }
        }
    }
}

MULTIVERSION
void fl_winograd_output(const float *m, long ld, long images, long outChannels, long height, long width,
                        const float *bias, float *y, float *scratch) {
    if (fl_winograd_output_avx512(m, ld, images, outChannels, height, width, bias, y)) return;
    const long tilesHigh = (height + 1) / 2, tilesWide = (width + 1) / 2, tiles = tilesHigh * tilesWide;
    const long step = outChannels * ld;
    float *y00 = scratch, *y01 = y00 + tilesWide, *y10 = y01 + tilesWide, *y11 = y10 + tilesWide;
    for (long image = 0; image < images; image++) {
        for (long o = 0; o < outChannels; o++) {
            const float b = bias ? bias[o] : 0.0f;
            float *plane = y + (image * outChannels + o) * height * width;
            for (long ty = 0; ty < tilesHigh; ty++) {
                const float *in = m + o * ld + image * tiles + ty * tilesWide;
                TILE_LOOP
                for (long j = 0; j < tilesWide; j++) {
                    float p[2][4];   /* Aᵀ M */
                    for (int k = 0; k < 4; k++) {
                        float m0 = in[k * step + j], m1 = in[(4 + k) * step + j];
                        float m2 = in[(8 + k) * step + j], m3 = in[(12 + k) * step + j];
                        p[0][k] = m0 + m1 + m2;
                        p[1][k] = m1 - m2 - m3;
                    }
                    y00[j] = p[0][0] + p[0][1] + p[0][2] + b;   /* (Aᵀ M) A */
                    y01[j] = p[0][1] - p[0][2] - p[0][3] + b;
                    y10[j] = p[1][0] + p[1][1] + p[1][2] + b;
                    y11[j] = p[1][1] - p[1][2] - p[1][3] + b;
                }
                float *top = plane + 2 * ty * width;
                interleave(top, y00, y01, width);
                if (2 * ty + 1 < height) interleave(top + width, y10, y11, width);
            }
        }
    }
}

MULTIVERSION
void fl_winograd_output_gradient(const float *dy, long images, long outChannels, long height, long width,
                                 float *dz, long ld, float *scratch) {
    if (fl_winograd_output_gradient_avx512(dy, images, outChannels, height, width, dz, ld)) return;
    const long tilesHigh = (height + 1) / 2, tilesWide = (width + 1) / 2, tiles = tilesHigh * tilesWide;
    const long step = outChannels * ld;
    float *even = scratch, *odd = scratch + 2 * tilesHigh * tilesWide;
    for (long image = 0; image < images; image++) {
        for (long o = 0; o < outChannels; o++) {
            /* The plane with even and odd columns apart, zero past its last row and column. */
            const float *plane = dy + (image * outChannels + o) * height * width;
            for (long r = 0; r < 2 * tilesHigh; r++) {
                float *restrict e = even + r * tilesWide, *restrict o = odd + r * tilesWide;
                if (r >= height) {
                    memset(e, 0, (size_t)tilesWide * sizeof(float));
                    memset(o, 0, (size_t)tilesWide * sizeof(float));
                    continue;
                }
                const float *restrict source = plane + r * width;
                for (long j = 0; j < width / 2; j++) {
                    e[j] = source[2 * j];
                    o[j] = source[2 * j + 1];
                }
                if (width & 1) {
                    e[width / 2] = source[width - 1];
                    o[width / 2] = 0;
                }
            }
            for (long ty = 0; ty < tilesHigh; ty++) {
                const float *e0 = even + 2 * ty * tilesWide, *e1 = e0 + tilesWide;
                const float *o0 = odd + 2 * ty * tilesWide, *o1 = o0 + tilesWide;
                float *restrict out = dz + o * ld + image * tiles + ty * tilesWide;
                TILE_LOOP
                for (long j = 0; j < tilesWide; j++) {
                    float q[4][2] = {   /* A dY */
                        {e0[j], o0[j]},
                        {e0[j] + e1[j], o0[j] + o1[j]},
                        {e0[j] - e1[j], o0[j] - o1[j]},
                        {-e1[j], -o1[j]},
                    };
                    for (int i = 0; i < 4; i++) {   /* (A dY) Aᵀ */
                        out[(4 * i + 0) * step + j] = q[i][0];
                        out[(4 * i + 1) * step + j] = q[i][0] + q[i][1];
                        out[(4 * i + 2) * step + j] = q[i][0] - q[i][1];
                        out[(4 * i + 3) * step + j] = -q[i][1];
                    }
                }
            }
        }
    }
}

MULTIVERSION
void fl_winograd_input_gradient(const float *dv, long ld, long images, long channels, long height, long width,
                                float *dx, float *scratch) {
    if (fl_winograd_input_gradient_avx512(dv, ld, images, channels, height, width, dx)) return;
    const long tilesHigh = (height + 1) / 2, tilesWide = (width + 1) / 2, tiles = tilesHigh * tilesWide;
    const long rows = 2 * tilesHigh + 2, half = tilesWide + 1, step = channels * ld;
    float *even = scratch, *odd = even + rows * half;
    float *carry = odd + rows * half;   /* [4 rows][even, odd][tilesWide]: what tile j adds to columns 2j+2, 2j+3 */
    for (long image = 0; image < images; image++) {
        for (long c = 0; c < channels; c++) {
            memset(even, 0, (size_t)(2 * rows * half) * sizeof(float));
            for (long ty = 0; ty < tilesHigh; ty++) {
                const float *in = dv + c * ld + image * tiles + ty * tilesWide;
                float *e = even + 2 * ty * half, *o = odd + 2 * ty * half;
                TILE_LOOP
                for (long j = 0; j < tilesWide; j++) {
                    float d[4][4];
                    for (int x = 0; x < 16; x++) d[x / 4][x % 4] = in[x * step + j];
                    float r[4][4];   /* B dV: the patch's rows */
                    for (int k = 0; k < 4; k++) {
                        r[0][k] = d[0][k];
                        r[1][k] = d[1][k] - d[2][k] + d[3][k];
                        r[2][k] = -d[0][k] + d[1][k] + d[2][k];
                        r[3][k] = -d[3][k];
                    }
                    for (int row = 0; row < 4; row++) {   /* (B dV) Bᵀ, added into the patch's columns */
                        e[row * half + j] += r[row][0];
                        o[row * half + j] += r[row][1] - r[row][2] + r[row][3];
                        carry[(2 * row) * tilesWide + j] = -r[row][0] + r[row][1] + r[row][2];
                        carry[(2 * row + 1) * tilesWide + j] = -r[row][3];
                    }
                }
                for (int row = 0; row < 4; row++) {
                    TILE_LOOP
                    for (long j = 0; j < tilesWide; j++) {
                        e[row * half + j + 1] += carry[(2 * row) * tilesWide + j];
                        o[row * half + j + 1] += carry[(2 * row + 1) * tilesWide + j];
                    }
                }
            }
            /* dx[r][k] is padded position (r + 1, k + 1): odd column k/2 for even k, even column (k+1)/2 for odd k. */
            float *plane = dx + (image * channels + c) * height * width;
            for (long r = 0; r < height; r++) interleave(plane + r * width, odd + (r + 1) * half, even + (r + 1) * half + 1, width);
        }
    }
}
