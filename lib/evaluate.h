/* Scoring predictions against gold data: what pnm-eval(1) computes.
 *
 * The gold data is a TSV as pnm-train reads it (see dataset.h):
 *   classify  LABEL  TEXT
 *   joint     LABEL  TEXT  TAGS
 *   tag       TEXT   TAGS      (or LABEL TEXT TAGS: the label is ignored)
 * The predictions are pnm-classify(1)'s output, line N for gold line N:
 *   text  LABEL [PROB]... [TAB TAG [PROB]...]   (a tagging-only model: TAG [PROB]...)
 *   tsv   LINE TAB LABEL [PROB]... TAB TAGS [TAB TAG_PROBS]
 * Of the labels printed with --top-k or --probs, the first (the model's
 * prediction) counts; tag probabilities are skipped (see pnm_evaluate).
 *
 * The counting is lib/metrics': a confusion matrix for labels, conlleval's
 * spans for BIO tags. The report owns everything it points to. */
#ifndef PNM_EVALUATE_H
#define PNM_EVALUATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dataset.h"
#include "error.h"
#include "metrics.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How the predictions are written: pnm-classify's --format text or tsv. */
typedef enum { PNM_PRED_TEXT, PNM_PRED_TSV } pnm_pred_format;

const char *pnm_pred_format_name(pnm_pred_format f);
/* Parses "text" or "tsv"; -1 otherwise. */
int pnm_pred_format_parse(const char *name, pnm_pred_format *f);

typedef struct pnm_eval_options {
    pnm_pred_format format;
    bool task_given; /* else the task is the gold's column count's (pnm_tsv_guess_task) */
    pnm_task task;
} pnm_eval_options;

/* One label's row of the report. */
typedef struct pnm_eval_class {
    const char *label;           /* points into the report's label set */
    double precision, recall, f1;
    uint64_t support;            /* gold examples of the label */
    uint64_t predicted;          /* examples predicted as the label */
} pnm_eval_class;

/* An off-diagonal cell of the confusion matrix. */
typedef struct pnm_eval_confusion {
    const char *gold, *predicted; /* point into the report's label set */
    uint64_t count;
} pnm_eval_confusion;

typedef struct pnm_eval_report {
    pnm_task task;
    bool has_labels, has_tags;  /* what the task scores */
    uint64_t examples;

    /* Labels (has_labels): accuracy = correct / examples; macro-F1 is
     * pnm_macro_f1, the mean F1 of the classes seen in gold or predicted. */
    uint64_t correct;
    double accuracy, macro_f1;
    pnm_eval_class *classes;    /* every label seen, by support (descending), then name */
    uint32_t n_classes;
    pnm_eval_confusion *confusions; /* every nonzero gold != predicted cell, by
                                       count (descending), then gold, then predicted */
    uint32_t n_confusions;

    /* Tags (has_tags): conlleval span counts and their P/R/F1. */
    pnm_span_counts spans;
    double span_precision, span_recall, span_f1;

    /* Exact match: the label (if scored) and every tag (if scored) right. */
    uint64_t exact;
    double exact_match;

    pnm_labelset labels;        /* owns the label names */
} pnm_eval_report;

/* Scores the lines of pred (read with pnm_tsv_read; its columns do not
 * matter for the text format) against the lines of gold. gold_name and
 * pred_name name them in messages.
 *
 * Errors, each naming the file and the line:
 *   - a different number of lines in gold and pred (the message gives both);
 *   - a gold line without the task's columns, an empty gold label, a gold
 *     line whose tag count differs from the number of words of its text;
 *   - a prediction line without a label (empty or starting with a blank)
 *     where the task scores labels; in the tsv format, a LINE column that is
 *     not this line's number;
 *   - a prediction line whose tag count differs from the gold's word count;
 *   - a tag that is not O, B-TYPE or I-TYPE, in gold or prediction.
 * Tags are separated by spaces or tabs. In the text format, a tag list of
 * exactly twice the gold word count in which every second token is a number
 * is read as TAG PROB pairs (pnm-classify --probs). A gold label the model
 * never predicts, or a predicted label absent from gold, is no error: it
 * counts as a mistake.
 *
 * Fills *r (free with pnm_eval_report_free); on error *r is empty. */
int pnm_evaluate(pnm_eval_report *r, const pnm_tsv *gold, const char *gold_name,
                 const pnm_tsv *pred, const char *pred_name, const pnm_eval_options *o,
                 pnm_error *err);
void pnm_eval_report_free(pnm_eval_report *r);

/* The report for people: a summary (percentages with 2 decimals), the
 * per-class table and the max_confusions most frequent confusions. */
void pnm_eval_report_print_text(FILE *out, const pnm_eval_report *r, uint32_t max_confusions);
/* The same numbers as one JSON object, fractions in [0, 1] rather than
 * percentages; keys for what the task does not score are left out. */
void pnm_eval_report_print_json(FILE *out, const pnm_eval_report *r, uint32_t max_confusions);

#ifdef __cplusplus
}
#endif
#endif
