#include "bytes.h"

#include <stdlib.h>
#include <string.h>

uint8_t *pnm_buf_reserve(pnm_buf *b, size_t extra)
{
    if (extra > SIZE_MAX / 2 - b->len)
        return NULL;
    /* Allocates even for extra == 0, so that a non-NULL result always
     * means success. */
    if (b->len + extra > b->cap || !b->data) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + extra)
            cap *= 2;
        uint8_t *p = realloc(b->data, cap);
        if (!p)
            return NULL;
        b->data = p, b->cap = cap;
    }
    return b->data + b->len;
}

int pnm_buf_append(pnm_buf *b, const void *p, size_t n)
{
    uint8_t *dst = pnm_buf_reserve(b, n);
    if (!dst)
        return -1;
    memcpy(dst, p, n);
    b->len += n;
    return 0;
}

void pnm_buf_free(pnm_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
