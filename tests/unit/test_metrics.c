/* Evaluation metrics against hand-computed values: confusion counts,
 * accuracy, per-class and macro F1, and conlleval's span rules for BIO tags. */
#include <math.h>
#include <string.h>

#include "metrics.h"
#include "tap.h"

#define TOL 1e-12

static int near(double got, double want)
{
    return fabs(got - want) <= TOL;
}

static int prf_is(const pnm_confusion *c, uint32_t k, double p, double r, double f)
{
    double gp, gr, gf;
    pnm_class_prf(c, k, &gp, &gr, &gf);
    return near(gp, p) && near(gr, r) && near(gf, f);
}

/* Adds pairs[0..2n) as (gold, pred) pairs. */
static void add_pairs(pnm_confusion *c, const uint32_t *pairs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pnm_confusion_add(c, pairs[2 * i], pairs[2 * i + 1]);
}

/* One sentence's spans alone; tags are space-separated in gold and pred. */
static pnm_span_counts spans_of(const char *gold, const char *pred, int *rc)
{
    char gbuf[256], pbuf[256];
    const char *g[32], *p[32];
    size_t ng = 0, np = 0;
    strcpy(gbuf, gold), strcpy(pbuf, pred);
    for (char *s = strtok(gbuf, " "); s; s = strtok(NULL, " "))
        g[ng++] = s;
    for (char *s = strtok(pbuf, " "); s; s = strtok(NULL, " "))
        p[np++] = s;
    pnm_span_counts c = {0, 0, 0};
    pnm_error err;
    *rc = ng == np ? pnm_spans_add(&c, g, p, ng, &err) : -2;
    return c;
}

static int spans_are(const char *gold, const char *pred, uint64_t n_gold, uint64_t n_pred,
                     uint64_t correct)
{
    int rc;
    pnm_span_counts c = spans_of(gold, pred, &rc);
    return rc == 0 && c.gold == n_gold && c.pred == n_pred && c.correct == correct;
}

static void test_confusion(void)
{
    pnm_confusion c;
    pnm_error err;
    CHECK(pnm_confusion_init(&c, 0, &err) == -1 && strstr(err.msg, "at least one class"),
          "a confusion with no classes is an error");
    CHECK(pnm_confusion_init(&c, 3, &err) == 0 && c.n_classes == 3, "init 3 classes");
    CHECK(pnm_accuracy(&c) == 0.0 && pnm_macro_f1(&c) == 0.0, "empty: accuracy and macro-F1 0");
    CHECK(prf_is(&c, 0, 0, 0, 0), "empty: class precision/recall/F1 0");

    /* Perfect prediction. */
    static const uint32_t perfect[] = {0, 0, 1, 1, 2, 2, 2, 2, 0, 0};
    add_pairs(&c, perfect, 5);
    CHECK(pnm_confusion_total(&c) == 5, "perfect: 5 examples");
    CHECK(pnm_accuracy(&c) == 1.0, "perfect: accuracy 1");
    CHECK(pnm_macro_f1(&c) == 1.0, "perfect: macro-F1 1");
    CHECK(prf_is(&c, 2, 1, 1, 1), "perfect: class 2 P = R = F1 = 1");

    /* Three classes, 10 examples ([gold][pred]):
     *            pred 0  1  2      gold
     *   gold 0:       3  1  0       4
     *   gold 1:       0  2  1       3
     *   gold 2:       2  0  1       3
     *   predicted:    5  3  2
     * accuracy = (3 + 2 + 1) / 10 = 3/5
     * class 0: P = 3/5, R = 3/4, F1 = 2*3 / (5 + 4) = 2/3
     * class 1: P = 2/3, R = 2/3, F1 = 2*2 / (3 + 3) = 2/3
     * class 2: P = 1/2, R = 1/3, F1 = 2*1 / (2 + 3) = 2/5
     * macro-F1 = (2/3 + 2/3 + 2/5) / 3 = 26/45 */
    pnm_confusion_reset(&c);
    CHECK(pnm_confusion_total(&c) == 0, "reset empties the counts");
    static const uint32_t three[] = {0, 0, 0, 0, 0, 0, 0, 1, 1, 1,
                                     1, 1, 1, 2, 2, 2, 2, 0, 2, 0};
    add_pairs(&c, three, 10);
    CHECK(c.counts[2 * 3 + 0] == 2 && c.counts[0 * 3 + 1] == 1, "counts are [gold][pred]");
    CHECK(near(pnm_accuracy(&c), 3.0 / 5), "3 classes: accuracy 3/5");
    CHECK(prf_is(&c, 0, 3.0 / 5, 3.0 / 4, 2.0 / 3), "3 classes: class 0 P 3/5 R 3/4 F1 2/3");
    CHECK(prf_is(&c, 1, 2.0 / 3, 2.0 / 3, 2.0 / 3), "3 classes: class 1 P R F1 2/3");
    CHECK(prf_is(&c, 2, 1.0 / 2, 1.0 / 3, 2.0 / 5), "3 classes: class 2 P 1/2 R 1/3 F1 2/5");
    CHECK(near(pnm_macro_f1(&c), 26.0 / 45), "3 classes: macro-F1 26/45");
    CHECK(prf_is(&c, 3, 0, 0, 0), "a class id past n_classes has P = R = F1 = 0");
    double f1 = -1;
    pnm_class_prf(&c, 0, NULL, NULL, &f1);
    CHECK(near(f1, 2.0 / 3), "NULL outputs are skipped");
    pnm_confusion_add(&c, 3, 0);
    pnm_confusion_add(&c, 0, 7);
    CHECK(pnm_confusion_total(&c) == 10, "out-of-range ids are not counted");
    pnm_confusion_free(&c);
    CHECK(c.counts == NULL && c.n_classes == 0, "free clears the struct");

    /* Four classes; class 3 is predicted once but never gold, class 2 never
     * occurs at all:
     *   (0,0) (0,3) (1,1)
     * accuracy 2/3
     * class 0: P = 1/1, R = 1/2, F1 = 2/3
     * class 1: P = R = F1 = 1
     * class 2: absent both ways: left out of the mean
     * class 3: P = 0/1, R undefined -> 0, F1 = 0/(0 + 1) = 0
     * macro-F1 = (2/3 + 1 + 0) / 3 = 5/9 */
    CHECK(pnm_confusion_init(&c, 4, &err) == 0, "init 4 classes");
    static const uint32_t absent[] = {0, 0, 0, 3, 1, 1};
    add_pairs(&c, absent, 3);
    CHECK(near(pnm_accuracy(&c), 2.0 / 3), "absent class: accuracy 2/3");
    CHECK(prf_is(&c, 0, 1, 1.0 / 2, 2.0 / 3), "absent class: class 0 P 1 R 1/2 F1 2/3");
    CHECK(prf_is(&c, 3, 0, 0, 0), "predicted but not gold: P = R = F1 = 0");
    CHECK(prf_is(&c, 2, 0, 0, 0), "neither gold nor predicted: P = R = F1 = 0");
    CHECK(near(pnm_macro_f1(&c), 5.0 / 9), "macro-F1 5/9: the unseen class is left out");
    pnm_confusion_free(&c);
}

static void test_tag_parse(void)
{
    char kind;
    const char *type;
    size_t len;
    pnm_error err;
    CHECK(pnm_tag_parse("O", &kind, &type, &len, &err) == 0 && kind == 'O' && len == 0 &&
              *type == '\0', "O");
    CHECK(pnm_tag_parse("B-loc", &kind, &type, &len, &err) == 0 && kind == 'B' && len == 3 &&
              memcmp(type, "loc", 3) == 0, "B-loc");
    CHECK(pnm_tag_parse("I-date-time", &kind, &type, &len, &err) == 0 && kind == 'I' &&
              len == 9 && memcmp(type, "date-time", 9) == 0, "a type may contain '-'");
    CHECK(pnm_tag_parse("X-foo", &kind, &type, &len, &err) == -1 &&
              strstr(err.msg, "\"X-foo\" is not O, B-TYPE or I-TYPE"), "X-foo is an error");
    static const char *const bad[] = {"", "B-", "I", "b-foo", "O-foo", "OO", "Bfoo"};
    int all_bad = 1;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        all_bad &= pnm_tag_parse(bad[i], &kind, &type, &len, NULL) == -1;
    CHECK(all_bad, "empty, typeless, lowercase and O- tags are errors");
    CHECK(pnm_tag_parse(NULL, &kind, &type, &len, &err) == -1, "a missing tag is an error");
}

static void test_spans(void)
{
    CHECK(spans_are("B-a I-a O", "B-a I-a O", 1, 1, 1), "same tags: 1 correct span");
    CHECK(spans_are("B-a I-a", "B-a O", 1, 1, 0), "wrong end: not correct");
    CHECK(spans_are("B-a I-a", "I-a I-a", 1, 1, 1), "I-a I-a without B is one span");
    CHECK(spans_are("B-a B-a", "B-a I-a", 2, 1, 0), "B-a B-a is two spans");
    CHECK(spans_are("B-a I-b", "B-a B-b", 2, 2, 2), "B-a I-b is two spans");
    CHECK(spans_are("O B-a", "O I-a", 1, 1, 1), "I-a after O starts a span");
    CHECK(spans_are("B-a I-a I-a", "B-b I-a I-a", 1, 2, 0),
          "I-a after B-b starts a new span");
    CHECK(spans_are("B-a I-a", "B-b I-b", 1, 1, 0), "same ends, other type: not correct");
    CHECK(spans_are("O O", "O O", 0, 0, 0), "all O: no spans");
    CHECK(spans_are("B-a O B-a", "B-a O I-a", 2, 2, 2), "spans end before O");
    CHECK(spans_are("B-long I-long I-long I-long", "B-long I-long B-long I-long", 1, 2, 0),
          "a split span matches neither half");

    int rc;
    pnm_span_counts c = spans_of("B-a", "B-a", &rc);
    CHECK(rc == 0 && c.gold == 1 && c.correct == 1, "one-word sentence");
    pnm_error err;
    CHECK(pnm_spans_add(&c, NULL, NULL, 0, &err) == 0 && c.gold == 1 && c.pred == 1,
          "empty sentence adds nothing");

    const char *gold[] = {"B-a", "O", "I-a"};
    const char *pred[] = {"B-a", "O", "X-foo"};
    CHECK(pnm_spans_add(&c, gold, pred, 3, &err) == -1, "invalid predicted tag X-foo: error");
    CHECK(strstr(err.msg, "predicted tag 3 of 3") && strstr(err.msg, "X-foo"),
          "the error names the side, the word and the tag");
    CHECK(c.gold == 1 && c.pred == 1 && c.correct == 1, "counts unchanged after an error");
    gold[0] = "B_a";
    CHECK(pnm_spans_add(&c, gold, gold, 3, &err) == -1 && strstr(err.msg, "gold tag 1 of 3"),
          "invalid gold tag: error");

    /* Three sentences:
     *   gold B-per I-per O B-loc        pred B-per I-per O B-org
     *        spans (per,0,1) (loc,3,3)       (per,0,1) (org,3,3)     correct 1
     *   gold O B-loc I-loc I-loc         pred O B-loc I-loc O
     *        spans (loc,1,3)                 (loc,1,2)               correct 0
     *   gold B-org O O                   pred B-org O B-per
     *        spans (org,0,0)                 (org,0,0) (per,2,2)     correct 1
     * gold 4, pred 5, correct 2: P = 2/5, R = 1/2, F1 = 2*2/(4+5) = 4/9 */
    static const char *const g1[] = {"B-per", "I-per", "O", "B-loc"};
    static const char *const p1[] = {"B-per", "I-per", "O", "B-org"};
    static const char *const g2[] = {"O", "B-loc", "I-loc", "I-loc"};
    static const char *const p2[] = {"O", "B-loc", "I-loc", "O"};
    static const char *const g3[] = {"B-org", "O", "O"};
    static const char *const p3[] = {"B-org", "O", "B-per"};
    pnm_span_counts all = {0, 0, 0};
    int ok = pnm_spans_add(&all, g1, p1, 4, &err) == 0 &&
             pnm_spans_add(&all, g2, p2, 4, &err) == 0 &&
             pnm_spans_add(&all, g3, p3, 3, &err) == 0;
    CHECK(ok && all.gold == 4 && all.pred == 5 && all.correct == 2,
          "3 sentences: gold 4, pred 5, correct 2");
    CHECK(near(pnm_span_precision(&all), 2.0 / 5), "3 sentences: precision 2/5");
    CHECK(near(pnm_span_recall(&all), 1.0 / 2), "3 sentences: recall 1/2");
    CHECK(near(pnm_span_f1(&all), 4.0 / 9), "3 sentences: F1 4/9");
    double p = pnm_span_precision(&all), r = pnm_span_recall(&all);
    CHECK(near(pnm_span_f1(&all), 2 * p * r / (p + r)), "F1 is the harmonic mean of P and R");

    pnm_span_counts none = {0, 0, 0};
    CHECK(pnm_span_precision(&none) == 0.0 && pnm_span_recall(&none) == 0.0 &&
              pnm_span_f1(&none) == 0.0, "no spans: P = R = F1 = 0");
}

int main(void)
{
    test_confusion();
    test_tag_parse();
    test_spans();
    return tap_done();
}
