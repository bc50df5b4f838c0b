#include "bio.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"

/* b->inside, pred_at and preds from the kinds and types; -1 when out of
 * memory. Quadratic in the tags, once. */
static int inside_lists(pnm_bio *b)
{
    uint32_t n = b->n_tags, ni = 0, np = 0;
    for (uint32_t k = 0; k < n; k++)
        for (uint32_t j = 0; j < n && b->kind[k] == 'I'; j++)
            np += b->kind[j] != 'O' && b->type[j] == b->type[k];
    for (uint32_t k = 0; k < n; k++)
        ni += b->kind[k] == 'I';
    b->inside = malloc((ni ? ni : 1) * sizeof *b->inside);
    b->pred_at = malloc((ni + 1) * sizeof *b->pred_at);
    b->preds = malloc((np ? np : 1) * sizeof *b->preds);
    if (!b->inside || !b->pred_at || !b->preds)
        return -1;
    b->pred_at[0] = 0;
    for (uint32_t k = 0; k < n; k++) {
        if (b->kind[k] != 'I')
            continue;
        uint32_t i = b->n_inside++, at = b->pred_at[i];
        b->inside[i] = k;
        for (uint32_t j = 0; j < n; j++)
            if (b->kind[j] != 'O' && b->type[j] == b->type[k])
                b->preds[at++] = j;
        b->pred_at[i + 1] = at;
    }
    return 0;
}

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
    if (rc == 0 && inside_lists(b))
        rc = pnm_error_set(err, "out of memory");
    if (rc)
        pnm_bio_free(b);
    return rc;
}

void pnm_bio_free(pnm_bio *b)
{
    free(b->kind);
    free(b->type);
    free(b->inside), free(b->pred_at), free(b->preds);
    memset(b, 0, sizeof *b);
}

/* Back pointers and two score rows (and room for crf.h's Viterbi scores,
 * rows x n_tags floats). */
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
 * or O may follow anything, so its best predecessor is the overall best,
 * set for every tag in one pass that vectorises; an I-X may follow only
 * B-X or I-X, so the I- tags then take the best of those two. Ties go to
 * the lowest tag index, as a plain argmax over the allowed tags would. */
void pnm_bio_decode(const pnm_bio *b, const float *scores, uint32_t rows, uint32_t *out,
                    void *scratch)
{
    uint32_t n = b->n_tags;
    if (rows == 0 || n == 0)
        return;
    uint32_t *back = scratch;
    float *score = (float *)(back + (size_t)rows * n), *next = score + n;
    for (uint32_t k = 0; k < n; k++)
        score[k] = b->kind[k] != 'I' ? scores[k] : -INFINITY;
    for (uint32_t t = 1; t < rows; t++) {
        const float *x = scores + (size_t)t * n;
        uint32_t *bt = back + (size_t)t * n;
        float top;
        uint32_t arg = argmax(score, n, &top);
        for (uint32_t k = 0; k < n; k++) {
            next[k] = x[k] + top;
            bt[k] = arg;
        }
        for (uint32_t i = 0; i < b->n_inside; i++) {
            float best = -INFINITY;
            uint32_t from = 0, k = b->inside[i];
            for (uint32_t q = b->pred_at[i]; q < b->pred_at[i + 1]; q++)
                if (score[b->preds[q]] > best)
                    best = score[b->preds[q]], from = b->preds[q];
            next[k] = x[k] + best;
            bt[k] = from;
        }
        float *swap = score;
        score = next, next = swap;
    }
    float top;
    uint32_t k = argmax(score, n, &top);
    for (uint32_t t = rows; t-- > 0;) {
        out[t] = k;
        k = back[(size_t)t * n + k];
    }
}
