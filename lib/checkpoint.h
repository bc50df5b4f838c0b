/* Training checkpoints (specified in man/man5/pnm-checkpoint.5): all that a
 * stopped run needs to go on to the very weights an uninterrupted run
 * would have reached. A model file's body (configuration, names,
 * vocabulary, current weights) with the training options, the position,
 * the generator, the epoch's order, the AdamW moments, the moving average
 * and the best dev epoch's weights beside it, as one zstd frame written
 * atomically: the model file's own container (modelfile.h).
 *
 * Loading treats the file as hostile, as pnm_model_load does: sizes are
 * bounded before allocating, and every field is checked against its range
 * and against the others. */
#ifndef PNM_CHECKPOINT_H
#define PNM_CHECKPOINT_H

#include <stdint.h>

#include "dataset.h"
#include "error.h"
#include "modelfile.h"
#include "train.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PNM_CHECKPOINT_VERSION 1
#define PNM_CHECKPOINT_HEADER_BYTES 152
/* Uncompressed body: 8 GiB (where size_t allows), room for the moments,
 * average and best weights of the largest model file. */
#define PNM_MAX_CHECKPOINT_BYTES \
    ((size_t)((uint64_t)1 << 33 < SIZE_MAX ? (uint64_t)1 << 33 : SIZE_MAX))

typedef struct pnm_checkpoint {
    pnm_model *model;            /* the current weights are model->params */
    pnm_task task;
    pnm_train_options options;   /* threads: those the run had */
    bool has_dev;
    uint64_t train_id, dev_id;   /* pnm_checkpoint_data_id of the TSV files */
    pnm_train_state state;
} pnm_checkpoint;

/* The identity of a data set's text (XXH64 of its lines), which a resumed
 * run must be given again. */
uint64_t pnm_checkpoint_data_id(const pnm_tsv *t);

/* Writes ck atomically (temporary file and rename). ck->state must be for
 * ck->model's parameter count; the weights must be finite. */
int pnm_checkpoint_save(const pnm_checkpoint *ck, const char *path, pnm_error *err);

/* Loads and validates a checkpoint into ck, which owns what it holds until
 * pnm_checkpoint_free. Messages start with the path: "PATH: not a pnm
 * checkpoint", "PATH: corrupt checkpoint: ...". */
int pnm_checkpoint_load(pnm_checkpoint *ck, const char *path, pnm_error *err);
/* The same from the uncompressed body (messages without a path). */
int pnm_checkpoint_decode(pnm_checkpoint *ck, const void *body, size_t len, pnm_error *err);
/* Frees a loaded checkpoint's model and state. */
void pnm_checkpoint_free(pnm_checkpoint *ck);

#ifdef __cplusplus
}
#endif
#endif
