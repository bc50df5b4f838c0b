/* pnm-dump: any pnm stream -> readable text or JSON, validating as it reads. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: pnm-dump [OPTION]... [FILE]\n"
    "Print a pnm stream (tokens, features or hidden) as text: its header, then\n"
    "one line per record. Every length, checksum and value is validated on the\n"
    "way; a damaged stream is an error that names the byte offset.\n"
    "A model file (not in a pipe) is summed up instead: its sizes, whether its\n"
    "weights are float or int8 (pnm-quantize), then its label and tag names.\n"
    "With no FILE, or when FILE is -, read standard input.\n"
    "\n"
    "  -j, --json               one JSON object per line instead of text\n"
    "  -i, --ids                show piece ids instead of piece strings\n"
    "  -H, --header-only        print the header and stop\n"
    "  -h, --help               show this help and exit\n"
    "  -V, --version            show the version and exit\n"
    "\n"
    "Example:\n"
    "  pnm-tokenize -m v.model queries.txt | pnm-project | pnm-dump | head\n";

static const struct option options[] = {
    {"json", no_argument, NULL, 'j'},
    {"ids", no_argument, NULL, 'i'},
    {"header-only", no_argument, NULL, 'H'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

typedef struct config {
    pnm_dump_format format;
    bool ids, header_only;
    const char *input;
} config;

static config parse(int argc, char **argv)
{
    config c = {.format = PNM_DUMP_TEXT};
    int opt;
    while ((opt = getopt_long(argc, argv, "jiHhV", options, NULL)) != -1) {
        switch (opt) {
        case 'j': c.format = PNM_DUMP_JSON; break;
        case 'i': c.ids = true; break;
        case 'H': c.header_only = true; break;
        case 'h': fputs(usage, stdout); exit(0);
        case 'V': cli_version();
        default: cli_try_help();
        }
    }
    c.input = cli_single_input(argc, argv, optind);
    return c;
}

static int dump(const config *c, pnm_reader *in, pnm_error *err)
{
    const pnm_header *h = pnm_reader_header(in);
    pnm_dump_header(stdout, h, pnm_reader_compressed(in), c->format);
    if (c->header_only)
        return 0;
    pnm_tokens tokens = {0};
    pnm_features features = {0};
    pnm_hidden hidden = {0};
    int got;
    for (;;) {
        if (h->kind == PNM_KIND_TOKENS) {
            if ((got = pnm_tokens_read(in, &tokens, err)) > 0)
                pnm_dump_tokens(stdout, h, &tokens, c->format, c->ids, true);
        } else if (h->kind == PNM_KIND_HIDDEN) {
            if ((got = pnm_hidden_read(in, &hidden, err)) > 0)
                pnm_dump_hidden(stdout, &hidden, c->format);
        } else {
            if ((got = pnm_features_read(in, &features, err)) > 0)
                pnm_dump_features(stdout, &features, c->format);
        }
        if (got <= 0)
            break;
    }
    if (got == 0)
        pnm_dump_end(stdout, pnm_reader_records(in), c->format);
    pnm_tokens_free(&tokens);
    pnm_features_free(&features);
    pnm_hidden_free(&hidden);
    return got;
}

/* A model file, when the input is one: its summary. Only an input that can
 * seek is sniffed (a stream in a pipe cannot be read twice). Returns 1 when
 * a model was dumped, 0 when the input is not a model, -1 on error. */
static int dump_model(const config *c, FILE *f, pnm_error *err)
{
    uint8_t head[PNM_MODEL_SNIFF_BYTES];
    long at = ftell(f);
    if (at < 0)
        return 0;
    size_t got = fread(head, 1, sizeof head, f);
    if (fseek(f, at, SEEK_SET) != 0)
        return pnm_error_set(err, "%s: %s", c->input, strerror(errno));
    if (!pnm_model_sniff(head, got))
        return 0;
    pnm_model *m = pnm_model_load(strcmp(c->input, "-") ? c->input : "/dev/stdin", err);
    if (!m)
        return -1;
    pnm_dump_model(stdout, m, c->header_only, c->format);
    pnm_model_free(m);
    return 1;
}

int main(int argc, char **argv)
{
    cli_init(argv);
    config c = parse(argc, argv);
    pnm_error err;
    FILE *f = cli_open_input(c.input, &err);
    if (!f)
        cli_die("%s", err.msg);
    int model = dump_model(&c, f, &err);
    if (model < 0)
        cli_die("%s", err.msg);
    if (model) {
        cli_close_input(f);
        if (fflush(stdout) != 0 || ferror(stdout))
            cli_die("write error: %s", strerror(errno));
        return 0;
    }
    pnm_reader *in = pnm_reader_open(f, strcmp(c.input, "-") ? c.input : "standard input", &err);
    if (!in)
        cli_die("%s", err.msg);
    int rc = dump(&c, in, &err);
    pnm_reader_free(in);
    cli_close_input(f);
    if (rc != 0)
        cli_die("%s", err.msg);
    if (fflush(stdout) != 0 || ferror(stdout))
        cli_die("write error: %s", strerror(errno));
    return 0;
}
