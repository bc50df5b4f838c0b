/* The text a vocabulary is trained on: every line's words joined by single
 * spaces (as pnm_next_word splits them), so that SentencePiece learns from
 * exactly the words the tokenizer will later feed it. */
#ifndef PNM_CORPUS_H
#define PNM_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pnm_corpus {
    char **sentences;
    size_t count, cap;
} pnm_corpus;

/* Adds one line; invalid UTF-8 is an error naming the line and byte. Lines
 * without words add nothing. */
int pnm_corpus_add(pnm_corpus *c, const char *line, size_t len, uint64_t line_no,
                   pnm_error *err);
void pnm_corpus_free(pnm_corpus *c);

#ifdef __cplusplus
}
#endif
#endif
