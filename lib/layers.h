/* The layers of pNLP-Mixer, each as a forward/backward pair over plain
 * float buffers (row-major). Backward functions accumulate (+=) into
 * parameter gradients and into input gradients, because residual branches
 * and shared parameters sum their contributions; callers zero them first. */
#ifndef PNM_LAYERS_H
#define PNM_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* LayerNorm over the last dimension: out[r] = (x[r] - mean) * rstd * g + b
 * for each of the n rows of c values, rstd = 1 / sqrt(variance + eps);
 * mean and rstd are kept for backward, or both NULL when none follows
 * (inference). */
#define PNM_LAYERNORM_EPS 1e-5f
void layernorm_forward(float *out, float *mean, float *rstd, const float *x,
                       const float *g, const float *b, size_t n, size_t c);
void layernorm_backward(float *dx, float *dg, float *db, const float *dout,
                        const float *x, const float *g, const float *mean,
                        const float *rstd, size_t n, size_t c);

/* sums[r] += the sum of row r of x (n rows of c values), summed in 8
 * interleaved lanes (vectorised: a bias gradient's sum over a row). */
void add_row_sums(float *sums, const float *x, size_t n, size_t c);

/* GELU, tanh approximation (as in BERT and MLP-Mixer). Backward overwrites:
 * dx = dout * gelu'(x). */
void gelu_forward(float *out, const float *x, size_t n);
void gelu_backward(float *dx, const float *x, const float *dout, size_t n);

/* The sparse bottleneck's kernel: out (c values) += the sum of the rows
 * idx[0..n) of table (rows of c values), added in index order. Backward
 * scatters: each of those rows of dtable += dout. */
void gather_add_rows(float *out, const float *table, const uint16_t *idx, size_t n, size_t c);
void scatter_add_rows(float *dtable, const float *dout, const uint16_t *idx, size_t n, size_t c);

/* Linear over rows: out (n x o) = x (n x i) W^T + bias, W being o x i.
 * Each output row depends on its input row alone, bit for bit: not on n or
 * on the rows around it (a record gives the same result alone or in a
 * batch), and the same on AVX2 and AVX-512. */
void linear_forward(float *out, const float *x, const float *w, const float *bias,
                    size_t n, size_t i, size_t o);
/* out (m x n) = A B + bias as a column: out[r][j] = bias[r] +
 * sum_k a[r * lda + k] b[k][j], A being m x k with rows lda floats apart
 * and B k x n. Token mixing's products (W1[:, :L] y and W2[:L] gelu(h)):
 * B is read in place, the bias is where the sums start (no fill first),
 * and a product of one example's few rows runs without OpenBLAS's packing. */
void matmul_bias_rows(float *out, const float *a, size_t lda, const float *b,
                      const float *bias, size_t m, size_t k, size_t n);
/* dx (may be NULL) += dout W; dw += dout^T x; dbias += column sums of dout. */
void linear_backward(float *dx, float *dw, float *dbias, const float *dout,
                     const float *x, const float *w, size_t n, size_t i, size_t o);

/* Attention pooling over the n rows of x (n x c): score_r = x_r . q,
 * alpha = softmax(score), pooled = sum_r alpha_r x_r. */
void attn_pool_forward(float *pooled, float *alpha, const float *x, const float *q,
                       size_t n, size_t c);
void attn_pool_backward(float *dx, float *dq, const float *dpooled, const float *alpha,
                        const float *x, const float *q, size_t n, size_t c);

/* Softmax of each of n rows of k logits into probs, for inference: exp by
 * pnm_exp2 (gelu.h) and sums in vector lanes, so that it vectorises where
 * softmax_xent calls expf per logit and divides in double (the heads'
 * softmax over ATIS's 120 tags was an eighth of x-small's pnm-classify).
 * Within a few 1e-7 (relative) of softmax_xent's probabilities. */
void softmax_rows(float *probs, const float *logits, size_t n, size_t k);

/* Softmax of k logits into probs; returns -log probs[target] (in double, for
 * gradient checks) and, when dlogits is not NULL, sets dlogits = scale *
 * (probs - onehot(target)). */
double softmax_xent(float *probs, float *dlogits, const float *logits, size_t k,
                    uint32_t target, float scale);

/* Inverted dropout in place: each value is zeroed with probability p, the
 * rest scaled by 1/(1-p); keep records the choice for backward. The random
 * stream is rng_state, advanced. */
void dropout_forward(float *x, uint8_t *keep, size_t n, float p, uint64_t *rng_state);
void dropout_backward(float *dx, const uint8_t *keep, size_t n, float p);

/* splitmix64: the project's one random generator (seeded, portable). */
uint64_t pnm_rand_next(uint64_t *state);
/* Uniform in [0, 1). */
float pnm_rand_uniform(uint64_t *state);
/* Standard normal (Box-Muller). */
float pnm_rand_normal(uint64_t *state);

#ifdef __cplusplus
}
#endif
#endif
