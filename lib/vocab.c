#include "vocab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"

static int read_file(const char *path, pnm_buf *out, pnm_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return pnm_error_set(err, "%s: %s", path, strerror(errno));
    char chunk[65536];
    size_t k;
    int rc = 0;
    while (rc == 0 && (k = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (pnm_buf_append(out, chunk, k))
            rc = pnm_error_set(err, "out of memory");
    if (rc == 0 && ferror(f))
        rc = pnm_error_set(err, "%s: read error: %s", path, strerror(errno));
    fclose(f);
    return rc;
}

pnm_sp *pnm_vocab_load(const char *path, pnm_model **model, pnm_error *err)
{
    if (model)
        *model = NULL;
    pnm_buf bytes = {0};
    if (read_file(path, &bytes, err)) {
        pnm_buf_free(&bytes);
        return NULL;
    }
    pnm_sp *sp = NULL;
    if (pnm_model_sniff(bytes.data, bytes.len)) {
        pnm_model *m = pnm_model_load_bytes(bytes.data, bytes.len, err);
        if (m)
            sp = pnm_sp_load_bytes(m->vocab, m->vocab_len, err);
        if (m && sp && model)
            *model = m;
        else
            pnm_model_free(m);
    } else {
        sp = pnm_sp_load_bytes(bytes.data, bytes.len, err);
    }
    pnm_buf_free(&bytes);
    if (!sp)
        pnm_error_prefix(err, "%s", path);
    return sp;
}
