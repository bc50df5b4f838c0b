#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void cli_init(char **argv)
{
    signal(SIGPIPE, SIG_DFL);
    argv[0] = program_invocation_short_name;
}

static void vmessage(const char *fmt, va_list ap)
{
    fflush(stdout);
    fprintf(stderr, "%s: ", program_invocation_short_name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(fmt, ap);
    va_end(ap);
}

void cli_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(fmt, ap);
    va_end(ap);
    exit(1);
}

void cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try '%s --help' for more information.\n", program_invocation_short_name);
    exit(2);
}

void cli_try_help(void)
{
    fprintf(stderr, "Try '%s --help' for more information.\n", program_invocation_short_name);
    exit(2);
}

void cli_version(void)
{
    printf("%s (pnm) %s\n", program_invocation_short_name, PNM_VERSION);
    exit(0);
}

uint64_t cli_uint(const char *option, const char *arg, uint64_t min, uint64_t max)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (arg[0] == '-' || arg[0] == '\0' || *end != '\0' || errno == ERANGE)
        cli_usage_error("%s: '%s' is not a number", option, arg);
    if (v < min || v > max)
        cli_usage_error("%s: %llu is outside %llu..%llu", option, v,
                        (unsigned long long)min, (unsigned long long)max);
    return v;
}

int cli_zstd_level(const char *arg)
{
    return arg ? (int)cli_uint("--zstd", arg, 1, 19) : 3;
}

const char *cli_single_input(int argc, char **argv, int first)
{
    if (argc - first > 1)
        cli_usage_error("one input stream at most (got %d)", argc - first);
    return first < argc ? argv[first] : "-";
}

int cli_write_output(const char *path, int (*write)(void *ctx, FILE *out, pnm_error *err),
                     void *ctx, pnm_error *err)
{
    pnm_output out;
    if (pnm_output_open(&out, path, err))
        return -1;
    if (write(ctx, out.f, err)) {
        pnm_output_abort(&out);
        return -1;
    }
    return pnm_output_commit(&out, err);
}

FILE *cli_open_input(const char *path, pnm_error *err)
{
    if (strcmp(path, "-") == 0)
        return stdin;
    FILE *f = fopen(path, "rb");
    if (!f)
        pnm_error_set(err, "%s: %s", path, strerror(errno));
    return f;
}

void cli_close_input(FILE *f)
{
    if (f && f != stdin)
        fclose(f);
}
