#include "qforward.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layers.h"
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
    int32_t *acc, *comp;            /* products; h_t shift corrections of W1 */
    uint8_t *qa;                    /* quantized activations */
};

void pnm_qworkspace_free(pnm_qworkspace *ws)
{
    if (!ws)
        return;
    free(ws->x), free(ws->y), free(ws->o);
    free(ws->g), free(ws->gcol), free(ws->col_scale), free(ws->row_scale);
    free(ws->acc), free(ws->comp), free(ws->qa);
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
    ws->comp = malloc(ht * sizeof *ws->comp);
    ws->qa = malloc(max3(sp * bp, htp * bp, sp * hcp));
    if (!ws->x || !ws->y || !ws->o || !ws->g || !ws->gcol ||
        !ws->col_scale || !ws->row_scale || !ws->acc || !ws->comp || !ws->qa) {
        pnm_qworkspace_free(ws);
        return NULL;
    }
    return ws;
}

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
static void column_max(float *max, const float *x, size_t rows, size_t n)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < n; j++)
            max[j] = pnm_max_abs(max[j], x[r * n + j]);
}

/* Column maxima to scales: scale[j] = max[j] / 127 in place, inv[j] its
 * inverse (0 for a column of zeros or below TINY, whose bytes are then all
 * 128). */
static void column_scales(float *scale, float *inv, size_t n)
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
static void pack_columns(uint8_t *out, const float *x, const float *inv, size_t rows,
                         size_t n)
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

/* ---- products back to floats --------------------------------------------- */

/* out[r][j] += (acc[r][j] - comp[r]) wscale[r] ascale[j] + bias[r]: weights
 * by row of the output, activations by its column. */
PNM_SIMD_CLONES
static void dequant_by_row(float *out, const int32_t *acc, size_t ldc, const int32_t *comp,
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
static void dequant_by_column(float *out, const int32_t *acc, size_t ldc,
                              const int32_t *comp, const float *wscale, const float *ascale,
                              const float *bias, size_t rows, size_t n)
{
    for (size_t r = 0; r < rows; r++) {
        const int32_t *a = acc + r * ldc;
        float *o = out + r * n, as = ascale[r];
        for (size_t j = 0; j < n; j++)
            o[j] += (float)(a[j] - comp[j]) * (as * wscale[j]) + bias[j];
    }
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
    column_max(ws->col_scale, ws->y, rows, b);
    column_scales(ws->col_scale, inv, b);
    pack_columns(ws->qa, ws->y, inv, rows, b);
    for (size_t i = 0; i < ht; i++) {
        int32_t sum = 0;
        for (size_t t = 0; t < kp; t++)
            sum += ql->tok_a1[i * sp + t];
        ws->comp[i] = 128 * sum;
    }
    /* G = GELU(H) and its column maxima, TOKEN_BLOCK rows of H at a time:
     * their products stay in L1 for the pass that reads them (the whole of
     * H would go out to L2 and back), and H is never stored as floats. */
    float *gmax = ws->gcol;
    memset(gmax, 0, b * sizeof *gmax);
    for (size_t i = 0; i < ht; i += TOKEN_BLOCK) {
        size_t n = ht - i < TOKEN_BLOCK ? ht - i : TOKEN_BLOCK;
        ws->k->gemm_su(ws->acc, bp, ql->tok_a1 + i * sp, sp, ws->qa, n, bp, kp);
        ws->k->gelu_rows(ws->g + i * b, gmax, ws->acc, bp, ws->comp + i,
                         ql->tok_w1.scale + i, ws->col_scale, pl->tok_b1 + i, n, b);
    }
    /* x[:L] += W2[:L] G, G by column. */
    float *ginv = ws->gcol + b;
    memcpy(ws->col_scale, gmax, b * sizeof *gmax);
    column_scales(ws->col_scale, ginv, b);
    pack_columns(ws->qa, ws->g, ginv, ht, b);
    ws->k->gemm_su(ws->acc, bp, ql->tok_a2, htp, ws->qa, rows, bp, (ht + 3) / 4 * 4);
    dequant_by_row(ws->x, ws->acc, bp, ql->tok_comp2, ql->tok_w2.scale, ws->col_scale,
                   pl->tok_b2, rows, b);
}

static void channel_mixing(pnm_qworkspace *ws, const pnm_qlayer *ql,
                           const pnm_layer_params *pl, uint32_t rows)
{
    const pnm_config *c = &ws->c;
    size_t b = c->bottleneck, hc = c->channel_hidden, bp = pnm_qpad(b), hcp = pnm_qpad(hc);
    quantize_rows(ws->qa, ws->row_scale, ws->y, rows, b);
    ws->k->gemm_us(ws->acc, hcp, ws->qa, bp, ql->ch_b1, rows, hcp, bp);
    ws->k->gelu_columns(ws->g, NULL, ws->acc, hcp, ql->ch_comp1, ql->ch_w1.scale,
                        ws->row_scale, pl->ch_b1, rows, hc);
    quantize_rows(ws->qa, ws->row_scale, ws->g, rows, hc);
    ws->k->gemm_us(ws->acc, bp, ws->qa, hcp, ql->ch_b2, rows, bp, hcp);
    dequant_by_column(ws->x, ws->acc, bp, ql->ch_comp2, ql->ch_w2.scale, ws->row_scale,
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
