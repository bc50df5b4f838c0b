#include "evaluate.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "dump.h"
#include "tokens.h"

#define SHOWN_BYTES 40 /* how much of a bad field a message quotes */

const char *pnm_pred_format_name(pnm_pred_format f)
{
    return f == PNM_PRED_TSV ? "tsv" : "text";
}

int pnm_pred_format_parse(const char *name, pnm_pred_format *f)
{
    if (strcmp(name, "text") == 0)
        *f = PNM_PRED_TEXT;
    else if (strcmp(name, "tsv") == 0)
        *f = PNM_PRED_TSV;
    else
        return -1;
    return 0;
}

/* ---- tag lists ------------------------------------------------------------- */

/* The tags of one line, split and NUL-terminated; reused line after line. */
typedef struct tag_list {
    pnm_buf text;       /* the tags, each followed by a NUL */
    size_t *at;         /* offset of tag i in text */
    const char **tag;   /* tag i, valid after tag_list_split */
    size_t n, cap;
} tag_list;

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Splits s[0..len) at runs of blanks. */
static int tag_list_split(tag_list *t, const char *s, size_t len, pnm_error *err)
{
    t->text.len = 0;
    t->n = 0;
    for (size_t i = 0; i < len;) {
        if (is_blank(s[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && !is_blank(s[j]))
            j++;
        if (t->n == t->cap) {
            size_t cap = t->cap ? 2 * t->cap : 64;
            size_t *at = realloc(t->at, cap * sizeof *at);
            if (!at)
                return pnm_error_set(err, "out of memory");
            t->at = at;
            const char **tag = realloc(t->tag, cap * sizeof *tag);
            if (!tag)
                return pnm_error_set(err, "out of memory");
            t->tag = tag, t->cap = cap;
        }
        t->at[t->n++] = t->text.len;
        if (pnm_buf_append(&t->text, s + i, j - i) || pnm_buf_append(&t->text, "", 1))
            return pnm_error_set(err, "out of memory");
        i = j;
    }
    /* Pointers only now: the text moved while it grew. */
    for (size_t k = 0; k < t->n; k++)
        t->tag[k] = (const char *)t->text.data + t->at[k];
    return 0;
}

static void tag_list_free(tag_list *t)
{
    pnm_buf_free(&t->text);
    free(t->at);
    free(t->tag);
    memset(t, 0, sizeof *t);
}

/* Whether the whole of s is a number, as printed after a tag by --probs. */
static bool is_number(const char *s)
{
    char *end;
    errno = 0;
    strtod(s, &end);
    return end != s && *end == '\0' && errno == 0;
}

/* TAG PROB TAG PROB ... for n_words words becomes TAG TAG ...; any other
 * list is left as it is. */
static void drop_tag_probs(tag_list *t, size_t n_words)
{
    if (n_words == 0 || t->n != 2 * n_words)
        return;
    for (size_t k = 1; k < t->n; k += 2)
        if (!is_number(t->tag[k]))
            return;
    for (size_t k = 0; k < n_words; k++)
        t->tag[k] = t->tag[2 * k];
    t->n = n_words;
}

/* ---- one line of each side ---------------------------------------------------- */

typedef struct line_fields {
    const char *label, *tags;
    size_t label_len, tags_len;
} line_fields;

/* The scoring state of one pnm_evaluate call. */
typedef struct evaluation {
    const pnm_tsv *gold, *pred;
    const char *gold_name, *pred_name;
    pnm_pred_format format;
    pnm_task task;
    bool has_labels, has_tags;
    unsigned text_col;
    tag_list gold_tags, pred_tags;
    uint32_t *gold_id, *pred_id; /* per line, into the report's label set */
} evaluation;

/* A printable excerpt of s[0..len) for a message. */
static int shown_len(size_t len)
{
    return (int)(len > SHOWN_BYTES ? SHOWN_BYTES : len);
}

static const char *ellipsis(size_t len)
{
    return len > SHOWN_BYTES ? "..." : "";
}

/* Gold line i (0-based): its label and tags, the tags split into
 * e->gold_tags and checked against the words of the text. */
static int gold_line(evaluation *e, size_t i, line_fields *g, pnm_error *err)
{
    size_t line = i + 1, text_len;
    const char *text = pnm_tsv_field(e->gold, i, e->text_col, &text_len);
    memset(g, 0, sizeof *g);
    if (e->has_labels)
        g->label = pnm_tsv_field(e->gold, i, 0, &g->label_len);
    if (e->has_tags)
        g->tags = pnm_tsv_field(e->gold, i, e->text_col + 1, &g->tags_len);
    if (!text || (e->has_tags && !g->tags))
        return pnm_error_set(err, "%s: line %zu has too few columns for the %s task",
                             e->gold_name, line, pnm_task_name(e->task));
    if (e->has_labels && g->label_len == 0)
        return pnm_error_set(err, "%s: line %zu has an empty label", e->gold_name, line);
    if (!e->has_tags)
        return 0;
    if (tag_list_split(&e->gold_tags, g->tags, g->tags_len, err))
        return -1;
    size_t words = 0, pos = 0, wl;
    const char *w;
    while (pnm_next_word(text, text_len, &pos, &w, &wl))
        words++;
    if (words != e->gold_tags.n)
        return pnm_error_set(err, "%s: line %zu has %zu words but %zu tags", e->gold_name,
                             line, words, e->gold_tags.n);
    for (size_t k = 0; k < e->gold_tags.n; k++) {
        char kind;
        const char *type;
        size_t type_len;
        if (pnm_tag_parse(e->gold_tags.tag[k], &kind, &type, &type_len, err))
            return pnm_error_prefix(err, "%s: line %zu: tag %zu of %zu", e->gold_name, line,
                                    k + 1, e->gold_tags.n);
    }
    return 0;
}

/* The raw text of line i of a TSV, without a CR at its end. */
static const char *raw_line(const pnm_tsv *t, size_t i, size_t *len)
{
    const char *s = t->text + t->line_start[i];
    *len = strlen(s);
    if (*len && s[*len - 1] == '\r')
        (*len)--;
    return s;
}

/* The first blank-separated token of s[0..len). */
static size_t first_token(const char *s, size_t len)
{
    size_t n = 0;
    while (n < len && !is_blank(s[n]))
        n++;
    return n;
}

/* pnm-classify -F text: LABEL [PROB]... [TAB TAGS], or TAGS alone. */
static int pred_text_line(const evaluation *e, size_t i, line_fields *p, pnm_error *err)
{
    size_t line = i + 1, len;
    const char *s = raw_line(e->pred, i, &len);
    const char *tab = memchr(s, '\t', len);
    if (tab && memchr(tab + 1, '\t', len - (size_t)(tab + 1 - s)))
        return pnm_error_set(err, "%s: line %zu has more than one tab: not pnm-classify's text"
                             " format (for -F tsv output, give --format tsv)", e->pred_name, line);
    memset(p, 0, sizeof *p);
    if (e->has_labels) {
        p->label = s;
        p->label_len = first_token(s, len);
        if (p->label_len == 0)
            return pnm_error_set(err, "%s: line %zu has no label%s", e->pred_name, line,
                                 len == 0 ? " (empty line)" : " (it starts with a blank)");
    }
    if (tab) {
        p->tags = tab + 1;
        p->tags_len = len - (size_t)(tab + 1 - s);
    } else if (!e->has_labels) {
        p->tags = s, p->tags_len = len;
    } else {
        p->tags = s + len;
    }
    return 0;
}

/* pnm-classify -F tsv: LINE TAB LABEL [PROB]... TAB TAGS [TAB TAG_PROBS]. */
static int pred_tsv_line(const evaluation *e, size_t i, line_fields *p, pnm_error *err)
{
    size_t line = i + 1, len;
    const char *n = pnm_tsv_field(e->pred, i, 0, &len);
    char want[24];
    int want_len = snprintf(want, sizeof want, "%zu", line);
    if (len != (size_t)want_len || memcmp(n, want, len) != 0)
        return pnm_error_set(err, "%s: line %zu: the LINE column is \"%.*s%s\", expected %zu"
                             " (pnm-classify -F tsv output in the gold's line order)",
                             e->pred_name, line, shown_len(len), n, ellipsis(len), line);
    memset(p, 0, sizeof *p);
    const char *labels = pnm_tsv_field(e->pred, i, 1, &len);
    if (e->has_labels) {
        p->label = labels;
        p->label_len = labels ? first_token(labels, len) : 0;
        if (p->label_len == 0)
            return pnm_error_set(err, "%s: line %zu has no label", e->pred_name, line);
    }
    p->tags = pnm_tsv_field(e->pred, i, 2, &p->tags_len);
    if (!p->tags)
        p->tags = "", p->tags_len = 0;
    return 0;
}

/* Scores line i: the label ids into e->gold_id/pred_id, spans and exact
 * match into r. */
static int score_line(evaluation *e, size_t i, pnm_eval_report *r, pnm_error *err)
{
    size_t line = i + 1;
    line_fields g, p;
    if (gold_line(e, i, &g, err))
        return -1;
    if ((e->format == PNM_PRED_TSV ? pred_tsv_line : pred_text_line)(e, i, &p, err))
        return -1;
    bool right = true;
    if (e->has_labels) {
        int64_t gid = pnm_labelset_intern(&r->labels, g.label, g.label_len);
        int64_t pid = pnm_labelset_intern(&r->labels, p.label, p.label_len);
        if (gid < 0 || pid < 0)
            return pnm_error_set(err, "out of memory");
        e->gold_id[i] = (uint32_t)gid;
        e->pred_id[i] = (uint32_t)pid;
        right = gid == pid;
        r->correct += right;
    }
    if (e->has_tags) {
        size_t words = e->gold_tags.n;
        if (tag_list_split(&e->pred_tags, p.tags, p.tags_len, err))
            return -1;
        if (e->format == PNM_PRED_TEXT)
            drop_tag_probs(&e->pred_tags, words);
        if (e->pred_tags.n != words)
            return pnm_error_set(err, "%s: line %zu has %zu tags, but line %zu of %s has %zu"
                                 " words", e->pred_name, line, e->pred_tags.n, line,
                                 e->gold_name, words);
        if (pnm_spans_add(&r->spans, e->gold_tags.tag, e->pred_tags.tag, words, err))
            return pnm_error_prefix(err, "%s: line %zu", e->pred_name, line);
        for (size_t k = 0; k < words && right; k++)
            right = strcmp(e->gold_tags.tag[k], e->pred_tags.tag[k]) == 0;
    }
    r->exact += right;
    return 0;
}

/* ---- the report ---------------------------------------------------------------- */

static double ratio(uint64_t num, uint64_t den)
{
    return den ? (double)num / (double)den : 0.0;
}

static int by_support(const void *a, const void *b)
{
    const pnm_eval_class *x = a, *y = b;
    if (x->support != y->support)
        return x->support > y->support ? -1 : 1;
    return strcmp(x->label, y->label);
}

static int by_count(const void *a, const void *b)
{
    const pnm_eval_confusion *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    int c = strcmp(x->gold, y->gold);
    return c ? c : strcmp(x->predicted, y->predicted);
}

/* Accuracy, macro-F1, the per-class rows and the confusions, from the
 * label ids of every line. */
static int label_metrics(const evaluation *e, pnm_eval_report *r, pnm_error *err)
{
    uint32_t n = r->labels.count;
    r->accuracy = ratio(r->correct, r->examples);
    if (n == 0)
        return 0;
    pnm_confusion c;
    if (pnm_confusion_init(&c, n, err))
        return -1;
    for (size_t i = 0; i < r->examples; i++)
        pnm_confusion_add(&c, e->gold_id[i], e->pred_id[i]);
    r->macro_f1 = pnm_macro_f1(&c);
    size_t off_diagonal = 0;
    for (size_t k = 0; k < (size_t)n * n; k++)
        off_diagonal += k % (n + 1) != 0 && c.counts[k] != 0;
    r->classes = calloc(n, sizeof *r->classes);
    r->confusions = calloc(off_diagonal ? off_diagonal : 1, sizeof *r->confusions);
    if (!r->classes || !r->confusions) {
        pnm_confusion_free(&c);
        return pnm_error_set(err, "out of memory");
    }
    for (uint32_t k = 0; k < n; k++) {
        pnm_eval_class *row = &r->classes[k];
        row->label = r->labels.names[k];
        pnm_class_prf(&c, k, &row->precision, &row->recall, &row->f1);
        for (uint32_t j = 0; j < n; j++) {
            uint64_t as_pred = c.counts[(size_t)j * n + k], as_gold = c.counts[(size_t)k * n + j];
            row->support += as_gold;
            row->predicted += as_pred;
            if (j != k && as_gold)
                r->confusions[r->n_confusions++] =
                    (pnm_eval_confusion){r->labels.names[k], r->labels.names[j], as_gold};
        }
    }
    r->n_classes = n;
    pnm_confusion_free(&c);
    qsort(r->classes, n, sizeof *r->classes, by_support);
    qsort(r->confusions, r->n_confusions, sizeof *r->confusions, by_count);
    return 0;
}

int pnm_evaluate(pnm_eval_report *r, const pnm_tsv *gold, const char *gold_name,
                 const pnm_tsv *pred, const char *pred_name, const pnm_eval_options *o,
                 pnm_error *err)
{
    memset(r, 0, sizeof *r);
    evaluation e = {.gold = gold, .pred = pred, .gold_name = gold_name,
                    .pred_name = pred_name, .format = o->format, .task = o->task};
    if (!o->task_given && pnm_tsv_guess_task(gold, &e.task, err))
        return pnm_error_prefix(err, "%s", gold_name);
    if (gold->count != pred->count)
        return pnm_error_set(err, "%s has %zu lines but %s has %zu: the predictions must have"
                             " one line per gold line", gold_name, gold->count, pred_name,
                             pred->count);
    e.has_labels = e.task != PNM_TASK_TAG;
    e.has_tags = e.task != PNM_TASK_CLASSIFY;
    e.text_col = pnm_task_text_column(e.task, gold);
    r->task = e.task;
    r->has_labels = e.has_labels;
    r->has_tags = e.has_tags;
    size_t n = gold->count ? gold->count : 1;
    e.gold_id = malloc(n * sizeof *e.gold_id);
    e.pred_id = malloc(n * sizeof *e.pred_id);
    int rc = e.gold_id && e.pred_id ? 0 : pnm_error_set(err, "out of memory");
    for (size_t i = 0; rc == 0 && i < gold->count; i++) {
        rc = score_line(&e, i, r, err);
        r->examples += rc == 0;
    }
    if (rc == 0 && e.has_labels)
        rc = label_metrics(&e, r, err);
    r->span_precision = pnm_span_precision(&r->spans);
    r->span_recall = pnm_span_recall(&r->spans);
    r->span_f1 = pnm_span_f1(&r->spans);
    r->exact_match = ratio(r->exact, r->examples);
    tag_list_free(&e.gold_tags);
    tag_list_free(&e.pred_tags);
    free(e.gold_id);
    free(e.pred_id);
    if (rc)
        pnm_eval_report_free(r);
    return rc;
}

void pnm_eval_report_free(pnm_eval_report *r)
{
    free(r->classes);
    free(r->confusions);
    pnm_labelset_free(&r->labels);
    memset(r, 0, sizeof *r);
}

/* ---- printing ------------------------------------------------------------------- */

static double percent(double fraction)
{
    return 100.0 * fraction;
}

void pnm_eval_report_print_text(FILE *out, const pnm_eval_report *r, uint32_t max_confusions)
{
    fprintf(out, "%-16s%" PRIu64 " (%s task)\n", "examples", r->examples,
            pnm_task_name(r->task));
    if (r->has_labels) {
        fprintf(out, "%-16s%.2f%%  (%" PRIu64 "/%" PRIu64 ")\n", "accuracy",
                percent(r->accuracy), r->correct, r->examples);
        fprintf(out, "%-16s%.2f%%  (mean of %" PRIu32 " classes)\n", "macro-F1",
                percent(r->macro_f1), r->n_classes);
    }
    if (r->has_tags) {
        fprintf(out, "%-16s%.2f%%  (%" PRIu64 "/%" PRIu64 " predicted spans)\n",
                "slot precision", percent(r->span_precision), r->spans.correct, r->spans.pred);
        fprintf(out, "%-16s%.2f%%  (%" PRIu64 "/%" PRIu64 " gold spans)\n", "slot recall",
                percent(r->span_recall), r->spans.correct, r->spans.gold);
        fprintf(out, "%-16s%.2f%%\n", "slot F1", percent(r->span_f1));
    }
    fprintf(out, "%-16s%.2f%%  (%" PRIu64 "/%" PRIu64 ")\n", "exact match",
            percent(r->exact_match), r->exact, r->examples);
    if (!r->has_labels || r->n_classes == 0)
        return;

    int width = (int)strlen("label");
    for (uint32_t k = 0; k < r->n_classes; k++) {
        size_t len = strlen(r->classes[k].label);
        width = len > (size_t)width ? (int)(len < 60 ? len : 60) : width;
    }
    fprintf(out, "\n%-*s  %9s  %9s  %9s  %7s\n", width, "label", "precision", "recall", "F1",
            "support");
    for (uint32_t k = 0; k < r->n_classes; k++) {
        const pnm_eval_class *c = &r->classes[k];
        fprintf(out, "%-*s  %8.2f%%  %8.2f%%  %8.2f%%  %7" PRIu64 "\n", width, c->label,
                percent(c->precision), percent(c->recall), percent(c->f1), c->support);
    }
    if (max_confusions == 0)
        return;
    fputs("\ntop confusions (gold -> predicted)\n", out);
    if (r->n_confusions == 0)
        fputs("  none\n", out);
    for (uint32_t k = 0; k < r->n_confusions && k < max_confusions; k++)
        fprintf(out, "%7" PRIu64 "  %s -> %s\n", r->confusions[k].count, r->confusions[k].gold,
                r->confusions[k].predicted);
}

void pnm_eval_report_print_json(FILE *out, const pnm_eval_report *r, uint32_t max_confusions)
{
    fprintf(out, "{\n  \"task\": \"%s\",\n  \"examples\": %" PRIu64 ",\n",
            pnm_task_name(r->task), r->examples);
    if (r->has_labels)
        fprintf(out, "  \"accuracy\": %.10g,\n  \"correct\": %" PRIu64 ",\n"
                "  \"macro_f1\": %.10g,\n", r->accuracy, r->correct, r->macro_f1);
    if (r->has_tags)
        fprintf(out, "  \"slots\": {\"precision\": %.10g, \"recall\": %.10g, \"f1\": %.10g,"
                " \"gold\": %" PRIu64 ", \"predicted\": %" PRIu64 ", \"correct\": %" PRIu64
                "},\n", r->span_precision, r->span_recall, r->span_f1, r->spans.gold,
                r->spans.pred, r->spans.correct);
    fprintf(out, "  \"exact_match\": %.10g,\n  \"exact\": %" PRIu64, r->exact_match, r->exact);
    if (r->has_labels) {
        fputs(",\n  \"per_class\": [", out);
        for (uint32_t k = 0; k < r->n_classes; k++) {
            const pnm_eval_class *c = &r->classes[k];
            fputs(k ? ",\n    {\"label\": " : "\n    {\"label\": ", out);
            pnm_json_put_string(out, c->label, strlen(c->label));
            fprintf(out, ", \"precision\": %.10g, \"recall\": %.10g, \"f1\": %.10g,"
                    " \"support\": %" PRIu64 ", \"predicted\": %" PRIu64 "}",
                    c->precision, c->recall, c->f1, c->support, c->predicted);
        }
        fputs(r->n_classes ? "\n  ],\n  \"confusions\": [" : "],\n  \"confusions\": [", out);
        uint32_t shown = r->n_confusions < max_confusions ? r->n_confusions : max_confusions;
        for (uint32_t k = 0; k < shown; k++) {
            fputs(k ? ",\n    {\"gold\": " : "\n    {\"gold\": ", out);
            pnm_json_put_string(out, r->confusions[k].gold, strlen(r->confusions[k].gold));
            fputs(", \"predicted\": ", out);
            pnm_json_put_string(out, r->confusions[k].predicted, strlen(r->confusions[k].predicted));
            fprintf(out, ", \"count\": %" PRIu64 "}", r->confusions[k].count);
        }
        fputs(shown ? "\n  ]" : "]", out);
    }
    fputs("\n}\n", out);
}
