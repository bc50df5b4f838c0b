/* The hash family is frozen: these vectors are also in pnm-project(1). If
 * one fails, every trained model is invalid: do not "fix" the vector. */
#include <string.h>

#include "pnm.h"
#include "tap.h"

static int fingerprint_is(const char *piece, uint64_t seed, const uint32_t want[4])
{
    uint32_t got[4];
    pnm_piece_fingerprint(piece, strlen(piece), seed, 4, got);
    return memcmp(got, want, sizeof got) == 0;
}

int main(void)
{
    CHECK(pnm_hash64("", 0, 0) == 0xef46db3751d8e999ull, "XXH64 of the empty string");
    CHECK(pnm_hash64("abc", 3, 0) == 0x44bc2cf5ad770999ull, "XXH64 of abc");

    static const uint32_t abc[4] = {2143654204, 622084263, 350445354, 1377321712};
    static const uint32_t play[4] = {286310998, 1115862569, 338484623, 309358741};
    static const uint32_t ing[4] = {1751235936, 1774594840, 1681699579, 1992662457};
    static const uint32_t cafe[4] = {968043978, 1364479978, 1404453211, 434987768};
    static const uint32_t a[4] = {805989703, 821789578, 160871449, 862071437};
    static const uint32_t play42[4] = {867328884, 60752219, 438290839, 1530862590};
    CHECK(fingerprint_is("abc", 0, abc), "continuation piece abc");
    CHECK(fingerprint_is("\xE2\x96\x81play", 0, play), "word-initial piece play");
    CHECK(fingerprint_is("ing", 0, ing), "continuation piece ing");
    CHECK(fingerprint_is("\xE2\x96\x81" "caf\xC3\xA9", 0, cafe), "word-initial piece with a 2-byte character");
    CHECK(fingerprint_is("\xE2\x96\x81" "a", 0, a), "one-character word-initial piece");
    CHECK(fingerprint_is("a", 0, a), "a short word-initial piece hashes like its text");
    CHECK(fingerprint_is("\xE2\x96\x81play", 42, play42), "seed 42");

    /* The trigram rule, from first principles: min over pla and lay. */
    uint32_t want[64], got[64];
    pnm_fingerprint_reset(64, want);
    pnm_hash_fold_min("pla", 3, 7, 64, want);
    pnm_hash_fold_min("lay", 3, 7, 64, want);
    pnm_piece_fingerprint("\xE2\x96\x81play", 7, 7, 64, got);
    CHECK(memcmp(got, want, sizeof got) == 0, "word-initial fingerprint is the min over its trigrams");

    /* Trigrams are of characters, not bytes: "é" is one character. */
    pnm_fingerprint_reset(64, want);
    pnm_hash_fold_min("caf", 3, 0, 64, want);
    pnm_hash_fold_min("af\xC3\xA9", 4, 0, 64, want);
    pnm_piece_fingerprint("\xE2\x96\x81" "caf\xC3\xA9", 8, 0, 64, got);
    CHECK(memcmp(got, want, sizeof got) == 0, "trigrams count characters, not bytes");

    int below = 1;
    for (int i = 0; i < 64; i++)
        below &= got[i] < (1u << 31);
    CHECK(below, "hash values are 31-bit");
    return tap_done();
}
