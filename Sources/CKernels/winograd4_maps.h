#ifndef FASHIONLAB_WINOGRAD4_MAPS_H
#define FASHIONLAB_WINOGRAD4_MAPS_H

/* The 1-D maps of Winograd F(4×4, 3×3) (winograd4.c has the matrices), applied to the rows and then the columns
   of a tile. Macros, so that one formula serves plain floats (winograd4.c) and vectors of them
   (winograd4_avx512.c, where each lane is a tile): the arguments are arrays of either. */

/* s = Bᵀ d: six transformed values from a column (or row) of six inputs. */
#define W4_INPUT_MAP(d, s) do {                                  \
        (s)[0] = 4.0f * (d)[0] - 5.0f * (d)[2] + (d)[4];         \
        (s)[1] = ((d)[3] + (d)[4]) - 4.0f * ((d)[1] + (d)[2]);   \
        (s)[2] = ((d)[4] - (d)[3]) + 4.0f * ((d)[1] - (d)[2]);   \
        (s)[3] = ((d)[4] - (d)[2]) + 2.0f * ((d)[3] - (d)[1]);   \
        (s)[4] = ((d)[4] - (d)[2]) - 2.0f * ((d)[3] - (d)[1]);   \
        (s)[5] = 4.0f * (d)[1] - 5.0f * (d)[3] + (d)[5];         \
    } while (0)

/* d = B s, the adjoint of W4_INPUT_MAP. */
#define W4_INPUT_ADJOINT(s, d) do {                                                 \
        (d)[0] = 4.0f * (s)[0];                                                     \
        (d)[1] = 4.0f * ((s)[2] - (s)[1] + (s)[5]) + 2.0f * ((s)[4] - (s)[3]);      \
        (d)[2] = -5.0f * (s)[0] - 4.0f * ((s)[1] + (s)[2]) - ((s)[3] + (s)[4]);     \
        (d)[3] = ((s)[1] - (s)[2]) + 2.0f * ((s)[3] - (s)[4]) - 5.0f * (s)[5];      \
        (d)[4] = (s)[0] + (s)[1] + (s)[2] + (s)[3] + (s)[4];                        \
        (d)[5] = (s)[5];                                                            \
    } while (0)

/* y = Aᵀ m: four outputs from six transformed values. */
#define W4_OUTPUT_MAP(m, y) do {                                              \
        const __typeof__((m)[0]) sum12_ = (m)[1] + (m)[2], difference12_ = (m)[1] - (m)[2]; \
        const __typeof__((m)[0]) sum34_ = (m)[3] + (m)[4], difference34_ = (m)[3] - (m)[4]; \
        (y)[0] = (m)[0] + sum12_ + sum34_;                                    \
        (y)[1] = difference12_ + 2.0f * difference34_;                        \
        (y)[2] = sum12_ + 4.0f * sum34_;                                      \
        (y)[3] = difference12_ + 8.0f * difference34_ + (m)[5];               \
    } while (0)

/* m = A y, the adjoint of W4_OUTPUT_MAP. */
#define W4_OUTPUT_ADJOINT(y, m) do {                                                  \
        const __typeof__((y)[0]) even_ = (y)[0] + (y)[2], odd_ = (y)[1] + (y)[3];     \
        const __typeof__((y)[0]) evenByPowers_ = (y)[0] + 4.0f * (y)[2];              \
        const __typeof__((y)[0]) oddByPowers_ = 2.0f * (y)[1] + 8.0f * (y)[3];        \
        (m)[0] = (y)[0];                                                              \
        (m)[1] = even_ + odd_;                                                        \
        (m)[2] = even_ - odd_;                                                        \
        (m)[3] = evenByPowers_ + oddByPowers_;                                        \
        (m)[4] = evenByPowers_ - oddByPowers_;                                        \
        (m)[5] = (y)[3];                                                              \
    } while (0)

#endif
