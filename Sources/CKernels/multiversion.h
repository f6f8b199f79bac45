#ifndef FASHIONLAB_MULTIVERSION_H
#define FASHIONLAB_MULTIVERSION_H

/* Loops marked MULTIVERSION are compiled for AVX-512, AVX2+FMA and baseline x86-64; the loader picks
   the best for the CPU at run time (elsewhere: the platform's default only). */
#if defined(__x86_64__) && defined(__ELF__)
#define MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define MULTIVERSION
#endif

/* For loops with constant bounds: unrolled whole, so that their values live in registers (at -O2, SwiftPM's
   release setting, clang otherwise kept some on the stack) and the loop around them can be vectorised. */
#define UNROLL _Pragma("clang loop unroll(full)")

#endif
