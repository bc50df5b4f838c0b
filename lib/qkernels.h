/* The kernels of the quantized forward (qforward.h): a matrix product and
 * the bottleneck's row gather, both accumulating in int32, and the passes
 * that turn products into floats through GELU (most of the float work).
 * Integer sums are exact, so every variant gives the same bits: one with
 * AVX-512 VNNI (vpdpbusd: 64 byte products a instruction), one with AVX2
 * (the products by hand, the gather as the portable code built for AVX2),
 * the AVX2 one with AVX-512's GELU passes for processors with AVX-512 but
 * not VNNI, and the portable code built for the x86-64 baseline (or
 * whatever the compiler targets). Which one runs is the caller's choice,
 * made once: pnm_qkernels_best asks the CPU, so no binary needs VNNI to
 * start. */
#ifndef PNM_QKERNELS_H
#define PNM_QKERNELS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* c (rows x n int32, row stride ldc) = a (rows x k, row stride lda bytes)
 * times b (k x n, packed), exactly. k is a multiple of 4 and n of 16.
 * Packed: k/4 groups of n columns of 4 bytes; byte q of column j of group g
 * is element (4g + q, j), at b[(g * n + j) * 4 + q] (the layout vpdpbusd
 * reads). In gemm_su, a holds int8 and b uint8; in gemm_us, a uint8 and b
 * int8. Sums must fit int32: k x 255 x 128 < 2^31 holds for k <= 65536. */
typedef void pnm_qgemm_fn(int32_t *c, size_t ldc, const void *a, size_t lda,
                          const uint8_t *b, size_t rows, size_t n, size_t k);

/* out (c values) += the sum of the rows idx[0..n) of table (rows of c int8). */
typedef void pnm_qgather_fn(int32_t *out, const int8_t *table, const uint16_t *idx, size_t n,
                            size_t c);

/* A product back to floats through GELU, row r of out (rows x n, packed)
 * from row r of acc (row stride ldc):
 *   by row (gelu_rows, token mixing's H = W1 Y: weights by row r,
 *   activations by column j), which also takes the columns' largest |out|:
 *     out[r][j] = GELU((acc[r][j] - comp[r]) wscale[r] ascale[j] + bias[r])
 *     max[j] = the larger of max[j] and every |out[r][j]|;
 *   by column (gelu_columns, channel mixing's Y W1^T: activations by row r,
 *   weights by column j; max unused, NULL):
 *     out[r][j] = GELU((acc[r][j] - comp[j]) ascale[r] wscale[j] + bias[j]).
 * GELU is pnm_gelu (gelu.h). The portable set runs it in C; the others
 * compute the same operations in the same order with intrinsics, so that
 * they give the bits the C gives where it contracts a * b + c into an FMA
 * (PNM_SIMD_CLONES' x86-64-v3 and v4 builds), except where 2^y underflows
 * or overflows: there the C clamps y and the intrinsics scale exactly
 * (values below 1e-35 apart). */
typedef void pnm_qgelu_fn(float *out, float *max, const int32_t *acc, size_t ldc,
                          const int32_t *comp, const float *wscale, const float *ascale,
                          const float *bias, size_t rows, size_t n);

typedef struct pnm_qkernels {
    const char *name; /* "avx512vnni", "avx512", "avx2", "portable" */
    pnm_qgemm_fn *gemm_su, *gemm_us;
    pnm_qgather_fn *gather;
    pnm_qgelu_fn *gelu_rows, *gelu_columns;
} pnm_qkernels;

/* The larger of m and |v|, as a compare that vectorises (fmaxf's NaN
 * rules make it a libm call; activations are finite). */
static inline float pnm_max_abs(float m, float v)
{
    v = fabsf(v);
    return v > m ? v : m;
}

/* The fastest set this CPU runs. */
const pnm_qkernels *pnm_qkernels_best(void);
/* The set of that name, or NULL when there is none or this CPU cannot run
 * it (for tests and benchmarks). */
const pnm_qkernels *pnm_qkernels_find(const char *name);

#ifdef __cplusplus
}
#endif
#endif
