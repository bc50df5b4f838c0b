/* Hand-made vocabularies and token records shared by the unit tests, so
 * that stream and projection tests need no SentencePiece model. */
#ifndef PNM_TEST_FIXTURE_H
#define PNM_TEST_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "pnm.h"

#define W "\xE2\x96\x81" /* U+2581 */

static const char *pieces[] = {"<unk>", W "play", W "some", W "jaz", "z", W "a", "ing"};
#define N_PIECES (sizeof pieces / sizeof *pieces)

static inline void make_tokens_header(pnm_header *h)
{
    memset(h, 0, sizeof *h);
    h->kind = PNM_KIND_TOKENS;
    h->version = PNM_STREAM_VERSION;
    h->vocab_id = 0x1234;
    h->vocab_size = N_PIECES;
    h->piece_offset = malloc((N_PIECES + 1) * sizeof *h->piece_offset);
    h->piece_bytes = malloc(256);
    uint32_t at = 0;
    for (uint32_t i = 0; i < N_PIECES; i++) {
        h->piece_offset[i] = at;
        memcpy(h->piece_bytes + at, pieces[i], strlen(pieces[i]));
        at += (uint32_t)strlen(pieces[i]);
    }
    h->piece_offset[N_PIECES] = at;
}

/* words: piece ids, each word ended by -1, the record by -2. */
static inline void make_tokens(pnm_tokens *t, const int *words)
{
    t->word_start = malloc(64 * sizeof *t->word_start);
    t->ids = malloc(64 * sizeof *t->ids);
    t->line = 1;
    t->n_words = 0;
    uint32_t n = 0;
    t->word_start[0] = 0;
    for (; *words != -2; words++) {
        if (*words == -1)
            t->word_start[++t->n_words] = n;
        else
            t->ids[n++] = (uint32_t)*words;
    }
}

#endif
