/* MinHash projection properties, on a hand-made vocabulary (no
 * SentencePiece needed): determinism, min over pieces, Bloom buckets, and
 * the window's zero padding at both ends. */
#include <stdlib.h>
#include <string.h>

#include "pnm.h"
#include "fixture.h"
#include "tap.h"

static int sorted_below(const uint16_t *b, uint32_t n, uint32_t m)
{
    for (uint32_t i = 0; i < n; i++)
        if (b[i] >= m || (i && b[i] < b[i - 1]))
            return 0;
    return 1;
}

static int cmp_u16(const void *a, const void *b)
{
    return *(const uint16_t *)a - *(const uint16_t *)b;
}

/* Projects tokens twice with shared, whose bucket cache the first pass
 * fills, and checks every word against what a fresh pnm_features (nothing
 * cached) gives that word alone. */
static int cached_as_uncached_tokens(const pnm_projector *pr, pnm_features *shared,
                                     const pnm_tokens *t)
{
    pnm_error err;
    int ok = 1;
    for (int pass = 0; pass < 2; pass++) {
        ok &= pnm_project_tokens(pr, t, shared, &err) == 0;
        for (uint32_t w = 0; ok && w < t->n_words; w++) {
            uint32_t start[2] = {0, t->word_start[w + 1] - t->word_start[w]};
            pnm_tokens one = {.line = 1, .n_words = 1, .word_start = start,
                              .ids = t->ids + t->word_start[w]};
            pnm_features fresh = {0};
            ok &= pnm_project_tokens(pr, &one, &fresh, &err) == 0 &&
                  memcmp(fresh.buckets, shared->buckets + (size_t)w * shared->hashes,
                         shared->hashes * sizeof *fresh.buckets) == 0;
            pnm_features_free(&fresh);
        }
    }
    return ok;
}

/* The same for a record made of words (make_tokens). */
static int cached_as_uncached(const pnm_projector *pr, pnm_features *shared, const int *words)
{
    pnm_tokens t = {0};
    make_tokens(&t, words);
    int ok = cached_as_uncached_tokens(pr, shared, &t);
    pnm_tokens_free(&t);
    return ok;
}

/* Every word of one to three pieces of the fixture's vocabulary, one
 * record: more words than a bucket cache has slots for without sharing,
 * so slots are overwritten and lookups must tell words apart. */
static int all_short_words_cached_as_uncached(const pnm_projector *pr, pnm_features *shared)
{
    uint32_t v = N_PIECES, n_words = v + v * v + v * v * v;
    pnm_tokens t = {.line = 1, .n_words = n_words};
    t.word_start = malloc((n_words + 1) * sizeof *t.word_start);
    t.ids = malloc(3 * n_words * sizeof *t.ids);
    uint32_t w = 0, n = 0;
    for (uint32_t k = 1; k <= 3; k++)
        for (uint32_t code = 0, end = k == 1 ? v : k == 2 ? v * v : v * v * v; code < end; code++) {
            t.word_start[w++] = n;
            for (uint32_t j = 0, c = code; j < k; j++, c /= v)
                t.ids[n++] = c % v;
        }
    t.word_start[w] = n;
    int ok = cached_as_uncached_tokens(pr, shared, &t);
    pnm_tokens_free(&t);
    return ok;
}

int main(void)
{
    pnm_header th;
    make_tokens_header(&th);
    pnm_error err;
    pnm_projection p = PNM_PROJECTION_DEFAULT;
    pnm_projector *pr = pnm_projector_new(&th, &p, &err);
    CHECK(pr != NULL, "projector for a hand-made vocabulary");

    /* "play jazz play": jazz = jaz + z */
    static const int words[] = {1, -1, 3, 4, -1, 1, -1, -2};
    pnm_tokens t = {0};
    make_tokens(&t, words);
    pnm_features f = {0};
    CHECK(pnm_project_tokens(pr, &t, &f, &err) == 0, "project a record");
    CHECK(f.n_words == 3 && f.hashes == 64 && f.line == 1, "one feature word per token word");
    CHECK(memcmp(f.buckets, f.buckets + 2 * 64, 64 * sizeof *f.buckets) == 0,
          "the same word gives the same features");
    CHECK(memcmp(f.buckets, f.buckets + 64, 64 * sizeof *f.buckets) != 0,
          "different words give different features");
    int ok = 1;
    for (uint32_t w = 0; w < 3; w++)
        ok &= sorted_below(f.buckets + w * 64, 64, 1024);
    CHECK(ok, "buckets are sorted and below m");

    /* jazz: element-wise min of its pieces' fingerprints, then mod m. */
    uint32_t fj[64], fz[64];
    pnm_piece_fingerprint(W "jaz", strlen(W "jaz"), 0, 64, fj);
    pnm_piece_fingerprint("z", 1, 0, 64, fz);
    uint16_t want[64];
    for (int i = 0; i < 64; i++)
        want[i] = (uint16_t)((fj[i] < fz[i] ? fj[i] : fz[i]) % 1024);
    qsort(want, 64, sizeof *want, cmp_u16);
    CHECK(memcmp(want, f.buckets + 64, sizeof want) == 0,
          "a word's fingerprint is the element-wise min over its pieces");

    /* m need not be a power of two. */
    pnm_projection odd = {1000, 16, 0, 9};
    pnm_projector *pr_odd = pnm_projector_new(&th, &odd, &err);
    pnm_features fo = {0};
    CHECK(pr_odd && pnm_project_tokens(pr_odd, &t, &fo, &err) == 0 &&
          sorted_below(fo.buckets, 16, 1000), "m = 1000, n = 16");
    pnm_piece_fingerprint(W "play", strlen(W "play"), 9, 16, fj);
    for (int i = 0; i < 16; i++)
        want[i] = (uint16_t)(fj[i] % 1000);
    qsort(want, 16, sizeof *want, cmp_u16);
    CHECK(memcmp(want, fo.buckets, 16 * sizeof *want) == 0, "buckets are F_i mod m");

    /* Window w = 1 over 3 words: block o holds word t + o - 1. */
    uint32_t idx[3 * 64];
    size_t k0 = pnm_features_window(&f, 1024, 1, 0, idx);
    int first_ok = k0 == 128;
    for (size_t i = 0; i < k0; i++)
        first_ok &= idx[i] >= 1024 && idx[i] < 3 * 1024;
    CHECK(first_ok, "window at the first word: left neighbour is zero padding");
    size_t k2 = pnm_features_window(&f, 1024, 1, 2, idx);
    int last_ok = k2 == 128;
    for (size_t i = 0; i < k2; i++)
        last_ok &= idx[i] < 2 * 1024;
    CHECK(last_ok, "window at the last word: right neighbour is zero padding");
    size_t k1 = pnm_features_window(&f, 1024, 1, 1, idx);
    int mid_ok = k1 == 192;
    for (int i = 0; i < 64; i++)
        mid_ok &= idx[i] == f.buckets[i] && idx[64 + i] == 1024u + f.buckets[64 + i] &&
                  idx[128 + i] == 2048u + f.buckets[128 + i];
    CHECK(mid_ok, "window in the middle concatenates three words in order");
    f.n_words = 1;
    size_t kw = pnm_features_window(&f, 1024, 2, 0, idx);
    int alone_ok = kw == 64;
    for (size_t i = 0; i < kw; i++)
        alone_ok &= idx[i] >= 2 * 1024 && idx[i] < 3 * 1024;
    CHECK(alone_ok, "w = 2 on a one-word line: only the centre block");

    /* Words of one to five pieces (more than a cache slot keeps), some
     * repeated, through one pnm_features and two projectors in turn. */
    static const int mixed[] = {1, -1, 3, 4, -1, 1, 2, 3, 4, 5, -1, 3, 4, -1, 0, -1, 3, 4, 6, -1,
                                1, 2, 3, 4, 5, -1, 6, 5, -1, 1, -1, -2};
    pnm_features shared = {0};
    CHECK(cached_as_uncached(pr, &shared, mixed),
          "the bucket cache gives every word the buckets it is computed to have");
    CHECK(cached_as_uncached(pr_odd, &shared, mixed) && cached_as_uncached(pr, &shared, mixed),
          "one pnm_features through two projectors in turn: the cache follows");
    CHECK(all_short_words_cached_as_uncached(pr, &shared) &&
          all_short_words_cached_as_uncached(pr_odd, &shared),
          "the bucket cache tells apart words that share a slot");
    pnm_features_free(&shared);

    static const int empty[] = {-2};
    pnm_tokens te = {0};
    make_tokens(&te, empty);
    CHECK(pnm_project_tokens(pr, &te, &f, &err) == 0 && f.n_words == 0,
          "an empty line projects to an empty record");

    pnm_projection bad = {0, 64, 1, 0};
    CHECK(!pnm_projector_new(&th, &bad, &err) && strstr(err.msg, "feature count"),
          "m = 0 is refused");
    bad = (pnm_projection){1024, 2000, 1, 0};
    CHECK(!pnm_projector_new(&th, &bad, &err) && strstr(err.msg, "hash count"),
          "n = 2000 is refused");
    bad = (pnm_projection){1024, 64, 99, 0};
    CHECK(!pnm_projector_new(&th, &bad, &err) && strstr(err.msg, "window"), "w = 99 is refused");

    pnm_header fh;
    pnm_projector_header(pr, &fh);
    CHECK(fh.kind == PNM_KIND_FEATURES && fh.vocab_id == 0x1234 && fh.features == 1024 &&
          fh.hashes == 64 && fh.window == 1 && !fh.piece_offset,
          "features header carries the vocabulary and the settings");

    pnm_features_free(&f);
    pnm_features_free(&fo);
    pnm_tokens_free(&t);
    pnm_tokens_free(&te);
    pnm_projector_free(pr);
    pnm_projector_free(pr_odd);
    pnm_header_free(&th);
    return tap_done();
}
