#include "train.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bio.h"
#include "crf.h"
#include "layers.h"
#include "metrics.h"

/* OpenBLAS runs its own threads by default; ours split the batch instead. */
void openblas_set_num_threads(int num_threads);

#define MAX_THREADS 256

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Runs fn(ctx, i) for i < n on n threads (i = 0 on the caller's). */
static int run_parallel(uint32_t n, void *(*fn)(void *), void **ctx, pnm_error *err)
{
    pthread_t tid[MAX_THREADS];
    uint32_t started = 0;
    int rc = 0;
    for (uint32_t i = 1; i < n; i++, started++)
        if (pthread_create(&tid[i], NULL, fn, ctx[i]) != 0) {
            rc = pnm_error_set(err, "cannot start a thread");
            break;
        }
    if (rc == 0)
        fn(ctx[0]);
    for (uint32_t i = 1; i <= started; i++)
        pthread_join(tid[i], NULL);
    return rc;
}

/* ---- prediction ---------------------------------------------------------- */

typedef struct predict_job {
    const pnm_config *c;
    pnm_params p;
    const pnm_dataset *d;
    pnm_predictions *out;
    size_t from, to;
    const pnm_bio *bio;
    int rc;
    pnm_error err;
} predict_job;

static uint32_t argmax(const float *v, uint32_t n)
{
    uint32_t best = 0;
    for (uint32_t i = 1; i < n; i++)
        best = v[i] > v[best] ? i : best;
    return best;
}

static void *predict_range(void *arg)
{
    predict_job *j = arg;
    const pnm_config *c = j->c;
    pnm_workspace *ws = pnm_workspace_new(c);
    /* The CRF's Viterbi scores fit in the BIO decoder's scratch. */
    void *scratch = malloc(pnm_bio_scratch_size(j->bio, c->seq_len) + 1);
    uint32_t *decoded = malloc((size_t)c->seq_len * sizeof *decoded);
    pnm_crf crf = {0};
    if (!ws || !scratch || !decoded || (c->crf && pnm_crf_init(&crf, c->n_tags, c->seq_len, &j->err))) {
        j->rc = pnm_error_set(&j->err, "out of memory");
        pnm_workspace_free(ws);
        free(scratch);
        free(decoded);
        return NULL;
    }
    if (c->crf)
        pnm_crf_set(&crf, j->bio, j->p.tag_trans, j->p.tag_start, j->p.tag_end);
    pnm_workspace_set_tag_probs(ws, false); /* the tags decode the logits */
    enum { CHUNK = 128 };
    for (size_t at = j->from; at < j->to; at += CHUNK) {
        size_t n = j->to - at < CHUNK ? j->to - at : CHUNK;
        if (pnm_forward(c, &j->p, ws, j->d->ex + at, n, NULL, &j->err) < 0) {
            j->rc = -1;
            break;
        }
        for (size_t i = 0; i < n; i++) {
            const pnm_example *e = &j->d->ex[at + i];
            j->out->label[at + i] = c->n_labels ? (int32_t)argmax(pnm_label_probs(ws, i), c->n_labels) : -1;
            if (!c->n_tags)
                continue;
            uint32_t rows;
            int32_t *tags = j->out->tags + j->out->tag_at[at + i];
            const float *scores = pnm_tag_logits(ws, i, &rows);
            if (c->crf)
                pnm_crf_decode(&crf, scores, rows, decoded, scratch);
            else
                pnm_bio_decode(j->bio, scores, rows, decoded, scratch);
            for (uint32_t t = 0; t < e->n_words; t++)
                tags[t] = (int32_t)(t < rows ? decoded[t] : j->bio->outside);
        }
    }
    pnm_workspace_free(ws);
    free(scratch);
    free(decoded);
    pnm_crf_free(&crf);
    return NULL;
}

void pnm_predictions_free(pnm_predictions *p)
{
    free(p->label);
    free(p->tags);
    free(p->tag_at);
    memset(p, 0, sizeof *p);
}

int pnm_predict(const pnm_config *c, const float *params, const pnm_dataset *d,
                uint32_t threads, const char *const *tag_names, pnm_predictions *out,
                pnm_error *err)
{
    memset(out, 0, sizeof *out);
    size_t n = d->count ? d->count : 1, words = 0;
    out->label = malloc(n * sizeof *out->label);
    out->tag_at = malloc(n * sizeof *out->tag_at);
    for (size_t i = 0; out->tag_at && i < d->count; i++)
        out->tag_at[i] = words, words += d->ex[i].n_words;
    out->tags = malloc((words ? words : 1) * sizeof *out->tags);
    if (!out->label || !out->tag_at || !out->tags) {
        pnm_predictions_free(out);
        return pnm_error_set(err, "out of memory");
    }
    pnm_bio bio;
    if (pnm_bio_init(&bio, tag_names, c->n_tags, err)) {
        pnm_predictions_free(out);
        return -1;
    }
    threads = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
    predict_job jobs[MAX_THREADS];
    void *ctx[MAX_THREADS];
    for (uint32_t t = 0; t < threads; t++) {
        jobs[t] = (predict_job){c, {0}, d, out, d->count * t / threads,
                                d->count * (t + 1) / threads, &bio, 0, {{0}}};
        pnm_params_bind(&jobs[t].p, c, (float *)params);
        ctx[t] = &jobs[t];
    }
    int rc = run_parallel(threads, predict_range, ctx, err);
    for (uint32_t t = 0; rc == 0 && t < threads; t++)
        if (jobs[t].rc) {
            *err = jobs[t].err;
            rc = -1;
        }
    pnm_bio_free(&bio);
    if (rc)
        pnm_predictions_free(out);
    return rc;
}

int pnm_score(const pnm_config *c, const pnm_dataset *d, const pnm_predictions *pred,
              const char *const *tag_names, uint32_t n_tag_names, pnm_scores *s,
              pnm_error *err)
{
    memset(s, 0, sizeof *s);
    s->examples = d->count;
    size_t right = 0, exact = 0, max_words = 0;
    for (size_t i = 0; i < d->count; i++)
        max_words = d->ex[i].n_words > max_words ? d->ex[i].n_words : max_words;
    const char **gold = malloc((max_words + 1) * sizeof *gold);
    const char **guess = malloc((max_words + 1) * sizeof *guess);
    pnm_span_counts spans = {0, 0, 0};
    int rc = gold && guess ? 0 : pnm_error_set(err, "out of memory");
    for (size_t i = 0; rc == 0 && i < d->count; i++) {
        const pnm_example *e = &d->ex[i];
        bool ok = true;
        if (c->n_labels) {
            ok = e->label >= 0 && pred->label[i] == e->label;
            right += ok;
        }
        if (c->n_tags && e->tags) {
            const int32_t *p = pred->tags + pred->tag_at[i];
            for (uint32_t t = 0; t < e->n_words; t++) {
                gold[t] = e->tags[t] >= 0 && (uint32_t)e->tags[t] < n_tag_names
                              ? tag_names[e->tags[t]] : "O";
                guess[t] = tag_names[p[t]];
                ok = ok && e->tags[t] == p[t];
            }
            if (pnm_spans_add(&spans, gold, guess, e->n_words, err))
                rc = pnm_error_prefix(err, "example %zu", i + 1);
        }
        exact += ok;
    }
    free(gold);
    free(guess);
    if (rc)
        return -1;
    size_t n = d->count ? d->count : 1;
    s->accuracy = c->n_labels ? (double)right / n : 0;
    s->slot_f1 = c->n_tags ? pnm_span_f1(&spans) : 0;
    s->exact_match = (double)exact / n;
    s->score = c->n_labels && c->n_tags ? (s->accuracy + s->slot_f1) / 2
               : c->n_labels            ? s->accuracy
                                        : s->slot_f1;
    return 0;
}

/* ---- training ------------------------------------------------------------ */

float pnm_schedule_lr(const pnm_train_options *o, uint64_t t, uint64_t total, uint64_t warmup)
{
    float lr = o->adamw.lr;
    if (o->schedule == PNM_SCHEDULE_CONSTANT)
        return lr;
    if (t <= warmup)
        return lr * (float)t / (float)warmup;
    double progress = (double)(t - warmup) / (double)(total > warmup ? total - warmup : 1);
    return (float)(lr * 0.5 * (1.0 + cos(3.14159265358979 * (progress < 1 ? progress : 1))));
}

typedef struct train_job {
    const pnm_config *c;
    pnm_params p, g;
    float *grad;
    size_t n_params;
    pnm_workspace *ws;
    pnm_example *ex;   /* this shard's examples (copies, shuffled order) */
    size_t n;
    pnm_step_options step;
    double loss;
    int rc;
    pnm_error err;
} train_job;

static void *train_shard(void *arg)
{
    train_job *j = arg;
    memset(j->grad, 0, j->n_params * sizeof *j->grad);
    j->loss = 0;
    if (j->n == 0)
        return NULL;
    j->loss = pnm_forward(j->c, &j->p, j->ws, j->ex, j->n, &j->step, &j->err);
    if (j->loss < 0) {
        j->rc = -1;
        return NULL;
    }
    pnm_backward(j->c, &j->p, &j->g, j->ws, j->ex, j->n, &j->step);
    return NULL;
}

static uint32_t scored_tags(const pnm_config *c, const pnm_example *ex, size_t n)
{
    uint32_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (!ex[i].tags)
            continue;
        uint32_t rows = pnm_example_rows(&ex[i], c->seq_len);
        for (uint32_t t = 0; t < ex[i].n_words && t < rows; t++)
            count += ex[i].tags[t] >= 0 && (uint32_t)ex[i].tags[t] < c->n_tags;
    }
    return count;
}

static uint32_t scored_labels(const pnm_config *c, const pnm_example *ex, size_t n)
{
    uint32_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += ex[i].label >= 0 && (uint32_t)ex[i].label < c->n_labels;
    return count;
}

uint64_t pnm_train_steps_per_epoch(const pnm_train_options *o, size_t n_examples)
{
    size_t batch = o->batch ? o->batch : 1;
    return (n_examples + batch - 1) / batch;
}

void pnm_train_state_free(pnm_train_state *s)
{
    free(s->m), free(s->v), free(s->ema), free(s->best), free(s->order);
    memset(s, 0, sizeof *s);
}

int pnm_train_state_init(pnm_train_state *s, const pnm_config *c, size_t n_examples,
                         const pnm_train_options *o, const float *params, pnm_error *err)
{
    memset(s, 0, sizeof *s);
    size_t n = pnm_params_count(c);
    s->n_params = n, s->n_examples = n_examples;
    s->m = calloc(n, sizeof *s->m), s->v = calloc(n, sizeof *s->v);
    s->best = malloc(n * sizeof *s->best);
    s->order = malloc((n_examples ? n_examples : 1) * sizeof *s->order);
    if (o->ema > 0 && (s->ema = malloc(n * sizeof *s->ema)))
        memcpy(s->ema, params, n * sizeof *s->ema);
    if (!s->m || !s->v || !s->best || !s->order || (o->ema > 0 && !s->ema)) {
        pnm_train_state_free(s);
        return pnm_error_set(err, "out of memory");
    }
    if (n_examples > UINT32_MAX) {
        pnm_train_state_free(s);
        return pnm_error_set(err, "more than %" PRIu32 " training examples", UINT32_MAX);
    }
    for (size_t i = 0; i < n_examples; i++)
        s->order[i] = (uint32_t)i;
    s->best_score = -1;
    s->rng = o->seed ^ 0xA0761D6478BD642Full;
    return 0;
}

int pnm_train_state_check(const pnm_train_state *s, const pnm_train_options *o, pnm_error *err)
{
    uint64_t per_epoch = pnm_train_steps_per_epoch(o, s->n_examples);
    if (s->epoch > o->epochs || (s->epoch == o->epochs && s->epoch_step != 0))
        return pnm_error_set(err, "epoch %" PRIu32 " is past the %" PRIu32 " of the run",
                             s->epoch + (s->epoch_step != 0), o->epochs);
    if (s->epoch_step >= per_epoch)
        return pnm_error_set(err, "step %" PRIu64 " of an epoch of %" PRIu64 " steps",
                             s->epoch_step + 1, per_epoch);
    if (s->step != (uint64_t)s->epoch * per_epoch + s->epoch_step)
        return pnm_error_set(err, "step %" PRIu64 " is not step %" PRIu64 " of epoch %" PRIu32,
                             s->step, s->epoch_step, s->epoch + 1);
    if ((o->ema > 0) != (s->ema != NULL))
        return pnm_error_set(err, "the moving average of the weights is %s",
                             s->ema ? "there without --ema" : "missing");
    return 0;
}

static bool stop_requested(const pnm_train_hooks *h)
{
    return h->stop && *h->stop;
}

static void shuffle(uint32_t *order, size_t n, uint64_t *rng)
{
    for (size_t i = n - 1; i > 0; i--) {
        size_t k = pnm_rand_next(rng) % (i + 1);
        uint32_t t = order[i];
        order[i] = order[k], order[k] = t;
    }
}

/* Scores kept on dev and keeps them as the best when they are. */
static int score_epoch(const pnm_config *c, const float *kept, const pnm_dataset *dev,
                       uint32_t threads, const char *const *tag_names, uint32_t n_tag_names,
                       pnm_train_state *s, pnm_progress *pr, pnm_error *err)
{
    pnm_predictions pred;
    if (pnm_predict(c, kept, dev, threads, tag_names, &pred, err))
        return -1;
    int rc = pnm_score(c, dev, &pred, tag_names, n_tag_names, &pr->dev, err);
    pnm_predictions_free(&pred);
    if (rc == 0 && pr->dev.score > s->best_score) {
        s->best_score = pr->dev.score;
        memcpy(s->best, kept, s->n_params * sizeof *s->best);
        s->has_best = pr->best = true;
    }
    return rc;
}

int pnm_train(const pnm_config *c, float *params, const pnm_dataset *train,
              const pnm_dataset *dev, const char *const *tag_names, uint32_t n_tag_names,
              const pnm_train_options *o, pnm_train_state *s, const pnm_train_hooks *h,
              pnm_error *err)
{
    if (train->count == 0)
        return pnm_error_set(err, "no training examples");
    if (s->n_examples != train->count || s->n_params != pnm_params_count(c))
        return pnm_error_set(err, "the training state is for %zu examples and %zu parameters,"
                             " not %zu and %zu", s->n_examples, s->n_params, train->count,
                             pnm_params_count(c));
    if (pnm_train_state_check(s, o, err))
        return -1;
    uint32_t threads = o->threads < 1 ? 1 : o->threads > MAX_THREADS ? MAX_THREADS : o->threads;
    openblas_set_num_threads(1);
    size_t n_params = s->n_params, batch = o->batch ? o->batch : 1;
    /* The weights that are evaluated and kept: params, or their average. */
    float *kept = s->ema ? s->ema : params;
    pnm_example *shuffled = malloc(train->count * sizeof *shuffled);
    train_job jobs[MAX_THREADS];
    void *job_ctx[MAX_THREADS];
    memset(jobs, 0, sizeof jobs);
    int rc = shuffled ? 0 : pnm_error_set(err, "out of memory");
    for (uint32_t t = 0; rc == 0 && t < threads; t++) {
        train_job *j = &jobs[t];
        j->c = c, j->n_params = n_params;
        j->grad = malloc(n_params * sizeof *j->grad);
        j->ws = pnm_workspace_new(c);
        if (!j->grad || !j->ws)
            rc = pnm_error_set(err, "out of memory");
        pnm_params_bind(&j->p, c, params);
        pnm_params_bind(&j->g, c, j->grad);
        job_ctx[t] = j;
    }
    pnm_bio bio = {0}; /* the CRF's rules */
    if (rc == 0 && c->crf && pnm_bio_init(&bio, tag_names, c->n_tags, err))
        rc = -1;
    uint64_t steps_per_epoch = pnm_train_steps_per_epoch(o, train->count);
    uint64_t total_steps = steps_per_epoch * o->epochs;
    double seconds_before = s->seconds, run_start = now();
    bool stopped = false;
    while (rc == 0 && s->epoch < o->epochs) {
        /* A stop here, before the shuffle, leaves a state at the boundary. */
        if (s->epoch_step == 0) {
            if ((stopped = stop_requested(h)))
                break;
            shuffle(s->order, train->count, &s->rng);
            s->loss_sum = 0;
        }
        for (size_t i = 0; i < train->count; i++)
            shuffled[i] = train->ex[s->order[i]];
        double start = now();
        size_t first = (size_t)s->epoch_step * batch, done = first;
        pnm_progress pr = {s->epoch + 1, o->epochs, 0, train->count, 0, 0, 0, 0, 0,
                           false, dev != NULL, false, {0}};
        bool step_checkpoint = false;
        for (size_t at = first; rc == 0 && at < train->count; at += batch) {
            if (s->epoch_step > 0 && (stopped = stop_requested(h)))
                break;
            size_t n = train->count - at < batch ? train->count - at : batch;
            pnm_step_options so = {o->dropout, pnm_rand_next(&s->rng),
                                   scored_labels(c, shuffled + at, n),
                                   scored_tags(c, shuffled + at, n), &bio};
            so.batch_examples = so.batch_examples ? so.batch_examples : 1;
            so.batch_tags = so.batch_tags ? so.batch_tags : 1;
            for (uint32_t t = 0; t < threads; t++) {
                jobs[t].ex = shuffled + at + n * t / threads;
                jobs[t].n = n * (t + 1) / threads - n * t / threads;
                jobs[t].step = so;
            }
            rc = run_parallel(threads, train_shard, job_ctx, err);
            for (uint32_t t = 0; rc == 0 && t < threads; t++)
                if (jobs[t].rc) {
                    *err = jobs[t].err;
                    rc = -1;
                }
            if (rc)
                break;
            float *grad = jobs[0].grad;
            double loss = jobs[0].loss;
            for (uint32_t t = 1; t < threads; t++) {
                for (size_t i = 0; i < n_params; i++)
                    grad[i] += jobs[t].grad[i];
                loss += jobs[t].loss;
            }
            s->step++, s->epoch_step++;
            pr.lr = pnm_schedule_lr(o, s->step, total_steps, steps_per_epoch);
            pnm_adamw_step(&o->adamw, pr.lr, s->step, params, grad, s->m, s->v, n_params);
            if (s->ema)
                for (size_t i = 0; i < n_params; i++)
                    s->ema[i] = o->ema * s->ema[i] + (1 - o->ema) * params[i];
            s->loss_sum += loss * n;
            done += n;
            if (!isfinite(loss)) {
                rc = pnm_error_set(err, "training diverged (loss is %g at epoch %u); try a lower"
                                   " learning rate", loss, s->epoch + 1);
                break;
            }
            pr.done = done, pr.loss = s->loss_sum / done, pr.seconds = now() - start;
            pr.rate = pr.seconds > 0 ? (done - first) / pr.seconds : 0;
            s->seconds = pr.elapsed = seconds_before + now() - run_start;
            if (h->progress)
                h->progress(h->ctx, &pr);
            step_checkpoint = h->checkpoint_steps && s->step % h->checkpoint_steps == 0;
            /* The last step's checkpoint waits for the dev score below. */
            if (step_checkpoint && at + n < train->count && h->checkpoint &&
                h->checkpoint(h->ctx, params, s, err))
                rc = -1;
        }
        if (rc || stopped)
            break;
        s->epoch++, s->epoch_step = 0;
        pr.epoch_end = true;
        if (dev && score_epoch(c, kept, dev, threads, tag_names, n_tag_names, s, &pr, err)) {
            rc = -1;
            break;
        }
        s->seconds = pr.elapsed = seconds_before + now() - run_start;
        if (h->progress)
            h->progress(h->ctx, &pr);
        bool due = step_checkpoint ||
                   (h->checkpoint_epochs && s->epoch % h->checkpoint_epochs == 0);
        if (due && h->checkpoint && h->checkpoint(h->ctx, params, s, err))
            rc = -1;
    }
    if (rc == 0 && stopped) {
        s->seconds = seconds_before + now() - run_start;
        rc = h->checkpoint && h->checkpoint(h->ctx, params, s, err) ? -1 : PNM_TRAIN_STOPPED;
    }
    if (rc == 0)
        memcpy(params, s->has_best ? s->best : kept, n_params * sizeof *params);
    for (uint32_t t = 0; t < threads; t++) {
        free(jobs[t].grad);
        pnm_workspace_free(jobs[t].ws);
    }
    free(shuffled);
    pnm_bio_free(&bio);
    return rc;
}
