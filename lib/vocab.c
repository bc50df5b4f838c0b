#include "vocab.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"

/* Appends at most limit bytes more of f to out. */
static int read_more(FILE *f, const char *path, size_t limit, pnm_buf *out, pnm_error *err)
{
    char chunk[65536];
    size_t k;
    while (limit > 0 && (k = fread(chunk, 1, limit < sizeof chunk ? limit : sizeof chunk, f)) > 0) {
        if (pnm_buf_append(out, chunk, k))
            return pnm_error_set(err, "out of memory");
        limit -= k;
    }
    if (ferror(f))
        return pnm_error_set(err, "%s: read error: %s", path, strerror(errno));
    return 0;
}

/* A pnm model is told by its first zstd block, at most 128 KiB (zstd's
 * ZSTD_BLOCKSIZE_MAX) after the frame header: only that much is read
 * before deciding, so that a model file is then loaded as it is read
 * (pnm_model_load) and never held whole beside its weights. */
#define SNIFF_PREFIX ((128u << 10) + 64u)

pnm_sp *pnm_vocab_load(const char *path, pnm_model **model, pnm_error *err)
{
    if (model)
        *model = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        pnm_error_set(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    pnm_buf bytes = {0};
    pnm_sp *sp = NULL;
    int rc = read_more(f, path, SNIFF_PREFIX, &bytes, err);
    if (rc == 0 && pnm_model_sniff(bytes.data, bytes.len)) {
        fclose(f);
        pnm_buf_free(&bytes);
        pnm_model *m = pnm_model_load(path, err);
        if (!m)
            return NULL;
        sp = m->sp;
        if (model) {
            *model = m;
        } else {
            m->sp = NULL; /* the caller's now */
            pnm_model_free(m);
        }
        return sp;
    }
    if (rc == 0)
        rc = read_more(f, path, SIZE_MAX, &bytes, err);
    fclose(f);
    if (rc == 0 && !(sp = pnm_sp_load_bytes(bytes.data, bytes.len, err)))
        pnm_error_prefix(err, "%s", path);
    pnm_buf_free(&bytes);
    return sp;
}
