/* pnm-classify: hidden or feature stream + model -> one line per input line. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "model_input.h"

static const char usage[] =
    "Usage: pnm-classify -m MODEL [OPTION]... [FILE]\n"
    "Print MODEL's prediction for every record of a hidden stream (from pnm-mix)\n"
    "or a feature stream (the mixer then runs here): one line per input line,\n"
    "the label and, for a tagging model, one tag per word.\n"
    "With no FILE, or when FILE is -, read standard input.\n"
    "\n"
    "  -m, --model=FILE         model made by pnm-train (required)\n"
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
    "Example:\n"
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

static int classify(model_input *in, FILE *out, const pnm_print_options *po, pnm_error *err)
{
    bool hidden_input = pnm_reader_header(in->reader)->kind == PNM_KIND_HIDDEN;
    pnm_runner runner;
    if (pnm_runner_init(&runner, in->model, err))
        return -1;
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
    const char *model = NULL, *output = NULL, *input = "-";
    pnm_print_options po = {PNM_FORMAT_TEXT, false, 1};
    int opt;
    while ((opt = getopt_long(argc, argv, "m:pk:F:o:hV", options, NULL)) != -1) {
        switch (opt) {
        case 'm': model = optarg; break;
        case 'p': po.probs = true; break;
        case 'k': po.top_k = (uint32_t)cli_uint("--top-k", optarg, 1, 64); break;
        case 'F':
            if (strcmp(optarg, "text") == 0)
                po.format = PNM_FORMAT_TEXT;
            else if (strcmp(optarg, "tsv") == 0)
                po.format = PNM_FORMAT_TSV;
            else if (strcmp(optarg, "json") == 0)
                po.format = PNM_FORMAT_JSON;
            else
                cli_usage_error("--format: '%s' is not text, tsv or json", optarg);
            break;
        case 'o': output = optarg; break;
        case 'h': fputs(usage, stdout); exit(0);
        case 'V': cli_version();
        default: cli_try_help();
        }
    }
    if (!model)
        cli_usage_error("no model: give -m FILE");
    if (argc - optind > 1)
        cli_usage_error("one input stream at most (got %d)", argc - optind);
    if (optind < argc)
        input = argv[optind];
    model_input in;
    model_input_open(&in, model, input, true);
    pnm_error err;
    pnm_output out;
    int rc = pnm_output_open(&out, output, &err);
    if (rc == 0 && (rc = classify(&in, out.f, &po, &err)) == 0)
        rc = pnm_output_commit(&out, &err);
    else if (out.f)
        pnm_output_abort(&out);
    model_input_close(&in);
    if (rc)
        cli_die("%s", err.msg);
    return 0;
}
