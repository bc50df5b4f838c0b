#include "fit.h"

#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "corpus.h"
#include "tokens.h"
#include "vocab.h"

/* The vocabulary: loaded from a file, or trained on the text column. */
static pnm_sp *fit_vocab(const pnm_fit_options *o, const pnm_tsv *tsv, pnm_task task,
                         pnm_fit_info *info, pnm_error *err)
{
    if (o->vocab_path)
        return pnm_vocab_load(o->vocab_path, NULL, err);
    pnm_corpus corpus = {0};
    unsigned col = pnm_task_text_column(task, tsv);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < tsv->count; i++) {
        size_t len;
        const char *text = pnm_tsv_field(tsv, i, col, &len);
        if (text && (rc = pnm_corpus_add(&corpus, text, len, i + 1, err)))
            pnm_error_prefix(err, "%s", o->train_name);
    }
    void *model = NULL;
    size_t len = 0;
    pnm_sp_train_options so = {o->vocab_size, PNM_SP_UNIGRAM, "nmt_nfkc_cf", 1,
                               (uint32_t)o->train_options.seed};
    if (rc == 0)
        rc = pnm_sp_train((const char *const *)corpus.sentences, corpus.count, &so, &model, &len,
                          err);
    pnm_corpus_free(&corpus);
    if (rc)
        return NULL;
    pnm_sp *sp = pnm_sp_load_bytes(model, len, err);
    free(model);
    info->vocab_trained = true;
    return sp;
}

/* A resumed run is given the data it started with, or refused. */
static int same_data(const pnm_tsv *t, const char *name, uint64_t id, const char *what,
                     const char *ckpt, pnm_error *err)
{
    if (pnm_checkpoint_data_id(t) == id)
        return 0;
    return pnm_error_set(err, "%s is not the %s data that %s was made with", name, what, ckpt);
}

/* The names of a resumed run come first, with the ids they had. */
static int intern_names(pnm_labelset *s, char *const *names, uint32_t n, pnm_error *err)
{
    for (uint32_t i = 0; i < n; i++)
        if (pnm_labelset_intern(s, names[i], strlen(names[i])) < 0)
            return pnm_error_set(err, "out of memory");
    return 0;
}

/* The run as the checkpoint hook and the progress relay see it. */
typedef struct fit_run {
    const pnm_fit_options *o;
    pnm_checkpoint ck;        /* model and state borrowed from pnm_fit */
    pnm_progress_fn progress;
    void *ctx;
    pnm_fit_info *info;
} fit_run;

static int save_checkpoint(void *ctx, const float *params, const pnm_train_state *s,
                           pnm_error *err)
{
    fit_run *r = ctx;
    (void)params; /* they are r->ck.model's, trained in place */
    if (!r->o->checkpoint_path)
        return 0;
    r->ck.state = *s;
    if (pnm_checkpoint_save(&r->ck, r->o->checkpoint_path, err))
        return -1;
    r->info->checkpoints++;
    return 0;
}

static void relay_progress(void *ctx, const pnm_progress *p)
{
    fit_run *r = ctx;
    if (r->progress)
        r->progress(r->ctx, p);
}

pnm_model *pnm_fit(const pnm_fit_options *o, pnm_fit_ready_fn ready,
                   pnm_progress_fn progress, void *ctx, pnm_fit_info *info, pnm_error *err)
{
    memset(info, 0, sizeof *info);
    pnm_tsv train_tsv = {0}, dev_tsv = {0};
    pnm_labelset labels = {0}, tags = {0};
    pnm_dataset train = {0}, dev = {0};
    pnm_header th = {0};
    pnm_projector *pr = NULL;
    pnm_model *model = NULL;
    pnm_sp *own_sp = NULL;
    const pnm_sp *sp = NULL;
    pnm_checkpoint ck = {0};
    pnm_train_state state = {0};
    pnm_config c = o->config;
    pnm_task task = o->task;
    pnm_train_options to = o->train_options;
    const char *resume = o->resume_path;

    if (resume) {
        if (pnm_checkpoint_load(&ck, resume, err))
            goto done;
        if (!ck.has_dev != !o->dev) {
            pnm_error_set(err, "%s was made %s a dev set: resume it %s -d", resume,
                          ck.has_dev ? "with" : "without", ck.has_dev ? "with" : "without");
            goto done;
        }
        c = ck.model->config, task = ck.task, to = ck.options;
        if (o->threads_given)
            to.threads = o->train_options.threads;
    }
    if (pnm_tsv_read(&train_tsv, o->train, o->train_name, err))
        goto done;
    if (resume && same_data(&train_tsv, o->train_name, ck.train_id, "training", resume, err))
        goto done;
    if (!resume && !o->task_given && pnm_tsv_guess_task(&train_tsv, &task, err)) {
        pnm_error_prefix(err, "%s", o->train_name);
        goto done;
    }
    if (o->dev && pnm_tsv_read(&dev_tsv, o->dev, o->dev_name, err))
        goto done;
    if (resume && o->dev && same_data(&dev_tsv, o->dev_name, ck.dev_id, "dev", resume, err))
        goto done;
    if (resume) {
        sp = ck.model->sp;
        if (intern_names(&labels, ck.model->labels, c.n_labels, err) ||
            intern_names(&tags, ck.model->tags, c.n_tags, err))
            goto done;
    } else if (!(sp = own_sp = fit_vocab(o, &train_tsv, task, info, err))) {
        goto done;
    }
    if (pnm_tokens_header(sp, 0, &th, err) || !(pr = pnm_projector_new(&th, &c.projection, err)))
        goto done;
    if (pnm_dataset_build(&train, &train_tsv, o->train_name, task, sp, pr, &labels, &tags, err))
        goto done;
    /* Only names seen in training are predicted; dev may add unknown ones. */
    c.n_labels = task == PNM_TASK_TAG ? 0 : labels.count;
    c.n_tags = task == PNM_TASK_CLASSIFY ? 0 : tags.count;
    if (resume && (c.n_labels != ck.model->config.n_labels ||
                   c.n_tags != ck.model->config.n_tags)) {
        pnm_error_set(err, "%s has names that %s does not know", o->train_name, resume);
        goto done;
    }
    if (o->dev &&
        pnm_dataset_build(&dev, &dev_tsv, o->dev_name, task, sp, pr, &labels, &tags, err))
        goto done;
    if (resume) {
        model = ck.model, ck.model = NULL;
        state = ck.state, memset(&ck.state, 0, sizeof ck.state);
        info->resumed = true;
    } else {
        if (pnm_config_check(&c, err))
            goto done;
        size_t vocab_len;
        const void *vocab = pnm_sp_model_bytes(sp, &vocab_len);
        model = pnm_model_new(&c, (const char *const *)labels.names,
                              (const char *const *)tags.names, vocab, vocab_len, err);
        if (!model)
            goto done;
        pnm_params_init(&model->p, &c, to.seed);
        if (pnm_train_state_init(&state, &c, train.count, &to, model->params, err))
            goto done;
    }
    if (state.n_examples != train.count) {
        pnm_error_set(err, "%s has %zu examples, %s %zu", o->train_name, train.count, resume,
                      state.n_examples);
        goto done;
    }
    info->task = task;
    info->train_examples = train.count;
    info->dev_examples = dev.count;
    info->vocab_pieces = pnm_sp_vocab_size(sp);
    info->params = pnm_params_count(&c);
    info->train = to;
    info->epoch = state.epoch;
    info->epoch_step = state.epoch_step;
    info->steps_per_epoch = pnm_train_steps_per_epoch(&to, train.count);
    if (ready)
        ready(ctx, info, &c);
    fit_run run = {o, {model, task, to, o->dev != NULL, pnm_checkpoint_data_id(&train_tsv),
                       o->dev ? pnm_checkpoint_data_id(&dev_tsv) : 0, {0}},
                   progress, ctx, info};
    pnm_train_hooks hooks = {relay_progress, save_checkpoint, o->checkpoint_epochs,
                             o->checkpoint_steps, o->stop, &run};
    int rc = pnm_train(&c, model->params, &train, o->dev ? &dev : NULL,
                       (const char *const *)tags.names, tags.count, &to, &state, &hooks, err);
    info->epoch = state.epoch;
    info->epoch_step = state.epoch_step;
    info->stopped = rc == PNM_TRAIN_STOPPED;
    if (rc) {
        pnm_model_free(model);
        model = NULL;
        goto done;
    }
    if (o->dev) {
        pnm_predictions pred;
        if (pnm_predict(&c, model->params, &dev, to.threads, (const char *const *)tags.names,
                        &pred, err) ||
            pnm_score(&c, &dev, &pred, (const char *const *)tags.names, tags.count, &info->dev,
                      err)) {
            pnm_model_free(model);
            model = NULL;
        }
        pnm_predictions_free(&pred);
    }
done:
    pnm_train_state_free(&state);
    pnm_checkpoint_free(&ck);
    pnm_dataset_free(&train);
    pnm_dataset_free(&dev);
    pnm_labelset_free(&labels);
    pnm_labelset_free(&tags);
    pnm_projector_free(pr);
    pnm_header_free(&th);
    pnm_sp_free(own_sp);
    pnm_tsv_free(&train_tsv);
    pnm_tsv_free(&dev_tsv);
    return model;
}
