/* BIO-constrained decoding of per-word tag scores: the best tag sequence
 * (Viterbi, by the sum of its words' scores) in which every I-X follows a
 * B-X or an I-X. Tagging word by word with argmax often breaks
 * that rule, and every break splits or loses a span in CoNLL scoring. */
#ifndef PNM_BIO_H
#define PNM_BIO_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pnm_bio {
    uint32_t n_tags;
    char *kind;      /* 'B', 'I' or 'O' per tag; names of other shapes count as 'O' */
    uint32_t *type;  /* B-X and I-X share a type id */
    uint32_t outside; /* the tag named "O" (0 when there is none): what a word
                         the network did not see (past s) is tagged */
    /* For decoding: the I- tags, and for the i-th of them the tags that may
     * come before it (its type's B- and I- tags, in tag order) at
     * preds[pred_at[i] .. pred_at[i + 1]). */
    uint32_t n_inside;
    uint32_t *inside, *pred_at, *preds;
} pnm_bio;

int pnm_bio_init(pnm_bio *b, const char *const *tags, uint32_t n_tags, pnm_error *err);
void pnm_bio_free(pnm_bio *b);

/* Decodes rows x n_tags finite scores into out[rows], using scratch of
 * pnm_bio_scratch_size(b, rows) bytes (malloc'd: it holds two types).
 * Scores are log-domain: the tagging head's logits, or their log-softmax,
 * which differs from them by one constant per word and so picks the same
 * sequence (up to float rounding in near-ties); decoding the logits spares
 * the softmax and its logs when no probability is wanted. */
size_t pnm_bio_scratch_size(const pnm_bio *b, uint32_t rows);
void pnm_bio_decode(const pnm_bio *b, const float *scores, uint32_t rows, uint32_t *out,
                    void *scratch);

#ifdef __cplusplus
}
#endif
#endif
