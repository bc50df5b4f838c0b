#include "tokens.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"

int pnm_tokens_reserve(pnm_tokens *t, size_t words, size_t ids, pnm_error *err)
{
    if (words + 1 > t->word_cap) {
        size_t cap = t->word_cap ? t->word_cap : 64;
        while (cap < words + 1)
            cap *= 2;
        uint32_t *p = realloc(t->word_start, cap * sizeof *p);
        if (!p)
            return pnm_error_set(err, "out of memory");
        t->word_start = p, t->word_cap = cap;
    }
    if (ids > t->id_cap) {
        size_t cap = t->id_cap ? t->id_cap : 256;
        while (cap < ids)
            cap *= 2;
        uint32_t *p = realloc(t->ids, cap * sizeof *p);
        if (!p)
            return pnm_error_set(err, "out of memory");
        t->ids = p, t->id_cap = cap;
    }
    return 0;
}

void pnm_tokens_free(pnm_tokens *t)
{
    free(t->word_start);
    free(t->ids);
    free(t->cache);
    memset(t, 0, sizeof *t);
}

int pnm_tokens_header(const pnm_sp *sp, uint32_t max_words, pnm_header *h, pnm_error *err)
{
    memset(h, 0, sizeof *h);
    h->kind = PNM_KIND_TOKENS;
    h->version = PNM_STREAM_VERSION;
    h->max_words = max_words;
    h->vocab_size = pnm_sp_vocab_size(sp);
    h->vocab_id = pnm_sp_id(sp);
    if (h->vocab_size > PNM_MAX_VOCAB)
        return pnm_error_set(err, "vocabulary of %" PRIu32 " pieces is above the limit of %u",
                             h->vocab_size, PNM_MAX_VOCAB);
    size_t total = 0;
    for (uint32_t i = 0; i < h->vocab_size; i++) {
        size_t len;
        pnm_sp_piece(sp, i, &len);
        if (len > PNM_MAX_PIECE_BYTES)
            return pnm_error_set(err, "piece %" PRIu32 " is %zu bytes long, above the limit of %u",
                                 i, len, PNM_MAX_PIECE_BYTES);
        total += len;
    }
    if (total + 2ull * h->vocab_size > PNM_MAX_PIECE_TABLE)
        return pnm_error_set(err, "the vocabulary's pieces take %zu bytes, above the limit of %u",
                             total, PNM_MAX_PIECE_TABLE);
    h->piece_offset = malloc(((size_t)h->vocab_size + 1) * sizeof *h->piece_offset);
    h->piece_bytes = malloc(total ? total : 1);
    if (!h->piece_offset || !h->piece_bytes) {
        pnm_header_free(h);
        return pnm_error_set(err, "out of memory");
    }
    uint32_t at = 0;
    for (uint32_t i = 0; i < h->vocab_size; i++) {
        size_t len;
        const char *piece = pnm_sp_piece(sp, i, &len);
        h->piece_offset[i] = at;
        memcpy(h->piece_bytes + at, piece, len);
        at += (uint32_t)len;
    }
    h->piece_offset[h->vocab_size] = at;
    return 0;
}

int pnm_tokens_encode(const pnm_tokens *t, pnm_buf *out, pnm_error *err)
{
    uint32_t n_ids = t->word_start[t->n_words];
    size_t need = PNM_TOKENS_HEAD_BYTES + 2 * (size_t)t->n_words + 4 * (size_t)n_ids;
    out->len = 0;
    uint8_t *p = pnm_buf_reserve(out, need);
    if (!p)
        return pnm_error_set(err, "out of memory");
    pnm_put_u64(p, t->line);
    pnm_put_u32(p + 8, t->n_words);
    p += PNM_TOKENS_HEAD_BYTES;
    for (uint32_t w = 0; w < t->n_words; w++) {
        uint32_t a = t->word_start[w], b = t->word_start[w + 1];
        pnm_put_u16(p, (uint16_t)(b - a));
        p += 2;
        for (uint32_t i = a; i < b; i++, p += 4)
            pnm_put_u32(p, t->ids[i]);
    }
    out->len = need;
    return 0;
}

int pnm_tokens_decode(const pnm_header *h, const uint8_t *p, uint32_t len, pnm_tokens *t,
                      pnm_error *err)
{
    if (len < PNM_TOKENS_HEAD_BYTES)
        return pnm_error_set(err, "record of %" PRIu32 " bytes is too short", len);
    t->line = pnm_get_u64(p);
    uint32_t n_words = pnm_get_u32(p + 8);
    /* Every word takes at least 6 bytes: bounds the allocation by len. */
    if (n_words > (len - PNM_TOKENS_HEAD_BYTES) / 6)
        return pnm_error_set(err, "record claims %" PRIu32 " words in %" PRIu32 " bytes",
                             n_words, len);
    if (n_words > PNM_MAX_WORDS)
        return pnm_error_set(err, "record claims %" PRIu32 " words, above the limit of %u",
                             n_words, PNM_MAX_WORDS);
    if (h->max_words && n_words > h->max_words)
        return pnm_error_set(err, "record has %" PRIu32 " words, the header allows %" PRIu32,
                             n_words, h->max_words);
    if (pnm_tokens_reserve(t, n_words, (len - PNM_TOKENS_HEAD_BYTES) / 4, err))
        return -1;
    uint32_t at = PNM_TOKENS_HEAD_BYTES, n_ids = 0;
    for (uint32_t w = 0; w < n_words; w++) {
        if (len - at < 2)
            return pnm_error_set(err, "record ends inside word %" PRIu32, w);
        uint32_t k = pnm_get_u16(p + at);
        at += 2;
        if (k == 0 || k > PNM_MAX_WORD_PIECES)
            return pnm_error_set(err, "word %" PRIu32 " has %" PRIu32 " pieces (allowed 1..%u)",
                                 w, k, PNM_MAX_WORD_PIECES);
        if ((len - at) / 4 < k)
            return pnm_error_set(err, "record ends inside word %" PRIu32, w);
        t->word_start[w] = n_ids;
        for (uint32_t i = 0; i < k; i++, at += 4) {
            uint32_t id = pnm_get_u32(p + at);
            if (id >= h->vocab_size)
                return pnm_error_set(err, "word %" PRIu32 " has piece id %" PRIu32
                                     ", outside the vocabulary of %" PRIu32,
                                     w, id, h->vocab_size);
            t->ids[n_ids++] = id;
        }
    }
    if (at != len)
        return pnm_error_set(err, "%" PRIu32 " stray bytes after the last word", len - at);
    t->n_words = n_words;
    t->word_start[n_words] = n_ids;
    return 0;
}

static int decode_tokens(const pnm_header *h, const uint8_t *p, uint32_t len, void *out,
                         pnm_error *err)
{
    return pnm_tokens_decode(h, p, len, out, err);
}

int pnm_tokens_read(pnm_reader *r, pnm_tokens *out, pnm_error *err)
{
    return pnm_reader_next_decoded(r, decode_tokens, out, err);
}
