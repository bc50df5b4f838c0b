#include "crf.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "simd.h"

int pnm_crf_init(pnm_crf *crf, uint32_t n_tags, uint32_t max_rows, pnm_error *err)
{
    memset(crf, 0, sizeof *crf);
    size_t t = n_tags ? n_tags : 1, rows = max_rows ? max_rows : 1;
    crf->n_tags = n_tags;
    crf->trans = malloc(t * t * sizeof *crf->trans);
    crf->start = malloc(t * sizeof *crf->start);
    crf->end = malloc(t * sizeof *crf->end);
    crf->expt = malloc(t * t * sizeof *crf->expt);
    crf->exp_start = malloc(t * sizeof *crf->exp_start);
    crf->exp_end = malloc(t * sizeof *crf->exp_end);
    crf->u = malloc(t * sizeof *crf->u);
    crf->emit = malloc(rows * t * sizeof *crf->emit);
    crf->scale = malloc(rows * sizeof *crf->scale);
    if (!crf->trans || !crf->start || !crf->end || !crf->expt || !crf->exp_start ||
        !crf->exp_end || !crf->u || !crf->emit || !crf->scale) {
        pnm_crf_free(crf);
        return pnm_error_set(err, "out of memory");
    }
    return 0;
}

void pnm_crf_free(pnm_crf *crf)
{
    free(crf->trans), free(crf->start), free(crf->end), free(crf->expt);
    free(crf->exp_start), free(crf->exp_end), free(crf->u), free(crf->emit), free(crf->scale);
    memset(crf, 0, sizeof *crf);
}

/* BIO's rule: an I-X only after B-X or I-X (other shapes count as O). */
static bool allowed(const pnm_bio *bio, uint32_t from, uint32_t to)
{
    return bio->kind[to] != 'I' || (bio->kind[from] != 'O' && bio->type[from] == bio->type[to]);
}

/* e = exp(s - max s), 0 where s is -inf; returns max s (0 if all are -inf). */
static double exp_of_max(double *e, const float *s, size_t n)
{
    float m = -INFINITY;
    for (size_t j = 0; j < n; j++)
        m = s[j] > m ? s[j] : m;
    m = isfinite(m) ? m : 0;
    for (size_t j = 0; j < n; j++)
        e[j] = exp((double)s[j] - m);
    return m;
}

void pnm_crf_set(pnm_crf *crf, const pnm_bio *bio, const float *trans, const float *start,
                 const float *end)
{
    uint32_t n = crf->n_tags;
    crf->bio = bio;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < n; j++)
            crf->trans[(size_t)i * n + j] = allowed(bio, i, j) ? trans[(size_t)i * n + j]
                                                               : -INFINITY;
    for (uint32_t j = 0; j < n; j++) {
        crf->start[j] = bio->kind[j] == 'I' ? -INFINITY : start[j];
        crf->end[j] = end[j];
    }
    /* Shifted so that no exponential overflows: the largest is 1. */
    crf->shift = exp_of_max(crf->expt, crf->trans, (size_t)n * n);
    crf->start_shift = exp_of_max(crf->exp_start, crf->start, n);
    crf->end_shift = exp_of_max(crf->exp_end, crf->end, n);
}

int pnm_crf_gold_path(const pnm_bio *bio, const int32_t *gold, uint32_t rows, uint32_t *path)
{
    uint32_t n = bio->n_tags;
    for (uint32_t t = 0; t < rows; t++) {
        if (gold[t] < 0 || (uint32_t)gold[t] >= n)
            return -1;
        uint32_t tag = (uint32_t)gold[t];
        bool ok = bio->kind[tag] != 'I' || (t > 0 && allowed(bio, path[t - 1], tag));
        for (uint32_t k = 0; !ok && k < n; k++)
            if (bio->kind[k] == 'B' && bio->type[k] == bio->type[tag])
                tag = k, ok = true;
        if (!ok)
            return -1;
        path[t] = tag;
    }
    return 0;
}

double pnm_crf_path_score(const pnm_crf *crf, const float *x, uint32_t rows,
                          const uint32_t *path)
{
    uint32_t n = crf->n_tags;
    double s = (double)crf->start[path[0]] + crf->end[path[rows - 1]];
    for (uint32_t t = 0; t < rows; t++) {
        s += x[(size_t)t * n + path[t]];
        if (t > 0)
            s += crf->trans[(size_t)path[t - 1] * n + path[t]];
    }
    return s;
}

/* y = A^T x for the n x n A: rows of A scaled and added, so the loop over
 * y vectorises; a zero x[i] (a tag no path reaches) skips its row. Our own
 * rather than cblas_dgemv: inference's forward-backward is the only use of
 * BLAS in pnm-classify, and linking OpenBLAS cost every start 2.5 ms. */
PNM_SIMD_CLONES
static void gemv_t(double *y, const double *a, const double *x, size_t n)
{
    memset(y, 0, n * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        if (x[i] == 0)
            continue;
        const double *ai = a + i * n;
        for (size_t j = 0; j < n; j++)
            y[j] += x[i] * ai[j];
    }
}

/* y = A x for the n x n A: each row's dot product in 8 partial sums (one
 * running sum is a chain of dependent adds that does not vectorise). */
PNM_SIMD_CLONES
static void gemv(double *y, const double *a, const double *x, size_t n)
{
    enum { LANES = 8 };
    size_t end = n / LANES * LANES;
    for (size_t i = 0; i < n; i++) {
        const double *ai = a + i * n;
        double part[LANES] = {0}, s = 0;
        for (size_t j = 0; j < end; j += LANES)
            for (size_t k = 0; k < LANES; k++)
                part[k] += ai[j + k] * x[j + k];
        for (size_t k = 0; k < LANES; k++)
            s += part[k];
        for (size_t j = end; j < n; j++)
            s += ai[j] * x[j];
        y[i] = s;
    }
}

/* Scaled (Rabiner): alpha[t] sums to 1, each step divided by its scale c_t,
 * beta[t] is divided by the same scales, and Z is the product of the
 * scales and of the factors taken out of the exponentials. The only
 * exponentials per word are those of its scores; the sums over tags are
 * products with expt. */
double pnm_crf_forward(const pnm_crf *crf, const float *x, uint32_t rows, double *alpha,
                       double *beta)
{
    int n = (int)crf->n_tags;
    double *e = crf->emit, *c = crf->scale, *w = crf->u;
    double log_z = crf->start_shift + crf->end_shift + (double)(rows - 1) * crf->shift;
    for (uint32_t t = 0; t < rows; t++) {
        double *et = e + (size_t)t * n, *at = alpha + (size_t)t * n;
        log_z += exp_of_max(et, x + (size_t)t * n, (size_t)n);
        if (t == 0)
            memcpy(at, crf->exp_start, (size_t)n * sizeof *at);
        else
            gemv_t(at, crf->expt, at - n, (size_t)n);
        c[t] = 0;
        for (int j = 0; j < n; j++)
            at[j] *= et[j], c[t] += at[j];
        if (!(c[t] > 0))
            goto none;
        for (int j = 0; j < n; j++)
            at[j] /= c[t];
        log_z += log(c[t]);
    }
    const double *last = alpha + (size_t)(rows - 1) * n;
    double c_end = 0;
    for (int j = 0; j < n; j++)
        c_end += last[j] * crf->exp_end[j];
    if (!(c_end > 0))
        goto none;
    double *bl = beta + (size_t)(rows - 1) * n;
    for (int j = 0; j < n; j++)
        bl[j] = crf->exp_end[j] / c_end;
    for (uint32_t t = rows - 1; t-- > 0;) {
        const double *et = e + (size_t)(t + 1) * n, *b = beta + (size_t)(t + 1) * n;
        double *bt = beta + (size_t)t * n;
        for (int j = 0; j < n; j++)
            w[j] = et[j] * b[j];
        gemv(bt, crf->expt, w, (size_t)n);
        for (int i = 0; i < n; i++)
            bt[i] /= c[t + 1];
    }
    return log_z + log(c_end);
none:
    /* No allowed sequence (a tag set without a tag that may start one):
     * nothing is probable. */
    memset(alpha, 0, (size_t)rows * n * sizeof *alpha);
    memset(beta, 0, (size_t)rows * n * sizeof *beta);
    return -INFINITY;
}

void pnm_crf_marginals(const pnm_crf *crf, uint32_t rows, const double *alpha,
                       const double *beta, float *marginals)
{
    size_t count = (size_t)rows * crf->n_tags;
    for (size_t k = 0; k < count; k++)
        marginals[k] = (float)(alpha[k] * beta[k]);
}

/* d(log Z)/dx[t][j] is the marginal of j at t, alpha[t][j] * beta[t][j];
 * d(log Z)/dtrans[i][j] the expected count of i -> j, summed over t of
 *   alpha[t-1][i] * expt[i][j] * e[t][j] * beta[t][j] / c_t
 *   = alpha[t-1][i] * expt[i][j] * marginal[t][j] / sigma[j],
 * sigma = expt^T alpha[t-1] (alpha[t][j] = sigma[j] e[t][j] / c_t): no
 * exponential needed again. The path's own score contributes -1 per tag
 * and transition it uses. */
void pnm_crf_nll_backward(const pnm_crf *crf, uint32_t rows, const uint32_t *path,
                          const double *alpha, const double *beta, float scale, float *dx,
                          float *dtrans, float *dstart, float *dend)
{
    int n = (int)crf->n_tags;
    double *r = crf->u;
    for (uint32_t t = 0; t < rows; t++) {
        const double *at = alpha + (size_t)t * n, *bt = beta + (size_t)t * n;
        if (t > 0) {
            const double *prev = at - n;
            gemv_t(r, crf->expt, prev, (size_t)n);
            for (int j = 0; j < n; j++)
                r[j] = r[j] > 0 ? at[j] * bt[j] / r[j] : 0;
            for (int i = 0; i < n; i++) {
                if (prev[i] == 0)
                    continue;
                double w = scale * prev[i];
                const double *e = crf->expt + (size_t)i * n;
                float *d = dtrans + (size_t)i * n;
                for (int j = 0; j < n; j++)
                    d[j] += (float)(w * e[j] * r[j]);
            }
            dtrans[(size_t)path[t - 1] * n + path[t]] -= scale;
        }
        float *d = dx + (size_t)t * n;
        for (int j = 0; j < n; j++)
            d[j] = scale * ((float)(at[j] * bt[j]) - ((uint32_t)j == path[t] ? 1.0f : 0.0f));
    }
    const float *first = dx, *last = dx + (size_t)(rows - 1) * n;
    for (int j = 0; j < n; j++) {
        dstart[j] += first[j];
        dend[j] += last[j];
    }
}

/* One step of the pass over the words: cur[j] = x[j] + the max over i of
 * prev[i] + trans[i][j] (-inf when every prev[i] is), n tags. An
 * elementwise max over rows of trans, which vectorizes (restrict), built
 * for AVX2 and AVX-512 too: the T x T maxima per word were a quarter of an
 * int8 CRF model's pnm-classify on the baseline's 4 lanes. (Keeping a
 * block of maxima in registers over all rows, rather than in cur, did not
 * measure faster: reading trans from L2 each word is the cost.) */
PNM_SIMD_CLONES
static void viterbi_step(float *restrict cur, const float *restrict prev,
                         const float *restrict trans, const float *restrict x, uint32_t n)
{
    for (uint32_t j = 0; j < n; j++)
        cur[j] = -INFINITY;
    for (uint32_t i = 0; i < n; i++) {
        if (prev[i] == -INFINITY)
            continue;
        const float *row = trans + (size_t)i * n;
        float b = prev[i];
        for (uint32_t j = 0; j < n; j++) {
            float s = b + row[j];
            cur[j] = s > cur[j] ? s : cur[j];
        }
    }
    for (uint32_t j = 0; j < n; j++)
        cur[j] += x[j];
}

/* The pass over the words keeps no back pointers, only each prefix's best
 * score: an elementwise max, which vectorizes, where tracking the argmax
 * too does not. The way back finds each word's best predecessor again,
 * from the same sums: O(T) a word. */
void pnm_crf_decode(const pnm_crf *crf, const float *x, uint32_t rows, uint32_t *out,
                    float *score)
{
    uint32_t n = crf->n_tags;
    for (uint32_t j = 0; j < n; j++)
        score[j] = crf->start[j] + x[j];
    for (uint32_t t = 1; t < rows; t++)
        viterbi_step(score + (size_t)t * n, score + (size_t)(t - 1) * n, crf->trans,
                     x + (size_t)t * n, n);
    const float *last = score + (size_t)(rows - 1) * n;
    uint32_t k = 0;
    for (uint32_t j = 1; j < n; j++)
        k = last[j] + crf->end[j] > last[k] + crf->end[k] ? j : k;
    /* Ties go to the lower tag: only a strictly better one replaces it. */
    for (uint32_t t = rows - 1; t > 0; t--) {
        out[t] = k;
        const float *prev = score + (size_t)(t - 1) * n;
        uint32_t from = 0;
        float best = prev[0] + crf->trans[k];
        for (uint32_t i = 1; i < n; i++) {
            float v = prev[i] + crf->trans[(size_t)i * n + k];
            if (v > best)
                best = v, from = i;
        }
        k = from;
    }
    out[0] = k;
}
