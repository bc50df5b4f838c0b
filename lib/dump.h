/* Readable renderings of stream contents, as text for people and as JSON
 * (one object per line) for scripts. pnm-dump(1) describes both. */
#ifndef PNM_DUMP_H
#define PNM_DUMP_H

#include <stdbool.h>
#include <stdio.h>

#include "features.h"
#include "hidden.h"
#include "modelfile.h"
#include "stream.h"
#include "tokens.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { PNM_DUMP_TEXT, PNM_DUMP_JSON } pnm_dump_format;

void pnm_dump_header(FILE *out, const pnm_header *h, bool compressed, pnm_dump_format fmt);
/* Text: "LINE: piece piece | piece ..." (words separated by " | "); with
 * ids, piece ids instead of strings; with_line false drops "LINE: ". */
void pnm_dump_tokens(FILE *out, const pnm_header *h, const pnm_tokens *t,
                     pnm_dump_format fmt, bool ids, bool with_line);
/* Text: "LINE: {b b:count ...} {...}", one brace group per word. */
void pnm_dump_features(FILE *out, const pnm_features *f, pnm_dump_format fmt);
/* Text: "LINE: N words, R rows x D: v v v v ... | v ...", the first 4
 * values of every row (%.4g), rows separated by " | "; JSON carries every
 * value (%.9g, enough to read the float back exactly). */
void pnm_dump_hidden(FILE *out, const pnm_hidden *h, pnm_dump_format fmt);
void pnm_dump_end(FILE *out, uint64_t records, pnm_dump_format fmt);

/* A model file's summary: text "# pnm model, WEIGHTS weights; vocabulary
 * ..." with its sizes, then, unless header_only, "label I NAME" and "tag I
 * NAME" lines; JSON one object with the same fields (and the names). */
void pnm_dump_model(FILE *out, const pnm_model *m, bool header_only, pnm_dump_format fmt);

/* len bytes of UTF-8 as a JSON string, quotes included: the one escaping
 * every JSON writer of the project uses. */
void pnm_json_put_string(FILE *out, const char *s, size_t len);

#ifdef __cplusplus
}
#endif
#endif
