#include "classifier.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "features.h"
#include "infer.h"
#include "limits.h"
#include "project.h"
#include "tokens.h"

#define MAX_THREADS 256u

struct pnm_classifier {
    pnm_model *model;
    pnm_projector *projector; /* the model's vocabulary, fingerprinted once */
};

/* A copy of what a prediction says: a pnm_prediction points into its
 * runner, which the next example overwrites. */
struct pnm_result {
    const pnm_model *model;  /* for the names */
    int32_t label;
    float *label_probs;      /* n_labels, or NULL without a classification head */
    uint32_t n_words, word_cap;
    uint32_t *tags;          /* word_cap each, unused without a tagging head */
    float *tag_probs;
};

struct pnm_session {
    const pnm_classifier *c;
    pnm_runner runner;
    pnm_tokens tokens;
    pnm_features features;
    pnm_result *result;
};

/* ---- classifier ----------------------------------------------------------- */

/* Takes ownership of m. */
static pnm_classifier *classifier_of(pnm_model *m, pnm_error *err)
{
    if (!m)
        return NULL;
    pnm_classifier *c = calloc(1, sizeof *c);
    if (!c) {
        pnm_model_free(m);
        pnm_error_set(err, "out of memory");
        return NULL;
    }
    c->model = m;
    pnm_header tokens;
    if (pnm_model_tokens_header(m, 0, &tokens, err)) {
        pnm_classifier_close(c);
        return NULL;
    }
    c->projector = pnm_projector_new(&tokens, &m->config.projection, err);
    pnm_header_free(&tokens);
    if (!c->projector) {
        pnm_classifier_close(c);
        return NULL;
    }
    return c;
}

pnm_classifier *pnm_classifier_open(const char *path, pnm_error *err)
{
    return classifier_of(pnm_model_load(path, err), err);
}

pnm_classifier *pnm_classifier_open_bytes(const void *data, size_t len, pnm_error *err)
{
    return classifier_of(pnm_model_load_bytes(data, len, err), err);
}

void pnm_classifier_close(pnm_classifier *c)
{
    if (!c)
        return;
    pnm_projector_free(c->projector);
    pnm_model_free(c->model);
    free(c);
}

const pnm_model *pnm_classifier_model(const pnm_classifier *c)
{
    return c->model;
}

uint32_t pnm_classifier_labels(const pnm_classifier *c)
{
    return c->model->config.n_labels;
}

const char *pnm_classifier_label_name(const pnm_classifier *c, uint32_t id)
{
    return id < c->model->config.n_labels ? c->model->labels[id] : NULL;
}

uint32_t pnm_classifier_tags(const pnm_classifier *c)
{
    return c->model->config.n_tags;
}

const char *pnm_classifier_tag_name(const pnm_classifier *c, uint32_t id)
{
    return id < c->model->config.n_tags ? c->model->tags[id] : NULL;
}

/* ---- results -------------------------------------------------------------- */

static void result_free(pnm_result *r)
{
    if (!r)
        return;
    free(r->label_probs);
    free(r->tags);
    free(r->tag_probs);
    free(r);
}

static pnm_result *result_new(const pnm_model *m)
{
    pnm_result *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->model = m;
    r->label = -1;
    uint32_t n = m->config.n_labels;
    if (n && !(r->label_probs = malloc(n * sizeof *r->label_probs))) {
        free(r);
        return NULL;
    }
    return r;
}

static int result_reserve(pnm_result *r, uint32_t n_words, pnm_error *err)
{
    if (n_words <= r->word_cap)
        return 0;
    uint32_t *tags = realloc(r->tags, n_words * sizeof *tags);
    if (tags)
        r->tags = tags;
    float *probs = tags ? realloc(r->tag_probs, n_words * sizeof *probs) : NULL;
    if (!probs)
        return pnm_error_set(err, "out of memory");
    r->tag_probs = probs;
    r->word_cap = n_words;
    return 0;
}

/* The label and tags as pnm_prediction_print picks them. */
static int result_set(pnm_result *r, const pnm_prediction *p, pnm_error *err)
{
    const pnm_model *m = r->model;
    r->n_words = p->n_words;
    r->label = -1;
    if (p->label_probs) {
        uint32_t best;
        memcpy(r->label_probs, p->label_probs, m->config.n_labels * sizeof *r->label_probs);
        pnm_top_k(p->label_probs, m->config.n_labels, 1, &best);
        r->label = (int32_t)best;
    }
    if (!p->tags)
        return 0;
    if (result_reserve(r, p->n_words, err))
        return -1;
    for (uint32_t t = 0; t < p->n_words; t++)
        r->tags[t] = pnm_prediction_tag(m, p, t, &r->tag_probs[t]);
    return 0;
}

void pnm_results_free(pnm_result **results, size_t n)
{
    if (!results)
        return;
    for (size_t i = 0; i < n; i++)
        result_free(results[i]);
    free(results);
}

int32_t pnm_result_label(const pnm_result *r)
{
    return r->label;
}

const char *pnm_result_label_name(const pnm_result *r)
{
    return r->label < 0 ? NULL : r->model->labels[r->label];
}

const float *pnm_result_label_probs(const pnm_result *r)
{
    return r->label_probs;
}

uint32_t pnm_result_words(const pnm_result *r)
{
    return r->n_words;
}

static bool has_tag(const pnm_result *r, uint32_t i)
{
    return r->model->config.n_tags && i < r->n_words;
}

int32_t pnm_result_tag(const pnm_result *r, uint32_t i)
{
    return has_tag(r, i) ? (int32_t)r->tags[i] : -1;
}

const char *pnm_result_tag_name(const pnm_result *r, uint32_t i)
{
    return has_tag(r, i) ? r->model->tags[r->tags[i]] : NULL;
}

float pnm_result_tag_prob(const pnm_result *r, uint32_t i)
{
    return has_tag(r, i) ? r->tag_probs[i] : 0.0f;
}

/* ---- sessions ------------------------------------------------------------- */

pnm_session *pnm_session_new(const pnm_classifier *c, pnm_error *err)
{
    pnm_session *s = calloc(1, sizeof *s);
    if (!s) {
        pnm_error_set(err, "out of memory");
        return NULL;
    }
    s->c = c;
    if (pnm_runner_init(&s->runner, c->model, err)) {
        free(s);
        return NULL;
    }
    if (!(s->result = result_new(c->model))) {
        pnm_session_free(s);
        pnm_error_set(err, "out of memory");
        return NULL;
    }
    return s;
}

void pnm_session_free(pnm_session *s)
{
    if (!s)
        return;
    pnm_runner_free(&s->runner);
    pnm_tokens_free(&s->tokens);
    pnm_features_free(&s->features);
    result_free(s->result);
    free(s);
}

/* The stages of pnm-tokenize, pnm-project and pnm-classify, without the
 * streams between them; line is what messages call the text. */
static int classify(pnm_session *s, const char *text, uint64_t line, pnm_result *out,
                    pnm_error *err)
{
    const pnm_classifier *c = s->c;
    size_t len = strnlen(text, (size_t)PNM_MAX_LINE_BYTES + 1);
    if (len > PNM_MAX_LINE_BYTES)
        return pnm_error_set(err, "line %" PRIu64 " is longer than %u bytes", line,
                             PNM_MAX_LINE_BYTES);
    bool truncated;
    pnm_prediction p;
    if (pnm_tokenize_line(c->model->sp, text, len, line, 0, &s->tokens, &truncated, err) ||
        pnm_project_tokens(c->projector, &s->tokens, &s->features, err) ||
        pnm_infer_features(&s->runner, &s->features, &p, err))
        return -1;
    return result_set(out, &p, err);
}

const pnm_result *pnm_classify_text(pnm_session *s, const char *text, pnm_error *err)
{
    return classify(s, text, 1, s->result, err) ? NULL : s->result;
}

/* ---- batches -------------------------------------------------------------- */

typedef struct batch_job {
    const pnm_classifier *c;
    const char *const *texts;
    pnm_result **results;
    size_t from, to;   /* the texts of this thread */
    pthread_t thread;
    int rc;
    pnm_error err;
} batch_job;

static void *batch_run(void *arg)
{
    batch_job *j = arg;
    pnm_session *s = pnm_session_new(j->c, &j->err);
    j->rc = s ? 0 : -1;
    for (size_t i = j->from; j->rc == 0 && i < j->to; i++)
        j->rc = classify(s, j->texts[i], i + 1, j->results[i], &j->err);
    pnm_session_free(s);
    return NULL;
}

/* Runs jobs[0] on the calling thread and the others on threads of their
 * own. The texts of a job follow those of the job before it, so the
 * lowest failed job holds the first failing text. */
static int batch_run_all(batch_job *jobs, uint32_t n_jobs, pnm_error *err)
{
    uint32_t started = 1;
    int rc = 0;
    for (; started < n_jobs; started++)
        if (pthread_create(&jobs[started].thread, NULL, batch_run, &jobs[started]) != 0) {
            rc = pnm_error_set(err, "cannot start a thread");
            break;
        }
    if (rc == 0)
        batch_run(&jobs[0]);
    for (uint32_t t = 1; t < started; t++)
        pthread_join(jobs[t].thread, NULL);
    for (uint32_t t = 0; rc == 0 && t < n_jobs; t++)
        if (jobs[t].rc) {
            if (err)
                *err = jobs[t].err;
            rc = -1;
        }
    return rc;
}

pnm_result **pnm_classify_batch(const pnm_classifier *c, const char *const *texts,
                                size_t n, uint32_t threads, pnm_error *err)
{
    threads = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
    if (threads > n)
        threads = n ? (uint32_t)n : 1;
    pnm_result **results = calloc(n ? n : 1, sizeof *results);
    batch_job *jobs = calloc(threads, sizeof *jobs);
    bool ok = results && jobs;
    for (size_t i = 0; ok && i < n; i++)
        ok = (results[i] = result_new(c->model)) != NULL;
    if (!ok) {
        pnm_error_set(err, "out of memory");
    } else {
        for (uint32_t t = 0; t < threads; t++)
            jobs[t] = (batch_job){.c = c, .texts = texts, .results = results,
                                  .from = n * t / threads, .to = n * (t + 1) / threads};
        ok = batch_run_all(jobs, threads, err) == 0;
    }
    free(jobs);
    if (ok)
        return results;
    pnm_results_free(results, n);
    return NULL;
}
