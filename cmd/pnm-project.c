/* pnm-project: token stream -> feature stream (the MinHash projection). */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: pnm-project [OPTION]... [FILE]\n"
    "Hash every word of a token stream into a counting Bloom filter of m\n"
    "features with n MinHash functions over its pieces' trigrams; write one\n"
    "feature record per token record.\n"
    "With no FILE, or when FILE is -, read standard input.\n"
    "\n"
    "  -f, --features=M         Bloom filter size m (default 1024)\n"
    "  -n, --hashes=N           MinHash functions n (default 64)\n"
    "  -w, --window=W           neighbours on each side the model sees (default 1)\n"
    "      --seed=S             hash family seed (default 0)\n"
    "  -m, --vocab=FILE         check that the stream was made with this\n"
    "                           SentencePiece model; given a model from pnm-train,\n"
    "                           also take m, n, w and the seed from it; without\n"
    "                           -m and -f, -n, -w, --seed, a stream made with the\n"
    "                           default model's vocabulary gets its settings\n"
    CLI_DEFAULT_MODEL_HELP
    "  -z, --zstd[=LEVEL]       compress the stream with zstd (level 1-19, default 3)\n"
    "  -o, --output=FILE        write FILE (atomically) instead of standard output\n"
    "  -h, --help               show this help and exit\n"
    "  -V, --version            show the version and exit\n"
    "\n"
    "Example:\n"
    "  pnm-tokenize -m v.model queries.txt | pnm-project | pnm-dump | head\n";

static const struct option options[] = {
    {"features", required_argument, NULL, 'f'},
    {"hashes", required_argument, NULL, 'n'},
    {"window", required_argument, NULL, 'w'},
    {"seed", required_argument, NULL, 'S'},
    {"vocab", required_argument, NULL, 'm'},
    {"model", required_argument, NULL, 'm'},
    {"zstd", optional_argument, NULL, 'z'},
    {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

typedef struct config {
    pnm_projection projection;
    const char *vocab, *output, *input;
    int zstd;
    bool projection_given;
} config;

static config parse(int argc, char **argv)
{
    config c = {.projection = PNM_PROJECTION_DEFAULT};
    int opt;
    while ((opt = getopt_long(argc, argv, "f:n:w:m:z::o:hV", options, NULL)) != -1) {
        switch (opt) {
        case 'f':
            c.projection_given = true;
            c.projection.features = (uint32_t)cli_uint("--features", optarg, 1, PNM_MAX_FEATURES);
            break;
        case 'n':
            c.projection_given = true;
            c.projection.hashes = (uint32_t)cli_uint("--hashes", optarg, 1, PNM_MAX_HASHES);
            break;
        case 'w':
            c.projection_given = true;
            c.projection.window = (uint32_t)cli_uint("--window", optarg, 0, PNM_MAX_WINDOW);
            break;
        case 'S':
            c.projection.seed = cli_uint("--seed", optarg, 0, UINT64_MAX);
            c.projection_given = true;
            break;
        case 'm': c.vocab = optarg; break;
        case 'z': c.zstd = cli_zstd_level(optarg); break;
        case 'o': c.output = optarg; break;
        case 'h': fputs(usage, stdout); exit(0);
        case 'V': cli_version();
        default: cli_try_help();
        }
    }
    c.input = cli_single_input(argc, argv, optind);
    return c;
}

/* With -m, the stream must come from exactly that vocabulary; a model
 * also dictates the projection. */
static int check_vocab(config *c, const pnm_header *got, pnm_error *err)
{
    const char *path = c->vocab;
    pnm_model *model;
    pnm_sp *sp = pnm_vocab_load(path, &model, err);
    if (!sp)
        return -1;
    int rc = 0;
    if (model && c->projection_given)
        rc = pnm_error_set(err, "%s is a model: the projection settings come from it,"
                           " do not give them", path);
    else if (model)
        c->projection = model->config.projection;
    pnm_header want;
    if (rc == 0 && (rc = pnm_tokens_header(sp, 0, &want, err)) == 0) {
        if (pnm_header_check_match(&want, got, err))
            rc = pnm_error_prefix(err, "token stream does not match %s", path);
        pnm_header_free(&want);
    }
    if (model)
        pnm_model_free(model); /* and with it sp */
    else
        pnm_sp_free(sp);
    return rc;
}

/* Without -m and projection options, a stream made with the default model's
 * vocabulary is projected the way that model expects, so that
 * `pnm-tokenize | pnm-project | pnm-classify` needs no -m anywhere; other
 * streams, or no default model, keep the built-in settings. */
static int adopt_default_projection(config *c, const pnm_header *got, pnm_error *err)
{
    char path[PATH_MAX];
    if (cli_default_model(path, NULL))
        return 0;
    pnm_model *model = pnm_model_load(path, err);
    if (!model)
        return -1;
    pnm_header want;
    int rc = pnm_model_features_header(model, &want, err);
    if (rc == 0 && want.vocab_id == got->vocab_id)
        c->projection = model->config.projection;
    pnm_header_free(&want);
    pnm_model_free(model);
    return rc;
}

typedef struct project_job {
    config *c;
    pnm_reader *in;
} project_job;

static int project(void *ctx, FILE *out, pnm_error *err)
{
    project_job *job = ctx;
    config *c = job->c;
    pnm_reader *in = job->in;
    const pnm_header *th = pnm_reader_header(in);
    if (th->kind != PNM_KIND_TOKENS)
        return pnm_error_set(err, "%s: expected a tokens stream, got a %s stream",
                             c->input, pnm_kind_name(th->kind));
    if (c->vocab ? check_vocab(c, th, err)
                 : !c->projection_given && adopt_default_projection(c, th, err))
        return -1;
    pnm_projector *pr = pnm_projector_new(th, &c->projection, err);
    if (!pr)
        return -1;
    pnm_header fh;
    pnm_projector_header(pr, &fh);
    pnm_writer *w = pnm_writer_open(out, &fh, c->zstd, err);
    pnm_tokens tokens = {0};
    pnm_features features = {0};
    pnm_buf record = {0};
    int rc = w ? 0 : -1, got;
    while (rc == 0 && (got = pnm_tokens_read(in, &tokens, err)) != 0) {
        if (got < 0 || pnm_project_tokens(pr, &tokens, &features, err) ||
            pnm_features_encode(&features, &record, err) ||
            pnm_writer_write(w, record.data, record.len, err))
            rc = -1;
    }
    if (rc == 0)
        rc = pnm_writer_finish(w, err);
    pnm_writer_free(w);
    pnm_buf_free(&record);
    pnm_features_free(&features);
    pnm_tokens_free(&tokens);
    pnm_projector_free(pr);
    return rc;
}

int main(int argc, char **argv)
{
    cli_init(argv);
    config c = parse(argc, argv);
    pnm_error err;
    FILE *f = cli_open_input(c.input, &err);
    if (!f)
        cli_die("%s", err.msg);
    pnm_reader *in = pnm_reader_open(f, strcmp(c.input, "-") ? c.input : "standard input", &err);
    if (!in)
        cli_die("%s", err.msg);
    project_job job = {&c, in};
    int rc = cli_write_output(c.output, project, &job, &err);
    pnm_reader_free(in);
    cli_close_input(f);
    if (rc != 0)
        cli_die("%s", err.msg);
    return 0;
}
