/* Between lib/sp_pieces.c, which owns a pnm_sp, and lib/sp_encode.cc, which
 * builds SentencePiece's processor for it on first use. sp_pieces.c calls the
 * encoder's functions only through the pointers given here, so that a
 * program that never encodes links neither sp_encode.o nor SentencePiece. */
#ifndef PNM_SP_ENCODER_H
#define PNM_SP_ENCODER_H

#include "sp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Makes an encoder from a serialized model, or returns NULL with a message. */
typedef void *(*pnm_sp_encoder_build)(const void *model, size_t len, pnm_error *err);

/* sp's encoder: built by build at the first call (one thread builds it
 * while the others wait), then the same one; pnm_sp_free frees it with
 * encoder_free. NULL when build fails (its message in err), and a later
 * call tries again. */
void *pnm_sp_encoder(const pnm_sp *sp, pnm_sp_encoder_build build,
                     void (*encoder_free)(void *), pnm_error *err);

#ifdef __cplusplus
}
#endif
#endif
