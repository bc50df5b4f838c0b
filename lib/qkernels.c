#include "qkernels.h"

#include <stdbool.h>
#include <string.h>

#include "gelu.h"
#include "simd.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define PNM_X86 1
#include <immintrin.h>
#endif

#define INLINE static inline __attribute__((always_inline))

/* ---- portable ------------------------------------------------------------ */

/* One output row at a time, the columns innermost so that the compiler
 * vectorises over them; a_signed picks the flavour (a constant after
 * inlining). */
INLINE void gemm_body(int32_t *c, size_t ldc, const void *a, size_t lda, const uint8_t *b,
                      size_t rows, size_t n, size_t k, bool a_signed)
{
    const uint8_t *ab = a;
    for (size_t r = 0; r < rows; r++) {
        int32_t *cr = c + r * ldc;
        memset(cr, 0, n * sizeof *cr);
        for (size_t g = 0; g < k / 4; g++) {
            const uint8_t *ar = ab + r * lda + 4 * g, *bg = b + g * n * 4;
            int32_t a0, a1, a2, a3;
            if (a_signed)
                a0 = (int8_t)ar[0], a1 = (int8_t)ar[1], a2 = (int8_t)ar[2], a3 = (int8_t)ar[3];
            else
                a0 = ar[0], a1 = ar[1], a2 = ar[2], a3 = ar[3];
            for (size_t j = 0; j < n; j++) {
                const uint8_t *q = bg + 4 * j;
                if (a_signed)
                    cr[j] += a0 * q[0] + a1 * q[1] + a2 * q[2] + a3 * q[3];
                else
                    cr[j] += a0 * (int8_t)q[0] + a1 * (int8_t)q[1] + a2 * (int8_t)q[2] +
                             a3 * (int8_t)q[3];
            }
        }
    }
}

INLINE void gather_body(int32_t *out, const int8_t *table, const uint16_t *idx, size_t n,
                        size_t c)
{
    for (size_t i = 0; i < n; i++) {
        const int8_t *row = table + (size_t)idx[i] * c;
        for (size_t j = 0; j < c; j++)
            out[j] += row[j];
    }
}

static void gemm_su_portable(int32_t *c, size_t ldc, const void *a, size_t lda,
                             const uint8_t *b, size_t rows, size_t n, size_t k)
{
    gemm_body(c, ldc, a, lda, b, rows, n, k, true);
}

static void gemm_us_portable(int32_t *c, size_t ldc, const void *a, size_t lda,
                             const uint8_t *b, size_t rows, size_t n, size_t k)
{
    gemm_body(c, ldc, a, lda, b, rows, n, k, false);
}

/* The portable gather, built for a target (empty: the compiler's default),
 * which vectorises it. */
#define GATHER(suffix, attr)                                                                \
    attr static void gather_##suffix(int32_t *out, const int8_t *table, const uint16_t *idx, \
                                     size_t n, size_t c)                                    \
    {                                                                                       \
        gather_body(out, table, idx, n, c);                                                 \
    }

GATHER(portable, )

/* The GELU passes in C (qkernels.h gives the contract), built for each
 * PNM_SIMD_CLONES target: the reference the intrinsics are held to, and
 * what the AVX2 and portable sets run. */
PNM_SIMD_CLONES
static void gelu_rows_c(float *out, float *max, const int32_t *acc, size_t ldc,
                        const int32_t *comp, const float *wscale, const float *ascale,
                        const float *bias, size_t rows, size_t n)
{
    for (size_t r = 0; r < rows; r++) {
        const int32_t *a = acc + r * ldc;
        float *o = out + r * n, ws = wscale[r], bi = bias[r];
        int32_t cr = comp[r];
        for (size_t j = 0; j < n; j++) {
            float g = pnm_gelu((float)(a[j] - cr) * (ws * ascale[j]) + bi);
            o[j] = g;
            max[j] = pnm_max_abs(max[j], g);
        }
    }
}

PNM_SIMD_CLONES
static void gelu_columns_c(float *out, float *max, const int32_t *acc, size_t ldc,
                           const int32_t *comp, const float *wscale, const float *ascale,
                           const float *bias, size_t rows, size_t n)
{
    (void)max;
    for (size_t r = 0; r < rows; r++) {
        const int32_t *a = acc + r * ldc;
        float *o = out + r * n, as = ascale[r];
        for (size_t j = 0; j < n; j++)
            o[j] = pnm_gelu((float)(a[j] - comp[j]) * (as * wscale[j]) + bias[j]);
    }
}

static const pnm_qkernels portable = {"portable",      gemm_su_portable, gemm_us_portable,
                                      gather_portable, gelu_rows_c,      gelu_columns_c};

#ifdef PNM_X86

/* A hand-written product's row blocking and both flavours: rows in blocks
 * of block through gemm_rows_ISA, the rest one at a time. */
#define GEMM_FLAVOURS(isa, attr, block)                                                      \
    attr INLINE void gemm_##isa(int32_t *c, size_t ldc, const void *a, size_t lda,           \
                                const uint8_t *b, size_t rows, size_t n, size_t k,            \
                                bool a_signed)                                                \
    {                                                                                         \
        const uint8_t *ab = a;                                                                \
        size_t r = 0;                                                                         \
        for (; r + block <= rows; r += block)                                                 \
            gemm_rows_##isa(c + r * ldc, ldc, ab + r * lda, lda, b, n, k, a_signed, block);   \
        for (; r < rows; r++)                                                                 \
            gemm_rows_##isa(c + r * ldc, ldc, ab + r * lda, lda, b, n, k, a_signed, 1);       \
    }                                                                                         \
    attr static void gemm_su_##isa(int32_t *c, size_t ldc, const void *a, size_t lda,        \
                                   const uint8_t *b, size_t rows, size_t n, size_t k)         \
    {                                                                                         \
        gemm_##isa(c, ldc, a, lda, b, rows, n, k, true);                                      \
    }                                                                                         \
    attr static void gemm_us_##isa(int32_t *c, size_t ldc, const void *a, size_t lda,        \
                                   const uint8_t *b, size_t rows, size_t n, size_t k)         \
    {                                                                                         \
        gemm_##isa(c, ldc, a, lda, b, rows, n, k, false);                                     \
    }

/* Both GELU passes (qkernels.h) for an instruction set, `width` columns at
 * a time down all the rows, so that the columns' scales (and by column the
 * weights' terms) and maxima stay in registers. Each set gives, with the
 * suffix isa: fvec, ivec and mask types; tail_isa(j, n), the lanes of
 * columns j.. of n; loadf_isa, loadi_isa (p, mask) and storef_isa (p,
 * mask, v), which touch only those lanes (loads give 0 elsewhere); set1f
 * and set1i; max_abs_isa(m, v), the larger of m and |v|; and
 * dequant_gelu_isa(a, c, s, t, bias) = GELU((a - c) (s t) + bias). */
#define GELU_PASSES(isa, attr, width)                                                        \
    attr static void gelu_rows_##isa(float *out, float *max, const int32_t *acc, size_t ldc, \
                                     const int32_t *comp, const float *wscale,                \
                                     const float *ascale, const float *bias, size_t rows,     \
                                     size_t n)                                                \
    {                                                                                         \
        for (size_t j = 0; j < n; j += width) {                                               \
            mask_##isa m = tail_##isa(j, n);                                                  \
            fvec_##isa as = loadf_##isa(ascale + j, m), mx = loadf_##isa(max + j, m);         \
            for (size_t r = 0; r < rows; r++) {                                               \
                fvec_##isa g = dequant_gelu_##isa(loadi_##isa(acc + r * ldc + j, m),          \
                                                  set1i_##isa(comp[r]),                       \
                                                  set1f_##isa(wscale[r]), as,                 \
                                                  set1f_##isa(bias[r]));                      \
                storef_##isa(out + r * n + j, m, g);                                          \
                mx = max_abs_##isa(mx, g);                                                    \
            }                                                                                 \
            storef_##isa(max + j, m, mx);                                                     \
        }                                                                                     \
    }                                                                                         \
    attr static void gelu_columns_##isa(float *out, float *max, const int32_t *acc,          \
                                        size_t ldc, const int32_t *comp, const float *wscale, \
                                        const float *ascale, const float *bias, size_t rows,  \
                                        size_t n)                                             \
    {                                                                                         \
        (void)max;                                                                            \
        for (size_t j = 0; j < n; j += width) {                                               \
            mask_##isa m = tail_##isa(j, n);                                                  \
            ivec_##isa c = loadi_##isa(comp + j, m);                                          \
            fvec_##isa ws = loadf_##isa(wscale + j, m), bi = loadf_##isa(bias + j, m);        \
            for (size_t r = 0; r < rows; r++)                                                 \
                storef_##isa(out + r * n + j, m,                                              \
                             dequant_gelu_##isa(loadi_##isa(acc + r * ldc + j, m), c,         \
                                                set1f_##isa(ascale[r]), ws, bi));             \
        }                                                                                     \
    }

/* ---- AVX2 ------------------------------------------------------------------ */

/* The portable gather, built for AVX2; the product by hand below. */
GATHER(avx2, __attribute__((target("avx2"))))

#define AVX2 __attribute__((target("avx2")))

/* AVX2 has no vpdpbusd, and vpmaddubsw saturates (two products of 255 x 127
 * pass int16), so bytes are widened to int16 and multiplied by vpmaddwd,
 * exactly: each int32 lane gets 2 of a column's 4 products, and the two
 * lanes of a column are added once, at the end. 4 bytes of a as int16. */
AVX2 INLINE __m256i broadcast4_16(const uint8_t *p, bool is_signed)
{
    uint64_t v = 0;
    for (int q = 0; q < 4; q++)
        v |= (uint64_t)(uint16_t)(is_signed ? (int16_t)(int8_t)p[q] : (int16_t)p[q]) << (16 * q);
    return _mm256_set1_epi64x((long long)v);
}

AVX2 INLINE __m256i widen16(const uint8_t *p, bool is_signed)
{
    __m128i v = _mm_loadu_si128((const void *)p);
    return is_signed ? _mm256_cvtepi8_epi16(v) : _mm256_cvtepu8_epi16(v);
}

/* NR rows (1 or 2) of c from row r, 16 columns at a time: 4 registers of
 * 4 columns x 2 partial sums per row. */
AVX2 INLINE void gemm_rows_avx2(int32_t *c, size_t ldc, const uint8_t *a, size_t lda,
                                const uint8_t *b, size_t n, size_t k, bool a_signed, int nr)
{
    for (size_t j = 0; j < n; j += 16) {
        __m256i acc[2][4];
        for (int i = 0; i < nr; i++)
            for (int v = 0; v < 4; v++)
                acc[i][v] = _mm256_setzero_si256();
        for (size_t g = 0; g < k / 4; g++) {
            const uint8_t *bg = b + (g * n + j) * 4;
            __m256i bv[4];
            for (int v = 0; v < 4; v++)
                bv[v] = widen16(bg + 16 * v, !a_signed);
            for (int i = 0; i < nr; i++) {
                __m256i av = broadcast4_16(a + i * lda + 4 * g, a_signed);
                for (int v = 0; v < 4; v++)
                    acc[i][v] = _mm256_add_epi32(acc[i][v], _mm256_madd_epi16(av, bv[v]));
            }
        }
        /* hadd of columns 0-3 and 4-7 gives 0 1 4 5 | 2 3 6 7. */
        for (int i = 0; i < nr; i++)
            for (int h = 0; h < 2; h++) {
                __m256i sum = _mm256_hadd_epi32(acc[i][2 * h], acc[i][2 * h + 1]);
                _mm256_storeu_si256((void *)(c + i * ldc + j + 8 * h),
                                    _mm256_permute4x64_epi64(sum, 0xD8));
            }
    }
}

GEMM_FLAVOURS(avx2, AVX2, 2)

#define AVX2_FMA __attribute__((target("avx2,fma")))

/* GELU of 8 values as pnm_gelu computes it, operation for operation and
 * so to the bit (the clamps included), with vroundps for the rounding:
 * three times as fast as GCC's AVX2 build of the C, which goes through
 * blends for the clamps (0.5 against 1.7 ns a value on Zen 4). */
AVX2_FMA INLINE __m256 gelu_avx2(__m256 x)
{
    __m256 y = _mm256_mul_ps(
        x, _mm256_fmadd_ps(_mm256_set1_ps(PNM_GELU_Y3), _mm256_mul_ps(x, x),
                           _mm256_set1_ps(PNM_GELU_Y1)));
    y = _mm256_max_ps(_mm256_min_ps(y, _mm256_set1_ps(125.0f)), _mm256_set1_ps(-125.0f));
    __m256 r = _mm256_round_ps(y, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 f = _mm256_sub_ps(y, r);
    __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(PNM_EXP2_C6), f, _mm256_set1_ps(PNM_EXP2_C5));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(PNM_EXP2_C4));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(PNM_EXP2_C3));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(PNM_EXP2_C2));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(PNM_EXP2_C1));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
    __m256i exp = _mm256_slli_epi32(_mm256_cvtps_epi32(r), 23);
    __m256 e = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), exp));
    return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

typedef __m256 fvec_avx2;
typedef __m256i ivec_avx2;
/* The lanes used (all ones there), and whether that is all 8: vmaskmovps
 * is slow (on Zen 4 it made the pass twice as long), so only the last
 * columns go through it. */
typedef struct mask_avx2 {
    __m256i lanes;
    bool all;
} mask_avx2;

AVX2_FMA INLINE mask_avx2 tail_avx2(size_t j, size_t n)
{
    int left = n - j >= 8 ? 8 : (int)(n - j);
    __m256i lanes =
        _mm256_cmpgt_epi32(_mm256_set1_epi32(left), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return (mask_avx2){lanes, left == 8};
}

AVX2_FMA INLINE fvec_avx2 loadf_avx2(const float *p, mask_avx2 m)
{
    return m.all ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m.lanes);
}

AVX2_FMA INLINE ivec_avx2 loadi_avx2(const int32_t *p, mask_avx2 m)
{
    return m.all ? _mm256_loadu_si256((const void *)p) : _mm256_maskload_epi32(p, m.lanes);
}

AVX2_FMA INLINE void storef_avx2(float *p, mask_avx2 m, fvec_avx2 v)
{
    if (m.all)
        _mm256_storeu_ps(p, v);
    else
        _mm256_maskstore_ps(p, m.lanes, v);
}

#define set1f_avx2 _mm256_set1_ps
#define set1i_avx2 _mm256_set1_epi32

AVX2_FMA INLINE fvec_avx2 max_abs_avx2(fvec_avx2 m, fvec_avx2 v)
{
    v = _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF)));
    return _mm256_max_ps(v, m);
}

AVX2_FMA INLINE fvec_avx2 dequant_gelu_avx2(ivec_avx2 a, ivec_avx2 c, fvec_avx2 s, fvec_avx2 t,
                                           fvec_avx2 bias)
{
    fvec_avx2 h = _mm256_cvtepi32_ps(_mm256_sub_epi32(a, c));
    return gelu_avx2(_mm256_fmadd_ps(h, _mm256_mul_ps(s, t), bias));
}

GELU_PASSES(avx2, AVX2_FMA, 8)

static const pnm_qkernels avx2 = {"avx2",      gemm_su_avx2,   gemm_us_avx2,
                                  gather_avx2, gelu_rows_avx2, gelu_columns_avx2};

/* ---- AVX-512 --------------------------------------------------------------- */

/* AVX-512F alone: the GELU passes of the avx512vnni set, and of the avx512
 * set (a processor with AVX-512 but not VNNI, Skylake-SP for one: the AVX2
 * products and gather, the GELU 16 values a vector). */
#define AVX512 __attribute__((target("avx512f")))

/* GELU of 16 values as pnm_gelu computes it, operation for operation, but
 * for 2^y: vrndscaleps rounds y (the C adds and takes away 1.5 * 2^23) and
 * vscalefps puts round(y) into the exponent, where the C adds it to the
 * bits and so must clamp y first (vscalefps overflows to inf and
 * underflows to 0 by itself, and x / (1 + e) is then -0 or x). Five
 * operations of some twenty fewer: the pass was a third of pnm-classify. */
AVX512 INLINE __m512 gelu_avx512(__m512 x)
{
    __m512 y = _mm512_mul_ps(
        x, _mm512_fmadd_ps(_mm512_set1_ps(PNM_GELU_Y3), _mm512_mul_ps(x, x),
                           _mm512_set1_ps(PNM_GELU_Y1)));
    __m512 r = _mm512_roundscale_ps(y, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 f = _mm512_sub_ps(y, r);
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(PNM_EXP2_C6), f, _mm512_set1_ps(PNM_EXP2_C5));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(PNM_EXP2_C4));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(PNM_EXP2_C3));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(PNM_EXP2_C2));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(PNM_EXP2_C1));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
    __m512 e = _mm512_scalef_ps(p, r);
    return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

typedef __m512 fvec_avx512;
typedef __m512i ivec_avx512;
typedef __mmask16 mask_avx512;

AVX512 INLINE mask_avx512 tail_avx512(size_t j, size_t n)
{
    return n - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - j)) - 1);
}

#define loadf_avx512(p, m) _mm512_maskz_loadu_ps(m, p)
#define loadi_avx512(p, m) _mm512_maskz_loadu_epi32(m, p)
#define storef_avx512 _mm512_mask_storeu_ps
#define set1f_avx512 _mm512_set1_ps
#define set1i_avx512 _mm512_set1_epi32

AVX512 INLINE fvec_avx512 max_abs_avx512(fvec_avx512 m, fvec_avx512 v)
{
    return _mm512_max_ps(_mm512_abs_ps(v), m);
}

AVX512 INLINE fvec_avx512 dequant_gelu_avx512(ivec_avx512 a, ivec_avx512 c, fvec_avx512 s,
                                             fvec_avx512 t, fvec_avx512 bias)
{
    fvec_avx512 h = _mm512_cvtepi32_ps(_mm512_sub_epi32(a, c));
    return gelu_avx512(_mm512_fmadd_ps(h, _mm512_mul_ps(s, t), bias));
}

GELU_PASSES(avx512, AVX512, 16)

static const pnm_qkernels avx512 = {"avx512",    gemm_su_avx2,     gemm_us_avx2,
                                    gather_avx2, gelu_rows_avx512, gelu_columns_avx512};

/* ---- AVX-512 VNNI -------------------------------------------------------- */

#define VNNI __attribute__((target("avx512f,avx512bw,avx512vnni,fma")))

/* acc += the 4-byte dot products of a and b, whichever holds the unsigned
 * bytes (vpdpbusd takes them first). */
VNNI INLINE __m512i dot4(__m512i acc, __m512i a, __m512i b, bool a_signed)
{
    return a_signed ? _mm512_dpbusd_epi32(acc, b, a) : _mm512_dpbusd_epi32(acc, a, b);
}

VNNI INLINE __m512i broadcast4(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

/* NR rows (1 to 4) of c from row r: 4 x NR accumulators over 64 columns,
 * so that each load of b serves NR rows and each broadcast of a 4 vectors. */
VNNI INLINE void gemm_rows_vnni(int32_t *c, size_t ldc, const uint8_t *a, size_t lda,
                                const uint8_t *b, size_t n, size_t k, bool a_signed, int nr)
{
    size_t j = 0;
    for (; j + 64 <= n; j += 64) {
        __m512i acc[4][4];
        for (int i = 0; i < nr; i++)
            for (int v = 0; v < 4; v++)
                acc[i][v] = _mm512_setzero_si512();
        for (size_t g = 0; g < k / 4; g++) {
            const uint8_t *bg = b + (g * n + j) * 4;
            __m512i bv[4];
            for (int v = 0; v < 4; v++)
                bv[v] = _mm512_loadu_si512(bg + 64 * v);
            for (int i = 0; i < nr; i++) {
                __m512i av = broadcast4(a + i * lda + 4 * g);
                for (int v = 0; v < 4; v++)
                    acc[i][v] = dot4(acc[i][v], av, bv[v], a_signed);
            }
        }
        for (int i = 0; i < nr; i++)
            for (int v = 0; v < 4; v++)
                _mm512_storeu_si512(c + i * ldc + j + 16 * v, acc[i][v]);
    }
    for (; j < n; j += 16) {
        __m512i acc[4];
        for (int i = 0; i < nr; i++)
            acc[i] = _mm512_setzero_si512();
        for (size_t g = 0; g < k / 4; g++) {
            __m512i bv = _mm512_loadu_si512(b + (g * n + j) * 4);
            for (int i = 0; i < nr; i++)
                acc[i] = dot4(acc[i], broadcast4(a + i * lda + 4 * g), bv, a_signed);
        }
        for (int i = 0; i < nr; i++)
            _mm512_storeu_si512(c + i * ldc + j, acc[i]);
    }
}

GEMM_FLAVOURS(vnni, VNNI, 4)

/* Rows are summed 32 columns a register in int16, twice as many as in
 * int32, 256 rows at most at a time (their sums lie in -32768..32512, which
 * int16 holds), then widened into the int32 output: the same exact sums.
 * Up to 128 columns (4 registers) stay in registers across a chunk of
 * rows, then 64 (x-small's b: one pass over the rows, not two), then 32;
 * the last columns (fewer than 32) go one by one. */
/* Columns j.. j + 32 nv of rows idx[i0..i1) into out (nv a constant after
 * inlining, so that the accumulators stay in registers). */
VNNI INLINE void gather_block_vnni(int32_t *out, const int8_t *table, const uint16_t *idx,
                                   size_t i0, size_t i1, size_t c, size_t j, int nv)
{
    __m512i acc[4];
    for (int v = 0; v < nv; v++)
        acc[v] = _mm512_setzero_si512();
    for (size_t i = i0; i < i1; i++) {
        const int8_t *row = table + (size_t)idx[i] * c + j;
        for (int v = 0; v < nv; v++)
            acc[v] = _mm512_add_epi16(
                acc[v], _mm512_cvtepi8_epi16(_mm256_loadu_si256((const void *)(row + 32 * v))));
    }
    for (int v = 0; v < nv; v++) {
        int32_t *o = out + j + 32 * v;
        __m512i lo = _mm512_cvtepi16_epi32(_mm512_castsi512_si256(acc[v]));
        __m512i hi = _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(acc[v], 1));
        _mm512_storeu_si512(o, _mm512_add_epi32(_mm512_loadu_si512(o), lo));
        _mm512_storeu_si512(o + 16, _mm512_add_epi32(_mm512_loadu_si512(o + 16), hi));
    }
}

VNNI static void gather_vnni(int32_t *out, const int8_t *table, const uint16_t *idx, size_t n,
                             size_t c)
{
    for (size_t i0 = 0; i0 < n; i0 += 256) {
        size_t i1 = n - i0 < 256 ? n : i0 + 256, j = 0;
        for (; j + 128 <= c; j += 128)
            gather_block_vnni(out, table, idx, i0, i1, c, j, 4);
        for (; j + 64 <= c; j += 64)
            gather_block_vnni(out, table, idx, i0, i1, c, j, 2);
        for (; j + 32 <= c; j += 32)
            gather_block_vnni(out, table, idx, i0, i1, c, j, 1);
        for (size_t i = i0; i < i1 && j < c; i++) {
            const int8_t *row = table + (size_t)idx[i] * c;
            for (size_t t = j; t < c; t++)
                out[t] += row[t];
        }
    }
}


static const pnm_qkernels vnni = {"avx512vnni", gemm_su_vnni,     gemm_us_vnni,
                                  gather_vnni,  gelu_rows_avx512, gelu_columns_avx512};

#endif /* PNM_X86 */

/* ---- choice -------------------------------------------------------------- */

const pnm_qkernels *pnm_qkernels_find(const char *name)
{
#ifdef PNM_X86
    __builtin_cpu_init();
    if (strcmp(name, vnni.name) == 0)
        return __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw")
                   ? &vnni : NULL;
    if (strcmp(name, avx512.name) == 0)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") ? &avx512
                                                                                  : NULL;
    if (strcmp(name, avx2.name) == 0)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? &avx2 : NULL;
#endif
    return strcmp(name, portable.name) == 0 ? &portable : NULL;
}

const pnm_qkernels *pnm_qkernels_best(void)
{
    const pnm_qkernels *k = pnm_qkernels_find("avx512vnni");
    if (!k)
        k = pnm_qkernels_find("avx512");
    if (!k)
        k = pnm_qkernels_find("avx2");
    return k ? k : &portable;
}
