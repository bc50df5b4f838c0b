/* Little-endian encoding and a growable byte buffer: how every record and
 * header is built and parsed, independent of the host's byte order. */
#ifndef PNM_BYTES_H
#define PNM_BYTES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

static inline void pnm_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
}
static inline void pnm_put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void pnm_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t pnm_get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t pnm_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t pnm_get_u64(const uint8_t *p)
{
    return (uint64_t)pnm_get_u32(p) | (uint64_t)pnm_get_u32(p + 4) << 32;
}

/* A growable byte buffer; zero-initialise, reuse across records, free with
 * pnm_buf_free. */
typedef struct pnm_buf {
    uint8_t *data;
    size_t len, cap;
} pnm_buf;

/* Makes room for extra more bytes after len; returns a pointer to them (len
 * is not changed), or NULL when out of memory. */
uint8_t *pnm_buf_reserve(pnm_buf *b, size_t extra);
/* Appends n bytes; returns 0 or -1 when out of memory. */
int pnm_buf_append(pnm_buf *b, const void *p, size_t n);
void pnm_buf_free(pnm_buf *b);

#ifdef __cplusplus
}
#endif
#endif
