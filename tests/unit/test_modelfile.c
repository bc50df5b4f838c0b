/* The model file: save/load round trips, identity, sniffing, and damage of
 * every kind refused with one clear message: truncation at every offset,
 * a bit flip at every byte, and bodies crafted here by an encoder written
 * from pnm-model(5) alone (wrong magic, version, configuration, names,
 * vocabulary, parameter count, weights, checksum, framing). */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "pnm.h"
#include "tap.h"

static const char *label_names[] = {"play_music", "weather", "caf\xC3\xA9"};
static const char *tag_names[] = {"O", "B-artist"};

static pnm_config tiny_config(void)
{
    pnm_config c = {.projection = {16, 4, 1, 7}, .seq_len = 8, .bottleneck = 4,
                    .token_hidden = 4, .channel_hidden = 4, .layers = 1,
                    .n_labels = 3, .n_tags = 2};
    return c;
}

/* A vocabulary trained on a few hundred generated lines. */
static void *train_vocab(size_t *len)
{
    static const char *a[] = {"play", "show", "find", "book", "rate", "add"};
    static const char *b[] = {"some jazz", "the weather", "a table", "this album", "my list"};
    static const char *c[] = {"please", "in paris", "tomorrow", "now", "for me", "at noon",
                              "later", "again"};
    char *lines[6 * 5 * 8];
    size_t n = 0;
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 5; j++)
            for (int k = 0; k < 8; k++) {
                char buf[128];
                snprintf(buf, sizeof buf, "%s %s %s", a[i], b[j], c[k]);
                lines[n++] = strdup(buf);
            }
    pnm_sp_train_options opt = {8000, PNM_SP_UNIGRAM, "identity", 1, 0};
    void *model = NULL;
    pnm_error err;
    if (pnm_sp_train((const char *const *)lines, n, &opt, &model, len, &err) != 0) {
        printf("# %s\n", err.msg);
        model = NULL;
    }
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    return model;
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc(n > 0 ? (size_t)n : 1);
    *len = fread(p, 1, (size_t)n, f);
    fclose(f);
    return p;
}

/* Entries of dir other than . and .. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return n;
}

/* ---- an independent encoder, from the man page ----------------------------- */

typedef struct spec {
    const char *magic;          /* 8 bytes */
    uint32_t version, header_bytes;
    pnm_config c;
    const char *const *labels, *const *tags;
    const void *vocab;
    size_t vocab_len;
    uint64_t count;             /* stored parameter count */
    const float *params;        /* n_params floats written */
    size_t n_params;
    int bad_checksum;
    uint32_t claim_labels;      /* when not 0, the n_labels stored (names: c.n_labels) */
    uint32_t options;           /* version 2's options word */
} spec;

static void put(uint8_t **p, const void *src, size_t n)
{
    memcpy(*p, src, n);
    *p += n;
}

static size_t build_body(const spec *s, uint8_t **out)
{
    size_t cap = 1024 + s->vocab_len + 4 * s->n_params;
    for (uint32_t i = 0; i < s->c.n_labels; i++)
        cap += 2 + strlen(s->labels[i]);
    for (uint32_t i = 0; i < s->c.n_tags; i++)
        cap += 2 + strlen(s->tags[i]);
    uint8_t *b = malloc(cap), *p = b;
    put(&p, s->magic, 8);
    uint32_t u32[] = {s->version, s->header_bytes, s->c.projection.features,
                      s->c.projection.hashes, s->c.projection.window};
    for (int i = 0; i < 5; i++, p += 4)
        pnm_put_u32(p, u32[i]);
    pnm_put_u64(p, s->c.projection.seed), p += 8;
    uint32_t rest[] = {s->c.seq_len, s->c.bottleneck, s->c.token_hidden, s->c.channel_hidden,
                       s->c.layers, s->claim_labels ? s->claim_labels : s->c.n_labels,
                       s->c.n_tags, s->options};
    for (int i = 0; i < (s->version == 1 ? 7 : 8); i++, p += 4)
        pnm_put_u32(p, rest[i]);
    for (int t = 0; t < 2; t++) {
        const char *const *names = t ? s->tags : s->labels;
        uint32_t n = t ? s->c.n_tags : s->c.n_labels;
        for (uint32_t i = 0; i < n; i++) {
            pnm_put_u16(p, (uint16_t)strlen(names[i])), p += 2;
            put(&p, names[i], strlen(names[i]));
        }
    }
    pnm_put_u32(p, (uint32_t)s->vocab_len), p += 4;
    put(&p, s->vocab, s->vocab_len);
    pnm_put_u64(p, s->count), p += 8;
    for (size_t i = 0; i < s->n_params; i++, p += 4) {
        uint32_t bits;
        memcpy(&bits, &s->params[i], 4);
        pnm_put_u32(p, bits);
    }
    uint32_t sum = (uint32_t)pnm_hash64(b, (size_t)(p - b), 0);
    pnm_put_u32(p, sum ^ (s->bad_checksum ? 1u : 0u)), p += 4;
    *out = b;
    return (size_t)(p - b);
}

/* One zstd frame, content size and checksum on (pledged = 1) or content
 * size unknown (pledged = 0, as a pipe into zstd(1) makes). */
static size_t compress(const uint8_t *body, size_t len, int pledged, uint8_t **out)
{
    size_t cap = ZSTD_compressBound(len);
    *out = malloc(cap);
    ZSTD_CCtx *zc = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(zc, ZSTD_c_checksumFlag, 1);
    ZSTD_outBuffer o = {*out, cap, 0};
    ZSTD_inBuffer in = {body, len, 0};
    if (pledged)
        ZSTD_CCtx_setPledgedSrcSize(zc, len);
    else
        ZSTD_CCtx_setParameter(zc, ZSTD_c_contentSizeFlag, 0);
    while (ZSTD_compressStream2(zc, &o, &in, ZSTD_e_end) != 0)
        ;
    ZSTD_freeCCtx(zc);
    return o.pos;
}

/* Builds, compresses and loads; returns the model (or NULL with err). */
static pnm_model *load_spec(const spec *s, pnm_error *err)
{
    uint8_t *body, *z;
    size_t n = build_body(s, &body);
    size_t zn = compress(body, n, 1, &z);
    pnm_model *m = pnm_model_load_bytes(z, zn, err);
    free(body);
    free(z);
    return m;
}

static int refused(const spec *s, const char *want, pnm_error *err)
{
    pnm_model *m = load_spec(s, err);
    if (m) {
        pnm_model_free(m);
        return 0;
    }
    if (!strstr(err->msg, want)) {
        printf("# got \"%s\", want \"%s\"\n", err->msg, want);
        return 0;
    }
    return 1;
}

/* ---- tests ---------------------------------------------------------------- */

static void test_new(const void *vocab, size_t vocab_len)
{
    pnm_config c = tiny_config();
    pnm_error err;
    pnm_model *m = pnm_model_new(&c, label_names, tag_names, vocab, vocab_len, &err);
    int ok = m && m->sp && m->params && m->p.bott_w == m->params && m->id == 0 &&
             strcmp(m->labels[2], "caf\xC3\xA9") == 0 && m->labels[3] == NULL &&
             strcmp(m->tags[1], "B-artist") == 0 && m->vocab_len == vocab_len;
    for (size_t i = 0; ok && i < pnm_params_count(&c); i++)
        ok = m->params[i] == 0.0f;
    CHECK(ok, "new: copies names and vocabulary, loads it, zero weights bound to views");
    pnm_model_free(m);

    pnm_config bad = c;
    bad.bottleneck = 0;
    CHECK(!pnm_model_new(&bad, label_names, tag_names, vocab, vocab_len, &err) &&
          strstr(err.msg, "bottleneck size 0"), "new: a configuration that fails its check");
    const char *dup[] = {"a", "b", "a"};
    CHECK(!pnm_model_new(&c, dup, tag_names, vocab, vocab_len, &err) &&
          strstr(err.msg, "label \"a\" appears twice"), "new: duplicate labels refused");
    const char *tab[] = {"a", "b\tc", "d"};
    CHECK(!pnm_model_new(&c, tab, tag_names, vocab, vocab_len, &err) &&
          strstr(err.msg, "label 1 contains the control character 0x09"),
          "new: a label with a tab refused");
    const char *empty[] = {"O", ""};
    CHECK(!pnm_model_new(&c, label_names, empty, vocab, vocab_len, &err) &&
          strstr(err.msg, "tag 1 is empty"), "new: an empty tag refused");
    const char *bad_utf8[] = {"a", "b", "\xC3"};
    CHECK(!pnm_model_new(&c, bad_utf8, tag_names, vocab, vocab_len, &err) &&
          strstr(err.msg, "not valid UTF-8"), "new: invalid UTF-8 refused");
    CHECK(!pnm_model_new(&c, label_names, NULL, vocab, vocab_len, &err) &&
          strstr(err.msg, "tag names are missing"), "new: missing names refused");
    CHECK(!pnm_model_new(&c, label_names, tag_names, "garbage", 7, &err) &&
          strstr(err.msg, "vocabulary: not a SentencePiece model"),
          "new: a vocabulary that does not load refused");
    bad = c;
    bad.projection.features = 65536, bad.bottleneck = 4096, bad.projection.window = 0;
    CHECK(!pnm_model_new(&bad, label_names, tag_names, vocab, vocab_len, &err) &&
          strstr(err.msg, "above the limit of 1073741824"),
          "new: a model above the file size limit refused before allocating");
}

static void test_round_trip(const void *vocab, size_t vocab_len, const char *dir)
{
    pnm_config c = tiny_config();
    pnm_error err;
    pnm_model *m = pnm_model_new(&c, label_names, tag_names, vocab, vocab_len, &err);
    pnm_params_init(&m->p, &c, 42);
    char path[512], path2[512];
    snprintf(path, sizeof path, "%s/model.pnm", dir);
    snprintf(path2, sizeof path2, "%s/again.pnm", dir);
    CHECK(pnm_model_save(m, path, &err) == 0 && m->id != 0 && count_entries(dir) == 1,
          "save: one file, no temporary left, id set");
    pnm_model *l = pnm_model_load(path, &err);
    size_t count = pnm_params_count(&c);
    int ok = l != NULL;
    if (!ok)
        printf("# %s\n", err.msg);
    ok = ok && l->config.projection.features == 16 && l->config.projection.hashes == 4 &&
         l->config.projection.window == 1 && l->config.projection.seed == 7 &&
         l->config.seq_len == 8 && l->config.bottleneck == 4 && l->config.token_hidden == 4 &&
         l->config.channel_hidden == 4 && l->config.layers == 1 && l->config.n_labels == 3 &&
         l->config.n_tags == 2;
    CHECK(ok, "load: the configuration comes back");
    ok = ok && strcmp(l->labels[0], "play_music") == 0 && strcmp(l->labels[2], "caf\xC3\xA9") == 0 &&
         !l->labels[3] && strcmp(l->tags[0], "O") == 0 && strcmp(l->tags[1], "B-artist") == 0 &&
         !l->tags[2];
    CHECK(ok, "load: label and tag names come back");
    ok = ok && l->vocab_len == vocab_len && memcmp(l->vocab, vocab, vocab_len) == 0 && l->sp &&
         pnm_sp_vocab_size(l->sp) == pnm_sp_vocab_size(m->sp);
    CHECK(ok, "load: the vocabulary comes back and loads");
    ok = ok && memcmp(l->params, m->params, count * sizeof(float)) == 0 &&
         l->p.bott_w == l->params && l->p.tag_b == l->params + count - 2;
    CHECK(ok, "load: weights byte-identical, views bound");
    CHECK(ok && l->id == m->id, "load: the identity is the saved one");

    CHECK(l && pnm_model_save(l, path2, &err) == 0 && l->id == m->id,
          "a loaded model saved again keeps its identity");
    size_t n1 = 0, n2 = 0;
    unsigned char *f1 = read_file(path, &n1), *f2 = read_file(path2, &n2);
    CHECK(f1 && f2 && n1 == n2 && memcmp(f1, f2, n1) == 0, "...and is written byte for byte");
    free(f2);

    /* The man page's encoder gives the same body: same identity. */
    spec s = {"PNMMODEL", 2, 68, c, label_names, tag_names, vocab, vocab_len, count,
              m->params, count, 0, 0, 0};
    pnm_model *e = load_spec(&s, &err);
    CHECK(e && e->id == m->id, "a body built from pnm-model(5) alone loads, same identity");
    pnm_model_free(e);

    uint8_t *body, *z;
    size_t bn = build_body(&s, &body), zn = compress(body, bn, 0, &z);
    e = pnm_model_load_bytes(z, zn, &err);
    CHECK(e && e->id == m->id, "a frame without a content size (zstd in a pipe) loads");
    pnm_model_free(e);
    free(z);
    free(body);

    /* Sniffing. */
    CHECK(pnm_model_sniff(f1, n1), "sniff: a model file");
    CHECK(pnm_model_sniff(f1, n1 < PNM_MODEL_SNIFF_BYTES ? n1 : PNM_MODEL_SNIFF_BYTES),
          "sniff: its first PNM_MODEL_SNIFF_BYTES bytes suffice");
    CHECK(!pnm_model_sniff(f1, 8) && !pnm_model_sniff(f1, 0), "sniff: too few bytes: false");
    CHECK(!pnm_model_sniff(vocab, vocab_len), "sniff: a SentencePiece model is not a pnm model");
    pnm_header th;
    pnm_model_tokens_header(m, 0, &th, &err);
    char *mem;
    size_t size;
    FILE *out = open_memstream(&mem, &size);
    pnm_writer *w = pnm_writer_open(out, &th, 3, &err);
    pnm_writer_finish(w, &err);
    pnm_writer_free(w);
    fclose(out);
    CHECK(!pnm_model_sniff(mem, size), "sniff: a compressed pnm stream is not a model");
    CHECK(!pnm_model_load_bytes(mem, size, &err) && strcmp(err.msg, "not a pnm model") == 0,
          "load: a compressed pnm stream is 'not a pnm model'");
    FILE *sf = fopen(path2, "wb");
    fwrite(mem, 1, size, sf);
    fclose(sf);
    CHECK(!pnm_model_load(path2, &err) && strstr(err.msg, "again.pnm: not a pnm model"),
          "load: messages start with the path");
    free(mem);

    /* Stream headers. */
    pnm_header fh, hh;
    pnm_model_features_header(l, &fh, &err);
    CHECK(fh.kind == PNM_KIND_FEATURES && fh.vocab_id == th.vocab_id &&
          fh.vocab_size == th.vocab_size && fh.features == 16 && fh.hashes == 4 &&
          fh.window == 1 && fh.seed == 7, "features header: vocabulary identity and projection");
    pnm_projection proj = c.projection;
    pnm_projector *pr = pnm_projector_new(&th, &proj, &err);
    pnm_header ph;
    pnm_projector_header(pr, &ph);
    CHECK(pnm_header_check_match(&fh, &ph, &err) == 0,
          "features header: matches what pnm-project makes with the model's vocabulary");
    pnm_projector_free(pr);
    pnm_model_hidden_header(l, &hh, &err);
    CHECK(hh.kind == PNM_KIND_HIDDEN && hh.dim == 4 && hh.seq_len == 8 && hh.model_id == m->id &&
          pnm_header_check_model(&hh, l->id, &err) == 0,
          "hidden header: b, s and the model's identity");
    CHECK(pnm_header_check_model(&hh, l->id + 1, &err) < 0 &&
          strstr(err.msg, "made by another model"), "hidden header: another model is refused");
    pnm_header_free(&th);

    /* A failed save leaves the old file and nothing else. */
    m->params[5] = NAN;
    CHECK(pnm_model_save(m, path, &err) < 0 && strstr(err.msg, "parameter 5 is not finite"),
          "save: a NaN weight is refused");
    size_t n3 = 0;
    unsigned char *f3 = read_file(path, &n3);
    CHECK(f3 && n3 == n1 && memcmp(f1, f3, n1) == 0 && count_entries(dir) == 2,
          "save: a failed save leaves the old file whole and no temporary");
    free(f3);
    m->params[5] = 0;
    char nodir[600];
    snprintf(nodir, sizeof nodir, "%s/missing/model.pnm", dir);
    CHECK(pnm_model_save(m, nodir, &err) < 0 && strstr(err.msg, "missing/model.pnm"),
          "save: an unwritable path is named");
    CHECK(!pnm_model_load(nodir, &err) && strstr(err.msg, "missing/model.pnm: No such file"),
          "load: a missing file is named");

    free(f1);
    pnm_model_free(m);
    pnm_model_free(l);
}

static void test_damage(const void *vocab, size_t vocab_len, const char *dir)
{
    pnm_config c = tiny_config();
    pnm_error err;
    pnm_model *m = pnm_model_new(&c, label_names, tag_names, vocab, vocab_len, &err);
    pnm_params_init(&m->p, &c, 1);
    char path[512];
    snprintf(path, sizeof path, "%s/damage.pnm", dir);
    pnm_model_save(m, path, &err);
    size_t n;
    unsigned char *f = read_file(path, &n);
    printf("# model file: %zu bytes, vocabulary %zu bytes\n", n, vocab_len);

    size_t undetected = 0, unclear = 0;
    for (size_t cut = 0; cut < n; cut++) {
        pnm_model *l = pnm_model_load_bytes(f, cut, &err);
        if (l) {
            undetected++;
            pnm_model_free(l);
        } else if (!strstr(err.msg, "corrupt model") && !strstr(err.msg, "not a pnm model")) {
            unclear++;
        }
    }
    CHECK(undetected == 0 && unclear == 0, "file truncated at every offset: all refused");
    CHECK(!pnm_model_load_bytes(f, n - 1, &err) && strstr(err.msg, "corrupt model"),
          "truncation is a corrupt model");

    /* A flip may only go unnoticed where it changes nothing read. */
    size_t missed = 0, harmless = 0;
    for (size_t i = 0; i < n; i++) {
        f[i] ^= (unsigned char)(1u << (i % 8));
        pnm_model *l = pnm_model_load_bytes(f, n, &err);
        if (l && l->id == m->id)
            harmless++;
        else if (l)
            missed++;
        pnm_model_free(l);
        f[i] ^= (unsigned char)(1u << (i % 8));
    }
    printf("# %zu of %zu flips harmless (zstd framing)\n", harmless, n);
    CHECK(missed == 0, "a bit flipped at every byte of the file: none changes the model unnoticed");

    /* Below zstd: every flip of the body is caught by the model's checksum. */
    size_t count = pnm_params_count(&c);
    spec s = {"PNMMODEL", 2, 68, c, label_names, tag_names, vocab, vocab_len, count,
              m->params, count, 0, 0, 0};
    uint8_t *body, *z;
    size_t bn = build_body(&s, &body), body_missed = 0;
    for (size_t i = 0; i < bn; i++) {
        body[i] ^= (uint8_t)(1u << (i % 8));
        size_t zn = compress(body, bn, 1, &z);
        pnm_model *l = pnm_model_load_bytes(z, zn, &err);
        body_missed += l != NULL;
        pnm_model_free(l);
        free(z);
        body[i] ^= (uint8_t)(1u << (i % 8));
    }
    CHECK(body_missed == 0, "a bit flipped at every byte of the body: all refused");

    size_t zn = compress(body, bn, 1, &z);
    uint8_t *longer = malloc(zn + 1);
    memcpy(longer, z, zn);
    longer[zn] = 0;
    CHECK(!pnm_model_load_bytes(longer, zn + 1, &err) &&
          strstr(err.msg, "1 bytes after the zstd frame"), "data after the frame refused");
    free(longer);
    free(z);
    free(body);

    /* A frame header that claims 2 GiB: refused before allocating. */
    uint8_t big[32] = {0x28, 0xB5, 0x2F, 0xFD, 0xE0};
    pnm_put_u64(big + 5, 1ull << 31);
    CHECK(!pnm_model_load_bytes(big, sizeof big, &err) &&
          strstr(err.msg, "2147483648 bytes uncompressed, above the limit"),
          "a frame claiming 2 GiB is refused by its header");
    CHECK(!pnm_model_load_bytes("hello, world", 12, &err) &&
          strcmp(err.msg, "not a pnm model") == 0, "text is not a pnm model");
    free(f);
    pnm_model_free(m);
}

static void test_crafted(const void *vocab, size_t vocab_len)
{
    pnm_config c = tiny_config();
    size_t count = pnm_params_count(&c);
    float *w = calloc(count + 1, sizeof *w);
    pnm_error err;
    const spec good = {"PNMMODEL", 2, 68, c, label_names, tag_names, vocab, vocab_len, count,
                       w, count, 0, 0, 0};
    pnm_model *m = load_spec(&good, &err);
    CHECK(m != NULL, "crafted: the well-formed body loads");
    pnm_model_free(m);

    spec s = good;
    s.magic = "PNMMODEX";
    CHECK(refused(&s, "not a pnm model", &err) && strcmp(err.msg, "not a pnm model") == 0,
          "crafted: wrong magic");
    s = good, s.version = 3;
    CHECK(refused(&s, "model version 3 is not supported (this program reads versions 1 and 2)",
                  &err),
          "crafted: version 3 refused by number");
    s = good, s.version = 1, s.header_bytes = 64;
    m = load_spec(&s, &err);
    CHECK(m && !m->config.tag_sentence, "crafted: version 1 (no options word) still loads");
    pnm_model_free(m);
    s = good, s.version = 1;
    CHECK(refused(&s, "corrupt model: header of 68 bytes, expected 64", &err),
          "crafted: version 1 with version 2's header size");
    s = good, s.options = 16;
    CHECK(refused(&s, "corrupt model: unknown options 0x10", &err), "crafted: unknown option");
    s = good, s.options = PNM_MODEL_OPTION_INT8_TAGS;
    CHECK(refused(&s, "corrupt model: an int8 tagging head (option bit 3) needs int8 weights",
                  &err),
          "crafted: an int8 tagging head without int8 weights");
    s = good, s.options = PNM_MODEL_OPTION_INT8;
    CHECK(refused(&s, "the configuration has", &err),
          "crafted: int8 weights marked on a float model's weights");
    s = good, s.options = PNM_MODEL_OPTION_TAG_SENTENCE;
    CHECK(refused(&s, "the configuration has", &err),
          "crafted: sentence-aware tagging with the weights of a model without it");
    s = good, s.options = PNM_MODEL_OPTION_CRF;
    CHECK(refused(&s, "the configuration has", &err),
          "crafted: a CRF with the weights of a model without it");
    /* n_tags x n_tags transitions, start and end scores more. */
    pnm_config crf = c;
    crf.crf = crf.tag_sentence = 1;
    size_t crf_count = pnm_params_count(&crf);
    float *cw = calloc(crf_count, sizeof *cw);
    s = good, s.c = crf, s.count = crf_count, s.params = cw, s.n_params = crf_count;
    s.options = PNM_MODEL_OPTION_TAG_SENTENCE | PNM_MODEL_OPTION_CRF;
    m = load_spec(&s, &err);
    CHECK(crf_count == count + 2 * 4 + 2 * 2 + 2 * 2 && m && m->config.crf &&
              m->config.tag_sentence,
          "crafted: a CRF model (option bit 1) loads with its transitions");
    pnm_model_free(m);
    free(cw);
    s = good, s.header_bytes = 72;
    CHECK(refused(&s, "corrupt model: header of 72 bytes", &err), "crafted: header size");
    s = good, s.bad_checksum = 1;
    CHECK(refused(&s, "corrupt model: checksum mismatch", &err), "crafted: checksum");
    s = good, s.c.seq_len = 0;
    CHECK(refused(&s, "corrupt model: sequence length 0 is outside 1..", &err),
          "crafted: a configuration that fails pnm_config_check");
    s = good, s.c.projection.hashes = 5000;
    CHECK(refused(&s, "corrupt model: hash count 5000", &err), "crafted: projection out of range");
    s = good, s.c.n_labels = 0, s.c.n_tags = 0;
    CHECK(refused(&s, "corrupt model: the model has neither labels nor tags", &err),
          "crafted: no heads");
    s = good, s.claim_labels = 65536;
    CHECK(refused(&s, "corrupt model: the body ends inside label ", &err),
          "crafted: more names than the body holds");
    s = good, s.count = count + 1;
    CHECK(refused(&s, "parameters, the configuration has", &err),
          "crafted: parameter count that does not fit the configuration");
    s = good, s.n_params = count - 1;
    CHECK(refused(&s, "corrupt model: the body ends inside the parameters", &err),
          "crafted: parameters cut short");
    s = good, s.n_params = count + 1;
    CHECK(refused(&s, "corrupt model: 4 stray bytes after the parameters", &err),
          "crafted: stray bytes before the checksum");
    w[7] = NAN;
    CHECK(refused(&good, "corrupt model: parameter 7 is not finite", &err),
          "crafted: a NaN weight refused");
    w[7] = -INFINITY;
    CHECK(refused(&good, "parameter 7 is not finite", &err), "crafted: an infinite weight refused");
    w[7] = 0;
    const char *dup[] = {"x", "y", "x"};
    s = good, s.labels = dup;
    CHECK(refused(&s, "corrupt model: label \"x\" appears twice", &err), "crafted: duplicate label");
    const char *nl[] = {"O", "B-\n"};
    s = good, s.tags = nl;
    CHECK(refused(&s, "corrupt model: tag 1 contains the control character 0x0a", &err),
          "crafted: a newline in a tag");
    const char *nul[] = {"O", ""};
    s = good, s.tags = nul;
    CHECK(refused(&s, "corrupt model: tag 1 is empty", &err), "crafted: an empty tag");
    const char *bad[] = {"a", "\xFF", "c"};
    s = good, s.labels = bad;
    CHECK(refused(&s, "corrupt model: label 1 is not valid UTF-8", &err),
          "crafted: invalid UTF-8 in a label");
    s = good, s.vocab = "not a vocabulary", s.vocab_len = 16;
    CHECK(refused(&s, "corrupt model: vocabulary: not a SentencePiece model", &err),
          "crafted: a vocabulary that does not load");
    s = good, s.vocab_len = 0;
    CHECK(refused(&s, "corrupt model: no vocabulary", &err), "crafted: an empty vocabulary");

    /* A NUL inside a name: written by hand, since C strings cannot hold it. */
    const char *withnul[] = {"a", "bXc", "d"};
    s = good, s.labels = withnul;
    uint8_t *body, *z;
    size_t bn = build_body(&s, &body);
    uint8_t *x = memchr(body + 64, 'X', bn - 64);
    *x = 0;
    pnm_put_u32(body + bn - 4, (uint32_t)pnm_hash64(body, bn - 4, 0));
    size_t zn = compress(body, bn, 1, &z);
    CHECK(!pnm_model_load_bytes(z, zn, &err) &&
          strstr(err.msg, "label 1 contains the control character 0x00"),
          "crafted: a NUL inside a label");
    free(z);
    free(body);
    free(w);
}

/* Writes n bytes of data to path; 0 on success. */
static int write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(data, 1, n, f) == n;
    return (f && fclose(f) != 0) || !ok ? -1 : 0;
}

/* A model file of several read chunks (256 KiB each) is decompressed as it
 * is read: it loads identical, and its damage is named as from memory. */
static void test_file_streaming(const void *vocab, size_t vocab_len, const char *dir)
{
    pnm_config c = tiny_config();
    c.projection.features = 4096, c.bottleneck = 32; /* 393,216 random weights */
    pnm_error err;
    pnm_model *m = pnm_model_new(&c, label_names, tag_names, vocab, vocab_len, &err);
    if (!CHECK(m != NULL, "streaming: a model of 1.6 MB"))
        return;
    uint64_t rng = 5;
    size_t count = pnm_params_count(&c);
    for (size_t i = 0; i < count; i++)
        m->params[i] = pnm_rand_normal(&rng);
    char path[256], cut[256], more[256];
    snprintf(path, sizeof path, "%s/big.pnm", dir);
    snprintf(cut, sizeof cut, "%s/cut.pnm", dir);
    snprintf(more, sizeof more, "%s/more.pnm", dir);
    size_t n = 0;
    unsigned char *bytes = pnm_model_save(m, path, &err) == 0 ? read_file(path, &n) : NULL;
    CHECK(bytes && n > (1u << 20), "streaming: its file is more than one chunk");
    pnm_model *l = pnm_model_load(path, &err);
    CHECK(l && l->id == m->id && memcmp(l->params, m->params, count * sizeof *l->params) == 0,
          "streaming: it loads with the same identity and weights");
    pnm_model_free(l);
    if (bytes) {
        unsigned char *longer = malloc(n + 1);
        memcpy(longer, bytes, n);
        longer[n] = 7;
        CHECK(write_file(cut, bytes, n - 1) == 0 && !pnm_model_load(cut, &err) &&
                  strstr(err.msg, "cut.pnm: corrupt model: truncated zstd data"),
              "streaming: a file cut by one byte is truncated");
        CHECK(write_file(more, longer, n + 1) == 0 && !pnm_model_load(more, &err) &&
                  strstr(err.msg, "more.pnm: corrupt model: 1 bytes after the zstd frame"),
              "streaming: a byte after the frame is refused");
        free(longer);
    }
    free(bytes);
    remove(path), remove(cut), remove(more);
    pnm_model_free(m);
}

int main(void)
{
    size_t vocab_len = 0;
    void *vocab = train_vocab(&vocab_len);
    CHECK(vocab != NULL, "a tiny vocabulary trains");
    if (!vocab)
        return tap_done();
    char dir[] = "/tmp/pnm-test-modelfile-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0, "temporary directory");
        return tap_done();
    }
    test_new(vocab, vocab_len);
    test_round_trip(vocab, vocab_len, dir);
    test_damage(vocab, vocab_len, dir);
    test_crafted(vocab, vocab_len);
    test_file_streaming(vocab, vocab_len, dir);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    free(vocab);
    return tap_done();
}
