/* The stream reader on arbitrary bytes: every kind (tokens, features,
 * hidden), plain and zstd. Each input is read three ways:
 *
 *  1. as given (plain, or zstd when it starts with zstd's magic number),
 *     so that damaged checksums and hostile zstd frames are exercised;
 *  2. with its checksums made right (header, records, end marker), so that
 *     mutations reach the header validation and the record decoders
 *     instead of stopping at a checksum mismatch;
 *  3. that same fixed stream compressed, which must read exactly as 2 did:
 *     same status, same records, same message.
 *
 * Every record read is decoded, re-encoded (a decoded record must encode),
 * rendered as text and JSON, and projected (tokens) or windowed
 * (features). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pnm.h"

/* The settings a token stream is projected with: small, so that a large
 * piece table stays cheap. */
static const pnm_projection projection = {64, 8, 1, 0};

typedef struct outcome {
    int rc;           /* 0: read to a correct end; -1: refused */
    uint64_t records;
    pnm_error err;
} outcome;

static int read_tokens(pnm_reader *r, FILE *out, pnm_buf *buf, pnm_error *err)
{
    const pnm_header *h = pnm_reader_header(r);
    pnm_error ignored;
    /* May refuse a table too large to fingerprint: then nothing to project. */
    pnm_projector *pr = pnm_projector_new(h, &projection, &ignored);
    pnm_tokens t = {0};
    pnm_features f = {0};
    int rc;
    while ((rc = pnm_tokens_read(r, &t, err)) > 0) {
        if (pnm_tokens_encode(&t, buf, &ignored))
            abort();
        pnm_dump_tokens(out, h, &t, PNM_DUMP_TEXT, false, true);
        pnm_dump_tokens(out, h, &t, PNM_DUMP_JSON, false, true);
        if (pr && pnm_project_tokens(pr, &t, &f, &ignored))
            abort();
    }
    pnm_features_free(&f);
    pnm_tokens_free(&t);
    pnm_projector_free(pr);
    return rc;
}

static int read_features(pnm_reader *r, FILE *out, pnm_buf *buf, pnm_error *err)
{
    const pnm_header *h = pnm_reader_header(r);
    pnm_error ignored;
    uint32_t *idx = malloc(((size_t)2 * h->window + 1) * h->hashes * sizeof *idx);
    if (!idx)
        abort();
    pnm_features f = {0};
    int rc;
    while ((rc = pnm_features_read(r, &f, err)) > 0) {
        if (pnm_features_encode(&f, buf, &ignored))
            abort();
        pnm_dump_features(out, &f, PNM_DUMP_TEXT);
        pnm_dump_features(out, &f, PNM_DUMP_JSON);
        for (uint32_t t = 0; t < f.n_words; t++)
            pnm_features_window(&f, h->features, h->window, t, idx);
    }
    pnm_features_free(&f);
    free(idx);
    return rc;
}

static int read_hidden(pnm_reader *r, FILE *out, pnm_buf *buf, pnm_error *err)
{
    pnm_error ignored;
    pnm_hidden hd = {0};
    int rc;
    while ((rc = pnm_hidden_read(r, &hd, err)) > 0) {
        if (pnm_hidden_encode(&hd, buf, &ignored))
            abort();
        pnm_dump_hidden(out, &hd, PNM_DUMP_TEXT);
        pnm_dump_hidden(out, &hd, PNM_DUMP_JSON);
    }
    pnm_hidden_free(&hd);
    return rc;
}

static outcome read_stream(const uint8_t *data, size_t len)
{
    outcome o = {0};
    FILE *in = fuzz_open_bytes(data, len), *out = fuzz_open_null();
    pnm_reader *r = pnm_reader_open(in, "fuzz", &o.err);
    if (!r) {
        o.rc = -1;
    } else {
        const pnm_header *h = pnm_reader_header(r);
        pnm_buf buf = {0};
        pnm_dump_header(out, h, pnm_reader_compressed(r), PNM_DUMP_TEXT);
        pnm_dump_header(out, h, pnm_reader_compressed(r), PNM_DUMP_JSON);
        switch (h->kind) {
        case PNM_KIND_TOKENS:
            o.rc = read_tokens(r, out, &buf, &o.err);
            break;
        case PNM_KIND_FEATURES:
            o.rc = read_features(r, out, &buf, &o.err);
            break;
        case PNM_KIND_HIDDEN:
            o.rc = read_hidden(r, out, &buf, &o.err);
            break;
        }
        o.records = pnm_reader_records(r);
        pnm_buf_free(&buf);
        pnm_reader_free(r);
    }
    fclose(out);
    fclose(in);
    return o;
}

static uint32_t checksum(const uint8_t *p, size_t len)
{
    return (uint32_t)pnm_hash64(p, len, 0);
}

/* Rewrites the checksums of a plain stream in place, as far as its lengths
 * can be followed (pnm-stream(5)): the header's (bytes 68..71, computed
 * with themselves zeroed, over the fixed part and the piece table), then
 * each record's and the end marker's. */
static void fix_checksums(uint8_t *s, size_t len)
{
    if (len < PNM_HEADER_FIXED_BYTES)
        return;
    size_t at = PNM_HEADER_FIXED_BYTES + (size_t)pnm_get_u32(s + 64);
    if (at > len)
        return;
    pnm_put_u32(s + 68, 0);
    pnm_put_u32(s + 68, checksum(s, at));
    while (len - at >= 8) {
        uint32_t n = pnm_get_u32(s + at);
        if (n == 0) {
            if (len - at >= 16)
                pnm_put_u32(s + at + 4, checksum(s + at + 8, 8));
            return;
        }
        if (n > len - at - 8)
            return;
        pnm_put_u32(s + at + 4, checksum(s + at + 8, n));
        at += 8 + (size_t)n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    read_stream(data, len);
    if (fuzz_is_zstd(data, len))
        return 0;
    uint8_t *fixed = malloc(len ? len : 1);
    if (!fixed)
        abort();
    memcpy(fixed, data, len);
    fix_checksums(fixed, len);
    outcome plain = read_stream(fixed, len);
    size_t zlen;
    uint8_t *z = fuzz_zstd_compress(fixed, len, &zlen);
    outcome packed = read_stream(z, zlen);
    if (plain.rc != packed.rc || plain.records != packed.records ||
        strcmp(plain.err.msg, packed.err.msg) != 0) {
        fprintf(stderr, "plain and zstd differ:\n  plain: %d, %llu records, %s\n"
                "  zstd:  %d, %llu records, %s\n", plain.rc,
                (unsigned long long)plain.records, plain.err.msg, packed.rc,
                (unsigned long long)packed.records, packed.err.msg);
        abort();
    }
    free(z);
    free(fixed);
    return 0;
}
