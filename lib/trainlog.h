/* Training curves (pnm-train --log): one tab-separated line per epoch
 * under a header line, flushed as it is written, so that `tail -f` and
 * scripts/plot-log can follow a run. Columns, in order:
 *
 *   epoch             epochs finished (1, 2, ...)
 *   loss              mean training loss of the epoch
 *   dev_accuracy      with a dev set and a classification head (0..1)
 *   dev_slot_f1       with a dev set and a tagging head (0..1)
 *   dev_exact         with a dev set and both heads: label and every tag right
 *   lr                learning rate of the epoch's last step
 *   examples_per_s    training speed over the epoch
 *   elapsed_s         training time since the run began, resumed runs included
 *   best              with a dev set: 1 when this epoch is the best so far (kept)
 */
#ifndef PNM_TRAINLOG_H
#define PNM_TRAINLOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "model.h"
#include "train.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pnm_trainlog {
    FILE *f;
    bool labels, tags, dev;
} pnm_trainlog;

/* Starts the log in f (opened for appending when resuming, else for
 * writing): the columns follow from the model's heads and has_dev. For a
 * run resumed after epoch resume_epoch (0: a new run), a regular file that
 * starts with the same header keeps its lines up to that epoch, so that the
 * resumed run's lines follow them; anything else is replaced. */
int pnm_trainlog_start(pnm_trainlog *log, FILE *f, const pnm_config *c, bool has_dev,
                       uint32_t resume_epoch, pnm_error *err);
/* Writes and flushes the line of an epoch's end (p->epoch_end). */
int pnm_trainlog_epoch(const pnm_trainlog *log, const pnm_progress *p, pnm_error *err);

#ifdef __cplusplus
}
#endif
#endif
