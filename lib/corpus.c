#include "corpus.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "tokens.h"
#include "utf8.h"

int pnm_corpus_add(pnm_corpus *c, const char *line, size_t len, uint64_t line_no,
                   pnm_error *err)
{
    size_t bad = pnm_utf8_find_invalid(line, len);
    if (bad < len)
        return pnm_error_set(err, "line %" PRIu64 ", byte %zu: invalid UTF-8 (0x%02x)",
                             line_no, bad + 1, (unsigned char)line[bad]);
    pnm_buf joined = {0};
    if (pnm_words_joined(line, len, &joined, err) || pnm_buf_append(&joined, "", 1)) {
        pnm_buf_free(&joined);
        return pnm_error_set(err, "out of memory");
    }
    if (joined.len == 1) {
        pnm_buf_free(&joined);
        return 0;
    }
    if (c->count == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 1024;
        char **p = realloc(c->sentences, cap * sizeof *p);
        if (!p) {
            pnm_buf_free(&joined);
            return pnm_error_set(err, "out of memory");
        }
        c->sentences = p, c->cap = cap;
    }
    c->sentences[c->count++] = (char *)joined.data;
    return 0;
}

void pnm_corpus_free(pnm_corpus *c)
{
    for (size_t i = 0; i < c->count; i++)
        free(c->sentences[i]);
    free(c->sentences);
    memset(c, 0, sizeof *c);
}
