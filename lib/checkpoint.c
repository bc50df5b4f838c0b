#include "checkpoint.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "hash.h"

#define MAGIC "PNMCHKPT"
#define CHECKSUM_BYTES 4
#define MAX_EPOCHS 100000u
#define MAX_BATCH (1u << 20)
#define MAX_THREADS 256u

enum { HAS_DEV = 1, HAS_EMA = 2, HAS_BEST = 4 };

static const pnm_frame_kind checkpoint_kind = {MAGIC, PNM_MAX_CHECKPOINT_BYTES, "checkpoint"};

uint64_t pnm_checkpoint_data_id(const pnm_tsv *t)
{
    return pnm_hash64(t->text, t->len, 0);
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint8_t *put_floats(uint8_t *p, const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++, p += 4)
        pnm_put_u32(p, f32_bits(v[i]));
    return p;
}

/* The weight arrays after the model, in file order. */
static size_t weight_arrays(const pnm_train_state *s, const float *out[4])
{
    size_t n = 0;
    out[n++] = s->m;
    out[n++] = s->v;
    if (s->ema)
        out[n++] = s->ema;
    if (s->has_best)
        out[n++] = s->best;
    return n;
}

int pnm_checkpoint_save(const pnm_checkpoint *ck, const char *path, pnm_error *err)
{
    const pnm_train_state *s = &ck->state;
    const pnm_train_options *o = &ck->options;
    size_t count = pnm_params_count(&ck->model->config);
    if (s->n_params != count)
        return pnm_error_set(err, "the training state has %zu parameters, the model %zu",
                             s->n_params, count);
    pnm_buf model = {0}, body = {0};
    if (pnm_model_encode(ck->model, &model, err))
        return -1;
    const float *arrays[4];
    size_t n_arrays = weight_arrays(s, arrays);
    uint64_t len = PNM_CHECKPOINT_HEADER_BYTES + 8 + (uint64_t)model.len +
                   4 * (uint64_t)count * n_arrays + 4 * (uint64_t)s->n_examples + CHECKSUM_BYTES;
    int rc = -1;
    if (len > PNM_MAX_CHECKPOINT_BYTES) {
        pnm_error_set(err, "the checkpoint would take %" PRIu64 " bytes, above the limit of %zu",
                      len, PNM_MAX_CHECKPOINT_BYTES);
        goto done;
    }
    uint8_t *p = pnm_buf_reserve(&body, (size_t)len), *start = p;
    if (!p) {
        pnm_error_set(err, "out of memory");
        goto done;
    }
    memcpy(p, MAGIC, 8);
    pnm_put_u32(p + 8, PNM_CHECKPOINT_VERSION);
    pnm_put_u32(p + 12, PNM_CHECKPOINT_HEADER_BYTES);
    pnm_put_u32(p + 16, (uint32_t)ck->task);
    pnm_put_u32(p + 20, (ck->has_dev ? HAS_DEV : 0) | (s->ema ? HAS_EMA : 0) |
                            (s->has_best ? HAS_BEST : 0));
    pnm_put_u32(p + 24, o->epochs);
    pnm_put_u32(p + 28, o->batch);
    pnm_put_u32(p + 32, o->threads);
    pnm_put_u32(p + 36, (uint32_t)o->schedule);
    const float hyper[] = {o->dropout, o->adamw.lr, o->adamw.beta1, o->adamw.beta2,
                           o->adamw.eps, o->adamw.weight_decay, o->ema};
    put_floats(p + 40, hyper, sizeof hyper / sizeof *hyper);
    pnm_put_u32(p + 68, s->epoch);
    pnm_put_u64(p + 72, o->seed);
    pnm_put_u64(p + 80, s->step);
    pnm_put_u64(p + 88, s->epoch_step);
    pnm_put_u64(p + 96, s->rng);
    pnm_put_u64(p + 104, ck->train_id);
    pnm_put_u64(p + 112, ck->dev_id);
    const double reals[] = {s->best_score, s->loss_sum, s->seconds};
    for (size_t i = 0; i < sizeof reals / sizeof *reals; i++) {
        uint64_t bits;
        memcpy(&bits, &reals[i], 8);
        pnm_put_u64(p + 120 + 8 * i, bits);
    }
    pnm_put_u64(p + 144, s->n_examples);
    p += PNM_CHECKPOINT_HEADER_BYTES;
    pnm_put_u64(p, model.len);
    memcpy(p + 8, model.data, model.len);
    p += 8 + model.len;
    for (size_t a = 0; a < n_arrays; a++)
        p = put_floats(p, arrays[a], count);
    for (size_t i = 0; i < s->n_examples; i++, p += 4)
        pnm_put_u32(p, s->order[i]);
    pnm_put_u32(p, (uint32_t)pnm_hash64(start, (size_t)len - CHECKSUM_BYTES, 0));
    body.len = (size_t)len;
    rc = pnm_frame_save(&body, path, err);
done:
    pnm_buf_free(&model);
    pnm_buf_free(&body);
    return rc;
}

/* ---- loading -------------------------------------------------------------- */

void pnm_checkpoint_free(pnm_checkpoint *ck)
{
    pnm_model_free(ck->model);
    pnm_train_state_free(&ck->state);
    memset(ck, 0, sizeof *ck);
}

/* "corrupt checkpoint: ...", returning -1. */
#define corrupt(err, ...) (pnm_error_set(err, __VA_ARGS__), pnm_error_prefix(err, "corrupt checkpoint"))

/* The training options, refused outside what pnm-train(1) accepts. */
static int decode_options(const uint8_t *b, pnm_train_options *o, pnm_error *err)
{
    memset(o, 0, sizeof *o);
    o->epochs = pnm_get_u32(b + 24);
    o->batch = pnm_get_u32(b + 28);
    o->threads = pnm_get_u32(b + 32);
    uint32_t schedule = pnm_get_u32(b + 36);
    o->dropout = bits_f32(pnm_get_u32(b + 40));
    o->adamw = (pnm_adamw){bits_f32(pnm_get_u32(b + 44)), bits_f32(pnm_get_u32(b + 48)),
                           bits_f32(pnm_get_u32(b + 52)), bits_f32(pnm_get_u32(b + 56)),
                           bits_f32(pnm_get_u32(b + 60))};
    o->ema = bits_f32(pnm_get_u32(b + 64));
    o->seed = pnm_get_u64(b + 72);
    const struct {
        const char *name;
        uint32_t value, min, max;
    } counts[] = {
        {"epoch count", o->epochs, 1, MAX_EPOCHS},
        {"batch size", o->batch, 1, MAX_BATCH},
        {"thread count", o->threads, 1, MAX_THREADS},
        {"schedule", schedule, PNM_SCHEDULE_CONSTANT, PNM_SCHEDULE_COSINE},
    };
    for (size_t i = 0; i < sizeof counts / sizeof *counts; i++)
        if (counts[i].value < counts[i].min || counts[i].value > counts[i].max)
            return corrupt(err, "%s %" PRIu32 " is outside %" PRIu32 "..%" PRIu32,
                           counts[i].name, counts[i].value, counts[i].min, counts[i].max);
    o->schedule = (pnm_schedule)schedule;
    /* Closed ranges; !(x >= min && x <= max) also refuses NaN. */
    const struct {
        const char *name;
        float value, min, max;
    } reals[] = {
        {"dropout", o->dropout, 0, 0.95f},
        {"learning rate", o->adamw.lr, 0, 10},
        {"beta1", o->adamw.beta1, 0, 0.99999f},
        {"beta2", o->adamw.beta2, 0, 0.99999f},
        {"epsilon", o->adamw.eps, 1e-30f, 1},
        {"weight decay", o->adamw.weight_decay, 0, 10},
        {"moving-average decay", o->ema, 0, 0.99999f},
    };
    for (size_t i = 0; i < sizeof reals / sizeof *reals; i++)
        if (!(reals[i].value >= reals[i].min && reals[i].value <= reals[i].max))
            return corrupt(err, "%s %g is outside %g..%g", reals[i].name,
                           (double)reals[i].value, (double)reals[i].min, (double)reals[i].max);
    return 0;
}

/* count floats from p into v, each finite (and not negative when
 * nonnegative). */
static int take_floats(const uint8_t *p, float *v, size_t count, bool nonnegative,
                       const char *what, pnm_error *err)
{
    for (size_t i = 0; i < count; i++) {
        v[i] = bits_f32(pnm_get_u32(p + 4 * i));
        if (!isfinite(v[i]) || (nonnegative && v[i] < 0))
            return corrupt(err, "%s %zu is %g", what, i, (double)v[i]);
    }
    return 0;
}

/* order must be a permutation of 0..n-1. */
static int take_order(const uint8_t *p, uint32_t *order, size_t n, pnm_error *err)
{
    uint8_t *seen = calloc(n, 1);
    if (!seen)
        return pnm_error_set(err, "out of memory");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        order[i] = pnm_get_u32(p + 4 * i);
        if (order[i] >= n || seen[order[i]])
            rc = corrupt(err, "the example order is not a permutation (entry %zu is %" PRIu32
                         ")", i, order[i]);
        else
            seen[order[i]] = 1;
    }
    free(seen);
    return rc;
}

static int decode_state(const uint8_t *b, const uint8_t *arrays, const uint8_t *order,
                        pnm_checkpoint *ck, pnm_error *err)
{
    pnm_train_state *s = &ck->state;
    uint32_t flags = pnm_get_u32(b + 20);
    size_t count = pnm_params_count(&ck->model->config), n = (size_t)pnm_get_u64(b + 144);
    if (pnm_train_state_init(s, &ck->model->config, n, &ck->options, ck->model->params, err))
        return -1;
    s->epoch = pnm_get_u32(b + 68);
    s->step = pnm_get_u64(b + 80);
    s->epoch_step = pnm_get_u64(b + 88);
    s->rng = pnm_get_u64(b + 96);
    s->has_best = flags & HAS_BEST;
    double *reals[] = {&s->best_score, &s->loss_sum, &s->seconds};
    for (size_t i = 0; i < sizeof reals / sizeof *reals; i++) {
        uint64_t bits = pnm_get_u64(b + 120 + 8 * i);
        memcpy(reals[i], &bits, 8);
    }
    if (pnm_train_state_check(s, &ck->options, err))
        return pnm_error_prefix(err, "corrupt checkpoint");
    if (s->has_best ? !(s->best_score >= 0 && s->best_score <= 1) : s->best_score != -1)
        return corrupt(err, "best dev score %g %s", s->best_score,
                       s->has_best ? "is outside 0..1" : "without best weights");
    if (!(s->loss_sum >= 0 && s->loss_sum < INFINITY) || !(s->seconds >= 0 && s->seconds < INFINITY))
        return corrupt(err, "the epoch's loss (%g) or the training time (%g) is not a finite"
                       " number of 0 or more", s->loss_sum, s->seconds);
    float *dest[4] = {s->m, s->v, s->ema, s->best};
    const char *names[4] = {"first moment", "second moment", "averaged weight", "best weight"};
    const bool present[4] = {true, true, s->ema != NULL, s->has_best};
    for (int a = 0; a < 4; a++) {
        if (!present[a])
            continue;
        if (take_floats(arrays, dest[a], count, a == 1, names[a], err))
            return -1;
        arrays += 4 * count;
    }
    return take_order(order, s->order, n, err);
}

int pnm_checkpoint_decode(pnm_checkpoint *ck, const void *body, size_t len, pnm_error *err)
{
    const uint8_t *b = body;
    memset(ck, 0, sizeof *ck);
    if (len < 8 || memcmp(b, MAGIC, 8) != 0)
        return pnm_error_set(err, "not a pnm checkpoint");
    if (len < 12)
        return corrupt(err, "the body ends inside the header");
    uint32_t version = pnm_get_u32(b + 8);
    if (version != PNM_CHECKPOINT_VERSION)
        return pnm_error_set(err, "checkpoint version %" PRIu32 " is not supported (this"
                             " program reads version %d)", version, PNM_CHECKPOINT_VERSION);
    if (len < PNM_CHECKPOINT_HEADER_BYTES + 8 + CHECKSUM_BYTES)
        return corrupt(err, "body of %zu bytes is too short", len);
    if (pnm_get_u32(b + 12) != PNM_CHECKPOINT_HEADER_BYTES)
        return corrupt(err, "header of %" PRIu32 " bytes, expected %d", pnm_get_u32(b + 12),
                       PNM_CHECKPOINT_HEADER_BYTES);
    if ((uint32_t)pnm_hash64(b, len - CHECKSUM_BYTES, 0) != pnm_get_u32(b + len - CHECKSUM_BYTES))
        return corrupt(err, "checksum mismatch");
    uint32_t task = pnm_get_u32(b + 16), flags = pnm_get_u32(b + 20);
    if (task > PNM_TASK_TAG)
        return corrupt(err, "task %" PRIu32 " is not 0 (classify), 1 (joint) or 2 (tag)", task);
    if (flags & ~(uint32_t)(HAS_DEV | HAS_EMA | HAS_BEST))
        return corrupt(err, "unknown flags 0x%" PRIx32, flags);
    ck->task = (pnm_task)task;
    ck->has_dev = flags & HAS_DEV;
    ck->train_id = pnm_get_u64(b + 104);
    ck->dev_id = pnm_get_u64(b + 112);
    if (decode_options(b, &ck->options, err))
        return -1;
    if ((ck->options.ema > 0) != !!(flags & HAS_EMA))
        return corrupt(err, "the moving-average flag does not match its decay");
    if (!ck->has_dev && (ck->dev_id != 0 || (flags & HAS_BEST)))
        return corrupt(err, "a dev identity or best weights without a dev set");
    /* The rest: model, weight arrays, order; each length against what is left. */
    size_t at = PNM_CHECKPOINT_HEADER_BYTES, end = len - CHECKSUM_BYTES;
    uint64_t model_len = pnm_get_u64(b + at);
    at += 8;
    if (model_len > end - at)
        return corrupt(err, "the body ends inside the model");
    ck->model = pnm_model_decode(b + at, (size_t)model_len, err);
    if (!ck->model)
        return pnm_error_prefix(err, "corrupt checkpoint");
    at += (size_t)model_len;
    /* Training updates float weights: an int8 model has none to update. */
    if (ck->model->qw) {
        pnm_checkpoint_free(ck);
        return corrupt(err, "its model is int8 (pnm-quantize), which cannot be trained");
    }
    const pnm_config *c = &ck->model->config;
    if ((ck->task == PNM_TASK_CLASSIFY && c->n_tags) || (ck->task == PNM_TASK_TAG && c->n_labels)) {
        pnm_checkpoint_free(ck);
        return corrupt(err, "a %s model with %" PRIu32 " labels and %" PRIu32 " tags",
                       pnm_task_name((pnm_task)task), c->n_labels, c->n_tags);
    }
    uint64_t n = pnm_get_u64(b + 144), count = pnm_params_count(c);
    uint64_t n_arrays = 2 + !!(flags & HAS_EMA) + !!(flags & HAS_BEST);
    /* Bounded by the bytes left before anything is sized from them. */
    uint64_t left = end - at;
    if (n == 0 || n > UINT32_MAX || n > left / 4 || count * n_arrays > left / 4 ||
        4 * (count * n_arrays + n) != left) {
        pnm_checkpoint_free(ck);
        return corrupt(err, "%" PRIu64 " bytes after the model do not hold %" PRIu64
                       " weight arrays of %" PRIu64 " and an order of %" PRIu64 " examples",
                       left, n_arrays, count, n);
    }
    if (decode_state(b, b + at, b + at + 4 * count * n_arrays, ck, err)) {
        pnm_checkpoint_free(ck);
        return -1;
    }
    return 0;
}

int pnm_checkpoint_load(pnm_checkpoint *ck, const char *path, pnm_error *err)
{
    pnm_buf body = {0};
    memset(ck, 0, sizeof *ck);
    int rc = pnm_frame_load(path, &checkpoint_kind, &body, err);
    if (rc == 0 && (rc = pnm_checkpoint_decode(ck, body.data, body.len, err)))
        pnm_error_prefix(err, "%s", path);
    pnm_buf_free(&body);
    return rc;
}
