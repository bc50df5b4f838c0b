#include "lines.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"

#define CHUNK (64u << 10)

int pnm_lines_init(pnm_lines *r, FILE *f, pnm_error *err)
{
    memset(r, 0, sizeof *r);
    r->f = f;
    r->chunk = malloc(CHUNK);
    if (!r->chunk)
        return pnm_error_set(err, "out of memory");
    return 0;
}

void pnm_lines_reset(pnm_lines *r, FILE *f)
{
    r->f = f;
    r->pos = r->len = 0;
    r->eof = false;
}

int pnm_lines_next(pnm_lines *r, const char **line, size_t *len, pnm_error *err)
{
    r->line.len = 0;
    bool any = false;
    for (;;) {
        if (r->pos == r->len) {
            if (r->eof)
                break;
            r->pos = 0;
            r->len = fread(r->chunk, 1, CHUNK, r->f);
            if (r->len == 0) {
                if (ferror(r->f))
                    return pnm_error_set(err, "read error: %s", strerror(errno));
                r->eof = true;
                break;
            }
        }
        any = true;
        uint8_t *start = r->chunk + r->pos;
        uint8_t *nl = memchr(start, '\n', r->len - r->pos);
        size_t take = nl ? (size_t)(nl - start) : r->len - r->pos;
        if (r->line.len + take > PNM_MAX_LINE_BYTES)
            return pnm_error_set(err, "line %" PRIu64 " is longer than %u bytes",
                                 r->number + 1, PNM_MAX_LINE_BYTES);
        if (pnm_buf_append(&r->line, start, take))
            return pnm_error_set(err, "out of memory");
        r->pos += take + (nl != NULL);
        if (nl)
            break;
    }
    if (!any)
        return 0;
    r->number++;
    /* A terminating NUL for callers that want a C string; never counted. */
    if (!pnm_buf_reserve(&r->line, 1))
        return pnm_error_set(err, "out of memory");
    r->line.data[r->line.len] = '\0';
    *line = (const char *)r->line.data;
    *len = r->line.len;
    return 1;
}

void pnm_lines_free(pnm_lines *r)
{
    free(r->chunk);
    pnm_buf_free(&r->line);
    r->chunk = NULL;
}
