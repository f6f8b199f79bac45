/* dst = srcᵀ for a rows × columns matrix: dst[j·ld_dst + i] = src[i·ld_src + j]. The Winograd convolution's
   weight gradient turns each V[ξ] [C, tiles] into [tiles, C] with it, so that dU = dZ·V[ξ]ᵀ runs in the GEMM's
   broadcast form (which reaches 85–94% of the peak there, against the dot form's 72%, at a few percent of the
   GEMM's time for the transpose). With AVX-512, 16 × 16 blocks are transposed in registers. */
#include "CKernels.h"

static void transpose_portable(const float *src, long rows, long columns, long ld_src, float *dst, long ld_dst) {
    for (long i = 0; i < rows; i++)
        for (long j = 0; j < columns; j++) dst[j * ld_dst + i] = src[i * ld_src + j];
}

#if defined(__x86_64__)
#include "avx512.h"

AVX512 __m512 low_pairs(__m512 a, __m512 b) {
    return _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)));
}
AVX512 __m512 high_pairs(__m512 a, __m512 b) {
    return _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)));
}

/* Up to 16 rows × 16 columns from `src` into 16 columns × rows of `dst`; missing rows read as zeros and
   are not stored. Four rounds of shuffles: lanes of row pairs, then pairs of lanes, then 128-bit quarters twice. */
AVX512 void transpose_block(const float *src, long rows, long columns, long ld_src, float *dst, long ld_dst) {
    __mmask16 columns_mask = tail_mask(columns), rows_mask = tail_mask(rows);
    __m512 r[16], t[16];
    UNROLL for (int i = 0; i < 16; i++) r[i] = i < rows ? _mm512_maskz_loadu_ps(columns_mask, src + i * ld_src) : _mm512_setzero_ps();
    UNROLL for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    UNROLL for (int i = 0; i < 16; i += 4) {
        r[i] = low_pairs(t[i], t[i + 2]);
        r[i + 1] = high_pairs(t[i], t[i + 2]);
        r[i + 2] = low_pairs(t[i + 1], t[i + 3]);
        r[i + 3] = high_pairs(t[i + 1], t[i + 3]);
    }
    /* r[4q + j] now holds, in each 128-bit quarter l, column 4l + j of rows 4q … 4q + 3. */
    UNROLL for (int i = 0; i < 16; i += 8)
        UNROLL for (int j = 0; j < 4; j++) {
            t[i + j] = _mm512_shuffle_f32x4(r[i + j], r[i + 4 + j], 0x88);
            t[i + 4 + j] = _mm512_shuffle_f32x4(r[i + j], r[i + 4 + j], 0xDD);
        }
    UNROLL for (int j = 0; j < 4; j++) {
        r[j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88);
        r[8 + j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0xDD);
        r[4 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0x88);
        r[12 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0xDD);
    }
    UNROLL for (int j = 0; j < 16; j++)
        if (j < columns) _mm512_mask_storeu_ps(dst + j * ld_dst, rows_mask, r[j]);
}

AVX512_FUNCTION
static void transpose_avx512(const float *src, long rows, long columns, long ld_src, float *dst, long ld_dst) {
    for (long i = 0; i < rows; i += 16)
        for (long j = 0; j < columns; j += 16)
            transpose_block(src + i * ld_src + j, rows - i, columns - j, ld_src, dst + j * ld_dst + i, ld_dst);
}
#endif

void fl_transpose(const float *src, long rows, long columns, long ld_src, float *dst, long ld_dst) {
#if defined(__x86_64__)
    if (fl_gemm_available()) {
        transpose_avx512(src, rows, columns, ld_src, dst, ld_dst);
        return;
    }
#endif
    transpose_portable(src, rows, columns, ld_src, dst, ld_dst);
}
