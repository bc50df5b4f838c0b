/* pnm_evaluate against hand-computed reports: a 3-class confusion with a
 * known macro-F1, conlleval spans in the tricky BIO cases, pnm-classify's
 * text and tsv formats (probabilities included), and every input error. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evaluate.h"
#include "tap.h"

#define TOL 1e-12

static int near(double got, double want)
{
    return fabs(got - want) <= TOL;
}

/* Reads the lines of s (not empty) as pnm_tsv_read does a file. */
static void tsv_of(pnm_tsv *t, const char *s)
{
    FILE *f = fmemopen((void *)s, strlen(s), "r");
    pnm_error err;
    if (!f || pnm_tsv_read(t, f, "test", &err)) {
        fprintf(stderr, "# cannot read test lines\n");
        exit(1);
    }
    fclose(f);
}

static const pnm_eval_options text_auto = {PNM_PRED_TEXT, false, PNM_TASK_CLASSIFY};

/* Evaluates pred against gold; the return code of pnm_evaluate. */
static int eval(pnm_eval_report *r, const char *gold, const char *pred,
                const pnm_eval_options *o, pnm_error *err)
{
    pnm_tsv g, p;
    tsv_of(&g, gold);
    tsv_of(&p, pred);
    int rc = pnm_evaluate(r, &g, "gold.tsv", &p, "pred.txt", o, err);
    pnm_tsv_free(&g);
    pnm_tsv_free(&p);
    return rc;
}

/* Whether evaluating fails with a message containing all of want[]. */
static int fails_with(const char *gold, const char *pred, const pnm_eval_options *o,
                      const char *want1, const char *want2)
{
    pnm_eval_report r;
    pnm_error err = {""};
    if (eval(&r, gold, pred, o, &err) == 0) {
        pnm_eval_report_free(&r);
        return 0;
    }
    int ok = strstr(err.msg, want1) && (!want2 || strstr(err.msg, want2));
    if (!ok)
        printf("# message: %s\n", err.msg);
    return ok && r.examples == 0 && r.classes == NULL;
}

static char *printed(const pnm_eval_report *r, int json, uint32_t max_confusions)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (json)
        pnm_eval_report_print_json(f, r, max_confusions);
    else
        pnm_eval_report_print_text(f, r, max_confusions);
    fclose(f);
    return buf;
}

/* The confusion of test_metrics: ([gold][pred])
 *            A  B  C   support
 *       A:   3  1  0   4
 *       B:   0  2  1   3
 *       C:   2  0  1   3
 *   pred:    5  3  2
 * accuracy 6/10; F1: A 2*3/(4+5) = 2/3, B 2*2/(3+3) = 2/3, C 2*1/(3+2) = 2/5;
 * macro-F1 (2/3 + 2/3 + 2/5) / 3 = 26/45. */
static const char three_gold[] =
    "A\tx\nA\tx\nA\tx\nA\tx\nB\tx\nB\tx\nB\tx\nC\tx\nC\tx\nC\tx\n";
static const char three_pred[] =
    "A\nA 0.9 B 0.1\nA\nB\nB\nB\nC 0.51\nA\nA\nC\n";

static void test_three_classes(void)
{
    pnm_eval_report r;
    pnm_error err;
    CHECK(eval(&r, three_gold, three_pred, &text_auto, &err) == 0, "3 classes: evaluates");
    CHECK(r.task == PNM_TASK_CLASSIFY && r.has_labels && !r.has_tags,
          "3 classes: 2 gold columns are the classify task");
    CHECK(r.examples == 10 && r.correct == 6 && near(r.accuracy, 0.6), "3 classes: accuracy 6/10");
    CHECK(near(r.macro_f1, 26.0 / 45), "3 classes: macro-F1 26/45");
    CHECK(r.exact == 6 && near(r.exact_match, 0.6), "3 classes: exact match = accuracy");
    CHECK(r.n_classes == 3, "3 classes: 3 rows");
    const pnm_eval_class *a = &r.classes[0], *b = &r.classes[1], *c = &r.classes[2];
    CHECK(strcmp(a->label, "A") == 0 && strcmp(b->label, "B") == 0 && strcmp(c->label, "C") == 0,
          "3 classes: rows by support, then name (A 4, B 3, C 3)");
    CHECK(a->support == 4 && a->predicted == 5 && near(a->precision, 0.6) &&
              near(a->recall, 0.75) && near(a->f1, 2.0 / 3), "3 classes: A P 3/5 R 3/4 F1 2/3");
    CHECK(b->support == 3 && b->predicted == 3 && near(b->precision, 2.0 / 3) &&
              near(b->recall, 2.0 / 3) && near(b->f1, 2.0 / 3), "3 classes: B P = R = F1 = 2/3");
    CHECK(c->support == 3 && c->predicted == 2 && near(c->precision, 0.5) &&
              near(c->recall, 1.0 / 3) && near(c->f1, 0.4), "3 classes: C P 1/2 R 1/3 F1 2/5");
    CHECK(r.n_confusions == 3, "3 classes: 3 confusions");
    const pnm_eval_confusion *k = r.confusions;
    CHECK(strcmp(k[0].gold, "C") == 0 && strcmp(k[0].predicted, "A") == 0 && k[0].count == 2,
          "3 classes: top confusion C -> A, 2");
    CHECK(strcmp(k[1].gold, "A") == 0 && strcmp(k[1].predicted, "B") == 0 && k[1].count == 1 &&
              strcmp(k[2].gold, "B") == 0 && strcmp(k[2].predicted, "C") == 0,
          "3 classes: then A -> B and B -> C (ties by name)");

    char *text = printed(&r, 0, 10);
    CHECK(strstr(text, "accuracy        60.00%  (6/10)") != NULL, "text: accuracy line");
    CHECK(strstr(text, "macro-F1        57.78%") != NULL, "text: macro-F1 with 2 decimals");
    CHECK(strstr(text, "exact match     60.00%  (6/10)") != NULL, "text: exact match line");
    CHECK(strstr(text, "C         50.00%     33.33%     40.00%        3\n") != NULL,
          "text: class C's row");
    CHECK(strstr(text, "      2  C -> A\n      1  A -> B\n      1  B -> C\n") != NULL,
          "text: confusions, most frequent first");
    CHECK(strstr(text, "slot") == NULL, "text: no slot lines for the classify task");
    free(text);
    text = printed(&r, 0, 1);
    CHECK(strstr(text, "C -> A") && !strstr(text, "A -> B"), "text: max_confusions 1");
    free(text);

    char *json = printed(&r, 1, 10);
    CHECK(strstr(json, "\"task\": \"classify\"") && strstr(json, "\"examples\": 10,") &&
              strstr(json, "\"accuracy\": 0.6,") && strstr(json, "\"correct\": 6,") &&
              strstr(json, "\"macro_f1\": 0.5777777778,") &&
              strstr(json, "\"exact_match\": 0.6,") && strstr(json, "\"exact\": 6"),
          "json: summary keys");
    CHECK(strstr(json, "{\"label\": \"C\", \"precision\": 0.5, \"recall\": 0.3333333333,"
                       " \"f1\": 0.4, \"support\": 3, \"predicted\": 2}") != NULL,
          "json: per_class entry of C");
    CHECK(strstr(json, "{\"gold\": \"C\", \"predicted\": \"A\", \"count\": 2}") != NULL,
          "json: confusions entry");
    CHECK(strstr(json, "\"slots\"") == NULL, "json: no slots for the classify task");
    CHECK(json[0] == '{' && strcmp(json + strlen(json) - 2, "}\n") == 0, "json: one object");
    free(json);
    pnm_eval_report_free(&r);

    /* A label the model never predicts, and a predicted label gold lacks. */
    CHECK(eval(&r, "A\tx\nB\tx\n", "A\nZ\n", &text_auto, &err) == 0 && r.correct == 1 &&
              r.n_classes == 3 && near(r.macro_f1, (1.0 + 0 + 0) / 3),
          "unseen labels on either side count as errors, not failures");
    pnm_eval_report_free(&r);
}

/* Joint task, one label L; the spans (type, first, last) line by line:
 *   1 gold B-X I-X O   pred I-X I-X O  (I- without B-)   g 1 p 1 c 1
 *   2 gold B-X B-X     pred B-X B-X    (adjacent spans)  g 2 p 2 c 2  exact
 *   3 gold B-X B-X     pred B-X I-X    (two vs one)      g 2 p 1 c 0
 *   4 gold B-X I-X     pred B-Y I-Y    (type mismatch)   g 1 p 1 c 0
 *   5 gold B-X I-X O   pred B-X O O    (boundary)        g 1 p 1 c 0
 *   6 gold O B-X I-Y   pred O B-X I-Y  (I-Y after B-X)   g 2 p 2 c 2  label wrong
 *   7 gold I-X O       pred B-X O      (I- opens a span) g 1 p 1 c 1
 * gold 10, pred 9, correct 6: P 2/3, R 3/5, F1 12/19; accuracy 6/7; exact 1/7. */
static const char bio_gold[] =
    "L\ta b c\tB-X I-X O\n"
    "L\ta b\tB-X B-X\n"
    "L\ta b\tB-X B-X\n"
    "L\ta b\tB-X I-X\n"
    "L\ta b c\tB-X I-X O\n"
    "L\ta b c\tO B-X I-Y\n"
    "L\ta b\tI-X O\n";
static const char bio_pred[] =
    "L\tI-X I-X O\n"
    "L\tB-X B-X\n"
    "L\tB-X I-X\n"
    "L\tB-Y I-Y\n"
    "L\tB-X O O\n"
    "M\tO B-X I-Y\n"
    "L\tB-X O\n";

static int bio_is(const pnm_eval_report *r)
{
    return r->task == PNM_TASK_JOINT && r->has_labels && r->has_tags && r->examples == 7 &&
           r->spans.gold == 10 && r->spans.pred == 9 && r->spans.correct == 6 &&
           near(r->span_precision, 2.0 / 3) && near(r->span_recall, 0.6) &&
           near(r->span_f1, 12.0 / 19) && r->correct == 6 && r->exact == 1 &&
           near(r->exact_match, 1.0 / 7);
}

static void test_bio(void)
{
    pnm_eval_report r;
    pnm_error err;
    CHECK(eval(&r, bio_gold, bio_pred, &text_auto, &err) == 0 && bio_is(&r),
          "BIO: spans 10/9/6, accuracy 6/7, exact 1/7");
    char *text = printed(&r, 0, 10);
    CHECK(strstr(text, "slot precision  66.67%  (6/9 predicted spans)") &&
              strstr(text, "slot recall     60.00%  (6/10 gold spans)") &&
              strstr(text, "slot F1         63.16%\n") &&
              strstr(text, "exact match     14.29%  (1/7)"), "BIO: text slot and exact lines");
    free(text);
    char *json = printed(&r, 1, 10);
    CHECK(strstr(json, "\"task\": \"joint\"") &&
              strstr(json, "\"slots\": {\"precision\": 0.6666666667, \"recall\": 0.6, \"f1\":"
                           " 0.6315789474, \"gold\": 10, \"predicted\": 9, \"correct\": 6}") &&
              strstr(json, "\"exact\": 1"), "BIO: json slots");
    free(json);
    pnm_eval_report_free(&r);

    /* The same with pnm-classify --probs -k 2: labels and tags with probabilities. */
    static const char probs[] =
        "L 0.9 M 0.1\tI-X 0.5 I-X 0.4 O 1.0000\n"
        "L 0.9 M 0.1\tB-X 0.5 B-X 0.4\n"
        "L 0.9 M 0.1\tB-X 0.5 I-X 0.4\n"
        "L 0.9 M 0.1\tB-Y 0.5 I-Y 0.4\n"
        "L 0.9 M 0.1\tB-X 0.5 O 0.4 O 0.3\n"
        "M 0.6 L 0.4\tO 0.5 B-X 0.4 I-Y 0.3\n"
        "L 0.9 M 0.1\tB-X 0.5 O 0.4\n";
    CHECK(eval(&r, bio_gold, probs, &text_auto, &err) == 0 && bio_is(&r),
          "BIO: text with probabilities after labels and tags scores the same");
    pnm_eval_report_free(&r);

    /* pnm-classify -F tsv -p: LINE, labels, tags, tag probabilities. */
    static const char tsv[] =
        "1\tL 0.9\tI-X I-X O\t0.5 0.4 1.0\n"
        "2\tL\tB-X B-X\n"
        "3\tL\tB-X I-X\n"
        "4\tL\tB-Y I-Y\n"
        "5\tL\tB-X O O\n"
        "6\tM\tO B-X I-Y\n"
        "7\tL\tB-X O\t0.9 0.8\n";
    pnm_eval_options o = {PNM_PRED_TSV, false, PNM_TASK_CLASSIFY};
    CHECK(eval(&r, bio_gold, tsv, &o, &err) == 0 && bio_is(&r), "BIO: the tsv format scores the same");
    pnm_eval_report_free(&r);

    /* --task tag on the same gold: the label column and the labels are ignored. */
    o = (pnm_eval_options){PNM_PRED_TEXT, true, PNM_TASK_TAG};
    CHECK(eval(&r, bio_gold, bio_pred, &o, &err) == 0 && !r.has_labels && r.has_tags &&
              r.spans.correct == 6 && r.exact == 2 && r.n_classes == 0,
          "BIO: --task tag: spans as before, exact 2/7 (labels not scored)");
    char *text2 = printed(&r, 0, 10);
    CHECK(!strstr(text2, "accuracy") && !strstr(text2, "confusions"), "tag task: no label lines");
    free(text2);
    char *json2 = printed(&r, 1, 10);
    CHECK(!strstr(json2, "accuracy") && !strstr(json2, "per_class") && strstr(json2, "\"slots\""),
          "tag task: json without label keys");
    free(json2);
    pnm_eval_report_free(&r);

    /* --task classify on the same gold: tags ignored. */
    o = (pnm_eval_options){PNM_PRED_TEXT, true, PNM_TASK_CLASSIFY};
    CHECK(eval(&r, bio_gold, bio_pred, &o, &err) == 0 && r.has_labels && !r.has_tags &&
              r.correct == 6 && r.exact == 6, "BIO: --task classify: tags not scored");
    pnm_eval_report_free(&r);
}

static void test_tag_only(void)
{
    /* A tagging-only model's text output: the tags alone, no tab; with
     * --probs, TAG PROB pairs. Gold: TEXT TAGS. */
    static const char gold[] = "a b c\tB-X I-X O\nd e\tO B-Y\n";
    pnm_eval_options o = {PNM_PRED_TEXT, true, PNM_TASK_TAG};
    pnm_eval_report r;
    pnm_error err;
    CHECK(eval(&r, gold, "B-X I-X O\nO B-Y\n", &o, &err) == 0 && r.examples == 2 &&
              r.spans.gold == 2 && r.spans.correct == 2 && r.exact == 2,
          "tag only: tags without a tab");
    pnm_eval_report_free(&r);
    CHECK(eval(&r, gold, "B-X 0.9 I-X 0.8 O 0.7\nO 0.5 B-Z 0.25\n", &o, &err) == 0 &&
              r.spans.pred == 2 && r.spans.correct == 1 && r.exact == 1,
          "tag only: TAG PROB pairs");
    pnm_eval_report_free(&r);
    /* Not twice the words: not probabilities. */
    CHECK(fails_with(gold, "B-X 0.9 I-X 0.8\nO B-Y\n", &o, "pred.txt: line 1 has 4 tags",
                     "3 words"), "tag only: a half-probability list is a tag count error");
    CHECK(fails_with(gold, "B-X I-X O\nO 0.5 B-Y 0.5x\n", &o, "pred.txt: line 2 has 4 tags",
                     "2 words"), "tag only: a non-number among the pairs: not probabilities");
}

static void test_errors(void)
{
    CHECK(fails_with(three_gold, "A\nB\n", &text_auto, "gold.tsv has 10 lines",
                     "pred.txt has 2"), "line count mismatch names both counts");
    CHECK(fails_with("A\tx\n", "A\nA\nA\n", &text_auto, "has 1 lines but pred.txt has 3", NULL),
          "more predictions than gold lines");
    CHECK(fails_with(bio_gold, "L\tI-X I-X\nL\tB-X B-X\nL\tB-X B-X\nL\tO O\nL\tO O O\nL\tO O O\nL\tO O\n",
                     &text_auto, "pred.txt: line 1 has 2 tags, but line 1 of gold.tsv has 3 words",
                     NULL), "tag count mismatch names the line");
    CHECK(fails_with("A\tx\nB\tx\n", "A\n\n", &text_auto, "pred.txt: line 2 has no label",
                     "empty line"), "an empty prediction line");
    CHECK(fails_with("A\tx\nB\tx\n", "A\n 0.5\n", &text_auto, "pred.txt: line 2 has no label",
                     "blank"), "a prediction line starting with a blank");
    CHECK(fails_with("A\tx\tO\n", "A\tX-foo\n", &text_auto, "pred.txt: line 1",
                     "\"X-foo\" is not O"), "an invalid predicted tag");
    CHECK(fails_with("A\tx y\tO B-\n", "A\tO O\n", &text_auto, "gold.tsv: line 1: tag 2 of 2",
                     "\"B-\""), "an invalid gold tag");
    CHECK(fails_with("A\tx y\tO\n", "A\tO\n", &text_auto, "gold.tsv: line 1 has 2 words but 1 tags",
                     NULL), "gold tags that do not match its words");
    CHECK(fails_with("A\tx\tO\nB\n", "A\tO\nB\t\n", &text_auto,
                     "gold.tsv: line 2 has too few columns for the joint task", NULL),
          "a gold line without the task's columns");
    CHECK(fails_with("A\tx\n\tx\n", "A\nA\n", &text_auto, "gold.tsv: line 2 has an empty label",
                     NULL), "an empty gold label");
    CHECK(fails_with("A\tx\tO\n", "1\tA\tO\n", &text_auto, "more than one tab",
                     "--format tsv"), "tsv output read as text: a hint");
    pnm_eval_options tsv = {PNM_PRED_TSV, false, PNM_TASK_CLASSIFY};
    CHECK(fails_with("A\tx\nB\tx\n", "1\tA\n3\tB\n", &tsv,
                     "pred.txt: line 2: the LINE column is \"3\", expected 2", NULL),
          "tsv: a LINE column out of order");
    CHECK(fails_with("A\tx\nB\tx\n", "1\tA\n2\n", &tsv, "pred.txt: line 2 has no label", NULL),
          "tsv: no label column");
    CHECK(fails_with("A\tx\ty\tz\n", "A\n", &text_auto, "line 1 has 4 tab-separated columns",
                     "--task"), "gold with 4 columns and no --task");

    pnm_pred_format f;
    CHECK(pnm_pred_format_parse("tsv", &f) == 0 && f == PNM_PRED_TSV &&
              pnm_pred_format_parse("text", &f) == 0 && f == PNM_PRED_TEXT &&
              pnm_pred_format_parse("json", &f) == -1, "format names");
}

static void test_crlf(void)
{
    pnm_eval_report r;
    pnm_error err;
    CHECK(eval(&r, "A\tx y\tB-X O\r\n", "A\tB-X O\r\n", &text_auto, &err) == 0 &&
              r.exact == 1 && r.spans.correct == 1, "CRLF lines on both sides");
    pnm_eval_report_free(&r);
}

int main(void)
{
    test_three_classes();
    test_bio();
    test_tag_only();
    test_errors();
    test_crlf();
    return tap_done();
}
