/* Training checkpoints: a save/load round trip keeps every field, and
 * every field of a crafted body is bounds-checked on load, with one clear
 * message (pnm-checkpoint(5)). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "pnm.h"
#include "tap.h"

#define N_EXAMPLES 10

/* A vocabulary learned from a handful of repeated phrases. */
static void *phrase_vocab(size_t *len)
{
    static const char *phrases[] = {"play some jazz now", "what is the weather in paris",
                                    "add milk to my shopping list", "book a table for two",
                                    "rate this album three stars", "find the movie schedule"};
    const char *lines[60];
    for (size_t i = 0; i < 60; i++)
        lines[i] = phrases[i % 6];
    pnm_sp_train_options opt = {200, PNM_SP_UNIGRAM, "identity", 1, 0};
    void *model = NULL;
    pnm_error err;
    if (pnm_sp_train(lines, 60, &opt, &model, len, &err))
        printf("# %s\n", err.msg);
    return model;
}

/* A checkpoint in epoch 2 of 3, after step 1 of 3 (10 examples, batch 4),
 * with a moving average and best weights. */
static int make_checkpoint(pnm_checkpoint *ck, const void *vocab, size_t vocab_len)
{
    static const char *labels[] = {"a", "b"}, *tags[] = {"O", "B-x"};
    pnm_config c = {.projection = {16, 4, 1, 7}, .seq_len = 8, .bottleneck = 4,
                    .token_hidden = 4, .channel_hidden = 4, .layers = 1,
                    .n_labels = 2, .n_tags = 2};
    pnm_error err;
    memset(ck, 0, sizeof *ck);
    ck->model = pnm_model_new(&c, labels, tags, vocab, vocab_len, &err);
    if (!ck->model)
        return -1;
    pnm_params_init(&ck->model->p, &c, 3);
    ck->task = PNM_TASK_JOINT;
    ck->options = (pnm_train_options){3, 4, 2, 0.1f, PNM_ADAMW_DEFAULT, 42,
                                      PNM_SCHEDULE_COSINE, 0.9f};
    ck->has_dev = true;
    ck->train_id = 0x1111, ck->dev_id = 0x2222;
    pnm_train_state *s = &ck->state;
    if (pnm_train_state_init(s, &c, N_EXAMPLES, &ck->options, ck->model->params, &err))
        return -1;
    for (size_t i = 0; i < s->n_params; i++)
        s->m[i] = 0.01f * (float)i, s->v[i] = 0.5f, s->best[i] = -1.0f, s->ema[i] += 1;
    s->has_best = true, s->best_score = 0.75;
    s->epoch = 1, s->step = 4, s->epoch_step = 1, s->rng = 0xABCDEF;
    s->order[0] = 9, s->order[9] = 0;
    s->loss_sum = 3.5, s->seconds = 12.25;
    return 0;
}

static bool same_floats(const float *a, const float *b, size_t n)
{
    return (a == NULL) == (b == NULL) && (!a || memcmp(a, b, n * sizeof *a) == 0);
}

static void test_round_trip(const pnm_checkpoint *ck, const char *path)
{
    pnm_error err;
    pnm_checkpoint back;
    CHECK(pnm_checkpoint_save(ck, path, &err) == 0, "save");
    if (!CHECK(pnm_checkpoint_load(&back, path, &err) == 0, "load what was saved"))
        return printf("# %s\n", err.msg), (void)0;
    const pnm_train_state *a = &ck->state, *b = &back.state;
    size_t n = a->n_params;
    CHECK(back.task == ck->task && back.has_dev && back.train_id == 0x1111 &&
          back.dev_id == 0x2222, "task, dev flag and data identities");
    CHECK(memcmp(&back.options, &ck->options, sizeof ck->options) == 0, "options");
    CHECK(memcmp(back.model->params, ck->model->params, n * sizeof (float)) == 0 &&
          strcmp(back.model->tags[1], "B-x") == 0, "model");
    CHECK(same_floats(a->m, b->m, n) && same_floats(a->v, b->v, n) &&
          same_floats(a->ema, b->ema, n) && same_floats(a->best, b->best, n),
          "moments, average and best weights");
    CHECK(b->has_best && b->best_score == 0.75 && b->epoch == 1 && b->step == 4 &&
          b->epoch_step == 1 && b->rng == 0xABCDEF && b->loss_sum == 3.5 &&
          b->seconds == 12.25, "position, generator, scores");
    CHECK(memcmp(a->order, b->order, N_EXAMPLES * sizeof *a->order) == 0, "order");
    pnm_checkpoint_free(&back);
    pnm_model *m = pnm_model_load(path, &err);
    CHECK(!m && strstr(err.msg, "not a pnm model"), "a checkpoint is not a model");
    pnm_model_save(ck->model, path, &err);
    CHECK(pnm_checkpoint_load(&back, path, &err) != 0 && strstr(err.msg, "not a pnm checkpoint"),
          "a model is not a checkpoint");
}

/* The uncompressed body of the checkpoint file at path. */
static uint8_t *read_body(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    static uint8_t z[1 << 22];
    size_t zlen = f ? fread(z, 1, sizeof z, f) : 0;
    if (f)
        fclose(f);
    unsigned long long size = ZSTD_getFrameContentSize(z, zlen);
    uint8_t *body = malloc(size);
    *len = body ? ZSTD_decompress(body, size, z, zlen) : 0;
    return body;
}

typedef struct crafted {
    uint8_t *b;
    size_t len;
} crafted;

/* Decodes c with its checksum made right; true when refused with want in
 * the message. */
static bool refused(crafted c, const char *want)
{
    pnm_put_u32(c.b + c.len - 4, (uint32_t)pnm_hash64(c.b, c.len - 4, 0));
    pnm_checkpoint ck;
    pnm_error err = {{0}};
    int rc = pnm_checkpoint_decode(&ck, c.b, c.len, &err);
    if (rc == 0)
        pnm_checkpoint_free(&ck);
    if (rc == 0 || !strstr(err.msg, want))
        printf("# wanted \"%s\", got \"%s\"\n", want, rc ? err.msg : "(accepted)");
    return rc != 0 && strstr(err.msg, want);
}

/* A copy of good with the u32 (size 4) or u64 (size 8) at offset set. */
static crafted with(const crafted *good, size_t offset, size_t size, uint64_t value)
{
    crafted c = {malloc(good->len), good->len};
    memcpy(c.b, good->b, good->len);
    if (size == 4)
        pnm_put_u32(c.b + offset, (uint32_t)value);
    else
        pnm_put_u64(c.b + offset, value);
    return c;
}

static void test_crafted(const char *path, const pnm_checkpoint *ck)
{
    crafted good;
    good.b = read_body(path, &good.len);
    if (!CHECK(good.b && good.len > 200, "read the body back"))
        return;
    size_t model_len = pnm_get_u64(good.b + 152), arrays = 160 + model_len;
    size_t p = ck->state.n_params, order = arrays + 4 * 4 * p;
    struct {
        size_t offset, size;
        uint64_t value;
        const char *want, *what;
    } cases[] = {
        {8, 4, 2, "checkpoint version 2 is not supported", "version"},
        {12, 4, 160, "corrupt checkpoint: header of 160 bytes", "header size"},
        {16, 4, 3, "task 3 is not", "task"},
        {20, 4, 8 | 7, "unknown flags 0xf", "flags"},
        {20, 4, 1 | 4, "moving-average flag", "EMA flag without EMA"},
        {24, 4, 0, "epoch count 0 is outside 1..", "epochs"},
        {28, 4, 0, "batch size 0 is outside", "batch 0"},
        {28, 4, 2u << 20, "batch size 2097152 is outside", "batch too large"},
        {32, 4, 0, "thread count 0", "threads"},
        {36, 4, 2, "schedule 2", "schedule"},
        {40, 4, 0x7FC00000, "dropout nan is outside", "dropout NaN"},
        {44, 4, 0xBF800000, "learning rate -1 is outside", "negative learning rate"},
        {56, 4, 0, "epsilon 0 is outside", "epsilon 0"},
        {64, 4, 0, "moving-average flag", "EMA decay 0 with the flag"},
        {68, 4, 3, "past the 3 of the run", "epoch past the run"},
        {80, 8, 5, "step 5 is not step 1 of epoch 2", "step count"},
        {88, 8, 3, "step 4 of an epoch of 3 steps", "step within the epoch"},
        {120, 8, 0x3FF8000000000000ull, "best dev score 1.5", "best score above 1"},
        {128, 8, 0x7FF0000000000000ull, "the epoch's loss (inf)", "infinite loss"},
        {144, 8, 0, "bytes after the model do not hold", "no examples"},
        {144, 8, N_EXAMPLES + 1, "bytes after the model do not hold", "one example more"},
        {144, 8, 1ull << 40, "bytes after the model do not hold", "a huge example count"},
        {152, 8, 1ull << 40, "the body ends inside the model", "a huge model length"},
        {152, 8, model_len - 4, "corrupt checkpoint: corrupt model", "a short model"},
        {arrays + 4 * p + 8, 4, 0xBF800000, "second moment 2 is -1", "negative second moment"},
        {arrays + 8, 4, 0x7F800000, "first moment 2 is inf", "infinite first moment"},
        {order + 4, 4, 9, "not a permutation (entry 1 is 9)", "order repeats an entry"},
        {order + 8, 4, N_EXAMPLES, "entry 2 is 10", "order entry out of range"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        crafted c = with(&good, cases[i].offset, cases[i].size, cases[i].value);
        CHECK(refused(c, cases[i].want), cases[i].what);
        free(c.b);
    }
    crafted c = with(&good, 0, 4, 0x58585858);
    CHECK(refused(c, "not a pnm checkpoint"), "magic");
    memcpy(c.b, good.b, good.len);
    c.b[good.len - 1] ^= 1;
    pnm_checkpoint out;
    pnm_error err;
    CHECK(pnm_checkpoint_decode(&out, c.b, c.len, &err) && strstr(err.msg, "checksum mismatch"),
          "checksum");
    c.b[good.len - 1] ^= 1;
    c.b[160 + 20] ^= 1; /* inside the model's header: its own checksum fails */
    CHECK(refused(c, "corrupt checkpoint: corrupt model: checksum mismatch"), "model damage");
    /* No best weights without a dev set; a dev identity needs one too. */
    free(c.b);
    c = with(&good, 20, 4, 2 | 4);
    CHECK(refused(c, "without a dev set"), "best weights without a dev set");
    free(c.b);
    /* Cut anywhere (checksum made right): refused, never a crash. */
    bool all = true;
    for (size_t len = 8; len < good.len; len += len < 400 ? 1 : 97) {
        crafted cut = {malloc(len), len};
        memcpy(cut.b, good.b, len);
        all &= refused(cut, "checkpoint");
        free(cut.b);
    }
    CHECK(all, "every truncation is refused");
    free(good.b);
}

/* Training updates float weights: a checkpoint holding an int8 model
 * (pnm-quantize) is refused, with a message that says so. */
static void test_int8_model(pnm_checkpoint *ck, const char *path)
{
    pnm_error err;
    pnm_model *f = ck->model, *q = pnm_model_quantize(f, true, &err);
    ck->model = q;
    int saved = q && pnm_checkpoint_save(ck, path, &err) == 0;
    ck->model = f;
    pnm_model_free(q);
    pnm_checkpoint back;
    CHECK(saved && pnm_checkpoint_load(&back, path, &err) != 0 &&
              strstr(err.msg, "corrupt checkpoint: its model is int8 (pnm-quantize)"),
          "a checkpoint of an int8 model is refused");
}

int main(void)
{
    size_t vocab_len = 0;
    void *vocab = phrase_vocab(&vocab_len);
    pnm_checkpoint ck;
    if (!CHECK(vocab && make_checkpoint(&ck, vocab, vocab_len) == 0, "make a checkpoint"))
        return tap_done();
    char dir[] = "/tmp/pnm-test-checkpoint-XXXXXX", path[64];
    if (!CHECK(mkdtemp(dir) != NULL, "temporary directory"))
        return tap_done();
    snprintf(path, sizeof path, "%s/c.ckpt", dir);
    test_round_trip(&ck, path);
    pnm_checkpoint_save(&ck, path, NULL);
    test_crafted(path, &ck);
    test_int8_model(&ck, path);
    unlink(path);
    rmdir(dir);
    pnm_checkpoint_free(&ck);
    free(vocab);
    return tap_done();
}
