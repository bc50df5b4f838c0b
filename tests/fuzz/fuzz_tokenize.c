/* The tokenizer and the projection on arbitrary text: the input is split
 * into lines as pnm-tokenize splits its input, and each line is tokenized
 * with the small fixed vocabulary tests/fuzz/vocab.model (made by
 * tests/fuzz/make-seeds; $PNM_FUZZ_VOCAB names another), then projected.
 * Checked on the way:
 *  - a line is refused only when it is not valid UTF-8;
 *  - --max-words 2 keeps at most 2 words, and says when it cut some;
 *  - token and feature records read back as they were written. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pnm.h"

/* Loaded once, read-only afterwards. */
static struct {
    pnm_sp *sp;
    pnm_header tokens_header;
    pnm_projector *projector;
    pnm_header features_header;
} fixed;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *path = getenv("PNM_FUZZ_VOCAB");
    pnm_error err;
    fixed.sp = pnm_sp_load_file(path ? path : "tests/fuzz/vocab.model", &err);
    pnm_projection p = {64, 8, 1, 0};
    if (!fixed.sp || pnm_tokens_header(fixed.sp, 0, &fixed.tokens_header, &err) ||
        !(fixed.projector = pnm_projector_new(&fixed.tokens_header, &p, &err))) {
        fprintf(stderr, "fuzz_tokenize: %s (run it from the repository root)\n", err.msg);
        exit(1);
    }
    pnm_projector_header(fixed.projector, &fixed.features_header);
    return 0;
}

/* memcmp, where an empty record's arrays may be NULL. */
static int same_bytes(const void *a, const void *b, size_t n)
{
    return n == 0 || memcmp(a, b, n) == 0;
}

static int same_tokens(const pnm_tokens *a, const pnm_tokens *b)
{
    return a->line == b->line && a->n_words == b->n_words &&
           same_bytes(a->word_start, b->word_start, (a->n_words + 1) * sizeof *a->word_start) &&
           same_bytes(a->ids, b->ids, a->word_start[a->n_words] * sizeof *a->ids);
}

static int same_features(const pnm_features *a, const pnm_features *b)
{
    return a->line == b->line && a->n_words == b->n_words && a->hashes == b->hashes &&
           same_bytes(a->buckets, b->buckets,
                      (size_t)a->n_words * a->hashes * sizeof *a->buckets);
}

typedef struct scratch {
    pnm_tokens t, t2;
    pnm_features f, f2;
    pnm_buf buf;
} scratch;

static void line(scratch *s, const char *text, size_t len, uint64_t no)
{
    pnm_error err;
    bool truncated;
    int valid = pnm_utf8_find_invalid(text, len) == len;
    if (pnm_tokenize_line(fixed.sp, text, len, no, 0, &s->t, &truncated, &err)) {
        if (valid)
            abort();
        return;
    }
    if (!valid || truncated)
        abort();
    if (pnm_tokens_encode(&s->t, &s->buf, &err) ||
        pnm_tokens_decode(&fixed.tokens_header, s->buf.data, (uint32_t)s->buf.len, &s->t2, &err) ||
        !same_tokens(&s->t, &s->t2))
        abort();
    if (pnm_project_tokens(fixed.projector, &s->t, &s->f, &err) ||
        pnm_features_encode(&s->f, &s->buf, &err) ||
        pnm_features_decode(&fixed.features_header, s->buf.data, (uint32_t)s->buf.len, &s->f2,
                            &err) ||
        !same_features(&s->f, &s->f2))
        abort();
    uint32_t all = s->t.n_words;
    if (pnm_tokenize_line(fixed.sp, text, len, no, 2, &s->t2, &truncated, &err) ||
        s->t2.n_words != (all < 2 ? all : 2) || truncated != (all > 2))
        abort();
    s->buf.len = 0;
    if (pnm_words_joined(text, len, &s->buf, &err))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    FILE *f = fuzz_open_bytes(data, len);
    pnm_error err;
    pnm_lines in;
    if (pnm_lines_init(&in, f, &err))
        abort();
    scratch s = {0};
    const char *text;
    size_t text_len;
    int rc;
    while ((rc = pnm_lines_next(&in, &text, &text_len, &err)) > 0)
        line(&s, text, text_len, in.number);
    if (rc < 0)
        abort();
    pnm_buf_free(&s.buf);
    pnm_features_free(&s.f2);
    pnm_features_free(&s.f);
    pnm_tokens_free(&s.t2);
    pnm_tokens_free(&s.t);
    pnm_lines_free(&in);
    fclose(f);
    return 0;
}
