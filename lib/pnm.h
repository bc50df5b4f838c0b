/* libpnm: pNLP-Mixer as a C library. This umbrella header is the one to
 * include; each module's header states its own contract.
 *
 * An application that only runs a trained model needs classifier.h alone
 * (pnm_classifier_open(3)): open a model file, make a session per thread,
 * classify strings one at a time or in batches, read the label, its
 * probabilities and the per-word tags from the result, free. The other
 * headers are the stages and formats the programs are made of: tokens.h,
 * project.h, infer.h and stream.h for pipelines, modelfile.h and train.h
 * for making models. Installed, they live in PREFIX/include/pnm/:
 *
 *     #include <pnm/pnm.h>      cc app.c $(pkg-config --cflags --libs pnm)
 *
 * Conventions: functions that can fail return -1 (or NULL) and describe the
 * failure in a caller-provided pnm_error; the library never prints to the
 * terminal, never exits, and keeps no global mutable state. */
#ifndef PNM_H
#define PNM_H

#define PNM_VERSION "0.1.0"

#include "adamw.h"
#include "bio.h"
#include "bytes.h"
#include "checkpoint.h"
#include "classifier.h"
#include "corpus.h"
#include "crf.h"
#include "dataset.h"
#include "dump.h"
#include "error.h"
#include "evaluate.h"
#include "features.h"
#include "fit.h"
#include "hash.h"
#include "hidden.h"
#include "limits.h"
#include "infer.h"
#include "layers.h"
#include "lines.h"
#include "metrics.h"
#include "model.h"
#include "modelfile.h"
#include "output.h"
#include "project.h"
#include "qforward.h"
#include "qheads.h"
#include "qkernels.h"
#include "quant.h"
#include "sp.h"
#include "stream.h"
#include "tokens.h"
#include "train.h"
#include "trainlog.h"
#include "utf8.h"
#include "vocab.h"

#endif
