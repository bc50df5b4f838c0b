#include "qheads.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "qact.h"

struct pnm_qheads {
    pnm_config c;
    const pnm_qkernels *k;
    uint8_t *qa;       /* s x pad(b): O's rows as bytes */
    float *row_scale;  /* s */
    int32_t *acc;      /* s x pad(n_tags): the products */
    float *logits;     /* s x n_tags */
};

pnm_qheads *pnm_qheads_new(const pnm_config *c, const pnm_qkernels *kernels)
{
    pnm_qheads *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->c = *c;
    h->k = kernels ? kernels : pnm_qkernels_best();
    size_t s = c->seq_len, nt = c->n_tags ? c->n_tags : 1;
    h->qa = malloc(s * pnm_qpad(c->bottleneck));
    h->row_scale = malloc(s * sizeof *h->row_scale);
    h->acc = malloc(s * pnm_qpad(nt) * sizeof *h->acc);
    h->logits = malloc(s * nt * sizeof *h->logits);
    if (!h->qa || !h->row_scale || !h->acc || !h->logits) {
        pnm_qheads_free(h);
        return NULL;
    }
    return h;
}

void pnm_qheads_free(pnm_qheads *h)
{
    if (!h)
        return;
    free(h->qa), free(h->row_scale), free(h->acc), free(h->logits);
    free(h);
}

const float *pnm_qtag_logits(pnm_qheads *h, const pnm_qweights *q, const float *tag_b,
                             const float *o, uint32_t rows)
{
    size_t b = h->c.bottleneck, nt = h->c.n_tags, bp = pnm_qpad(b), ntp = pnm_qpad(nt);
    pnm_quantize_rows(h->qa, h->row_scale, o, rows, b);
    h->k->gemm_us(h->acc, ntp, h->qa, bp, q->tag_b, rows, ntp, bp);
    memset(h->logits, 0, rows * nt * sizeof *h->logits);
    pnm_dequant_by_column(h->logits, h->acc, ntp, q->tag_comp, q->tag_w.scale, h->row_scale,
                          tag_b, rows, nt);
    return h->logits;
}

int pnm_qheads_forward(pnm_qheads *h, const pnm_qweights *q, const pnm_params *p,
                       pnm_workspace *ws, const float *o, uint32_t rows, pnm_error *err)
{
    const pnm_config *c = &h->c;
    if (!q->tags)
        return pnm_heads_forward(c, p, ws, &o, &rows, 1, err);
    if (rows < 1 || rows > c->seq_len)
        return pnm_error_set(err, "%" PRIu32 " rows for a model of sequence length %" PRIu32,
                             rows, c->seq_len);
    const float *x = pnm_qtag_logits(h, q, p->tag_b, o, rows);
    return pnm_heads_forward_tagged(c, p, ws, &o, &x, &rows, 1, err);
}
