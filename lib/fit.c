#include "fit.h"

#include <stdlib.h>
#include <string.h>

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
    pnm_sp *sp = NULL;
    pnm_config c = o->config;
    pnm_task task = o->task;

    if (pnm_tsv_read(&train_tsv, o->train, o->train_name, err))
        goto done;
    if (!o->task_given && pnm_tsv_guess_task(&train_tsv, &task, err)) {
        pnm_error_prefix(err, "%s", o->train_name);
        goto done;
    }
    if (o->dev && pnm_tsv_read(&dev_tsv, o->dev, o->dev_name, err))
        goto done;
    if (!(sp = fit_vocab(o, &train_tsv, task, info, err)) ||
        pnm_tokens_header(sp, 0, &th, err) ||
        !(pr = pnm_projector_new(&th, &c.projection, err)))
        goto done;
    if (pnm_dataset_build(&train, &train_tsv, o->train_name, task, sp, pr, &labels, &tags, err))
        goto done;
    /* Only names seen in training are predicted; dev may add unknown ones. */
    c.n_labels = task == PNM_TASK_TAG ? 0 : labels.count;
    c.n_tags = task == PNM_TASK_CLASSIFY ? 0 : tags.count;
    if (o->dev &&
        pnm_dataset_build(&dev, &dev_tsv, o->dev_name, task, sp, pr, &labels, &tags, err))
        goto done;
    if (pnm_config_check(&c, err))
        goto done;
    size_t vocab_len;
    const void *vocab = pnm_sp_model_bytes(sp, &vocab_len);
    model = pnm_model_new(&c, (const char *const *)labels.names,
                          (const char *const *)tags.names, vocab, vocab_len, err);
    if (!model)
        goto done;
    pnm_params_init(&model->p, &c, o->train_options.seed);
    info->task = task;
    info->train_examples = train.count;
    info->dev_examples = dev.count;
    info->vocab_pieces = pnm_sp_vocab_size(sp);
    info->params = pnm_params_count(&c);
    if (ready)
        ready(ctx, info, &c);
    if (pnm_train(&c, model->params, &train, o->dev ? &dev : NULL,
                  (const char *const *)tags.names, tags.count, &o->train_options, progress, ctx,
                  err)) {
        pnm_model_free(model);
        model = NULL;
        goto done;
    }
    if (o->dev) {
        pnm_predictions pred;
        if (pnm_predict(&c, model->params, &dev, o->train_options.threads,
                        (const char *const *)tags.names, &pred, err) ||
            pnm_score(&c, &dev, &pred, (const char *const *)tags.names, tags.count, &info->dev,
                      err)) {
            pnm_model_free(model);
            model = NULL;
        }
        pnm_predictions_free(&pred);
    }
done:
    pnm_dataset_free(&train);
    pnm_dataset_free(&dev);
    pnm_labelset_free(&labels);
    pnm_labelset_free(&tags);
    pnm_projector_free(pr);
    pnm_header_free(&th);
    pnm_sp_free(sp);
    pnm_tsv_free(&train_tsv);
    pnm_tsv_free(&dev_tsv);
    return model;
}
