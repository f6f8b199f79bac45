#ifndef FASHIONLAB_WINOGRAD_COMMON_H
#define FASHIONLAB_WINOGRAD_COMMON_H

/* What the two Winograd variants (winograd.c, F(2×2, 3×3); winograd4.c, F(4×4, 3×3)) share. */
#include <string.h>

#define INLINE static inline __attribute__((always_inline))

/* The loops along a row of tiles are short (14, 7 or 4 tiles in the CNNs) and read and write many
   buffers the compiler cannot prove apart (they never overlap): vectorise them with masked tails. */
#if defined(__clang__)
#define TILE_LOOP _Pragma("clang loop vectorize(assume_safety) vectorize_width(8) vectorize_predicate(enable)")
/* The weights' transforms, one channel pair per iteration, across 16 channels at a time (their 3×3 kernels
   lie 9 floats apart: the vector loads and stores are strided). */
#define CHANNEL_LOOP _Pragma("clang loop vectorize(assume_safety) vectorize_width(16)")
#else
#define TILE_LOOP
#define CHANNEL_LOOP
#endif

/* The weight gradient's partial sums du [parts, points, O, C] (one part per thread) added into the first
   part, in order, as contiguous rows, for output channels [first, end). */
INLINE void winograd_sum_parts(float *du, long parts, long points, long outChannels, long channels, long first, long end) {
    const long plane = outChannels * channels, offset = first * channels, count = (end - first) * channels;
    for (long p = 1; p < parts; p++)
        for (long x = 0; x < points; x++) {
            float *sum = du + x * plane + offset;
            const float *part = du + (p * points + x) * plane + offset;
            for (long i = 0; i < count; i++) sum[i] += part[i];
        }
}

#endif
