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

size_t pnm_bio_scratch_size(const pnm_bio *b, uint32_t rows)
{
    return ((size_t)rows * sizeof(uint32_t) + 2 * sizeof(float)) * b->n_tags;
}

static bool allowed(const pnm_bio *b, int64_t prev, uint32_t cur)
{
    if (b->kind[cur] != 'I')
        return true;
    return prev >= 0 && b->kind[prev] != 'O' && b->type[prev] == b->type[cur];
}

void pnm_bio_decode(const pnm_bio *b, const float *probs, uint32_t rows, uint32_t *out,
                    void *scratch)
{
    uint32_t n = b->n_tags;
    if (rows == 0 || n == 0)
        return;
    uint32_t *back = scratch;
    float *score = (float *)(back + (size_t)rows * n), *next = score + n;
    for (uint32_t k = 0; k < n; k++)
        score[k] = allowed(b, -1, k) ? logf(probs[k] + 1e-30f) : -INFINITY;
    for (uint32_t t = 1; t < rows; t++) {
        const float *p = probs + (size_t)t * n;
        for (uint32_t k = 0; k < n; k++) {
            float best = -INFINITY;
            uint32_t arg = 0;
            for (uint32_t j = 0; j < n; j++)
                if (score[j] > best && allowed(b, j, k))
                    best = score[j], arg = j;
            next[k] = best + logf(p[k] + 1e-30f);
            back[(size_t)t * n + k] = arg;
        }
        memcpy(score, next, n * sizeof *score);
    }
    uint32_t k = 0;
    for (uint32_t j = 1; j < n; j++)
        k = score[j] > score[k] ? j : k;
    for (uint32_t t = rows; t-- > 0;) {
        out[t] = k;
        k = back[(size_t)t * n + k];
    }
}
