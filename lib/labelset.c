/* Label sets (labelset.h): on their own, not in dataset.c, because the
 * programs that only run a model need them (BIO decoding) and dataset.c
 * would bring the tokenizer, SentencePiece and the C++ runtime with it. */
#include "labelset.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

static uint32_t slot_of(const pnm_labelset *s, const char *name, size_t len, bool *found)
{
    uint32_t mask = s->n_slots - 1, i = (uint32_t)pnm_hash64(name, len, 0) & mask;
    for (;; i = (i + 1) & mask) {
        uint32_t id = s->slots[i];
        if (id == 0) {
            *found = false;
            return i;
        }
        const char *have = s->names[id - 1];
        if (strncmp(have, name, len) == 0 && have[len] == '\0') {
            *found = true;
            return i;
        }
    }
}

int64_t pnm_labelset_find(const pnm_labelset *s, const char *name, size_t len)
{
    if (s->n_slots == 0)
        return -1;
    bool found;
    uint32_t i = slot_of(s, name, len, &found);
    return found ? (int64_t)s->slots[i] - 1 : -1;
}

static int labelset_grow(pnm_labelset *s)
{
    uint32_t n = s->n_slots ? 2 * s->n_slots : 64;
    uint32_t *slots = calloc(n, sizeof *slots);
    char **names = realloc(s->names, (size_t)n / 2 * sizeof *names);
    if (!slots || !names) {
        free(slots);
        if (names)
            s->names = names;
        return -1;
    }
    s->names = names;
    s->cap = n / 2;
    free(s->slots);
    s->slots = slots;
    s->n_slots = n;
    for (uint32_t id = 0; id < s->count; id++) {
        bool found;
        s->slots[slot_of(s, s->names[id], strlen(s->names[id]), &found)] = id + 1;
    }
    return 0;
}

int64_t pnm_labelset_intern(pnm_labelset *s, const char *name, size_t len)
{
    int64_t id = pnm_labelset_find(s, name, len);
    if (id >= 0)
        return id;
    if (s->count + 1 > s->cap && labelset_grow(s)) /* keeps the table half empty */
        return -1;
    char *copy = strndup(name, len);
    if (!copy)
        return -1;
    bool found;
    uint32_t slot = slot_of(s, name, len, &found);
    s->names[s->count] = copy;
    s->slots[slot] = ++s->count;
    return s->count - 1;
}

void pnm_labelset_free(pnm_labelset *s)
{
    for (uint32_t i = 0; i < s->count; i++)
        free(s->names[i]);
    free(s->names);
    free(s->slots);
    memset(s, 0, sizeof *s);
}
