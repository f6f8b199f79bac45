#ifndef FASHIONLAB_AVX512_H
#define FASHIONLAB_AVX512_H

/* What the AVX-512 kernels share (gemm.c, winograd_avx512.c, maxpool.c, transpose.c): the attribute that compiles a helper for
   AVX-512 and inlines it into its caller, lane masks, a row of up to 32 columns in two registers and the permutes that pick
   columns out of it. Only included on x86-64. */
#include <immintrin.h>
#include "multiversion.h"

#define AVX512 __attribute__((target("avx512f"), always_inline)) static inline
/* For functions called from portable code, which check fl_gemm_available() first. */
#define AVX512_FUNCTION __attribute__((target("avx512f")))

/* Lane j holds column first + 2j of a 32-column row held as (lo, hi) (_mm512_permutex2var_ps indices). */
AVX512 __m512i every_other_column(int first) {
    return _mm512_add_epi32(_mm512_set1_epi32(first), _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0));
}

/* The first `remaining` of 16 lanes (none when it is 0 or less). */
AVX512 __mmask16 tail_mask(long remaining) {
    if (remaining <= 0) return 0;
    return remaining >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << remaining) - 1u);
}

/* Lane j of the result is column columns[j] of a 32-column row held as (lo, hi). */
AVX512 __m512 pick(__m512 lo, __m512i columns, __m512 hi) { return _mm512_permutex2var_ps(lo, columns, hi); }

/* Columns 0–15 and 16–31 of a row of `width` (≤ 32 − shift) values, zero past its end, shifted right by `shift` (0 or 1:
   with 1, column k holds value k − 1 and column 0 is the zero padding). */
AVX512 void load_row(const float *row, long width, int shift, __m512 *lo, __m512 *hi) {
    *lo = _mm512_maskz_loadu_ps((__mmask16)(tail_mask(width + shift) & ~tail_mask(shift)), row - shift);
    *hi = _mm512_maskz_loadu_ps(tail_mask(width + shift - 16), row + 16 - shift);
}

#endif
