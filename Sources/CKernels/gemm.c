/* The project's own GEMM for the skinny shapes of MLP training (batch 32 against 784×1000 weights),
   with AVX-512. Two register-tiled micro-kernels, no packing:

   - broadcast form, C = α·A·B + β·C: each step broadcasts MR elements of a column of A and multiplies
     them with NV vectors of a row of B (row-major). A is read through two strides, so the same kernel
     serves A·B (dx = dout·W) and Aᵀ·B (dW = doutᵀ·x) without transposing anything.
   - dot form, C = α·A·Bᵀ + β·C: MR rows of A against NR rows of B, 16 lanes of the shared dimension
     at a time, reduced at the end (the forward pass, x·Wᵀ with W stored [out, in] as PyTorch does).

   Callers split the rows of C over threads. Only built for x86-64; fl_gemm_available() says whether
   the CPU runs it (elsewhere, and without AVX-512, FashionLab uses the BLAS). */
#include "CKernels.h"

#if defined(__x86_64__)
#include "avx512.h"

int fl_gemm_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

/* Stores α·acc (+ β·C) into 16 lanes of C under a mask. */
AVX512 void store_lanes(float *c, __m512 acc, float alpha, float beta, __mmask16 mask) {
    __m512 value = _mm512_mul_ps(acc, _mm512_set1_ps(alpha));
    if (beta != 0.0f) value = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, c), _mm512_set1_ps(beta), value);
    _mm512_mask_storeu_ps(c, mask, value);
}

/* Broadcast tile: MR rows × NV vectors (up to 64 columns) of C; `columns` ≤ 16·NV of them are real. */
AVX512 void broadcast_tile(const int MR, const int NV, long K, float alpha, const float *a, long sam, long sak,
                           const float *b, long ldb, float beta, float *c, long ldc, long columns) {
    __m512 acc[6][4];
    __mmask16 mask[4];
    UNROLL for (int v = 0; v < NV; v++) mask[v] = tail_mask(columns - 16 * v);
    UNROLL for (int r = 0; r < MR; r++) UNROLL for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_ps();
    for (long k = 0; k < K; k++) {
        const float *row = b + k * ldb;
        __m512 bv[4];
        UNROLL for (int v = 0; v < NV; v++) bv[v] = _mm512_maskz_loadu_ps(mask[v], row + 16 * v);
        UNROLL for (int r = 0; r < MR; r++) {
            __m512 av = _mm512_set1_ps(a[r * sam + k * sak]);
            UNROLL for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
        }
    }
    UNROLL for (int r = 0; r < MR; r++)
        UNROLL for (int v = 0; v < NV; v++) store_lanes(c + r * ldc + 16 * v, acc[r][v], alpha, beta, mask[v]);
}

/* All M rows of C against one block of NV vectors of columns: tiles of 6 rows, then the rest. */
AVX512 void broadcast_rows(const int NV, long M, long K, float alpha, const float *A, long sam, long sak,
                           const float *b, long ldb, float beta, float *c, long ldc, long columns) {
    long i = 0;
    for (; i + 6 <= M; i += 6)
        broadcast_tile(6, NV, K, alpha, A + i * sam, sam, sak, b, ldb, beta, c + i * ldc, ldc, columns);
    const float *a = A + i * sam;
    c += i * ldc;
    switch (M - i) {
    case 5: broadcast_tile(5, NV, K, alpha, a, sam, sak, b, ldb, beta, c, ldc, columns); break;
    case 4: broadcast_tile(4, NV, K, alpha, a, sam, sak, b, ldb, beta, c, ldc, columns); break;
    case 3: broadcast_tile(3, NV, K, alpha, a, sam, sak, b, ldb, beta, c, ldc, columns); break;
    case 2: broadcast_tile(2, NV, K, alpha, a, sam, sak, b, ldb, beta, c, ldc, columns); break;
    case 1: broadcast_tile(1, NV, K, alpha, a, sam, sak, b, ldb, beta, c, ldc, columns); break;
    default: break;
    }
}

/* One tile of MR rows of C against one block of up to 64 of its columns. */
AVX512 void broadcast_block(const int MR, long K, float alpha, const float *a, long sam, long sak,
                            const float *b, long ldb, float beta, float *c, long ldc, long columns) {
    switch ((columns + 15) / 16) {
    case 4: broadcast_tile(MR, 4, K, alpha, a, sam, sak, b, ldb, beta, c, ldc, columns); break;
    case 3: broadcast_tile(MR, 3, K, alpha, a, sam, sak, b, ldb, beta, c, ldc, columns); break;
    case 2: broadcast_tile(MR, 2, K, alpha, a, sam, sak, b, ldb, beta, c, ldc, columns); break;
    default: broadcast_tile(MR, 1, K, alpha, a, sam, sak, b, ldb, beta, c, ldc, columns); break;
    }
}

/* MR rows of C, all their columns left to right. */
AVX512 void broadcast_row_tile(const int MR, long N, long K, float alpha, const float *a, long sam, long sak,
                               const float *b, long ldb, float beta, float *c, long ldc) {
    long j = 0;
    /* Whole blocks with the column count a constant: the compiler drops the masks. */
    for (; j + 64 <= N; j += 64) broadcast_tile(MR, 4, K, alpha, a, sam, sak, b + j, ldb, beta, c + j, ldc, 64);
    if (j < N) broadcast_block(MR, K, alpha, a, sam, sak, b + j, ldb, beta, c + j, ldc, N - j);
}

__attribute__((target("avx512f")))
void fl_gemm_broadcast(long M, long N, long K, float alpha, const float *A, long sam, long sak,
                       const float *B, long ldb, float beta, float *C, long ldc) {
    /* Blocks of 256 along K; the first block applies beta, the others accumulate. */
    for (long k0 = 0; k0 < K; k0 += 256) {
        long depth = K - k0 < 256 ? K - k0 : 256;
        float blockBeta = k0 == 0 ? beta : 1.0f;
        const float *Ak = A + k0 * sak, *Bk = B + k0 * ldb;
        if (depth * N <= 64 * 1024) {
            /* B's block fits in L2 whole (the weight gradient's, 32 images × 784 pixels): C is walked row by
               row, so it streams from memory in order, the way the hardware prefetcher follows it (column
               block by column block, every row of the tile started a new page: a fifth slower on its own). */
            long i = 0;
            for (; i + 6 <= M; i += 6)
                broadcast_row_tile(6, N, depth, alpha, Ak + i * sam, sam, sak, Bk, ldb, blockBeta, C + i * ldc, ldc);
            const float *a = Ak + i * sam;
            float *c = C + i * ldc;
            switch (M - i) {
            case 5: broadcast_row_tile(5, N, depth, alpha, a, sam, sak, Bk, ldb, blockBeta, c, ldc); break;
            case 4: broadcast_row_tile(4, N, depth, alpha, a, sam, sak, Bk, ldb, blockBeta, c, ldc); break;
            case 3: broadcast_row_tile(3, N, depth, alpha, a, sam, sak, Bk, ldb, blockBeta, c, ldc); break;
            case 2: broadcast_row_tile(2, N, depth, alpha, a, sam, sak, Bk, ldb, blockBeta, c, ldc); break;
            case 1: broadcast_row_tile(1, N, depth, alpha, a, sam, sak, Bk, ldb, blockBeta, c, ldc); break;
            default: break;
            }
            continue;
        }
        /* Otherwise a 256×64 panel of B stays in L2 while the rows of A pass over it. */
        for (long j = 0; j < N; j += 64) {
            long columns = N - j < 64 ? N - j : 64;
            switch ((columns + 15) / 16) {
            case 4: broadcast_rows(4, M, depth, alpha, Ak, sam, sak, Bk + j, ldb, blockBeta, C + j, ldc, columns); break;
            case 3: broadcast_rows(3, M, depth, alpha, Ak, sam, sak, Bk + j, ldb, blockBeta, C + j, ldc, columns); break;
            case 2: broadcast_rows(2, M, depth, alpha, Ak, sam, sak, Bk + j, ldb, blockBeta, C + j, ldc, columns); break;
            default: broadcast_rows(1, M, depth, alpha, Ak, sam, sak, Bk + j, ldb, blockBeta, C + j, ldc, columns); break;
            }
        }
    }
}

/* The sums of the 16 lanes of eight vectors at once, added in the same pairs as _mm512_reduce_add_ps
   (lanes i and i + 8, then i + 4, i + 2, i + 1), so each is bit for bit what it would return (a NaN's sign and
   payload aside, which no order of operands fixes); the sum of
   v[k] lands in lane 4k, that of v[k + 4] in lane 4k + 1. 24 shuffles and adds instead of 64. */
AVX512 __m512 pair_halves(__m512 x, __m512 y) {          /* [x(i) + x(i+8), y(i) + y(i+8)] */
    return _mm512_add_ps(_mm512_shuffle_f32x4(x, y, 0x44), _mm512_shuffle_f32x4(x, y, 0xEE));
}
AVX512 __m512 pair_quarters(__m512 x, __m512 y) {        /* then lanes i and i + 4 of each half */
    return _mm512_add_ps(_mm512_shuffle_f32x4(x, y, 0x88), _mm512_shuffle_f32x4(x, y, 0xDD));
}
AVX512 __m512 reduce_eight(__m512 v0, __m512 v1, __m512 v2, __m512 v3, __m512 v4, __m512 v5, __m512 v6, __m512 v7) {
    __m512 low = pair_quarters(pair_halves(v0, v1), pair_halves(v2, v3));    /* 128-bit chunk k: v[k]'s 4 partial sums */
    __m512 high = pair_quarters(pair_halves(v4, v5), pair_halves(v6, v7));
    __m512 w = _mm512_add_ps(_mm512_shuffle_ps(low, high, 0x44), _mm512_shuffle_ps(low, high, 0xEE));   /* i and i + 2 */
    return _mm512_add_ps(_mm512_shuffle_ps(w, w, 0x88), _mm512_shuffle_ps(w, w, 0xDD));               /* i and i + 1 */
}

/* Dot tile: MR ≤ 8 rows of A against NR ≤ 3 rows of B. Eight rows of A stay in L1 while the rows of B stream
   past from L2, three vectors of B for every 24 FMAs (4 rows × 6 read twice as much of B, and L2 could not
   keep up). Each element of C is the same 16-lane sum, reduced the same way, whatever the tile. */
AVX512 void dot_tile(const int MR, const int NR, long K, float alpha, const float *a, long lda,
                     const float *b, long ldb, float beta, float *c, long ldc) {
    __m512 acc[8][3];
    UNROLL for (int r = 0; r < MR; r++) UNROLL for (int n = 0; n < NR; n++) acc[r][n] = _mm512_setzero_ps();
    long k = 0;
    for (; k + 16 <= K; k += 16) {
        __m512 bv[3];
        UNROLL for (int n = 0; n < NR; n++) bv[n] = _mm512_loadu_ps(b + n * ldb + k);
        UNROLL for (int r = 0; r < MR; r++) {
            __m512 av = _mm512_loadu_ps(a + r * lda + k);
            UNROLL for (int n = 0; n < NR; n++) acc[r][n] = _mm512_fmadd_ps(av, bv[n], acc[r][n]);
        }
    }
    if (k < K) {
        __mmask16 mask = tail_mask(K - k);
        __m512 bv[3];
        UNROLL for (int n = 0; n < NR; n++) bv[n] = _mm512_maskz_loadu_ps(mask, b + n * ldb + k);
        UNROLL for (int r = 0; r < MR; r++) {
            __m512 av = _mm512_maskz_loadu_ps(mask, a + r * lda + k);
            UNROLL for (int n = 0; n < NR; n++) acc[r][n] = _mm512_fmadd_ps(av, bv[n], acc[r][n]);
        }
    }
    if (MR == 8) {   /* a whole tile: each column's eight sums at once */
        UNROLL for (int n = 0; n < NR; n++) {
            float sums[16];
            _mm512_storeu_ps(sums, _mm512_mul_ps(_mm512_set1_ps(alpha), reduce_eight(acc[0][n], acc[1][n], acc[2][n], acc[3][n],
                                                                                     acc[4][n], acc[5][n], acc[6][n], acc[7][n])));
            UNROLL for (int r = 0; r < 8; r++) {
                float value = sums[4 * (r % 4) + r / 4];
                float *out = c + r * ldc + n;
                *out = beta == 0.0f ? value : value + beta * *out;
            }
        }
        return;
    }
    UNROLL for (int r = 0; r < MR; r++)
        UNROLL for (int n = 0; n < NR; n++) {
            float value = alpha * _mm512_reduce_add_ps(acc[r][n]);
            float *out = c + r * ldc + n;
            *out = beta == 0.0f ? value : value + beta * *out;
        }
}

/* MR rows of A against all N rows of B, three at a time. */
AVX512 void dot_rows(const int MR, long N, long K, float alpha, const float *a, long lda,
                     const float *B, long ldb, float beta, float *c, long ldc) {
    long n = 0;
    for (; n + 3 <= N; n += 3) dot_tile(MR, 3, K, alpha, a, lda, B + n * ldb, ldb, beta, c + n, ldc);
    switch (N - n) {
    case 2: dot_tile(MR, 2, K, alpha, a, lda, B + n * ldb, ldb, beta, c + n, ldc); break;
    case 1: dot_tile(MR, 1, K, alpha, a, lda, B + n * ldb, ldb, beta, c + n, ldc); break;
    default: break;
    }
}

/* The linear layer's bias and ReLU (value <= 0 ? 0 : value, so NaN stays NaN) over rows × columns of C that
   the dot form has just finished, while they are still in L1: the same additions a separate pass would make,
   without reading C back from memory. (Inside the tile's own stores, the extra branches cost more.) */
AVX512 void add_bias_relu(float *c, long ldc, long rows, long columns, const float *bias, int relu) {
    const __m512 zero = _mm512_setzero_ps();
    for (long r = 0; r < rows; r++)
        for (long j = 0; j < columns; j += 16) {
            __mmask16 mask = tail_mask(columns - j);
            __m512 value = _mm512_maskz_loadu_ps(mask, c + r * ldc + j);
            if (bias) value = _mm512_add_ps(value, _mm512_maskz_loadu_ps(mask, bias + j));
            if (relu) value = _mm512_mask_mov_ps(value, _mm512_cmp_ps_mask(value, zero, _CMP_LE_OQ), zero);
            _mm512_mask_storeu_ps(c + r * ldc + j, mask, value);
        }
}

__attribute__((target("avx512f")))
void fl_gemm_dot(long M, long N, long K, float alpha, const float *A, long lda,
                 const float *B, long ldb, float beta, float *C, long ldc, const float *bias, int relu) {
    /* A panel of B's rows (about 1 MB, a multiple of the tile's 3 rows) stays in L2 while blocks of 64 rows
       of A pass over it; without it, B (3 MB for 1000×784 weights) streams from L3 once per block of A, and
       evaluation's 1000-image batches ran at a third of the peak. */
    long panel = (1L << 20) / (4 * (K > 0 ? K : 1)) / 3 * 3;
    if (panel < 3) panel = 3;
    for (long n0 = 0; n0 < N; n0 += panel) {
        long rowsOfB = N - n0 < panel ? N - n0 : panel;
        const float *Bn = B + n0 * ldb, *biasN = bias ? bias + n0 : NULL;
        float *Cn = C + n0;
        for (long i0 = 0; i0 < M; i0 += 64) {
            long i1 = M < i0 + 64 ? M : i0 + 64;
            long i = i0;
            for (; i + 8 <= i1; i += 8) dot_rows(8, rowsOfB, K, alpha, A + i * lda, lda, Bn, ldb, beta, Cn + i * ldc, ldc);
            if (i + 4 <= i1) { dot_rows(4, rowsOfB, K, alpha, A + i * lda, lda, Bn, ldb, beta, Cn + i * ldc, ldc); i += 4; }
            for (; i < i1; i++) dot_rows(1, rowsOfB, K, alpha, A + i * lda, lda, Bn, ldb, beta, Cn + i * ldc, ldc);
            if (biasN || relu) add_bias_relu(Cn + i0 * ldc, ldc, i1 - i0, rowsOfB, biasN, relu);
        }
    }
}

/* The core's FMA throughput with nothing else in the way: 16 independent chains of 16-lane FMAs held in
   registers, more than the FMA units' latency × count on any AVX-512 CPU, so every unit issues every cycle. */
__attribute__((target("avx512f")))
double fl_fma_loop(long iterations, float *sink) {
    __m512 acc[16];
    for (int r = 0; r < 16; r++) acc[r] = _mm512_set1_ps(0.001f * (float)r);
    const __m512 scale = _mm512_set1_ps(0.999999f), shift = _mm512_set1_ps(1e-7f);
    for (long i = 0; i < iterations; i++)
        for (int r = 0; r < 16; r++) acc[r] = _mm512_fmadd_ps(acc[r], scale, shift);
    __m512 total = acc[0];
    for (int r = 1; r < 16; r++) total = _mm512_add_ps(total, acc[r]);
    *sink = _mm512_reduce_add_ps(total);
    return (double)iterations * 16 * 16 * 2;
}

#else
double fl_fma_loop(long iterations, float *sink) { *sink = 0; return 0; }
int fl_gemm_available(void) { return 0; }
void fl_gemm_broadcast(long M, long N, long K, float alpha, const float *A, long sam, long sak,
                       const float *B, long ldb, float beta, float *C, long ldc) {}
void fl_gemm_dot(long M, long N, long K, float alpha, const float *A, long lda,
                 const float *B, long ldb, float beta, float *C, long ldc, const float *bias, int relu) {}
#endif
