#include "dataset.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lines.h"
#include "tokens.h"
#include "utf8.h"

const char *pnm_task_name(pnm_task t)
{
    switch (t) {
    case PNM_TASK_CLASSIFY: return "classify";
    case PNM_TASK_JOINT: return "joint";
    case PNM_TASK_TAG: return "tag";
    }
    return "unknown";
}

int pnm_task_parse(const char *name, pnm_task *t)
{
    static const pnm_task all[] = {PNM_TASK_CLASSIFY, PNM_TASK_JOINT, PNM_TASK_TAG};
    for (size_t i = 0; i < 3; i++)
        if (strcmp(name, pnm_task_name(all[i])) == 0) {
            *t = all[i];
            return 0;
        }
    return -1;
}

/* ---- TSV ----------------------------------------------------------------- */

int pnm_tsv_read(pnm_tsv *t, FILE *f, const char *name, pnm_error *err)
{
    memset(t, 0, sizeof *t);
    pnm_lines in;
    if (pnm_lines_init(&in, f, err))
        return -1;
    const char *line;
    size_t len;
    int got;
    while ((got = pnm_lines_next(&in, &line, &len, err)) > 0) {
        if (t->count == t->line_cap) {
            size_t cap = t->line_cap ? 2 * t->line_cap : 1024;
            size_t *p = realloc(t->line_start, cap * sizeof *p);
            if (!p)
                goto oom;
            t->line_start = p, t->line_cap = cap;
        }
        if (t->len + len + 1 > t->cap) {
            size_t cap = t->cap ? t->cap : 65536;
            while (cap < t->len + len + 1)
                cap *= 2;
            char *p = realloc(t->text, cap);
            if (!p)
                goto oom;
            t->text = p, t->cap = cap;
        }
        if (memchr(line, '\0', len)) {
            pnm_error_set(err, "%s: line %" PRIu64 " contains a NUL byte", name, in.number);
            goto fail;
        }
        /* Labels and tags are printed back, in JSON too: they must be text. */
        size_t bad = pnm_utf8_find_invalid(line, len);
        if (bad < len) {
            pnm_error_set(err, "%s: line %" PRIu64 ", byte %zu: invalid UTF-8 (0x%02x)", name,
                          in.number, bad + 1, (unsigned char)line[bad]);
            goto fail;
        }
        t->line_start[t->count++] = t->len;
        memcpy(t->text + t->len, line, len);
        t->len += len;
        t->text[t->len++] = '\0';
    }
    pnm_lines_free(&in);
    if (got < 0) {
        pnm_error_prefix(err, "%s", name);
        pnm_tsv_free(t);
        return -1;
    }
    return 0;
oom:
    pnm_error_set(err, "out of memory");
fail:
    pnm_lines_free(&in);
    pnm_tsv_free(t);
    return -1;
}

const char *pnm_tsv_field(const pnm_tsv *t, size_t i, unsigned col, size_t *len)
{
    const char *s = t->text + t->line_start[i];
    for (unsigned c = 0; c < col; c++) {
        s = strchr(s, '\t');
        if (!s)
            return NULL;
        s++;
    }
    const char *end = strchr(s, '\t');
    *len = end ? (size_t)(end - s) : strlen(s);
    /* A CRLF file: the CR belongs to no column. */
    if (!end && *len && s[*len - 1] == '\r')
        (*len)--;
    return s;
}

void pnm_tsv_free(pnm_tsv *t)
{
    free(t->text);
    free(t->line_start);
    memset(t, 0, sizeof *t);
}

static unsigned columns(const pnm_tsv *t, size_t i)
{
    unsigned n = 1;
    for (const char *s = t->text + t->line_start[i]; *s; s++)
        n += *s == '\t';
    return n;
}

int pnm_tsv_guess_task(const pnm_tsv *t, pnm_task *task, pnm_error *err)
{
    if (t->count == 0)
        return pnm_error_set(err, "no examples");
    switch (columns(t, 0)) {
    case 2: *task = PNM_TASK_CLASSIFY; return 0;
    case 3: *task = PNM_TASK_JOINT; return 0;
    default:
        return pnm_error_set(err, "line 1 has %u tab-separated columns: expected LABEL TEXT"
                             " or LABEL TEXT TAGS (or give --task)", columns(t, 0));
    }
}

unsigned pnm_task_text_column(pnm_task task, const pnm_tsv *t)
{
    if (task == PNM_TASK_TAG)
        return t->count && columns(t, 0) == 2 ? 0 : 1;
    return 1;
}

/* ---- dataset ------------------------------------------------------------- */

void pnm_dataset_free(pnm_dataset *d)
{
    free(d->ex);
    free(d->line);
    free(d->buckets);
    free(d->tags);
    memset(d, 0, sizeof *d);
}

static int append_tags(pnm_dataset *d, size_t *cap, const char *s, size_t len, uint32_t words,
                       pnm_labelset *tags, uint64_t line, pnm_error *err)
{
    if (d->n_tags + words > *cap) {
        size_t c = *cap ? *cap : 65536;
        while (c < d->n_tags + words)
            c *= 2;
        int32_t *p = realloc(d->tags, c * sizeof *p);
        if (!p)
            return pnm_error_set(err, "out of memory");
        d->tags = p, *cap = c;
    }
    size_t pos = 0, wl;
    const char *w;
    uint32_t n = 0;
    while (pnm_next_word(s, len, &pos, &w, &wl)) {
        if (n == words)
            return pnm_error_set(err, "line %" PRIu64 " has more tags than its %" PRIu32 " words",
                                 line, words);
        int64_t id = pnm_labelset_intern(tags, w, wl);
        if (id < 0)
            return pnm_error_set(err, "out of memory");
        d->tags[d->n_tags + n++] = (int32_t)id;
    }
    if (n != words)
        return pnm_error_set(err, "line %" PRIu64 " has %" PRIu32 " words but %" PRIu32 " tags",
                             line, words, n);
    d->n_tags += words;
    return 0;
}

int pnm_dataset_build(pnm_dataset *d, const pnm_tsv *tsv, const char *name, pnm_task task,
                      const pnm_sp *sp, const pnm_projector *pr, pnm_labelset *labels,
                      pnm_labelset *tags, pnm_error *err)
{
    memset(d, 0, sizeof *d);
    d->ex = calloc(tsv->count ? tsv->count : 1, sizeof *d->ex);
    d->line = calloc(tsv->count ? tsv->count : 1, sizeof *d->line);
    if (!d->ex || !d->line) {
        pnm_dataset_free(d);
        return pnm_error_set(err, "out of memory");
    }
    pnm_tokens tok = {0};
    pnm_features feat = {0};
    size_t bucket_cap = 0, tag_cap = 0;
    size_t *bucket_at = malloc((tsv->count ? tsv->count : 1) * sizeof *bucket_at);
    size_t *tag_at = malloc((tsv->count ? tsv->count : 1) * sizeof *tag_at);
    unsigned text_col = pnm_task_text_column(task, tsv);
    bool has_label = task != PNM_TASK_TAG, has_tags = task != PNM_TASK_CLASSIFY;
    int rc = bucket_at && tag_at ? 0 : pnm_error_set(err, "out of memory");
    for (size_t i = 0; rc == 0 && i < tsv->count; i++) {
        uint64_t line = i + 1;
        size_t tlen, llen = 0, glen = 0;
        const char *text = pnm_tsv_field(tsv, i, text_col, &tlen);
        const char *label = has_label ? pnm_tsv_field(tsv, i, 0, &llen) : NULL;
        const char *gold = has_tags ? pnm_tsv_field(tsv, i, text_col + 1, &glen) : NULL;
        if (!text || (has_label && !label) || (has_tags && !gold)) {
            rc = pnm_error_set(err, "line %" PRIu64 " has too few columns for the %s task",
                               line, pnm_task_name(task));
            break;
        }
        bool truncated;
        if (pnm_tokenize_line(sp, text, tlen, line, 0, &tok, &truncated, err) ||
            pnm_project_tokens(pr, &tok, &feat, err)) {
            rc = -1;
            break;
        }
        size_t n = (size_t)feat.n_words * feat.hashes;
        if (d->n_buckets + n > bucket_cap) {
            size_t c = bucket_cap ? bucket_cap : 1 << 20;
            while (c < d->n_buckets + n)
                c *= 2;
            uint16_t *p = realloc(d->buckets, c * sizeof *p);
            if (!p) {
                rc = pnm_error_set(err, "out of memory");
                break;
            }
            d->buckets = p, bucket_cap = c;
        }
        memcpy(d->buckets + d->n_buckets, feat.buckets, n * sizeof *feat.buckets);
        bucket_at[i] = d->n_buckets;
        d->n_buckets += n;
        tag_at[i] = d->n_tags;
        if (has_tags && append_tags(d, &tag_cap, gold, glen, feat.n_words, tags, line, err)) {
            rc = -1;
            break;
        }
        int64_t id = -1;
        if (has_label && (id = pnm_labelset_intern(labels, label, llen)) < 0)
            rc = pnm_error_set(err, "out of memory");
        d->ex[i] = (pnm_example){feat.n_words, NULL, (int32_t)id, NULL};
        d->line[i] = line;
        d->count++;
    }
    /* Pointers only now: the buffers moved while they grew. */
    for (size_t i = 0; rc == 0 && i < d->count; i++) {
        d->ex[i].buckets = d->buckets + bucket_at[i];
        d->ex[i].tags = has_tags ? d->tags + tag_at[i] : NULL;
        d->tagged_words += has_tags ? d->ex[i].n_words : 0;
    }
    free(bucket_at);
    free(tag_at);
    pnm_tokens_free(&tok);
    pnm_features_free(&feat);
    if (rc) {
        pnm_dataset_free(d);
        return pnm_error_prefix(err, "%s", name);
    }
    return 0;
}
