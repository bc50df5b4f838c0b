#include "project.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "limits.h"
#include "utf8.h"

static const char WORD_MARK[] = "\xE2\x96\x81"; /* U+2581, SentencePiece's word start */
#define WORD_MARK_BYTES 3

struct pnm_projector {
    pnm_projection p;
    pnm_header header;     /* of the features stream */
    uint32_t *fingerprint; /* vocab_size * n */
    uint8_t *bare_mark;    /* 1 for a piece that is the word mark alone */
    uint64_t id;           /* of what fingerprint and bare_mark hold: see projector_id */
};

/* The bucket cache (pnm_project_tokens): direct-mapped, a slot per word of
 * at most CACHE_IDS pieces (nearly all words), each slot its piece ids
 * then its n buckets. A miss overwrites the slot. */
#define CACHE_IDS 3u

typedef struct cache_head {
    uint32_t n_ids; /* 0: empty (a word has at least one piece) */
    uint32_t ids[CACHE_IDS];
} cache_head;

typedef struct pnm_bucket_cache {
    uint64_t projector_id;
    size_t slots;   /* a power of two */
    size_t stride;  /* bytes of a slot: the head and n buckets */
    unsigned char slot[];
} pnm_bucket_cache;

int pnm_projection_check(const pnm_projection *p, pnm_error *err)
{
    if (p->features < 1 || p->features > PNM_MAX_FEATURES)
        return pnm_error_set(err, "feature count %" PRIu32 " is outside 1..%u",
                             p->features, PNM_MAX_FEATURES);
    if (p->hashes < 1 || p->hashes > PNM_MAX_HASHES)
        return pnm_error_set(err, "hash count %" PRIu32 " is outside 1..%u",
                             p->hashes, PNM_MAX_HASHES);
    if (p->window > PNM_MAX_WINDOW)
        return pnm_error_set(err, "window %" PRIu32 " is above %u", p->window, PNM_MAX_WINDOW);
    return 0;
}

void pnm_piece_fingerprint(const char *piece, size_t len, uint64_t seed, uint32_t n,
                           uint32_t *out)
{
    pnm_fingerprint_reset(n, out);
    if (len < WORD_MARK_BYTES || memcmp(piece, WORD_MARK, WORD_MARK_BYTES) != 0) {
        pnm_hash_fold_min(piece, len, seed, n, out);
        return;
    }
    const char *s = piece + WORD_MARK_BYTES;
    len -= WORD_MARK_BYTES;
    /* Byte offsets of the first characters; invalid bytes count as one
     * character each so that any piece string has a fingerprint. */
    size_t start[3] = {0, 0, 0}, chars = 0, i = 0;
    while (i < len) {
        uint32_t cp;
        size_t k = pnm_utf8_decode(s + i, len - i, &cp);
        if (k == 0)
            k = 1;
        if (chars >= 3) {
            /* The trigram that ends just before character `chars`. */
            pnm_hash_fold_min(s + start[chars % 3], i - start[chars % 3], seed, n, out);
        }
        start[chars % 3] = i;
        chars++;
        i += k;
    }
    if (chars >= 3)
        pnm_hash_fold_min(s + start[chars % 3], len - start[chars % 3], seed, n, out);
    else
        pnm_hash_fold_min(s, len, seed, n, out);
}

/* What the projector's fingerprints are a function of: the piece table and
 * the hash settings (m too, for the buckets). Two projectors with one id
 * give every word the same buckets, so a bucket cache is kept by it. */
static uint64_t projector_id(const pnm_header *th, const pnm_projection *p)
{
    uint64_t settings[3] = {p->features, p->hashes, p->seed};
    uint64_t id = pnm_hash64(settings, sizeof settings, 0);
    id = pnm_hash64(th->piece_offset, ((size_t)th->vocab_size + 1) * sizeof *th->piece_offset, id);
    return pnm_hash64(th->piece_bytes, th->piece_offset[th->vocab_size], id);
}

pnm_projector *pnm_projector_new(const pnm_header *th, const pnm_projection *p,
                                 pnm_error *err)
{
    if (pnm_projection_check(p, err))
        return NULL;
    if (th->kind != PNM_KIND_TOKENS || !th->piece_offset) {
        pnm_error_set(err, "expected a tokens stream, got a %s stream", pnm_kind_name(th->kind));
        return NULL;
    }
    if ((uint64_t)th->vocab_size * p->hashes > PNM_MAX_FINGERPRINTS) {
        pnm_error_set(err, "%" PRIu32 " pieces x %" PRIu32 " hashes is above the limit of %u"
                      " fingerprint values", th->vocab_size, p->hashes, PNM_MAX_FINGERPRINTS);
        return NULL;
    }
    pnm_projector *pr = calloc(1, sizeof *pr);
    if (!pr) {
        pnm_error_set(err, "out of memory");
        return NULL;
    }
    pr->p = *p;
    pr->fingerprint = malloc((size_t)th->vocab_size * p->hashes * sizeof *pr->fingerprint);
    pr->bare_mark = malloc(th->vocab_size);
    if (!pr->fingerprint || !pr->bare_mark) {
        pnm_projector_free(pr);
        pnm_error_set(err, "out of memory");
        return NULL;
    }
    for (uint32_t i = 0; i < th->vocab_size; i++) {
        const char *piece = (const char *)th->piece_bytes + th->piece_offset[i];
        size_t len = th->piece_offset[i + 1] - th->piece_offset[i];
        pnm_piece_fingerprint(piece, len, p->seed, p->hashes,
                              pr->fingerprint + (size_t)i * p->hashes);
        pr->bare_mark[i] = len == WORD_MARK_BYTES && memcmp(piece, WORD_MARK, len) == 0;
    }
    pr->id = projector_id(th, p);
    pnm_header *h = &pr->header;
    h->kind = PNM_KIND_FEATURES;
    h->version = PNM_STREAM_VERSION;
    h->vocab_id = th->vocab_id;
    h->vocab_size = th->vocab_size;
    h->max_words = th->max_words;
    h->features = p->features;
    h->hashes = p->hashes;
    h->window = p->window;
    h->seed = p->seed;
    return pr;
}

void pnm_projector_free(pnm_projector *pr)
{
    if (!pr)
        return;
    free(pr->fingerprint);
    free(pr->bare_mark);
    free(pr);
}

void pnm_projector_header(const pnm_projector *pr, pnm_header *h)
{
    *h = pr->header;
}

/* Sorts a word's buckets by counting them: with n = 64 and m = 1024 this is
 * a few hundred cheap steps, against thousands of mispredicted branches for
 * a comparison sort. Leaves count and bits zero again. */
static void sort_buckets(uint16_t *b, uint32_t n, uint16_t *count, uint64_t *bits)
{
    for (uint32_t i = 0; i < n; i++) {
        count[b[i]]++;
        bits[b[i] >> 6] |= 1ull << (b[i] & 63);
    }
    for (uint32_t k = 0, w = 0; k < n; w++) {
        uint64_t x = bits[w];
        bits[w] = 0;
        while (x) {
            uint16_t v = (uint16_t)(w * 64 + (uint32_t)__builtin_ctzll(x));
            x &= x - 1;
            for (uint16_t c = count[v]; c > 0; c--)
                b[k++] = v;
            count[v] = 0;
        }
    }
}

static int sort_scratch(pnm_features *f, uint32_t m, pnm_error *err)
{
    if (f->sort_m >= m)
        return 0;
    free(f->sort_count);
    free(f->sort_bits);
    f->sort_count = calloc(m, sizeof *f->sort_count);
    f->sort_bits = calloc((m + 63) / 64, sizeof *f->sort_bits);
    f->sort_m = f->sort_count && f->sort_bits ? m : 0;
    if (!f->sort_m)
        return pnm_error_set(err, "out of memory");
    return 0;
}

/* f's bucket cache, empty unless it holds pr's words already. */
static pnm_bucket_cache *cache_for(pnm_features *f, const pnm_projector *pr, pnm_error *err)
{
    if (f->cache && f->cache->projector_id == pr->id)
        return f->cache;
    free(f->cache);
    /* Rounded up so that every slot's head is aligned. */
    size_t stride = sizeof(cache_head) + ((size_t)pr->p.hashes * sizeof(uint16_t) + 3) / 4 * 4;
    size_t slots = 1;
    while (2 * slots * stride <= PNM_BUCKET_CACHE_BYTES)
        slots *= 2;
    /* calloc: the slots start empty, and pages no word reaches are never
     * touched. */
    f->cache = calloc(1, sizeof *f->cache + slots * stride);
    if (!f->cache) {
        pnm_error_set(err, "out of memory");
        return NULL;
    }
    f->cache->projector_id = pr->id;
    f->cache->slots = slots;
    f->cache->stride = stride;
    return f->cache;
}

/* The slot of a word of k (1..CACHE_IDS) pieces: a multiply-xorshift hash
 * of its ids. */
static cache_head *slot_of(pnm_bucket_cache *c, const uint32_t *ids, uint32_t k)
{
    uint64_t h = k;
    for (uint32_t i = 0; i < k; i++) {
        h = (h ^ ids[i]) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
    }
    return (cache_head *)(c->slot + (h & (c->slots - 1)) * c->stride);
}

/* The n sorted buckets of the word of pieces ids[0..k). */
static void word_buckets(const pnm_projector *pr, const uint32_t *ids, uint32_t k,
                         pnm_features *f, uint16_t *b)
{
    uint32_t n = pr->p.hashes, m = pr->p.features;
    uint32_t word_fp[PNM_MAX_HASHES];
    pnm_fingerprint_reset(n, word_fp);
    for (uint32_t j = 0; j < k; j++) {
        /* A bare word mark ("▁" before pieces that could not take it)
         * is the same in every word: it would give unrelated words
         * shared buckets, so it counts only when it is all there is. */
        if (pr->bare_mark[ids[j]] && k > 1)
            continue;
        const uint32_t *fp = pr->fingerprint + (size_t)ids[j] * n;
        for (uint32_t i = 0; i < n; i++)
            word_fp[i] = fp[i] < word_fp[i] ? fp[i] : word_fp[i];
    }
    /* m is a power of two by default: a mask instead of a division. */
    uint32_t mask = (m & (m - 1)) == 0 ? m - 1 : 0;
    for (uint32_t i = 0; i < n; i++)
        b[i] = (uint16_t)(mask ? word_fp[i] & mask : word_fp[i] % m);
    sort_buckets(b, n, f->sort_count, f->sort_bits);
}

int pnm_project_tokens(const pnm_projector *pr, const pnm_tokens *t, pnm_features *f,
                       pnm_error *err)
{
    uint32_t n = pr->p.hashes;
    if (pnm_features_reserve(f, t->n_words, n, err) || sort_scratch(f, pr->p.features, err))
        return -1;
    pnm_bucket_cache *cache = cache_for(f, pr, err);
    if (!cache)
        return -1;
    f->line = t->line;
    f->n_words = t->n_words;
    size_t bytes = (size_t)n * sizeof(uint16_t);
    for (uint32_t w = 0; w < t->n_words; w++) {
        const uint32_t *ids = t->ids + t->word_start[w];
        uint32_t k = t->word_start[w + 1] - t->word_start[w];
        uint16_t *b = f->buckets + (size_t)w * n;
        if (k > CACHE_IDS) {
            word_buckets(pr, ids, k, f, b);
            continue;
        }
        cache_head *s = slot_of(cache, ids, k);
        uint16_t *cached = (uint16_t *)(s + 1);
        if (s->n_ids == k && memcmp(s->ids, ids, k * sizeof *ids) == 0) {
            memcpy(b, cached, bytes);
            continue;
        }
        word_buckets(pr, ids, k, f, b);
        s->n_ids = k;
        memcpy(s->ids, ids, k * sizeof *ids);
        memcpy(cached, b, bytes);
    }
    return 0;
}

size_t pnm_features_window(const pnm_features *f, uint32_t m, uint32_t w, uint32_t t,
                           uint32_t *idx)
{
    size_t k = 0;
    for (uint32_t o = 0; o <= 2 * w; o++) {
        int64_t pos = (int64_t)t + o - w;
        if (pos < 0 || pos >= f->n_words)
            continue;
        const uint16_t *b = f->buckets + (size_t)pos * f->hashes;
        for (uint32_t i = 0; i < f->hashes; i++)
            idx[k++] = o * m + b[i];
    }
    return k;
}
