#ifndef FASHIONLAB_WINOGRAD4_AVX512_H
#define FASHIONLAB_WINOGRAD4_AVX512_H

/* winograd4.c's transforms with AVX-512 (winograd4_avx512.c), with the arguments of the portable ones. Each
   returns 1 when it ran: on a CPU with AVX-512 (F and VL), for planes at most 28 columns wide; else 0 and the
   caller runs its own loop. */
int fl_winograd4_input_avx512(const float *x, long images, long channels, long height, long width, float *v, long ld);
int fl_winograd4_output_avx512(const float *m, long ld, long images, long outChannels, long height, long width,
                               const float *bias, float *y);
int fl_winograd4_output_gradient_avx512(const float *dy, long images, long outChannels, long height, long width, float *dz, long ld);
int fl_winograd4_input_gradient_avx512(const float *dv, long ld, long images, long channels, long height, long width, float *dx);

#endif
