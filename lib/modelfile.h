/* The model file: one self-contained file with everything a pipeline needs
 * (specified in man/man5/pnm-model.5): the configuration, the label and tag
 * names, the SentencePiece vocabulary and the weights, as one zstd frame.
 *
 * Saving is atomic (temporary file and rename: a failed save leaves
 * nothing). Loading treats the file as hostile: the decompressed size is
 * bounded before anything large is allocated, every length is checked
 * against the bytes that remain, and the configuration, names, vocabulary,
 * parameter count, weights and checksum are all validated, so that a
 * damaged or crafted file is one clear error, never a crash. */
#ifndef PNM_MODELFILE_H
#define PNM_MODELFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "error.h"
#include "model.h"
#include "quant.h"
#include "sp.h"
#include "stream.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PNM_MODEL_VERSION 2
#define PNM_MODEL_HEADER_BYTES 68          /* magic, version, size, config */
#define PNM_MODEL_V1_HEADER_BYTES 64       /* version 1: no options word */
#define PNM_MODEL_OPTION_TAG_SENTENCE 1u   /* options bit: pnm_config.tag_sentence */
#define PNM_MODEL_OPTION_CRF 2u            /* options bit: pnm_config.crf */
#define PNM_MODEL_OPTION_INT8 4u           /* options bit: int8 weights (quant.h) */
#define PNM_MODEL_OPTION_INT8_TAGS 8u      /* options bit: an int8 tagging head too (needs
                                            * bit 2 and tags) */
#define PNM_MAX_MODEL_BYTES (1u << 30)      /* uncompressed body: 1 GiB */
#define PNM_MAX_NAME_BYTES 65535u           /* one label or tag name */
#define PNM_MODEL_SNIFF_BYTES 256           /* see pnm_model_sniff */

typedef struct pnm_model {
    pnm_config config;
    char **labels;      /* config.n_labels names (NUL-terminated UTF-8), then NULL; owned */
    char **tags;        /* config.n_tags names, then NULL; owned */
    void *vocab;        /* serialized SentencePiece model bytes, owned */
    size_t vocab_len;
    pnm_sp *sp;         /* the vocabulary, loaded once: for tokenizing; owned */
    float *params;      /* pnm_params_count(&config) floats, owned; with qw, only
                         * pnm_params_count_unquantized(&config, qw->tags) */
    pnm_params p;       /* views bound to params (without qw's matrices) */
    pnm_qweights *qw;   /* int8 weights, owned, or NULL for a float model */
    uint64_t id;        /* identity: XXH64 (pnm_hash64, seed 0) of the uncompressed
                         * file body; set by save and load, 0 before */
} pnm_model;

/* A model with zero weights (initialise them with pnm_params_init on
 * &m->p). Takes ownership of nothing: copies. Checks the configuration
 * (pnm_config_check), the names (n_labels and n_tags of them; each 1 to
 * 65535 bytes of valid UTF-8 without control characters, unique within
 * labels and within tags), that the vocabulary loads, and that the file
 * would not exceed PNM_MAX_MODEL_BYTES. labels (tags) may be NULL when
 * there are none. config, names and vocab are not to be changed later;
 * params are the caller's to train. */
pnm_model *pnm_model_new(const pnm_config *c, const char *const *labels,
                         const char *const *tags, const void *vocab, size_t vocab_len,
                         pnm_error *err);
void pnm_model_free(pnm_model *m);

/* An int8 copy of a float model (pnm-quantize(1), quant.h): the same
 * configuration, names and vocabulary; the bottleneck and mixer matrices
 * quantized, and with tags the tagging head's weight (when the model has
 * tags), every other tensor copied. Refuses a model that is int8 already. */
pnm_model *pnm_model_quantize(const pnm_model *m, bool tags, pnm_error *err);

/* Writes the model to path atomically ("-": standard output) and sets
 * m->id. A weight that is not finite (a diverged model) is refused, so
 * that nothing is written that pnm_model_load would refuse. */
int pnm_model_save(pnm_model *m, const char *path, pnm_error *err);

/* Loads and validates a model file. Messages start with the path:
 * "PATH: not a pnm model", "PATH: corrupt model: ...", "PATH: model
 * version 2 is not supported (this program reads version 1)". */
pnm_model *pnm_model_load(const char *path, pnm_error *err);
/* The same from the file's bytes (messages without a path). */
pnm_model *pnm_model_load_bytes(const void *data, size_t len, pnm_error *err);

/* The pieces of the file format, shared with checkpoints (checkpoint.h). */

/* The uncompressed body of the model, laid out as pnm-model(5) says
 * (replaces out's contents). Refuses weights that are not finite. */
int pnm_model_encode(const pnm_model *m, pnm_buf *out, pnm_error *err);
/* A model from an uncompressed body, validated as pnm_model_load does
 * (messages "corrupt model: ...", without a path). */
pnm_model *pnm_model_decode(const void *body, size_t len, pnm_error *err);

/* A kind of zstd-framed file: its body starts with an 8-byte magic and
 * has at most limit bytes. */
typedef struct pnm_frame_kind {
    const char *magic;  /* 8 bytes */
    size_t limit;
    const char *what;   /* for messages: "not a pnm WHAT", "corrupt WHAT: ..." */
} pnm_frame_kind;

/* Writes body (of at least PNM_MODEL_HEADER_BYTES) to path as one zstd
 * frame, atomically, as pnm_model_save does. */
int pnm_frame_save(const pnm_buf *body, const char *path, pnm_error *err);
/* Reads the file at path and decompresses it into body (replacing its
 * contents), refusing anything but one zstd frame of kind k; messages
 * start with the path. The body's own fields are the caller's to check. */
int pnm_frame_load(const char *path, const pnm_frame_kind *k, pnm_buf *body, pnm_error *err);

/* True when data, the first len bytes of a file, start a pnm model file:
 * zstd's magic number, and the first 8 bytes the frame decompresses to are
 * "PNMMODEL". pnm_model_save ends the first zstd block after the 64-byte
 * header, so the first PNM_MODEL_SNIFF_BYTES bytes of its files suffice; a
 * model recompressed by another tool may need its whole first block (pass
 * the whole file). False for anything else: a SentencePiece model, a pnm
 * stream, compressed or not, too few bytes. Reads nothing beyond len. */
bool pnm_model_sniff(const void *data, size_t len);

/* The header a features stream must have to feed this model (compare with
 * pnm_header_check_match): vocab_id = XXH64 of the vocabulary bytes,
 * vocab_size from the loaded vocabulary, the projection of the config,
 * max_words 0. */
int pnm_model_features_header(const pnm_model *m, pnm_header *h, pnm_error *err);
/* The header of a tokens stream made with the model's vocabulary, piece
 * table included (pnm_tokens_header); free with pnm_header_free. */
int pnm_model_tokens_header(const pnm_model *m, uint32_t max_words, pnm_header *h,
                            pnm_error *err);
/* The header of the hidden stream this model's mixer writes: the features
 * header with kind hidden, dim b, seq_len s and model_id m->id. */
int pnm_model_hidden_header(const pnm_model *m, pnm_header *h, pnm_error *err);

#ifdef __cplusplus
}
#endif
#endif
