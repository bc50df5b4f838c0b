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
} pnm_fit_options;

/* What the trainer learned about the data, for the caller to report. */
typedef struct pnm_fit_info {
    pnm_task task;
    size_t train_examples, dev_examples;
    uint32_t vocab_pieces;
    bool vocab_trained;
    size_t params;
    pnm_scores dev;           /* of the kept epoch, when there is a dev set */
} pnm_fit_info;

/* Called once the data is ready, before the first epoch. */
typedef void (*pnm_fit_ready_fn)(void *ctx, const pnm_fit_info *info, const pnm_config *c);

pnm_model *pnm_fit(const pnm_fit_options *o, pnm_fit_ready_fn ready,
                   pnm_progress_fn progress, void *ctx, pnm_fit_info *info, pnm_error *err);

#ifdef __cplusplus
}
#endif
#endif
