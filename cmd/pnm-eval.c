/* pnm-eval: pnm-classify's predictions + the gold TSV -> accuracy, macro-F1,
 * per-class scores, confusions, slot span F1 and exact match. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: pnm-eval [OPTION]... GOLD.tsv [PREDICTIONS]\n"
    "Score pnm-classify's predictions against the gold data, line N against\n"
    "line N: accuracy, macro-F1, per-class precision/recall/F1 and the most\n"
    "frequent confusions for labels; CoNLL span precision/recall/F1 for BIO tags;\n"
    "exact match (the label and every tag right) for both.\n"
    "  GOLD.tsv     classify: LABEL<TAB>TEXT   joint: LABEL<TAB>TEXT<TAB>TAGS\n"
    "               tag: TEXT<TAB>TAGS (as pnm-train reads it)\n"
    "  PREDICTIONS  pnm-classify's output; with none, or -, standard input\n"
    "\n"
    "  -F, --format=FORMAT      predictions as pnm-classify -F text (default) or tsv\n"
    "      --task=TASK          classify, joint or tag (default: from the columns\n"
    "                           of GOLD: 2 classify, 3 joint)\n"
    "  -j, --json               print the report as one JSON object\n"
    "  -c, --confusions=N       show the N most frequent confusions (default 10)\n"
    "  -o, --output=FILE        write FILE (atomically) instead of standard output\n"
    "  -h, --help               show this help and exit\n"
    "  -V, --version            show the version and exit\n"
    "\n"
    "Example:\n"
    "  cut -f2 test.tsv | pnm-tokenize -m M | pnm-project -m M | pnm-classify -m M |\n"
    "    pnm-eval test.tsv\n";

enum { OPT_TASK = 256 };

static const struct option options[] = {
    {"format", required_argument, NULL, 'F'},
    {"task", required_argument, NULL, OPT_TASK},
    {"json", no_argument, NULL, 'j'},
    {"confusions", required_argument, NULL, 'c'},
    {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* Reads a whole file of lines ("-": standard input). */
static int read_lines(pnm_tsv *t, const char *path, const char *name, pnm_error *err)
{
    FILE *f = cli_open_input(path, err);
    if (!f)
        return -1;
    int rc = pnm_tsv_read(t, f, name, err);
    cli_close_input(f);
    return rc;
}

int main(int argc, char **argv)
{
    cli_init(argv);
    pnm_eval_options eo = {PNM_PRED_TEXT, false, PNM_TASK_CLASSIFY};
    const char *output = NULL, *pred_path = "-";
    bool json = false;
    uint32_t max_confusions = 10;
    int opt;
    while ((opt = getopt_long(argc, argv, "F:jc:o:hV", options, NULL)) != -1) {
        switch (opt) {
        case 'F':
            if (pnm_pred_format_parse(optarg, &eo.format))
                cli_usage_error("--format: '%s' is not text or tsv", optarg);
            break;
        case OPT_TASK:
            if (pnm_task_parse(optarg, &eo.task))
                cli_usage_error("--task: '%s' is not classify, joint or tag", optarg);
            eo.task_given = true;
            break;
        case 'j': json = true; break;
        case 'c': max_confusions = (uint32_t)cli_uint("--confusions", optarg, 0, UINT32_MAX); break;
        case 'o': output = optarg; break;
        case 'h': fputs(usage, stdout); exit(0);
        case 'V': cli_version();
        default: cli_try_help();
        }
    }
    if (optind == argc)
        cli_usage_error("no gold file: give GOLD.tsv");
    if (argc - optind > 2)
        cli_usage_error("a gold file and one predictions file at most (got %d files)",
                        argc - optind);
    const char *gold_path = argv[optind];
    if (optind + 1 < argc)
        pred_path = argv[optind + 1];
    if (strcmp(gold_path, "-") == 0 && strcmp(pred_path, "-") == 0)
        cli_usage_error("the gold data and the predictions cannot both be standard input");
    const char *gold_name = strcmp(gold_path, "-") ? gold_path : "standard input";
    const char *pred_name = strcmp(pred_path, "-") ? pred_path : "standard input";

    pnm_error err;
    pnm_tsv gold = {0}, pred = {0};
    pnm_eval_report report = {0};
    if (read_lines(&gold, gold_path, gold_name, &err) ||
        read_lines(&pred, pred_path, pred_name, &err) ||
        pnm_evaluate(&report, &gold, gold_name, &pred, pred_name, &eo, &err)) {
        pnm_tsv_free(&gold);
        pnm_tsv_free(&pred);
        cli_die("%s", err.msg);
    }
    pnm_tsv_free(&gold);
    pnm_tsv_free(&pred);
    pnm_output out;
    int rc = pnm_output_open(&out, output, &err);
    if (rc == 0) {
        if (json)
            pnm_eval_report_print_json(out.f, &report, max_confusions);
        else
            pnm_eval_report_print_text(out.f, &report, max_confusions);
        rc = pnm_output_commit(&out, &err);
    }
    pnm_eval_report_free(&report);
    if (rc)
        cli_die("%s", err.msg);
    return 0;
}
