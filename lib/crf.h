/* A linear-chain CRF over one sentence's per-word tag scores x (rows x T,
 * the tagging head's logits), with learned transition scores:
 *
 *   score(y) = start[y_0] + sum_t x[t][y_t] + sum_{t>0} trans[y_{t-1}][y_t] + end[y_last]
 *   p(y | x) = exp(score(y)) / Z,   Z = sum over sequences y' of exp(score(y'))
 *
 * The tag set's BIO rules (bio.h) forbid some sequences outright: an I-X
 * may only follow B-X or I-X, and may not start a sentence. Those
 * transitions are fixed at -inf here, outside the parameters (which stay
 * finite, as the model file requires; their entries get no gradient), so
 * that training normalises over exactly the sequences decoding can choose
 * from, and no weight is spent learning what the rules already say.
 *
 * Costs per word: the forward and backward recursions are each a T x T
 * matrix-vector product (BLAS), the gradient one more and a T x T update,
 * Viterbi T x T additions and comparisons; T exponentials (of the word's
 * scores), the T x T of the transitions once per pnm_crf_set. */
#ifndef PNM_CRF_H
#define PNM_CRF_H

#include <stddef.h>
#include <stdint.h>

#include "bio.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The transitions of one set of parameters, ready for the recursions, and
 * their scratch: one per thread. */
typedef struct pnm_crf {
    uint32_t n_tags;
    const pnm_bio *bio;  /* the rules, from pnm_crf_set; not owned */
    float *trans;        /* T x T, from row tag to column tag; -inf where forbidden */
    float *start, *end;  /* T each; start is -inf for I- tags */
    double *expt;        /* T x T: exp(trans - shift), 0 where forbidden */
    double shift;        /* the largest allowed transition score */
    double *exp_start, *exp_end; /* T each: exp(start - start_shift), ... */
    double start_shift, end_shift;
    double *u;           /* T: scratch */
    double *emit, *scale; /* max_rows x T, max_rows: the forward pass's */
} pnm_crf;

/* For sentences of up to max_rows words. */
int pnm_crf_init(pnm_crf *crf, uint32_t n_tags, uint32_t max_rows, pnm_error *err);
void pnm_crf_free(pnm_crf *crf);

/* Takes the model's transition parameters (trans T x T, start T, end T)
 * under bio's rules (bio->n_tags must be n_tags; bio must outlive its use
 * here). Call again whenever the parameters change. */
void pnm_crf_set(pnm_crf *crf, const pnm_bio *bio, const float *trans, const float *start,
                 const float *end);

/* The gold sequence the loss scores, from gold tags (rows of them): an I-X
 * that BIO forbids where it stands becomes B-X, which opens the same span
 * in CoNLL scoring. -1 when there is none: a tag outside 0..T-1, or such
 * an I-X of a type that has no B- tag. */
int pnm_crf_gold_path(const pnm_bio *bio, const int32_t *gold, uint32_t rows, uint32_t *path);

/* score(path) for rows >= 1 words of scores x. */
double pnm_crf_path_score(const pnm_crf *crf, const float *x, uint32_t rows,
                          const uint32_t *path);

/* Forward-backward for 1 <= rows <= max_rows, scaled: alpha[t][j] is the
 * probability of j at t given words 0..t, beta[t][j] the weight of the
 * suffixes after t given j at t over the forward pass's scales, so that
 * alpha[t][j] * beta[t][j] = p(y_t = j | x); both rows x T. Returns log Z;
 * -inf, alpha and beta 0, when no sequence is allowed (a tag set of I- tags
 * only). */
double pnm_crf_forward(const pnm_crf *crf, const float *x, uint32_t rows, double *alpha,
                       double *beta);

/* Posterior marginals p(y_t = j | x), rows x T, from pnm_crf_forward. */
void pnm_crf_marginals(const pnm_crf *crf, uint32_t rows, const double *alpha,
                       const double *beta, float *marginals);

/* The loss log Z - score(path), scaled by scale, differentiated, from
 * pnm_crf_forward (with log Z finite): dx (rows x T) is set to scale *
 * (marginals - onehot(path)); dtrans (T x T), dstart and dend (T each) are
 * added scale * (expected - path) transition and boundary counts. */
void pnm_crf_nll_backward(const pnm_crf *crf, uint32_t rows, const uint32_t *path,
                          const double *alpha, const double *beta, float scale, float *dx,
                          float *dtrans, float *dstart, float *dend);

/* Viterbi: the highest-scoring allowed sequence of rows >= 1 words into
 * out[rows] (ties go to the lower tag index); score is rows x T scratch. */
void pnm_crf_decode(const pnm_crf *crf, const float *x, uint32_t rows, uint32_t *out,
                    float *score);

#ifdef __cplusplus
}
#endif
#endif
