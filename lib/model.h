/* The pNLP-Mixer network: configuration, parameters in one arena, and the
 * forward and backward passes over a shard of examples.
 *
 * Lengths: an example of k words is processed as L = min(max(k, 1), s)
 * rows (an empty line is one row with no features; words past s are not
 * seen). Only those L rows are computed: token mixing uses the first L
 * columns of its first weight and the first L rows of its second, which is
 * exactly the padded model with padded positions zeroed at the token-mixing
 * input, so the result never depends on the padding. */
#ifndef PNM_MODEL_H
#define PNM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bio.h"
#include "error.h"
#include "limits.h"
#include "project.h"

#ifdef __cplusplus
extern "C" {
#endif


typedef struct pnm_config {
    pnm_projection projection; /* m, n, w, seed */
    uint32_t seq_len;          /* s: words seen per example */
    uint32_t bottleneck;       /* b */
    uint32_t token_hidden;     /* h_t */
    uint32_t channel_hidden;   /* h_c */
    uint32_t layers;           /* L */
    uint32_t n_labels;         /* sentence classes; 0 = no classification head */
    uint32_t n_tags;           /* word tags; 0 = no tagging head */
    uint32_t tag_sentence;     /* 1: the tagging head also sees the pooled
                                * sentence vector (needs both heads) */
    uint32_t crf;              /* 1: the tags of a sentence are scored together
                                * by a linear-chain CRF (crf.h) over the
                                * tagging head's logits (needs tags) */
} pnm_config;

/* Presets after the paper's sizes: x-small, small, base, large, x-large.
 * Sets the network sizes (not labels, tags or projection). -1 if unknown. */
int pnm_config_preset(pnm_config *c, const char *name);
int pnm_config_check(const pnm_config *c, pnm_error *err);

typedef struct pnm_layer_params {
    float *ln1_g, *ln1_b;
    float *tok_w1, *tok_b1; /* h_t x s, h_t */
    float *tok_w2, *tok_b2; /* s x h_t, s */
    float *ln2_g, *ln2_b;
    float *ch_w1, *ch_b1;   /* h_c x b, h_c */
    float *ch_w2, *ch_b2;   /* b x h_c, b */
} pnm_layer_params;

/* Views into one arena of floats; the same layout serves parameters,
 * gradients and optimizer moments. */
typedef struct pnm_params {
    float *bott_w, *bott_b; /* (2w+1)m x b, b */
    pnm_layer_params layer[PNM_MAX_LAYERS];
    float *ln_g, *ln_b;     /* final LayerNorm */
    float *pool_q;          /* attention pooling query, b */
    float *cls_w, *cls_b;   /* n_labels x b, n_labels */
    float *tag_w, *tag_b;   /* n_tags x b, n_tags */
    float *tag_sent_w;      /* n_tags x b, with tag_sentence */
    float *tag_trans;       /* n_tags x n_tags, from row tag to column tag, with crf */
    float *tag_start, *tag_end; /* n_tags each, with crf */
} pnm_params;

/* Number of floats in the arena. */
size_t pnm_params_count(const pnm_config *c);
void pnm_params_bind(pnm_params *p, const pnm_config *c, float *arena);
/* The same for the floats an int8 model keeps (quant.h): every tensor but
 * the bottleneck weight and the four matrices of each mixer layer, and but
 * the tagging head's weight with int8_tags (quant.h's tags), in the same
 * order; the views of those stay NULL. */
size_t pnm_params_count_unquantized(const pnm_config *c, bool int8_tags);
void pnm_params_bind_unquantized(pnm_params *p, const pnm_config *c, bool int8_tags,
                                 float *arena);
/* Copies those floats from a whole float arena into such an arena. */
void pnm_params_copy_unquantized(float *to, const float *from, const pnm_config *c,
                                 bool int8_tags);
/* Seeded initialisation: Linear weights uniform in +-1/sqrt(fan_in) (the
 * bottleneck's fan-in counted as its (2w+1)n non-zero inputs), biases 0,
 * LayerNorm gains 1, pooling query normal with std 1/sqrt(b), CRF
 * transitions 0. */
void pnm_params_init(const pnm_params *p, const pnm_config *c, uint64_t seed);

/* One example as the network sees it. */
typedef struct pnm_example {
    uint32_t n_words;          /* words of the line (may exceed s) */
    const uint16_t *buckets;   /* n_words x n bucket indices */
    int32_t label;             /* gold label, -1 if none or unknown */
    const int32_t *tags;       /* n_words gold tags (-1 unknown), or NULL */
} pnm_example;

static inline uint32_t pnm_example_rows(const pnm_example *e, uint32_t seq_len)
{
    uint32_t rows = e->n_words ? e->n_words : 1;
    return rows < seq_len ? rows : seq_len;
}

/* Activations of a shard of examples, kept for backward; reusable. */
typedef struct pnm_workspace pnm_workspace;
pnm_workspace *pnm_workspace_new(const pnm_config *c);
void pnm_workspace_free(pnm_workspace *ws);
/* Whether inference (pnm_forward without options, pnm_heads_forward)
 * computes the tags' softmax for pnm_tag_probs: on by default. Off, only
 * the logits are left (pnm_tag_logits), for a caller that decodes them
 * (bio.h, crf.h) and wants no probability: an exponential per tag and word
 * saved. Training computes them whatever this says. */
void pnm_workspace_set_tag_probs(pnm_workspace *ws, bool on);

/* Training options that shape one step. */
typedef struct pnm_step_options {
    float dropout;          /* 0 at inference */
    uint64_t dropout_seed;  /* per step; examples draw from it by index */
    uint32_t batch_examples;/* loss normalisers for the whole batch, so that */
    uint32_t batch_tags;    /* shards sum to the batch gradient */
    const pnm_bio *bio;     /* with crf: the tag set, whose BIO rules forbid
                             * transitions (crf.h); n_tags tags */
} pnm_step_options;

/* Forward over examples ex[0..n): fills the workspace, returns the summed
 * loss of the shard (classification loss per example plus tagging loss per
 * tagged word, each divided by the batch normalisers), or -1.0 on error.
 * With crf, the tagging loss is each example's negative log-likelihood of
 * its gold tags under the CRF (about the sum of per-word losses, so divided
 * by batch_tags too), over its words up to s; an example with a gold tag
 * outside the tag set adds none (pnm_crf_gold_path). With opt NULL:
 * inference (no dropout, no loss). */
double pnm_forward(const pnm_config *c, const pnm_params *p, pnm_workspace *ws,
                   const pnm_example *ex, size_t n, const pnm_step_options *opt,
                   pnm_error *err);
/* Backward of the last forward (which must have had opt): accumulates into
 * the gradient views g. */
void pnm_backward(const pnm_config *c, const pnm_params *p, const pnm_params *g,
                  pnm_workspace *ws, const pnm_example *ex, size_t n,
                  const pnm_step_options *opt);

/* Results of the last forward, for example i of the shard. */
const float *pnm_output_rows(const pnm_workspace *ws, size_t i, uint32_t *rows); /* O, rows x b */
const float *pnm_label_probs(const pnm_workspace *ws, size_t i);                 /* n_labels */
/* The tags' per-word softmax (not after an inference with tag
 * probabilities off); with crf, decode the logits with crf.h instead. */
const float *pnm_tag_probs(const pnm_workspace *ws, size_t i, uint32_t *rows);   /* rows x n_tags */
/* Until a backward, which overwrites them: */
const float *pnm_tag_logits(const pnm_workspace *ws, size_t i, uint32_t *rows);  /* rows x n_tags */

/* Heads only, from given mixer outputs (rows x b each): for a consumer of a
 * hidden stream. Fills the same result views as pnm_forward. */
int pnm_heads_forward(const pnm_config *c, const pnm_params *p, pnm_workspace *ws,
                      const float *const *outputs, const uint32_t *rows, size_t n,
                      pnm_error *err);
/* The same with each example's tag logits before the sentence bias (rows x
 * n_tags: O tag_w^T + tag_b) computed by the caller, as an int8 tagging
 * head's are (qheads.h): p's tag_w is not read (pnm_heads_forward refuses
 * a tagging model without it). */
int pnm_heads_forward_tagged(const pnm_config *c, const pnm_params *p, pnm_workspace *ws,
                             const float *const *outputs, const float *const *tag_logits,
                             const uint32_t *rows, size_t n, pnm_error *err);

#ifdef __cplusplus
}
#endif
#endif
