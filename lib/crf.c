#include "crf.h"

#include <cblas.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int pnm_crf_init(pnm_crf *crf, uint32_t n_tags, pnm_error *err)
{
    memset(crf, 0, sizeof *crf);
    size_t t = n_tags ? n_tags : 1;
    crf->n_tags = n_tags;
    crf->trans = malloc(t * t * sizeof *crf->trans);
    crf->start = malloc(t * sizeof *crf->start);
    crf->end = malloc(t * sizeof *crf->end);
    crf->expt = malloc(t * t * sizeof *crf->expt);
    crf->u = malloc(t * sizeof *crf->u);
    crf->v = malloc(t * sizeof *crf->v);
    if (!crf->trans || !crf->start || !crf->end || !crf->expt || !crf->u || !crf->v) {
        pnm_crf_free(crf);
        return pnm_error_set(err, "out of memory");
    }
    return 0;
}

void pnm_crf_free(pnm_crf *crf)
{
    free(crf->trans), free(crf->start), free(crf->end), free(crf->expt);
    free(crf->u), free(crf->v);
    memset(crf, 0, sizeof *crf);
}

/* BIO's rule: an I-X only after B-X or I-X (other shapes count as O). */
static bool allowed(const pnm_bio *bio, uint32_t from, uint32_t to)
{
    return bio->kind[to] != 'I' || (bio->kind[from] != 'O' && bio->type[from] == bio->type[to]);
}

void pnm_crf_set(pnm_crf *crf, const pnm_bio *bio, const float *trans, const float *start,
                 const float *end)
{
    uint32_t n = crf->n_tags;
    crf->bio = bio;
    float shift = -INFINITY;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < n; j++) {
            float s = allowed(bio, i, j) ? trans[(size_t)i * n + j] : -INFINITY;
            crf->trans[(size_t)i * n + j] = s;
            shift = s > shift ? s : shift;
        }
    /* Shifted so that no exponential overflows: the largest is 1. */
    crf->shift = isfinite(shift) ? shift : 0;
    for (size_t k = 0; k < (size_t)n * n; k++)
        crf->expt[k] = exp((double)crf->trans[k] - crf->shift);
    for (uint32_t j = 0; j < n; j++) {
        crf->start[j] = bio->kind[j] == 'I' ? -INFINITY : start[j];
        crf->end[j] = end[j];
    }
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

/* u = exp(a - max a) (0 where a is -inf); returns max a. */
static double exp_shifted(double *u, const double *a, uint32_t n)
{
    double m = -INFINITY;
    for (uint32_t i = 0; i < n; i++)
        m = a[i] > m ? a[i] : m;
    for (uint32_t i = 0; i < n; i++)
        u[i] = a[i] > -INFINITY ? exp(a[i] - m) : 0;
    return m;
}

/* Log space, with each step's largest term factored out, so that the sums
 * over predecessors (or successors) are a plain product with expt. */
double pnm_crf_forward(const pnm_crf *crf, const float *x, uint32_t rows, double *alpha,
                       double *beta)
{
    int n = (int)crf->n_tags;
    double *u = crf->u, *v = crf->v;
    for (int j = 0; j < n; j++)
        alpha[j] = (double)crf->start[j] + x[j];
    for (uint32_t t = 1; t < rows; t++) {
        const double *a = alpha + (size_t)(t - 1) * n;
        double m = exp_shifted(u, a, (uint32_t)n);
        cblas_dgemv(CblasRowMajor, CblasTrans, n, n, 1.0, crf->expt, n, u, 1, 0.0, v, 1);
        double *next = alpha + (size_t)t * n;
        const float *xt = x + (size_t)t * n;
        for (int j = 0; j < n; j++)
            next[j] = v[j] > 0 ? m + crf->shift + log(v[j]) + xt[j] : -INFINITY;
    }
    double *last = beta + (size_t)(rows - 1) * n;
    for (int j = 0; j < n; j++)
        last[j] = crf->end[j];
    for (uint32_t t = rows - 1; t-- > 0;) {
        const double *b = beta + (size_t)(t + 1) * n;
        const float *xt = x + (size_t)(t + 1) * n;
        for (int j = 0; j < n; j++)
            v[j] = xt[j] + b[j];
        double m = exp_shifted(u, v, (uint32_t)n);
        cblas_dgemv(CblasRowMajor, CblasNoTrans, n, n, 1.0, crf->expt, n, u, 1, 0.0, v, 1);
        double *here = beta + (size_t)t * n;
        for (int i = 0; i < n; i++)
            here[i] = v[i] > 0 ? m + crf->shift + log(v[i]) : -INFINITY;
    }
    const double *a = alpha + (size_t)(rows - 1) * n;
    for (int j = 0; j < n; j++)
        v[j] = a[j] + crf->end[j];
    double m = exp_shifted(u, v, (uint32_t)n), sum = 0;
    for (int j = 0; j < n; j++)
        sum += u[j];
    return sum > 0 ? m + log(sum) : -INFINITY;
}

void pnm_crf_marginals(const pnm_crf *crf, uint32_t rows, const double *alpha,
                       const double *beta, double log_z, float *marginals)
{
    size_t count = (size_t)rows * crf->n_tags;
    /* No allowed sequence at all (a tag set without a tag that may start
     * one): nothing is probable. */
    for (size_t k = 0; k < count; k++)
        marginals[k] = isfinite(log_z) ? (float)exp(alpha[k] + beta[k] - log_z) : 0.0f;
}

/* d(log Z)/dx[t][j] is the marginal of j at t; d(log Z)/dtrans[i][j] the
 * expected count of i -> j, summed over t of
 *   exp(alpha[t-1][i] + trans[i][j] + x[t][j] + beta[t][j] - log Z)
 *   = u[i] * expt[i][j] * v[j], u = exp(alpha[t-1] - m), v = exp(m + shift + x[t] + beta[t] - log Z).
 * The path's own score contributes -1 per tag and transition it uses. */
void pnm_crf_nll_backward(const pnm_crf *crf, const float *x, uint32_t rows,
                          const uint32_t *path, const double *alpha, const double *beta,
                          double log_z, float scale, float *dx, float *dtrans, float *dstart,
                          float *dend)
{
    uint32_t n = crf->n_tags;
    double *u = crf->u, *v = crf->v;
    for (uint32_t t = 0; t < rows; t++) {
        const float *xt = x + (size_t)t * n;
        const double *at = alpha + (size_t)t * n, *bt = beta + (size_t)t * n;
        if (t > 0) {
            double m = exp_shifted(u, at - n, n);
            for (uint32_t j = 0; j < n; j++)
                v[j] = bt[j] > -INFINITY ? exp(m + crf->shift + xt[j] + bt[j] - log_z) : 0;
            for (uint32_t i = 0; i < n; i++) {
                if (u[i] == 0)
                    continue;
                double w = scale * u[i];
                const double *e = crf->expt + (size_t)i * n;
                float *d = dtrans + (size_t)i * n;
                for (uint32_t j = 0; j < n; j++)
                    d[j] += (float)(w * e[j] * v[j]);
            }
            dtrans[(size_t)path[t - 1] * n + path[t]] -= scale;
        }
        float *d = dx + (size_t)t * n;
        for (uint32_t j = 0; j < n; j++)
            d[j] = scale * ((float)exp(at[j] + bt[j] - log_z) - (j == path[t] ? 1.0f : 0.0f));
    }
    const float *first = dx, *last = dx + (size_t)(rows - 1) * n;
    for (uint32_t j = 0; j < n; j++) {
        dstart[j] += first[j];
        dend[j] += last[j];
    }
}

/* cur = max(cur, b + row), elementwise (restrict: so that it vectorizes). */
static void max_plus(float *restrict cur, const float *restrict row, float b, uint32_t n)
{
    for (uint32_t j = 0; j < n; j++) {
        float s = b + row[j];
        cur[j] = s > cur[j] ? s : cur[j];
    }
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
    for (uint32_t t = 1; t < rows; t++) {
        const float *prev = score + (size_t)(t - 1) * n, *xt = x + (size_t)t * n;
        float *cur = score + (size_t)t * n;
        for (uint32_t j = 0; j < n; j++)
            cur[j] = -INFINITY;
        for (uint32_t i = 0; i < n; i++)
            if (prev[i] != -INFINITY)
                max_plus(cur, crf->trans + (size_t)i * n, prev[i], n);
        for (uint32_t j = 0; j < n; j++)
            cur[j] += xt[j];
    }
    const float *last = score + (size_t)(rows - 1) * n;
    uint32_t k = 0;
    for (uint32_t j = 1; j < n; j++)
        k = last[j] + crf->end[j] > last[k] + crf->end[k] ? j : k;
    /* Ties go to the lower tag: only a strictly better one replaces it. */
    for (uint32_t t = rows - 1; t > 0; t--) {
        out[t] = k;
        const float *prev = score + (size_t)(t - 1) * n;
        uint32_t from = 0;
        for (uint32_t i = 1; i < n; i++)
            from = prev[i] + crf->trans[(size_t)i * n + k] >
                           prev[from] + crf->trans[(size_t)from * n + k] ? i : from;
        k = from;
    }
    out[0] = k;
}
