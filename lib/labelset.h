/* Names (labels, tags) with dense ids in order of first appearance. */
#ifndef PNM_LABELSET_H
#define PNM_LABELSET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pnm_labelset {
    char **names;
    uint32_t count, cap;
    uint32_t *slots;   /* open addressing: id + 1, 0 = empty */
    uint32_t n_slots;
} pnm_labelset;

/* The id of name, adding it when absent. -1 when out of memory. */
int64_t pnm_labelset_intern(pnm_labelset *s, const char *name, size_t len);
/* The id of name, or -1. */
int64_t pnm_labelset_find(const pnm_labelset *s, const char *name, size_t len);
void pnm_labelset_free(pnm_labelset *s);

#ifdef __cplusplus
}
#endif
#endif
