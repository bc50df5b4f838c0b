/* The embedding API: a trained model file in, predictions for strings out,
 * with no streams, pipes or files in between (pnm_classifier_open(3)).
 *
 *     pnm_error err;
 *     pnm_classifier *c = pnm_classifier_open("atis.pnm", &err);
 *     pnm_session *s = c ? pnm_session_new(c, &err) : NULL;
 *     const pnm_result *r = s ? pnm_classify_text(s, "flights to boston", &err) : NULL;
 *     if (r)
 *         puts(pnm_result_label_name(r));
 *
 * An int8 model (pnm-quantize(1)) is opened and run the same way.
 *
 * A string goes through exactly the library code of the programs: the
 * tokenizer of pnm-tokenize, the projector of pnm-project and the runner of
 * pnm-classify, so a result is identical to the line that
 * `pnm-tokenize -m M | pnm-project -m M | pnm-classify -m M` prints for the
 * same text. The string is one example (what is one line for the programs);
 * a newline in it separates words like a space does.
 *
 * Thread safety: a pnm_classifier is immutable once opened and may be used
 * by any number of threads at once (pnm_session_new, pnm_classify_batch and
 * the name functions only read it); close it after every session made from
 * it is freed and while no thread uses it. A pnm_session holds the
 * activations of one example: use each from one thread at a time (one
 * session per thread). A result is owned by whoever made it and is never
 * changed by another thread; results name labels and tags with the
 * classifier's strings, so they are valid while the classifier is open.
 *
 * BLAS threads: classifying calls no BLAS routine (the network's products
 * are lib/layers.c's own kernels), so OpenBLAS's thread count does not
 * matter to it; use threads of your own or pnm_classify_batch's. Training
 * calls OpenBLAS, and sets it to one thread itself.
 *
 * Errors: functions that can fail return NULL (or -1) and leave one
 * sentence in err (may be NULL); nothing is printed and nothing exits. */
#ifndef PNM_CLASSIFIER_H
#define PNM_CLASSIFIER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "modelfile.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pnm_classifier pnm_classifier;
typedef struct pnm_session pnm_session;
typedef struct pnm_result pnm_result;

/* Loads and validates a model file made by pnm-train (messages start with
 * the path, as pnm_model_load's), and prepares the projection of its
 * vocabulary. */
pnm_classifier *pnm_classifier_open(const char *path, pnm_error *err);
/* The same from the file's bytes, e.g. a model built into the program;
 * the bytes are copied, so the caller may free them afterwards. */
pnm_classifier *pnm_classifier_open_bytes(const void *data, size_t len, pnm_error *err);
/* NULL is ignored. */
void pnm_classifier_close(pnm_classifier *c);

/* The loaded model (configuration, names, weights), read-only. */
const pnm_model *pnm_classifier_model(const pnm_classifier *c);
/* Sentence labels (0 when the model has no classification head) and their
 * names by id, ids being the indexes of pnm_result_label_probs; likewise
 * word tags (0 without a tagging head). NULL for an id out of range. */
uint32_t pnm_classifier_labels(const pnm_classifier *c);
const char *pnm_classifier_label_name(const pnm_classifier *c, uint32_t id);
uint32_t pnm_classifier_tags(const pnm_classifier *c);
const char *pnm_classifier_tag_name(const pnm_classifier *c, uint32_t id);

/* The workspace of one thread: token, feature and activation buffers,
 * grown on demand and reused by every call. Free it before closing c. */
pnm_session *pnm_session_new(const pnm_classifier *c, pnm_error *err);
/* NULL is ignored. */
void pnm_session_free(pnm_session *s);

/* Classifies text (NUL-terminated UTF-8, at most PNM_MAX_LINE_BYTES bytes).
 * The result belongs to the session and stays valid until the session's
 * next call or its free. Invalid UTF-8 is an error ("line 1, byte N:
 * invalid UTF-8 ..."). */
const pnm_result *pnm_classify_text(pnm_session *s, const char *text, pnm_error *err);

/* Classifies texts[0..n-1] on `threads` threads (0 or 1: the calling thread
 * alone; at most 256, and never more than n), each thread with a session of
 * its own. Returns an array of n results that the caller owns (free with
 * pnm_results_free), result i for texts[i], each identical to what
 * pnm_classify_text gives for the same text whatever the thread count. On
 * error nothing is returned, and the message names the first failing text
 * as "line I" (I = its index + 1). */
pnm_result **pnm_classify_batch(const pnm_classifier *c, const char *const *texts,
                                size_t n, uint32_t threads, pnm_error *err);
/* Frees the array and its n results; NULL is ignored. */
void pnm_results_free(pnm_result **results, size_t n);

/* The most likely label's id (ties: the lower id) and name; -1 and NULL
 * when the model has no classification head. */
int32_t pnm_result_label(const pnm_result *r);
const char *pnm_result_label_name(const pnm_result *r);
/* The probability of every label, by id (pnm_classifier_labels of them);
 * NULL without a classification head. */
const float *pnm_result_label_probs(const pnm_result *r);

/* The words of the text, as the tokenizer split it (every word counts,
 * including those past the model's sequence length). */
uint32_t pnm_result_words(const pnm_result *r);
/* Word i's tag id and name, BIO-constrained (every I-X follows B-X or I-X);
 * a word past the sequence length the model sees gets the tag "O" (tag 0
 * when there is none) with probability 0. -1, NULL and 0 without a tagging
 * head or for i >= pnm_result_words(r). */
int32_t pnm_result_tag(const pnm_result *r, uint32_t i);
const char *pnm_result_tag_name(const pnm_result *r, uint32_t i);
/* The probability the network gave word i's tag (with a CRF, its posterior
 * marginal). */
float pnm_result_tag_prob(const pnm_result *r, uint32_t i);

#ifdef __cplusplus
}
#endif
#endif
