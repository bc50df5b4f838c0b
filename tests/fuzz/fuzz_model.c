/* The model loader on arbitrary bytes. An input that starts with zstd's
 * magic number is loaded as it is (hostile frames); any other input is
 * taken as an uncompressed model body: its trailing checksum is made right
 * and it is compressed first, so that mutations reach the configuration,
 * name, vocabulary and weight checks instead of stopping at the checksum.
 * A model that loads is then used the way the programs use one: the
 * stream headers it implies, and the network run on a short and an empty
 * feature record, with every output format. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pnm.h"

#define CHECKSUM_BYTES 4 /* the body's last bytes: pnm-model(5) */

static void print_all(const pnm_model *m, const pnm_prediction *p, FILE *out)
{
    static const pnm_format formats[] = {PNM_FORMAT_TEXT, PNM_FORMAT_TSV, PNM_FORMAT_JSON};
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++) {
        pnm_print_options o = {formats[i], true, 3};
        pnm_prediction_print(out, m, p, &o);
    }
}

/* The network on a record of n_words words whose buckets are 0, 1, 2, ... */
static void run(pnm_runner *r, uint32_t n_words, FILE *out)
{
    const pnm_model *m = r->m;
    uint32_t n = m->config.projection.hashes;
    pnm_error err;
    pnm_features f = {0};
    pnm_hidden hd = {0};
    pnm_prediction p;
    if (pnm_features_reserve(&f, n_words, n, &err))
        abort();
    f.line = 1;
    f.n_words = n_words;
    for (size_t i = 0; i < (size_t)n_words * n; i++)
        f.buckets[i] = (uint16_t)(i % n % m->config.projection.features);
    if (pnm_infer_features(r, &f, &p, &err))
        abort();
    print_all(m, &p, out);
    if (pnm_mix_features(r, &f, &hd, &err) || pnm_infer_hidden(r, &hd, &p, &err))
        abort();
    print_all(m, &p, out);
    pnm_hidden_free(&hd);
    pnm_features_free(&f);
}

static void load(const uint8_t *data, size_t len)
{
    pnm_error err;
    pnm_model *m = pnm_model_load_bytes(data, len, &err);
    if (!m)
        return;
    pnm_header h = {0};
    if (pnm_model_features_header(m, &h, &err) || pnm_model_hidden_header(m, &h, &err) ||
        pnm_model_tokens_header(m, 0, &h, &err))
        abort();
    pnm_header_free(&h);
    /* May refuse tags that are not BIO with a message: no run then. */
    pnm_runner r;
    if (pnm_runner_init(&r, m, &err) == 0) {
        FILE *out = fuzz_open_null();
        run(&r, 3, out);
        run(&r, 0, out);
        fclose(out);
        pnm_runner_free(&r);
    }
    pnm_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (fuzz_is_zstd(data, len)) {
        load(data, len);
        return 0;
    }
    uint8_t *body = malloc(len ? len : 1);
    if (!body)
        abort();
    memcpy(body, data, len);
    if (len >= CHECKSUM_BYTES)
        pnm_put_u32(body + len - CHECKSUM_BYTES,
                    (uint32_t)pnm_hash64(body, len - CHECKSUM_BYTES, 0));
    size_t zlen;
    uint8_t *z = fuzz_zstd_compress(body, len, &zlen);
    load(z, zlen);
    free(z);
    free(body);
    return 0;
}
