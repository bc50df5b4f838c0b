/* The hash family behind the MinHash projection. It is frozen: trained models
 * depend on every bit of it, so any change needs a new stream version. Test
 * vectors live in pnm-project(1) and tests/unit/test_hash.c.
 *
 *   g1(x) = XXH64(x, seed)                       (xxHash, 64-bit, canonical)
 *   g2(x) = XXH64(x, seed ^ 0x9E3779B97F4A7C15) | 1
 *   h_i(x) = fmix64(g1(x) + i * g2(x)) >> 33     (mod 2^64; i = 0 .. n-1)
 *
 * fmix64 is MurmurHash3's 64-bit finalizer. Plain double hashing (g1 + i*g2
 * mod p) makes a string's n values an arithmetic progression, which the
 * Bloom filter's "mod m" turns into regular bucket patterns shared between
 * unrelated strings; the finalizer breaks that structure, and costs nothing
 * at run time because piece fingerprints are computed once per vocabulary.
 * Values are 31-bit; x is the UTF-8 bytes of a string, without terminator. */
#ifndef PNM_HASH_H
#define PNM_HASH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PNM_HASH_EMPTY 0xFFFFFFFFu /* above every h_i: the identity of min */
#define PNM_HASH_SEED2_MASK 0x9E3779B97F4A7C15ull

/* XXH64 of bytes; also used for vocabulary and model identities. */
uint64_t pnm_hash64(const void *data, size_t len, uint64_t seed);

/* out[i] = min(out[i], h_i(x)) for i < n: folds one string into a running
 * MinHash. Start from pnm_fingerprint_reset(). */
void pnm_hash_fold_min(const void *x, size_t len, uint64_t seed, uint32_t n,
                       uint32_t *out);

/* Sets out[0..n-1] to PNM_HASH_EMPTY. */
void pnm_fingerprint_reset(uint32_t n, uint32_t *out);

#ifdef __cplusplus
}
#endif
#endif
