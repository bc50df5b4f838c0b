#include "infer.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"

static pnm_example example_of(const pnm_features *f)
{
    return (pnm_example){f->n_words, f->buckets, -1, NULL};
}

int pnm_runner_init(pnm_runner *r, const pnm_model *m, pnm_error *err)
{
    memset(r, 0, sizeof *r);
    r->m = m;
    r->tag_probs = true;
    if (pnm_bio_init(&r->bio, (const char *const *)m->tags, m->config.n_tags, err))
        return -1;
    r->ws = pnm_workspace_new(&m->config);
    r->qws = m->qw ? pnm_qworkspace_new(&m->config, NULL) : NULL;
    r->qh = m->qw ? pnm_qheads_new(&m->config, NULL) : NULL;
    /* The CRF's Viterbi scores fit in the BIO decoder's scratch. */
    r->scratch = malloc(pnm_bio_scratch_size(&r->bio, m->config.seq_len) + 1);
    r->tags = malloc((size_t)m->config.seq_len * sizeof *r->tags);
    if (!r->ws || (m->qw && (!r->qws || !r->qh)) || !r->scratch || !r->tags) {
        pnm_runner_free(r);
        return pnm_error_set(err, "out of memory");
    }
    if (m->config.crf) {
        size_t cells = (size_t)m->config.seq_len * m->config.n_tags;
        r->alpha = malloc(cells * sizeof *r->alpha);
        r->beta = malloc(cells * sizeof *r->beta);
        r->marginals = malloc(cells * sizeof *r->marginals);
        if (pnm_crf_init(&r->crf, m->config.n_tags, m->config.seq_len, err) || !r->alpha ||
            !r->beta ||
            !r->marginals) {
            pnm_runner_free(r);
            return pnm_error_set(err, "out of memory");
        }
        pnm_crf_set(&r->crf, &r->bio, m->p.tag_trans, m->p.tag_start, m->p.tag_end);
    }
    return 0;
}

void pnm_runner_set_tag_probs(pnm_runner *r, bool on)
{
    r->tag_probs = on;
    pnm_workspace_set_tag_probs(r->ws, on);
}

void pnm_runner_free(pnm_runner *r)
{
    pnm_workspace_free(r->ws);
    pnm_qworkspace_free(r->qws);
    pnm_qheads_free(r->qh);
    pnm_bio_free(&r->bio);
    free(r->scratch);
    free(r->tags);
    pnm_crf_free(&r->crf);
    free(r->alpha), free(r->beta), free(r->marginals);
    memset(r, 0, sizeof *r);
}

/* The tags decode the logits (bio.h, crf.h); probabilities, when wanted,
 * are the workspace's softmax or the CRF's marginals. */
static void prediction_of(pnm_runner *r, uint64_t line, uint32_t n_words, pnm_prediction *out)
{
    const pnm_model *m = r->m;
    out->line = line;
    out->n_words = n_words;
    out->label_probs = m->config.n_labels ? pnm_label_probs(r->ws, 0) : NULL;
    out->tag_probs = NULL;
    out->tags = NULL;
    out->outside = r->bio.outside;
    if (!m->config.n_tags) {
        pnm_output_rows(r->ws, 0, &out->rows);
        return;
    }
    out->tags = r->tags;
    const float *x = pnm_tag_logits(r->ws, 0, &out->rows);
    if (!m->config.crf) {
        pnm_bio_decode(&r->bio, x, out->rows, r->tags, r->scratch);
        out->tag_probs = r->tag_probs ? pnm_tag_probs(r->ws, 0, &out->rows) : NULL;
        return;
    }
    pnm_crf_decode(&r->crf, x, out->rows, r->tags, r->scratch);
    if (!r->tag_probs)
        return;
    pnm_crf_forward(&r->crf, x, out->rows, r->alpha, r->beta);
    pnm_crf_marginals(&r->crf, out->rows, r->alpha, r->beta, r->marginals);
    out->tag_probs = r->marginals;
}

/* The heads on a mixer output o of rows rows, results in r->ws: an int8
 * model's in qheads.c. */
static int heads(pnm_runner *r, const float *o, uint32_t rows, pnm_error *err)
{
    const pnm_model *m = r->m;
    if (r->qh)
        return pnm_qheads_forward(r->qh, m->qw, &m->p, r->ws, o, rows, err);
    return pnm_heads_forward(&m->config, &m->p, r->ws, &o, &rows, 1, err);
}

/* The network on one example. With o NULL, the whole of it, its results in
 * r->ws as pnm_forward leaves them: an int8 model's mixer runs in
 * qforward.c, then its heads. With o, only the mixer's output is wanted:
 * *o and *rows (the float forward runs the heads all the same). */
static int run(pnm_runner *r, const pnm_features *f, const float **o, uint32_t *rows,
               pnm_error *err)
{
    const pnm_model *m = r->m;
    pnm_example e = example_of(f);
    if (r->qws) {
        uint32_t n;
        const float *out = pnm_qforward(r->qws, m->qw, &m->p, &e, &n);
        if (o)
            *o = out, *rows = n;
        return o ? 0 : heads(r, out, n, err);
    }
    if (pnm_forward(&m->config, &m->p, r->ws, &e, 1, NULL, err) < 0)
        return -1;
    if (o)
        *o = pnm_output_rows(r->ws, 0, rows);
    return 0;
}

int pnm_mix_features(pnm_runner *r, const pnm_features *f, pnm_hidden *out, pnm_error *err)
{
    const float *o;
    uint32_t rows;
    size_t b = r->m->config.bottleneck;
    if (run(r, f, &o, &rows, err) || pnm_hidden_reserve(out, rows, (uint32_t)b, err))
        return -1;
    out->line = f->line;
    out->n_words = f->n_words;
    memcpy(out->values, o, (size_t)rows * b * sizeof *o);
    return 0;
}

int pnm_infer_features(pnm_runner *r, const pnm_features *f, pnm_prediction *out,
                       pnm_error *err)
{
    if (run(r, f, NULL, NULL, err))
        return -1;
    prediction_of(r, f->line, f->n_words, out);
    return 0;
}

int pnm_infer_hidden(pnm_runner *r, const pnm_hidden *h, pnm_prediction *out,
                     pnm_error *err)
{
    if (heads(r, h->values, h->rows, err))
        return -1;
    prediction_of(r, h->line, h->n_words, out);
    return 0;
}

uint32_t pnm_top_k(const float *p, uint32_t n, uint32_t k, uint32_t *ids)
{
    k = k < n ? k : n;
    for (uint32_t j = 0; j < k; j++) {
        int64_t best = -1;
        for (uint32_t i = 0; i < n; i++) {
            bool taken = false;
            for (uint32_t q = 0; q < j && !taken; q++)
                taken = ids[q] == i;
            if (!taken && (best < 0 || p[i] > p[best]))
                best = i;
        }
        ids[j] = (uint32_t)best;
    }
    return k;
}

uint32_t pnm_prediction_tag(const pnm_model *m, const pnm_prediction *p, uint32_t t, float *prob)
{
    uint32_t nt = m->config.n_tags;
    if (t >= p->rows) {
        *prob = 0;
        return p->outside;
    }
    uint32_t k = p->tags[t];
    *prob = p->tag_probs ? p->tag_probs[(size_t)t * nt + k] : 0.0f;
    return k;
}

/* Each word's tag probability, fmt for each and sep between them. */
static void put_tag_probs(FILE *out, const pnm_model *m, const pnm_prediction *p,
                          const char *fmt, char sep)
{
    for (uint32_t t = 0; t < p->n_words; t++) {
        float prob;
        pnm_prediction_tag(m, p, t, &prob);
        if (t)
            putc(sep, out);
        fprintf(out, fmt, prob);
    }
}

static void print_json(FILE *out, const pnm_model *m, const pnm_prediction *p,
                       const uint32_t *ids, uint32_t k)
{
    fprintf(out, "{\"line\":%" PRIu64, p->line);
    if (p->label_probs) {
        fputs(",\"label\":", out);
        pnm_json_put_string(out, m->labels[ids[0]], strlen(m->labels[ids[0]]));
        fprintf(out, ",\"prob\":%.6g", p->label_probs[ids[0]]);
        if (k > 1) {
            fputs(",\"top\":[", out);
            for (uint32_t j = 0; j < k; j++) {
                fputs(j ? ",{\"label\":" : "{\"label\":", out);
                pnm_json_put_string(out, m->labels[ids[j]], strlen(m->labels[ids[j]]));
                fprintf(out, ",\"prob\":%.6g}", p->label_probs[ids[j]]);
            }
            putc(']', out);
        }
    }
    if (p->tags) {
        fputs(",\"tags\":[", out);
        for (uint32_t t = 0; t < p->n_words; t++) {
            float prob;
            if (t)
                putc(',', out);
            const char *tag = m->tags[pnm_prediction_tag(m, p, t, &prob)];
            pnm_json_put_string(out, tag, strlen(tag));
        }
        fputs("],\"tag_probs\":[", out);
        put_tag_probs(out, m, p, "%.6g", ',');
        putc(']', out);
    }
    fputs("}\n", out);
}

/* The i-th word of a space-separated list: fputs, not fprintf's "%s",
 * whose format parsing was most of the printing's time. */
static void put_word(FILE *out, const char *word, uint32_t i)
{
    if (i)
        putc(' ', out);
    fputs(word, out);
}

bool pnm_print_needs_tag_probs(const pnm_print_options *o)
{
    return o->probs || o->format == PNM_FORMAT_JSON;
}

void pnm_prediction_print(FILE *out, const pnm_model *m, const pnm_prediction *p,
                          const pnm_print_options *o)
{
    uint32_t ids[64], k = 0;
    if (p->label_probs)
        k = pnm_top_k(p->label_probs, m->config.n_labels,
                      o->top_k < 1 ? 1 : o->top_k > 64 ? 64 : o->top_k, ids);
    if (o->format == PNM_FORMAT_JSON) {
        print_json(out, m, p, ids, k);
        return;
    }
    bool tsv = o->format == PNM_FORMAT_TSV, probs = o->probs || k > 1;
    if (tsv)
        fprintf(out, "%" PRIu64 "\t", p->line);
    for (uint32_t j = 0; j < k; j++) {
        put_word(out, m->labels[ids[j]], j);
        if (probs)
            fprintf(out, " %.4f", p->label_probs[ids[j]]);
    }
    if (p->tags) {
        if (k || tsv)
            putc('\t', out);
        for (uint32_t t = 0; t < p->n_words; t++) {
            float prob;
            put_word(out, m->tags[pnm_prediction_tag(m, p, t, &prob)], t);
            if (o->probs && !tsv)
                fprintf(out, " %.4f", prob);
        }
        if (tsv && o->probs) {
            putc('\t', out);
            put_tag_probs(out, m, p, "%.4f", ' ');
        }
    }
    putc('\n', out);
}
