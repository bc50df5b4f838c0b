/* The heads of an int8 model (quant.h) on its mixer's output O: what the
 * runner (infer.h) runs after pnm_qforward. With an int8 tagging head
 * (q->tags, pnm-quantize(1)), its product is integer as the mixer's channel
 * mixing is: each row of O quantized on the fly (symmetric, its own scale
 * from its largest |value|), shifted by 128 to the unsigned bytes vpdpbusd
 * takes, multiplied by the int8 weight rows in int32 (qkernels.h), and
 * turned back into floats with both scales and the shift's correction.
 * The classification head, the sentence tagger and the CRF stay float
 * (model.c); so does the whole of a float tagging head. */
#ifndef PNM_QHEADS_H
#define PNM_QHEADS_H

#include <stdint.h>

#include "error.h"
#include "model.h"
#include "qkernels.h"
#include "quant.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The buffers of one example's tag product (rows up to seq_len); one per
 * thread. kernels: NULL for pnm_qkernels_best(). */
typedef struct pnm_qheads pnm_qheads;
pnm_qheads *pnm_qheads_new(const pnm_config *c, const pnm_qkernels *kernels);
/* NULL is ignored. */
void pnm_qheads_free(pnm_qheads *h);

/* The tag logits before any sentence bias, rows x n_tags: O tag_w^T +
 * tag_b, with q's int8 tagging head (q->tags) and O rows x b, 1 <= rows <=
 * seq_len. The result lives in h until its next use. */
const float *pnm_qtag_logits(pnm_qheads *h, const pnm_qweights *q, const float *tag_b,
                             const float *o, uint32_t rows);

/* pnm_heads_forward for an int8 model: the heads on O (rows x b, rows <=
 * seq_len) with the float tensors of p (pnm_params_bind_unquantized's
 * views), the tag product in int8 when q has an int8 tagging head. Results
 * in ws as pnm_heads_forward leaves them. */
int pnm_qheads_forward(pnm_qheads *h, const pnm_qweights *q, const pnm_params *p,
                       pnm_workspace *ws, const float *o, uint32_t rows, pnm_error *err);

#ifdef __cplusplus
}
#endif
#endif
