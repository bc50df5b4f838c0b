#include "fuzz.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

FILE *fuzz_open_bytes(const uint8_t *data, size_t len)
{
    /* fmemopen wants a writable pointer even for mode "r"; it never writes
     * through it then. A zero-length buffer still needs a valid address. */
    static const uint8_t empty[1];
    FILE *f = fmemopen((void *)(len ? data : empty), len, "r");
    if (!f)
        abort();
    return f;
}

FILE *fuzz_open_null(void)
{
    FILE *f = fopen("/dev/null", "w");
    if (!f)
        abort();
    return f;
}

uint8_t *fuzz_zstd_compress(const uint8_t *data, size_t len, size_t *out_len)
{
    size_t cap = ZSTD_compressBound(len);
    uint8_t *out = malloc(cap);
    ZSTD_CCtx *zc = ZSTD_createCCtx();
    if (!out || !zc)
        abort();
    size_t rc = ZSTD_CCtx_setParameter(zc, ZSTD_c_checksumFlag, 1);
    if (!ZSTD_isError(rc))
        rc = ZSTD_compress2(zc, out, cap, data, len);
    if (ZSTD_isError(rc))
        abort();
    ZSTD_freeCCtx(zc);
    *out_len = rc;
    return out;
}

int fuzz_is_zstd(const uint8_t *data, size_t len)
{
    static const uint8_t magic[4] = {0x28, 0xB5, 0x2F, 0xFD};
    return len >= sizeof magic && memcmp(data, magic, sizeof magic) == 0;
}
