#include "qforward.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layers.h"
#include "qact.h"
#include "simd.h"

/* Rows of H per product in token mixing: 16 x 256 int32 (BASE) is 16 KB. */
enum { TOKEN_BLOCK = 16 };

struct pnm_qworkspace {
    pnm_config c;
    const pnm_qkernels *k;
    float *x, *y, *o;               /* s x b */
    float *g;                       /* hidden after GELU */
    float *gcol;                    /* 2b: G's column maxima and their inverses */
    float *col_scale, *row_scale;   /* b: token mixing's; s: channel mixing's */
    int32_t *acc;                   /* products */
    uint8_t *qa;                    /* quantized activations */
};

void pnm_qworkspace_free(pnm_qworkspace *ws)
{
    if (!ws)
        return;
    free(ws->x), free(ws->y), free(ws->o);
    free(ws->g), free(ws->gcol), free(ws->col_scale), free(ws->row_scale);
    free(ws->acc), free(ws->qa);
    free(ws);
}

static size_t max3(size_t a, size_t b, size_t c)
{
    size_t m = a > b ? a : b;
    return m > c ? m : c;
}

pnm_qworkspace *pnm_qworkspace_new(const pnm_config *c, const pnm_qkernels *kernels)
{
    pnm_qworkspace *ws = calloc(1, sizeof *ws);
    if (!ws)
        return NULL;
    ws->c = *c;
    ws->k = kernels ? kernels : pnm_qkernels_best();
    size_t s = c->seq_len, b = c->bottleneck, ht = c->token_hidden, hc = c->channel_hidden;
    size_t sp = pnm_qpad(s), bp = pnm_qpad(b), htp = pnm_qpad(ht), hcp = pnm_qpad(hc);
    size_t hidden = ht * b > s * hc ? ht * b : s * hc;
    ws->x = malloc(s * b * sizeof *ws->x);
    ws->y = malloc(s * b * sizeof *ws->y);
    ws->o = malloc(s * b * sizeof *ws->o);
    ws->g = malloc(hidden * sizeof *ws->g);
    ws->gcol = malloc(2 * b * sizeof *ws->gcol);
    ws->col_scale = malloc(b * sizeof *ws->col_scale);
    ws->row_scale = malloc(s * sizeof *ws->row_scale);
    ws->acc = malloc(max3(TOKEN_BLOCK * bp, sp * bp, sp * hcp) * sizeof *ws->acc);
    ws->qa = malloc(max3(sp * bp, htp * bp, sp * hcp));
    if (!ws->x || !ws->y || !ws->o || !ws->g || !ws->gcol ||
        !ws->col_scale || !ws->row_scale || !ws->acc || !ws->qa) {
        pnm_qworkspace_free(ws);
        return NULL;
    }
    return ws;
}

/* ---- the network ---------------------------------------------------------- */

/* out = acc scale + bias, over n values. */
PNM_SIMD_CLONES
static void dequant_sum(float *out, const int32_t *acc, const float *scale, const float *bias,
                        size_t n)
{
    for (size_t j = 0; j < n; j++)
        out[j] = (float)acc[j] * scale[j] + bias[j];
}

/* Each row's int8 bottleneck rows summed exactly, then scaled by column. */
static void bottleneck(pnm_qworkspace *ws, const pnm_qweights *q, const pnm_params *p,
                       const pnm_example *e, uint32_t rows)
{
    const pnm_config *c = &ws->c;
    size_t b = c->bottleneck, m = c->projection.features, n = c->projection.hashes;
    int64_t w = c->projection.window;
    uint32_t words = e->n_words < rows ? e->n_words : rows;
    for (uint32_t t = 0; t < rows; t++) {
        memset(ws->acc, 0, b * sizeof *ws->acc);
        for (int64_t k = -w; k <= w; k++) {
            int64_t pos = (int64_t)t + k;
            if (pos >= 0 && pos < words)
                ws->k->gather(ws->acc, q->bott_w.q + (size_t)(k + w) * m * b,
                              e->buckets + (size_t)pos * n, n, b);
        }
        dequant_sum(ws->x + t * b, ws->acc, q->bott_w.scale, p->bott_b, b);
    }
}

static void token_mixing(pnm_qworkspace *ws, const pnm_qlayer *ql, const pnm_layer_params *pl,
                         uint32_t rows)
{
    const pnm_config *c = &ws->c;
    size_t b = c->bottleneck, ht = c->token_hidden, bp = pnm_qpad(b);
    size_t sp = pnm_qpad(c->seq_len), htp = pnm_qpad(ht), kp = (rows + 3) / 4 * 4;
    float *inv = ws->g; /* free until GELU writes it */
    /* H = W1[:, :L] Y, Y by column. */
    memset(ws->col_scale, 0, b * sizeof *ws->col_scale);
    pnm_column_max(ws->col_scale, ws->y, rows, b);
    pnm_column_scales(ws->col_scale, inv, b);
    pnm_pack_columns(ws->qa, ws->y, inv, rows, b);
    const int32_t *comp = ql->tok_comp1 + (kp / 4 - 1) * ht;
    /* G = GELU(H) and its column maxima, TOKEN_BLOCK rows of H at a time:
     * their products stay in L1 for the pass that reads them (the whole of
     * H would go out to L2 and back), and H is never stored as floats. */
    float *gmax = ws->gcol;
    memset(gmax, 0, b * sizeof *gmax);
    for (size_t i = 0; i < ht; i += TOKEN_BLOCK) {
        size_t n = ht - i < TOKEN_BLOCK ? ht - i : TOKEN_BLOCK;
        ws->k->gemm_su(ws->acc, bp, ql->tok_a1 + i * sp, sp, ws->qa, n, bp, kp);
        ws->k->gelu_rows(ws->g + i * b, gmax, ws->acc, bp, comp + i,
                         ql->tok_w1.scale + i, ws->col_scale, pl->tok_b1 + i, n, b);
    }
    /* x[:L] += W2[:L] G, G by column. */
    float *ginv = ws->gcol + b;
    memcpy(ws->col_scale, gmax, b * sizeof *gmax);
    pnm_column_scales(ws->col_scale, ginv, b);
    pnm_pack_columns(ws->qa, ws->g, ginv, ht, b);
    ws->k->gemm_su(ws->acc, bp, ql->tok_a2, htp, ws->qa, rows, bp, (ht + 3) / 4 * 4);
    pnm_dequant_by_row(ws->x, ws->acc, bp, ql->tok_comp2, ql->tok_w2.scale, ws->col_scale,
                   pl->tok_b2, rows, b);
}

static void channel_mixing(pnm_qworkspace *ws, const pnm_qlayer *ql,
                           const pnm_layer_params *pl, uint32_t rows)
{
    const pnm_config *c = &ws->c;
    size_t b = c->bottleneck, hc = c->channel_hidden, bp = pnm_qpad(b), hcp = pnm_qpad(hc);
    pnm_quantize_rows(ws->qa, ws->row_scale, ws->y, rows, b);
    ws->k->gemm_us(ws->acc, hcp, ws->qa, bp, ql->ch_b1, rows, hcp, bp);
    ws->k->gelu_columns(ws->g, NULL, ws->acc, hcp, ql->ch_comp1, ql->ch_w1.scale,
                        ws->row_scale, pl->ch_b1, rows, hc);
    pnm_quantize_rows(ws->qa, ws->row_scale, ws->g, rows, hc);
    ws->k->gemm_us(ws->acc, bp, ws->qa, hcp, ql->ch_b2, rows, bp, hcp);
    pnm_dequant_by_column(ws->x, ws->acc, bp, ql->ch_comp2, ql->ch_w2.scale, ws->row_scale,
                      pl->ch_b2, rows, b);
}

const float *pnm_qforward(pnm_qworkspace *ws, const pnm_qweights *q, const pnm_params *p,
                          const pnm_example *e, uint32_t *rows)
{
    const pnm_config *c = &ws->c;
    size_t b = c->bottleneck;
    uint32_t n = pnm_example_rows(e, c->seq_len);
    bottleneck(ws, q, p, e, n);
    for (uint32_t l = 0; l < c->layers; l++) {
        const pnm_layer_params *pl = &p->layer[l];
        layernorm_forward(ws->y, NULL, NULL, ws->x, pl->ln1_g, pl->ln1_b, n, b);
        token_mixing(ws, &q->layer[l], pl, n);
        layernorm_forward(ws->y, NULL, NULL, ws->x, pl->ln2_g, pl->ln2_b, n, b);
        channel_mixing(ws, &q->layer[l], pl, n);
    }
    layernorm_forward(ws->o, NULL, NULL, ws->x, p->ln_g, p->ln_b, n, b);
    *rows = n;
    return ws->o;
}
