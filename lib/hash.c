#include "hash.h"

#include <xxhash.h>

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

void pnm_hash_fold_min(const void *x, size_t len, uint64_t seed, uint32_t n,
                       uint32_t *out)
{
    uint64_t g1 = XXH64(x, len, seed);
    uint64_t g2 = XXH64(x, len, seed ^ PNM_HASH_SEED2_MASK) | 1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t h = (uint32_t)(fmix64(g1 + i * g2) >> 33);
        if (h < out[i])
            out[i] = h;
    }
}
