#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* OpenBLAS. Its threads, spinning while they wait, cost more than they
 * give on the small products of one record (3x the wall time of
 * pnm-classify on a loaded 2-core machine); programs that use several
 * cores split the work themselves (pnm-train -t). Weak: a program whose
 * objects need no OpenBLAS does not load it (the Makefile links with
 * --as-needed, which a weak reference does not count), and then has no
 * threads to limit. */
void openblas_set_num_threads(int num_threads) __attribute__((weak));

void cli_init(char **argv)
{
    signal(SIGPIPE, SIG_DFL);
    argv[0] = program_invocation_short_name;
    if (openblas_set_num_threads)
        openblas_set_num_threads(1);
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

int cli_default_model(char path[static PATH_MAX], pnm_error *err)
{
    const char *env = getenv("PNM_MODEL");
    if (env && *env) {
        if (strlen(env) >= PATH_MAX)
            return pnm_error_set(err, "PNM_MODEL is longer than %d bytes", PATH_MAX - 1);
        strcpy(path, env);
        return 0;
    }
    char prefix[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", prefix, sizeof prefix - 1);
    if (n < 0)
        return pnm_error_set(err, "no model: give -m FILE or set PNM_MODEL (the default model"
                             " lies beside this program, whose path is unknown: "
                             "/proc/self/exe: %s)", strerror(errno));
    prefix[n] = '\0';
    /* PREFIX/bin/pnm-x -> PREFIX, so that messages show plain paths. */
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(prefix, '/');
        if (slash)
            *slash = '\0';
    }
    static const char *const places[] = {"share/pnm", "models"};
    char tried[2][PATH_MAX];
    for (size_t i = 0; i < 2; i++) {
        int len = snprintf(tried[i], sizeof tried[i], "%s/%s/default.pnm", prefix, places[i]);
        if (len > 0 && (size_t)len < sizeof tried[i] && access(tried[i], F_OK) == 0) {
            strcpy(path, tried[i]);
            return 0;
        }
    }
    return pnm_error_set(err, "no model: give -m FILE or set PNM_MODEL (no default model at"
                         " %s or %s)", tried[0], tried[1]);
}

const char *cli_model_or_default(const char *given, char buf[static PATH_MAX])
{
    pnm_error err;
    if (given)
        return given;
    if (cli_default_model(buf, &err))
        cli_usage_error("%s", err.msg);
    return buf;
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
