/* The network's gradients against finite differences (every tensor, with
 * and without dropout, with the CRF's loss), and a tiny model that must fit
 * a tiny data set. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pnm.h"
#include "tap.h"

enum { N_EX = 5, MAX_WORDS = 7 };

/* The tiny config's tags: random gold sequences break BIO (I-a after O),
 * which the CRF's loss repairs (crf.h). */
static const char *const tiny_tags[] = {"O", "B-a", "I-a", "B-b"};

static pnm_config tiny_config(void)
{
    pnm_config c = {{16, 4, 1, 0}, 6, 8, 6, 5, 2, 3, 4, 0, 0};
    return c;
}

typedef struct data {
    pnm_example ex[N_EX];
    uint16_t buckets[N_EX][MAX_WORDS * 4];
    int32_t tags[N_EX][MAX_WORDS];
} data;

/* Random examples of 0..7 words (7 > s = 6: truncation is exercised). */
static void make_data(data *d, const pnm_config *c, uint64_t seed)
{
    static const uint32_t lengths[N_EX] = {3, 0, 7, 1, 5};
    for (int i = 0; i < N_EX; i++) {
        for (int k = 0; k < MAX_WORDS * 4; k++)
            d->buckets[i][k] = (uint16_t)(pnm_rand_next(&seed) % c->projection.features);
        for (int k = 0; k < MAX_WORDS; k++)
            d->tags[i][k] = (int32_t)(pnm_rand_next(&seed) % c->n_tags);
        d->ex[i] = (pnm_example){lengths[i], d->buckets[i], (int32_t)(i % c->n_labels),
                                 d->tags[i]};
    }
    d->tags[2][1] = -1; /* an unknown tag is not scored */
}

static double loss_of(const pnm_config *c, const pnm_params *p, pnm_workspace *ws,
                      const data *d, const pnm_step_options *o)
{
    pnm_error err;
    return pnm_forward(c, p, ws, d->ex, N_EX, o, &err);
}

/* Compares analytic and numeric derivatives at a few entries of every
 * tensor; returns the worst mismatch relative to the gradient's scale. */
static double grad_check(float dropout, uint32_t tag_sentence, uint32_t crf)
{
    pnm_config c = tiny_config();
    c.tag_sentence = tag_sentence;
    c.crf = crf;
    pnm_bio bio;
    pnm_error err;
    if (pnm_bio_init(&bio, tiny_tags, c.n_tags, &err))
        return INFINITY;
    size_t n = pnm_params_count(&c);
    float *arena = malloc(n * sizeof *arena), *grad = calloc(n, sizeof *grad);
    pnm_params p, g;
    pnm_params_bind(&p, &c, arena);
    pnm_params_bind(&g, &c, grad);
    pnm_params_init(&p, &c, 3);
    /* Non-trivial LayerNorm gains and biases, so their gradients matter. */
    uint64_t rng = 11;
    for (size_t i = 0; i < n; i++)
        arena[i] += 0.1f * pnm_rand_normal(&rng);
    data d;
    make_data(&d, &c, 5);
    uint32_t tagged = 0;
    for (int i = 0; i < N_EX; i++)
        for (uint32_t t = 0; t < d.ex[i].n_words && t < c.seq_len; t++)
            tagged += d.tags[i][t] >= 0;
    pnm_step_options o = {dropout, 99, N_EX, tagged, &bio};
    pnm_workspace *ws = pnm_workspace_new(&c);
    loss_of(&c, &p, ws, &d, &o);
    pnm_backward(&c, &p, &g, ws, d.ex, N_EX, &o);

    double gmax = 0;
    for (size_t i = 0; i < n; i++)
        gmax = fmax(gmax, fabs(grad[i]));
    double worst = 0;
    const float eps = 2e-3f;
    for (size_t i = 0; i < n; i++) {
        float keep = arena[i];
        arena[i] = keep + eps;
        double up = loss_of(&c, &p, ws, &d, &o);
        arena[i] = keep - eps;
        double down = loss_of(&c, &p, ws, &d, &o);
        arena[i] = keep;
        double numeric = (up - down) / (2 * eps);
        double diff = fabs(numeric - grad[i]) / (gmax + 1e-12);
        if (diff > worst) {
            worst = diff;
            if (getenv("PNM_GRAD_DEBUG"))
                printf("# param %zu of %zu: analytic %g numeric %g\n", i, n, grad[i], numeric);
        }
    }
    pnm_workspace_free(ws);
    pnm_bio_free(&bio);
    free(arena);
    free(grad);
    return worst;
}

/* Trains the tiny model with AdamW until it fits; returns the accuracy of
 * labels and tags on the training data (1.0 = everything right). */
static double overfit(void)
{
    pnm_config c = tiny_config();
    size_t n = pnm_params_count(&c);
    float *arena = malloc(n * sizeof *arena), *grad = malloc(n * sizeof *grad);
    float *m = calloc(n, sizeof *m), *v = calloc(n, sizeof *v);
    pnm_params p, g;
    pnm_params_bind(&p, &c, arena);
    pnm_params_bind(&g, &c, grad);
    pnm_params_init(&p, &c, 1);
    data d;
    make_data(&d, &c, 8);
    pnm_adamw opt = PNM_ADAMW_DEFAULT;
    pnm_workspace *ws = pnm_workspace_new(&c);
    pnm_step_options o = {0.0f, 0, N_EX, 16, NULL};
    pnm_error err;
    for (uint64_t step = 1; step <= 300; step++) {
        memset(grad, 0, n * sizeof *grad);
        pnm_forward(&c, &p, ws, d.ex, N_EX, &o, &err);
        pnm_backward(&c, &p, &g, ws, d.ex, N_EX, &o);
        pnm_adamw_step(&opt, 1e-2f, step, arena, grad, m, v, n);
    }
    pnm_forward(&c, &p, ws, d.ex, N_EX, NULL, &err);
    int right = 0, total = 0;
    for (int i = 0; i < N_EX; i++) {
        const float *pl = pnm_label_probs(ws, i);
        uint32_t best = 0, rows;
        for (uint32_t k = 1; k < c.n_labels; k++)
            best = pl[k] > pl[best] ? k : best;
        right += (int32_t)best == d.ex[i].label, total++;
        const float *pt = pnm_tag_probs(ws, i, &rows);
        for (uint32_t t = 0; t < rows && t < d.ex[i].n_words; t++) {
            if (d.tags[i][t] < 0)
                continue;
            uint32_t bt = 0;
            for (uint32_t k = 1; k < c.n_tags; k++)
                bt = pt[t * c.n_tags + k] > pt[t * c.n_tags + bt] ? k : bt;
            right += (int32_t)bt == d.tags[i][t], total++;
        }
    }
    pnm_workspace_free(ws);
    free(arena), free(grad), free(m), free(v);
    return (double)right / total;
}

/* An example's outputs must not depend on what else is in its shard or
 * batch: not its rows' place among the others' (pnm-classify runs several
 * records a pass; the API one). Bit for bit. */
static int shard_independent(const pnm_config *c)
{
    size_t n = pnm_params_count(c);
    float *arena = malloc(n * sizeof *arena);
    pnm_params p;
    pnm_params_bind(&p, c, arena);
    pnm_params_init(&p, c, 2);
    data d;
    make_data(&d, c, 4);
    pnm_workspace *all = pnm_workspace_new(c), *one = pnm_workspace_new(c);
    pnm_error err;
    pnm_forward(c, &p, all, d.ex, N_EX, NULL, &err);
    int same = 1;
    for (int i = 0; i < N_EX; i++) {
        pnm_forward(c, &p, one, &d.ex[i], 1, NULL, &err);
        uint32_t ra, ro;
        const float *a = pnm_output_rows(all, i, &ra), *b = pnm_output_rows(one, 0, &ro);
        same &= ra == ro && memcmp(a, b, ra * c->bottleneck * sizeof *a) == 0;
        same &= memcmp(pnm_label_probs(all, i), pnm_label_probs(one, 0),
                       c->n_labels * sizeof(float)) == 0;
        a = pnm_tag_probs(all, i, &ra), b = pnm_tag_probs(one, 0, &ro);
        same &= ra == ro && memcmp(a, b, ra * c->n_tags * sizeof *a) == 0;
    }
    pnm_workspace_free(all);
    pnm_workspace_free(one);
    free(arena);
    return same;
}

/* linear_forward and matmul_bias_rows against the plain loops in double,
 * at sizes with whole vector blocks and with tails of rows, outputs and
 * columns (and A's rows further apart than k, as token mixing has them);
 * returns the largest error relative to the sum of the terms' sizes. */
static double kernels_error(void)
{
    static const size_t sizes[][4] = {{1, 7, 5, 7},       {3, 16, 40, 20}, {11, 256, 256, 256},
                                      {6, 33, 70, 64},    {17, 64, 129, 64}, {4, 8, 64, 8}};
    double worst = 0;
    uint64_t rng = 7;
    for (size_t t = 0; t < sizeof sizes / sizeof *sizes; t++) {
        size_t m = sizes[t][0], k = sizes[t][1], n = sizes[t][2], lda = sizes[t][3] + k % 3;
        lda = lda < k ? k : lda;
        float *a = malloc(m * lda * sizeof *a), *w = malloc(n * k * sizeof *w);
        float *bias = malloc((m > n ? m : n) * sizeof *bias), *out = malloc(m * n * sizeof *out);
        for (size_t i = 0; i < m * lda; i++)
            a[i] = pnm_rand_normal(&rng);
        for (size_t i = 0; i < n * k; i++)
            w[i] = pnm_rand_normal(&rng);
        for (size_t i = 0; i < (m > n ? m : n); i++)
            bias[i] = pnm_rand_normal(&rng);
        /* linear: a's rows k apart, w n x k; matmul: w read as k x n. */
        for (int kernel = 0; kernel < 2; kernel++) {
            if (kernel == 0)
                linear_forward(out, a, w, bias, m, k, n);
            else
                matmul_bias_rows(out, a, lda, w, bias, m, k, n);
            for (size_t r = 0; r < m; r++)
                for (size_t j = 0; j < n; j++) {
                    double ref = kernel ? bias[r] : bias[j], size = fabs(ref);
                    for (size_t i = 0; i < k; i++) {
                        double term = kernel ? (double)a[r * lda + i] * w[i * n + j]
                                             : (double)a[r * k + i] * w[j * k + i];
                        ref += term, size += fabs(term);
                    }
                    worst = fmax(worst, fabs(out[r * n + j] - ref) / size);
                }
        }
        free(a), free(w), free(bias), free(out);
    }
    return worst;
}

int main(void)
{
    pnm_config c = tiny_config();
    pnm_error err;
    CHECK(pnm_config_check(&c, &err) == 0, "tiny config is valid");
    size_t b = 8, s = 6, ht = 6, hc = 5;
    size_t want = 3 * 16 * b + b + 2 * (2 * b + ht * s + ht + s * ht + s + 2 * b + hc * b + hc +
                                        b * hc + b) + 2 * b + b + 3 * b + 3 + 4 * b + 4;
    CHECK(pnm_params_count(&c) == want, "parameter count follows the layout");
    pnm_config base = c;
    pnm_config_preset(&base, "base");
    base.projection = (pnm_projection){1024, 64, 1, 0};
    base.seq_len = 64;
    CHECK(pnm_params_count(&base) > 1000000 && pnm_params_count(&base) < 1300000,
          "the base preset has about a million parameters");

    pnm_config crf = c;
    crf.crf = 1;
    CHECK(pnm_params_count(&crf) == want + 4 * 4 + 2 * 4,
          "a CRF adds n_tags x n_tags transitions and n_tags start and end scores");
    crf.n_tags = 0;
    CHECK(pnm_config_check(&crf, &err) != 0 && strstr(err.msg, "CRF needs tags"),
          "a CRF without tags is refused");

    double worst = kernels_error();
    printf("# worst kernel error: %.2e of the sum of the terms' sizes\n", worst);
    CHECK(worst < 1e-6, "linear_forward and matmul_bias_rows match the plain loops");
    worst = grad_check(0.0f, 0, 0);
    printf("# worst gradient mismatch without dropout: %.2e of the largest gradient\n", worst);
    CHECK(worst < 1e-2, "gradients match finite differences (no dropout)");
    worst = grad_check(0.3f, 0, 0);
    printf("# worst gradient mismatch with dropout 0.3: %.2e\n", worst);
    CHECK(worst < 1e-2, "gradients match finite differences (dropout 0.3)");
    worst = grad_check(0.3f, 1, 0);
    printf("# worst gradient mismatch with sentence-aware tagging: %.2e\n", worst);
    CHECK(worst < 1e-2, "gradients match finite differences (sentence-aware tagging)");
    worst = grad_check(0.0f, 0, 1);
    printf("# worst gradient mismatch with a CRF: %.2e\n", worst);
    CHECK(worst < 1e-2, "gradients match finite differences (CRF)");
    worst = grad_check(0.3f, 1, 1);
    printf("# worst gradient mismatch with a CRF, sentence-aware tagging, dropout: %.2e\n",
           worst);
    CHECK(worst < 1e-2, "gradients match finite differences (CRF, sentence-aware, dropout)");
    CHECK(shard_independent(&c), "an example's result does not depend on its shard");
    /* Sizes that fill vectors, and products large enough that OpenBLAS
     * sums a batch's rows in another order than one example's. */
    pnm_config wide = c;
    wide.bottleneck = 128, wide.token_hidden = 16, wide.channel_hidden = 256;
    CHECK(shard_independent(&wide), "nor at sizes that fill vectors");
    double acc = overfit();
    printf("# tiny model fits its data: %.3f\n", acc);
    CHECK(acc == 1.0, "a tiny model overfits a tiny data set to 100%");
    return tap_done();
}
