#include "model_input.h"

#include <string.h>

void model_input_open(model_input *in, const char *model_path, const char *input,
                      bool allow_hidden)
{
    pnm_error err;
    char default_path[PATH_MAX];
    model_path = cli_model_or_default(model_path, default_path);
    memset(in, 0, sizeof *in);
    if (!(in->model = pnm_model_load(model_path, &err)))
        cli_die("%s", err.msg);
    if (!(in->file = cli_open_input(input, &err)))
        cli_die("%s", err.msg);
    const char *name = strcmp(input, "-") ? input : "standard input";
    if (!(in->reader = pnm_reader_open(in->file, name, &err)))
        cli_die("%s", err.msg);
    const pnm_header *got = pnm_reader_header(in->reader);
    if (got->kind == PNM_KIND_HIDDEN && allow_hidden) {
        if (pnm_header_check_model(got, in->model->id, &err))
            cli_die("%s: %s", name, err.msg);
        return;
    }
    if (got->kind != PNM_KIND_FEATURES)
        cli_die("%s: expected a features%s stream, got a %s stream%s", name,
                allow_hidden ? " or hidden" : "", pnm_kind_name(got->kind),
                got->kind == PNM_KIND_TOKENS ? " (run pnm-project -m MODEL first)" : "");
    pnm_header want;
    if (pnm_model_features_header(in->model, &want, &err))
        cli_die("%s", err.msg);
    if (pnm_header_check_match(&want, got, &err))
        cli_die("%s: stream does not fit %s: %s", name, model_path, err.msg);
    pnm_header_free(&want);
}

void model_input_close(model_input *in)
{
    pnm_reader_free(in->reader);
    cli_close_input(in->file);
    pnm_model_free(in->model);
}
