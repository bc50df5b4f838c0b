/* Float activations to the bytes of an int8 product and its int32 sums
 * back to floats (qkernels.h has the products): what the int8 mixer
 * (qforward.h) and the int8 tagging head (qheads.h) share. An activation
 * is quantized symmetrically along the dimension that factors out of its
 * product (by row, or by column), its scale its own largest |value| / 127,
 * and shifted by 128 to the unsigned bytes vpdpbusd takes; the weights'
 * sums times 128 (comp) undo the shift. */
#ifndef PNM_QACT_H
#define PNM_QACT_H

#include <stddef.h>
#include <stdint.h>

#include "qkernels.h"
#include "quant.h"

#ifdef __cplusplus
extern "C" {
#endif

/* max[j] = the larger of max[j] and every |x[r][j]| of rows x n. */
void pnm_column_max(float *max, const float *x, size_t rows, size_t n);
/* Column maxima to scales: scale[j] = max[j] / 127 in place, inv[j] its
 * inverse (0 for a column of zeros, whose bytes are then all 128). */
void pnm_column_scales(float *scale, float *inv, size_t n);
/* x (rows x n) by column, each times inv[j], into the packed layout of
 * qkernels.h: rows rounded up to 4, pad(n) columns, 128 (zero) past them. */
void pnm_pack_columns(uint8_t *out, const float *x, const float *inv, size_t rows, size_t n);
/* Rows of x (rows x n) each by its own scale (scale[r] set), into rows of
 * pad(n) bytes. */
void pnm_quantize_rows(uint8_t *out, float *scale, const float *x, size_t rows, size_t n);

/* out[r][j] += (acc[r][j] - comp[r]) wscale[r] ascale[j] + bias[r]: weights
 * by row of the output, activations by its column. */
void pnm_dequant_by_row(float *out, const int32_t *acc, size_t ldc, const int32_t *comp,
                        const float *wscale, const float *ascale, const float *bias,
                        size_t rows, size_t n);
/* out[r][j] += (acc[r][j] - comp[j]) ascale[r] wscale[j] + bias[j]:
 * activations by row, weights by column (a product with W^T). */
void pnm_dequant_by_column(float *out, const int32_t *acc, size_t ldc, const int32_t *comp,
                           const float *wscale, const float *ascale, const float *bias,
                           size_t rows, size_t n);

#ifdef __cplusplus
}
#endif
#endif
