#ifndef FASHIONLAB_AVX512_H
#define FASHIONLAB_AVX512_H

/* What the AVX-512 kernels share (gemm.c, winograd_avx512.c): the attribute that compiles a helper for
   AVX-512 and inlines it into its caller, and lane masks. Only included on x86-64. */
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f"), always_inline)) static inline
/* For functions called from portable code, which check fl_gemm_available() first. */
#define AVX512_FUNCTION __attribute__((target("avx512f")))

/* The first `remaining` of 16 lanes (none when it is 0 or less). */
AVX512 __mmask16 tail_mask(long remaining) {
    if (remaining <= 0) return 0;
    return remaining >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << remaining) - 1u);
}

#endif
