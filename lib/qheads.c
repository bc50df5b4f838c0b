#include "qheads.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "simd.h"

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

/* Rows to bytes as qforward.c's channel mixing quantizes them (its
 * quantize_rows, to_u8, row_max_abs: the same numbers), written here while
 * that file is being reworked elsewhere. */

/* Largest |v| below which a row quantizes as zeros (127 / max would
 * overflow near 127 / FLT_MAX). */
#define TINY 1e-30f

/* v / scale rounded, shifted by 128 into 1..255 (inv = 1 / scale, the
 * scale being the row's own largest |v| / 127, so only a NaN needs
 * catching: it goes to 1 as a clamp would take it). */
static inline uint32_t to_u8(float v, float inv)
{
    float q = v * inv + 128.5f;
    q = q == q ? q : 1.0f;
    return (uint32_t)q;
}

/* The larger of m and |v|, as a compare that vectorises. */
static inline float max_abs(float m, float v)
{
    v = fabsf(v);
    return v > m ? v : m;
}

/* The largest |x[j]| of n values, in 16 lanes (one running maximum is a
 * chain of dependent compares). */
static inline float row_max_abs(const float *x, size_t n)
{
    enum { LANES = 16 };
    float part[LANES] = {0}, m = 0;
    size_t end = n / LANES * LANES;
    for (size_t i = 0; i < end; i += LANES)
        for (size_t k = 0; k < LANES; k++)
            part[k] = max_abs(part[k], x[i + k]);
    for (size_t k = 0; k < LANES; k++)
        m = max_abs(m, part[k]);
    for (size_t i = end; i < n; i++)
        m = max_abs(m, x[i]);
    return m;
}

/* Rows of x (rows x n) each by its own scale, into rows of pad(n) bytes
 * (128, a zero, past n). */
PNM_SIMD_CLONES
static void quantize_rows(uint8_t *out, float *scale, const float *x, size_t rows, size_t n)
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

/* out[r][j] = (acc[r][j] - comp[j]) ascale[r] wscale[j] + bias[j]:
 * activations by row, weights by column (a product with W^T). qforward.c's
 * dequant_by_column adds to out; the logits are set. */
PNM_SIMD_CLONES
static void dequant_by_column(float *out, const int32_t *acc, size_t ldc, const int32_t *comp,
                              const float *wscale, const float *ascale, const float *bias,
                              size_t rows, size_t n)
{
    for (size_t r = 0; r < rows; r++) {
        const int32_t *a = acc + r * ldc;
        float *o = out + r * n, as = ascale[r];
        for (size_t j = 0; j < n; j++)
            o[j] = (float)(a[j] - comp[j]) * (as * wscale[j]) + bias[j];
    }
}

const float *pnm_qtag_logits(pnm_qheads *h, const pnm_qweights *q, const float *tag_b,
                             const float *o, uint32_t rows)
{
    size_t b = h->c.bottleneck, nt = h->c.n_tags, bp = pnm_qpad(b), ntp = pnm_qpad(nt);
    quantize_rows(h->qa, h->row_scale, o, rows, b);
    h->k->gemm_us(h->acc, ntp, h->qa, bp, q->tag_b, rows, ntp, bp);
    dequant_by_column(h->logits, h->acc, ntp, q->tag_comp, q->tag_w.scale, h->row_scale, tag_b,
                      rows, nt);
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
