#include "layers.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "gelu.h"
#include "simd.h"

/* 8 floats, one AVX2 register: LayerNorm's sums and the x86-64-v3 kernels
 * (an AVX2 build of wider generic vectors goes through memory). vec8_in
 * reads and writes them at any float: unaligned and aliasing (a memcpy
 * kept the AVX2 build's vectors in memory too). */
typedef float vec8 __attribute__((vector_size(8 * sizeof(float))));
typedef float vec8_in
    __attribute__((vector_size(8 * sizeof(float)), aligned(sizeof(float)), may_alias));

/* 4 floats, one SSE (or NEON) register: the portable kernels. */
typedef float vec4 __attribute__((vector_size(4 * sizeof(float))));
typedef float vec4_in
    __attribute__((vector_size(4 * sizeof(float)), aligned(sizeof(float)), may_alias));

/* 16 floats, one AVX-512 register: kernels built for AVX-512 only (an AVX2
 * build of them would go through memory). */
typedef float vec16 __attribute__((vector_size(16 * sizeof(float))));
typedef float vec16_in
    __attribute__((vector_size(16 * sizeof(float)), aligned(sizeof(float)), may_alias));

/* By pointer: a vector argument or result would tie the baseline build to
 * an ABI. */
static inline void vec8_load(vec8 *v, const float *p)
{
    *v = *(const vec8_in *)p;
}

static inline void vec8_store(float *p, const vec8 *v)
{
    *(vec8_in *)p = *v;
}

/* The 8 lanes added pairwise. */
static inline float vec8_sum(const vec8 *v)
{
    float s4[4];
    for (int k = 0; k < 4; k++)
        s4[k] = (*v)[k] + (*v)[k + 4];
    return (s4[0] + s4[2]) + (s4[1] + s4[3]);
}

/* Row sums in 8 interleaved partial sums: C may not reorder a float loop,
 * and a sequential sum is one add per cycle at best. */
static inline float row_sum(const float *x, size_t c)
{
    vec8 acc = {0};
    size_t i = 0;
    for (; i + 8 <= c; i += 8) {
        vec8 v;
        vec8_load(&v, x + i);
        acc += v;
    }
    float s = vec8_sum(&acc);
    for (; i < c; i++)
        s += x[i];
    return s;
}

/* The dot product of x and y, in the same order. */
static inline float row_dot(const float *x, const float *y, size_t c)
{
    vec8 acc = {0};
    size_t i = 0;
    for (; i + 8 <= c; i += 8) {
        vec8 a, b;
        vec8_load(&a, x + i), vec8_load(&b, y + i);
        acc += a * b;
    }
    float s = vec8_sum(&acc);
    for (; i < c; i++)
        s += x[i] * y[i];
    return s;
}

/* The sum of (x - m)^2, in the same order. */
static inline float row_sum_sq(const float *x, float m, size_t c)
{
    vec8 acc = {0};
    size_t i = 0;
    for (; i + 8 <= c; i += 8) {
        vec8 d;
        vec8_load(&d, x + i);
        d -= m;
        acc += d * d;
    }
    float s = vec8_sum(&acc);
    for (; i < c; i++)
        s += (x[i] - m) * (x[i] - m);
    return s;
}

PNM_SIMD_CLONES
void add_row_sums(float *sums, const float *x, size_t n, size_t c)
{
    for (size_t r = 0; r < n; r++)
        sums[r] += row_sum(x + r * c, c);
}

PNM_SIMD_CLONES
void layernorm_forward(float *out, float *mean, float *rstd, const float *x,
                       const float *g, const float *b, size_t n, size_t c)
{
    for (size_t r = 0; r < n; r++) {
        const float *xr = x + r * c;
        float m = row_sum(xr, c) / (float)c;
        float v = row_sum_sq(xr, m, c);
        float s = 1.0f / sqrtf(v / (float)c + PNM_LAYERNORM_EPS);
        float *o = out + r * c;
        for (size_t i = 0; i < c; i++)
            o[i] = (xr[i] - m) * s * g[i] + b[i];
        if (mean) {
            mean[r] = m;
            rstd[r] = s;
        }
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
         * The sums in 8 partial sums, as row_sum. */
        vec8 acc_d = {0}, acc_dx = {0};
        size_t i = 0;
        for (; i + 8 <= c; i += 8) {
            vec8 dv, xhat, gv, dgv, dbv;
            vec8_load(&dv, d + i), vec8_load(&xhat, xr + i), vec8_load(&gv, g + i);
            vec8_load(&dgv, dg + i), vec8_load(&dbv, db + i);
            xhat = (xhat - m) * s;
            vec8 dxhat = dv * gv;
            acc_d += dxhat;
            acc_dx += dxhat * xhat;
            dgv += dv * xhat;
            dbv += dv;
            vec8_store(dg + i, &dgv), vec8_store(db + i, &dbv);
        }
        float sum_d = vec8_sum(&acc_d), sum_dx = vec8_sum(&acc_dx);
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

/* gather_add_rows over blocks of `vecs` vectors of columns kept in
 * registers while the n rows are added (the table rows come from L2 or L3:
 * out is loaded and stored once per block instead of once per row). Each
 * column still adds the rows in index order, so the sums are the plain
 * loop's, bit for bit, whatever the vectors. Made for each vector type. */
#define GATHER_BLOCKS(name, vec, vec_in, vecs)                                          \
    static inline __attribute__((always_inline)) void name(                              \
        float *out, const float *table, const uint16_t *idx, size_t n, size_t c)        \
    {                                                                                    \
        const size_t lanes = sizeof(vec) / sizeof(float), block = (vecs) * lanes;       \
        size_t j0 = 0;                                                                   \
        for (; j0 + block <= c; j0 += block) {                                           \
            vec acc[vecs];                                                               \
            for (size_t v = 0; v < (vecs); v++)                                          \
                acc[v] = *(const vec_in *)(out + j0 + lanes * v);                        \
            for (size_t i = 0; i < n; i++) {                                             \
                const float *row = table + (size_t)idx[i] * c + j0;                      \
                for (size_t v = 0; v < (vecs); v++)                                      \
                    acc[v] += *(const vec_in *)(row + lanes * v);                        \
            }                                                                            \
            for (size_t v = 0; v < (vecs); v++)                                          \
                *(vec_in *)(out + j0 + lanes * v) = acc[v];                              \
        }                                                                                \
        for (size_t i = 0; i < n && j0 < c; i++) {                                       \
            const float *row = table + (size_t)idx[i] * c;                               \
            for (size_t j = j0; j < c; j++)                                              \
                out[j] += row[j];                                                        \
        }                                                                                \
    }

/* 32 columns in 8 SSE registers (of 16), 64 in 8 AVX2 ones, and with
 * AVX-512 128 in 8 of its 32: 1.06 times as fast on BASE as 64 columns
 * there, 1.02 times as 16 registers of 8 floats. */
GATHER_BLOCKS(gather_blocks4, vec4, vec4_in, 8)

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
GATHER_BLOCKS(gather_blocks8, vec8, vec8_in, 8)
GATHER_BLOCKS(gather_blocks16, vec16, vec16_in, 8)

__attribute__((target("arch=x86-64-v4")))
static void gather_add_rows_v4(float *out, const float *table, const uint16_t *idx, size_t n,
                               size_t c)
{
    gather_blocks16(out, table, idx, n, c);
}

__attribute__((target("arch=x86-64-v3")))
static void gather_add_rows_v3(float *out, const float *table, const uint16_t *idx, size_t n,
                               size_t c)
{
    gather_blocks8(out, table, idx, n, c);
}
#endif

void gather_add_rows(float *out, const float *table, const uint16_t *idx, size_t n, size_t c)
{
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    if (__builtin_cpu_supports("x86-64-v4"))
        gather_add_rows_v4(out, table, idx, n, c);
    else if (__builtin_cpu_supports("x86-64-v3"))
        gather_add_rows_v3(out, table, idx, n, c);
    else
#endif
        gather_blocks4(out, table, idx, n, c);
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
        out[i] = pnm_gelu(x[i]);
    }
}

PNM_SIMD_CLONES
void gelu_backward(float *dx, const float *x, const float *dout, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        /* d/dx x s(2u) = s + x s (1 - s) 2u', s the sigmoid. */
        float v = x[i], s = 1.0f / (1.0f + pnm_gelu_exp(v));
        float du2 = 2.0f * PNM_GELU_K * (1.0f + 3.0f * PNM_GELU_C * v * v);
        dx[i] = dout[i] * (s + v * s * (1.0f - s) * du2);
    }
}

/* Lane shuffles of two vectors into one (indices below the lane count
 * pick from a, the others from b), in each compiler's spelling. */
#if defined(__clang__)
#define VEC_SHUFFLE(index_type, a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define VEC_SHUFFLE(index_type, a, b, ...) __builtin_shuffle(a, b, (index_type){__VA_ARGS__})
#endif
typedef int32_t vec4_index __attribute__((vector_size(4 * sizeof(int32_t))));
typedef int32_t vec8_index __attribute__((vector_size(8 * sizeof(int32_t))));
typedef int32_t vec16_index __attribute__((vector_size(16 * sizeof(int32_t))));
#define PAIR4(a, b, lo, hi) \
    (VEC_SHUFFLE(vec4_index, a, b, lo) + VEC_SHUFFLE(vec4_index, a, b, hi))
#define PAIR8(a, b, lo, hi) \
    (VEC_SHUFFLE(vec8_index, a, b, lo) + VEC_SHUFFLE(vec8_index, a, b, hi))
#define PAIR16(a, b, lo, hi) \
    (VEC_SHUFFLE(vec16_index, a, b, lo) + VEC_SHUFFLE(vec16_index, a, b, hi))
#define L4_LO2 0, 1, 4, 5
#define L4_HI2 2, 3, 6, 7
#define L4_LO1 0, 2, 4, 6
#define L4_HI1 1, 3, 5, 7
#define L8_LO4 0, 1, 2, 3, 8, 9, 10, 11
#define L8_HI4 4, 5, 6, 7, 12, 13, 14, 15
#define L8_LO2 0, 1, 4, 5, 8, 9, 12, 13
#define L8_HI2 2, 3, 6, 7, 10, 11, 14, 15
#define L8_LO1 0, 2, 4, 6, 8, 10, 12, 14
#define L8_HI1 1, 3, 5, 7, 9, 11, 13, 15
#define L16_LO8 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23
#define L16_HI8 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31
#define L16_LO4 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27
#define L16_HI4 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31
#define L16_LO2 0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29
#define L16_HI2 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31
#define L16_LO1 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
#define L16_HI1 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31

/* The lane sums of as many vectors as lanes, as one vector (lane j: the sum
 * of v[j]): rounds that each add the two halves of every pair, instead of
 * a horizontal sum each. Every lane gets the same tree (lanes k and
 * k + lanes/2 first), so a sum does not depend on its place. */
static inline __attribute__((always_inline)) void vec4_sums(vec4 *out, const vec4 *v)
{
    vec4 a[2];
    for (int k = 0; k < 2; k++)
        a[k] = PAIR4(v[2 * k], v[2 * k + 1], L4_LO2, L4_HI2);
    *out = PAIR4(a[0], a[1], L4_LO1, L4_HI1);
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
static inline __attribute__((always_inline)) void vec8_sums(vec8 *out, const vec8 *v)
{
    vec8 a[4], b[2];
    for (int k = 0; k < 4; k++)
        a[k] = PAIR8(v[2 * k], v[2 * k + 1], L8_LO4, L8_HI4);
    for (int k = 0; k < 2; k++)
        b[k] = PAIR8(a[2 * k], a[2 * k + 1], L8_LO2, L8_HI2);
    *out = PAIR8(b[0], b[1], L8_LO1, L8_HI1);
}
#endif

/* linear_forward in blocks of R rows by O outputs, R * O a multiple of
 * the lanes of vec, made for each vector type.
 * Not cblas_sgemm: what an output is must not depend on the rows around
 * it. OpenBLAS sums a product of few rows (a query alone) in another order
 * than the same rows among many (a batch), so a record's probabilities
 * would change with the records run with it. Here every output is the
 * same dot product wherever its row lies: lanes over i, the lanes added by
 * sums, then the last i % lanes terms in order; blocks at the edges repeat
 * the last row or output rather than take a path of their own. Reading W
 * in place (no packing) also makes one query's few rows fast. */
#define LINEAR_BLOCKS(name, vec, vec_in, sums, R, O)                                      \
    static inline __attribute__((always_inline)) void name(                              \
        float *out, const float *x, const float *w, const float *bias, size_t n, size_t i, \
        size_t o)                                                                        \
    {                                                                                    \
        const size_t lanes = sizeof(vec) / sizeof(float), iv = i - i % lanes;            \
        for (size_t r0 = 0; r0 < n; r0 += (R)) {                                         \
            const float *xr[R];                                                          \
            for (size_t a = 0; a < (R); a++)                                             \
                xr[a] = x + (r0 + a < n ? r0 + a : n - 1) * i;                           \
            for (size_t o0 = 0; o0 < o; o0 += (O)) {                                     \
                const float *wr[O];                                                      \
                for (size_t b = 0; b < (O); b++)                                         \
                    wr[b] = w + (o0 + b < o ? o0 + b : o - 1) * i;                       \
                vec acc[(R) * (O)], s;                                                   \
                for (size_t j = 0; j < (R) * (O); j++)                                   \
                    acc[j] = (vec){0};                                                   \
                for (size_t k = 0; k < iv; k += lanes)                                   \
                    for (size_t a = 0; a < (R); a++)                                     \
                        for (size_t b = 0; b < (O); b++)                                 \
                            acc[a * (O) + b] += *(const vec_in *)(xr[a] + k) *           \
                                                *(const vec_in *)(wr[b] + k);            \
                for (size_t g = 0; g < (R) * (O); g += lanes) {                          \
                    sums(&s, acc + g);                                                   \
                    for (size_t j = 0; j < lanes; j++) {                                 \
                        size_t a = (g + j) / (O), b = (g + j) % (O);                     \
                        if (r0 + a >= n || o0 + b >= o)                                  \
                            continue;                                                    \
                        float v = s[j];                                                  \
                        for (size_t k = iv; k < i; k++)                                  \
                            v += xr[a][k] * wr[b][k];                                    \
                        out[(r0 + a) * o + o0 + b] = bias[o0 + b] + v;                   \
                    }                                                                    \
                }                                                                        \
            }                                                                            \
        }                                                                                \
    }

/* 8 accumulators and the operands fill the 16 registers of SSE (4 floats
 * each) or AVX2 (8); 16 of 16 floats fit AVX-512's 32. */
LINEAR_BLOCKS(linear_blocks4, vec4, vec4_in, vec4_sums, 4, 2)

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
static inline __attribute__((always_inline)) void vec16_sums(vec16 *out, const vec16 *v)
{
    vec16 a[8], b[4], c[2];
    for (int k = 0; k < 8; k++)
        a[k] = PAIR16(v[2 * k], v[2 * k + 1], L16_LO8, L16_HI8);
    for (int k = 0; k < 4; k++)
        b[k] = PAIR16(a[2 * k], a[2 * k + 1], L16_LO4, L16_HI4);
    for (int k = 0; k < 2; k++)
        c[k] = PAIR16(b[2 * k], b[2 * k + 1], L16_LO2, L16_HI2);
    *out = PAIR16(c[0], c[1], L16_LO1, L16_HI1);
}

LINEAR_BLOCKS(linear_blocks8, vec8, vec8_in, vec8_sums, 4, 2)
LINEAR_BLOCKS(linear_blocks16, vec16, vec16_in, vec16_sums, 4, 4)

__attribute__((target("arch=x86-64-v4")))
static void linear_forward_v4(float *out, const float *x, const float *w, const float *bias,
                              size_t n, size_t i, size_t o)
{
    linear_blocks16(out, x, w, bias, n, i, o);
}

__attribute__((target("arch=x86-64-v3")))
static void linear_forward_v3(float *out, const float *x, const float *w, const float *bias,
                              size_t n, size_t i, size_t o)
{
    linear_blocks8(out, x, w, bias, n, i, o);
}
#endif

/* BASE's forward pass, one query a call: 1.2 times as fast as with
 * OpenBLAS; 32 queries a call: 0.97 times. */
void linear_forward(float *out, const float *x, const float *w, const float *bias,
                    size_t n, size_t i, size_t o)
{
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    if (__builtin_cpu_supports("x86-64-v4"))
        linear_forward_v4(out, x, w, bias, n, i, o);
    else if (__builtin_cpu_supports("x86-64-v3"))
        linear_forward_v3(out, x, w, bias, n, i, o);
    else
#endif
        linear_blocks4(out, x, w, bias, n, i, o);
}

/* matmul_bias_rows in blocks of R rows by V vectors of columns, made for
 * each vector type: a step over k adds a[r][k] times a vector of row k of
 * B to each accumulator. Columns past the last whole block, in order. */
#define MATMUL_BLOCKS(name, vec, vec_in, R, V)                                             \
    static inline __attribute__((always_inline)) void name(                               \
        float *out, const float *a, size_t lda, const float *bm, const float *bias,       \
        size_t m, size_t k, size_t n)                                                     \
    {                                                                                     \
        const size_t lanes = sizeof(vec) / sizeof(float), block = (V) * lanes;           \
        size_t j0 = 0;                                                                    \
        for (; j0 + block <= n; j0 += block)                                              \
            for (size_t r0 = 0; r0 < m; r0 += (R)) {                                      \
                const float *ar[R];                                                       \
                vec acc[(R) * (V)];                                                       \
                for (size_t r = 0; r < (R); r++) {                                        \
                    size_t at = r0 + r < m ? r0 + r : m - 1;                              \
                    ar[r] = a + at * lda;                                                 \
                    for (size_t v = 0; v < (V); v++)                                      \
                        acc[r * (V) + v] = (vec){0} + bias[at];                           \
                }                                                                         \
                for (size_t kk = 0; kk < k; kk++) {                                       \
                    vec bv[V];                                                            \
                    for (size_t v = 0; v < (V); v++)                                      \
                        bv[v] = *(const vec_in *)(bm + kk * n + j0 + v * lanes);          \
                    for (size_t r = 0; r < (R); r++)                                      \
                        for (size_t v = 0; v < (V); v++)                                  \
                            acc[r * (V) + v] += ar[r][kk] * bv[v];                        \
                }                                                                         \
                for (size_t r = 0; r < (R) && r0 + r < m; r++)                            \
                    for (size_t v = 0; v < (V); v++)                                      \
                        *(vec_in *)(out + (r0 + r) * n + j0 + v * lanes) = acc[r * (V) + v]; \
            }                                                                             \
        for (size_t r = 0; r < m && j0 < n; r++)                                          \
            for (size_t j = j0; j < n; j++) {                                             \
                float v = bias[r];                                                        \
                for (size_t kk = 0; kk < k; kk++)                                         \
                    v += a[r * lda + kk] * bm[kk * n + j];                                \
                out[r * n + j] = v;                                                       \
            }                                                                             \
    }

/* 8 accumulators for SSE and AVX2, 16 of 16 floats for AVX-512, as
 * linear_forward. */
MATMUL_BLOCKS(matmul_blocks4, vec4, vec4_in, 4, 2)

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
MATMUL_BLOCKS(matmul_blocks8, vec8, vec8_in, 4, 2)
MATMUL_BLOCKS(matmul_blocks16, vec16, vec16_in, 4, 4)

__attribute__((target("arch=x86-64-v4")))
static void matmul_bias_rows_v4(float *out, const float *a, size_t lda, const float *b,
                                const float *bias, size_t m, size_t k, size_t n)
{
    matmul_blocks16(out, a, lda, b, bias, m, k, n);
}

__attribute__((target("arch=x86-64-v3")))
static void matmul_bias_rows_v3(float *out, const float *a, size_t lda, const float *b,
                                const float *bias, size_t m, size_t k, size_t n)
{
    matmul_blocks8(out, a, lda, b, bias, m, k, n);
}
#endif

void matmul_bias_rows(float *out, const float *a, size_t lda, const float *b,
                      const float *bias, size_t m, size_t k, size_t n)
{
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    if (__builtin_cpu_supports("x86-64-v4"))
        matmul_bias_rows_v4(out, a, lda, b, bias, m, k, n);
    else if (__builtin_cpu_supports("x86-64-v3"))
        matmul_bias_rows_v3(out, a, lda, b, bias, m, k, n);
    else
#endif
        matmul_blocks4(out, a, lda, b, bias, m, k, n);
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

/* The scores in partial sums (row_dot): one sum in order was a chain of
 * dependent adds, 2 % of an int8 SMALL model's pnm-classify. */
PNM_SIMD_CLONES
void attn_pool_forward(float *pooled, float *alpha, const float *x, const float *q,
                       size_t n, size_t c)
{
    float max = -INFINITY;
    for (size_t r = 0; r < n; r++) {
        float s = row_dot(x + r * c, q, c);
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

PNM_SIMD_CLONES
void softmax_rows(float *probs, const float *logits, size_t n, size_t k)
{
    enum { LANES = 16 };
    size_t end = k / LANES * LANES;
    for (size_t r = 0; r < n; r++) {
        const float *l = logits + r * k;
        float *p = probs + r * k;
        float part[LANES], max = l[0], sum = 0;
        for (size_t j = 0; j < LANES; j++)
            part[j] = max;
        for (size_t i = 0; i < end; i += LANES)
            for (size_t j = 0; j < LANES; j++)
                part[j] = l[i + j] > part[j] ? l[i + j] : part[j];
        for (size_t j = 0; j < LANES; j++)
            max = part[j] > max ? part[j] : max;
        for (size_t i = end; i < k; i++)
            max = l[i] > max ? l[i] : max;
        for (size_t i = 0; i < k; i++)
            p[i] = pnm_exp2((l[i] - max) * PNM_LOG2_E);
        for (size_t j = 0; j < LANES; j++)
            part[j] = 0;
        for (size_t i = 0; i < end; i += LANES)
            for (size_t j = 0; j < LANES; j++)
                part[j] += p[i + j];
        for (size_t j = 0; j < LANES; j++)
            sum += part[j];
        for (size_t i = end; i < k; i++)
            sum += p[i];
        float inv = 1.0f / sum;
        for (size_t i = 0; i < k; i++)
            p[i] *= inv;
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
