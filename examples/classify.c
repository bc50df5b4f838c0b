/* classify MODEL SENTENCE: the label a pnm model gives the sentence and,
 * for a tagging model, one tag per word: LABEL<TAB>TAG TAG ...
 *
 *     cc classify.c -o classify $(pkg-config --cflags --libs pnm)
 *     ./classify atis.pnm "show me flights from boston to denver" */
#include <stdio.h>

#include <pnm/pnm.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL SENTENCE\n", argv[0]);
        return 2;
    }
    pnm_error err;
    pnm_classifier *c = pnm_classifier_open(argv[1], &err);
    pnm_session *s = c ? pnm_session_new(c, &err) : NULL;
    const pnm_result *r = s ? pnm_classify_text(s, argv[2], &err) : NULL;
    if (r) {
        const char *label = pnm_result_label_name(r);
        int tagger = pnm_classifier_tags(c) > 0;
        printf("%s%s", label ? label : "", label && tagger ? "\t" : "");
        for (uint32_t i = 0; tagger && i < pnm_result_words(r); i++)
            printf(i ? " %s" : "%s", pnm_result_tag_name(r, i));
        putchar('\n');
    } else {
        fprintf(stderr, "%s: %s\n", argv[0], err.msg);
    }
    pnm_session_free(s);
    pnm_classifier_close(c);
    return r ? 0 : 1;
}
