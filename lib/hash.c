#include "hash.h"

#include <xxhash.h>

#include "simd.h"

uint64_t pnm_hash64(const void *data, size_t len, uint64_t seed)
{
    return XXH64(data, len, seed);
}

void pnm_fingerprint_reset(uint32_t n, uint32_t *out)
{
    for (uint32_t i = 0; i < n; i++)
        out[i] = PNM_HASH_EMPTY;
}

static uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return k;
}

/* out[i] = min(out[i], h_i) for the n values of one string. Cloned for
 * AVX2 and AVX-512 (64-bit lanes: 4 or 8 of the n at a time): it is most
 * of what a projector costs to build, once per vocabulary piece and
 * trigram, at every pnm-project start. Integer arithmetic: every clone
 * gives the same bits. */
PNM_SIMD_CLONES
static void fold_min(uint64_t g1, uint64_t g2, uint32_t n, uint32_t *out)
{
    for (uint32_t i = 0; i < n; i++) {
        uint32_t h = (uint32_t)(fmix64(g1 + i * g2) >> 33);
        out[i] = h < out[i] ? h : out[i];
    }
}

void pnm_hash_fold_min(const void *x, size_t len, uint64_t seed, uint32_t n,
                       uint32_t *out)
{
    uint64_t g1 = XXH64(x, len, seed);
    uint64_t g2 = XXH64(x, len, seed ^ PNM_HASH_SEED2_MASK) | 1;
    fold_min(g1, g2, n, out);
}
