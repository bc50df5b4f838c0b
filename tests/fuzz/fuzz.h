/* What the fuzz targets (tests/fuzz/fuzz_*.c) share. Each target defines
 * LLVMFuzzerTestOneInput; it is built twice: with libFuzzer (make fuzz,
 * mk/fuzz.mk) and with replay.c, which runs it over the committed corpus
 * and regressions in make check. The helpers abort on failures of the
 * harness itself (out of memory, no /dev/null), which are not findings of
 * the code under test and must not pass silently. */
#ifndef PNM_FUZZ_H
#define PNM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A read-only FILE over data[0..len) (len may be 0). */
FILE *fuzz_open_bytes(const uint8_t *data, size_t len);
/* A FILE that discards what is written: renderers run in full, unseen. */
FILE *fuzz_open_null(void);
/* data as one zstd frame (level 1, content size and checksum written);
 * free() it. */
uint8_t *fuzz_zstd_compress(const uint8_t *data, size_t len, size_t *out_len);
/* True when data starts with zstd's magic number. */
int fuzz_is_zstd(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

#endif
