/* api-classify MODEL THREADS < TEXT: every line of TEXT through
 * pnm_classify_batch on THREADS threads, printed as
 * `pnm-classify --format tsv --probs` prints the programs' predictions, so
 * that tests/classifier.bats can compare the two with diff. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pnm.h"

static void print_result(const pnm_classifier *c, const pnm_result *r, size_t line)
{
    printf("%zu\t", line);
    int32_t label = pnm_result_label(r);
    if (label >= 0)
        printf("%s %.4f", pnm_result_label_name(r), pnm_result_label_probs(r)[label]);
    if (!pnm_classifier_tags(c)) {
        putchar('\n');
        return;
    }
    putchar('\t');
    for (uint32_t t = 0; t < pnm_result_words(r); t++)
        printf(t ? " %s" : "%s", pnm_result_tag_name(r, t));
    putchar('\t');
    for (uint32_t t = 0; t < pnm_result_words(r); t++)
        printf(t ? " %.4f" : "%.4f", pnm_result_tag_prob(r, t));
    putchar('\n');
}

/* Every line of stdin, copied. */
static char **read_lines(size_t *n, pnm_error *err)
{
    pnm_lines in;
    if (pnm_lines_init(&in, stdin, err))
        return NULL;
    char **lines = NULL;
    const char *line;
    size_t len;
    int got;
    *n = 0;
    while ((got = pnm_lines_next(&in, &line, &len, err)) > 0) {
        char **more = realloc(lines, (*n + 1) * sizeof *lines);
        if (!more || !(more[*n] = strndup(line, len))) {
            got = pnm_error_set(err, "out of memory");
            lines = more ? more : lines;
            break;
        }
        lines = more;
        ++*n;
    }
    pnm_lines_free(&in);
    if (got == 0)
        return lines;
    for (size_t i = 0; i < *n; i++)
        free(lines[i]);
    free(lines);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fputs("usage: api-classify MODEL THREADS < TEXT\n", stderr);
        return 2;
    }
    pnm_error err;
    size_t n = 0;
    char **texts = read_lines(&n, &err);
    pnm_classifier *c = texts ? pnm_classifier_open(argv[1], &err) : NULL;
    pnm_result **results =
        c ? pnm_classify_batch(c, (const char *const *)texts, n, (uint32_t)atoi(argv[2]), &err)
          : NULL;
    for (size_t i = 0; results && i < n; i++)
        print_result(c, results[i], i + 1);
    if (!results)
        fprintf(stderr, "api-classify: %s\n", err.msg);
    pnm_results_free(results, n);
    pnm_classifier_close(c);
    for (size_t i = 0; texts && i < n; i++)
        free(texts[i]);
    free(texts);
    return results ? 0 : 1;
}
