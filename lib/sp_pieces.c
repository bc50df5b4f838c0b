/* A vocabulary as the programs that do not tokenize need it: its pieces,
 * read from the serialized model (a protobuf ModelProto) here, in C.
 * SentencePiece itself, which builds a normalizer and a trie from the same
 * bytes, is loaded by lib/sp_encode.cc the first time something is
 * encoded: pnm-project, pnm-mix and pnm-classify never do, and so neither
 * link libsentencepiece and the C++ runtime (about 1.7 ms of every start)
 * nor build the trie (about 4 million instructions a load). */
#include "sp_encoder.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "hash.h"

/* sentencepiece_model.proto: ModelProto.pieces is field 1; in a
 * SentencePiece message, piece is field 1 and type field 3. */
#define MODEL_PIECES 1
#define PIECE_STRING 1
#define PIECE_TYPE 3
#define TYPE_NORMAL 1
#define TYPE_UNKNOWN 2

enum { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5 };

struct pnm_sp {
    unsigned char *bytes; /* the serialized model */
    size_t len;
    uint64_t id;
    uint32_t n_pieces, unk_id;
    uint32_t *piece_at, *piece_len; /* each piece string, in bytes */
    /* The encoder (sp_encoder.h): built once, on first use, under lock;
     * read without it once set. */
    pthread_mutex_t lock;
    _Atomic(void *) encoder;
    void (*encoder_free)(void *);
};

/* Reads a varint at *p; false when it is malformed or runs past end. */
static bool read_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
        unsigned char b = *(*p)++;
        x |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

/* Reads a field's tag; a field number of 0 is malformed. */
static bool read_tag(const unsigned char **p, const unsigned char *end, uint64_t *field,
                     unsigned *wire)
{
    uint64_t tag;
    if (!read_varint(p, end, &tag) || tag >> 3 == 0)
        return false;
    *field = tag >> 3, *wire = (unsigned)(tag & 7);
    return true;
}

/* Steps over a value of wire type wire; a length-delimited value's bytes
 * are left in *at and *len. Groups (wire types 3 and 4, deprecated) are no
 * part of a SentencePiece model: malformed here. */
static bool skip_value(const unsigned char **p, const unsigned char *end, unsigned wire,
                       const unsigned char **at, uint64_t *len)
{
    uint64_t v;
    switch (wire) {
    case WIRE_VARINT:
        return read_varint(p, end, &v);
    case WIRE_I64:
    case WIRE_I32:
        v = wire == WIRE_I64 ? 8 : 4;
        break;
    case WIRE_LEN:
        if (!read_varint(p, end, &v))
            return false;
        break;
    default:
        return false;
    }
    if (v > (uint64_t)(end - *p))
        return false;
    *at = *p, *len = v;
    *p += v;
    return true;
}

/* One SentencePiece message: its piece string and type (protobuf: the last
 * occurrence of a field wins; type defaults to NORMAL). */
static bool read_piece(const unsigned char *p, const unsigned char *end,
                       const unsigned char **piece, uint64_t *piece_len, uint64_t *type)
{
    *piece = p, *piece_len = 0, *type = TYPE_NORMAL;
    while (p < end) {
        uint64_t field;
        unsigned wire;
        if (!read_tag(&p, end, &field, &wire))
            return false;
        if (field == PIECE_TYPE && wire == WIRE_VARINT) {
            if (!read_varint(&p, end, type))
                return false;
            continue;
        }
        const unsigned char *at;
        uint64_t len;
        if (!skip_value(&p, end, wire, &at, &len))
            return false;
        if (field == PIECE_STRING && wire == WIRE_LEN)
            *piece = at, *piece_len = len;
    }
    return true;
}

static int add_piece(pnm_sp *sp, size_t *cap, size_t at, size_t len, pnm_error *err)
{
    if (sp->n_pieces == *cap) {
        size_t n = *cap ? 2 * *cap : 1024;
        uint32_t *a = realloc(sp->piece_at, n * sizeof *a);
        if (a)
            sp->piece_at = a;
        uint32_t *l = a ? realloc(sp->piece_len, n * sizeof *l) : NULL;
        if (!l)
            return pnm_error_set(err, "out of memory");
        sp->piece_len = l, *cap = n;
    }
    sp->piece_at[sp->n_pieces] = (uint32_t)at;
    sp->piece_len[sp->n_pieces++] = (uint32_t)len;
    return 0;
}

/* Finds the pieces, and checks what SentencePiece checks of them when it
 * loads a model: no empty piece, exactly one unknown piece. */
static int read_pieces(pnm_sp *sp, pnm_error *err)
{
    const unsigned char *p = sp->bytes, *end = sp->bytes + sp->len;
    size_t cap = 0;
    bool have_unk = false;
    if (sp->len > UINT32_MAX)
        return pnm_error_set(err, "not a SentencePiece model (%zu bytes)", sp->len);
    while (p < end) {
        uint64_t field, len, type;
        unsigned wire;
        const unsigned char *at, *piece;
        if (!read_tag(&p, end, &field, &wire) || !skip_value(&p, end, wire, &at, &len))
            return pnm_error_set(err, "not a SentencePiece model (malformed at byte %zu)",
                                 (size_t)(p - sp->bytes));
        if (field != MODEL_PIECES || wire != WIRE_LEN)
            continue;
        if (!read_piece(at, at + len, &piece, &len, &type))
            return pnm_error_set(err, "not a SentencePiece model (piece %" PRIu32
                                 " is malformed)", sp->n_pieces);
        if (len == 0)
            return pnm_error_set(err, "not a SentencePiece model (piece %" PRIu32
                                 " is empty)", sp->n_pieces);
        if (type == TYPE_UNKNOWN) {
            if (have_unk)
                return pnm_error_set(err, "not a SentencePiece model (a second unknown"
                                     " piece, %" PRIu32 ")", sp->n_pieces);
            have_unk = true, sp->unk_id = sp->n_pieces;
        }
        if (add_piece(sp, &cap, (size_t)(piece - sp->bytes), len, err))
            return -1;
    }
    if (sp->n_pieces == 0)
        return pnm_error_set(err, "not a SentencePiece model (no pieces)");
    if (!have_unk)
        return pnm_error_set(err, "not a SentencePiece model (no unknown piece)");
    return 0;
}

pnm_sp *pnm_sp_load_bytes(const void *data, size_t len, pnm_error *err)
{
    pnm_sp *sp = calloc(1, sizeof *sp);
    if (!sp || !(sp->bytes = malloc(len ? len : 1))) {
        free(sp);
        pnm_error_set(err, "out of memory");
        return NULL;
    }
    if (len) /* data may be NULL then: an empty file */
        memcpy(sp->bytes, data, len);
    sp->len = len;
    pthread_mutex_init(&sp->lock, NULL);
    atomic_init(&sp->encoder, NULL);
    if (read_pieces(sp, err)) {
        pnm_sp_free(sp);
        return NULL;
    }
    sp->id = pnm_hash64(sp->bytes, sp->len, 0);
    return sp;
}

pnm_sp *pnm_sp_load_file(const char *path, pnm_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        pnm_error_set(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    pnm_buf bytes = {0};
    char chunk[65536];
    size_t k;
    int rc = 0;
    while (rc == 0 && (k = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (pnm_buf_append(&bytes, chunk, k))
            rc = pnm_error_set(err, "out of memory");
    if (rc == 0 && ferror(f))
        rc = pnm_error_set(err, "%s: read error", path);
    fclose(f);
    pnm_sp *sp = rc == 0 ? pnm_sp_load_bytes(bytes.data, bytes.len, err) : NULL;
    if (rc == 0 && !sp)
        pnm_error_prefix(err, "%s", path);
    pnm_buf_free(&bytes);
    return sp;
}

void pnm_sp_free(pnm_sp *sp)
{
    if (!sp)
        return;
    void *e = atomic_load_explicit(&sp->encoder, memory_order_acquire);
    if (e)
        sp->encoder_free(e);
    pthread_mutex_destroy(&sp->lock);
    free(sp->piece_at);
    free(sp->piece_len);
    free(sp->bytes);
    free(sp);
}

uint32_t pnm_sp_vocab_size(const pnm_sp *sp)
{
    return sp->n_pieces;
}

uint32_t pnm_sp_unk_id(const pnm_sp *sp)
{
    return sp->unk_id;
}

const char *pnm_sp_piece(const pnm_sp *sp, uint32_t id, size_t *len)
{
    *len = sp->piece_len[id];
    return (const char *)sp->bytes + sp->piece_at[id];
}

const void *pnm_sp_model_bytes(const pnm_sp *sp, size_t *len)
{
    *len = sp->len;
    return sp->bytes;
}

uint64_t pnm_sp_id(const pnm_sp *sp)
{
    return sp->id;
}

void *pnm_sp_encoder(const pnm_sp *csp, pnm_sp_encoder_build build,
                     void (*encoder_free)(void *), pnm_error *err)
{
    /* The encoder is the one part of a pnm_sp that changes after loading
     * (once, from NULL): behind the lock, and published with release
     * order so that a thread that sees it sees it built. */
    pnm_sp *sp = (pnm_sp *)csp;
    void *e = atomic_load_explicit(&sp->encoder, memory_order_acquire);
    if (e)
        return e;
    pthread_mutex_lock(&sp->lock);
    e = atomic_load_explicit(&sp->encoder, memory_order_relaxed);
    if (!e && (e = build(sp->bytes, sp->len, err)) != NULL) {
        sp->encoder_free = encoder_free;
        atomic_store_explicit(&sp->encoder, e, memory_order_release);
    }
    pthread_mutex_unlock(&sp->lock);
    return e;
}
