#include "bio.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"

int pnm_bio_init(pnm_bio *b, const char *const *tags, uint32_t n_tags, pnm_error *err)
{
    memset(b, 0, sizeof *b);
    b->n_tags = n_tags;
    b->kind = malloc(n_tags ? n_tags : 1);
    b->type = malloc((n_tags ? n_tags : 1) * sizeof *b->type);
    pnm_labelset types = {0};
    int rc = b->kind && b->type ? 0 : pnm_error_set(err, "out of memory");
    for (uint32_t k = 0; rc == 0 && k < n_tags; k++) {
        const char *t = tags[k];
        bool bio = (t[0] == 'B' || t[0] == 'I') && t[1] == '-' && t[2] != '\0';
        b->kind[k] = bio ? t[0] : 'O';
        if (strcmp(t, "O") == 0 && b->outside == 0)
            b->outside = k;
        int64_t id = bio ? pnm_labelset_intern(&types, t + 2, strlen(t + 2)) : 0;
        if (id < 0)
            rc = pnm_error_set(err, "out of memory");
        b->type[k] = (uint32_t)id;
    }
    pnm_labelset_free(&types);
    if (rc)
        pnm_bio_free(b);
    return rc;
}

void pnm_bio_free(pnm_bio *b)
{
    free(b->kind);
    free(b->type);
    memset(b, 0, sizeof *b);
}

/* Back pointers, two score rows and the best previous tag of each type. */
size_t pnm_bio_scratch_size(const pnm_bio *b, uint32_t rows)
{
    return ((size_t)rows + 4) * b->n_tags * sizeof(uint32_t);
}

/* The index of the largest of v[0..n) (the first of equal ones; 0 when
 * all are -inf), and in *top its value. Four interleaved chains, each
 * keeping its best value beside its index, merged at the end: one chain
 * waits on each compare before the next, and was most of the decoding's
 * time. */
static uint32_t argmax(const float *v, uint32_t n, float *top)
{
    enum { CHAINS = 4 };
    float best[CHAINS];
    uint32_t arg[CHAINS] = {0};
    for (uint32_t c = 0; c < CHAINS; c++)
        best[c] = -INFINITY;
    uint32_t j = 0;
    for (; j + CHAINS <= n; j += CHAINS)
        for (uint32_t c = 0; c < CHAINS; c++) {
            arg[c] = v[j + c] > best[c] ? j + c : arg[c];
            best[c] = v[j + c] > best[c] ? v[j + c] : best[c];
        }
    for (; j < n; j++) {
        arg[0] = v[j] > best[0] ? j : arg[0];
        best[0] = v[j] > best[0] ? v[j] : best[0];
    }
    uint32_t k = 0;
    for (uint32_t c = 1; c < CHAINS; c++)
        if (best[c] > best[k] || (best[c] == best[k] && arg[c] < arg[k]))
            k = c;
    *top = best[k];
    return arg[k];
}

/* The constraint makes each step linear in the tags, not quadratic: a B-X
 * or O may follow anything, so its best predecessor is the overall best;
 * an I-X may follow only B-X or I-X, the best of its type. Ties go to the
 * lowest tag index, as a plain argmax over the allowed tags would. */
void pnm_bio_decode(const pnm_bio *b, const float *scores, uint32_t rows, uint32_t *out,
                    void *scratch)
{
    uint32_t n = b->n_tags;
    if (rows == 0 || n == 0)
        return;
    uint32_t *back = scratch, *type_arg = back + (size_t)rows * n;
    float *score = (float *)(type_arg + n), *next = score + n, *type_best = next + n;
    for (uint32_t k = 0; k < n; k++)
        score[k] = b->kind[k] != 'I' ? scores[k] : -INFINITY;
    for (uint32_t t = 1; t < rows; t++) {
        const float *x = scores + (size_t)t * n;
        float top;
        uint32_t arg = argmax(score, n, &top);
        for (uint32_t j = 0; j < n; j++)
            type_best[j] = -INFINITY, type_arg[j] = 0;
        for (uint32_t j = 0; j < n; j++)
            if (b->kind[j] != 'O' && score[j] > type_best[b->type[j]])
                type_best[b->type[j]] = score[j], type_arg[b->type[j]] = j;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t from = b->kind[k] == 'I' ? type_arg[b->type[k]] : arg;
            float best = b->kind[k] == 'I' ? type_best[b->type[k]] : top;
            next[k] = x[k] + best;
            back[(size_t)t * n + k] = from;
        }
        memcpy(score, next, n * sizeof *score);
    }
    float top;
    uint32_t k = argmax(score, n, &top);
    for (uint32_t t = rows; t-- > 0;) {
        out[t] = k;
        k = back[(size_t)t * n + k];
    }
}
