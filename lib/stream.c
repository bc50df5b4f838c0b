#include "stream.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "bytes.h"
#include "hash.h"
#include "limits.h"
#include "utf8.h"

#define FRAME_BYTES 8        /* u32 payload length + u32 checksum */
#define END_MARKER_BYTES 16  /* length 0 + checksum + u64 record count */
#define IO_CHUNK (64u << 10)

static uint32_t checksum(const void *p, size_t len)
{
    return (uint32_t)pnm_hash64(p, len, 0);
}

const char *pnm_kind_name(pnm_kind kind)
{
    switch (kind) {
    case PNM_KIND_TOKENS: return "tokens";
    case PNM_KIND_FEATURES: return "features";
    case PNM_KIND_HIDDEN: return "hidden";
    }
    return "unknown";
}

void pnm_header_free(pnm_header *h)
{
    free(h->piece_bytes);
    free(h->piece_offset);
    h->piece_bytes = NULL;
    h->piece_offset = NULL;
}

int pnm_header_copy(pnm_header *dst, const pnm_header *src, pnm_error *err)
{
    *dst = *src;
    dst->piece_bytes = NULL;
    dst->piece_offset = NULL;
    if (!src->piece_offset)
        return 0;
    size_t n = (size_t)src->vocab_size + 1, bytes = src->piece_offset[src->vocab_size];
    dst->piece_offset = malloc(n * sizeof *dst->piece_offset);
    dst->piece_bytes = malloc(bytes ? bytes : 1);
    if (!dst->piece_offset || !dst->piece_bytes) {
        pnm_header_free(dst);
        return pnm_error_set(err, "out of memory");
    }
    memcpy(dst->piece_offset, src->piece_offset, n * sizeof *dst->piece_offset);
    memcpy(dst->piece_bytes, src->piece_bytes, bytes);
    return 0;
}

int pnm_header_check_match(const pnm_header *want, const pnm_header *got, pnm_error *err)
{
    if (want->vocab_id != got->vocab_id || want->vocab_size != got->vocab_size)
        return pnm_error_set(err,
            "made with another vocabulary: %016" PRIx64 " (%" PRIu32 " pieces), expected %016"
            PRIx64 " (%" PRIu32 " pieces)",
            got->vocab_id, got->vocab_size, want->vocab_id, want->vocab_size);
    if (want->kind == PNM_KIND_TOKENS || got->kind == PNM_KIND_TOKENS)
        return 0;
    if (want->features != got->features || want->hashes != got->hashes ||
        want->window != got->window || want->seed != got->seed)
        return pnm_error_set(err,
            "made with other projection settings: m=%" PRIu32 " n=%" PRIu32 " w=%" PRIu32
            " seed=%" PRIu64 ", expected m=%" PRIu32 " n=%" PRIu32 " w=%" PRIu32 " seed=%" PRIu64,
            got->features, got->hashes, got->window, got->seed,
            want->features, want->hashes, want->window, want->seed);
    if (want->kind != PNM_KIND_HIDDEN || got->kind != PNM_KIND_HIDDEN)
        return 0;
    if (want->model_id != got->model_id || want->dim != got->dim ||
        want->seq_len != got->seq_len)
        return pnm_error_set(err,
            "made by another model: %016" PRIx64 " (b=%" PRIu32 " s=%" PRIu32 "), expected %016"
            PRIx64 " (b=%" PRIu32 " s=%" PRIu32 ")", got->model_id, got->dim, got->seq_len,
            want->model_id, want->dim, want->seq_len);
    return 0;
}

int pnm_header_check_model(const pnm_header *h, uint64_t model_id, pnm_error *err)
{
    if (h->kind != PNM_KIND_HIDDEN)
        return pnm_error_set(err, "expected a hidden stream, got a %s stream",
                             pnm_kind_name(h->kind));
    if (h->model_id != model_id)
        return pnm_error_set(err, "made by another model: %016" PRIx64 ", expected %016" PRIx64,
                             h->model_id, model_id);
    return 0;
}

/* ---- header encoding ---------------------------------------------------- */

static int header_encode(const pnm_header *h, pnm_buf *out, pnm_error *err)
{
    uint32_t table = 0;
    if (h->kind == PNM_KIND_TOKENS)
        table = 2 * h->vocab_size + h->piece_offset[h->vocab_size];
    uint8_t *p = pnm_buf_reserve(out, PNM_HEADER_FIXED_BYTES + (size_t)table);
    if (!p)
        return pnm_error_set(err, "out of memory");
    memset(p, 0, PNM_HEADER_FIXED_BYTES);
    memcpy(p, "PNM", 3);
    p[3] = (uint8_t)h->kind;
    pnm_put_u32(p + 4, PNM_STREAM_VERSION);
    pnm_put_u64(p + 8, h->vocab_id);
    pnm_put_u32(p + 16, h->vocab_size);
    pnm_put_u32(p + 20, h->max_words);
    pnm_put_u32(p + 24, h->features);
    pnm_put_u32(p + 28, h->hashes);
    pnm_put_u32(p + 32, h->window);
    /* 36: flags, reserved, 0 */
    pnm_put_u64(p + 40, h->seed);
    if (h->kind == PNM_KIND_HIDDEN) {
        pnm_put_u32(p + 48, h->dim);
        pnm_put_u32(p + 52, h->seq_len);
        pnm_put_u64(p + 56, h->model_id);
    } /* else 48..63: reserved, 0 */
    pnm_put_u32(p + 64, table);
    uint8_t *t = p + PNM_HEADER_FIXED_BYTES;
    for (uint32_t i = 0; table && i < h->vocab_size; i++) {
        uint32_t len = h->piece_offset[i + 1] - h->piece_offset[i];
        pnm_put_u16(t, (uint16_t)len);
        memcpy(t + 2, h->piece_bytes + h->piece_offset[i], len);
        t += 2 + len;
    }
    /* The checksum covers the whole header, itself read as zero. */
    pnm_put_u32(p + 68, checksum(p, PNM_HEADER_FIXED_BYTES + (size_t)table));
    out->len += PNM_HEADER_FIXED_BYTES + (size_t)table;
    return 0;
}

/* Fields that a kind does not use must be zero, so that a later version can
 * give them a meaning without old readers misreading new streams. */
static int header_validate(const pnm_header *h, uint32_t flags, uint32_t table,
                           pnm_error *err)
{
    if (h->vocab_size == 0 || h->vocab_size > PNM_MAX_VOCAB)
        return pnm_error_set(err, "corrupt header: vocabulary size %" PRIu32
                             " is outside 1..%u", h->vocab_size, PNM_MAX_VOCAB);
    if (flags != 0)
        return pnm_error_set(err, "corrupt header: unknown flags %08" PRIx32, flags);
    if (h->max_words > PNM_MAX_WORDS)
        return pnm_error_set(err, "corrupt header: at most %" PRIu32 " words per record is above"
                             " the limit of %u", h->max_words, PNM_MAX_WORDS);
    if (h->kind == PNM_KIND_TOKENS) {
        if (h->features || h->hashes || h->window || h->seed)
            return pnm_error_set(err, "corrupt header: a tokens stream has projection settings");
        if (table < 2ull * h->vocab_size || table > PNM_MAX_PIECE_TABLE)
            return pnm_error_set(err, "corrupt header: piece table of %" PRIu32
                                 " bytes for %" PRIu32 " pieces", table, h->vocab_size);
        return 0;
    }
    if (h->features == 0 || h->features > PNM_MAX_FEATURES)
        return pnm_error_set(err, "corrupt header: feature count m=%" PRIu32
                             " is outside 1..%u", h->features, PNM_MAX_FEATURES);
    if (h->hashes == 0 || h->hashes > PNM_MAX_HASHES)
        return pnm_error_set(err, "corrupt header: hash count n=%" PRIu32
                             " is outside 1..%u", h->hashes, PNM_MAX_HASHES);
    if (h->window > PNM_MAX_WINDOW)
        return pnm_error_set(err, "corrupt header: window w=%" PRIu32
                             " is above %u", h->window, PNM_MAX_WINDOW);
    if (table != 0)
        return pnm_error_set(err, "corrupt header: a %s stream has a piece table",
                             pnm_kind_name(h->kind));
    if (h->kind != PNM_KIND_HIDDEN)
        return 0;
    if (h->dim == 0 || h->dim > PNM_MAX_DIM)
        return pnm_error_set(err, "corrupt header: dimension b=%" PRIu32
                             " is outside 1..%u", h->dim, PNM_MAX_DIM);
    if (h->seq_len == 0 || h->seq_len > PNM_MAX_SEQ_LEN)
        return pnm_error_set(err, "corrupt header: sequence length s=%" PRIu32
                             " is outside 1..%u", h->seq_len, PNM_MAX_SEQ_LEN);
    return 0;
}

/* Splits a validated piece table into the header's offsets and bytes. */
static int piece_table_decode(pnm_header *h, const uint8_t *t, uint32_t table,
                              pnm_error *err)
{
    h->piece_offset = malloc(((size_t)h->vocab_size + 1) * sizeof *h->piece_offset);
    h->piece_bytes = malloc(table);
    if (!h->piece_offset || !h->piece_bytes)
        return pnm_error_set(err, "out of memory");
    uint32_t at = 0, out = 0;
    for (uint32_t i = 0; i < h->vocab_size; i++) {
        if (table - at < 2)
            return pnm_error_set(err, "corrupt header: piece table ends at piece %" PRIu32, i);
        uint32_t len = pnm_get_u16(t + at);
        at += 2;
        if (len > table - at)
            return pnm_error_set(err, "corrupt header: piece %" PRIu32
                                 " runs past the piece table", i);
        if (pnm_utf8_find_invalid((const char *)t + at, len) != len)
            return pnm_error_set(err, "corrupt header: piece %" PRIu32 " is not valid UTF-8", i);
        h->piece_offset[i] = out;
        memcpy(h->piece_bytes + out, t + at, len);
        at += len, out += len;
    }
    h->piece_offset[h->vocab_size] = out;
    if (at != table)
        return pnm_error_set(err, "corrupt header: %" PRIu32
                             " stray bytes after the piece table", table - at);
    return 0;
}

/* ---- writer -------------------------------------------------------------- */

struct pnm_writer {
    FILE *f;
    ZSTD_CCtx *zc;     /* NULL for a plain stream */
    pnm_buf pending;   /* whole records not yet pushed to f */
    pnm_buf zout;      /* compressed bytes on their way to f */
    uint64_t records;
    bool finished;
};

static int write_all(FILE *f, const void *p, size_t n, pnm_error *err)
{
    if (n && fwrite(p, 1, n, f) != n)
        return pnm_error_set(err, "write error: %s", strerror(errno));
    return 0;
}

/* Pushes pending bytes to f; mode says how far zstd must go (continue,
 * flush its block, or end the frame). */
static int writer_push(pnm_writer *w, ZSTD_EndDirective mode, pnm_error *err)
{
    if (!w->zc) {
        int rc = write_all(w->f, w->pending.data, w->pending.len, err);
        w->pending.len = 0;
        return rc;
    }
    ZSTD_inBuffer in = {w->pending.data, w->pending.len, 0};
    size_t left;
    do {
        ZSTD_outBuffer out = {w->zout.data, w->zout.cap, 0};
        left = ZSTD_compressStream2(w->zc, &out, &in, mode);
        if (ZSTD_isError(left))
            return pnm_error_set(err, "zstd: %s", ZSTD_getErrorName(left));
        if (write_all(w->f, w->zout.data, out.pos, err))
            return -1;
    } while (mode == ZSTD_e_continue ? in.pos < in.size : left != 0);
    w->pending.len = 0;
    return 0;
}

pnm_writer *pnm_writer_open(FILE *f, const pnm_header *h, int zstd_level, pnm_error *err)
{
    pnm_writer *w = calloc(1, sizeof *w);
    if (!w) {
        pnm_error_set(err, "out of memory");
        return NULL;
    }
    w->f = f;
    if (zstd_level > 0) {
        w->zc = ZSTD_createCCtx();
        if (!w->zc || !pnm_buf_reserve(&w->zout, ZSTD_CStreamOutSize())) {
            pnm_error_set(err, "out of memory");
            goto fail;
        }
        size_t rc = ZSTD_CCtx_setParameter(w->zc, ZSTD_c_compressionLevel, zstd_level);
        if (!ZSTD_isError(rc)) /* let zstd check its own frames too */
            rc = ZSTD_CCtx_setParameter(w->zc, ZSTD_c_checksumFlag, 1);
        if (ZSTD_isError(rc)) {
            pnm_error_set(err, "zstd level %d: %s", zstd_level, ZSTD_getErrorName(rc));
            goto fail;
        }
    }
    if (header_encode(h, &w->pending, err))
        goto fail;
    return w;
fail:
    ZSTD_freeCCtx(w->zc);
    pnm_buf_free(&w->pending);
    pnm_buf_free(&w->zout);
    free(w);
    return NULL;
}

int pnm_writer_write(pnm_writer *w, const void *payload, size_t len, pnm_error *err)
{
    if (len == 0 || len > PNM_MAX_RECORD_BYTES)
        return pnm_error_set(err, "record of %zu bytes is outside 1..%u", len,
                             PNM_MAX_RECORD_BYTES);
    uint8_t *p = pnm_buf_reserve(&w->pending, FRAME_BYTES + len);
    if (!p)
        return pnm_error_set(err, "out of memory");
    pnm_put_u32(p, (uint32_t)len);
    pnm_put_u32(p + 4, checksum(payload, len));
    memcpy(p + FRAME_BYTES, payload, len);
    w->pending.len += FRAME_BYTES + len;
    w->records++;
    if (w->pending.len >= IO_CHUNK)
        return writer_push(w, ZSTD_e_continue, err);
    return 0;
}

int pnm_writer_flush(pnm_writer *w, pnm_error *err)
{
    if (writer_push(w, ZSTD_e_flush, err))
        return -1;
    if (fflush(w->f) != 0)
        return pnm_error_set(err, "write error: %s", strerror(errno));
    return 0;
}

int pnm_writer_finish(pnm_writer *w, pnm_error *err)
{
    uint8_t *p = pnm_buf_reserve(&w->pending, END_MARKER_BYTES);
    if (!p)
        return pnm_error_set(err, "out of memory");
    pnm_put_u32(p, 0);
    pnm_put_u64(p + 8, w->records);
    pnm_put_u32(p + 4, checksum(p + 8, 8));
    w->pending.len += END_MARKER_BYTES;
    w->finished = true;
    if (writer_push(w, ZSTD_e_end, err))
        return -1;
    if (fflush(w->f) != 0)
        return pnm_error_set(err, "write error: %s", strerror(errno));
    return 0;
}

void pnm_writer_free(pnm_writer *w)
{
    if (!w)
        return;
    /* Best effort: complete records reach the reader, the missing end marker
     * tells it the stream was cut short. */
    if (!w->finished && writer_push(w, ZSTD_e_end, NULL) == 0)
        fflush(w->f);
    ZSTD_freeCCtx(w->zc);
    pnm_buf_free(&w->pending);
    pnm_buf_free(&w->zout);
    free(w);
}

/* ---- reader -------------------------------------------------------------- */

struct pnm_reader {
    FILE *f;
    char name[128];
    pnm_header header;
    ZSTD_DCtx *zd;            /* NULL for a plain stream */
    size_t zstd_left;         /* 0 when the last zstd frame is complete */
    uint8_t *raw;             /* bytes as read from f */
    size_t raw_pos, raw_len;
    uint8_t *dec;             /* decompressed bytes (zstd only) */
    size_t dec_pos, dec_len;
    bool eof;
    uint64_t offset;          /* uncompressed bytes consumed */
    uint64_t record_offset;
    uint64_t records;
    pnm_buf payload;
};

/* Formats a message that starts with the stream's name. */
__attribute__((format(printf, 3, 4)))
static int reader_error(const pnm_reader *r, pnm_error *err, const char *fmt, ...)
{
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return pnm_error_set(err, "%s: %s", r->name, msg);
}

/* Makes uncompressed bytes available: returns how many, 0 at end of input,
 * -1 on a read or zstd error. */
static long reader_fill(pnm_reader *r, const uint8_t **p, pnm_error *err)
{
    for (;;) {
        if (!r->zd && r->raw_pos < r->raw_len) {
            *p = r->raw + r->raw_pos;
            return (long)(r->raw_len - r->raw_pos);
        }
        if (r->zd && r->dec_pos < r->dec_len) {
            *p = r->dec + r->dec_pos;
            return (long)(r->dec_len - r->dec_pos);
        }
        if (r->zd && r->raw_pos < r->raw_len) {
            ZSTD_inBuffer in = {r->raw, r->raw_len, r->raw_pos};
            ZSTD_outBuffer out = {r->dec, ZSTD_DStreamOutSize(), 0};
            size_t rc = ZSTD_decompressStream(r->zd, &out, &in);
            if (ZSTD_isError(rc))
                return reader_error(r, err, "corrupt zstd data after %" PRIu64
                                  " uncompressed bytes: %s", r->offset, ZSTD_getErrorName(rc));
            r->zstd_left = rc;
            r->raw_pos = in.pos;
            r->dec_pos = 0, r->dec_len = out.pos;
            continue;
        }
        if (r->eof)
            return 0;
        r->raw_pos = 0;
        r->raw_len = fread(r->raw, 1, IO_CHUNK, r->f);
        if (r->raw_len == 0) {
            if (ferror(r->f))
                return reader_error(r, err, "read error after %" PRIu64 " bytes: %s",
                                  r->offset, strerror(errno));
            r->eof = true;
            if (r->zd && r->zstd_left != 0)
                return reader_error(r, err, "truncated zstd data after %" PRIu64
                                  " uncompressed bytes", r->offset);
        }
    }
}

/* Reads up to n bytes into dst; returns how many (fewer only at the end of
 * input) or -1. */
static long reader_read(pnm_reader *r, void *dst, size_t n, pnm_error *err)
{
    size_t got = 0;
    while (got < n) {
        const uint8_t *p = NULL;
        long avail = reader_fill(r, &p, err);
        if (avail < 0)
            return -1;
        if (avail == 0)
            break;
        size_t k = (size_t)avail < n - got ? (size_t)avail : n - got;
        memcpy((uint8_t *)dst + got, p, k);
        if (r->zd)
            r->dec_pos += k;
        else
            r->raw_pos += k;
        got += k;
        r->offset += k;
    }
    return (long)got;
}

static int reader_read_header(pnm_reader *r, pnm_error *err)
{
    uint8_t fixed[PNM_HEADER_FIXED_BYTES];
    long got = reader_read(r, fixed, sizeof fixed, err);
    if (got < 0)
        return -1;
    if (got == 0)
        return reader_error(r, err, "empty input, not a pnm stream");
    if (got < 4 || memcmp(fixed, "PNM", 3) != 0)
        return reader_error(r, err, "not a pnm stream (no PNM magic at byte 0)");
    pnm_header *h = &r->header;
    h->kind = (pnm_kind)fixed[3];
    /* The model file is the other pnm format a user may pass by mistake. */
    if (got >= 8 && memcmp(fixed, "PNMMODEL", 8) == 0)
        return reader_error(r, err, "a pnm model, not a stream (models go after -m)");
    if (h->kind != PNM_KIND_TOKENS && h->kind != PNM_KIND_FEATURES &&
        h->kind != PNM_KIND_HIDDEN)
        return reader_error(r, err, "unknown pnm stream kind '%c' (0x%02x) at byte 3", fixed[3] >= 32 && fixed[3] < 127 ? fixed[3] : '?', fixed[3]);
    if (got < (long)sizeof fixed)
        return reader_error(r, err, "truncated stream: header ends at byte offset %ld of %d", got, PNM_HEADER_FIXED_BYTES);
    h->version = pnm_get_u32(fixed + 4);
    if (h->version != PNM_STREAM_VERSION)
        return reader_error(r, err, "pnm stream version %" PRIu32
                             " is not supported (this program reads version %d)", h->version, PNM_STREAM_VERSION);
    h->vocab_id = pnm_get_u64(fixed + 8);
    h->vocab_size = pnm_get_u32(fixed + 16);
    h->max_words = pnm_get_u32(fixed + 20);
    h->features = pnm_get_u32(fixed + 24);
    h->hashes = pnm_get_u32(fixed + 28);
    h->window = pnm_get_u32(fixed + 32);
    h->seed = pnm_get_u64(fixed + 40);
    uint32_t flags = pnm_get_u32(fixed + 36);
    uint32_t table = pnm_get_u32(fixed + 64);
    uint32_t sum = pnm_get_u32(fixed + 68);
    if (h->kind == PNM_KIND_HIDDEN) {
        h->dim = pnm_get_u32(fixed + 48);
        h->seq_len = pnm_get_u32(fixed + 52);
        h->model_id = pnm_get_u64(fixed + 56);
    } else {
        for (int i = 48; i < 64; i++)
            if (fixed[i] != 0)
                return reader_error(r, err, "corrupt header: reserved byte %d is not zero", i);
    }
    if (header_validate(h, flags, table, err))
        return pnm_error_prefix(err, "%s", r->name);
    /* Validated above: table is at most PNM_MAX_PIECE_TABLE. */
    pnm_buf all = {0};
    if (pnm_buf_append(&all, fixed, sizeof fixed) || !pnm_buf_reserve(&all, table)) {
        pnm_buf_free(&all);
        return pnm_error_set(err, "out of memory");
    }
    got = reader_read(r, all.data + all.len, table, err);
    if (got < 0 || (uint32_t)got < table) {
        pnm_buf_free(&all);
        if (got < 0)
            return -1;
        return reader_error(r, err, "truncated stream: piece table ends at byte offset %"
                             PRIu64 " of %u", r->offset, PNM_HEADER_FIXED_BYTES + table);
    }
    all.len += table;
    pnm_put_u32(all.data + 68, 0);
    int rc = 0;
    if (checksum(all.data, all.len) != sum)
        rc = reader_error(r, err, "corrupt header: checksum mismatch in bytes 0..%zu", all.len - 1);
    else if (h->kind == PNM_KIND_TOKENS &&
             piece_table_decode(h, all.data + PNM_HEADER_FIXED_BYTES, table, err))
        rc = pnm_error_prefix(err, "%s", r->name);
    pnm_buf_free(&all);
    return rc;
}

pnm_reader *pnm_reader_open(FILE *f, const char *name, pnm_error *err)
{
    pnm_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->raw = malloc(IO_CHUNK))) {
        free(r);
        pnm_error_set(err, "out of memory");
        return NULL;
    }
    r->f = f;
    snprintf(r->name, sizeof r->name, "%s", name);
    r->raw_len = fread(r->raw, 1, IO_CHUNK, f);
    if (r->raw_len == 0 && ferror(f)) {
        reader_error(r, err, "read error: %s", strerror(errno));
        goto fail;
    }
    static const uint8_t zstd_magic[4] = {0x28, 0xB5, 0x2F, 0xFD};
    if (r->raw_len >= 4 && memcmp(r->raw, zstd_magic, 4) == 0) {
        r->zd = ZSTD_createDCtx();
        r->dec = malloc(ZSTD_DStreamOutSize());
        if (!r->zd || !r->dec) {
            pnm_error_set(err, "out of memory");
            goto fail;
        }
        r->zstd_left = 1;
    }
    if (reader_read_header(r, err))
        goto fail;
    return r;
fail:
    pnm_reader_free(r);
    return NULL;
}

const pnm_header *pnm_reader_header(const pnm_reader *r)
{
    return &r->header;
}

bool pnm_reader_compressed(const pnm_reader *r)
{
    return r->zd != NULL;
}

uint64_t pnm_reader_record_offset(const pnm_reader *r)
{
    return r->record_offset;
}

const char *pnm_reader_name(const pnm_reader *r)
{
    return r->name;
}

uint64_t pnm_reader_records(const pnm_reader *r)
{
    return r->records;
}

/* After the end marker only the end of input may follow. */
static int reader_expect_end(pnm_reader *r, const uint8_t *marker, pnm_error *err)
{
    uint64_t count = pnm_get_u64(marker + 8);
    if (pnm_get_u32(marker + 4) != checksum(marker + 8, 8))
        return reader_error(r, err, "corrupt stream: checksum mismatch in the end marker at"
                          " byte offset %" PRIu64 "", r->record_offset);
    if (count != r->records)
        return reader_error(r, err, "corrupt stream: end marker counts %" PRIu64
                             " records, the stream holds %" PRIu64, count, r->records);
    uint8_t extra;
    long got = reader_read(r, &extra, 1, err);
    if (got < 0)
        return -1;
    if (got > 0)
        return reader_error(r, err, "corrupt stream: data after the end marker at byte offset %"
                          PRIu64 "", r->offset - 1);
    return 0;
}

int pnm_reader_next(pnm_reader *r, const uint8_t **payload, uint32_t *len, pnm_error *err)
{
    uint8_t frame[END_MARKER_BYTES];
    r->record_offset = r->offset;
    long got = reader_read(r, frame, FRAME_BYTES, err);
    if (got < 0)
        return -1;
    if (got < FRAME_BYTES)
        return reader_error(r, err, "truncated stream: no end marker after %" PRIu64
                             " records (input ends at byte offset %" PRIu64 ")", r->records, r->offset);
    uint32_t n = pnm_get_u32(frame), sum = pnm_get_u32(frame + 4);
    if (n == 0) {
        got = reader_read(r, frame + FRAME_BYTES, END_MARKER_BYTES - FRAME_BYTES, err);
        if (got < 0)
            return -1;
        if (got < END_MARKER_BYTES - FRAME_BYTES)
            return reader_error(r, err, "truncated stream: end marker at byte offset %" PRIu64
                              " is cut short", r->record_offset);
        return reader_expect_end(r, frame, err) ? -1 : 0;
    }
    if (n > PNM_MAX_RECORD_BYTES)
        return reader_error(r, err, "corrupt stream: record at byte offset %" PRIu64
                             " claims %" PRIu32 " bytes, above the limit of %u", r->record_offset, n, PNM_MAX_RECORD_BYTES);
    r->payload.len = 0;
    if (!pnm_buf_reserve(&r->payload, n))
        return pnm_error_set(err, "out of memory");
    got = reader_read(r, r->payload.data, n, err);
    if (got < 0)
        return -1;
    if ((uint32_t)got < n)
        return reader_error(r, err, "truncated stream: record at byte offset %" PRIu64
                             " needs %" PRIu32 " bytes, input ends after %ld", r->record_offset, n, got);
    if (checksum(r->payload.data, n) != sum)
        return reader_error(r, err, "corrupt stream: checksum mismatch in record at byte offset %"
                          PRIu64 "", r->record_offset);
    r->records++;
    *payload = r->payload.data;
    *len = n;
    return 1;
}

int pnm_reader_next_decoded(pnm_reader *r, pnm_decode_fn decode, void *out, pnm_error *err)
{
    const uint8_t *p = NULL;
    uint32_t len = 0;
    int rc = pnm_reader_next(r, &p, &len, err);
    if (rc <= 0)
        return rc;
    if (decode(&r->header, p, len, out, err))
        return pnm_error_prefix(err, "%s: corrupt stream: record at byte offset %" PRIu64,
                                r->name, r->record_offset);
    return 1;
}

void pnm_reader_free(pnm_reader *r)
{
    if (!r)
        return;
    pnm_header_free(&r->header);
    ZSTD_freeDCtx(r->zd);
    free(r->raw);
    free(r->dec);
    pnm_buf_free(&r->payload);
    free(r);
}
