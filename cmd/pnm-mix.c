/* pnm-mix: feature stream + model -> hidden stream (the mixer's output). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "model_input.h"

static const char usage[] =
    "Usage: pnm-mix [-m MODEL] [OPTION]... [FILE]\n"
    "Run the bottleneck and the MLP-Mixer blocks of MODEL on every record of a\n"
    "feature stream; write the output (b floats per word, and the true length)\n"
    "as a hidden stream for pnm-classify.\n"
    "With no FILE, or when FILE is -, read standard input.\n"
    "\n"
    "  -m, --model=FILE         model made by pnm-train\n"
    CLI_DEFAULT_MODEL_HELP
    "  -z, --zstd[=LEVEL]       compress the stream with zstd (level 1-19, default 3)\n"
    "  -o, --output=FILE        write FILE (atomically) instead of standard output\n"
    "  -h, --help               show this help and exit\n"
    "  -V, --version            show the version and exit\n"
    "\n"
    "Example:\n"
    "  pnm-tokenize -m M q.txt | pnm-project -m M | pnm-mix -m M | pnm-classify -m M\n";

static const struct option options[] = {
    {"model", required_argument, NULL, 'm'},
    {"zstd", optional_argument, NULL, 'z'},
    {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

typedef struct mix_job {
    model_input in;
    int zstd;
} mix_job;

static int mix(void *ctx, FILE *out, pnm_error *err)
{
    mix_job *job = ctx;
    model_input *in = &job->in;
    pnm_header h;
    if (pnm_model_hidden_header(in->model, &h, err))
        return -1;
    pnm_writer *w = pnm_writer_open(out, &h, job->zstd, err);
    pnm_header_free(&h);
    pnm_runner runner;
    int ready = pnm_runner_init(&runner, in->model, err);
    pnm_features features = {0};
    pnm_hidden hidden = {0};
    pnm_buf record = {0};
    int rc = w && ready == 0 ? 0 : -1, got;
    while (rc == 0 && (got = pnm_features_read(in->reader, &features, err)) != 0) {
        if (got < 0 || pnm_mix_features(&runner, &features, &hidden, err) ||
            pnm_hidden_encode(&hidden, &record, err) ||
            pnm_writer_write(w, record.data, record.len, err))
            rc = -1;
    }
    if (rc == 0)
        rc = pnm_writer_finish(w, err);
    pnm_writer_free(w);
    if (ready == 0)
        pnm_runner_free(&runner);
    pnm_features_free(&features);
    pnm_hidden_free(&hidden);
    pnm_buf_free(&record);
    return rc;
}

int main(int argc, char **argv)
{
    cli_init(argv);
    const char *model = NULL, *output = NULL;
    mix_job job = {.zstd = 0};
    int opt;
    while ((opt = getopt_long(argc, argv, "m:z::o:hV", options, NULL)) != -1) {
        switch (opt) {
        case 'm': model = optarg; break;
        case 'z': job.zstd = cli_zstd_level(optarg); break;
        case 'o': output = optarg; break;
        case 'h': fputs(usage, stdout); exit(0);
        case 'V': cli_version();
        default: cli_try_help();
        }
    }
    model_input_open(&job.in, model, cli_single_input(argc, argv, optind), false);
    pnm_error err;
    int rc = cli_write_output(output, mix, &job, &err);
    model_input_close(&job.in);
    if (rc)
        cli_die("%s", err.msg);
    return 0;
}
