/* A C interface to SentencePiece, whose C++ stays in lib/sp_encode.cc and
 * lib/sp_train.cc (the only C++ in pnm).
 *
 * Loading reads the vocabulary's pieces (lib/sp_pieces.c) and checks them as
 * SentencePiece does (each non-empty, exactly one unknown piece); the
 * encoder, SentencePiece's processor with its normalizer and trie, is
 * built from the same bytes when something is first encoded, and checks
 * the rest of the model then. A pnm_sp does not change otherwise once
 * loaded; every function below may be called from several threads at once
 * on the same pnm_sp. */
#ifndef PNM_SP_H
#define PNM_SP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pnm_sp pnm_sp;

/* Loads a serialized SentencePiece model (a .model file, or its bytes). */
pnm_sp *pnm_sp_load_file(const char *path, pnm_error *err);
pnm_sp *pnm_sp_load_bytes(const void *data, size_t len, pnm_error *err);
void pnm_sp_free(pnm_sp *sp);

uint32_t pnm_sp_vocab_size(const pnm_sp *sp);
uint32_t pnm_sp_unk_id(const pnm_sp *sp);

/* The piece string of id (UTF-8, not NUL-terminated); id < vocab size. */
const char *pnm_sp_piece(const pnm_sp *sp, uint32_t id, size_t *len);

/* The serialized model, exactly the bytes a .model file holds. */
const void *pnm_sp_model_bytes(const pnm_sp *sp, size_t *len);

/* The vocabulary's identity: pnm_hash64 (seed 0) of the serialized model,
 * computed once at load. Two vocabularies with one identity encode alike. */
uint64_t pnm_sp_id(const pnm_sp *sp);

/* Builds the encoder now, if no call has yet: for a program that wants a
 * vocabulary SentencePiece cannot load refused before it reads any input.
 * Returns 0, or -1 ("not a SentencePiece model (...)"). */
int pnm_sp_encoder_ready(const pnm_sp *sp, pnm_error *err);

/* Encodes text into piece ids (building the encoder at the first call). Writes at most cap ids to ids and sets *n to
 * the number of pieces SentencePiece produced (which may exceed cap: the
 * caller decides whether to truncate). Returns 0, or -1 on error. */
int pnm_sp_encode(const pnm_sp *sp, const char *text, size_t len,
                  uint32_t *ids, size_t cap, size_t *n, pnm_error *err);

typedef enum { PNM_SP_UNIGRAM, PNM_SP_BPE } pnm_sp_model_type;

typedef struct pnm_sp_train_options {
    uint32_t vocab_size;         /* an upper bound: small corpora give fewer */
    pnm_sp_model_type model_type;
    const char *normalization;   /* SentencePiece rule name, e.g. "nmt_nfkc_cf" */
    uint32_t threads;
    uint32_t seed;
} pnm_sp_train_options;

/* Trains a vocabulary on sentences (words separated by single spaces) and
 * returns the serialized model in *model (free() it). SentencePiece's own
 * log lines are discarded unless training fails. */
int pnm_sp_train(const char *const *sentences, size_t count,
                 const pnm_sp_train_options *opt, void **model,
                 size_t *model_len, pnm_error *err);

#ifdef __cplusplus
}
#endif
#endif
