/* The tokenizer (tokens.h): text to token records, through SentencePiece
 * and a cache of the words it has seen. Apart from tokens.c (the records'
 * format), so that programs that only read and write token records do not
 * link SentencePiece's encoder and the C++ runtime. */
#include "tokens.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "utf8.h"

/* The word cache: direct-mapped, one 64-byte slot per word, so that a
 * lookup is one hash and one cache line, and a word that does not fit a
 * slot (long, or of many pieces: rare in any language) is encoded every
 * time instead of making slots larger. A miss overwrites the slot: the
 * frequent words of a Zipfian text keep theirs. */
#define CACHE_WORD_BYTES 30u
#define CACHE_IDS 8u
#define CACHE_SLOTS (PNM_WORD_CACHE_BYTES / sizeof(cache_slot))

typedef struct cache_slot {
    uint8_t word_len; /* 0: empty (a word has at least one byte) */
    uint8_t n_ids;
    char word[CACHE_WORD_BYTES];
    uint32_t ids[CACHE_IDS];
} cache_slot;

struct pnm_word_cache {
    uint64_t vocab_id; /* pnm_sp_id of the vocabulary the slots hold */
    cache_slot slot[];
};

_Static_assert(sizeof(cache_slot) == 64, "a cache slot is one cache line");
_Static_assert((CACHE_SLOTS & (CACHE_SLOTS - 1)) == 0, "a power of two of slots");

/* t's cache, empty unless it holds sp's words already. */
static pnm_word_cache *cache_for(pnm_tokens *t, const pnm_sp *sp, pnm_error *err)
{
    uint64_t id = pnm_sp_id(sp);
    if (t->cache && t->cache->vocab_id == id)
        return t->cache;
    free(t->cache);
    /* calloc: the slots start empty, and pages no word reaches are never
     * touched. */
    t->cache = calloc(1, sizeof *t->cache + CACHE_SLOTS * sizeof(cache_slot));
    if (!t->cache) {
        pnm_error_set(err, "out of memory");
        return NULL;
    }
    t->cache->vocab_id = id;
    return t->cache;
}

/* The slot of a word: a multiply-xorshift hash of its bytes, 8 at a time.
 * The cache needs spread, not strength, and XXH64 would cost more than the
 * lookup it serves. */
static size_t slot_of(const char *word, size_t len)
{
    uint64_t h = len * 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t x = 0;
        memcpy(&x, word + i, len - i < 8 ? len - i : 8);
        h = (h ^ x) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
    }
    return (size_t)h & (CACHE_SLOTS - 1);
}

/* The pieces of one word into ids (room for PNM_MAX_WORD_PIECES): from the
 * cache, or from SentencePiece, with a word of no pieces made the unknown
 * piece and a word of too many cut. Sets *n (1..PNM_MAX_WORD_PIECES). */
static int encode_word(const pnm_sp *sp, pnm_word_cache *cache, const char *word, size_t len,
                       uint32_t *ids, size_t *n, pnm_error *err)
{
    cache_slot *s = NULL;
    if (len <= CACHE_WORD_BYTES) {
        s = &cache->slot[slot_of(word, len)];
        if (s->word_len == len && memcmp(s->word, word, len) == 0) {
            memcpy(ids, s->ids, s->n_ids * sizeof *ids);
            *n = s->n_ids;
            return 0;
        }
    }
    size_t k;
    if (pnm_sp_encode(sp, word, len, ids, PNM_MAX_WORD_PIECES, &k, err))
        return -1;
    if (k == 0)
        ids[0] = pnm_sp_unk_id(sp), k = 1;
    if (k > PNM_MAX_WORD_PIECES)
        k = PNM_MAX_WORD_PIECES;
    if (s && k <= CACHE_IDS) {
        s->word_len = (uint8_t)len;
        s->n_ids = (uint8_t)k;
        memcpy(s->word, word, len);
        memcpy(s->ids, ids, k * sizeof *ids);
    }
    *n = k;
    return 0;
}

/* The character at s[i]: its length, and whether it separates words. ASCII,
 * nearly all of most text, skips the decoder. A byte that is not UTF-8
 * (callers refuse those first) counts as one character, so that this never
 * loops. */
static size_t char_at(const char *s, size_t len, size_t i, bool *sep)
{
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80) {
        *sep = pnm_is_word_separator(c);
        return 1;
    }
    uint32_t cp;
    size_t k = pnm_utf8_decode(s + i, len - i, &cp);
    if (k == 0)
        k = 1, cp = 0xFFFD;
    *sep = pnm_is_word_separator(cp);
    return k;
}

bool pnm_next_word(const char *s, size_t len, size_t *pos, const char **word,
                   size_t *word_len)
{
    size_t i = *pos, k;
    bool sep = true;
    while (i < len && (k = char_at(s, len, i, &sep), sep))
        i += k;
    if (i >= len) {
        *pos = len;
        return false;
    }
    size_t start = i, end = len;
    /* A long word is cut, not split: the rest of it is skipped. */
    bool cut = false;
    while (i < len && (k = char_at(s, len, i, &sep), !sep)) {
        if (!cut && i + k - start > PNM_MAX_WORD_BYTES)
            end = i, cut = true;
        i += k;
    }
    *pos = i;
    *word = s + start;
    *word_len = (cut ? end : i) - start;
    return true;
}

int pnm_tokenize_line(const pnm_sp *sp, const char *line, size_t len, uint64_t line_no,
                      uint32_t max_words, pnm_tokens *out, bool *truncated, pnm_error *err)
{
    size_t bad = pnm_utf8_find_invalid(line, len);
    if (bad < len)
        return pnm_error_set(err, "line %" PRIu64 ", byte %zu: invalid UTF-8 (0x%02x)",
                             line_no, bad + 1, (unsigned char)line[bad]);
    out->line = line_no;
    out->n_words = 0;
    *truncated = false;
    size_t pos = 0, n_ids = 0, word_len;
    const char *word;
    pnm_word_cache *cache = cache_for(out, sp, err);
    if (!cache || pnm_tokens_reserve(out, 0, 0, err))
        return -1;
    while (pnm_next_word(line, len, &pos, &word, &word_len)) {
        if (max_words && out->n_words == max_words) {
            *truncated = true;
            break;
        }
        if (out->n_words == PNM_MAX_WORDS)
            return pnm_error_set(err, "line %" PRIu64 " has more than %u words",
                                 line_no, PNM_MAX_WORDS);
        if (pnm_tokens_reserve(out, out->n_words + 1, n_ids + PNM_MAX_WORD_PIECES, err))
            return -1;
        size_t k;
        if (encode_word(sp, cache, word, word_len, out->ids + n_ids, &k, err))
            return pnm_error_prefix(err, "line %" PRIu64, line_no);
        out->word_start[out->n_words++] = (uint32_t)n_ids;
        n_ids += k;
    }
    out->word_start[out->n_words] = (uint32_t)n_ids;
    if (PNM_TOKENS_HEAD_BYTES + 2 * (size_t)out->n_words + 4 * n_ids > PNM_MAX_RECORD_BYTES)
        return pnm_error_set(err, "line %" PRIu64 " gives a record above the limit of %u bytes",
                             line_no, PNM_MAX_RECORD_BYTES);
    return 0;
}

int pnm_words_joined(const char *line, size_t len, pnm_buf *out, pnm_error *err)
{
    size_t pos = 0, word_len, first = out->len;
    const char *word;
    while (pnm_next_word(line, len, &pos, &word, &word_len)) {
        if ((out->len > first && pnm_buf_append(out, " ", 1)) ||
            pnm_buf_append(out, word, word_len))
            return pnm_error_set(err, "out of memory");
    }
    return 0;
}
