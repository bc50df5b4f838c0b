#include "hidden.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"

#define RECORD_HEAD_BYTES 16 /* u64 line + u32 word count + u32 rows */

void pnm_hidden_free(pnm_hidden *h)
{
    free(h->values);
    memset(h, 0, sizeof *h);
}

int pnm_hidden_reserve(pnm_hidden *h, uint32_t rows, uint32_t dim, pnm_error *err)
{
    size_t need = (size_t)rows * dim;
    if (need > h->cap) {
        size_t cap = h->cap ? h->cap : 4096;
        while (cap < need)
            cap *= 2;
        float *p = realloc(h->values, cap * sizeof *p);
        if (!p)
            return pnm_error_set(err, "out of memory");
        h->values = p, h->cap = cap;
    }
    h->rows = rows, h->dim = dim;
    return 0;
}

/* Floats travel as the little-endian bytes of their IEEE 754 bits. */
static uint32_t float_bits(float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

static float bits_float(uint32_t u)
{
    float v;
    memcpy(&v, &u, sizeof v);
    return v;
}

int pnm_hidden_encode(const pnm_hidden *h, pnm_buf *out, pnm_error *err)
{
    uint32_t most = h->n_words ? h->n_words : 1;
    if (h->rows == 0 || h->rows > most)
        return pnm_error_set(err, "line %" PRIu64 ": %" PRIu32 " rows for %" PRIu32
                             " words", h->line, h->rows, h->n_words);
    size_t n = (size_t)h->rows * h->dim;
    if (h->dim == 0 || n > (PNM_MAX_RECORD_BYTES - RECORD_HEAD_BYTES) / 4)
        return pnm_error_set(err, "line %" PRIu64 ": %" PRIu32 " rows of %" PRIu32
                             " values do not fit a record of at most %u bytes",
                             h->line, h->rows, h->dim, PNM_MAX_RECORD_BYTES);
    size_t need = RECORD_HEAD_BYTES + 4 * n;
    out->len = 0;
    uint8_t *p = pnm_buf_reserve(out, need);
    if (!p)
        return pnm_error_set(err, "out of memory");
    pnm_put_u64(p, h->line);
    pnm_put_u32(p + 8, h->n_words);
    pnm_put_u32(p + 12, h->rows);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(h->values[i]))
            return pnm_error_set(err, "line %" PRIu64 ": value %zu of row %zu is not finite",
                                 h->line, i % h->dim, i / h->dim);
        pnm_put_u32(p + RECORD_HEAD_BYTES + 4 * i, float_bits(h->values[i]));
    }
    out->len = need;
    return 0;
}

int pnm_hidden_decode(const pnm_header *h, const uint8_t *p, uint32_t len,
                      pnm_hidden *out, pnm_error *err)
{
    if (len < RECORD_HEAD_BYTES)
        return pnm_error_set(err, "record of %" PRIu32 " bytes is too short", len);
    uint32_t n_words = pnm_get_u32(p + 8), rows = pnm_get_u32(p + 12);
    if (n_words > PNM_MAX_WORDS)
        return pnm_error_set(err, "record claims %" PRIu32 " words, above the limit of %u",
                             n_words, PNM_MAX_WORDS);
    if (h->max_words && n_words > h->max_words)
        return pnm_error_set(err, "record has %" PRIu32 " words, the header allows %" PRIu32,
                             n_words, h->max_words);
    uint32_t want_rows = n_words ? n_words : 1;
    if (want_rows > h->seq_len)
        want_rows = h->seq_len;
    if (rows != want_rows)
        return pnm_error_set(err, "record has %" PRIu32 " rows for %" PRIu32
                             " words, expected %" PRIu32 " (sequence length %" PRIu32 ")",
                             rows, n_words, want_rows, h->seq_len);
    uint64_t want = RECORD_HEAD_BYTES + 4ull * rows * h->dim;
    if (want != len)
        return pnm_error_set(err, "record of %" PRIu32 " bytes cannot hold %" PRIu32
                             " rows of %" PRIu32 " values", len, rows, h->dim);
    /* len is at most the record limit: so is the allocation. */
    if (pnm_hidden_reserve(out, rows, h->dim, err))
        return -1;
    out->line = pnm_get_u64(p);
    out->n_words = n_words;
    size_t n = (size_t)rows * h->dim;
    const uint8_t *v = p + RECORD_HEAD_BYTES;
    for (size_t i = 0; i < n; i++) {
        out->values[i] = bits_float(pnm_get_u32(v + 4 * i));
        if (!isfinite(out->values[i]))
            return pnm_error_set(err, "value %zu of row %zu is not finite",
                                 i % h->dim, i / h->dim);
    }
    return 0;
}

static int decode_hidden(const pnm_header *h, const uint8_t *p, uint32_t len, void *out,
                         pnm_error *err)
{
    return pnm_hidden_decode(h, p, len, out, err);
}

int pnm_hidden_read(pnm_reader *r, pnm_hidden *out, pnm_error *err)
{
    return pnm_reader_next_decoded(r, decode_hidden, out, err);
}
