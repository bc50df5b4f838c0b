/* Shared by the programs that run a model on a stream: open the model and
 * the input stream and check that the stream belongs to the model. */
#ifndef PNM_MODEL_INPUT_H
#define PNM_MODEL_INPUT_H

#include "cli.h"

typedef struct model_input {
    pnm_model *model;
    FILE *file;
    pnm_reader *reader;
} model_input;

/* Loads the model (model_path NULL: the default, cli_model_or_default),
 * opens input ("-": stdin) and checks its header: a features stream must match the model's vocabulary and projection; a
 * hidden stream (when allow_hidden) must come from this very model. Dies
 * with a message on failure (nothing is written yet). */
void model_input_open(model_input *in, const char *model_path, const char *input,
                      bool allow_hidden);
void model_input_close(model_input *in);

#endif
