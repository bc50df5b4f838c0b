/* Training and evaluation of a pNLP-Mixer: minibatch AdamW over a data set,
 * the batch split across threads (each with its own activations and
 * gradient arena, summed in a fixed order, so one seed and one thread count
 * always give the same model), and the best epoch on a dev set kept. */
#ifndef PNM_TRAIN_H
#define PNM_TRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adamw.h"
#include "dataset.h"
#include "error.h"
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { PNM_SCHEDULE_CONSTANT, PNM_SCHEDULE_COSINE } pnm_schedule;

typedef struct pnm_train_options {
    uint32_t epochs;
    uint32_t batch;
    uint32_t threads;
    float dropout;
    pnm_adamw adamw;
    uint64_t seed;
    /* cosine: the learning rate rises linearly over the first epoch, then
     * falls along a half cosine to 0 at the last step; constant: adamw.lr
     * throughout. */
    pnm_schedule schedule;
    /* With ema in (0, 1): evaluate and keep an exponential moving average of
     * the weights (ema <- ema * d + weights * (1 - d) after every step),
     * which generalises better than the last step's weights. 0: off. */
    float ema;
} pnm_train_options;

/* The learning rate at step t (from 1) of total, with warmup steps first. */
float pnm_schedule_lr(const pnm_train_options *o, uint64_t t, uint64_t total, uint64_t warmup);

/* Scores of a model on a data set. Gold labels or tags the model does not
 * know count as errors. */
typedef struct pnm_scores {
    size_t examples;
    double accuracy;      /* labels; 0 without a classification head */
    double slot_f1;       /* CoNLL span F1; 0 without a tagging head */
    double exact_match;   /* label and every tag right */
    double score;         /* what selects the best epoch: mean of the above heads' */
} pnm_scores;

typedef struct pnm_progress {
    uint32_t epoch, epochs;
    size_t done, total;        /* examples of this epoch */
    double loss;               /* mean over the epoch so far */
    double seconds;            /* since the epoch started */
    bool epoch_end;
    bool has_dev, best;
    pnm_scores dev;
} pnm_progress;

typedef void (*pnm_progress_fn)(void *ctx, const pnm_progress *p);

/* Trains params (already initialised) on train; with a dev set, evaluates
 * after each epoch and leaves params at the best epoch's values. The label
 * and tag names let the evaluation find spans. progress may be NULL. */
int pnm_train(const pnm_config *c, float *params, const pnm_dataset *train,
              const pnm_dataset *dev, const char *const *tag_names, uint32_t n_tag_names,
              const pnm_train_options *o, pnm_progress_fn progress, void *ctx,
              pnm_error *err);

/* Predicted label (or -1) and tags (n_words each; words past s get the tag
 * named "O" when there is one, else tag 0) for every example. */
typedef struct pnm_predictions {
    int32_t *label;
    int32_t *tags;
    size_t *tag_at;
} pnm_predictions;

/* tag_names: the model's c->n_tags tag names (for BIO decoding, bio.h). */
int pnm_predict(const pnm_config *c, const float *params, const pnm_dataset *d,
                uint32_t threads, const char *const *tag_names, pnm_predictions *out,
                pnm_error *err);
void pnm_predictions_free(pnm_predictions *p);

int pnm_score(const pnm_config *c, const pnm_dataset *d, const pnm_predictions *pred,
              const char *const *tag_names, uint32_t n_tag_names, pnm_scores *s,
              pnm_error *err);

#ifdef __cplusplus
}
#endif
#endif
