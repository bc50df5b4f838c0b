/* pnm-classify: hidden or feature stream + model -> one line per input line. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "model_input.h"

static const char usage[] =
    "Usage: pnm-classify [-m MODEL] [OPTION]... [FILE]\n"
    "Print MODEL's prediction for every record of a hidden stream (from pnm-mix)\n"
    "or a feature stream (the mixer then runs here): one line per input line,\n"
    "the label and, for a tagging model, one tag per word.\n"
    "With no FILE, or when FILE is -, read standard input.\n"
    "\n"
    "  -m, --model=FILE         model made by pnm-train\n"
    CLI_DEFAULT_MODEL_HELP
    "  -p, --probs              print probabilities\n"
    "  -k, --top-k=K            print the K most likely labels (default 1)\n"
    "  -F, --format=FORMAT      text (default), tsv or json\n"
    "  -o, --output=FILE        write FILE (atomically) instead of standard output\n"
    "  -h, --help               show this help and exit\n"
    "  -V, --version            show the version and exit\n"
    "\n"
    "Formats, one line per record:\n"
    "  text  LABEL [PROB]... [TAB TAG [PROB]...]\n"
    "  tsv   LINE TAB LABEL [PROB]... TAB TAGS [TAB TAG_PROBS]\n"
    "  json  {\"line\":N,\"label\":...,\"prob\":...,\"tags\":[...],\"tag_probs\":[...]}\n"
    "\n"
    "Examples:\n"
    "  echo 'play some jazz' | pnm-tokenize | pnm-project | pnm-classify\n"
    "  echo 'play some jazz' | pnm-tokenize -m M | pnm-project -m M | pnm-classify -m M\n";

static const struct option options[] = {
    {"model", required_argument, NULL, 'm'},
    {"probs", no_argument, NULL, 'p'},
    {"top-k", required_argument, NULL, 'k'},
    {"format", required_argument, NULL, 'F'},
    {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

typedef struct classify_job {
    model_input in;
    pnm_print_options print;
} classify_job;

static int classify(void *ctx, FILE *out, pnm_error *err)
{
    classify_job *job = ctx;
    model_input *in = &job->in;
    const pnm_print_options *po = &job->print;
    bool hidden_input = pnm_reader_header(in->reader)->kind == PNM_KIND_HIDDEN;
    pnm_runner runner;
    if (pnm_runner_init(&runner, in->model, err))
        return -1;
    pnm_runner_set_tag_probs(&runner, pnm_print_needs_tag_probs(po));
    pnm_features features = {0};
    pnm_hidden hidden = {0};
    pnm_prediction p;
    int rc = 0, got;
    while (rc == 0) {
        if (hidden_input) {
            got = pnm_hidden_read(in->reader, &hidden, err);
            if (got > 0 && pnm_infer_hidden(&runner, &hidden, &p, err))
                got = -1;
        } else {
            got = pnm_features_read(in->reader, &features, err);
            if (got > 0 && pnm_infer_features(&runner, &features, &p, err))
                got = -1;
        }
        if (got <= 0) {
            rc = got;
            break;
        }
        pnm_prediction_print(out, in->model, &p, po);
    }
    pnm_runner_free(&runner);
    pnm_features_free(&features);
    pnm_hidden_free(&hidden);
    return rc;
}

int main(int argc, char **argv)
{
    cli_init(argv);
    const char *model = NULL, *output = NULL;
    classify_job job = {.print = {PNM_FORMAT_TEXT, false, 1}};
    pnm_print_options *po = &job.print;
    int opt;
    while ((opt = getopt_long(argc, argv, "m:pk:F:o:hV", options, NULL)) != -1) {
        switch (opt) {
        case 'm': model = optarg; break;
        case 'p': po->probs = true; break;
        case 'k': po->top_k = (uint32_t)cli_uint("--top-k", optarg, 1, 64); break;
        case 'F':
            if (strcmp(optarg, "text") == 0)
                po->format = PNM_FORMAT_TEXT;
            else if (strcmp(optarg, "tsv") == 0)
                po->format = PNM_FORMAT_TSV;
            else if (strcmp(optarg, "json") == 0)
                po->format = PNM_FORMAT_JSON;
            else
                cli_usage_error("--format: '%s' is not text, tsv or json", optarg);
            break;
        case 'o': output = optarg; break;
        case 'h': fputs(usage, stdout); exit(0);
        case 'V': cli_version();
        default: cli_try_help();
        }
    }
    model_input_open(&job.in, model, cli_single_input(argc, argv, optind), true);
    pnm_error err;
    int rc = cli_write_output(output, classify, &job, &err);
    model_input_close(&job.in);
    if (rc)
        cli_die("%s", err.msg);
    return 0;
}
