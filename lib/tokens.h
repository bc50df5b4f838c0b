/* Token records and the tokenizer that makes them.
 *
 * A token record is one input line: its words, in order, each a list of
 * SentencePiece piece ids. Words are kept apart because the model's token is
 * a word (pieces are only hashed into it), and because taggers need one
 * output per word. Payload layout: see pnm-stream(5). */
#ifndef PNM_TOKENS_H
#define PNM_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "error.h"
#include "sp.h"
#include "stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pnm_word_cache pnm_word_cache;

typedef struct pnm_tokens {
    uint64_t line;        /* 1-based input line number */
    uint32_t n_words;
    uint32_t *word_start; /* n_words + 1 offsets into ids */
    uint32_t *ids;        /* piece ids of all words, back to back */
    size_t word_cap, id_cap;
    pnm_word_cache *cache; /* words pnm_tokenize_line has seen; owned */
} pnm_tokens;

#define PNM_TOKENS_HEAD_BYTES 12 /* of a record: line number (u64), word count (u32) */

void pnm_tokens_free(pnm_tokens *t);
/* Makes room for words words (and their end) and ids piece ids. */
int pnm_tokens_reserve(pnm_tokens *t, size_t words, size_t ids, pnm_error *err);

/* The header of a token stream for this vocabulary: identity and the piece
 * table. Free with pnm_header_free. */
int pnm_tokens_header(const pnm_sp *sp, uint32_t max_words, pnm_header *h,
                      pnm_error *err);

/* Serialises t as a record payload into out (out->len is reset). */
int pnm_tokens_encode(const pnm_tokens *t, pnm_buf *out, pnm_error *err);
/* Parses and validates a payload against the stream's header. */
int pnm_tokens_decode(const pnm_header *h, const uint8_t *p, uint32_t len,
                      pnm_tokens *t, pnm_error *err);
/* Next record of a token stream: 1, 0 at the end, -1 on error (the message
 * names the record's byte offset). */
int pnm_tokens_read(pnm_reader *r, pnm_tokens *t, pnm_error *err);

/* Iterates over the words of valid UTF-8 text. Words are separated by
 * runs of pnm_is_word_separator characters; a word longer than
 * PNM_MAX_WORD_BYTES is cut at the last character boundary within it.
 * Start with *pos = 0; returns false when no word is left. */
bool pnm_next_word(const char *s, size_t len, size_t *pos, const char **word,
                   size_t *word_len);

/* Tokenizes one line (without its newline). Invalid UTF-8 is an error that
 * names the byte. When max_words > 0, words past it are dropped and
 * *truncated is set. A word SentencePiece maps to no piece at all (say, a
 * lone zero-width space) becomes the unknown piece, so that word i of the
 * line is always word i of the record.
 *
 * Each word is encoded on its own, so its pieces depend on its bytes and
 * the vocabulary alone: out keeps the pieces of short words it has seen in
 * a cache of fixed size (PNM_WORD_CACHE_BYTES, allocated at the first call,
 * freed by pnm_tokens_free), and a word seen before skips SentencePiece.
 * The records are the same with or without it. Reusing out for the lines
 * of a text is what makes the cache pay; out may change vocabulary between
 * calls (the cache then starts over). */
#define PNM_WORD_CACHE_BYTES (256u << 10)
int pnm_tokenize_line(const pnm_sp *sp, const char *line, size_t len, uint64_t line_no,
                      uint32_t max_words, pnm_tokens *out, bool *truncated,
                      pnm_error *err);

/* Appends the line's words joined by single spaces: the text SentencePiece
 * is trained on, so that training and encoding see the same words. */
int pnm_words_joined(const char *line, size_t len, pnm_buf *out, pnm_error *err);

#ifdef __cplusplus
}
#endif
#endif
