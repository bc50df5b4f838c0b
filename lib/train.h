/* Training and evaluation of a pNLP-Mixer: minibatch AdamW over a data set,
 * the batch split across threads (each with its own activations and
 * gradient arena, summed in a fixed order, so one seed and one thread count
 * always give the same model), and the best epoch on a dev set kept. */
#ifndef PNM_TRAIN_H
#define PNM_TRAIN_H

#include <signal.h>
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
    double seconds;            /* since the epoch started (or was resumed) */
    double elapsed;            /* training time of the whole run, resumed ones included */
    double rate;               /* examples per second of this epoch */
    float lr;                  /* the learning rate of the last step */
    bool epoch_end;
    bool has_dev, best;
    pnm_scores dev;
} pnm_progress;

typedef void (*pnm_progress_fn)(void *ctx, const pnm_progress *p);

/* Everything a run carries from step to step besides the weights: with the
 * weights, exactly what it needs to go on (what a checkpoint holds,
 * checkpoint.h). Arrays are owned. */
typedef struct pnm_train_state {
    size_t n_params, n_examples;
    float *m, *v;          /* AdamW moments, n_params each */
    float *ema;            /* moving average of the weights, or NULL without --ema */
    float *best;           /* weights of the best dev epoch so far, when has_best */
    bool has_best;
    double best_score;
    uint32_t epoch;        /* epochs finished */
    uint64_t step;         /* optimizer steps taken, in all */
    uint64_t epoch_step;   /* steps taken of epoch + 1; 0 at an epoch boundary */
    uint64_t rng;          /* the generator of shuffles and dropout seeds */
    uint32_t *order;       /* n_examples: the order of the current (or last) epoch */
    double loss_sum;       /* summed batch losses (times batch size) of epoch + 1 so far */
    double seconds;        /* training time so far */
} pnm_train_state;

/* The state before the first step of a run over n_examples examples:
 * moments 0, the average equal to params, no best epoch, examples in
 * order, the generator seeded from o->seed. */
int pnm_train_state_init(pnm_train_state *s, const pnm_config *c, size_t n_examples,
                         const pnm_train_options *o, const float *params, pnm_error *err);
void pnm_train_state_free(pnm_train_state *s);

/* Steps per epoch over n_examples, and the checks that a state fits a run
 * (for a loaded checkpoint). */
uint64_t pnm_train_steps_per_epoch(const pnm_train_options *o, size_t n_examples);
int pnm_train_state_check(const pnm_train_state *s, const pnm_train_options *o,
                          pnm_error *err);

/* What a run reports and asks of its caller; every member may be 0. */
typedef struct pnm_train_hooks {
    pnm_progress_fn progress;
    /* Saves params (the current weights, not the kept ones) and s; called
     * after every checkpoint_epochs epochs (once the dev set is scored),
     * every checkpoint_steps steps, and when stopped. */
    int (*checkpoint)(void *ctx, const float *params, const pnm_train_state *s,
                      pnm_error *err);
    uint32_t checkpoint_epochs;
    uint64_t checkpoint_steps;
    /* Looked at between steps: once non-zero (a signal handler sets it),
     * the run checkpoints and returns PNM_TRAIN_STOPPED. */
    const volatile sig_atomic_t *stop;
    void *ctx;
} pnm_train_hooks;

#define PNM_TRAIN_STOPPED 1

/* Trains params on train from state s (pnm_train_state_init, or a loaded
 * checkpoint); with a dev set, evaluates after each epoch. Returns 0 with
 * params at the kept weights (the best dev epoch's, else the last's; the
 * average with EMA), PNM_TRAIN_STOPPED with params and s where the run
 * stopped (a checkpoint of them written), or -1. The label and tag names
 * let the evaluation find spans. The same options, data, state and thread
 * count give the same weights, bit for bit, however often a run is
 * stopped and resumed. */
int pnm_train(const pnm_config *c, float *params, const pnm_dataset *train,
              const pnm_dataset *dev, const char *const *tag_names, uint32_t n_tag_names,
              const pnm_train_options *o, pnm_train_state *s, const pnm_train_hooks *h,
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
