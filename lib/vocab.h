/* Where programs get a vocabulary: a SentencePiece .model file, or a pnm
 * model file (which carries its own), told apart by their first bytes. */
#ifndef PNM_VOCAB_H
#define PNM_VOCAB_H

#include "error.h"
#include "modelfile.h"
#include "sp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Loads path. When it is a pnm model and model is not NULL, *model gets it
 * and the vocabulary returned is the model's own (model->sp: free the
 * model, not it); otherwise *model is set to NULL and the vocabulary is the
 * caller's to free. A model's vocabulary is loaded once either way. */
pnm_sp *pnm_vocab_load(const char *path, pnm_model **model, pnm_error *err);

#ifdef __cplusplus
}
#endif
#endif
