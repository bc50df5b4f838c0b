#include "metrics.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define TAG_SHOWN_BYTES 64 /* how much of a bad tag an error message quotes */

static double ratio(uint64_t num, uint64_t den)
{
    return den ? (double)num / (double)den : 0.0;
}

int pnm_confusion_init(pnm_confusion *c, uint32_t n_classes, pnm_error *err)
{
    memset(c, 0, sizeof *c);
    if (n_classes == 0)
        return pnm_error_set(err, "a confusion matrix needs at least one class");
    if ((size_t)n_classes > SIZE_MAX / sizeof *c->counts / n_classes)
        return pnm_error_set(err, "%" PRIu32 " classes make too large a confusion matrix",
                             n_classes);
    c->counts = calloc((size_t)n_classes * n_classes, sizeof *c->counts);
    if (!c->counts)
        return pnm_error_set(err, "out of memory");
    c->n_classes = n_classes;
    return 0;
}

void pnm_confusion_reset(pnm_confusion *c)
{
    if (c->counts)
        memset(c->counts, 0, (size_t)c->n_classes * c->n_classes * sizeof *c->counts);
}

void pnm_confusion_add(pnm_confusion *c, uint32_t gold, uint32_t pred)
{
    if (gold < c->n_classes && pred < c->n_classes)
        c->counts[(size_t)gold * c->n_classes + pred]++;
}

void pnm_confusion_free(pnm_confusion *c)
{
    free(c->counts);
    memset(c, 0, sizeof *c);
}

uint64_t pnm_confusion_total(const pnm_confusion *c)
{
    uint64_t total = 0;
    for (size_t i = 0; i < (size_t)c->n_classes * c->n_classes; i++)
        total += c->counts[i];
    return total;
}

double pnm_accuracy(const pnm_confusion *c)
{
    uint64_t correct = 0;
    for (size_t k = 0; k < c->n_classes; k++)
        correct += c->counts[k * c->n_classes + k];
    return ratio(correct, pnm_confusion_total(c));
}

/* True positives of class k, examples of it in gold (its row), and
 * predictions of it (its column). */
static void class_counts(const pnm_confusion *c, uint32_t k, uint64_t *tp, uint64_t *gold,
                         uint64_t *pred)
{
    size_t n = c->n_classes;
    *tp = c->counts[k * n + k];
    *gold = *pred = 0;
    for (size_t j = 0; j < n; j++) {
        *gold += c->counts[k * n + j];
        *pred += c->counts[j * n + k];
    }
}

void pnm_class_prf(const pnm_confusion *c, uint32_t k, double *precision, double *recall,
                   double *f1)
{
    uint64_t tp = 0, gold = 0, pred = 0;
    if (k < c->n_classes)
        class_counts(c, k, &tp, &gold, &pred);
    if (precision)
        *precision = ratio(tp, pred);
    if (recall)
        *recall = ratio(tp, gold);
    if (f1)
        *f1 = ratio(2 * tp, gold + pred);
}

double pnm_macro_f1(const pnm_confusion *c)
{
    double sum = 0.0;
    uint32_t seen = 0;
    for (uint32_t k = 0; k < c->n_classes; k++) {
        uint64_t tp, gold, pred;
        class_counts(c, k, &tp, &gold, &pred);
        if (gold + pred == 0)
            continue;
        sum += ratio(2 * tp, gold + pred);
        seen++;
    }
    return seen ? sum / seen : 0.0;
}

/* One parsed BIO tag. */
typedef struct bio_tag {
    char kind; /* 'O', 'B' or 'I' */
    const char *type;
    size_t type_len;
} bio_tag;

static const bio_tag tag_outside = {'O', "", 0};

int pnm_tag_parse(const char *tag, char *kind, const char **type, size_t *type_len,
                  pnm_error *err)
{
    if (!tag)
        return pnm_error_set(err, "missing tag");
    if (strcmp(tag, "O") == 0) {
        *kind = 'O', *type = tag + 1, *type_len = 0;
        return 0;
    }
    if ((tag[0] == 'B' || tag[0] == 'I') && tag[1] == '-' && tag[2] != '\0') {
        *kind = tag[0], *type = tag + 2, *type_len = strlen(tag + 2);
        return 0;
    }
    size_t len = strnlen(tag, TAG_SHOWN_BYTES + 1);
    return pnm_error_set(err, "tag \"%.*s%s\" is not O, B-TYPE or I-TYPE",
                         (int)(len > TAG_SHOWN_BYTES ? TAG_SHOWN_BYTES : len), tag,
                         len > TAG_SHOWN_BYTES ? "..." : "");
}

static int bio_parse(const char *const *tags, size_t i, size_t n_words, const char *side,
                     bio_tag *out, pnm_error *err)
{
    if (pnm_tag_parse(tags[i], &out->kind, &out->type, &out->type_len, err))
        return pnm_error_prefix(err, "%s tag %zu of %zu", side, i + 1, n_words);
    return 0;
}

static bool same_type(const bio_tag *a, const bio_tag *b)
{
    return a->type_len == b->type_len && memcmp(a->type, b->type, a->type_len) == 0;
}

/* Whether a word tagged next belongs to the chunk of the word before it,
 * tagged prev: only I-X after B-X or I-X does. */
static bool continues(const bio_tag *prev, const bio_tag *next)
{
    return next->kind == 'I' && prev->kind != 'O' && same_type(prev, next);
}

/* The chunks of one tag sequence, seen one word at a time. */
typedef struct chunk_walk {
    bio_tag prev, cur, next; /* the words around the current one; O past the ends */
    size_t start;            /* first word of the chunk the current word is in */
} chunk_walk;

/* Steps onto the current word; returns true when a chunk ends at word i, and
 * then w->start is its first word and w->cur has its type. */
static bool chunk_step(chunk_walk *w, size_t i)
{
    if (w->cur.kind == 'O')
        return false;
    if (!continues(&w->prev, &w->cur))
        w->start = i;
    return !continues(&w->cur, &w->next);
}

int pnm_spans_add(pnm_span_counts *c, const char *const *gold, const char *const *pred,
                  size_t n_words, pnm_error *err)
{
    pnm_span_counts add = {0, 0, 0};
    chunk_walk g = {tag_outside, tag_outside, tag_outside, 0};
    chunk_walk p = g;
    if (n_words > 0 && (bio_parse(gold, 0, n_words, "gold", &g.next, err) ||
                        bio_parse(pred, 0, n_words, "predicted", &p.next, err)))
        return -1;
    for (size_t i = 0; i < n_words; i++) {
        g.prev = g.cur, g.cur = g.next, g.next = tag_outside;
        p.prev = p.cur, p.cur = p.next, p.next = tag_outside;
        if (i + 1 < n_words && (bio_parse(gold, i + 1, n_words, "gold", &g.next, err) ||
                                bio_parse(pred, i + 1, n_words, "predicted", &p.next, err)))
            return -1;
        bool g_end = chunk_step(&g, i), p_end = chunk_step(&p, i);
        add.gold += g_end;
        add.pred += p_end;
        if (g_end && p_end && g.start == p.start && same_type(&g.cur, &p.cur))
            add.correct++;
    }
    c->gold += add.gold;
    c->pred += add.pred;
    c->correct += add.correct;
    return 0;
}

double pnm_span_precision(const pnm_span_counts *c)
{
    return ratio(c->correct, c->pred);
}

double pnm_span_recall(const pnm_span_counts *c)
{
    return ratio(c->correct, c->gold);
}

double pnm_span_f1(const pnm_span_counts *c)
{
    return ratio(2 * c->correct, c->gold + c->pred);
}
