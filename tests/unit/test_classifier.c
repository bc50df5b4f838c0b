/* The embedding API (classifier.h): every result equals, bit for bit, what
 * the programs' path gives (token and feature records encoded and decoded
 * as between pnm-tokenize, pnm-project and pnm-classify); sessions carry
 * nothing from one text to the next; batches give the same results on any
 * number of threads; bad input is one clear error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pnm.h"
#include "tap.h"

static const char *corpus[] = {
    "play some jazz by miles davis", "what is the weather in paris tomorrow",
    "add milk and eggs to my shopping list", "book a table for two at seven",
    "show me flights from boston to denver", "remind me to call my mother tonight",
    "put on something relaxing please", "how cold will it be in oslo on friday",
    "find the latest album of the rolling stones", "rate this novel four out of five",
    "is it going to snow in new york city", "queue the next episode of the quiz show",
};

static const char *texts[] = {
    "play some jazz",
    "",
    "  weather   in\tnew york\n tomorrow ",
    "caf\xC3\xA9 cr\xC3\xA8me br\xC3\xBBl\303\251e zebra", /* octal: \xA9e would be one escape */
    "put bread eggs rice milk cheese apples and peanut butter on my list", /* > s words */
    "x",
};
#define N_TEXTS (sizeof texts / sizeof *texts)

static const char *labels[] = {"PlayMusic", "GetWeather", "AddToList"};
static const char *tags[] = {"O", "B-city", "I-city", "B-item", "I-item"};

/* Random weights: the test is about plumbing, not accuracy. */
static char *save_model(uint32_t n_labels, uint32_t n_tags, pnm_error *err)
{
    pnm_sp_train_options opt = {8000, PNM_SP_UNIGRAM, "nmt_nfkc_cf", 1, 0};
    void *vocab;
    size_t vocab_len;
    if (pnm_sp_train(corpus, sizeof corpus / sizeof *corpus, &opt, &vocab, &vocab_len, err))
        return NULL;
    pnm_config c = {.projection = {64, 8, 1, 3}, .seq_len = 6, .bottleneck = 8,
                    .token_hidden = 8, .channel_hidden = 8, .layers = 2,
                    .n_labels = n_labels, .n_tags = n_tags};
    pnm_model *m = pnm_model_new(&c, labels, tags, vocab, vocab_len, err);
    free(vocab);
    char *path = strdup("/tmp/pnm-test-classifier-XXXXXX");
    int fd = m && path ? mkstemp(path) : -1;
    if (fd >= 0)
        close(fd);
    if (m)
        pnm_params_init(&m->p, &c, 11);
    if (fd < 0 || pnm_model_save(m, path, err)) {
        free(path);
        path = NULL;
    }
    pnm_model_free(m);
    return path;
}

/* What pnm-tokenize | pnm-project | pnm-classify computes for text: the
 * records pass through their stream encodings. */
typedef struct reference {
    pnm_model *m;
    pnm_header th, fh;
    pnm_projector *pr;
    pnm_runner runner;
    pnm_tokens tokens;
    pnm_features features;
    pnm_buf record;
} reference;

static int reference_open(reference *ref, const char *path, pnm_error *err)
{
    memset(ref, 0, sizeof *ref);
    if (!(ref->m = pnm_model_load(path, err)) ||
        pnm_model_tokens_header(ref->m, 0, &ref->th, err) ||
        !(ref->pr = pnm_projector_new(&ref->th, &ref->m->config.projection, err)))
        return -1;
    pnm_projector_header(ref->pr, &ref->fh);
    return pnm_runner_init(&ref->runner, ref->m, err);
}

static void reference_close(reference *ref)
{
    pnm_runner_free(&ref->runner);
    pnm_tokens_free(&ref->tokens);
    pnm_features_free(&ref->features);
    pnm_buf_free(&ref->record);
    pnm_projector_free(ref->pr);
    pnm_header_free(&ref->th);
    pnm_model_free(ref->m);
}

static int reference_run(reference *ref, const char *text, pnm_prediction *p, pnm_error *err)
{
    bool truncated;
    pnm_tokens decoded_tokens = {0};
    int rc = pnm_tokenize_line(ref->m->sp, text, strlen(text), 1, 0, &ref->tokens, &truncated,
                               err) ||
             pnm_tokens_encode(&ref->tokens, &ref->record, err) ||
             pnm_tokens_decode(&ref->th, ref->record.data, (uint32_t)ref->record.len,
                               &decoded_tokens, err) ||
             pnm_project_tokens(ref->pr, &decoded_tokens, &ref->features, err) ||
             pnm_features_encode(&ref->features, &ref->record, err) ||
             pnm_features_decode(&ref->fh, ref->record.data, (uint32_t)ref->record.len,
                                 &ref->features, err) ||
             pnm_infer_features(&ref->runner, &ref->features, p, err);
    pnm_tokens_free(&decoded_tokens);
    return rc ? -1 : 0;
}

/* r says exactly what the prediction p says. */
static bool same_as_prediction(const reference *ref, const pnm_prediction *p,
                               const pnm_result *r)
{
    const pnm_config *c = &ref->m->config;
    bool same = pnm_result_words(r) == p->n_words;
    if (c->n_labels) {
        uint32_t best;
        pnm_top_k(p->label_probs, c->n_labels, 1, &best);
        same = same && pnm_result_label(r) == (int32_t)best &&
               strcmp(pnm_result_label_name(r), ref->m->labels[best]) == 0 &&
               memcmp(pnm_result_label_probs(r), p->label_probs,
                      c->n_labels * sizeof *p->label_probs) == 0;
    } else {
        same = same && pnm_result_label(r) == -1 && !pnm_result_label_name(r) &&
               !pnm_result_label_probs(r);
    }
    for (uint32_t t = 0; same && t < p->n_words; t++) {
        float prob = 0;
        int32_t tag = c->n_tags ? (int32_t)pnm_prediction_tag(ref->m, p, t, &prob) : -1;
        same = pnm_result_tag(r, t) == tag && pnm_result_tag_prob(r, t) == prob &&
               (tag < 0 ? !pnm_result_tag_name(r, t)
                        : strcmp(pnm_result_tag_name(r, t), ref->m->tags[tag]) == 0);
    }
    return same && pnm_result_tag(r, p->n_words) == -1 && !pnm_result_tag_name(r, p->n_words);
}

/* Every result of the session and of batches on 1, 2, 3 and 64 threads
 * matches the reference. */
static void check_model(const char *what, const char *path)
{
    pnm_error err;
    reference ref;
    pnm_classifier *c = pnm_classifier_open(path, &err);
    pnm_session *s = c ? pnm_session_new(c, &err) : NULL;
    bool ok = s && reference_open(&ref, path, &err) == 0;
    char name[160];
    snprintf(name, sizeof name, "%s: model opened, session made", what);
    if (!CHECK(ok, name)) {
        printf("# %s\n", err.msg);
        return;
    }
    bool same = true, sums = true;
    for (int pass = 0; pass < 2; pass++) /* again: nothing left from other texts */
        for (size_t i = 0; i < N_TEXTS; i++) {
            pnm_prediction p;
            const pnm_result *r = pnm_classify_text(s, texts[i], &err);
            same = same && r && reference_run(&ref, texts[i], &p, &err) == 0 &&
                   same_as_prediction(&ref, &p, r);
            double sum = 0;
            for (uint32_t k = 0; r && k < pnm_classifier_labels(c); k++)
                sum += pnm_result_label_probs(r)[k];
            sums = sums && sum > 0.999 && sum < 1.001;
        }
    snprintf(name, sizeof name, "%s: pnm_classify_text gives the pipeline's results", what);
    CHECK(same, name);
    snprintf(name, sizeof name, "%s: label probabilities sum to 1", what);
    if (pnm_classifier_labels(c))
        CHECK(sums, name);

    static const uint32_t threads[] = {0, 2, 3, 64};
    for (size_t k = 0; k < sizeof threads / sizeof *threads; k++) {
        pnm_result **batch = pnm_classify_batch(c, texts, N_TEXTS, threads[k], &err);
        same = batch != NULL;
        for (size_t i = 0; same && i < N_TEXTS; i++) {
            pnm_prediction p;
            same = reference_run(&ref, texts[i], &p, &err) == 0 &&
                   same_as_prediction(&ref, &p, batch[i]);
        }
        snprintf(name, sizeof name, "%s: a batch on %u threads gives the same results", what,
                 threads[k]);
        CHECK(same, name);
        pnm_results_free(batch, N_TEXTS);
    }
    reference_close(&ref);
    pnm_session_free(s);
    pnm_classifier_close(c);
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data = malloc(1 << 20);
    *len = f && data ? fread(data, 1, 1 << 20, f) : 0;
    if (f)
        fclose(f);
    return data;
}

static void check_errors(const char *path)
{
    pnm_error err;
    CHECK(!pnm_classifier_open("/nonexistent/m.pnm", &err) &&
              strstr(err.msg, "/nonexistent/m.pnm"),
          "a missing model file is an error that names it");
    CHECK(!pnm_classifier_open_bytes("not a model", 11, &err) && strstr(err.msg, "not a pnm model"),
          "bytes that are no model are refused");

    size_t len;
    unsigned char *bytes = read_all(path, &len);
    pnm_classifier *c = pnm_classifier_open_bytes(bytes, len, &err);
    free(bytes); /* the classifier keeps a copy */
    pnm_session *s = c ? pnm_session_new(c, &err) : NULL;
    CHECK(s && pnm_classifier_labels(c) == 3 && pnm_classifier_tags(c) == 5 &&
              strcmp(pnm_classifier_label_name(c, 2), "AddToList") == 0 &&
              strcmp(pnm_classifier_tag_name(c, 4), "I-item") == 0 &&
              !pnm_classifier_label_name(c, 3) && !pnm_classifier_tag_name(c, 5) &&
              pnm_classifier_model(c)->config.seq_len == 6,
          "a model opened from its bytes names its labels and tags");
    if (!s) {
        pnm_classifier_close(c);
        return;
    }
    CHECK(!pnm_classify_text(s, "ok \xC3(", &err) && strstr(err.msg, "line 1, byte 4") &&
              strstr(err.msg, "invalid UTF-8"),
          "invalid UTF-8 is an error that names the byte");
    const pnm_result *r = pnm_classify_text(s, "play some jazz", &err);
    CHECK(r && pnm_result_words(r) == 3, "the session works after an error");

    const char *bad[] = {"play jazz", "weather", "rain", "milk", "x\xFF", "y\xFE"};
    pnm_result **batch = pnm_classify_batch(c, bad, 6, 3, &err);
    CHECK(!batch && strstr(err.msg, "line 5, byte 2"),
          "a batch with bad texts fails, naming the first by its position");
    batch = pnm_classify_batch(c, bad, 0, 4, &err);
    CHECK(batch != NULL, "an empty batch is no error");
    pnm_results_free(batch, 0);
    pnm_session_free(s);
    pnm_classifier_close(c);
}

int main(void)
{
    pnm_error err;
    char *joint = save_model(3, 5, &err);
    char *classify = joint ? save_model(3, 0, &err) : NULL;
    char *tag = classify ? save_model(0, 5, &err) : NULL;
    if (CHECK(tag != NULL, "test models saved")) {
        check_model("joint", joint);
        check_model("classify", classify);
        check_model("tag", tag);
        check_errors(joint);
    } else {
        printf("# %s\n", err.msg);
    }
    char *paths[] = {joint, classify, tag};
    for (int i = 0; i < 3; i++) {
        if (paths[i])
            unlink(paths[i]);
        free(paths[i]);
    }
    return tap_done();
}
