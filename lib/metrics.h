/* Evaluation metrics: accuracy and F1 for single-label classification, and
 * span precision/recall/F1 for BIO slot tagging, the way conlleval.pl counts
 * them. Used by pnm-train (dev evaluation each epoch) and pnm-eval.
 *
 * Labels are small integer ids (the caller maps label strings to ids); slot
 * tags are passed as their names, one per word. A metric that would divide
 * by zero is 0, never NaN. */
#ifndef PNM_METRICS_H
#define PNM_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Confusion counts for single-label classification: counts[gold *
 * n_classes + pred] is how many examples of class gold were predicted as
 * pred. Owns counts; start from pnm_confusion_init, end with
 * pnm_confusion_free. */
typedef struct pnm_confusion {
    uint32_t n_classes;
    uint64_t *counts; /* n_classes x n_classes, [gold][pred] */
} pnm_confusion;

/* All counts zero. n_classes must be at least 1. */
int pnm_confusion_init(pnm_confusion *c, uint32_t n_classes, pnm_error *err);
/* Sets every count back to zero (say, before the next epoch's dev pass). */
void pnm_confusion_reset(pnm_confusion *c);
/* Counts one example. gold and pred must be below n_classes: an id out of
 * range is a bug in the caller, and the example is not counted. */
void pnm_confusion_add(pnm_confusion *c, uint32_t gold, uint32_t pred);
void pnm_confusion_free(pnm_confusion *c);

/* Examples counted (the sum of all counts). */
uint64_t pnm_confusion_total(const pnm_confusion *c);
/* Correct / total; 0 when nothing was counted. */
double pnm_accuracy(const pnm_confusion *c);
/* Class k's precision tp / predicted-as-k, recall tp / gold-k, and F1
 * 2 tp / (predicted-as-k + gold-k) (their harmonic mean); each is 0 where its
 * denominator is 0, and all three are 0 for k >= n_classes. Any output
 * pointer may be NULL. */
void pnm_class_prf(const pnm_confusion *c, uint32_t k, double *precision, double *recall,
                   double *f1);
/* Unweighted mean of the per-class F1 over the classes that occur in gold or
 * in pred at least once (a class never seen either way does not pull the
 * mean down; a class predicted but absent from gold counts with F1 0).
 * 0 when nothing was counted. */
double pnm_macro_f1(const pnm_confusion *c);

/* Slot spans, IOB2 (BIO) tags, counted as conlleval.pl counts them.
 *
 * A tag is "O", "B-TYPE" or "I-TYPE", TYPE being one or more bytes (it may
 * itself contain '-': "B-date-time" has type "date-time"). Anything else
 * ("X-foo", "B-", "b-foo", "", "O-foo") is an error.
 *
 * A span (chunk) is (type, first word, last word):
 *   - it starts at B-X, and at I-X when the previous tag is O, has a type
 *     other than X, or does not exist (I-X at the start of the sentence):
 *     an I- without a chunk of its type before it starts a new chunk;
 *   - it goes on through each following I-X;
 *   - it ends before O, before any B-, before I-Y with Y != X, and at the end
 *     of the sentence. So "B-X B-X" is two spans, "I-X I-X" one, and
 *     "B-X I-Y" two.
 * A predicted span is correct only if a gold span has the same type, the
 * same first word and the same last word. */
typedef struct pnm_span_counts {
    uint64_t gold;    /* spans in the gold tags */
    uint64_t pred;    /* spans in the predicted tags */
    uint64_t correct; /* predicted spans that are also gold spans */
} pnm_span_counts;

/* Splits one tag: *kind is 'O', 'B' or 'I'; *type points into tag (for "O",
 * at its terminator) and *type_len is its length in bytes (0 for "O").
 * Returns 0, or -1 when the tag is none of the shapes above. */
int pnm_tag_parse(const char *tag, char *kind, const char **type, size_t *type_len,
                  pnm_error *err);

/* Adds one sentence of n_words words: gold[i] and pred[i] are the tags of
 * word i. On an invalid tag returns -1, names the word and the tag, and
 * leaves c as it was. Allocates nothing. */
int pnm_spans_add(pnm_span_counts *c, const char *const *gold, const char *const *pred,
                  size_t n_words, pnm_error *err);

/* correct / pred, correct / gold, and 2 correct / (gold + pred); 0 where the
 * denominator is 0. */
double pnm_span_precision(const pnm_span_counts *c);
double pnm_span_recall(const pnm_span_counts *c);
double pnm_span_f1(const pnm_span_counts *c);

#ifdef __cplusplus
}
#endif
#endif
