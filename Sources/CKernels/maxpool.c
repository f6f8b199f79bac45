/* 2×2 max pooling with stride 2 (PyTorch's MaxPool2d(2), floor mode). In each window the values are taken
   in reading order (top left, top right, bottom left, bottom right) and a later one wins when it is greater
   or NaN, as in PyTorch: ties go to the first, a NaN always propagates, and of two NaNs the later one is
   recorded. Both versions below follow that rule value for value and index for index. */
#include "CKernels.h"
#include "multiversion.h"

MULTIVERSION
static void maxpool2_portable(const float *restrict x, long planes, long height, long width, float *restrict y,
                              int32_t *restrict argmax, long index_base) {
    long out_h = height / 2, out_w = width / 2;
    for (long p = 0; p < planes; p++) {
        const float *source = x + p * height * width;
        for (long oy = 0; oy < out_h; oy++) {
            const float *top = source + (2 * oy) * width, *bottom = top + width;
            float *out = y + (p * out_h + oy) * out_w;
            int32_t *index = argmax + (p * out_h + oy) * out_w;
            for (long ox = 0; ox < out_w; ox++) {
                long i = 2 * ox;
                long best = (2 * oy) * width + i;
                float value = top[i];
                if (top[i + 1] > value || top[i + 1] != top[i + 1]) { value = top[i + 1]; best = (2 * oy) * width + i + 1; }
                if (bottom[i] > value || bottom[i] != bottom[i]) { value = bottom[i]; best = (2 * oy + 1) * width + i; }
                if (bottom[i + 1] > value || bottom[i + 1] != bottom[i + 1]) { value = bottom[i + 1]; best = (2 * oy + 1) * width + i + 1; }
                out[ox] = value;
                index[ox] = (int32_t)(index_base + p * height * width + best);
            }
        }
    }
}

#if defined(__x86_64__)
#include "avx512.h"

/* Where `candidate` is greater than `value` or NaN, it and its index replace them. */
AVX512 void take_if_greater(__m512 *value, __m512i *index, __m512 candidate, __m512i candidate_index) {
    __mmask16 take = _mm512_cmp_ps_mask(candidate, *value, _CMP_GT_OQ) | _mm512_cmp_ps_mask(candidate, candidate, _CMP_UNORD_Q);
    *value = _mm512_mask_mov_ps(*value, take, candidate);
    *index = _mm512_mask_mov_epi32(*index, take, candidate_index);
}

/* 16 windows at a time: 32 columns of a pair of rows in four registers, the windows' left and right columns
   picked out of each row by a two-register permute. */
AVX512_FUNCTION
static void maxpool2_avx512(const float *x, long planes, long height, long width, float *y, int32_t *argmax, long index_base) {
    const __m512i even = every_other_column(0), odd = every_other_column(1);
    const __m512i one = _mm512_set1_epi32(1), down = _mm512_set1_epi32((int)width);
    long out_h = height / 2, out_w = width / 2;
    for (long p = 0; p < planes; p++) {
        for (long oy = 0; oy < out_h; oy++) {
            const float *top = x + p * height * width + (2 * oy) * width, *bottom = top + width;
            float *out = y + (p * out_h + oy) * out_w;
            int32_t *index = argmax + (p * out_h + oy) * out_w;
            for (long ox = 0; ox < out_w; ox += 16) {
                long windows = out_w - ox < 16 ? out_w - ox : 16;
                __mmask16 low = tail_mask(2 * windows), high = tail_mask(2 * windows - 16);
                __m512 top_lo = _mm512_maskz_loadu_ps(low, top + 2 * ox), top_hi = _mm512_maskz_loadu_ps(high, top + 2 * ox + 16);
                __m512 bottom_lo = _mm512_maskz_loadu_ps(low, bottom + 2 * ox), bottom_hi = _mm512_maskz_loadu_ps(high, bottom + 2 * ox + 16);
                /* The index of each window's top-left value: index_base + p·H·W + 2·oy·W + 2·(ox + lane). */
                __m512i top_left = _mm512_add_epi32(_mm512_set1_epi32((int32_t)(index_base + p * height * width + (2 * oy) * width + 2 * ox)), even);
                __m512 value = _mm512_permutex2var_ps(top_lo, even, top_hi);
                __m512i best = top_left;
                take_if_greater(&value, &best, _mm512_permutex2var_ps(top_lo, odd, top_hi), _mm512_add_epi32(top_left, one));
                __m512i bottom_left = _mm512_add_epi32(top_left, down);
                take_if_greater(&value, &best, _mm512_permutex2var_ps(bottom_lo, even, bottom_hi), bottom_left);
                take_if_greater(&value, &best, _mm512_permutex2var_ps(bottom_lo, odd, bottom_hi), _mm512_add_epi32(bottom_left, one));
                __mmask16 mask = tail_mask(windows);
                _mm512_mask_storeu_ps(out + ox, mask, value);
                _mm512_mask_storeu_epi32(index + ox, mask, best);
            }
        }
    }
}
#endif

void fl_maxpool2(const float *x, long planes, long height, long width, float *y, int32_t *argmax, long index_base) {
#if defined(__x86_64__)
    if (fl_gemm_available()) {
        maxpool2_avx512(x, planes, height, width, y, argmax, index_base);
        return;
    }
#endif
    maxpool2_portable(x, planes, height, width, y, argmax, index_base);
}
