/* The MinHash projection of pNLP-Mixer (paper section 2.1; pnm-project(1)).
 *
 * A piece's fingerprint F^u (n values): for a word-initial piece (marked
 * with U+2581, which is stripped), F^u_i = min over its character trigrams v
 * of h_i(v), the whole piece standing in for a trigram when it has fewer
 * than 3 characters; for a continuation piece, F^u_i = h_i(u). A word's
 * fingerprint is the element-wise min over its pieces (a piece that is the
 * mark alone is left out unless it is the word's only piece: it carries
 * nothing of the word, and would give unrelated words shared buckets), and
 * its features are
 * the buckets F_i mod m of a counting Bloom filter of size m. h_i: hash.h. */
#ifndef PNM_PROJECT_H
#define PNM_PROJECT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "features.h"
#include "stream.h"
#include "tokens.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pnm_projection {
    uint32_t features; /* m */
    uint32_t hashes;   /* n */
    uint32_t window;   /* w */
    uint64_t seed;
} pnm_projection;

#define PNM_PROJECTION_DEFAULT ((pnm_projection){1024, 64, 1, 0})

/* Checks the settings against the limits; the message names the bad one. */
int pnm_projection_check(const pnm_projection *p, pnm_error *err);

/* Fingerprint of one piece string (UTF-8, with its U+2581 mark if any). */
void pnm_piece_fingerprint(const char *piece, size_t len, uint64_t seed, uint32_t n,
                           uint32_t *out);

/* Fingerprints of every piece of a vocabulary, computed once: a projector
 * is read-only afterwards and may be shared by threads. */
typedef struct pnm_projector pnm_projector;

/* tokens_header is a token stream's header (it carries the pieces). */
pnm_projector *pnm_projector_new(const pnm_header *tokens_header,
                                 const pnm_projection *p, pnm_error *err);
void pnm_projector_free(pnm_projector *pr);
/* The header of the features stream this projector writes. */
void pnm_projector_header(const pnm_projector *pr, pnm_header *h);
/* Projects a token record into a feature record (same line, same words).
 * A word's buckets depend on its piece ids and the projector alone: f keeps
 * those of words of few pieces it has seen in a cache of fixed size
 * (PNM_BUCKET_CACHE_BYTES, allocated at the first call, freed by
 * pnm_features_free), and a word seen before is copied from it. The records
 * are the same with or without it; f may change projector between calls
 * (the cache then starts over). */
#define PNM_BUCKET_CACHE_BYTES (512u << 10)
int pnm_project_tokens(const pnm_projector *pr, const pnm_tokens *t, pnm_features *f,
                       pnm_error *err);

/* The sparse input of the bottleneck at position t: the features of words
 * t-w .. t+w, word t+o placed in block o+w of the (2w+1)m-dimensional
 * concatenation. Positions outside the sentence are zero, i.e. contribute
 * nothing. Writes at most (2w+1)*n indices to idx and returns how many. */
size_t pnm_features_window(const pnm_features *f, uint32_t m, uint32_t w, uint32_t t,
                           uint32_t *idx);

#ifdef __cplusplus
}
#endif
#endif
