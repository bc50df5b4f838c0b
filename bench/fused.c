/* fused [-r RUNS] [-k KERNELS] MODEL < TEXT: the in-process path of
 * scripts/bench.
 *
 * Every line of TEXT is classified in this one process, the way an embedder
 * does it (pnm_classifier_open(3)), and timed four ways, each run RUNS times
 * (default 3) and reported as the median of the runs:
 *
 *   single   pnm_classify_text, one line per call on one session (batch 1);
 *            also the 50th and 99th percentile of the time of one call
 *   batch    pnm_classify_batch over all lines on one thread
 *   forward1 the network alone (pnm_forward: bottleneck, mixer layers, final
 *            LayerNorm and heads) on lines tokenized and projected beforehand,
 *            one example per call as pnm-classify runs it
 *   forward64  the same, 64 examples per call (rows stacked, larger products;
 *            an int8 model runs one example a call all the same)
 *
 * With an int8 model, -k names the kernel set forward1 and forward64 use
 * (qkernels.h: avx512vnni, avx512, avx2 or portable; default the best this
 * CPU runs), to time the fallbacks; the other timings use the best.
 *
 * Output: one "key value" line each, for scripts/bench-model. The floating
 * point operations of the network are counted per example from the model's
 * configuration and the example's length (flops_of), so that GFLOP/s is
 * counted work over measured time, not a hardware counter. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pnm.h"

#define FORWARD_BATCH 64

typedef struct example_set {
    size_t n;
    pnm_example *ex;   /* buckets owned */
    double mixer_flop; /* summed over the examples */
    double heads_flop;
    uint64_t words, rows;
} example_set;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of v[0..n) (sorts v), by the nearest rank. */
static double quantile(double *v, size_t n, double q)
{
    qsort(v, n, sizeof *v, cmp_double);
    size_t at = (size_t)(q * (double)n);
    return v[at < n ? at : n - 1];
}

/* Floating point operations of one forward pass over an example of `words`
 * words, as lib/model.c computes it. A multiply-add counts 2, an add or a
 * multiply 1; LayerNorm counts 8 per element, GELU 8 and a softmax 3 per
 * element (exp counted as one). *mixer: bottleneck gather-adds, the layers
 * (token mixing W1 h_t x L by L x b and W2 L x h_t by h_t x b; channel
 * mixing L x b by b x h_c and back; biases, residuals, LayerNorms, GELUs)
 * and the final LayerNorm. *heads: attention pooling, the label and tag
 * linear layers and their softmaxes (BIO decoding not counted). */
static void flops_of(const pnm_config *c, uint32_t words, double *mixer, double *heads)
{
    pnm_example e = {words, NULL, -1, NULL};
    double L = pnm_example_rows(&e, c->seq_len), b = c->bottleneck;
    double ht = c->token_hidden, hc = c->channel_hidden, n = c->projection.hashes;
    double k = c->n_labels, nt = c->n_tags;
    int64_t w = c->projection.window;
    double pairs = 0; /* (row, neighbouring word) pairs the bottleneck adds */
    for (int64_t t = 0; t < (int64_t)L; t++)
        for (int64_t o = -w; o <= w; o++)
            pairs += t + o >= 0 && t + o < (int64_t)words;
    double bottleneck = pairs * n * b;
    double token = 2 * ht * L * b + ht * b + 8 * ht * b + 2 * L * ht * b + L * b;
    double channel = 2 * L * b * hc + L * hc + 8 * L * hc + 2 * L * hc * b + L * b;
    double layer = 8 * L * b + token + L * b + 8 * L * b + channel + L * b;
    *mixer = bottleneck + c->layers * layer + 8 * L * b;
    *heads = 0;
    if (k)
        *heads += 2 * L * b + 3 * L + 2 * L * b + 2 * k * b + k + 3 * k;
    if (nt)
        *heads += 2 * L * b * nt + L * nt + 3 * L * nt + (c->tag_sentence ? 2 * nt * b + L * nt : 0);
}

/* Tokenizes and projects every text as pnm_classify_text does, keeping
 * the buckets for the forward-only timings. */
static int examples_of(example_set *set, const pnm_model *m, char **texts, size_t n,
                       pnm_error *err)
{
    memset(set, 0, sizeof *set);
    pnm_header th;
    if (pnm_model_tokens_header(m, 0, &th, err))
        return -1;
    pnm_projector *pr = pnm_projector_new(&th, &m->config.projection, err);
    pnm_header_free(&th);
    if (!pr)
        return -1;
    pnm_tokens tokens = {0};
    pnm_features f = {0};
    int rc = 0;
    set->ex = calloc(n, sizeof *set->ex);
    if (!set->ex)
        rc = pnm_error_set(err, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        bool truncated;
        rc = pnm_tokenize_line(m->sp, texts[i], strlen(texts[i]), i + 1, 0, &tokens,
                               &truncated, err);
        if (rc == 0)
            rc = pnm_project_tokens(pr, &tokens, &f, err);
        if (rc)
            break;
        size_t count = (size_t)f.n_words * f.hashes;
        uint16_t *buckets = malloc(count ? count * sizeof *buckets : 1);
        if (!buckets) {
            rc = pnm_error_set(err, "out of memory");
            break;
        }
        memcpy(buckets, f.buckets, count * sizeof *buckets);
        set->ex[i] = (pnm_example){f.n_words, buckets, -1, NULL};
        set->n = i + 1;
        double mixer, heads;
        flops_of(&m->config, f.n_words, &mixer, &heads);
        set->mixer_flop += mixer;
        set->heads_flop += heads;
        set->words += f.n_words;
        set->rows += pnm_example_rows(&set->ex[i], m->config.seq_len);
    }
    pnm_tokens_free(&tokens);
    pnm_features_free(&f);
    pnm_projector_free(pr);
    return rc;
}

static void examples_free(example_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        free((void *)set->ex[i].buckets);
    free(set->ex);
}

/* Seconds for the network over every example, `per_call` examples a call.
 * An int8 model (qws not NULL) runs as the runner runs it, one example a
 * call whatever per_call (its forward has no batched form): the int8
 * mixer, then its heads (qheads.h). */
static double time_forward(const pnm_model *m, pnm_workspace *ws, pnm_qworkspace *qws,
                           pnm_qheads *qh, const example_set *set, size_t per_call,
                           pnm_error *err)
{
    double t0 = now_s();
    for (size_t i = 0; i < set->n && qws; i++) {
        uint32_t rows;
        const float *o = pnm_qforward(qws, m->qw, &m->p, set->ex + i, &rows);
        if (pnm_qheads_forward(qh, m->qw, &m->p, ws, o, rows, err))
            return -1;
    }
    for (size_t i = 0; i < set->n && !qws; i += per_call) {
        size_t k = set->n - i < per_call ? set->n - i : per_call;
        if (pnm_forward(&m->config, &m->p, ws, set->ex + i, k, NULL, err) < 0)
            return -1;
    }
    return now_s() - t0;
}

/* Every line of stdin without its newline (what pnm-tokenize reads as one
 * example; pnm_classify_text checks the UTF-8); no line is an error. */
static char **read_lines(size_t *n, pnm_error *err)
{
    char **lines = NULL, *line = NULL;
    size_t cap = 0, size = 0;
    ssize_t len;
    *n = 0;
    while ((len = getline(&line, &size, stdin)) >= 0) {
        if (len > 0 && line[len - 1] == '\n')
            line[len - 1] = '\0';
        if (*n == cap) {
            char **more = realloc(lines, (cap = cap ? 2 * cap : 1024) * sizeof *lines);
            if (!more)
                break;
            lines = more;
        }
        lines[(*n)++] = line;
        line = NULL;
        size = 0;
    }
    free(line);
    if (len >= 0 || ferror(stdin) || *n == 0) {
        pnm_error_set(err, len >= 0 ? "out of memory" : ferror(stdin) ? "cannot read standard input"
                                                               : "no lines on standard input");
        for (size_t i = 0; i < *n; i++)
            free(lines[i]);
        free(lines);
        return NULL;
    }
    return lines;
}

enum { SINGLE, P50, P99, BATCH, FORWARD1, FORWARD64, N_METRICS };

/* One run of every timing: metrics[] in seconds (whole input) or
 * microseconds (percentiles). */
static int run_once(const pnm_classifier *c, pnm_session *s, pnm_workspace *ws,
                    pnm_qworkspace *qws, pnm_qheads *qh, char **texts, size_t n, const example_set *set, double *lat,
                    double *metrics, pnm_error *err)
{
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        double q0 = now_s();
        if (!pnm_classify_text(s, texts[i], err))
            return -1;
        lat[i] = now_s() - q0;
    }
    metrics[SINGLE] = now_s() - t0;
    metrics[P50] = quantile(lat, n, 0.50) * 1e6;
    metrics[P99] = quantile(lat, n, 0.99) * 1e6;
    t0 = now_s();
    pnm_result **r = pnm_classify_batch(c, (const char *const *)texts, n, 1, err);
    metrics[BATCH] = now_s() - t0;
    if (!r)
        return -1;
    pnm_results_free(r, n);
    const pnm_model *m = pnm_classifier_model(c);
    metrics[FORWARD1] = time_forward(m, ws, qws, qh, set, 1, err);
    metrics[FORWARD64] = time_forward(m, ws, qws, qh, set, FORWARD_BATCH, err);
    return metrics[FORWARD1] < 0 || metrics[FORWARD64] < 0 ? -1 : 0;
}

static void report(const pnm_model *m, size_t n, const example_set *set, double *runs,
                   unsigned n_runs)
{
    double med[N_METRICS];
    double *v = runs + (size_t)N_METRICS * n_runs; /* scratch after the runs */
    for (int k = 0; k < N_METRICS; k++) {
        for (unsigned r = 0; r < n_runs; r++)
            v[r] = runs[(size_t)r * N_METRICS + k];
        med[k] = quantile(v, n_runs, 0.5);
    }
    double flop = set->mixer_flop + set->heads_flop;
    printf("lines %zu\nwords %" PRIu64 "\nrows %" PRIu64 "\nruns %u\n", n, set->words,
           set->rows, n_runs);
    printf("params %zu\n", pnm_params_count(&m->config));
    printf("mixer_flop_per_query %.0f\nheads_flop_per_query %.0f\n", set->mixer_flop / n,
           set->heads_flop / n);
    printf("single_qps %.1f\nsingle_p50_us %.2f\nsingle_p99_us %.2f\n", n / med[SINGLE],
           med[P50], med[P99]);
    printf("batch_qps %.1f\n", n / med[BATCH]);
    printf("forward1_qps %.1f\nforward1_gflops %.3f\n", n / med[FORWARD1],
           flop / med[FORWARD1] / 1e9);
    printf("forward%d_qps %.1f\nforward%d_gflops %.3f\n", FORWARD_BATCH, n / med[FORWARD64],
           FORWARD_BATCH, flop / med[FORWARD64] / 1e9);
}

static int usage(void)
{
    fputs("usage: fused [-r RUNS] [-k KERNELS] MODEL < TEXT\n", stderr);
    return 2;
}

int main(int argc, char **argv)
{
    unsigned n_runs = 3;
    const pnm_qkernels *kernels = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "r:k:")) != -1) {
        if (opt == 'k') {
            if (!(kernels = pnm_qkernels_find(optarg))) {
                fprintf(stderr, "fused: no kernel set %s on this CPU\n", optarg);
                return 2;
            }
            continue;
        }
        char *end;
        errno = 0;
        unsigned long v = opt == 'r' ? strtoul(optarg, &end, 10) : 0;
        if (opt != 'r' || errno || *end || v < 1 || v > 1000)
            return usage();
        n_runs = (unsigned)v;
    }
    if (argc - optind != 1)
        return usage();
    pnm_error err = {0};
    size_t n = 0;
    char **texts = read_lines(&n, &err);
    pnm_classifier *c = texts ? pnm_classifier_open(argv[optind], &err) : NULL;
    pnm_session *s = c ? pnm_session_new(c, &err) : NULL;
    const pnm_model *m = c ? pnm_classifier_model(c) : NULL;
    pnm_workspace *ws = m ? pnm_workspace_new(&m->config) : NULL;
    pnm_qworkspace *qws = m && m->qw ? pnm_qworkspace_new(&m->config, kernels) : NULL;
    pnm_qheads *qh = m && m->qw ? pnm_qheads_new(&m->config, kernels) : NULL;
    example_set set = {0};
    double *lat = malloc(n * sizeof *lat);
    double *runs = malloc((size_t)(N_METRICS + 1) * n_runs * sizeof *runs);
    int rc = -1;
    if (s && (!ws || (m->qw && (!qws || !qh)) || !lat || !runs))
        pnm_error_set(&err, "out of memory");
    else if (s && examples_of(&set, m, texts, n, &err) == 0) {
        rc = 0;
        for (unsigned r = 0; rc == 0 && r < n_runs; r++)
            rc = run_once(c, s, ws, qws, qh, texts, n, &set, lat, runs + (size_t)r * N_METRICS,
                          &err);
    }
    if (rc == 0)
        report(m, n, &set, runs, n_runs);
    else
        fprintf(stderr, "fused: %s\n", err.msg);
    examples_free(&set);
    free(runs);
    free(lat);
    pnm_workspace_free(ws);
    pnm_qworkspace_free(qws);
    pnm_qheads_free(qh);
    pnm_session_free(s);
    pnm_classifier_close(c);
    for (size_t i = 0; texts && i < n; i++)
        free(texts[i]);
    free(texts);
    if (rc == 0 && (fflush(stdout) || ferror(stdout))) {
        fputs("fused: cannot write standard output\n", stderr);
        return 1;
    }
    return rc ? 1 : 0;
}
