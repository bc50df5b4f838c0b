/* pnm-tokenize: UTF-8 text -> token stream (or a SentencePiece vocabulary). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: pnm-tokenize [OPTION]... [FILE]...\n"
    "Split UTF-8 text, one example per line, into words and each word into\n"
    "SentencePiece pieces; write one token record per input line.\n"
    "With no FILE, or when FILE is -, read standard input.\n"
    "\n"
    "  -m, --vocab=FILE         SentencePiece model, or a model from pnm-train\n"
    CLI_DEFAULT_MODEL_HELP
    "  -s, --max-words=S        keep the first S words of a line (default: all)\n"
    "  -p, --pieces             print pieces as text instead of writing a stream\n"
    "  -z, --zstd[=LEVEL]       compress the stream with zstd (level 1-19, default 3)\n"
    "  -o, --output=FILE        write FILE (atomically) instead of standard output\n"
    "\n"
    "Training a vocabulary (writes a SentencePiece .model):\n"
    "      --train-vocab        learn pieces from the input text\n"
    "      --vocab-size=N       pieces to aim for (default 8000; a small corpus\n"
    "                           gives fewer)\n"
    "      --model-type=TYPE    unigram (default) or bpe\n"
    "      --normalization=NAME SentencePiece normalization rule (default\n"
    "                           nmt_nfkc_cf: NFKC and case folding)\n"
    "      --threads=N          training threads (default 1)\n"
    "      --seed=N             random seed (default 0)\n"
    "\n"
    "  -h, --help               show this help and exit\n"
    "  -V, --version            show the version and exit\n"
    "\n"
    "Examples:\n"
    "  echo 'play some jazz' | pnm-tokenize --pieces\n"
    "  pnm-tokenize --train-vocab -o v.model < corpus.txt\n"
    "  echo 'play some jazz' | pnm-tokenize -m v.model --pieces\n";

enum { OPT_TRAIN = 256, OPT_VOCAB_SIZE, OPT_MODEL_TYPE, OPT_NORM, OPT_THREADS, OPT_SEED };

static const struct option options[] = {
    {"vocab", required_argument, NULL, 'm'},
    {"max-words", required_argument, NULL, 's'},
    {"pieces", no_argument, NULL, 'p'},
    {"zstd", optional_argument, NULL, 'z'},
    {"output", required_argument, NULL, 'o'},
    {"train-vocab", no_argument, NULL, OPT_TRAIN},
    {"vocab-size", required_argument, NULL, OPT_VOCAB_SIZE},
    {"model-type", required_argument, NULL, OPT_MODEL_TYPE},
    {"normalization", required_argument, NULL, OPT_NORM},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"seed", required_argument, NULL, OPT_SEED},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

typedef struct config {
    const char *vocab, *output;
    uint32_t max_words;
    bool pieces, train, max_words_given;
    int zstd;
    pnm_sp_train_options train_opt;
    char **inputs;
    int n_inputs;
} config;

static config parse(int argc, char **argv)
{
    config c = {.train_opt = {8000, PNM_SP_UNIGRAM, "nmt_nfkc_cf", 1, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "m:s:pz::o:hV", options, NULL)) != -1) {
        switch (opt) {
        case 'm': c.vocab = optarg; break;
        case 's':
            c.max_words = (uint32_t)cli_uint("--max-words", optarg, 0, PNM_MAX_WORDS);
            c.max_words_given = true;
            break;
        case 'p': c.pieces = true; break;
        case 'z': c.zstd = cli_zstd_level(optarg); break;
        case 'o': c.output = optarg; break;
        case OPT_TRAIN: c.train = true; break;
        case OPT_VOCAB_SIZE:
            c.train_opt.vocab_size = (uint32_t)cli_uint("--vocab-size", optarg, 8, PNM_MAX_VOCAB);
            break;
        case OPT_MODEL_TYPE:
            if (strcmp(optarg, "unigram") == 0)
                c.train_opt.model_type = PNM_SP_UNIGRAM;
            else if (strcmp(optarg, "bpe") == 0)
                c.train_opt.model_type = PNM_SP_BPE;
            else
                cli_usage_error("--model-type: '%s' is not unigram or bpe", optarg);
            break;
        case OPT_NORM: c.train_opt.normalization = optarg; break;
        case OPT_THREADS: c.train_opt.threads = (uint32_t)cli_uint("--threads", optarg, 1, 256); break;
        case OPT_SEED: c.train_opt.seed = (uint32_t)cli_uint("--seed", optarg, 0, UINT32_MAX); break;
        case 'h': fputs(usage, stdout); exit(0);
        case 'V': cli_version();
        default: cli_try_help();
        }
    }
    if (c.train && (c.vocab || c.pieces || c.max_words_given || c.zstd))
        cli_usage_error("--train-vocab makes a vocabulary: -m, -s, -p and -z do not apply");
    if (c.pieces && c.zstd)
        cli_usage_error("--pieces prints text: --zstd does not apply");
    static char *stdin_only[] = {"-"};
    c.inputs = optind < argc ? argv + optind : stdin_only;
    c.n_inputs = optind < argc ? argc - optind : 1;
    return c;
}

/* Feeds every line of every input to line(); stops at the first error. */
typedef int (*line_fn)(void *ctx, const char *line, size_t len, uint64_t no, pnm_error *err);

static int for_each_line(const config *c, line_fn line, void *ctx, pnm_error *err)
{
    pnm_lines in;
    if (pnm_lines_init(&in, NULL, err))
        return -1;
    int rc = 0;
    for (int i = 0; rc == 0 && i < c->n_inputs; i++) {
        FILE *f = cli_open_input(c->inputs[i], err);
        if (!f) {
            rc = -1;
            break;
        }
        pnm_lines_reset(&in, f);
        const char *text;
        size_t len;
        int got;
        while ((got = pnm_lines_next(&in, &text, &len, err)) > 0)
            if (line(ctx, text, len, in.number, err)) {
                got = -1;
                break;
            }
        if (got < 0) {
            rc = -1;
            if (strcmp(c->inputs[i], "-") != 0)
                pnm_error_prefix(err, "%s", c->inputs[i]);
        }
        cli_close_input(f);
    }
    pnm_lines_free(&in);
    return rc;
}

static int add_to_corpus(void *corpus, const char *line, size_t len, uint64_t no, pnm_error *err)
{
    return pnm_corpus_add(corpus, line, len, no, err);
}

static int train_vocab(const config *c, pnm_error *err)
{
    pnm_corpus corpus = {0};
    void *model = NULL;
    size_t len = 0;
    pnm_output out;
    int rc = for_each_line(c, add_to_corpus, &corpus, err);
    if (rc == 0)
        rc = pnm_sp_train((const char *const *)corpus.sentences, corpus.count, &c->train_opt,
                          &model, &len, err);
    pnm_corpus_free(&corpus);
    if (rc == 0 && (rc = pnm_output_open(&out, c->output, err)) == 0) {
        if (fwrite(model, 1, len, out.f) != len)
            rc = pnm_error_set(err, "write error: %s", strerror(errno));
        if (rc == 0)
            rc = pnm_output_commit(&out, err);
        else
            pnm_output_abort(&out);
    }
    free(model);
    return rc;
}

typedef struct tokenize_ctx {
    const config *c;
    const pnm_sp *sp;
    const pnm_header *header;
    pnm_writer *writer; /* NULL with --pieces */
    FILE *text;
    pnm_tokens tokens;
    pnm_buf record;
    uint64_t truncated;
} tokenize_ctx;

static int tokenize_line(void *ctx, const char *line, size_t len, uint64_t no, pnm_error *err)
{
    tokenize_ctx *t = ctx;
    bool truncated;
    if (pnm_tokenize_line(t->sp, line, len, no, t->c->max_words, &t->tokens, &truncated, err))
        return -1;
    t->truncated += truncated;
    if (!t->writer) {
        pnm_dump_tokens(t->text, t->header, &t->tokens, PNM_DUMP_TEXT, false, false);
        return 0;
    }
    if (pnm_tokens_encode(&t->tokens, &t->record, err))
        return -1;
    return pnm_writer_write(t->writer, t->record.data, t->record.len, err);
}

static int tokenize(const config *c, pnm_error *err)
{
    char default_path[PATH_MAX];
    const char *path = cli_model_or_default(c->vocab, default_path);
    pnm_sp *sp = pnm_vocab_load(path, NULL, err);
    if (!sp)
        return -1;
    /* A vocabulary SentencePiece cannot load is refused before any input
     * is read, not at the first word. */
    if (pnm_sp_encoder_ready(sp, err)) {
        pnm_sp_free(sp);
        return pnm_error_prefix(err, "%s", path);
    }
    pnm_header header;
    pnm_output out;
    if (pnm_tokens_header(sp, c->max_words, &header, err)) {
        pnm_sp_free(sp);
        return -1;
    }
    int rc = pnm_output_open(&out, c->output, err);
    tokenize_ctx t = {.c = c, .sp = sp, .header = &header, .text = out.f};
    if (rc == 0 && !c->pieces && !(t.writer = pnm_writer_open(out.f, &header, c->zstd, err)))
        rc = -1;
    if (rc == 0)
        rc = for_each_line(c, tokenize_line, &t, err);
    if (rc == 0 && t.writer)
        rc = pnm_writer_finish(t.writer, err);
    pnm_writer_free(t.writer);
    if (rc == 0)
        rc = pnm_output_commit(&out, err);
    else if (out.f)
        pnm_output_abort(&out);
    if (rc == 0 && t.truncated)
        cli_error("%" PRIu64 " lines had more than %" PRIu32 " words and were truncated",
                  t.truncated, c->max_words);
    pnm_tokens_free(&t.tokens);
    pnm_buf_free(&t.record);
    pnm_header_free(&header);
    pnm_sp_free(sp);
    return rc;
}

int main(int argc, char **argv)
{
    cli_init(argv);
    config c = parse(argc, argv);
    pnm_error err;
    if ((c.train ? train_vocab(&c, &err) : tokenize(&c, &err)) != 0)
        cli_die("%s", err.msg);
    return 0;
}
