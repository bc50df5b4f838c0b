/* BIO-constrained decoding against brute force: on random scores over
 * small tag sets, the decoder's sequence is valid and scores as well as
 * the best valid sequence found by trying them all; the log-softmax of the
 * same scores decodes to the same sequence. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bio.h"
#include "layers.h"
#include "tap.h"

#define MAX_ROWS 5
#define MAX_TAGS 7

static const char *tag_sets[][MAX_TAGS] = {
    {"O", "B-a", "I-a", "B-b", "I-b", "B-c", "I-c"},
    {"B-a", "I-a", "O", "I-b", "B-b", "I-c", "B-c"}, /* O not first, I before B */
    {"I-a", "I-b", "B-a", "O", "other", "B-b", "I-c"}, /* I-c without its B-c */
};

static int valid(const pnm_bio *b, const uint32_t *seq, uint32_t rows)
{
    for (uint32_t t = 0; t < rows; t++) {
        uint32_t k = seq[t];
        if (b->kind[k] != 'I')
            continue;
        if (t == 0 || b->kind[seq[t - 1]] == 'O' || b->type[seq[t - 1]] != b->type[k])
            return 0;
    }
    return 1;
}

static double score_of(const float *scores, const uint32_t *seq, uint32_t rows, uint32_t n)
{
    double s = 0;
    for (uint32_t t = 0; t < rows; t++)
        s += scores[t * n + seq[t]];
    return s;
}

/* Each row's log-softmax: the scores less one constant per row. */
static void log_softmax(float *out, const float *x, uint32_t rows, uint32_t n)
{
    for (uint32_t t = 0; t < rows; t++) {
        double sum = 0;
        for (uint32_t k = 0; k < n; k++)
            sum += exp(x[t * n + k]);
        for (uint32_t k = 0; k < n; k++)
            out[t * n + k] = (float)(x[t * n + k] - log(sum));
    }
}

/* The best score over every valid sequence (-inf if none is valid). */
static double brute_force(const pnm_bio *b, const float *scores, uint32_t rows, uint32_t n)
{
    uint32_t seq[MAX_ROWS] = {0};
    double best = -INFINITY;
    for (;;) {
        if (valid(b, seq, rows)) {
            double s = score_of(scores, seq, rows, n);
            best = s > best ? s : best;
        }
        uint32_t t = 0;
        while (t < rows && ++seq[t] == n)
            seq[t++] = 0;
        if (t == rows)
            return best;
    }
}

int main(void)
{
    uint64_t rng = 42;
    int all_valid = 1, all_best = 1, same = 1;
    for (size_t set = 0; set < sizeof tag_sets / sizeof *tag_sets; set++) {
        pnm_bio b;
        pnm_error err;
        if (!CHECK(pnm_bio_init(&b, tag_sets[set], MAX_TAGS, &err) == 0, "init"))
            return tap_done();
        void *scratch = malloc(pnm_bio_scratch_size(&b, MAX_ROWS));
        for (int trial = 0; trial < 300; trial++) {
            uint32_t rows = 1 + (uint32_t)(pnm_rand_next(&rng) % MAX_ROWS);
            uint32_t out[MAX_ROWS], out_log[MAX_ROWS];
            float x[MAX_ROWS * MAX_TAGS], logp[MAX_ROWS * MAX_TAGS];
            for (uint32_t i = 0; i < rows * MAX_TAGS; i++)
                x[i] = 8.0f * pnm_rand_uniform(&rng) - 4.0f;
            pnm_bio_decode(&b, x, rows, out, scratch);
            all_valid &= valid(&b, out, rows);
            double want = brute_force(&b, x, rows, MAX_TAGS);
            all_best &= fabs(score_of(x, out, rows, MAX_TAGS) - want) < 1e-4;
            log_softmax(logp, x, rows, MAX_TAGS);
            pnm_bio_decode(&b, logp, rows, out_log, scratch);
            same &= memcmp(out, out_log, rows * sizeof *out) == 0;
        }
        free(scratch);
        pnm_bio_free(&b);
    }
    CHECK(all_valid, "every decoded sequence obeys BIO (I-X only after B-X or I-X)");
    CHECK(all_best, "every decoded sequence scores as the best valid one (brute force)");
    CHECK(same, "logits and their log-softmax decode to the same sequences");

    /* One case by hand: argmax would say O I-a; the best valid is B-a I-a. */
    static const char *tags[] = {"O", "B-a", "I-a"};
    pnm_bio b;
    pnm_error err;
    pnm_bio_init(&b, tags, 3, &err);
    const float probs[] = {0.5f, 0.4f, 0.1f, 0.1f, 0.1f, 0.8f};
    float logp[6];
    for (int i = 0; i < 6; i++)
        logp[i] = logf(probs[i]);
    uint32_t out[2];
    void *scratch = malloc(pnm_bio_scratch_size(&b, 2));
    pnm_bio_decode(&b, logp, 2, out, scratch);
    CHECK(out[0] == 1 && out[1] == 2, "O I-a becomes B-a I-a");
    free(scratch);
    pnm_bio_free(&b);
    return tap_done();
}
