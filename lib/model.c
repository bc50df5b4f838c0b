#include "model.h"

#include <cblas.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "crf.h"
#include "layers.h"

/* ---- configuration ------------------------------------------------------- */

int pnm_config_preset(pnm_config *c, const char *name)
{
    static const struct {
        const char *name;
        uint32_t b, h_t, h_c, layers;
    } presets[] = {
        {"x-small", 64, 64, 64, 2},
        {"small", 128, 128, 128, 2},
        {"base", 256, 256, 256, 2},
        {"large", 512, 256, 256, 4},
        {"x-large", 512, 512, 512, 4},
    };
    for (size_t i = 0; i < sizeof presets / sizeof *presets; i++) {
        if (strcmp(name, presets[i].name) == 0) {
            c->bottleneck = presets[i].b;
            c->token_hidden = presets[i].h_t;
            c->channel_hidden = presets[i].h_c;
            c->layers = presets[i].layers;
            return 0;
        }
    }
    return -1;
}

int pnm_config_check(const pnm_config *c, pnm_error *err)
{
    if (pnm_projection_check(&c->projection, err))
        return -1;
    const struct {
        const char *name;
        uint32_t value, min, max;
    } dims[] = {
        {"sequence length", c->seq_len, 1, PNM_MAX_SEQ_LEN},
        {"bottleneck size", c->bottleneck, 1, PNM_MAX_DIM},
        {"token-mixing hidden size", c->token_hidden, 1, PNM_MAX_DIM},
        {"channel-mixing hidden size", c->channel_hidden, 1, PNM_MAX_DIM},
        {"layer count", c->layers, 1, PNM_MAX_LAYERS},
        {"label count", c->n_labels, 0, PNM_MAX_CLASSES},
        {"tag count", c->n_tags, 0, PNM_MAX_CLASSES},
    };
    for (size_t i = 0; i < sizeof dims / sizeof *dims; i++)
        if (dims[i].value < dims[i].min || dims[i].value > dims[i].max)
            return pnm_error_set(err, "%s %" PRIu32 " is outside %" PRIu32 "..%" PRIu32,
                                 dims[i].name, dims[i].value, dims[i].min, dims[i].max);
    if (c->n_labels == 0 && c->n_tags == 0)
        return pnm_error_set(err, "the model has neither labels nor tags to predict");
    if (c->tag_sentence > 1 || (c->tag_sentence && (c->n_labels == 0 || c->n_tags == 0)))
        return pnm_error_set(err, "sentence-aware tagging needs labels and tags");
    if (c->crf > 1 || (c->crf && c->n_tags == 0))
        return pnm_error_set(err, "a CRF needs tags");
    if ((size_t)(2 * c->projection.window + 1) * c->projection.features * c->bottleneck >
        (size_t)1 << 30)
        return pnm_error_set(err, "the bottleneck would have more than 2^30 weights");
    return 0;
}

/* ---- parameters ---------------------------------------------------------- */

/* Walks the arena layout once: with arena NULL it only counts. Without
 * matrices, the bottleneck and mixer matrices (which an int8 model holds
 * apart, quant.h) take no room and their views stay NULL, and the tagging
 * head's weight too with int8_tags; with from (a whole float arena), every
 * tensor walked is copied from it into arena. */
static size_t params_layout(pnm_params *p, const pnm_config *c, float *arena, bool matrices,
                            bool int8_tags, const float *from)
{
    size_t at = 0, at_from = 0;
#define TAKE(field, count)                                                   \
    do {                                                                     \
        if (arena)                                                           \
            (field) = arena + at;                                            \
        if (from)                                                            \
            memcpy(arena + at, from + at_from, (size_t)(count) * sizeof *arena); \
        at += (size_t)(count);                                               \
        at_from += (size_t)(count);                                          \
    } while (0)
#define TAKE_MATRIX(field, count)              \
    do {                                       \
        if (matrices)                          \
            TAKE(field, count);                \
        else                                   \
            at_from += (size_t)(count);        \
    } while (0)
    pnm_params dummy;
    if (!p)
        p = &dummy;
    size_t b = c->bottleneck, s = c->seq_len, ht = c->token_hidden, hc = c->channel_hidden;
    size_t in = (2 * (size_t)c->projection.window + 1) * c->projection.features;
    TAKE_MATRIX(p->bott_w, in * b);
    TAKE(p->bott_b, b);
    for (uint32_t l = 0; l < c->layers; l++) {
        pnm_layer_params *q = &p->layer[l];
        TAKE(q->ln1_g, b);
        TAKE(q->ln1_b, b);
        TAKE_MATRIX(q->tok_w1, ht * s);
        TAKE(q->tok_b1, ht);
        TAKE_MATRIX(q->tok_w2, s * ht);
        TAKE(q->tok_b2, s);
        TAKE(q->ln2_g, b);
        TAKE(q->ln2_b, b);
        TAKE_MATRIX(q->ch_w1, hc * b);
        TAKE(q->ch_b1, hc);
        TAKE_MATRIX(q->ch_w2, b * hc);
        TAKE(q->ch_b2, b);
    }
    TAKE(p->ln_g, b);
    TAKE(p->ln_b, b);
    TAKE(p->pool_q, b);
    TAKE(p->cls_w, (size_t)c->n_labels * b);
    TAKE(p->cls_b, c->n_labels);
    if (int8_tags && !matrices)
        at_from += (size_t)c->n_tags * b;
    else
        TAKE(p->tag_w, (size_t)c->n_tags * b);
    TAKE(p->tag_b, c->n_tags);
    TAKE(p->tag_sent_w, c->tag_sentence ? (size_t)c->n_tags * b : 0);
    TAKE(p->tag_trans, c->crf ? (size_t)c->n_tags * c->n_tags : 0);
    TAKE(p->tag_start, c->crf ? c->n_tags : 0);
    TAKE(p->tag_end, c->crf ? c->n_tags : 0);
#undef TAKE_MATRIX
#undef TAKE
    return at;
}

size_t pnm_params_count(const pnm_config *c)
{
    return params_layout(NULL, c, NULL, true, false, NULL);
}

void pnm_params_bind(pnm_params *p, const pnm_config *c, float *arena)
{
    memset(p, 0, sizeof *p);
    params_layout(p, c, arena, true, false, NULL);
}

size_t pnm_params_count_unquantized(const pnm_config *c, bool int8_tags)
{
    return params_layout(NULL, c, NULL, false, int8_tags, NULL);
}

void pnm_params_bind_unquantized(pnm_params *p, const pnm_config *c, bool int8_tags,
                                 float *arena)
{
    memset(p, 0, sizeof *p);
    params_layout(p, c, arena, false, int8_tags, NULL);
}

void pnm_params_copy_unquantized(float *to, const float *from, const pnm_config *c,
                                 bool int8_tags)
{
    pnm_params p;
    params_layout(&p, c, to, false, int8_tags, from);
}

static void fill_uniform(float *w, size_t n, float bound, uint64_t *rng)
{
    for (size_t i = 0; i < n; i++)
        w[i] = (2.0f * pnm_rand_uniform(rng) - 1.0f) * bound;
}

static void fill(float *w, size_t n, float v)
{
    for (size_t i = 0; i < n; i++)
        w[i] = v;
}

void pnm_params_init(const pnm_params *p, const pnm_config *c, uint64_t seed)
{
    uint64_t rng = seed ^ 0x5DEECE66Dull;
    size_t b = c->bottleneck, s = c->seq_len, ht = c->token_hidden, hc = c->channel_hidden;
    size_t in = (2 * (size_t)c->projection.window + 1) * c->projection.features;
    size_t active = (2 * (size_t)c->projection.window + 1) * c->projection.hashes;
    fill_uniform(p->bott_w, in * b, 1.0f / sqrtf((float)active), &rng);
    fill(p->bott_b, b, 0);
    for (uint32_t l = 0; l < c->layers; l++) {
        const pnm_layer_params *q = &p->layer[l];
        fill(q->ln1_g, b, 1), fill(q->ln1_b, b, 0);
        fill_uniform(q->tok_w1, ht * s, 1.0f / sqrtf((float)s), &rng);
        fill(q->tok_b1, ht, 0);
        fill_uniform(q->tok_w2, s * ht, 1.0f / sqrtf((float)ht), &rng);
        fill(q->tok_b2, s, 0);
        fill(q->ln2_g, b, 1), fill(q->ln2_b, b, 0);
        fill_uniform(q->ch_w1, hc * b, 1.0f / sqrtf((float)b), &rng);
        fill(q->ch_b1, hc, 0);
        fill_uniform(q->ch_w2, b * hc, 1.0f / sqrtf((float)hc), &rng);
        fill(q->ch_b2, b, 0);
    }
    fill(p->ln_g, b, 1), fill(p->ln_b, b, 0);
    for (size_t i = 0; i < b; i++)
        p->pool_q[i] = pnm_rand_normal(&rng) / sqrtf((float)b);
    fill_uniform(p->cls_w, c->n_labels * b, 1.0f / sqrtf((float)b), &rng);
    fill(p->cls_b, c->n_labels, 0);
    fill_uniform(p->tag_w, c->n_tags * b, 1.0f / sqrtf((float)b), &rng);
    fill(p->tag_b, c->n_tags, 0);
    if (c->tag_sentence)
        fill_uniform(p->tag_sent_w, c->n_tags * b, 1.0f / sqrtf((float)b), &rng);
    if (c->crf) {
        fill(p->tag_trans, (size_t)c->n_tags * c->n_tags, 0);
        fill(p->tag_start, c->n_tags, 0), fill(p->tag_end, c->n_tags, 0);
    }
}

/* ---- workspace ----------------------------------------------------------- */

typedef struct layer_acts {
    float *y1, *mean1, *rstd1;     /* LN1: T x b, T, T */
    float *h1;                     /* token hidden before GELU: E x h_t x b */
    float *x_mid;                  /* after token mixing: T x b */
    float *y2, *mean2, *rstd2;     /* LN2 */
    float *h2, *g2;                /* channel hidden: T x h_c, before/after GELU */
    uint8_t *keep_tok, *keep_ch;   /* dropout choices: T x b */
} layer_acts;

struct pnm_workspace {
    pnm_config c;
    size_t cap_rows, cap_examples;
    bool training;
    uint32_t *row_start;           /* E + 1 */
    uint64_t *rng;                 /* dropout stream per example */
    float *x[PNM_MAX_LAYERS + 1];  /* layer inputs; x[L] is the last output */
    uint8_t *keep0;
    layer_acts layer[PNM_MAX_LAYERS];
    float *o, *mean_f, *rstd_f;    /* final LayerNorm: O */
    float *alpha, *pooled;         /* T, E x b */
    float *label_probs, *label_logits; /* E x K */
    float *tag_probs, *tag_logits;     /* T x n_tags */
    /* backward scratch */
    float *dx, *dy, *dz;           /* T x b */
    float *dh2, *dg2;              /* T x h_c */
    float *g1, *dg1;               /* h_t x b */
    float *dpooled;                /* b */
    float *tag_bias;               /* n_tags: sentence-aware tagging */
    /* CRF training: the transitions, forward-backward per row, the gold
     * path, and whether each example adds a tag loss. */
    pnm_crf crf;
    double *crf_alpha, *crf_beta;  /* T x n_tags */
    uint32_t *crf_path;            /* T */
    uint8_t *crf_scored;           /* E */
    const float *const *ext_rows;  /* heads-only mode: caller's outputs */
    size_t n;
    bool no_tag_probs;             /* pnm_workspace_set_tag_probs(ws, false) */
};

pnm_workspace *pnm_workspace_new(const pnm_config *c)
{
    pnm_workspace *ws = calloc(1, sizeof *ws);
    if (ws)
        ws->c = *c;
    return ws;
}

void pnm_workspace_set_tag_probs(pnm_workspace *ws, bool on)
{
    ws->no_tag_probs = !on;
}

#define WS_ROW_BUFFERS(X)                                                       \
    X(keep0, uint8_t, b) X(o, float, b) X(mean_f, float, 1) X(rstd_f, float, 1) \
    X(alpha, float, 1) X(tag_probs, float, nt) X(tag_logits, float, nt)         \
    X(dx, float, b) X(dy, float, b) X(dz, float, b) X(dh2, float, hc) X(dg2, float, hc)  \
    X(crf_alpha, double, ct) X(crf_beta, double, ct) X(crf_path, uint32_t, ct ? 1 : 0)

static void ws_release(pnm_workspace *ws)
{
#define FREE_ROW(name, type, width) free(ws->name);
    WS_ROW_BUFFERS(FREE_ROW)
#undef FREE_ROW
    for (uint32_t l = 0; l <= PNM_MAX_LAYERS; l++)
        free(ws->x[l]);
    for (uint32_t l = 0; l < PNM_MAX_LAYERS; l++) {
        layer_acts *a = &ws->layer[l];
        free(a->y1), free(a->mean1), free(a->rstd1), free(a->h1), free(a->x_mid);
        free(a->y2), free(a->mean2), free(a->rstd2), free(a->h2), free(a->g2);
        free(a->keep_tok), free(a->keep_ch);
    }
    free(ws->row_start), free(ws->rng), free(ws->pooled);
    free(ws->label_probs), free(ws->label_logits);
    free(ws->g1), free(ws->dg1), free(ws->dpooled), free(ws->tag_bias);
    free(ws->crf_scored);
    pnm_crf_free(&ws->crf);
}

void pnm_workspace_free(pnm_workspace *ws)
{
    if (!ws)
        return;
    ws_release(ws);
    free(ws);
}

static void *alloc_array(size_t count, size_t size)
{
    return malloc((count ? count : 1) * size);
}

/* Frees every buffer and forgets the capacities; the configuration and
 * the settings stay. */
static void ws_clear(pnm_workspace *ws)
{
    pnm_config keep = ws->c;
    bool no_tag_probs = ws->no_tag_probs;
    ws_release(ws);
    memset(ws, 0, sizeof *ws);
    ws->c = keep;
    ws->no_tag_probs = no_tag_probs;
}

/* Grows every buffer to hold rows rows of examples examples (keeps nothing). */
static int ws_reserve(pnm_workspace *ws, size_t rows, size_t examples, bool training,
                      pnm_error *err)
{
    if (rows <= ws->cap_rows && examples <= ws->cap_examples && (!training || ws->training))
        return 0;
    const pnm_config *c = &ws->c;
    ws_clear(ws);
    rows = rows > 64 ? rows : 64;
    examples = examples > 8 ? examples : 8;
    size_t b = c->bottleneck, ht = c->token_hidden, hc = c->channel_hidden;
    size_t nt = c->n_tags, k = c->n_labels, ct = training && c->crf ? nt : 0;
    bool ok = true;
#define ALLOC(ptr, count) ok = ok && ((ptr) = alloc_array((count), sizeof *(ptr)))
#define ALLOC_ROW(name, type, width) ALLOC(ws->name, rows * (width));
    WS_ROW_BUFFERS(ALLOC_ROW)
#undef ALLOC_ROW
    for (uint32_t l = 0; l <= c->layers; l++)
        ALLOC(ws->x[l], rows * b);
    for (uint32_t l = 0; l < c->layers; l++) {
        layer_acts *a = &ws->layer[l];
        ALLOC(a->y1, rows * b), ALLOC(a->mean1, rows), ALLOC(a->rstd1, rows);
        ALLOC(a->h1, (training ? examples : 1) * ht * b);
        ALLOC(a->x_mid, rows * b);
        ALLOC(a->y2, rows * b), ALLOC(a->mean2, rows), ALLOC(a->rstd2, rows);
        ALLOC(a->h2, rows * hc), ALLOC(a->g2, rows * hc);
        ALLOC(a->keep_tok, rows * b), ALLOC(a->keep_ch, rows * b);
    }
    ALLOC(ws->row_start, examples + 1), ALLOC(ws->rng, examples);
    ALLOC(ws->pooled, examples * b);
    ALLOC(ws->label_probs, examples * k), ALLOC(ws->label_logits, examples * k);
    ALLOC(ws->g1, ht * b), ALLOC(ws->dg1, ht * b), ALLOC(ws->dpooled, b);
    ALLOC(ws->tag_bias, nt);
    ALLOC(ws->crf_scored, ct ? examples : 0);
#undef ALLOC
    if (ok && ct && pnm_crf_init(&ws->crf, c->n_tags, c->seq_len, err))
        ok = false;
    if (!ok) {
        ws_clear(ws);
        return pnm_error_set(err, "out of memory for %zu rows of activations", rows);
    }
    ws->cap_rows = rows, ws->cap_examples = examples, ws->training = training;
    return 0;
}

/* ---- forward ------------------------------------------------------------- */

/* Bottleneck: row t of an example sums the weight rows of the buckets of
 * words t-w .. t+w (those that exist among its rows), word t+o landing in
 * block o+w. A gather-and-sum: never a product with the zeros. */
static void bottleneck_forward(float *out, const pnm_config *c, const pnm_params *p,
                               const pnm_example *e, uint32_t rows)
{
    size_t b = c->bottleneck, m = c->projection.features, n = c->projection.hashes;
    int64_t w = c->projection.window;
    uint32_t words = e->n_words < rows ? e->n_words : rows;
    for (uint32_t t = 0; t < rows; t++) {
        float *o = out + t * b;
        memcpy(o, p->bott_b, b * sizeof *o);
        for (int64_t k = -w; k <= w; k++) {
            int64_t pos = (int64_t)t + k;
            if (pos < 0 || pos >= words)
                continue;
            gather_add_rows(o, p->bott_w + (size_t)(k + w) * m * b,
                            e->buckets + (size_t)pos * n, n, b);
        }
    }
}

static void bottleneck_backward(const pnm_params *g, const float *dout, const pnm_config *c,
                                const pnm_example *e, uint32_t rows)
{
    size_t b = c->bottleneck, m = c->projection.features, n = c->projection.hashes;
    int64_t w = c->projection.window;
    uint32_t words = e->n_words < rows ? e->n_words : rows;
    for (uint32_t t = 0; t < rows; t++) {
        const float *d = dout + t * b;
        for (size_t j = 0; j < b; j++)
            g->bott_b[j] += d[j];
        for (int64_t k = -w; k <= w; k++) {
            int64_t pos = (int64_t)t + k;
            if (pos < 0 || pos >= words)
                continue;
            scatter_add_rows(g->bott_w + (size_t)(k + w) * m * b, d,
                             e->buckets + (size_t)pos * n, n, b);
        }
    }
}

/* Token mixing of one example (rows L at y, L x b): h1 = W1[:, :L] y + b1,
 * z = W2[:L, :] gelu(h1) + b2[:L]; z is L x b, h1 is h_t x b. */
static void token_mix_forward(float *z, float *h1, float *g1, const float *y, uint32_t rows,
                              const pnm_config *c, const pnm_layer_params *q)
{
    size_t b = c->bottleneck, ht = c->token_hidden, s = c->seq_len, L = rows;
    matmul_bias_rows(h1, q->tok_w1, s, y, q->tok_b1, ht, L, b);
    gelu_forward(g1, h1, ht * b);
    matmul_bias_rows(z, q->tok_w2, ht, g1, q->tok_b2, L, ht, b);
}

static void token_mix_backward(float *dy, const pnm_layer_params *gq, float *g1, float *dg1,
                               const float *dz, const float *h1, const float *y, uint32_t rows,
                               const pnm_config *c, const pnm_layer_params *q)
{
    int b = (int)c->bottleneck, ht = (int)c->token_hidden, s = (int)c->seq_len, L = (int)rows;
    gelu_forward(g1, h1, (size_t)ht * b);
    /* dW2[:L] += dz g1^T; db2[:L] += rows of dz; dg1 = W2[:L]^T dz */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, L, ht, b, 1.0f, dz, b, g1, b, 1.0f,
                gq->tok_w2, ht);
    add_row_sums(gq->tok_b2, dz, (size_t)L, (size_t)b);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ht, b, L, 1.0f, q->tok_w2, ht, dz, b,
                0.0f, dg1, b);
    gelu_backward(dg1, h1, dg1, (size_t)ht * b); /* now dh1 */
    /* dW1[:, :L] += dh1 y^T; db1 += rows of dh1; dy = W1[:, :L]^T dh1 */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, ht, L, b, 1.0f, dg1, b, y, b, 1.0f,
                gq->tok_w1, s);
    add_row_sums(gq->tok_b1, dg1, (size_t)ht, (size_t)b);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, L, b, ht, 1.0f, q->tok_w1, s, dg1, b,
                0.0f, dy, b);
}

static void add(float *x, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] += y[i];
}

/* y += W x, W k x b: a head over one pooled vector. */
static void matvec_add(float *y, const float *w, const float *x, size_t k, size_t b)
{
    for (size_t j = 0; j < k; j++) {
        float v = 0;
        for (size_t d = 0; d < b; d++)
            v += w[j * b + d] * x[d];
        y[j] += v;
    }
}

/* Backward of matvec_add: dW += dy x^T, dx += W^T dy. */
static void matvec_add_backward(float *dw, float *dx, const float *dy, const float *w,
                                const float *x, size_t k, size_t b)
{
    for (size_t j = 0; j < k; j++)
        for (size_t d = 0; d < b; d++) {
            dw[j * b + d] += dy[j] * x[d];
            dx[d] += dy[j] * w[j * b + d];
        }
}

/* The heads over O (rows of each example at ws->o or the caller's rows);
 * with ext_tags, the caller's tag logits before the sentence bias (rows x
 * n_tags each) instead of the float tag head's product. */
static void heads_forward(const pnm_config *c, const pnm_params *p, pnm_workspace *ws,
                          size_t n, const float *const *ext, const float *const *ext_tags)
{
    size_t b = c->bottleneck, k = c->n_labels, nt = c->n_tags;
    for (size_t i = 0; i < n; i++) {
        uint32_t r0 = ws->row_start[i], rows = ws->row_start[i + 1] - r0;
        const float *o = ext ? ext[i] : ws->o + (size_t)r0 * b;
        if (ext_tags && nt)
            memcpy(ws->tag_logits + (size_t)r0 * nt, ext_tags[i],
                   (size_t)rows * nt * sizeof *ws->tag_logits);
        else if (ext && nt)
            memcpy(ws->o + (size_t)r0 * b, o, (size_t)rows * b * sizeof *o);
        if (k) {
            float *pooled = ws->pooled + i * b, *logits = ws->label_logits + i * k;
            attn_pool_forward(pooled, ws->alpha + r0, o, p->pool_q, rows, b);
            /* Lanes over b: one sum a label in order was a chain of adds,
             * each waiting on the one before. */
            linear_forward(logits, pooled, p->cls_w, p->cls_b, 1, b, k);
        }
    }
    size_t total = ws->row_start[n];
    if (!nt)
        return;
    if (!ext_tags)
        linear_forward(ws->tag_logits, ws->o, p->tag_w, p->tag_b, total, b, nt);
    /* Sentence-aware tagging: one tag bias per example from its pooled
     * vector, so the same words can take the slot types of another intent. */
    for (size_t i = 0; i < n && c->tag_sentence; i++) {
        uint32_t r0 = ws->row_start[i], rows = ws->row_start[i + 1] - r0;
        memset(ws->tag_bias, 0, nt * sizeof *ws->tag_bias);
        matvec_add(ws->tag_bias, p->tag_sent_w, ws->pooled + i * b, nt, b);
        for (uint32_t t = 0; t < rows; t++)
            add(ws->tag_logits + ((size_t)r0 + t) * nt, ws->tag_bias, nt);
    }
}

/* Inference's probabilities from the logits of n examples of total rows:
 * the labels', and the tags' unless the caller decodes the logits alone. */
static void inference_probs(pnm_workspace *ws, size_t n, size_t total)
{
    size_t k = ws->c.n_labels, nt = ws->c.n_tags;
    softmax_rows(ws->label_probs, ws->label_logits, k ? n : 0, k);
    if (!ws->no_tag_probs)
        softmax_rows(ws->tag_probs, ws->tag_logits, nt ? total : 0, nt);
}

/* The CRF's loss of example i over its words (up to s), keeping what its
 * backward needs; pnm_crf_set has been called. */
static double crf_loss(pnm_workspace *ws, const pnm_example *e, size_t i,
                       const pnm_step_options *opt)
{
    size_t nt = ws->c.n_tags;
    uint32_t r0 = ws->row_start[i], rows = ws->row_start[i + 1] - r0;
    uint32_t words = e->n_words < rows ? e->n_words : rows, *path = ws->crf_path + r0;
    ws->crf_scored[i] = e->tags && words > 0 &&
                        pnm_crf_gold_path(opt->bio, e->tags, words, path) == 0;
    if (!ws->crf_scored[i])
        return 0;
    const float *x = ws->tag_logits + (size_t)r0 * nt;
    double log_z = pnm_crf_forward(&ws->crf, x, words, ws->crf_alpha + (size_t)r0 * nt,
                                   ws->crf_beta + (size_t)r0 * nt);
    return (log_z - pnm_crf_path_score(&ws->crf, x, words, path)) / opt->batch_tags;
}

double pnm_forward(const pnm_config *c, const pnm_params *p, pnm_workspace *ws,
                   const pnm_example *ex, size_t n, const pnm_step_options *opt,
                   pnm_error *err)
{
    size_t b = c->bottleneck, k = c->n_labels, nt = c->n_tags, ht = c->token_hidden;
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += pnm_example_rows(&ex[i], c->seq_len);
    if (c->crf && opt && (!opt->bio || opt->bio->n_tags != nt)) {
        pnm_error_set(err, "the CRF needs the BIO rules of the model's %zu tags", nt);
        return -1.0;
    }
    if (ws_reserve(ws, total, n, opt != NULL, err))
        return -1.0;
    ws->n = n;
    ws->row_start[0] = 0;
    for (size_t i = 0; i < n; i++) {
        ws->row_start[i + 1] = ws->row_start[i] + pnm_example_rows(&ex[i], c->seq_len);
        if (opt)
            ws->rng[i] = opt->dropout_seed ^ (ex[i].n_words * 0x9E3779B97F4A7C15ull + i);
    }
    float pdrop = opt ? opt->dropout : 0.0f;
    for (size_t i = 0; i < n; i++) {
        uint32_t r0 = ws->row_start[i], rows = ws->row_start[i + 1] - r0;
        bottleneck_forward(ws->x[0] + (size_t)r0 * b, c, p, &ex[i], rows);
        if (pdrop > 0)
            dropout_forward(ws->x[0] + (size_t)r0 * b, ws->keep0 + (size_t)r0 * b,
                            (size_t)rows * b, pdrop, &ws->rng[i]);
    }
    for (uint32_t l = 0; l < c->layers; l++) {
        const pnm_layer_params *q = &p->layer[l];
        layer_acts *a = &ws->layer[l];
        const float *x = ws->x[l];
        layernorm_forward(a->y1, a->mean1, a->rstd1, x, q->ln1_g, q->ln1_b, total, b);
        memcpy(a->x_mid, x, total * b * sizeof *x);
        for (size_t i = 0; i < n; i++) {
            uint32_t r0 = ws->row_start[i], rows = ws->row_start[i + 1] - r0;
            float *z = ws->dz + (size_t)r0 * b;
            token_mix_forward(z, a->h1 + (opt ? i * ht * b : 0), ws->g1, a->y1 + (size_t)r0 * b,
                              rows, c, q);
            if (pdrop > 0)
                dropout_forward(z, a->keep_tok + (size_t)r0 * b, (size_t)rows * b, pdrop,
                                &ws->rng[i]);
        }
        add(a->x_mid, ws->dz, total * b);
        layernorm_forward(a->y2, a->mean2, a->rstd2, a->x_mid, q->ln2_g, q->ln2_b, total, b);
        linear_forward(a->h2, a->y2, q->ch_w1, q->ch_b1, total, b, c->channel_hidden);
        gelu_forward(a->g2, a->h2, total * c->channel_hidden);
        linear_forward(ws->dz, a->g2, q->ch_w2, q->ch_b2, total, c->channel_hidden, b);
        if (pdrop > 0)
            for (size_t i = 0; i < n; i++) {
                uint32_t r0 = ws->row_start[i], rows = ws->row_start[i + 1] - r0;
                dropout_forward(ws->dz + (size_t)r0 * b, a->keep_ch + (size_t)r0 * b,
                                (size_t)rows * b, pdrop, &ws->rng[i]);
            }
        memcpy(ws->x[l + 1], a->x_mid, total * b * sizeof *x);
        add(ws->x[l + 1], ws->dz, total * b);
    }
    layernorm_forward(ws->o, ws->mean_f, ws->rstd_f, ws->x[c->layers], p->ln_g, p->ln_b, total, b);
    heads_forward(c, p, ws, n, NULL, NULL);
    if (!opt) {
        /* Inference: no loss; the probabilities as pnm_heads_forward has them. */
        inference_probs(ws, n, total);
        return 0;
    }
    if (c->crf)
        pnm_crf_set(&ws->crf, opt->bio, p->tag_trans, p->tag_start, p->tag_end);

    double loss = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t r0 = ws->row_start[i], rows = ws->row_start[i + 1] - r0;
        if (k) {
            int32_t label = ex[i].label;
            bool scored = label >= 0 && (uint32_t)label < k;
            double l = softmax_xent(ws->label_probs + i * k, NULL, ws->label_logits + i * k, k,
                                    scored ? (uint32_t)label : 0, 0);
            if (scored)
                loss += l / opt->batch_examples;
        }
        if (nt) {
            uint32_t words = ex[i].n_words < rows ? ex[i].n_words : rows;
            for (uint32_t t = 0; t < rows; t++) {
                int32_t tag = !c->crf && ex[i].tags && t < words ? ex[i].tags[t] : -1;
                bool scored = tag >= 0 && (uint32_t)tag < nt;
                size_t at = ((size_t)r0 + t) * nt;
                double l = softmax_xent(ws->tag_probs + at, NULL, ws->tag_logits + at, nt,
                                        scored ? (uint32_t)tag : 0, 0);
                if (scored)
                    loss += l / opt->batch_tags;
            }
            if (c->crf)
                loss += crf_loss(ws, &ex[i], i, opt);
        }
    }
    return loss;
}

/* ---- backward ------------------------------------------------------------ */

/* Example i's tag logit gradients, in place of its logits, and its
 * transition gradients (rows past its words, or all of an example without
 * loss, get 0). */
static void crf_loss_backward(const pnm_params *g, pnm_workspace *ws, size_t i, uint32_t words,
                              const pnm_step_options *opt)
{
    size_t nt = ws->c.n_tags;
    uint32_t r0 = ws->row_start[i], rows = ws->row_start[i + 1] - r0;
    float *x = ws->tag_logits + (size_t)r0 * nt;
    uint32_t scored = ws->crf_scored[i] ? words : 0;
    if (scored)
        pnm_crf_nll_backward(&ws->crf, words, ws->crf_path + r0,
                             ws->crf_alpha + (size_t)r0 * nt, ws->crf_beta + (size_t)r0 * nt,
                             1.0f / opt->batch_tags, x, g->tag_trans, g->tag_start, g->tag_end);
    memset(x + (size_t)scored * nt, 0, (size_t)(rows - scored) * nt * sizeof *x);
}

void pnm_backward(const pnm_config *c, const pnm_params *p, const pnm_params *g,
                  pnm_workspace *ws, const pnm_example *ex, size_t n,
                  const pnm_step_options *opt)
{
    size_t b = c->bottleneck, k = c->n_labels, nt = c->n_tags, ht = c->token_hidden;
    size_t hc = c->channel_hidden, total = ws->row_start[n];
    float *dx = ws->dx;
    memset(dx, 0, total * b * sizeof *dx);
    /* Heads: dO accumulates in dy. The tagging head goes first: with
     * sentence-aware tagging its gradient reaches the pooled vector too. */
    float *dO = ws->dy;
    memset(dO, 0, total * b * sizeof *dO);
    if (nt) {
        for (size_t i = 0; i < n; i++) {
            uint32_t r0 = ws->row_start[i], rows = ws->row_start[i + 1] - r0;
            uint32_t words = ex[i].n_words < rows ? ex[i].n_words : rows;
            if (c->crf) {
                crf_loss_backward(g, ws, i, words, opt);
                continue;
            }
            for (uint32_t t = 0; t < rows; t++) {
                int32_t tag = ex[i].tags && t < words ? ex[i].tags[t] : -1;
                float *dl = ws->tag_logits + ((size_t)r0 + t) * nt;
                if (tag < 0 || (uint32_t)tag >= nt)
                    memset(dl, 0, nt * sizeof *dl);
                else
                    softmax_xent(ws->tag_probs + ((size_t)r0 + t) * nt, dl, dl, nt,
                                 (uint32_t)tag, 1.0f / opt->batch_tags);
            }
        }
        linear_backward(dO, g->tag_w, g->tag_b, ws->tag_logits, ws->o, p->tag_w, total, b, nt);
    }
    for (size_t i = 0; i < n && k; i++) {
        uint32_t r0 = ws->row_start[i], rows = ws->row_start[i + 1] - r0;
        const float *pooled = ws->pooled + i * b;
        memset(ws->dpooled, 0, b * sizeof *ws->dpooled);
        int32_t label = ex[i].label;
        bool scored = label >= 0 && (uint32_t)label < k;
        if (scored) {
            float *dlogits = ws->label_logits + i * k; /* logits are no longer needed */
            softmax_xent(ws->label_probs + i * k, dlogits, ws->label_logits + i * k, k,
                         (uint32_t)label, 1.0f / opt->batch_examples);
            add(g->cls_b, dlogits, k);
            matvec_add_backward(g->cls_w, ws->dpooled, dlogits, p->cls_w, pooled, k, b);
        }
        if (c->tag_sentence) {
            /* The example's tag bias got the sum of its rows' gradients. */
            memset(ws->tag_bias, 0, nt * sizeof *ws->tag_bias);
            for (uint32_t t = 0; t < rows; t++)
                add(ws->tag_bias, ws->tag_logits + ((size_t)r0 + t) * nt, nt);
            matvec_add_backward(g->tag_sent_w, ws->dpooled, ws->tag_bias, p->tag_sent_w,
                                pooled, nt, b);
            scored = true;
        }
        if (scored)
            attn_pool_backward(dO + (size_t)r0 * b, g->pool_q, ws->dpooled, ws->alpha + r0,
                               ws->o + (size_t)r0 * b, p->pool_q, rows, b);
    }
    layernorm_backward(dx, g->ln_g, g->ln_b, dO, ws->x[c->layers], p->ln_g, ws->mean_f,
                       ws->rstd_f, total, b);

    float pdrop = opt->dropout;
    for (uint32_t l = c->layers; l-- > 0;) {
        const pnm_layer_params *q = &p->layer[l], *gq = &g->layer[l];
        layer_acts *a = &ws->layer[l];
        /* Channel mixing: x_out = x_mid + drop(W2 gelu(W1 LN2(x_mid))). */
        float *dz = ws->dz;
        memcpy(dz, dx, total * b * sizeof *dz);
        if (pdrop > 0)
            dropout_backward(dz, a->keep_ch, total * b, pdrop);
        memset(ws->dg2, 0, total * hc * sizeof *ws->dg2);
        linear_backward(ws->dg2, gq->ch_w2, gq->ch_b2, dz, a->g2, q->ch_w2, total, hc, b);
        gelu_backward(ws->dh2, a->h2, ws->dg2, total * hc);
        memset(ws->dy, 0, total * b * sizeof *ws->dy);
        linear_backward(ws->dy, gq->ch_w1, gq->ch_b1, ws->dh2, a->y2, q->ch_w1, total, b, hc);
        layernorm_backward(dx, gq->ln2_g, gq->ln2_b, ws->dy, a->x_mid, q->ln2_g, a->mean2,
                           a->rstd2, total, b);
        /* Token mixing, one example at a time. */
        memcpy(dz, dx, total * b * sizeof *dz);
        if (pdrop > 0)
            dropout_backward(dz, a->keep_tok, total * b, pdrop);
        for (size_t i = 0; i < n; i++) {
            uint32_t r0 = ws->row_start[i], rows = ws->row_start[i + 1] - r0;
            token_mix_backward(ws->dy + (size_t)r0 * b, gq, ws->g1, ws->dg1,
                               dz + (size_t)r0 * b, a->h1 + i * ht * b, a->y1 + (size_t)r0 * b,
                               rows, c, q);
        }
        layernorm_backward(dx, gq->ln1_g, gq->ln1_b, ws->dy, ws->x[l], q->ln1_g, a->mean1,
                           a->rstd1, total, b);
    }
    if (pdrop > 0)
        dropout_backward(dx, ws->keep0, total * b, pdrop);
    for (size_t i = 0; i < n; i++) {
        uint32_t r0 = ws->row_start[i], rows = ws->row_start[i + 1] - r0;
        bottleneck_backward(g, dx + (size_t)r0 * b, c, &ex[i], rows);
    }
}

/* ---- results ------------------------------------------------------------- */

const float *pnm_output_rows(const pnm_workspace *ws, size_t i, uint32_t *rows)
{
    *rows = ws->row_start[i + 1] - ws->row_start[i];
    return ws->o + (size_t)ws->row_start[i] * ws->c.bottleneck;
}

const float *pnm_label_probs(const pnm_workspace *ws, size_t i)
{
    return ws->label_probs + i * ws->c.n_labels;
}

const float *pnm_tag_probs(const pnm_workspace *ws, size_t i, uint32_t *rows)
{
    *rows = ws->row_start[i + 1] - ws->row_start[i];
    return ws->tag_probs + (size_t)ws->row_start[i] * ws->c.n_tags;
}

const float *pnm_tag_logits(const pnm_workspace *ws, size_t i, uint32_t *rows)
{
    *rows = ws->row_start[i + 1] - ws->row_start[i];
    return ws->tag_logits + (size_t)ws->row_start[i] * ws->c.n_tags;
}

/* pnm_heads_forward and pnm_heads_forward_tagged. */
static int heads_only(const pnm_config *c, const pnm_params *p, pnm_workspace *ws,
                      const float *const *outputs, const float *const *tag_logits,
                      const uint32_t *rows, size_t n, pnm_error *err)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += rows[i];
    if (ws_reserve(ws, total, n, false, err))
        return -1;
    ws->n = n;
    ws->row_start[0] = 0;
    for (size_t i = 0; i < n; i++)
        ws->row_start[i + 1] = ws->row_start[i] + rows[i];
    heads_forward(c, p, ws, n, outputs, tag_logits);
    inference_probs(ws, n, total);
    return 0;
}

int pnm_heads_forward(const pnm_config *c, const pnm_params *p, pnm_workspace *ws,
                      const float *const *outputs, const uint32_t *rows, size_t n,
                      pnm_error *err)
{
    if (c->n_tags && !p->tag_w)
        return pnm_error_set(err, "the tagging head is int8: run the heads with pnm_qheads_forward");
    return heads_only(c, p, ws, outputs, NULL, rows, n, err);
}

int pnm_heads_forward_tagged(const pnm_config *c, const pnm_params *p, pnm_workspace *ws,
                             const float *const *outputs, const float *const *tag_logits,
                             const uint32_t *rows, size_t n, pnm_error *err)
{
    return heads_only(c, p, ws, outputs, tag_logits, rows, n, err);
}
