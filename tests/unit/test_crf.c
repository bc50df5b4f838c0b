/* The linear-chain CRF against brute force over every tag sequence of tiny
 * sentences: log Z, the marginals and Viterbi; its loss gradients against
 * finite differences; the gold path's repair of BIO breaks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pnm.h"
#include "tap.h"

/* Two span types, a tag of another shape (counts as O), and I-c without a
 * B-c, which no allowed sequence can reach. */
static const char *const tag_names[] = {"O", "B-a", "I-a", "B-b", "I-b", "misc", "I-c"};
enum { T = 7, MAX_ROWS = 5 };

typedef struct problem {
    float x[MAX_ROWS * T], trans[T * T], start[T], end[T];
} problem;

static void make_problem(problem *p, uint64_t seed)
{
    for (int k = 0; k < MAX_ROWS * T; k++)
        p->x[k] = 1.5f * pnm_rand_normal(&seed);
    for (int k = 0; k < T * T; k++)
        p->trans[k] = pnm_rand_normal(&seed);
    for (int k = 0; k < T; k++)
        p->start[k] = pnm_rand_normal(&seed), p->end[k] = pnm_rand_normal(&seed);
}

/* The rules written out from the tag names, independently of crf.c. */
static int may_follow(int from, int to)
{
    const char *f = tag_names[from], *t = tag_names[to];
    if (strncmp(t, "I-", 2) != 0)
        return 1;
    return (strncmp(f, "B-", 2) == 0 || strncmp(f, "I-", 2) == 0) &&
           strcmp(f + 2, t + 2) == 0;
}

/* exp(score) of seq, or 0 when the rules forbid it. */
static double weight(const problem *p, const int *seq, int rows)
{
    if (strncmp(tag_names[seq[0]], "I-", 2) == 0)
        return 0;
    double s = p->start[seq[0]] + p->end[seq[rows - 1]];
    for (int t = 0; t < rows; t++) {
        if (t > 0 && !may_follow(seq[t - 1], seq[t]))
            return 0;
        s += p->x[t * T + seq[t]] + (t > 0 ? p->trans[seq[t - 1] * T + seq[t]] : 0);
    }
    return exp(s);
}

/* Sums over all T^rows sequences: Z, the marginals, the best sequence. */
static double brute_force(const problem *p, int rows, double *marg, int *best)
{
    int seq[MAX_ROWS] = {0};
    double z = 0, top = -1;
    memset(marg, 0, sizeof(double) * rows * T);
    for (;;) {
        double w = weight(p, seq, rows);
        z += w;
        for (int t = 0; t < rows; t++)
            marg[t * T + seq[t]] += w;
        if (w > top) {
            top = w;
            memcpy(best, seq, sizeof seq);
        }
        int t = rows - 1;
        while (t >= 0 && ++seq[t] == T)
            seq[t--] = 0;
        if (t < 0)
            break;
    }
    for (int k = 0; k < rows * T; k++)
        marg[k] /= z;
    return log(z);
}

static double nll(pnm_crf *crf, const pnm_bio *bio, const problem *p, int rows,
                  const uint32_t *path, double *alpha, double *beta)
{
    pnm_crf_set(crf, bio, p->trans, p->start, p->end);
    return pnm_crf_forward(crf, p->x, (uint32_t)rows, alpha, beta) -
           pnm_crf_path_score(crf, p->x, (uint32_t)rows, path);
}

/* Largest |analytic - numeric| over every input of the loss, relative to
 * the largest gradient. */
static double grad_check(pnm_crf *crf, const pnm_bio *bio, problem *p, int rows,
                         const uint32_t *path)
{
    double alpha[MAX_ROWS * T], beta[MAX_ROWS * T];
    float dx[MAX_ROWS * T], dtrans[T * T] = {0}, dstart[T] = {0}, dend[T] = {0};
    nll(crf, bio, p, rows, path, alpha, beta);
    pnm_crf_nll_backward(crf, (uint32_t)rows, path, alpha, beta, 1.0f, dx, dtrans, dstart, dend);
    struct { float *v, *d; int n; } tensors[] = {
        {p->x, dx, rows * T}, {p->trans, dtrans, T * T}, {p->start, dstart, T},
        {p->end, dend, T},
    };
    double gmax = 0, worst = 0;
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < tensors[k].n; i++)
            gmax = fmax(gmax, fabs(tensors[k].d[i]));
    const float eps = 1e-2f;
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < tensors[k].n; i++) {
            float keep = tensors[k].v[i];
            tensors[k].v[i] = keep + eps;
            double up = nll(crf, bio, p, rows, path, alpha, beta);
            tensors[k].v[i] = keep - eps;
            double down = nll(crf, bio, p, rows, path, alpha, beta);
            tensors[k].v[i] = keep;
            double numeric = (up - down) / (2 * eps);
            worst = fmax(worst, fabs(numeric - tensors[k].d[i]) / gmax);
        }
    pnm_crf_set(crf, bio, p->trans, p->start, p->end);
    return worst;
}

int main(void)
{
    pnm_error err;
    pnm_bio bio;
    pnm_crf crf;
    CHECK(pnm_bio_init(&bio, tag_names, T, &err) == 0 && pnm_crf_init(&crf, T, MAX_ROWS, &err) == 0,
          "CRF of 7 tags");

    double worst_z = 0, worst_marg = 0;
    int viterbi_ok = 1;
    for (int rows = 1; rows <= MAX_ROWS; rows++)
        for (uint64_t seed = 1; seed <= 3; seed++) {
            problem p;
            make_problem(&p, seed * 100 + (uint64_t)rows);
            pnm_crf_set(&crf, &bio, p.trans, p.start, p.end);
            double alpha[MAX_ROWS * T], beta[MAX_ROWS * T], marg[MAX_ROWS * T];
            float got[MAX_ROWS * T];
            int best[MAX_ROWS];
            double log_z = brute_force(&p, rows, marg, best);
            double mine = pnm_crf_forward(&crf, p.x, (uint32_t)rows, alpha, beta);
            worst_z = fmax(worst_z, fabs(mine - log_z));
            pnm_crf_marginals(&crf, (uint32_t)rows, alpha, beta, got);
            for (int k = 0; k < rows * T; k++)
                worst_marg = fmax(worst_marg, fabs(got[k] - marg[k]));
            uint32_t decoded[MAX_ROWS];
            float score[MAX_ROWS * T];
            pnm_crf_decode(&crf, p.x, (uint32_t)rows, decoded, score);
            for (int t = 0; t < rows; t++)
                viterbi_ok &= decoded[t] == (uint32_t)best[t];
        }
    printf("# log Z against brute force: worst error %.2e; marginals %.2e\n", worst_z,
           worst_marg);
    CHECK(worst_z < 1e-5, "log Z is the log-sum-exp over every allowed sequence");
    CHECK(worst_marg < 1e-5, "marginals are those of brute force");
    CHECK(viterbi_ok, "Viterbi finds the best allowed sequence");

    /* Every allowed sequence of 4 words gains 3 x 1000 from transitions
     * 1000 higher: log Z too, without an exponential overflowing. */
    {
        problem p;
        make_problem(&p, 5);
        double alpha[MAX_ROWS * T], beta[MAX_ROWS * T];
        pnm_crf_set(&crf, &bio, p.trans, p.start, p.end);
        double low = pnm_crf_forward(&crf, p.x, 4, alpha, beta);
        for (int k = 0; k < T * T; k++)
            p.trans[k] += 1000;
        pnm_crf_set(&crf, &bio, p.trans, p.start, p.end);
        double high = pnm_crf_forward(&crf, p.x, 4, alpha, beta);
        printf("# log Z %.6f, with transitions 1000 higher %.6f\n", low, high);
        CHECK(fabs(high - low - 3000) < 1e-2, "log Z of large transitions does not overflow");
    }

    /* Gold paths: the breaks of BIO become B- tags; what cannot be
     * repaired is refused. */
    int32_t gold[] = {2, 4, 0, 2, 2}; /* I-a I-b O I-a I-a */
    uint32_t path[5];
    CHECK(pnm_crf_gold_path(&bio, gold, 5, path) == 0 && path[0] == 1 && path[1] == 3 &&
              path[2] == 0 && path[3] == 1 && path[4] == 2,
          "an I-X that BIO forbids is scored as B-X");
    int32_t orphan[] = {0, 6}, unknown[] = {0, 7}, untagged[] = {-1};
    CHECK(pnm_crf_gold_path(&bio, orphan, 2, path) < 0, "an I-X with no B-X has no gold path");
    CHECK(pnm_crf_gold_path(&bio, unknown, 2, path) < 0 &&
              pnm_crf_gold_path(&bio, untagged, 1, path) < 0,
          "a tag outside the tag set has no gold path");

    double worst = 0;
    for (int rows = 1; rows <= 4; rows++) {
        problem p;
        make_problem(&p, 7 + (uint64_t)rows);
        int32_t g[4] = {1, 2, 0, 5};
        pnm_crf_gold_path(&bio, g, (uint32_t)rows, path);
        worst = fmax(worst, grad_check(&crf, &bio, &p, rows, path));
    }
    printf("# worst CRF gradient mismatch: %.2e of the largest gradient\n", worst);
    CHECK(worst < 1e-3, "loss gradients (scores, transitions, start, end) match finite differences");

    pnm_crf_free(&crf);
    pnm_bio_free(&bio);
    return tap_done();
}
