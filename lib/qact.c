#include "qact.h"

#include <math.h>

#include "simd.h"

/* ---- activations to bytes ------------------------------------------------ */

/* Largest |v| below which values quantize as zeros (inv = 0): 127 / max
 * would overflow near 127 / FLT_MAX. */
#define TINY 1e-30f

/* v / scale, rounded, shifted by 128 into 1..255 (inv = 1 / scale). Every
 * scale is its values' own largest |v| / 127 (or inv is 0), so |v inv| <=
 * 127 (1 + 2^-24) and q lies in [1.49, 255.51]: only a NaN (from a crafted
 * model's huge scales, or inf times a zero inv) needs catching, and it
 * goes to 1 as a clamp would take it. One compare where a clamp at both
 * ends took four (pack_columns was 8 % of BASE's pnm-classify). */
static inline uint32_t to_u8(float v, float inv)
{
    float q = v * inv + 128.5f;
    q = q == q ? q : 1.0f;
    return (uint32_t)q;
}

/* The largest |x[j]| of n values, taken in 16 lanes: one running maximum
 * is a chain of dependent compares that does not vectorise (it was most of
 * quantize_rows' time). Maxima are exact, so the order does not matter.
 * Unrolled, the lanes' loop became 16 scalar maxima that GCC does not
 * vectorise either (the AVX-512 build ran vmaxss); kept as a loop, it is
 * one vmaxps per 16 values. */
static inline float row_max_abs(const float *x, size_t n)
{
    enum { LANES = 16 };
    float part[LANES] = {0}, m = 0;
    size_t end = n / LANES * LANES;
    for (size_t i = 0; i < end; i += LANES)
#pragma GCC unroll 1
        for (size_t k = 0; k < LANES; k++)
            part[k] = pnm_max_abs(part[k], x[i + k]);
    for (size_t k = 0; k < LANES; k++)
        m = pnm_max_abs(m, part[k]);
    for (size_t i = end; i < n; i++)
        m = pnm_max_abs(m, x[i]);
    return m;
}

/* max[j] = the larger of max[j] and every |x[r][j]| of the rows. */
PNM_SIMD_CLONES
void pnm_column_max(float *max, const float *x, size_t rows, size_t n)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < n; j++)
            max[j] = pnm_max_abs(max[j], x[r * n + j]);
}

/* Column maxima to scales: scale[j] = max[j] / 127 in place, inv[j] its
 * inverse (0 for a column of zeros or below TINY, whose bytes are then all
 * 128). */
void pnm_column_scales(float *scale, float *inv, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        inv[j] = scale[j] > TINY ? 127.0f / scale[j] : 0.0f;
        scale[j] /= 127.0f;
    }
}

/* x (rows x n) by column into the packed layout of qkernels.h: k = rows
 * rounded up to 4, pad(n) columns; bytes past the rows or columns are 128
 * (zero). Four rows make one 32-bit word per column. */
PNM_SIMD_CLONES
void pnm_pack_columns(uint8_t *out, const float *x, const float *inv, size_t rows, size_t n)
{
    size_t np = pnm_qpad(n);
    for (size_t r0 = 0; r0 < rows; r0 += 4) {
        const float *x0 = x + r0 * n;
        const float *x1 = r0 + 1 < rows ? x0 + n : NULL, *x2 = r0 + 2 < rows ? x0 + 2 * n : NULL;
        const float *x3 = r0 + 3 < rows ? x0 + 3 * n : NULL;
        uint32_t *o = (uint32_t *)(void *)(out + r0 / 4 * np * 4);
        if (x3)
            for (size_t j = 0; j < n; j++)
                o[j] = to_u8(x0[j], inv[j]) | to_u8(x1[j], inv[j]) << 8 |
                       to_u8(x2[j], inv[j]) << 16 | to_u8(x3[j], inv[j]) << 24;
        else
            for (size_t j = 0; j < n; j++)
                o[j] = to_u8(x0[j], inv[j]) | (x1 ? to_u8(x1[j], inv[j]) : 128u) << 8 |
                       (x2 ? to_u8(x2[j], inv[j]) : 128u) << 16 | 128u << 24;
        for (size_t j = n; j < np; j++)
            o[j] = 0x80808080u;
    }
}

/* Rows of x (rows x n) each by its own scale, into rows of pad(n) bytes. */
PNM_SIMD_CLONES
void pnm_quantize_rows(uint8_t *out, float *scale, const float *x, size_t rows, size_t n)
{
    size_t np = pnm_qpad(n);
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float max = row_max_abs(xr, n);
        float inv = max > TINY ? 127.0f / max : 0.0f;
        scale[r] = max / 127.0f;
        uint8_t *o = out + r * np;
        for (size_t j = 0; j < n; j++)
            o[j] = (uint8_t)to_u8(xr[j], inv);
        for (size_t j = n; j < np; j++)
            o[j] = 128;
    }
}

/* ---- products back to floats --------------------------------------------- */

/* out[r][j] += (acc[r][j] - comp[r]) wscale[r] ascale[j] + bias[r]: weights
 * by row of the output, activations by its column. */
PNM_SIMD_CLONES
void pnm_dequant_by_row(float *out, const int32_t *acc, size_t ldc, const int32_t *comp,
                        const float *wscale, const float *ascale, const float *bias,
                        size_t rows, size_t n)
{
    for (size_t r = 0; r < rows; r++) {
        const int32_t *a = acc + r * ldc;
        float *o = out + r * n, ws = wscale[r], bi = bias[r];
        int32_t cr = comp[r];
        for (size_t j = 0; j < n; j++)
            o[j] += (float)(a[j] - cr) * (ws * ascale[j]) + bi;
    }
}

/* out[r][j] += (acc[r][j] - comp[j]) ascale[r] wscale[j] + bias[j]:
 * activations by row, weights by column (a product with W^T). */
PNM_SIMD_CLONES
void pnm_dequant_by_column(float *out, const int32_t *acc, size_t ldc, const int32_t *comp,
                           const float *wscale, const float *ascale, const float *bias,
                           size_t rows, size_t n)
{
    for (size_t r = 0; r < rows; r++) {
        const int32_t *a = acc + r * ldc;
        float *o = out + r * n, as = ascale[r];
        for (size_t j = 0; j < n; j++)
            o[j] += (float)(a[j] - comp[j]) * (as * wscale[j]) + bias[j];
    }
}
