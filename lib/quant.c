#include "quant.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"

/* The quantized matrices in stored order, with their shapes. */
typedef struct qslot {
    pnm_qmatrix *m;
    uint32_t rows, cols;
    bool by_column;
    const float *w; /* the float tensor, when quantizing */
} qslot;

static size_t slots_of(pnm_qweights *q, const pnm_params *p, qslot *s)
{
    const pnm_config *c = &q->config;
    uint32_t b = c->bottleneck, sl = c->seq_len, ht = c->token_hidden, hc = c->channel_hidden;
    uint32_t in = (2 * c->projection.window + 1) * c->projection.features;
    size_t n = 0;
    s[n++] = (qslot){&q->bott_w, in, b, true, p ? p->bott_w : NULL};
    for (uint32_t l = 0; l < c->layers; l++) {
        pnm_qlayer *ql = &q->layer[l];
        const pnm_layer_params *pl = p ? &p->layer[l] : NULL;
        s[n++] = (qslot){&ql->tok_w1, ht, sl, false, pl ? pl->tok_w1 : NULL};
        s[n++] = (qslot){&ql->tok_w2, sl, ht, false, pl ? pl->tok_w2 : NULL};
        s[n++] = (qslot){&ql->ch_w1, hc, b, false, pl ? pl->ch_w1 : NULL};
        s[n++] = (qslot){&ql->ch_w2, b, hc, false, pl ? pl->ch_w2 : NULL};
    }
    if (q->tags)
        s[n++] = (qslot){&q->tag_w, c->n_tags, b, false, p ? p->tag_w : NULL};
    return n;
}

#define MAX_SLOTS (2 + 4 * PNM_MAX_LAYERS)

static size_t slot_scales(const qslot *s)
{
    return s->by_column ? s->cols : s->rows;
}

size_t pnm_qweights_bytes(const pnm_config *c, bool tags)
{
    pnm_qweights q = {.config = *c, .tags = tags && c->n_tags};
    qslot s[MAX_SLOTS];
    size_t n = slots_of(&q, NULL, s), total = 0;
    for (size_t i = 0; i < n; i++)
        total += 4 * slot_scales(&s[i]) + (size_t)s[i].rows * s[i].cols;
    return total;
}

static void matrix_free(pnm_qmatrix *m)
{
    free(m->scale);
    free(m->q);
}

void pnm_qweights_free(pnm_qweights *q)
{
    if (!q)
        return;
    matrix_free(&q->bott_w);
    for (uint32_t l = 0; l < PNM_MAX_LAYERS; l++) {
        pnm_qlayer *ql = &q->layer[l];
        matrix_free(&ql->tok_w1), matrix_free(&ql->tok_w2);
        matrix_free(&ql->ch_w1), matrix_free(&ql->ch_w2);
        free(ql->tok_a1), free(ql->tok_comp1), free(ql->tok_a2), free(ql->tok_comp2);
        free(ql->ch_b1), free(ql->ch_comp1), free(ql->ch_b2), free(ql->ch_comp2);
    }
    matrix_free(&q->tag_w);
    free(q->tag_b), free(q->tag_comp);
    free(q);
}

/* Allocates every slot's matrix; -1 when out of memory. */
static int alloc_slots(const qslot *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        pnm_qmatrix *m = s[i].m;
        *m = (pnm_qmatrix){s[i].rows, s[i].cols, s[i].by_column,
                           malloc(slot_scales(&s[i]) * sizeof *m->scale),
                           malloc((size_t)s[i].rows * s[i].cols)};
        if (!m->scale || !m->q)
            return -1;
    }
    return 0;
}

/* rows x cols int8 from m, columns padded with zeros to a stride of ld. */
static int8_t *padded(const pnm_qmatrix *m, size_t ld)
{
    int8_t *a = calloc((size_t)m->rows * ld, 1);
    for (uint32_t r = 0; a && r < m->rows; r++)
        memcpy(a + r * ld, m->q + (size_t)r * m->cols, m->cols);
    return a;
}

/* m^T packed for the kernels (k = pad(cols), n = pad(rows)): the product
 * x m^T of activation rows x. */
static uint8_t *packed_transpose(const pnm_qmatrix *m)
{
    size_t k = pnm_qpad(m->cols), n = pnm_qpad(m->rows);
    uint8_t *b = calloc(k * n, 1);
    for (uint32_t o = 0; b && o < m->rows; o++)
        for (uint32_t i = 0; i < m->cols; i++)
            b[((i / 4) * n + o) * 4 + i % 4] = (uint8_t)m->q[(size_t)o * m->cols + i];
    return b;
}

/* 128 x the row sums of m, in n >= rows values (zero past the rows). */
static int32_t *shift_comp(const pnm_qmatrix *m, size_t n)
{
    int32_t *s = calloc(n, sizeof *s);
    for (uint32_t r = 0; s && r < m->rows; r++) {
        int32_t sum = 0;
        for (uint32_t i = 0; i < m->cols; i++)
            sum += m->q[(size_t)r * m->cols + i];
        s[r] = 128 * sum;
    }
    return s;
}

/* The prefix sums of tok_comp1 (quant.h) from a (rows x ld, ld a multiple
 * of 4): token mixing's first product runs to a depth of the example's
 * length rounded up to 4, and its shift correction was summed anew for
 * each example (2 to 3 % of pnm-classify). */
static int32_t *prefix_comp(const int8_t *a, size_t rows, size_t ld)
{
    size_t steps = ld / 4;
    int32_t *s = a ? malloc(steps * rows * sizeof *s) : NULL;
    for (size_t r = 0; s && r < rows; r++) {
        int32_t sum = 0;
        for (size_t k = 0; k < steps; k++) {
            for (size_t i = 4 * k; i < 4 * k + 4; i++)
                sum += a[r * ld + i];
            s[k * rows + r] = 128 * sum;
        }
    }
    return s;
}

/* The kernels' layouts, from the stored values. */
static int derive(pnm_qweights *q)
{
    const pnm_config *c = &q->config;
    for (uint32_t l = 0; l < c->layers; l++) {
        pnm_qlayer *ql = &q->layer[l];
        ql->tok_a1 = padded(&ql->tok_w1, pnm_qpad(c->seq_len));
        ql->tok_comp1 = prefix_comp(ql->tok_a1, c->token_hidden, pnm_qpad(c->seq_len));
        ql->tok_a2 = padded(&ql->tok_w2, pnm_qpad(c->token_hidden));
        ql->tok_comp2 = shift_comp(&ql->tok_w2, c->seq_len);
        ql->ch_b1 = packed_transpose(&ql->ch_w1);
        ql->ch_comp1 = shift_comp(&ql->ch_w1, pnm_qpad(c->channel_hidden));
        ql->ch_b2 = packed_transpose(&ql->ch_w2);
        ql->ch_comp2 = shift_comp(&ql->ch_w2, pnm_qpad(c->bottleneck));
        if (!ql->tok_a1 || !ql->tok_comp1 || !ql->tok_a2 || !ql->tok_comp2 || !ql->ch_b1 || !ql->ch_comp1 ||
            !ql->ch_b2 || !ql->ch_comp2)
            return -1;
    }
    if (!q->tags)
        return 0;
    q->tag_b = packed_transpose(&q->tag_w);
    q->tag_comp = shift_comp(&q->tag_w, pnm_qpad(c->n_tags));
    return q->tag_b && q->tag_comp ? 0 : -1;
}

/* Symmetric per channel: scale = max |w| / 127 over the channel, q =
 * round(w / scale); a channel of zeros gets scale 0 and q 0. */
static void quantize_matrix(pnm_qmatrix *m, const float *w)
{
    size_t channels = m->by_column ? m->cols : m->rows;
    size_t len = m->by_column ? m->rows : m->cols;
    size_t step = m->by_column ? m->cols : 1, stride = m->by_column ? 1 : m->cols;
    for (size_t ch = 0; ch < channels; ch++) {
        const float *x = w + ch * stride;
        float max = 0;
        for (size_t i = 0; i < len; i++)
            max = fmaxf(max, fabsf(x[i * step]));
        float scale = max / 127.0f, inv = max > 0 ? 127.0f / max : 0.0f;
        m->scale[ch] = scale;
        for (size_t i = 0; i < len; i++) {
            float v = roundf(x[i * step] * inv);
            m->q[ch * stride + i * step] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
        }
    }
}

static pnm_qweights *build(const pnm_config *c, const pnm_params *p, const uint8_t *in,
                           bool tags, pnm_error *err)
{
    pnm_qweights *q = calloc(1, sizeof *q);
    if (!q) {
        pnm_error_set(err, "out of memory");
        return NULL;
    }
    q->config = *c;
    q->tags = tags && c->n_tags;
    qslot s[MAX_SLOTS];
    size_t n = slots_of(q, p, s);
    if (alloc_slots(s, n)) {
        pnm_error_set(err, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        pnm_qmatrix *m = s[i].m;
        size_t scales = slot_scales(&s[i]), values = (size_t)m->rows * m->cols;
        if (p) {
            quantize_matrix(m, s[i].w);
            continue;
        }
        for (size_t k = 0; k < scales; k++, in += 4) {
            uint32_t bits = pnm_get_u32(in);
            memcpy(&m->scale[k], &bits, 4);
            if (!isfinite(m->scale[k]) || m->scale[k] < 0) {
                pnm_error_set(err, "int8 matrix %zu: scale %zu is %g", i, k,
                              (double)m->scale[k]);
                goto fail;
            }
        }
        memcpy(m->q, in, values);
        in += values;
    }
    if (derive(q)) {
        pnm_error_set(err, "out of memory");
        goto fail;
    }
    return q;
fail:
    pnm_qweights_free(q);
    return NULL;
}

pnm_qweights *pnm_qweights_quantize(const pnm_config *c, const pnm_params *p, bool tags,
                                    pnm_error *err)
{
    return build(c, p, NULL, tags, err);
}

pnm_qweights *pnm_qweights_decode(const pnm_config *c, const uint8_t *in, bool tags,
                                  pnm_error *err)
{
    return build(c, NULL, in, tags, err);
}

void pnm_qweights_encode(const pnm_qweights *q, uint8_t *out)
{
    qslot s[MAX_SLOTS];
    size_t n = slots_of((pnm_qweights *)q, NULL, s);
    for (size_t i = 0; i < n; i++) {
        const pnm_qmatrix *m = s[i].m;
        size_t scales = slot_scales(&s[i]), values = (size_t)m->rows * m->cols;
        for (size_t k = 0; k < scales; k++, out += 4) {
            uint32_t bits;
            memcpy(&bits, &m->scale[k], 4);
            pnm_put_u32(out, bits);
        }
        memcpy(out, m->q, values);
        out += values;
    }
}
