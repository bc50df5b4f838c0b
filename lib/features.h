/* Feature records: per word, the n Bloom filter buckets its MinHash
 * fingerprint falls into (F_i mod m), sorted ascending, repeats kept, so the
 * counting Bloom filter T of the word is T[b] = number of times b occurs.
 * The window is not applied here: the consumer concatenates neighbours (see
 * pnm_features_window in project.h). Payload layout: see pnm-stream(5). */
#ifndef PNM_FEATURES_H
#define PNM_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "error.h"
#include "stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pnm_features {
    uint64_t line;     /* 1-based input line number */
    uint32_t n_words;
    uint32_t hashes;   /* n: buckets per word */
    uint16_t *buckets; /* n_words * hashes, word-major */
    size_t cap;
    /* Scratch of pnm_project_tokens for sorting buckets: a count and a bit
     * per possible bucket, all zero between calls. */
    uint16_t *sort_count;
    uint64_t *sort_bits;
    uint32_t sort_m;
    /* pnm_project_tokens' words seen before (project.h); owned. */
    struct pnm_bucket_cache *cache;
} pnm_features;

void pnm_features_free(pnm_features *f);
/* Makes room for n_words words of hashes buckets each. */
int pnm_features_reserve(pnm_features *f, uint32_t n_words, uint32_t hashes, pnm_error *err);

int pnm_features_encode(const pnm_features *f, pnm_buf *out, pnm_error *err);
int pnm_features_decode(const pnm_header *h, const uint8_t *p, uint32_t len,
                        pnm_features *f, pnm_error *err);
/* Next record of a features stream: 1, 0 at the end, -1 on error. */
int pnm_features_read(pnm_reader *r, pnm_features *f, pnm_error *err);

#ifdef __cplusplus
}
#endif
#endif
