/* From labelled text files to a trained model in one call: read the TSV,
 * make or load the vocabulary, tokenize and project through the library's
 * own pipeline code, pick up label and tag names, train, keep the best dev
 * epoch. pnm-train(1) is a thin shell around it. */
#ifndef PNM_FIT_H
#define PNM_FIT_H

#include <stdbool.h>
#include <stdio.h>

#include "dataset.h"
#include "modelfile.h"
#include "train.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pnm_fit_options {
    FILE *train;
    const char *train_name;
    FILE *dev;                /* NULL: no dev set, the last epoch is kept */
    const char *dev_name;
    bool task_given;
    pnm_task task;
    const char *vocab_path;   /* SentencePiece or pnm model file; NULL: train a
                                 vocabulary on the training text */
    uint32_t vocab_size;
    pnm_config config;        /* sizes and projection; labels and tags are filled in */
    pnm_train_options train_options;
    /* A checkpoint to go on from: its task, configuration, vocabulary,
     * names and training options replace those above (threads too, unless
     * threads_given), and the same training and dev data must be given.
     * NULL: a new run. */
    const char *resume_path;
    bool threads_given;
    /* Where checkpoints are written (see pnm_train_hooks for when); NULL:
     * nowhere, and a stop is then not resumable. */
    const char *checkpoint_path;
    uint32_t checkpoint_epochs;
    uint64_t checkpoint_steps;
    const volatile sig_atomic_t *stop;  /* may be NULL */
} pnm_fit_options;

/* What the trainer learned about the data and the run, for the caller to
 * report. */
typedef struct pnm_fit_info {
    pnm_task task;
    size_t train_examples, dev_examples;
    uint32_t vocab_pieces;
    bool vocab_trained;
    size_t params;
    pnm_train_options train;  /* the run's options (a resumed run's are the checkpoint's) */
    bool resumed;
    /* Where the run starts (at ready) and where it is at the end or a stop:
     * epochs finished and steps of the next one; and whether it stopped. */
    uint32_t epoch;
    uint64_t epoch_step, steps_per_epoch;
    bool stopped;
    uint64_t checkpoints;     /* written by this call */
    pnm_scores dev;           /* of the kept epoch, when there is a dev set */
} pnm_fit_info;

/* Called once the data is ready, before the first step. */
typedef void (*pnm_fit_ready_fn)(void *ctx, const pnm_fit_info *info, const pnm_config *c);

/* The trained model; or NULL, with info->stopped when the run was stopped
 * (o->stop; a checkpoint written, err untouched), else with err set. */
pnm_model *pnm_fit(const pnm_fit_options *o, pnm_fit_ready_fn ready,
                   pnm_progress_fn progress, void *ctx, pnm_fit_info *info, pnm_error *err);

#ifdef __cplusplus
}
#endif
#endif
