/* Error reporting for libpnm.
 *
 * Library functions never print and never exit. A function that can fail
 * returns -1 (or NULL) and, when the caller passed a non-NULL pnm_error,
 * leaves one human-readable sentence in it; the program decides how to show
 * it and which status to exit with. */
#ifndef PNM_ERROR_H
#define PNM_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pnm_error {
    char msg[512];
} pnm_error;

/* printf-style; safe with err == NULL. Always returns -1 so that
 * `return pnm_error_set(err, ...)` reads naturally. */
int pnm_error_set(pnm_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prepends "PREFIX: " to the message already in err (for adding context such
 * as a file name or a byte offset on the way up). Returns -1. */
int pnm_error_prefix(pnm_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif
#endif
