/* Running a trained model on streams: the mixer on a feature record, the
 * heads on a hidden record, and the printed forms of a prediction that
 * pnm-classify(1) documents. */
#ifndef PNM_INFER_H
#define PNM_INFER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bio.h"
#include "crf.h"
#include "features.h"
#include "hidden.h"
#include "model.h"
#include "modelfile.h"
#include "qforward.h"
#include "qheads.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What running a model needs besides the model: activations and the tag
 * decoder's buffers. One per thread. */
typedef struct pnm_runner {
    const pnm_model *m;
    pnm_workspace *ws;
    pnm_qworkspace *qws; /* the int8 forward's, for an int8 model (else NULL) */
    pnm_qheads *qh;      /* its heads' (qheads.h), likewise */
    pnm_bio bio;
    void *scratch;
    uint32_t *tags;   /* seq_len decoded tags */
    /* With a CRF (config.crf): its transitions, forward-backward and the
     * posterior marginals, seq_len x n_tags each. */
    pnm_crf crf;
    double *alpha, *beta;
    float *marginals;
    bool tag_probs;   /* pnm_runner_set_tag_probs */
} pnm_runner;

int pnm_runner_init(pnm_runner *r, const pnm_model *m, pnm_error *err);
void pnm_runner_free(pnm_runner *r);
/* Whether predictions carry tag probabilities (on after init). Off, the
 * tags are decoded from the logits alone and tag_probs is NULL: the same
 * tags (but for float rounding in a near-tie) without a softmax per word,
 * or with a CRF without forward-backward; for a caller that prints none. */
void pnm_runner_set_tag_probs(pnm_runner *r, bool on);

/* One example's results: views into the runner, valid until its next use. */
typedef struct pnm_prediction {
    uint64_t line;
    uint32_t n_words, rows;
    const float *label_probs; /* n_labels, or NULL without a classification head */
    const float *tag_probs;   /* rows x n_tags, or NULL without a tagging head or
                                 with tag probabilities off: each word's
                                 softmax, or with a CRF the posterior
                                 marginals p(tag of word t | sentence) */
    const uint32_t *tags;     /* rows tags, BIO-constrained (bio.h; with a CRF its
                                 Viterbi sequence, crf.h), or NULL without a
                                 tagging head */
    uint32_t outside;         /* the tag of words past the rows (bio.h) */
} pnm_prediction;

/* The mixer's output O for a feature record, as a hidden record. */
int pnm_mix_features(pnm_runner *r, const pnm_features *f, pnm_hidden *out, pnm_error *err);
/* The whole network on a feature record. */
int pnm_infer_features(pnm_runner *r, const pnm_features *f, pnm_prediction *out,
                       pnm_error *err);
/* The heads on a hidden record made by this model's mixer. */
int pnm_infer_hidden(pnm_runner *r, const pnm_hidden *h, pnm_prediction *out,
                     pnm_error *err);

/* The k best of n probabilities, best first (ties: lower id first): writes
 * min(k, n) ids and returns how many. */
uint32_t pnm_top_k(const float *p, uint32_t n, uint32_t k, uint32_t *ids);
/* The tag of word t (t < p->n_words) and its probability: the decoded tag,
 * or p->outside with probability 0 for a word past the rows the network
 * saw (0 too when the prediction has no tag_probs). The prediction must
 * have a tagging head. */
uint32_t pnm_prediction_tag(const pnm_model *m, const pnm_prediction *p, uint32_t t,
                            float *prob);

typedef enum { PNM_FORMAT_TEXT, PNM_FORMAT_TSV, PNM_FORMAT_JSON } pnm_format;

typedef struct pnm_print_options {
    pnm_format format;
    bool probs;      /* print probabilities */
    uint32_t top_k;  /* labels to print, best first (1: just the prediction) */
} pnm_print_options;

/* Whether lines printed with o show tag probabilities (so predictions
 * need them: pnm_runner_set_tag_probs). */
bool pnm_print_needs_tag_probs(const pnm_print_options *o);

/* One line per prediction (see pnm-classify(1)). */
void pnm_prediction_print(FILE *out, const pnm_model *m, const pnm_prediction *p,
                          const pnm_print_options *o);

#ifdef __cplusplus
}
#endif
#endif
