/* pnm streams: the self-describing binary format every program reads and
 * writes (specified in man/man5/pnm-stream.5).
 *
 * A stream is a header, framed records (one per input line) and an end
 * marker, optionally inside one zstd frame. The writer frames and checksums
 * records; the reader checks every length against the header and the limits
 * before allocating, every checksum, and the end marker, so that a
 * truncated, corrupt or hostile stream is an error that names the byte
 * offset, never a crash or a silent loss. Record payloads are encoded by the
 * modules that own their kind (tokens.h, features.h, hidden.h). */
#ifndef PNM_STREAM_H
#define PNM_STREAM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PNM_STREAM_VERSION 1
#define PNM_HEADER_FIXED_BYTES 72 /* before a token stream's piece table */

typedef enum pnm_kind {
    PNM_KIND_TOKENS = 'T',
    PNM_KIND_FEATURES = 'F',
    PNM_KIND_HIDDEN = 'H',
} pnm_kind;

typedef struct pnm_header {
    pnm_kind kind;
    uint32_t version;
    uint64_t vocab_id;   /* XXH64 of the serialized SentencePiece model */
    uint32_t vocab_size;
    uint32_t max_words;  /* words kept per line; 0 = no limit */
    uint32_t features;   /* m: Bloom filter size (features streams) */
    uint32_t hashes;     /* n: MinHash functions (features streams) */
    uint32_t window;     /* w: neighbours on each side the consumer concatenates */
    uint64_t seed;       /* hash family seed (features and hidden streams) */
    /* Hidden streams: the mixer output's width b, the sequence length s, and
     * the identity of the model that made them (pnm_model.id). Zero for
     * other kinds. */
    uint32_t dim;
    uint32_t seq_len;
    uint64_t model_id;
    /* Token streams carry their vocabulary's pieces so that the projection
     * needs nothing else: piece i is piece_bytes[piece_offset[i] ..
     * piece_offset[i+1]). Owned by the header; NULL for other kinds. */
    uint8_t *piece_bytes;
    uint32_t *piece_offset;
} pnm_header;

const char *pnm_kind_name(pnm_kind kind);

/* Copies src into dst (deep, piece table included); -1 when out of memory. */
int pnm_header_copy(pnm_header *dst, const pnm_header *src, pnm_error *err);
void pnm_header_free(pnm_header *h);

/* Checks that a stream header (got) was made with the same vocabulary and,
 * when both carry one, the same projection settings as want, and, when both
 * are hidden streams, by the same model; on a mismatch the message says
 * what differs. */
int pnm_header_check_match(const pnm_header *want, const pnm_header *got,
                           pnm_error *err);
/* Checks that a hidden stream was made by the model whose identity is
 * model_id ("made by another model: ..."); any other kind is an error too,
 * since it carries no model identity. */
int pnm_header_check_model(const pnm_header *h, uint64_t model_id, pnm_error *err);

typedef struct pnm_writer pnm_writer;

/* Writes the header to f. zstd_level 0 writes plain bytes; 1..19 compresses
 * the whole stream. f stays the caller's to close. */
pnm_writer *pnm_writer_open(FILE *f, const pnm_header *h, int zstd_level,
                            pnm_error *err);
/* Appends one record. Records are buffered whole, so a failure elsewhere can
 * never leave half of one in the output. */
int pnm_writer_write(pnm_writer *w, const void *payload, size_t len, pnm_error *err);
/* Pushes the records written so far to f (and fflush). */
int pnm_writer_flush(pnm_writer *w, pnm_error *err);
/* Writes the end marker and flushes: the stream is complete. */
int pnm_writer_finish(pnm_writer *w, pnm_error *err);
/* Frees. Without a finish first, the records written so far are flushed and
 * the stream is left without its end marker, so readers report it as
 * truncated after the last complete record. */
void pnm_writer_free(pnm_writer *w);

typedef struct pnm_reader pnm_reader;

/* Reads and validates the header; zstd input is detected by its magic
 * number. name (e.g. a file name) prefixes error messages. */
pnm_reader *pnm_reader_open(FILE *f, const char *name, pnm_error *err);
const pnm_header *pnm_reader_header(const pnm_reader *r);
bool pnm_reader_compressed(const pnm_reader *r);
/* Next record: returns 1 and sets *payload and *len (valid until the next call),
 * 0 at a correct end of stream, -1 on error. */
int pnm_reader_next(pnm_reader *r, const uint8_t **payload, uint32_t *len,
                    pnm_error *err);
/* Decodes a record payload of the stream whose header is h into out. */
typedef int (*pnm_decode_fn)(const pnm_header *h, const uint8_t *p, uint32_t len, void *out,
                             pnm_error *err);
/* Next record, decoded into out: 1, 0 at a correct end of stream, -1 on
 * error; a decoding error is prefixed with the stream's name and the
 * record's byte offset. */
int pnm_reader_next_decoded(pnm_reader *r, pnm_decode_fn decode, void *out, pnm_error *err);
/* Byte offset (in the uncompressed stream) of the record last returned. */
uint64_t pnm_reader_record_offset(const pnm_reader *r);
/* The name given to pnm_reader_open, for messages. */
const char *pnm_reader_name(const pnm_reader *r);
/* Records returned so far. */
uint64_t pnm_reader_records(const pnm_reader *r);
void pnm_reader_free(pnm_reader *r);

#ifdef __cplusplus
}
#endif
#endif
