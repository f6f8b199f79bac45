#ifndef FASHIONLAB_AVX512_H
#define FASHIONLAB_AVX512_H

/* What the AVX-512 kernels share (gemm.c, winograd_avx512.c, maxpool.c, transpose.c): the attribute that compiles a helper for
   AVX-512 and inlines it into its caller, lane masks and the permute that picks every other column. Only included on x86-64. */
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f"), always_inline)) static inline
/* For functions called from portable code, which check fl_gemm_available() first. */
#define AVX512_FUNCTION __attribute__((target("avx512f")))

/* For loops over registers with constant bounds: unrolled whole, the values live in registers (at -O2,
   SwiftPM's release setting, clang otherwise kept some on the stack). */
#define UNROLL _Pragma("clang loop unroll(full)")

/* Lane j holds column first + 2j of a 32-column row held as (lo, hi) (_mm512_permutex2var_ps indices). */
AVX512 __m512i every_other_column(int first) {
    return _mm512_add_epi32(_mm512_set1_epi32(first), _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0));
}

/* The first `remaining` of 16 lanes (none when it is 0 or less). */
AVX512 __mmask16 tail_mask(long remaining) {
    if (remaining <= 0) return 0;
    return remaining >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << remaining) - 1u);
}

#endif
