/* int8 inference: the kernels give the same int32 bits in every variant,
 * quantization stays within half a step, the int8 forward and tagging head
 * follow the float ones, and an int8 model file (with a float or an int8
 * tagging head) round-trips and is validated. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gelu.h"
#include "pnm.h"
#include "tap.h"

static const char *const set_names[] = {"portable", "avx2", "avx512", "avx512vnni"};
#define N_SETS (sizeof set_names / sizeof *set_names)

static uint8_t rand_byte(uint64_t *rng)
{
    return (uint8_t)(pnm_rand_next(rng) >> 56);
}

/* c = a b by the definition, b given unpacked (k x n). */
static void gemm_reference(int32_t *c, const uint8_t *a, const uint8_t *b, size_t rows,
                           size_t n, size_t k, bool a_signed)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < n; j++) {
            int32_t sum = 0;
            for (size_t i = 0; i < k; i++) {
                int32_t x = a_signed ? (int8_t)a[r * k + i] : a[r * k + i];
                int32_t y = a_signed ? b[i * n + j] : (int8_t)b[i * n + j];
                sum += x * y;
            }
            c[r * n + j] = sum;
        }
}

static void test_kernels(void)
{
    static const size_t shapes[][3] = {{1, 16, 4},  {3, 16, 8},   {4, 64, 12},  {5, 80, 64},
                                       {9, 272, 20}, {13, 48, 256}, {256, 256, 12}};
    uint64_t rng = 99;
    for (size_t s = 0; s < N_SETS; s++) {
        const pnm_qkernels *k = pnm_qkernels_find(set_names[s]);
        if (!k) {
            printf("# %s: this CPU cannot run it, not tested\n", set_names[s]);
            continue;
        }
        int same = 1;
        for (size_t t = 0; t < sizeof shapes / sizeof *shapes; t++) {
            size_t rows = shapes[t][0], n = shapes[t][1], kk = shapes[t][2];
            uint8_t *a = malloc(rows * kk), *b = malloc(kk * n), *bp = malloc(kk * n);
            int32_t *want = malloc(rows * n * sizeof *want), *got = malloc(rows * n * 4);
            for (size_t i = 0; i < rows * kk; i++)
                a[i] = rand_byte(&rng);
            for (size_t i = 0; i < kk * n; i++)
                b[i] = rand_byte(&rng);
            /* Extremes too: every sum must stay exact. */
            memset(a, t % 2 ? 0xFF : 0x80, kk);
            for (size_t i = 0; i < kk; i++)
                for (size_t j = 0; j < n; j++)
                    bp[((i / 4) * n + j) * 4 + i % 4] = b[i * n + j];
            for (int sign = 0; sign < 2; sign++) {
                gemm_reference(want, a, b, rows, n, kk, sign);
                (sign ? k->gemm_su : k->gemm_us)(got, n, a, kk, bp, rows, n, kk);
                same &= memcmp(want, got, rows * n * sizeof *got) == 0;
            }
            free(a), free(b), free(bp), free(want), free(got);
        }
        char what[128];
        snprintf(what, sizeof what, "%s: both products equal the definition, bit for bit",
                 set_names[s]);
        CHECK(same, what);

        same = 1;
        /* More than 256 rows: sums pass what int16 holds; all -128: the
         * most negative sums. */
        static const size_t widths[] = {1, 5, 16, 64, 100, 256, 300, 96, 288};
        static const size_t counts[] = {40, 40, 40, 600, 40, 40, 40, 600, 1000};
        for (size_t t = 0; t < sizeof widths / sizeof *widths; t++) {
            size_t c = widths[t], rows = 50, n = counts[t];
            int8_t *table = malloc(rows * c);
            uint16_t idx[1000];
            int32_t want[300], got[300];
            for (size_t i = 0; i < rows * c; i++)
                table[i] = t == 7 ? -128 : t == 8 ? 127 : (int8_t)rand_byte(&rng);
            for (size_t i = 0; i < n; i++)
                idx[i] = (uint16_t)(pnm_rand_next(&rng) % rows);
            idx[1] = idx[0]; /* a repeated bucket counts twice */
            for (size_t j = 0; j < c; j++)
                want[j] = got[j] = (int32_t)j - 7;
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < c; j++)
                    want[j] += table[idx[i] * c + j];
            k->gather(got, table, idx, n, c);
            same &= memcmp(want, got, c * sizeof *got) == 0;
            free(table);
        }
        snprintf(what, sizeof what, "%s: the gather adds the rows exactly", set_names[s]);
        CHECK(same, what);
    }
    const pnm_qkernels *best = pnm_qkernels_best();
    CHECK(best && pnm_qkernels_find(best->name) == best && !pnm_qkernels_find("sse9"),
          "the best set is one this CPU runs; an unknown name is none");
}

/* Whether the portable set's C runs a PNM_SIMD_CLONES build that
 * contracts a * b + c into FMAs (x86-64-v3 or v4), as the intrinsics do. */
static bool portable_has_fma(void)
{
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("x86-64-v3");
#else
    return false;
#endif
}

/* A GELU pass of set k against pnm_gelu here (built without FMA, so
 * within rounding: 1e-6 of the terms' size) and, given portable, against
 * its bits, but for the values below 1e-30 that GELU of a large negative x
 * gives (where the C clamps 2^y and AVX-512 scales exactly). */
static bool bits_alike(float a, float b)
{
    return a == b || (fabsf(a) < 1e-30f && fabsf(b) < 1e-30f);
}

static void check_gelu_pass(const pnm_qkernels *k, const pnm_qkernels *portable, bool by_row,
                            size_t rows, size_t n, uint64_t *rng, int *close, int *same)
{
    size_t ldc = n + 16;
    int32_t *acc = malloc(rows * ldc * sizeof *acc), *comp = malloc((rows + n) * sizeof *comp);
    float *ws = malloc((rows + n) * sizeof *ws), *as = malloc((rows + n) * sizeof *as);
    float *bias = malloc((rows + n) * sizeof *bias);
    float *got = malloc(rows * n * sizeof *got), *ref = malloc(rows * n * sizeof *ref);
    float max[300], ref_max[300];
    for (size_t i = 0; i < rows * ldc; i++)
        acc[i] = (int32_t)(pnm_rand_next(rng) >> 44) - (1 << 19);
    for (size_t i = 0; i < rows + n; i++) {
        comp[i] = (int32_t)(pnm_rand_next(rng) >> 48) - (1 << 15);
        ws[i] = 1e-3f + (float)(pnm_rand_next(rng) >> 40) * 1e-10f;
        as[i] = 2e-3f + (float)(pnm_rand_next(rng) >> 40) * 1e-10f;
        bias[i] = (float)(pnm_rand_next(rng) >> 40) * 1e-7f - 0.8f;
    }
    /* Far out on both sides: 2^y overflows and underflows. */
    acc[0] = 1 << 30, acc[1] = -(1 << 30), acc[ldc * (rows - 1) + n - 1] = -(1 << 27);
    for (size_t j = 0; j < n; j++)
        max[j] = ref_max[j] = j % 3 ? 0.0f : 0.5f;
    if (by_row)
        k->gelu_rows(got, max, acc, ldc, comp, ws, as, bias, rows, n);
    else
        k->gelu_columns(got, NULL, acc, ldc, comp, ws, as, bias, rows, n);
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < n; j++) {
            size_t w = by_row ? r : j, a = by_row ? j : r; /* weights', activations' index */
            float h = (float)(acc[r * ldc + j] - comp[w]) * (ws[w] * as[a]);
            float want = pnm_gelu(h + bias[w]), g = got[r * n + j];
            *close &= fabsf(g - want) <= 1e-6f * (fabsf(h) + fabsf(bias[w]) + 1.0f);
            if (by_row)
                ref_max[j] = pnm_max_abs(ref_max[j], g);
        }
    if (by_row)
        *close &= memcmp(max, ref_max, n * sizeof *max) == 0;
    if (portable) {
        float pmax[300];
        for (size_t j = 0; j < n; j++)
            pmax[j] = j % 3 ? 0.0f : 0.5f;
        (by_row ? portable->gelu_rows : portable->gelu_columns)(ref, by_row ? pmax : NULL, acc,
                                                                ldc, comp, ws, as, bias, rows, n);
        for (size_t i = 0; i < rows * n; i++)
            *same &= bits_alike(got[i], ref[i]);
        for (size_t j = 0; by_row && j < n; j++)
            *same &= bits_alike(max[j], pmax[j]);
    }
    free(acc), free(comp), free(ws), free(as), free(bias), free(got), free(ref);
}

static void test_gelu_passes(void)
{
    static const size_t shapes[][2] = {{1, 16}, {3, 20}, {16, 128}, {5, 5}, {7, 256}, {2, 33}};
    const pnm_qkernels *portable = pnm_qkernels_find("portable");
    bool fma = portable_has_fma();
    uint64_t rng = 17;
    for (size_t s = 0; s < N_SETS; s++) {
        const pnm_qkernels *k = pnm_qkernels_find(set_names[s]);
        if (!k)
            continue;
        int close = 1, same = 1;
        for (size_t t = 0; t < sizeof shapes / sizeof *shapes; t++)
            for (int by_row = 0; by_row < 2; by_row++)
                check_gelu_pass(k, fma && k != portable ? portable : NULL, by_row,
                                shapes[t][0], shapes[t][1], &rng, &close, &same);
        char what[128];
        snprintf(what, sizeof what, "%s: GELU passes follow pnm_gelu, column maxima exact",
                 set_names[s]);
        CHECK(close, what);
        snprintf(what, sizeof what, "%s: GELU passes give the portable set's bits",
                 set_names[s]);
        if (fma && k != portable)
            CHECK(same, what);
    }
}

/* Odd sizes: every padding path of the kernels' layouts is taken. */
static pnm_config odd_config(void)
{
    pnm_config c = {.projection = {40, 6, 1, 5}, .seq_len = 7, .bottleneck = 20,
                    .token_hidden = 13, .channel_hidden = 24, .layers = 2,
                    .n_labels = 3, .n_tags = 4};
    return c;
}

/* The float tag logits O tag_w^T + tag_b of rows rows of O. */
static void tag_reference(float *x, const pnm_config *c, const pnm_params *p, const float *o,
                          uint32_t rows)
{
    for (uint32_t r = 0; r < rows; r++)
        for (uint32_t j = 0; j < c->n_tags; j++) {
            double sum = p->tag_b[j];
            for (uint32_t d = 0; d < c->bottleneck; d++)
                sum += (double)o[r * c->bottleneck + d] * p->tag_w[j * c->bottleneck + d];
            x[r * c->n_tags + j] = (float)sum;
        }
}

/* The int8 tagging head against the float one, the same bits with every
 * kernel set, and pnm_qheads_forward against pnm_heads_forward; p the
 * float model, kp its floats without the int8 matrices (q's). */
static void test_tag_head(const pnm_config *c, const pnm_params *p, const pnm_params *kp,
                          const pnm_qweights *q)
{
    enum { ROWS = 7 };
    float o[ROWS * 20], want[ROWS * 4], first[ROWS * 4];
    uint64_t rng = 11;
    for (size_t i = 0; i < ROWS * 20; i++)
        o[i] = 4.0f * pnm_rand_uniform(&rng) - 2.0f;
    memset(o + 20, 0, 20 * sizeof *o); /* a row of zeros quantizes to zeros */
    tag_reference(want, c, p, o, ROWS);
    int same = 1, ran = 0;
    double worst = 0;
    for (size_t s = 0; s < N_SETS; s++) {
        const pnm_qkernels *k = pnm_qkernels_find(set_names[s]);
        pnm_qheads *h = k ? pnm_qheads_new(c, k) : NULL;
        if (!h)
            continue;
        const float *x = pnm_qtag_logits(h, q, kp->tag_b, o, ROWS);
        for (size_t i = 0; i < ROWS * 4; i++)
            worst = fmax(worst, fabs(x[i] - want[i]));
        if (ran++)
            same &= memcmp(x, first, sizeof first) == 0;
        else
            memcpy(first, x, sizeof first);
        pnm_qheads_free(h);
    }
    char what[128];
    snprintf(what, sizeof what, "int8 tag logits within 0.05 of the float ones (%.4f)", worst);
    CHECK(ran && worst < 0.05, what);
    CHECK(same, "int8 tag logits: the same bits with every kernel set");
    CHECK(first[4] == p->tag_b[0] && first[7] == p->tag_b[3], "a row of zeros gets the biases");

    /* Through the heads: the workspace's logits are the int8 head's. */
    pnm_error err;
    pnm_workspace *ws = pnm_workspace_new(c);
    pnm_qheads *h = pnm_qheads_new(c, NULL);
    uint32_t rows = ROWS;
    const float *in = o, *x;
    int ok = ws && h && pnm_qheads_forward(h, q, kp, ws, o, ROWS, &err) == 0;
    x = ok ? pnm_tag_logits(ws, 0, &rows) : NULL;
    CHECK(ok && rows == ROWS && memcmp(x, first, sizeof first) == 0,
          "pnm_qheads_forward: the tag logits are pnm_qtag_logits'");
    CHECK(pnm_heads_forward(c, kp, ws, &in, &rows, 1, &err) == -1 &&
              strstr(err.msg, "tagging head is int8"),
          "pnm_heads_forward refuses a tagging head without float weights");
    CHECK(pnm_qheads_forward(h, q, kp, ws, o, c->seq_len + 1, &err) == -1 &&
              strstr(err.msg, "sequence length"),
          "pnm_qheads_forward refuses more rows than the sequence length");
    pnm_qheads_free(h);
    pnm_workspace_free(ws);
}

static void test_quantize(void)
{
    pnm_config c = odd_config();
    size_t count = pnm_params_count(&c);
    float *arena = malloc(count * sizeof *arena);
    pnm_params p;
    pnm_params_bind(&p, &c, arena);
    pnm_params_init(&p, &c, 3);
    p.layer[1].ch_w1[5] = 0; /* nothing special about a zero */
    memset(p.layer[0].tok_w2, 0, c.token_hidden * sizeof(float)); /* a row of zeros */
    p.tag_b[0] = 0.25f, p.tag_b[3] = -0.5f;
    pnm_error err;
    pnm_qweights *q = pnm_qweights_quantize(&c, &p, true, &err);
    CHECK(q != NULL && q->tags, "quantize, the tagging head too");
    if (!q) {
        free(arena);
        return;
    }
    const pnm_qmatrix *ms[] = {&q->bott_w, &q->layer[0].tok_w1, &q->layer[0].tok_w2,
                               &q->layer[1].ch_w1, &q->layer[1].ch_w2, &q->tag_w};
    const float *ws[] = {p.bott_w, p.layer[0].tok_w1, p.layer[0].tok_w2, p.layer[1].ch_w1,
                         p.layer[1].ch_w2, p.tag_w};
    int within = 1, full = 1;
    for (size_t i = 0; i < 6; i++) {
        const pnm_qmatrix *m = ms[i];
        size_t channels = m->by_column ? m->cols : m->rows;
        for (size_t ch = 0; ch < channels; ch++) {
            int top = 0;
            for (size_t k = 0; k < (m->by_column ? m->rows : m->cols); k++) {
                size_t at = m->by_column ? k * m->cols + ch : ch * m->cols + k;
                float s = m->scale[ch];
                within &= m->q[at] >= -127 && fabsf(ws[i][at] - s * m->q[at]) <= 0.5001f * s;
                top |= abs(m->q[at]) == 127;
            }
            full &= top || m->scale[ch] == 0;
        }
    }
    CHECK(within, "every weight within half a step of scale x q, q in -127..127");
    CHECK(full, "every channel reaches +-127, or is all zeros with scale 0");
    CHECK(q->layer[0].tok_w2.scale[0] == 0, "a row of zeros has scale 0");

    /* The int8 forward against the float one, with every kernel set. */
    float *kept = malloc(pnm_params_count_unquantized(&c, true) * sizeof *kept);
    pnm_params kp;
    pnm_params_bind_unquantized(&kp, &c, true, kept);
    pnm_params_copy_unquantized(kept, arena, &c, true);
    CHECK(kp.bott_w == NULL && kp.layer[1].ch_w2 == NULL && kp.tag_w == NULL &&
              kp.ln_b[0] == p.ln_b[0] && kp.tag_b[3] == p.tag_b[3] &&
              kp.layer[1].ch_b2[19] == p.layer[1].ch_b2[19] &&
              pnm_params_count_unquantized(&c, true) + (size_t)c.n_tags * c.bottleneck ==
                  pnm_params_count_unquantized(&c, false),
          "the unquantized floats are copied, the matrices' views are NULL");
    uint16_t buckets[12 * 6];
    uint64_t rng = 5;
    for (size_t i = 0; i < 12 * 6; i++)
        buckets[i] = (uint16_t)(pnm_rand_next(&rng) % 40);
    static const uint32_t words[] = {0, 1, 3, 5, 7, 12};
    pnm_workspace *fws = pnm_workspace_new(&c);
    for (size_t s = 0; s < N_SETS; s++) {
        const pnm_qkernels *k = pnm_qkernels_find(set_names[s]);
        if (!k)
            continue;
        pnm_qworkspace *qws = pnm_qworkspace_new(&c, k);
        double worst = 0;
        int rows_ok = 1;
        for (size_t e = 0; e < sizeof words / sizeof *words; e++) {
            pnm_example ex = {words[e], buckets, -1, NULL};
            uint32_t rows, frows;
            const float *o = pnm_qforward(qws, q, &kp, &ex, &rows);
            pnm_forward(&c, &p, fws, &ex, 1, NULL, &err);
            const float *f = pnm_output_rows(fws, 0, &frows);
            rows_ok &= rows == frows;
            for (size_t i = 0; i < (size_t)rows * c.bottleneck; i++)
                worst = fmax(worst, fabs(o[i] - f[i]));
        }
        char what[128];
        snprintf(what, sizeof what, "%s: int8 forward within 0.15 of the float one (%.3f)",
                 set_names[s], worst);
        CHECK(rows_ok && worst < 0.15, what);
        pnm_qworkspace_free(qws);
    }
    pnm_workspace_free(fws);
    test_tag_head(&c, &p, &kp, q);
    free(kept);
    pnm_qweights_free(q);
    free(arena);
}

/* The body of m with its checksum made right again after a change. */
static void fix_checksum(pnm_buf *b)
{
    pnm_put_u32(b->data + b->len - 4, (uint32_t)pnm_hash64(b->data, b->len - 4, 0));
}

/* The model m (float, with tags) quantized with an int8 tagging head: the
 * file round-trips with option bits 2 and 3, option bit 3 is checked, and
 * the runner predicts alike from features and from its hidden records. */
static void test_int8_tags_file(const pnm_model *m)
{
    pnm_error err;
    const pnm_config *c = &m->config;
    pnm_model *q = pnm_model_quantize(m, true, &err), *l = NULL, *bad;
    pnm_buf qb = {0}, fq = {0}, b2 = {0};
    int ok = q && q->qw->tags && !q->p.tag_w && pnm_model_encode(q, &qb, &err) == 0;
    pnm_model *fl = pnm_model_quantize(m, false, &err);
    ok = ok && fl && pnm_model_encode(fl, &fq, &err) == 0;
    l = ok ? pnm_model_decode(qb.data, qb.len, &err) : NULL;
    CHECK(l && l->qw->tags && !l->p.tag_w && l->p.tag_b,
          "an int8 body with an int8 tagging head decodes so");
    if (!l) {
        printf("# %s\n", err.msg);
        goto done;
    }
    size_t nt = c->n_tags, b = c->bottleneck;
    CHECK(pnm_get_u32(qb.data + 64) == (PNM_MODEL_OPTION_INT8 | PNM_MODEL_OPTION_INT8_TAGS) &&
              fq.len - qb.len == 4 * nt * b - (4 * nt + nt * b),
          "option bits 2 and 3; the tag weights take a byte each and a scale per tag");
    CHECK(memcmp(l->qw->tag_w.q, q->qw->tag_w.q, nt * b) == 0 &&
              memcmp(l->qw->tag_w.scale, q->qw->tag_w.scale, nt * sizeof(float)) == 0 &&
              pnm_model_encode(l, &b2, &err) == 0 && b2.len == qb.len &&
              memcmp(b2.data, qb.data, qb.len) == 0,
          "the int8 tagging head comes back identical, and encodes to the same bytes");
    /* Bit 3 without bit 2: refused before the counts are compared. */
    memcpy(b2.data, fq.data, fq.len);
    b2.len = fq.len;
    pnm_put_u32(b2.data + 64, PNM_MODEL_OPTION_INT8_TAGS);
    fix_checksum(&b2);
    bad = pnm_model_decode(b2.data, b2.len, &err);
    CHECK(!bad && strstr(err.msg, "corrupt model: an int8 tagging head (option bit 3) needs"),
          "option bit 3 without bit 2 is refused");
    pnm_model_free(bad);
    /* The tagging head's last scale, not finite. */
    memcpy(b2.data, qb.data, qb.len);
    b2.len = qb.len;
    size_t last_scale = qb.len - 4 - nt * b - 4;
    pnm_put_u32(b2.data + last_scale, 0x7f800000u);
    fix_checksum(&b2);
    bad = pnm_model_decode(b2.data, b2.len, &err);
    CHECK(!bad && strstr(err.msg, "scale 3 is inf"), "an int8 tagging head's scales are checked");
    pnm_model_free(bad);

    /* The runner: from features and from the hidden record alike. */
    pnm_runner r;
    ok = pnm_runner_init(&r, l, &err) == 0;
    uint16_t buckets[3 * 6] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 39, 38, 37, 36, 35, 34};
    pnm_features feat = {.line = 1, .n_words = 3, .buckets = buckets};
    pnm_hidden h = {0};
    pnm_prediction pred;
    float probs[3 * 4];
    uint32_t tags[3];
    ok = ok && pnm_mix_features(&r, &feat, &h, &err) == 0 &&
         pnm_infer_features(&r, &feat, &pred, &err) == 0 && pred.tags && pred.tag_probs;
    if (ok) {
        memcpy(probs, pred.tag_probs, sizeof probs);
        memcpy(tags, pred.tags, sizeof tags);
    }
    ok = ok && pnm_infer_hidden(&r, &h, &pred, &err) == 0 && pred.tag_probs &&
         memcmp(probs, pred.tag_probs, sizeof probs) == 0 &&
         memcmp(tags, pred.tags, sizeof tags) == 0;
    CHECK(ok, "the runner: features and hidden records give the same tags and probabilities");
    /* Without tag probabilities: the same tags, decoded from the logits. */
    pnm_runner_set_tag_probs(&r, false);
    ok = ok && pnm_infer_features(&r, &feat, &pred, &err) == 0 && pred.tags &&
         !pred.tag_probs && memcmp(tags, pred.tags, sizeof tags) == 0;
    float prob = 1;
    CHECK(ok && pnm_prediction_tag(l, &pred, 0, &prob) == tags[0] && prob == 0,
          "tag probabilities off: the same tags, no probabilities (0)");
    pnm_runner_free(&r);
    pnm_hidden_free(&h);
done:
    pnm_model_free(l), pnm_model_free(q), pnm_model_free(fl);
    pnm_buf_free(&qb), pnm_buf_free(&fq), pnm_buf_free(&b2);
}

static void test_model_file(void)
{
    pnm_error err;
    pnm_model *f = pnm_model_load("models/default.pnm", &err);
    CHECK(f != NULL, "models/default.pnm loads");
    if (!f) {
        printf("# %s\n", err.msg);
        return;
    }
    pnm_config c = odd_config();
    const char *labels[] = {"a", "b", "c"}, *tags[] = {"O", "B-x", "I-x", "B-y"};
    pnm_model *m = pnm_model_new(&c, labels, tags, f->vocab, f->vocab_len, &err);
    pnm_params_init(&m->p, &c, 8);
    pnm_model *q = pnm_model_quantize(m, false, &err);
    CHECK(q && q->qw && !q->qw->tags && !q->p.bott_w && q->p.tag_w &&
              q->p.pool_q[2] == m->p.pool_q[2],
          "pnm_model_quantize: int8 matrices, the other floats copied");
    pnm_model *again = q ? pnm_model_quantize(q, true, &err) : NULL;
    CHECK(q && !again && strstr(err.msg, "int8 already"), "an int8 model is not quantized twice");

    pnm_buf fb = {0}, qb = {0}, qb2 = {0};
    int ok = q && pnm_model_encode(m, &fb, &err) == 0 && pnm_model_encode(q, &qb, &err) == 0;
    pnm_model *l = ok ? pnm_model_decode(qb.data, qb.len, &err) : NULL;
    CHECK(l && l->qw, "an int8 body decodes as int8");
    if (!l) {
        printf("# %s\n", err.msg);
        goto done;
    }
    CHECK(qb.len < fb.len && pnm_get_u32(qb.data + 64) == PNM_MODEL_OPTION_INT8,
          "the int8 body is smaller and has option bit 2");
    const pnm_qmatrix *a = &q->qw->layer[1].ch_w2, *b = &l->qw->layer[1].ch_w2;
    ok = memcmp(a->q, b->q, (size_t)a->rows * a->cols) == 0 &&
         memcmp(a->scale, b->scale, a->rows * sizeof *a->scale) == 0 &&
         memcmp(q->qw->bott_w.q, l->qw->bott_w.q, (size_t)120 * 20) == 0 &&
         memcmp(l->params, q->params, pnm_params_count_unquantized(&c, false) * sizeof(float)) == 0;
    CHECK(ok, "int8 values, scales and the other floats come back identical");
    CHECK(pnm_model_encode(l, &qb2, &err) == 0 && qb2.len == qb.len &&
              memcmp(qb.data, qb2.data, qb.len) == 0,
          "encoding the decoded model gives the same bytes");

    /* Damage, each with a checksum that matches: the fields are checked. */
    size_t scale0 = qb.len - 4 - pnm_qweights_bytes(&c, false); /* the bottleneck's first scale */
    float nan = NAN;
    uint32_t bits;
    memcpy(&bits, &nan, 4);
    memcpy(qb2.data, qb.data, qb.len);
    pnm_put_u32(qb2.data + scale0, bits);
    fix_checksum(&qb2);
    pnm_model *bad = pnm_model_decode(qb2.data, qb2.len, &err);
    CHECK(!bad && strstr(err.msg, "corrupt model: int8 matrix 0: scale 0 is nan"),
          "a scale that is not finite is refused");
    pnm_model_free(bad);
    float neg = -1.0f;
    memcpy(&bits, &neg, 4);
    pnm_put_u32(qb2.data + scale0 + 4, bits);
    pnm_put_u32(qb2.data + scale0, 0);
    fix_checksum(&qb2);
    bad = pnm_model_decode(qb2.data, qb2.len, &err);
    CHECK(!bad && strstr(err.msg, "scale 1 is -1"), "a negative scale is refused");
    pnm_model_free(bad);
    memcpy(qb2.data, qb.data, qb.len);
    memmove(qb2.data + qb.len - 5, qb2.data + qb.len - 4, 4); /* one int8 value less */
    qb2.len = qb.len - 1;
    fix_checksum(&qb2);
    bad = pnm_model_decode(qb2.data, qb2.len, &err);
    CHECK(!bad && strstr(err.msg, "the body ends inside the parameters"),
          "an int8 body one byte short is refused");
    pnm_model_free(bad);
    memcpy(qb2.data, qb.data, qb.len);
    pnm_put_u32(qb2.data + 64, PNM_MODEL_OPTION_INT8 | 16);
    fix_checksum(&qb2);
    bad = pnm_model_decode(qb2.data, qb2.len, &err);
    CHECK(!bad && strstr(err.msg, "unknown options 0x14"), "other option bits stay refused");
    pnm_model_free(bad);
    /* Bit 3 on a body whose tagging head is float: the counts do not add up. */
    pnm_put_u32(qb2.data + 64, PNM_MODEL_OPTION_INT8 | PNM_MODEL_OPTION_INT8_TAGS);
    fix_checksum(&qb2);
    bad = pnm_model_decode(qb2.data, qb2.len, &err);
    CHECK(!bad && strstr(err.msg, "parameters, the configuration has"),
          "an int8 body with a float tagging head marked bit 3 is refused");
    pnm_model_free(bad);
    /* A float body marked int8: its parameters do not add up. */
    memcpy(qb2.data, fb.data, fb.len);
    qb2.len = fb.len;
    pnm_put_u32(qb2.data + 64, PNM_MODEL_OPTION_INT8);
    fix_checksum(&qb2);
    bad = pnm_model_decode(qb2.data, qb2.len, &err);
    CHECK(!bad && strstr(err.msg, "parameters, the configuration has"),
          "a float body marked int8 is refused");
    pnm_model_free(bad);

    test_int8_tags_file(m);

    /* The runner: the mixer's output is the int8 forward's. */
    pnm_runner r;
    pnm_qworkspace *qws = pnm_qworkspace_new(&c, NULL);
    ok = pnm_runner_init(&r, l, &err) == 0 && r.qws;
    uint16_t buckets[4 * 6] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 39, 38, 37, 36, 35, 34, 1, 1};
    pnm_features feat = {.line = 3, .n_words = 4, .buckets = buckets};
    pnm_hidden h = {0};
    pnm_prediction pred;
    ok = ok && pnm_mix_features(&r, &feat, &h, &err) == 0 && pnm_infer_features(&r, &feat, &pred, &err) == 0;
    uint32_t rows;
    pnm_example ex = {4, buckets, -1, NULL};
    const float *o = ok ? pnm_qforward(qws, l->qw, &l->p, &ex, &rows) : NULL;
    CHECK(ok && rows == 4 && h.rows == 4 && memcmp(o, h.values, 4 * 20 * sizeof *o) == 0 &&
              pred.label_probs && pred.tags && pred.rows == 4,
          "the runner runs an int8 model: mixer output, labels and tags");
    if (ok)
        pnm_runner_free(&r);
    pnm_hidden_free(&h);
    pnm_qworkspace_free(qws);
done:
    pnm_model_free(l);
    pnm_model_free(again);
    pnm_buf_free(&fb), pnm_buf_free(&qb), pnm_buf_free(&qb2);
    pnm_model_free(q);
    pnm_model_free(m);
    pnm_model_free(f);
}

int main(void)
{
    test_kernels();
    test_gelu_passes();
    test_quantize();
    test_model_file();
    return tap_done();
}
