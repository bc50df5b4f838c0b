/* Hidden records: the mixer's output for one input line, O as rows x b
 * floats, where rows = min(max(n_words, 1), s) is the number of positions
 * the network computed (pnm_example_rows in model.h): an empty line is one
 * row, words past s are not seen. b (dim) and s (seq_len) come from the
 * stream's header, with the identity of the model that made the stream.
 * Payload layout: see pnm-stream(5). */
#ifndef PNM_HIDDEN_H
#define PNM_HIDDEN_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "error.h"
#include "stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pnm_hidden {
    uint64_t line;    /* 1-based input line number */
    uint32_t n_words; /* words of the line (may exceed rows) */
    uint32_t rows;
    uint32_t dim;     /* b */
    float *values;    /* rows x dim, row-major; owned */
    size_t cap;       /* floats allocated */
} pnm_hidden;

void pnm_hidden_free(pnm_hidden *h);
/* Makes room for rows x dim values and sets rows and dim. */
int pnm_hidden_reserve(pnm_hidden *h, uint32_t rows, uint32_t dim, pnm_error *err);

/* Serialises h as a record payload into out (out->len is reset). Refuses
 * what a reader would: rows outside 1..max(n_words, 1), a value that is
 * not finite, a payload above the record limit. */
int pnm_hidden_encode(const pnm_hidden *h, pnm_buf *out, pnm_error *err);
/* Parses and validates a payload against the stream's header: rows must
 * be min(max(n_words, 1), seq_len), the length exact, every value finite. */
int pnm_hidden_decode(const pnm_header *h, const uint8_t *p, uint32_t len,
                      pnm_hidden *out, pnm_error *err);
/* Next record of a hidden stream: 1, 0 at the end, -1 on error (the message
 * names the record's byte offset). */
int pnm_hidden_read(pnm_reader *r, pnm_hidden *out, pnm_error *err);

#ifdef __cplusplus
}
#endif
#endif
