/* The int8 weights of a quantized model (pnm-quantize(1); stored as
 * pnm-model(5) says under option bit 2): the bottleneck weight and the four
 * matrices of every mixer layer, each as int8 values with one float scale
 * per output channel, w ~ scale x q, q in -127..127 (symmetric: the scale
 * is the channel's largest |w| / 127); with option bit 3, the tagging
 * head's weight too (qheads.h). The bottleneck's output channels are its
 * columns (b scales, which factor out of its sum of rows); every other
 * matrix's are its rows. Everything else (LayerNorms, biases, pooling, the
 * classification head, the sentence tagger, CRF transitions) stays float:
 * it is small and cheap.
 *
 * Besides the stored values, a pnm_qweights holds the same weights laid out
 * for the kernels (qkernels.h), made once when it is built. */
#ifndef PNM_QUANT_H
#define PNM_QUANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Dimensions the kernels see are padded to a multiple of this (their n
 * must be a multiple of 16, their k of 4). */
#define PNM_QPAD 16
static inline size_t pnm_qpad(size_t n)
{
    return (n + PNM_QPAD - 1) / PNM_QPAD * PNM_QPAD;
}

typedef struct pnm_qmatrix {
    uint32_t rows, cols;  /* of the float tensor, row-major */
    bool by_column;       /* one scale per column (else per row) */
    float *scale;         /* cols or rows scales, finite and >= 0 */
    int8_t *q;            /* rows x cols */
} pnm_qmatrix;

typedef struct pnm_qlayer {
    pnm_qmatrix tok_w1, tok_w2, ch_w1, ch_w2; /* h_t x s, s x h_t, h_c x b, b x h_c */
    /* For the kernels: */
    int8_t *tok_a1;      /* h_t x pad(s): W1, zero columns past s */
    int32_t *tok_comp1;  /* pad(s) / 4 x h_t: row k, 128 x the sums of W1's
                          * first 4 (k + 1) columns (the products' depth for
                          * an example of 4 k + 1 to 4 (k + 1) words) */
    int8_t *tok_a2;      /* s x pad(h_t): W2, zero columns past h_t */
    int32_t *tok_comp2;  /* s: 128 x row sums of W2 (the shift of the activations) */
    uint8_t *ch_b1;      /* W1^T packed (qkernels.h): k = pad(b), n = pad(h_c) */
    int32_t *ch_comp1;   /* pad(h_c): 128 x row sums of W1 */
    uint8_t *ch_b2;      /* W2^T packed: k = pad(h_c), n = pad(b) */
    int32_t *ch_comp2;   /* pad(b): 128 x row sums of W2 */
} pnm_qlayer;

typedef struct pnm_qweights {
    pnm_config config;
    pnm_qmatrix bott_w;  /* (2w+1)m x b, by column */
    pnm_qlayer layer[PNM_MAX_LAYERS];
    bool tags;           /* the tagging head is int8 too (needs n_tags > 0): */
    pnm_qmatrix tag_w;   /* n_tags x b, by row */
    uint8_t *tag_b;      /* W^T packed: k = pad(b), n = pad(n_tags) */
    int32_t *tag_comp;   /* pad(n_tags): 128 x row sums of W */
} pnm_qweights;

/* Quantizes the float matrices of p (a whole float model's views), with
 * tags the tagging head's weight too (ignored without tags). */
pnm_qweights *pnm_qweights_quantize(const pnm_config *c, const pnm_params *p, bool tags,
                                    pnm_error *err);
/* Bytes of the stored form: for each matrix in the order of the float
 * layout (the bottleneck, then per layer tok_w1, tok_w2, ch_w1, ch_w2, then
 * with tags the tagging head's), its scales as binary32 then its values,
 * row-major. */
size_t pnm_qweights_bytes(const pnm_config *c, bool tags);
/* Writes the stored form: pnm_qweights_bytes(&q->config, q->tags) bytes. */
void pnm_qweights_encode(const pnm_qweights *q, uint8_t *out);
/* Reads the stored form from in (pnm_qweights_bytes(c, tags) bytes),
 * refusing a scale that is not finite or is negative (message without
 * "corrupt"). tags needs c->n_tags > 0. */
pnm_qweights *pnm_qweights_decode(const pnm_config *c, const uint8_t *in, bool tags,
                                  pnm_error *err);
/* NULL is ignored. */
void pnm_qweights_free(pnm_qweights *q);

#ifdef __cplusplus
}
#endif
#endif
