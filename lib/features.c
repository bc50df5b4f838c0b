#include "features.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"

#define RECORD_HEAD_BYTES 12 /* u64 line + u32 word count */

void pnm_features_free(pnm_features *f)
{
    free(f->buckets);
    free(f->sort_count);
    free(f->sort_bits);
    free(f->cache);
    memset(f, 0, sizeof *f);
}

int pnm_features_reserve(pnm_features *f, uint32_t n_words, uint32_t hashes, pnm_error *err)
{
    size_t need = (size_t)n_words * hashes;
    if (need > f->cap) {
        size_t cap = f->cap ? f->cap : 4096;
        while (cap < need)
            cap *= 2;
        uint16_t *p = realloc(f->buckets, cap * sizeof *p);
        if (!p)
            return pnm_error_set(err, "out of memory");
        f->buckets = p, f->cap = cap;
    }
    f->hashes = hashes;
    return 0;
}

int pnm_features_encode(const pnm_features *f, pnm_buf *out, pnm_error *err)
{
    size_t n = (size_t)f->n_words * f->hashes;
    size_t need = RECORD_HEAD_BYTES + 2 * n;
    if (need > PNM_MAX_RECORD_BYTES)
        return pnm_error_set(err, "line %" PRIu64 ": %" PRIu32 " words of %" PRIu32
                             " hashes exceed the record limit of %u bytes",
                             f->line, f->n_words, f->hashes, PNM_MAX_RECORD_BYTES);
    out->len = 0;
    uint8_t *p = pnm_buf_reserve(out, need);
    if (!p)
        return pnm_error_set(err, "out of memory");
    pnm_put_u64(p, f->line);
    pnm_put_u32(p + 8, f->n_words);
    /* Locals: through f the compiler would reload buckets at every store
     * (p may alias f), and could neither merge the byte stores nor
     * vectorize. */
    const uint16_t *b = f->buckets;
    uint8_t *q = p + RECORD_HEAD_BYTES;
    for (size_t i = 0; i < n; i++)
        pnm_put_u16(q + 2 * i, b[i]);
    out->len = need;
    return 0;
}

int pnm_features_decode(const pnm_header *h, const uint8_t *p, uint32_t len,
                        pnm_features *f, pnm_error *err)
{
    if (len < RECORD_HEAD_BYTES)
        return pnm_error_set(err, "record of %" PRIu32 " bytes is too short", len);
    uint32_t n_words = pnm_get_u32(p + 8);
    if (n_words > PNM_MAX_WORDS)
        return pnm_error_set(err, "record claims %" PRIu32 " words, above the limit of %u",
                             n_words, PNM_MAX_WORDS);
    uint64_t want = RECORD_HEAD_BYTES + 2ull * n_words * h->hashes;
    if (want != len)
        return pnm_error_set(err, "record of %" PRIu32 " bytes cannot hold %" PRIu32
                             " words of %" PRIu32 " hashes", len, n_words, h->hashes);
    if (h->max_words && n_words > h->max_words)
        return pnm_error_set(err, "record has %" PRIu32 " words, the header allows %" PRIu32,
                             n_words, h->max_words);
    if (pnm_features_reserve(f, n_words, h->hashes, err))
        return -1;
    f->line = pnm_get_u64(p);
    f->n_words = n_words;
    const uint8_t *b = p + RECORD_HEAD_BYTES;
    for (uint32_t w = 0; w < n_words; w++) {
        uint16_t *out = f->buckets + (size_t)w * h->hashes;
        for (uint32_t i = 0; i < h->hashes; i++, b += 2) {
            out[i] = pnm_get_u16(b);
            if (out[i] >= h->features || (i > 0 && out[i] < out[i - 1]))
                return pnm_error_set(err, "word %" PRIu32 " has bucket %u %s", w, out[i],
                                     out[i] >= h->features ? "outside the feature range"
                                                           : "out of order");
        }
    }
    return 0;
}

static int decode_features(const pnm_header *h, const uint8_t *p, uint32_t len, void *out,
                         pnm_error *err)
{
    return pnm_features_decode(h, p, len, out, err);
}

int pnm_features_read(pnm_reader *r, pnm_features *out, pnm_error *err)
{
    return pnm_reader_next_decoded(r, decode_features, out, err);
}
