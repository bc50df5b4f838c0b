/* Runs one fuzz target (linked in: fuzz_TARGET.c) over every file of its
 * committed corpus, tests/fuzz/corpus/TARGET, and of its regressions,
 * tests/fuzz/regressions/TARGET (inputs that once crashed it), printing one
 * TAP line per file, so that make check replays them without libFuzzer. A
 * crash is the failure: the process dies, and scripts/check counts that;
 * under make check-sanitize the sanitizers report it. With arguments, runs
 * those files instead (to retry one input by hand). Run it from the
 * repository root, as scripts/check does. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tap.h"

#ifndef FUZZ_TARGET
#error "build with -DFUZZ_TARGET=\"name\""
#endif

/* Defined by the targets that load something once (libFuzzer calls it). */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    uint8_t *data = NULL;
    size_t len = 0, cap = 0, got;
    do {
        if (len == cap) {
            cap = cap ? 2 * cap : 4096;
            uint8_t *more = realloc(data, cap);
            if (!more) {
                free(data);
                fclose(f);
                return 0;
            }
            data = more;
        }
        got = fread(data + len, 1, cap - len, f);
        len += got;
    } while (got > 0);
    int ok = !ferror(f);
    fclose(f);
    if (ok)
        LLVMFuzzerTestOneInput(data, len);
    free(data);
    return ok;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays the files of dir in name order; returns how many there were. */
static size_t replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char **more = realloc(names, (n + 1) * sizeof *names);
        if (!more || !(more[n] = strdup(e->d_name)))
            abort();
        names = more;
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        CHECK(replay_file(path), path);
        free(names[i]);
    }
    free(names);
    return n;
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            CHECK(replay_file(argv[i]), argv[i]);
        return tap_done();
    }
    size_t seeds = replay_dir("tests/fuzz/corpus/" FUZZ_TARGET);
    CHECK(seeds > 0, "the corpus of " FUZZ_TARGET " is not empty");
    replay_dir("tests/fuzz/regressions/" FUZZ_TARGET);
    return tap_done();
}
