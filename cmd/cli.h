/* What every pnm program does the same way: messages, exit codes, option
 * values, opening inputs. Only cmd/ prints; lib/ returns errors. */
#ifndef PNM_CLI_H
#define PNM_CLI_H

/* PATH_MAX: <limits.h> would reach lib/limits.h through GCC's include_next. */
#include <linux/limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdnoreturn.h>

#include "pnm.h"

/* Restores the default SIGPIPE action, so `| head` ends a program quietly
 * even when its parent ignored the signal; names the program by its short
 * name in getopt's own messages; keeps BLAS to the calling thread. */
void cli_init(char **argv);

/* "PROGRAM: message" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* cli_error, then exit(1). For option errors, before any output exists. */
noreturn void cli_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* For a bad option: the message and a pointer to --help, exit 2. */
noreturn void cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* After getopt has said what was wrong with an option: the pointer to
 * --help, exit 2. */
noreturn void cli_try_help(void);

noreturn void cli_version(void);

/* An unsigned integer option value in [min, max], or cli_usage_error. */
uint64_t cli_uint(const char *option, const char *arg, uint64_t min, uint64_t max);
/* -z/--zstd[=LEVEL]: 3 without a level. */
int cli_zstd_level(const char *arg);

/* The one input stream a program takes: argv[first] (getopt's optind), or
 * "-" when there is none; more than one is a usage error. */
const char *cli_single_input(int argc, char **argv, int first);

/* Opens the output (pnm_output_open: NULL or "-" is stdout, a file is
 * written beside and renamed into place), calls write, then commits the
 * output, or discards it when write failed. */
int cli_write_output(const char *path, int (*write)(void *ctx, FILE *out, pnm_error *err),
                     void *ctx, pnm_error *err);

/* The model a program uses when -m is not given: $PNM_MODEL when set and
 * not empty; else DIR/../share/pnm/default.pnm (the installed layout) or,
 * failing that, DIR/../models/default.pnm (a built clone), DIR being the
 * directory of the running executable (/proc/self/exe, links resolved).
 * Returns 0 with the path in path, or -1 with err saying where it looked. */
int cli_default_model(char path[static PATH_MAX], pnm_error *err);
/* --help's lines on where the model comes from without -m. */
#define CLI_DEFAULT_MODEL_HELP \
    "                           (default: $PNM_MODEL, else default.pnm in\n" \
    "                           ../share/pnm or ../models beside this program)\n"

/* given when not NULL, else cli_default_model's path (kept in buf); when
 * there is none, a usage error: -m is needed. */
const char *cli_model_or_default(const char *given, char buf[static PATH_MAX]);

/* Opens path for reading ("-" is stdin); NULL and err set on failure. */
FILE *cli_open_input(const char *path, pnm_error *err);
void cli_close_input(FILE *f);

#endif
