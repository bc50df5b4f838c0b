#include "modelfile.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
/* For ZSTD_d_stableOutBuffer (see decompress), in libzstd since 1.4.4. */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "bytes.h"
#include "hash.h"
#include "limits.h"
#include "output.h"
#include "tokens.h"
#include "utf8.h"

#define MAGIC "PNMMODEL"
#define MAGIC_BYTES 8
#define CHECKSUM_BYTES 4
#define ZSTD_LEVEL 3 /* weights barely compress: higher levels only cost time */
#define READ_CHUNK (256u << 10)

static const uint8_t zstd_magic[4] = {0x28, 0xB5, 0x2F, 0xFD};

static uint32_t checksum(const void *p, size_t len)
{
    return (uint32_t)pnm_hash64(p, len, 0);
}

/* ---- names ---------------------------------------------------------------- */

typedef struct name_view {
    const char *s;
    size_t len;
} name_view;

static int name_order(const void *a, const void *b)
{
    const name_view *x = a, *y = b;
    int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Names are printed one per line and in tab-separated columns, and are
 * looked up by string: each must be non-empty UTF-8 without control
 * characters, and unique. what is "label" or "tag". */
static int check_names(const name_view *v, uint32_t n, const char *what, pnm_error *err)
{
    for (uint32_t i = 0; i < n; i++) {
        if (v[i].len == 0)
            return pnm_error_set(err, "%s %" PRIu32 " is empty", what, i);
        if (v[i].len > PNM_MAX_NAME_BYTES)
            return pnm_error_set(err, "%s %" PRIu32 " is %zu bytes long, above the limit of %u",
                                 what, i, v[i].len, PNM_MAX_NAME_BYTES);
        if (pnm_utf8_find_invalid(v[i].s, v[i].len) != v[i].len)
            return pnm_error_set(err, "%s %" PRIu32 " is not valid UTF-8", what, i);
        for (size_t k = 0; k < v[i].len; k++) {
            unsigned char c = (unsigned char)v[i].s[k];
            if (c < 0x20 || c == 0x7F)
                return pnm_error_set(err, "%s %" PRIu32 " contains the control character 0x%02x",
                                     what, i, c);
        }
    }
    if (n < 2)
        return 0;
    name_view *sorted = malloc(n * sizeof *sorted);
    if (!sorted)
        return pnm_error_set(err, "out of memory");
    memcpy(sorted, v, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, name_order);
    int rc = 0;
    for (uint32_t i = 1; i < n && rc == 0; i++)
        if (name_order(&sorted[i - 1], &sorted[i]) == 0)
            rc = pnm_error_set(err, "%s \"%.*s\" appears twice", what,
                               (int)(sorted[i].len < 200 ? sorted[i].len : 200), sorted[i].s);
    free(sorted);
    return rc;
}

/* A NULL-terminated array of n owned copies. */
static char **copy_names(const name_view *v, uint32_t n)
{
    char **out = calloc((size_t)n + 1, sizeof *out);
    for (uint32_t i = 0; out && i < n; i++) {
        out[i] = malloc(v[i].len + 1);
        if (!out[i]) {
            for (uint32_t k = 0; k < i; k++)
                free(out[k]);
            free(out);
            return NULL;
        }
        memcpy(out[i], v[i].s, v[i].len);
        out[i][v[i].len] = '\0';
    }
    return out;
}

static void free_names(char **names)
{
    for (size_t i = 0; names && names[i]; i++)
        free(names[i]);
    free(names);
}

static name_view *views_of(const char *const *names, uint32_t n, pnm_error *err)
{
    name_view *v = malloc(((size_t)n + 1) * sizeof *v);
    if (!v) {
        pnm_error_set(err, "out of memory");
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++)
        v[i] = (name_view){names[i], strlen(names[i])};
    return v;
}

static size_t names_bytes(const name_view *v, uint32_t n)
{
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++)
        total += 2 + v[i].len;
    return total;
}

/* ---- construction --------------------------------------------------------- */

void pnm_model_free(pnm_model *m)
{
    if (!m)
        return;
    free_names(m->labels);
    free_names(m->tags);
    free(m->vocab);
    pnm_sp_free(m->sp);
    free(m->params);
    pnm_qweights_free(m->qw);
    free(m);
}

/* Validates and copies everything but the weights (which start at zero);
 * shared by pnm_model_new and the loader. */
/* With alloc_params false, m->params stays NULL for the caller to set and
 * bind (a loader that turns the file's buffer into the weights). */
static pnm_model *model_create(const pnm_config *c, const name_view *labels,
                               const name_view *tags, const void *vocab, size_t vocab_len,
                               bool alloc_params, pnm_error *err)
{
    if (pnm_config_check(c, err))
        return NULL;
    if (check_names(labels, c->n_labels, "label", err) ||
        check_names(tags, c->n_tags, "tag", err))
        return NULL;
    if (vocab_len == 0) {
        pnm_error_set(err, "no vocabulary");
        return NULL;
    }
    size_t count = pnm_params_count(c);
    uint64_t body = PNM_MODEL_HEADER_BYTES + names_bytes(labels, c->n_labels) +
                    names_bytes(tags, c->n_tags) + 4 + (uint64_t)vocab_len + 8 +
                    4 * (uint64_t)count + CHECKSUM_BYTES;
    if (body > PNM_MAX_MODEL_BYTES) {
        pnm_error_set(err, "the model would take %" PRIu64 " bytes, above the limit of %u",
                      body, PNM_MAX_MODEL_BYTES);
        return NULL;
    }
    pnm_model *m = calloc(1, sizeof *m);
    if (!m) {
        pnm_error_set(err, "out of memory");
        return NULL;
    }
    m->config = *c;
    m->sp = pnm_sp_load_bytes(vocab, vocab_len, err);
    if (!m->sp) {
        pnm_error_prefix(err, "vocabulary");
        goto fail;
    }
    if (pnm_sp_vocab_size(m->sp) > PNM_MAX_VOCAB) {
        pnm_error_set(err, "vocabulary of %" PRIu32 " pieces is above the limit of %u",
                      pnm_sp_vocab_size(m->sp), PNM_MAX_VOCAB);
        goto fail;
    }
    m->labels = copy_names(labels, c->n_labels);
    m->tags = copy_names(tags, c->n_tags);
    m->vocab = malloc(vocab_len);
    m->vocab_len = vocab_len;
    m->params = alloc_params ? calloc(count ? count : 1, sizeof *m->params) : NULL;
    if (!m->labels || !m->tags || !m->vocab || (alloc_params && !m->params)) {
        pnm_error_set(err, "out of memory");
        goto fail;
    }
    memcpy(m->vocab, vocab, vocab_len);
    if (alloc_params)
        pnm_params_bind(&m->p, &m->config, m->params);
    return m;
fail:
    pnm_model_free(m);
    return NULL;
}

pnm_model *pnm_model_new(const pnm_config *c, const char *const *labels,
                         const char *const *tags, const void *vocab, size_t vocab_len,
                         pnm_error *err)
{
    if ((c->n_labels && !labels) || (c->n_tags && !tags)) {
        pnm_error_set(err, "%s names are missing", c->n_labels && !labels ? "label" : "tag");
        return NULL;
    }
    name_view *lv = views_of(labels, c->n_labels, err);
    name_view *tv = lv ? views_of(tags, c->n_tags, err) : NULL;
    pnm_model *m = tv ? model_create(c, lv, tv, vocab, vocab_len, true, err) : NULL;
    free(lv);
    free(tv);
    return m;
}

pnm_model *pnm_model_quantize(const pnm_model *f, bool tags, pnm_error *err)
{
    if (f->qw) {
        pnm_error_set(err, "the model is int8 already");
        return NULL;
    }
    const pnm_config *c = &f->config;
    pnm_model *m = pnm_model_new(c, (const char *const *)f->labels,
                                 (const char *const *)f->tags, f->vocab, f->vocab_len, err);
    if (!m)
        return NULL;
    tags = tags && c->n_tags;
    size_t count = pnm_params_count_unquantized(c, tags);
    float *kept = malloc((count ? count : 1) * sizeof *kept);
    m->qw = kept ? pnm_qweights_quantize(c, &f->p, tags, err) : NULL;
    if (!m->qw) {
        if (!kept)
            pnm_error_set(err, "out of memory");
        free(kept);
        pnm_model_free(m);
        return NULL;
    }
    free(m->params);
    m->params = kept;
    pnm_params_bind_unquantized(&m->p, c, tags, m->params);
    pnm_params_copy_unquantized(m->params, f->params, c, tags);
    return m;
}

/* ---- saving --------------------------------------------------------------- */

static uint8_t *put_names(uint8_t *p, char *const *names, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        pnm_put_u16(p, (uint16_t)len);
        memcpy(p + 2, names[i], len);
        p += 2 + len;
    }
    return p;
}

/* The uncompressed body, laid out as pnm-model(5) says. */
int pnm_model_encode(const pnm_model *m, pnm_buf *out, pnm_error *err)
{
    const pnm_config *c = &m->config;
    bool int8_tags = m->qw && m->qw->tags;
    size_t count = m->qw ? pnm_params_count_unquantized(c, int8_tags) : pnm_params_count(c);
    size_t qbytes = m->qw ? pnm_qweights_bytes(c, int8_tags) : 0;
    for (size_t i = 0; i < count; i++)
        if (!isfinite(m->params[i]))
            return pnm_error_set(err, "parameter %zu is not finite (%g): the model diverged",
                                 i, (double)m->params[i]);
    size_t names = 0;
    for (uint32_t i = 0; i < c->n_labels; i++)
        names += 2 + strlen(m->labels[i]);
    for (uint32_t i = 0; i < c->n_tags; i++)
        names += 2 + strlen(m->tags[i]);
    size_t len = PNM_MODEL_HEADER_BYTES + names + 4 + m->vocab_len + 8 + 4 * count + qbytes +
                 CHECKSUM_BYTES;
    out->len = 0;
    uint8_t *p = pnm_buf_reserve(out, len), *start = p;
    if (!p)
        return pnm_error_set(err, "out of memory");
    memcpy(p, MAGIC, MAGIC_BYTES);
    pnm_put_u32(p + 8, PNM_MODEL_VERSION);
    pnm_put_u32(p + 12, PNM_MODEL_HEADER_BYTES);
    pnm_put_u32(p + 16, c->projection.features);
    pnm_put_u32(p + 20, c->projection.hashes);
    pnm_put_u32(p + 24, c->projection.window);
    pnm_put_u64(p + 28, c->projection.seed);
    pnm_put_u32(p + 36, c->seq_len);
    pnm_put_u32(p + 40, c->bottleneck);
    pnm_put_u32(p + 44, c->token_hidden);
    pnm_put_u32(p + 48, c->channel_hidden);
    pnm_put_u32(p + 52, c->layers);
    pnm_put_u32(p + 56, c->n_labels);
    pnm_put_u32(p + 60, c->n_tags);
    pnm_put_u32(p + 64, (c->tag_sentence ? PNM_MODEL_OPTION_TAG_SENTENCE : 0) |
                            (c->crf ? PNM_MODEL_OPTION_CRF : 0) |
                            (m->qw ? PNM_MODEL_OPTION_INT8 : 0) |
                            (int8_tags ? PNM_MODEL_OPTION_INT8_TAGS : 0));
    p += PNM_MODEL_HEADER_BYTES;
    p = put_names(p, m->labels, c->n_labels);
    p = put_names(p, m->tags, c->n_tags);
    pnm_put_u32(p, (uint32_t)m->vocab_len);
    memcpy(p + 4, m->vocab, m->vocab_len);
    p += 4 + m->vocab_len;
    pnm_put_u64(p, count);
    p += 8;
    for (size_t i = 0; i < count; i++, p += 4) {
        uint32_t bits;
        memcpy(&bits, &m->params[i], 4);
        pnm_put_u32(p, bits);
    }
    if (m->qw)
        pnm_qweights_encode(m->qw, p);
    p += qbytes;
    pnm_put_u32(p, checksum(start, len - CHECKSUM_BYTES));
    out->len = len;
    return 0;
}

/* One zstd frame with the content size and checksum; the first block holds
 * the header alone, so that pnm_model_sniff can read the magic from the
 * first bytes of the file. */
static int compress_body(const pnm_buf *body, pnm_buf *out, pnm_error *err)
{
    ZSTD_CCtx *zc = ZSTD_createCCtx();
    out->len = 0;
    size_t cap = ZSTD_compressBound(body->len) + 64;
    if (!zc || !pnm_buf_reserve(out, cap)) {
        ZSTD_freeCCtx(zc);
        return pnm_error_set(err, "out of memory");
    }
    size_t rc = ZSTD_CCtx_setParameter(zc, ZSTD_c_compressionLevel, ZSTD_LEVEL);
    if (!ZSTD_isError(rc))
        rc = ZSTD_CCtx_setParameter(zc, ZSTD_c_checksumFlag, 1);
    if (!ZSTD_isError(rc))
        rc = ZSTD_CCtx_setPledgedSrcSize(zc, body->len);
    ZSTD_outBuffer o = {out->data, cap, 0};
    ZSTD_inBuffer head = {body->data, PNM_MODEL_HEADER_BYTES, 0};
    while (!ZSTD_isError(rc) && (rc = ZSTD_compressStream2(zc, &o, &head, ZSTD_e_flush)) != 0)
        ;
    ZSTD_inBuffer rest = {body->data, body->len, PNM_MODEL_HEADER_BYTES};
    while (!ZSTD_isError(rc) && (rc = ZSTD_compressStream2(zc, &o, &rest, ZSTD_e_end)) != 0)
        ;
    ZSTD_freeCCtx(zc);
    if (ZSTD_isError(rc))
        return pnm_error_set(err, "zstd: %s", ZSTD_getErrorName(rc));
    out->len = o.pos;
    return 0;
}

int pnm_frame_save(const pnm_buf *body, const char *path, pnm_error *err)
{
    pnm_buf z = {0};
    int rc = -1;
    if (compress_body(body, &z, err))
        goto done;
    pnm_output o;
    if (pnm_output_open(&o, path, err))
        goto done;
    if (fwrite(z.data, 1, z.len, o.f) != z.len) {
        pnm_error_set(err, "%s: write error: %s", path, strerror(errno));
        pnm_output_abort(&o);
        goto done;
    }
    rc = pnm_output_commit(&o, err);
done:
    pnm_buf_free(&z);
    return rc;
}

int pnm_model_save(pnm_model *m, const char *path, pnm_error *err)
{
    pnm_buf body = {0};
    int rc = pnm_model_encode(m, &body, err) || pnm_frame_save(&body, path, err) ? -1 : 0;
    if (rc == 0)
        m->id = pnm_hash64(body.data, body.len, 0);
    pnm_buf_free(&body);
    return rc;
}

/* ---- loading -------------------------------------------------------------- */

static const pnm_frame_kind model_kind = {MAGIC, PNM_MAX_MODEL_BYTES, "model"};

/* "corrupt WHAT: message"; what is a pnm_frame_kind's. */
__attribute__((format(printf, 3, 4)))
static int corrupt_what(pnm_error *err, const char *what, const char *fmt, ...)
{
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return pnm_error_set(err, "corrupt %s: %s", what, msg);
}
#define corrupt(err, ...) corrupt_what(err, "model", __VA_ARGS__)

/* The compressed bytes: in.src[0..in.size) first, then, when f is not
 * NULL, the rest of f, read into chunk as the frame needs it (so a model
 * file and its body are never in memory whole at once). total is the size
 * of the whole input. */
typedef struct zinput {
    ZSTD_inBuffer in;
    FILE *f;
    uint8_t *chunk;
    size_t total, before; /* before: bytes of the chunks used up */
} zinput;

/* Refills in once it is used up; false at the end of the input. */
static bool zinput_more(zinput *z)
{
    if (z->in.pos < z->in.size)
        return true;
    if (!z->f)
        return false;
    z->before += z->in.size;
    z->in = (ZSTD_inBuffer){z->chunk, fread(z->chunk, 1, READ_CHUNK, z->f), 0};
    return z->in.size > 0;
}

/* Decompresses the one zstd frame that the input must be, refusing more
 * than k->limit bytes: a frame that states its size is checked before the
 * allocation, one that does not is decompressed into a buffer that grows
 * up to the limit. */
static int decompress(zinput *z, const pnm_frame_kind *k, pnm_buf *body, pnm_error *err)
{
    const size_t limit = k->limit, len = z->total;
    unsigned long long known = ZSTD_getFrameContentSize(z->in.src, z->in.size);
    if (known == ZSTD_CONTENTSIZE_ERROR)
        return corrupt_what(err, k->what, "truncated or invalid zstd frame header");
    if (known != ZSTD_CONTENTSIZE_UNKNOWN && known > limit)
        return corrupt_what(err, k->what, "%llu bytes uncompressed, above the limit of %zu",
                            known, limit);
    /* Nor can the frame make more than ZSTD_BLOCKSIZE_MAX bytes of each 4 it
     * holds (an RLE block: a 3-byte header and the byte): a 20-byte file
     * that claims 1 GiB is refused here, not given 1 GiB (found by fuzzing). */
    if (known != ZSTD_CONTENTSIZE_UNKNOWN && known / (ZSTD_BLOCKSIZE_MAX / 4) > len)
        return corrupt_what(err, k->what, "a zstd frame of %zu bytes cannot hold the %llu"
                            " bytes it claims", len, known);
    /* One byte more than a stated size: the buffer never fills, since zstd
     * itself refuses content longer than stated. */
    size_t cap = known != ZSTD_CONTENTSIZE_UNKNOWN ? (size_t)known + 1
                 : len < limit / 4 ? 4 * len : limit;
    ZSTD_DCtx *zd = ZSTD_createDCtx();
    body->len = 0;
    if (!zd || !pnm_buf_reserve(body, cap)) {
        ZSTD_freeDCtx(zd);
        return pnm_error_set(err, "out of memory");
    }
    ZSTD_outBuffer out = {body->data, cap, 0};
    int rc = 0;
    /* A body of stated size never moves, so zstd may decode straight into it
     * instead of through a window buffer of its own (2 MiB for a BASE
     * model): less peak memory in every program that loads a model. */
    if (known != ZSTD_CONTENTSIZE_UNKNOWN) {
        size_t set = ZSTD_DCtx_setParameter(zd, ZSTD_d_stableOutBuffer, 1);
        if (ZSTD_isError(set)) {
            ZSTD_freeDCtx(zd);
            return pnm_error_set(err, "zstd: %s", ZSTD_getErrorName(set));
        }
    }
    for (;;) {
        size_t left = ZSTD_decompressStream(zd, &out, &z->in);
        if (ZSTD_isError(left)) {
            rc = corrupt_what(err, k->what, "zstd: %s", ZSTD_getErrorName(left));
            break;
        }
        /* Something else compressed (a pnm stream, say): say so early. */
        if (out.pos >= MAGIC_BYTES && memcmp(body->data, k->magic, MAGIC_BYTES) != 0) {
            rc = pnm_error_set(err, "not a pnm %s", k->what);
            break;
        }
        if (left == 0) {
            if (zinput_more(z))
                rc = corrupt_what(err, k->what, "%zu bytes after the zstd frame",
                                  len - z->before - z->in.pos);
            break;
        }
        if (out.pos < out.size) {
            if (!zinput_more(z)) {
                rc = corrupt_what(err, k->what, "truncated zstd data");
                break;
            }
            continue;
        }
        /* Output full, frame not done: grow, up to one byte past the limit. */
        if (out.size > limit) {
            rc = corrupt_what(err, k->what, "more than %zu bytes uncompressed", limit);
            break;
        }
        size_t grow = out.size < (limit + 1) / 2 ? 2 * out.size + 1 : limit + 1;
        body->len = out.pos;
        if (!pnm_buf_reserve(body, grow - out.pos)) {
            rc = pnm_error_set(err, "out of memory");
            break;
        }
        out.dst = body->data;
        out.size = grow;
    }
    ZSTD_freeDCtx(zd);
    body->len = out.pos;
    return rc;
}

/* Reads the body front to back; every take checks the bytes left. */
typedef struct cursor {
    const uint8_t *p;
    size_t len, at;
} cursor;

static const uint8_t *take(cursor *c, size_t n)
{
    if (n > c->len - c->at)
        return NULL;
    c->at += n;
    return c->p + c->at - n;
}

static int take_names(cursor *c, name_view *v, uint32_t n, const char *what, pnm_error *err)
{
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *q = take(c, 2);
        size_t len = q ? pnm_get_u16(q) : 0;
        const uint8_t *s = q ? take(c, len) : NULL;
        if (!s)
            return corrupt(err, "the body ends inside %s %" PRIu32, what, i);
        v[i] = (name_view){(const char *)s, len};
    }
    return 0;
}

/* pnm_model_decode; with own (whose data is body), the weights are decoded
 * into own's buffer, which the model then keeps: a loaded model never holds
 * its body and a copy of its weights at once (peak memory). */
static pnm_model *decode(const uint8_t *b, size_t len, pnm_buf *own, pnm_error *err)
{
    if (len < MAGIC_BYTES || memcmp(b, MAGIC, MAGIC_BYTES) != 0) {
        pnm_error_set(err, "not a pnm model");
        return NULL;
    }
    if (len < 12) {
        corrupt(err, "the body ends inside the header");
        return NULL;
    }
    uint32_t version = pnm_get_u32(b + 8);
    if (version != 1 && version != PNM_MODEL_VERSION) {
        pnm_error_set(err, "model version %" PRIu32 " is not supported (this program reads"
                      " versions 1 and %d)", version, PNM_MODEL_VERSION);
        return NULL;
    }
    /* Version 1 is version 2 without the options word (all options off). */
    uint32_t expect = version == 1 ? PNM_MODEL_V1_HEADER_BYTES : PNM_MODEL_HEADER_BYTES;
    if (len < expect + CHECKSUM_BYTES) {
        corrupt(err, "body of %zu bytes is too short", len);
        return NULL;
    }
    uint32_t header = pnm_get_u32(b + 12);
    if (header != expect) {
        corrupt(err, "header of %" PRIu32 " bytes, expected %" PRIu32, header, expect);
        return NULL;
    }
    uint32_t options = version == 1 ? 0 : pnm_get_u32(b + 64);
    const uint32_t known_options = PNM_MODEL_OPTION_TAG_SENTENCE | PNM_MODEL_OPTION_CRF |
                                   PNM_MODEL_OPTION_INT8 | PNM_MODEL_OPTION_INT8_TAGS;
    if (options & ~known_options) {
        corrupt(err, "unknown options 0x%" PRIx32, options);
        return NULL;
    }
    uint32_t sum = pnm_get_u32(b + len - CHECKSUM_BYTES);
    if (checksum(b, len - CHECKSUM_BYTES) != sum) {
        corrupt(err, "checksum mismatch");
        return NULL;
    }
    pnm_config c = {
        .projection = {pnm_get_u32(b + 16), pnm_get_u32(b + 20), pnm_get_u32(b + 24),
                       pnm_get_u64(b + 28)},
        .seq_len = pnm_get_u32(b + 36),
        .bottleneck = pnm_get_u32(b + 40),
        .token_hidden = pnm_get_u32(b + 44),
        .channel_hidden = pnm_get_u32(b + 48),
        .layers = pnm_get_u32(b + 52),
        .n_labels = pnm_get_u32(b + 56),
        .n_tags = pnm_get_u32(b + 60),
        .tag_sentence = (options & PNM_MODEL_OPTION_TAG_SENTENCE) != 0,
        .crf = (options & PNM_MODEL_OPTION_CRF) != 0,
    };
    /* The configuration bounds the name counts (and so these arrays). */
    if (pnm_config_check(&c, err)) {
        pnm_error_prefix(err, "corrupt model");
        return NULL;
    }
    bool int8 = options & PNM_MODEL_OPTION_INT8;
    bool int8_tags = options & PNM_MODEL_OPTION_INT8_TAGS;
    if (int8_tags && (!int8 || c.n_tags == 0)) {
        corrupt(err, "an int8 tagging head (option bit 3) needs int8 weights (bit 2) and tags");
        return NULL;
    }
    cursor cur = {b, len - CHECKSUM_BYTES, header};
    pnm_model *m = NULL;
    name_view *labels = malloc(((size_t)c.n_labels + 1) * sizeof *labels);
    name_view *tags = malloc(((size_t)c.n_tags + 1) * sizeof *tags);
    if (!labels || !tags) {
        pnm_error_set(err, "out of memory");
        goto done;
    }
    if (take_names(&cur, labels, c.n_labels, "label", err) ||
        take_names(&cur, tags, c.n_tags, "tag", err))
        goto done;
    const uint8_t *q = take(&cur, 4);
    size_t vocab_len = q ? pnm_get_u32(q) : 0;
    const uint8_t *vocab = q ? take(&cur, vocab_len) : NULL;
    if (!vocab) {
        corrupt(err, "the body ends inside the vocabulary");
        goto done;
    }
    size_t count = int8 ? pnm_params_count_unquantized(&c, int8_tags) : pnm_params_count(&c);
    size_t qbytes = int8 ? pnm_qweights_bytes(&c, int8_tags) : 0;
    q = take(&cur, 8);
    if (!q) {
        corrupt(err, "the body ends before the parameters");
        goto done;
    }
    uint64_t stored = pnm_get_u64(q);
    if (stored != count) {
        corrupt(err, "%" PRIu64 " parameters, the configuration has %zu", stored, count);
        goto done;
    }
    size_t left = cur.len - cur.at;
    if (left / 4 < count || left - 4 * count < qbytes) {
        corrupt(err, "the body ends inside the parameters");
        goto done;
    }
    if (left != 4 * count + qbytes) {
        corrupt(err, "%zu stray bytes after the parameters", left - 4 * count - qbytes);
        goto done;
    }
    const uint8_t *w = take(&cur, 4 * count), *qw = take(&cur, qbytes);
    uint64_t id = pnm_hash64(b, len, 0); /* before own's bytes are overwritten */
    m = model_create(&c, labels, tags, vocab, vocab_len, own == NULL && !int8, err);
    if (!m) {
        pnm_error_prefix(err, "corrupt model");
        goto done;
    }
    /* The int8 matrices are copied out before own's floats move down. */
    int bad = 0;
    if (int8 && !(m->qw = pnm_qweights_decode(&c, qw, int8_tags, err)))
        bad = pnm_error_prefix(err, "corrupt model");
    else if (int8 && !own && !(m->params = malloc((count ? count : 1) * sizeof *m->params)))
        bad = pnm_error_set(err, "out of memory");
    if (bad) {
        pnm_model_free(m);
        m = NULL;
        goto done;
    }
    /* In own's buffer, weight i moves from w + 4i down to 4i: it is read
     * before anything is written over it. */
    float *params = own ? (float *)(void *)own->data : m->params;
    for (size_t i = 0; i < count; i++) {
        uint32_t bits = pnm_get_u32(w + 4 * i);
        memcpy(&params[i], &bits, 4);
        if (!isfinite(params[i])) {
            corrupt(err, "parameter %zu is not finite", i);
            pnm_model_free(m);
            m = NULL;
            goto done;
        }
    }
    if (own) {
        float *fit = realloc(own->data, (count ? count : 1) * sizeof *fit);
        m->params = fit ? fit : params; /* a failed shrink keeps the larger block */
        *own = (pnm_buf){0};
    }
    if (int8)
        pnm_params_bind_unquantized(&m->p, &m->config, int8_tags, m->params);
    else if (own)
        pnm_params_bind(&m->p, &m->config, m->params);
    m->id = id;
done:
    free(labels);
    free(tags);
    return m;
}

pnm_model *pnm_model_decode(const void *body, size_t len, pnm_error *err)
{
    return decode(body, len, NULL, err);
}

/* The body of data, which must be one zstd frame of kind k. */
static int frame_open(const void *data, size_t len, const pnm_frame_kind *k, pnm_buf *body,
                      pnm_error *err)
{
    if (len < sizeof zstd_magic || memcmp(data, zstd_magic, sizeof zstd_magic) != 0)
        return pnm_error_set(err, "not a pnm %s", k->what);
    zinput z = {{data, len, 0}, NULL, NULL, len, 0};
    return decompress(&z, k, body, err);
}

pnm_model *pnm_model_load_bytes(const void *data, size_t len, pnm_error *err)
{
    pnm_buf body = {0};
    pnm_model *m = NULL;
    if (frame_open(data, len, &model_kind, &body, err) == 0)
        m = decode(body.data, body.len, &body, err);
    pnm_buf_free(&body);
    return m;
}

int pnm_frame_load(const char *path, const pnm_frame_kind *k, pnm_buf *body, pnm_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return pnm_error_set(err, "%s: %s", path, strerror(errno));
    /* Nothing larger can be of this kind: zstd's bound for the largest body. */
    size_t limit = ZSTD_compressBound(k->limit);
    struct stat st;
    bool regular = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
    pnm_buf data = {0};
    int rc = -1;
    /* A regular file says its size, which bounds what its frame may claim:
     * it is decompressed as it is read. Anything else is read whole first. */
    for (;;) {
        if (!pnm_buf_reserve(&data, READ_CHUNK)) {
            pnm_error_set(err, "%s: out of memory", path);
            goto done;
        }
        size_t got = fread(data.data + data.len, 1, READ_CHUNK, f);
        data.len += got;
        if (data.len >= sizeof zstd_magic &&
            memcmp(data.data, zstd_magic, sizeof zstd_magic) != 0)
            break; /* not of this kind: no need to read on */
        if (data.len > limit || (regular && (uint64_t)st.st_size > limit)) {
            pnm_error_set(err, "%s: corrupt %s: more than %zu bytes", path, k->what, limit);
            goto done;
        }
        if (got < READ_CHUNK || regular)
            break;
    }
    if (ferror(f)) {
        pnm_error_set(err, "%s: read error: %s", path, strerror(errno));
        goto done;
    }
    if (data.len < sizeof zstd_magic || memcmp(data.data, zstd_magic, sizeof zstd_magic) != 0) {
        pnm_error_set(err, "%s: not a pnm %s", path, k->what);
        goto done;
    }
    zinput z = {{data.data, data.len, 0}, regular ? f : NULL, data.data,
                regular ? (size_t)st.st_size : data.len, 0};
    rc = decompress(&z, k, body, err);
    if (ferror(f))
        rc = pnm_error_set(err, "read error: %s", strerror(errno));
    if (rc)
        pnm_error_prefix(err, "%s", path);
done:
    fclose(f);
    pnm_buf_free(&data);
    return rc;
}

pnm_model *pnm_model_load(const char *path, pnm_error *err)
{
    pnm_buf body = {0};
    pnm_model *m = NULL;
    if (pnm_frame_load(path, &model_kind, &body, err) == 0 &&
        !(m = decode(body.data, body.len, &body, err)))
        pnm_error_prefix(err, "%s", path);
    pnm_buf_free(&body);
    return m;
}

/* ---- sniffing and headers -------------------------------------------------- */

bool pnm_model_sniff(const void *data, size_t len)
{
    if (len < sizeof zstd_magic || memcmp(data, zstd_magic, sizeof zstd_magic) != 0)
        return false;
    ZSTD_DCtx *zd = ZSTD_createDCtx();
    if (!zd)
        return false;
    uint8_t head[MAGIC_BYTES];
    ZSTD_inBuffer in = {data, len, 0};
    ZSTD_outBuffer out = {head, sizeof head, 0};
    while (out.pos < out.size) {
        size_t before = in.pos, had = out.pos;
        size_t left = ZSTD_decompressStream(zd, &out, &in);
        if (ZSTD_isError(left) || left == 0 || (in.pos == before && out.pos == had))
            break;
    }
    ZSTD_freeDCtx(zd);
    return out.pos == sizeof head && memcmp(head, MAGIC, MAGIC_BYTES) == 0;
}

int pnm_model_features_header(const pnm_model *m, pnm_header *h, pnm_error *err)
{
    (void)err; /* nothing can fail yet; kept for callers' uniformity */
    memset(h, 0, sizeof *h);
    h->kind = PNM_KIND_FEATURES;
    h->version = PNM_STREAM_VERSION;
    h->vocab_id = pnm_hash64(m->vocab, m->vocab_len, 0);
    h->vocab_size = pnm_sp_vocab_size(m->sp);
    h->features = m->config.projection.features;
    h->hashes = m->config.projection.hashes;
    h->window = m->config.projection.window;
    h->seed = m->config.projection.seed;
    return 0;
}

int pnm_model_tokens_header(const pnm_model *m, uint32_t max_words, pnm_header *h,
                            pnm_error *err)
{
    return pnm_tokens_header(m->sp, max_words, h, err);
}

int pnm_model_hidden_header(const pnm_model *m, pnm_header *h, pnm_error *err)
{
    if (pnm_model_features_header(m, h, err))
        return -1;
    h->kind = PNM_KIND_HIDDEN;
    h->dim = m->config.bottleneck;
    h->seq_len = m->config.seq_len;
    h->model_id = m->id;
    return 0;
}
