/* Output files that appear whole or not at all: written to a temporary file
 * beside the target and renamed over it on success, removed on failure. */
#ifndef PNM_OUTPUT_H
#define PNM_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pnm_output {
    FILE *f;      /* write here */
    char *path;   /* NULL for standard output */
    char *tmp;
    bool device;  /* an existing FIFO or device, written in place */
} pnm_output;

/* path NULL or "-" means standard output; an existing FIFO or device is
 * written directly too (there is nothing to rename over). */
int pnm_output_open(pnm_output *o, const char *path, pnm_error *err);
/* Flushes, syncs and renames into place (or flushes stdout). */
int pnm_output_commit(pnm_output *o, pnm_error *err);
/* Discards a file output; for stdout, only flushes what is there. */
void pnm_output_abort(pnm_output *o);

#ifdef __cplusplus
}
#endif
#endif
