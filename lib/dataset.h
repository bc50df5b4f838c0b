/* Labelled text for training and evaluation: TSV lines turned into
 * examples through the same tokenizer and projection as the programs, so a
 * model sees in training exactly what pnm-project gives it later.
 *
 * Columns (tab-separated), by task:
 *   classify  LABEL  TEXT
 *   joint     LABEL  TEXT  TAGS      (one BIO tag per word, space-separated)
 *   tag       TEXT   TAGS            (or LABEL TEXT TAGS: the label is ignored) */
#ifndef PNM_DATASET_H
#define PNM_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "labelset.h"
#include "model.h"
#include "project.h"
#include "sp.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { PNM_TASK_CLASSIFY, PNM_TASK_JOINT, PNM_TASK_TAG } pnm_task;

const char *pnm_task_name(pnm_task t);
/* Parses "classify", "joint" or "tag"; -1 otherwise. */
int pnm_task_parse(const char *name, pnm_task *t);

/* A TSV file read whole: its lines and columns, kept as text until a
 * vocabulary exists to tokenize them with. */
typedef struct pnm_tsv {
    char *text;          /* all lines, NUL-separated */
    size_t len, cap;
    size_t *line_start;  /* offsets into text */
    size_t count, line_cap;
} pnm_tsv;

/* Reads every line of f; a NUL byte or invalid UTF-8 is an error naming the
 * line (and byte), since the fields are printed back as text and JSON. */
int pnm_tsv_read(pnm_tsv *t, FILE *f, const char *name, pnm_error *err);
/* Column col (0-based) of line i, or NULL when the line has fewer columns. */
const char *pnm_tsv_field(const pnm_tsv *t, size_t i, unsigned col, size_t *len);
void pnm_tsv_free(pnm_tsv *t);

/* The task a TSV's first line suggests: 2 columns classify, 3 joint. */
int pnm_tsv_guess_task(const pnm_tsv *t, pnm_task *task, pnm_error *err);
/* The column holding the text for a task and a TSV. */
unsigned pnm_task_text_column(pnm_task task, const pnm_tsv *t);

typedef struct pnm_dataset {
    size_t count;
    pnm_example *ex;
    uint64_t *line;      /* input line of each example */
    uint16_t *buckets;   /* all examples' features */
    int32_t *tags;       /* all examples' tag ids */
    size_t n_buckets, n_tags;
    uint64_t tagged_words;
} pnm_dataset;

/* Tokenizes and projects every line of tsv into examples. Labels and tags
 * get ids from the label sets, which grow: names first met here get ids at
 * or beyond what a model trained before knows, so they count as errors in
 * evaluation but are never predicted. */
int pnm_dataset_build(pnm_dataset *d, const pnm_tsv *tsv, const char *name, pnm_task task,
                      const pnm_sp *sp, const pnm_projector *pr, pnm_labelset *labels,
                      pnm_labelset *tags, pnm_error *err);
void pnm_dataset_free(pnm_dataset *d);

#ifdef __cplusplus
}
#endif
#endif
