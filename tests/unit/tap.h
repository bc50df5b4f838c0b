/* A minimal TAP producer for the unit tests: one "ok"/"not ok" line per
 * check, read by scripts/check. */
#ifndef PNM_TAP_H
#define PNM_TAP_H

#include <stdio.h>

static int tap_count, tap_failed;

static inline int tap_check(int ok, const char *what, const char *file, int line)
{
    tap_count++;
    if (ok) {
        printf("ok %d - %s\n", tap_count, what);
    } else {
        tap_failed++;
        printf("not ok %d - %s (%s:%d)\n", tap_count, what, file, line);
    }
    return ok;
}

#define CHECK(cond, what) tap_check((cond) ? 1 : 0, what, __FILE__, __LINE__)

static inline int tap_done(void)
{
    printf("1..%d\n", tap_count);
    return tap_failed ? 1 : 0;
}

#endif
