#include "layers.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#define LN_EPS 1e-5f

/* Built for the portable x86-64 baseline and for x86-64-v3 (AVX2, FMA) and
 * x86-64-v4 (AVX-512), chosen at load time by the CPU (GCC function
 * multi-versioning); elsewhere, plain. The Makefile lets these contract
 * a * b + c into one FMA. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PNM_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define PNM_SIMD_CLONES
#endif

/* 16 floats: one AVX-512 register, two AVX2 ones, four SSE ones. */
typedef float vec16 __attribute__((vector_size(16 * sizeof(float))));

/* Vectors go through memory (unaligned loads and stores) and by pointer:
 * a vector argument or result would tie the baseline build to an ABI. */
static inline void vec16_load(vec16 *v, const float *p)
{
    memcpy(v, p, sizeof *v);
}

static inline void vec16_store(float *p, const vec16 *v)
{
    memcpy(p, v, sizeof *v);
}

/* The 16 lanes added pairwise. */
static inline float vec16_sum(const vec16 *v)
{
    float s8[8], s4[4];
    for (int k = 0; k < 8; k++)
        s8[k] = (*v)[k] + (*v)[k + 8];
    for (int k = 0; k < 4; k++)
        s4[k] = s8[k] + s8[k + 4];
    return (s4[0] + s4[2]) + (s4[1] + s4[3]);
}

/* Row sums in 16 interleaved partial sums: C may not reorder a float loop,
 * and a sequential sum is one add per cycle at best. */
static inline float row_sum(const float *x, size_t c)
{
    vec16 acc = {0};
    size_t i = 0;
    for (; i + 16 <= c; i += 16) {
        vec16 v;
        vec16_load(&v, x + i);
        acc += v;
    }
    float s = vec16_sum(&acc);
    for (; i < c; i++)
        s += x[i];
    return s;
}

/* The sum of (x - m)^2, in the same order. */
static inline float row_sum_sq(const float *x, float m, size_t c)
{
    vec16 acc = {0};
    size_t i = 0;
    for (; i + 16 <= c; i += 16) {
        vec16 d;
        vec16_load(&d, x + i);
        d -= m;
        acc += d * d;
    }
    float s = vec16_sum(&acc);
    for (; i < c; i++)
        s += (x[i] - m) * (x[i] - m);
    return s;
}

PNM_SIMD_CLONES

void layernorm_forward(float *out, float *mean, float *rstd, const float *x,
                       const float *g, const float *b, size_t n, size_t c)
{
    for (size_t r = 0; r < n; r++) {
        const float *xr = x + r * c;
        float m = row_sum(xr, c) / (float)c;
        float v = row_sum_sq(xr, m, c);
        float s = 1.0f / sqrtf(v / (float)c + LN_EPS);
        float *o = out + r * c;
        for (size_t i = 0; i < c; i++)
            o[i] = (xr[i] - m) * s * g[i] + b[i];
        mean[r] = m;
        rstd[r] = s;
    }
}

PNM_SIMD_CLONES
void layernorm_backward(float *dx, float *dg, float *db, const float *dout,
                        const float *x, const float *g, const float *mean,
                        const float *rstd, size_t n, size_t c)
{
    for (size_t r = 0; r < n; r++) {
        const float *xr = x + r * c, *d = dout + r * c;
        float m = mean[r], s = rstd[r];
        /* With xhat = (x - m) s and dxhat = dout * g:
         * dx = s (dxhat - mean(dxhat) - xhat mean(dxhat xhat)).
         * The sums in 16 partial sums, as row_sum. */
        vec16 acc_d = {0}, acc_dx = {0};
        size_t i = 0;
        for (; i + 16 <= c; i += 16) {
            vec16 dv, xhat, gv, dgv, dbv;
            vec16_load(&dv, d + i), vec16_load(&xhat, xr + i), vec16_load(&gv, g + i);
            vec16_load(&dgv, dg + i), vec16_load(&dbv, db + i);
            xhat = (xhat - m) * s;
            vec16 dxhat = dv * gv;
            acc_d += dxhat;
            acc_dx += dxhat * xhat;
            dgv += dv * xhat;
            dbv += dv;
            vec16_store(dg + i, &dgv), vec16_store(db + i, &dbv);
        }
        float sum_d = vec16_sum(&acc_d), sum_dx = vec16_sum(&acc_dx);
        for (; i < c; i++) {
            float xhat = (xr[i] - m) * s, dxhat = d[i] * g[i];
            sum_d += dxhat;
            sum_dx += dxhat * xhat;
            dg[i] += d[i] * xhat;
            db[i] += d[i];
        }
        sum_d /= (float)c;
        sum_dx /= (float)c;
        float *dxr = dx + r * c;
        for (i = 0; i < c; i++) {
            float xhat = (xr[i] - m) * s;
            dxr[i] += s * (d[i] * g[i] - sum_d - xhat * sum_dx);
        }
    }
}

/* tanh as a rational function (the minimax fit Eigen uses), clamped where
 * tanh is 1 in float: no branch, no libm call, so the GELU loops vectorise.
 * Largest error against tanh over [-12, 12]: 3.3e-7 (measured). tanhf was
 * most of the training time: token mixing runs GELU on h_t x b values per
 * example whatever its length. */
static inline float tanh_approx(float x)
{
    const float clamp = 7.90531110763549805f;
    x = x > clamp ? clamp : x;
    x = x < -clamp ? -clamp : x;
    float x2 = x * x;
    float p = -2.76076847742355e-16f;
    p = p * x2 + 2.00018790482477e-13f;
    p = p * x2 + -8.60467152213735e-11f;
    p = p * x2 + 5.12229709037114e-08f;
    p = p * x2 + 1.48572235717979e-05f;
    p = p * x2 + 6.37261928875436e-04f;
    p = p * x2 + 4.89352455891786e-03f;
    float q = 1.19825839466702e-06f;
    q = q * x2 + 1.18534705686654e-04f;
    q = q * x2 + 2.26843463243900e-03f;
    q = q * x2 + 4.89352518554385e-03f;
    return x * p / q;
}

#define GELU_K 0.7978845608028654f /* sqrt(2/pi) */

#define GELU_C 0.044715f

#define GATHER_VECS 8 /* a block of 128 columns stays in registers */

PNM_SIMD_CLONES
void gather_add_rows(float *out, const float *table, const uint16_t *idx, size_t n, size_t c)
{
    /* Column blocks kept in registers while the n rows are added (the
     * table rows come from L2 or L3: out is loaded and stored once per
     * block instead of once per row). Each column still adds the rows in
     * index order, so the sums are the plain loop's, bit for bit. */
    const size_t block = GATHER_VECS * 16;
    size_t j0 = 0;
    for (; j0 + block <= c; j0 += block) {
        vec16 acc[GATHER_VECS];
        memcpy(acc, out + j0, sizeof acc);
        for (size_t i = 0; i < n; i++) {
            const float *row = table + (size_t)idx[i] * c + j0;
            for (int v = 0; v < GATHER_VECS; v++) {
                vec16 r;
                vec16_load(&r, row + 16 * v);
                acc[v] += r;
            }
        }
        memcpy(out + j0, acc, sizeof acc);
    }
    for (size_t i = 0; i < n && j0 < c; i++) {
        const float *row = table + (size_t)idx[i] * c;
        for (size_t j = j0; j < c; j++)
            out[j] += row[j];
    }
}

PNM_SIMD_CLONES
void scatter_add_rows(float *dtable, const float *dout, const uint16_t *idx, size_t n, size_t c)
{
    for (size_t i = 0; i < n; i++) {
        float *row = dtable + (size_t)idx[i] * c;
        for (size_t j = 0; j < c; j++)
            row[j] += dout[j];
    }
}

PNM_SIMD_CLONES
void gelu_forward(float *out, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        out[i] = 0.5f * v * (1.0f + tanh_approx(GELU_K * (v + GELU_C * v * v * v)));
    }
}

PNM_SIMD_CLONES
void gelu_backward(float *dx, const float *x, const float *dout, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        float t = tanh_approx(GELU_K * (v + GELU_C * v * v * v));
        float dt = (1.0f - t * t) * GELU_K * (1.0f + 3.0f * GELU_C * v * v);
        dx[i] = dout[i] * (0.5f * (1.0f + t) + 0.5f * v * dt);
    }
}

void linear_forward(float *out, const float *x, const float *w, const float *bias,
                    size_t n, size_t i, size_t o)
{
    for (size_t r = 0; r < n; r++)
        memcpy(out + r * o, bias, o * sizeof *out);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)o, (int)i, 1.0f, x,
                (int)i, w, (int)i, 1.0f, out, (int)o);
}

void linear_backward(float *dx, float *dw, float *dbias, const float *dout,
                     const float *x, const float *w, size_t n, size_t i, size_t o)
{
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)i, (int)o, 1.0f,
                    dout, (int)o, w, (int)i, 1.0f, dx, (int)i);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)o, (int)i, (int)n, 1.0f, dout,
                (int)o, x, (int)i, 1.0f, dw, (int)i);
    for (size_t r = 0; r < n; r++)
        for (size_t k = 0; k < o; k++)
            dbias[k] += dout[r * o + k];
}

void attn_pool_forward(float *pooled, float *alpha, const float *x, const float *q,
                       size_t n, size_t c)
{
    float max = -INFINITY;
    for (size_t r = 0; r < n; r++) {
        float s = 0;
        for (size_t i = 0; i < c; i++)
            s += x[r * c + i] * q[i];
        alpha[r] = s;
        max = s > max ? s : max;
    }
    float sum = 0;
    for (size_t r = 0; r < n; r++)
        sum += alpha[r] = expf(alpha[r] - max);
    memset(pooled, 0, c * sizeof *pooled);
    for (size_t r = 0; r < n; r++) {
        alpha[r] /= sum;
        for (size_t i = 0; i < c; i++)
            pooled[i] += alpha[r] * x[r * c + i];
    }
}

void attn_pool_backward(float *dx, float *dq, const float *dpooled, const float *alpha,
                        const float *x, const float *q, size_t n, size_t c)
{
    /* dalpha_r = x_r . dpooled; dscore_r = alpha_r (dalpha_r - sum alpha dalpha);
     * dx_r = alpha_r dpooled + dscore_r q; dq = sum dscore_r x_r. */
    float mean = 0;
    for (size_t r = 0; r < n; r++) {
        float da = 0;
        for (size_t i = 0; i < c; i++)
            da += x[r * c + i] * dpooled[i];
        mean += alpha[r] * da;
    }
    for (size_t r = 0; r < n; r++) {
        float da = 0;
        for (size_t i = 0; i < c; i++)
            da += x[r * c + i] * dpooled[i];
        float ds = alpha[r] * (da - mean);
        for (size_t i = 0; i < c; i++) {
            dq[i] += ds * x[r * c + i];
            dx[r * c + i] += alpha[r] * dpooled[i] + ds * q[i];
        }
    }
}

double softmax_xent(float *probs, float *dlogits, const float *logits, size_t k,
                    uint32_t target, float scale)
{
    float max = logits[0];
    for (size_t i = 1; i < k; i++)
        max = logits[i] > max ? logits[i] : max;
    double sum = 0;
    for (size_t i = 0; i < k; i++)
        sum += probs[i] = expf(logits[i] - max);
    for (size_t i = 0; i < k; i++)
        probs[i] = (float)(probs[i] / sum);
    if (dlogits)
        for (size_t i = 0; i < k; i++)
            dlogits[i] = scale * (probs[i] - (i == target ? 1.0f : 0.0f));
    return -((double)logits[target] - max - log(sum));
}

void dropout_forward(float *x, uint8_t *keep, size_t n, float p, uint64_t *rng_state)
{
    float scale = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++) {
        keep[i] = pnm_rand_uniform(rng_state) >= p;
        x[i] = keep[i] ? x[i] * scale : 0.0f;
    }
}

void dropout_backward(float *dx, const uint8_t *keep, size_t n, float p)
{
    float scale = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++)
        dx[i] = keep[i] ? dx[i] * scale : 0.0f;
}

uint64_t pnm_rand_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

float pnm_rand_uniform(uint64_t *state)
{
    return (float)(pnm_rand_next(state) >> 40) * (1.0f / 16777216.0f);
}

float pnm_rand_normal(uint64_t *state)
{
    float u1 = pnm_rand_uniform(state), u2 = pnm_rand_uniform(state);
    return sqrtf(-2.0f * logf(1.0f - u1)) * cosf(6.2831853f * u2);
}
