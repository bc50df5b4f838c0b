/* Reading text one line at a time with a bound on the line length, NUL
 * bytes included (getline has no bound, fgets stops at NUL). */
#ifndef PNM_LINES_H
#define PNM_LINES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bytes.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pnm_lines {
    FILE *f;
    uint64_t number;  /* of the line last returned, 1-based, counting on
                         across pnm_lines_reset to a new file */
    uint8_t *chunk;
    size_t pos, len;
    bool eof;
    pnm_buf line;
} pnm_lines;

int pnm_lines_init(pnm_lines *r, FILE *f, pnm_error *err);
/* Switches to the next input file; line numbers continue, as with cat. */
void pnm_lines_reset(pnm_lines *r, FILE *f);
/* Next line without its '\n': 1, 0 at the end, -1 on a read error or a line
 * longer than PNM_MAX_LINE_BYTES. *line is valid until the next call. A last
 * line without a newline still counts. */
int pnm_lines_next(pnm_lines *r, const char **line, size_t *len, pnm_error *err);
void pnm_lines_free(pnm_lines *r);

#ifdef __cplusplus
}
#endif
#endif
