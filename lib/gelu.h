/* GELU, tanh form, and the 2^y under it, as inline functions: the float
 * layers (layers.c) and the int8 forward (qforward.c) run GELU inside their
 * own loops (fused with what else touches the values) and get the same
 * numbers; inference's softmax (softmax_rows, layers.h) uses the 2^y. */
#ifndef PNM_GELU_H
#define PNM_GELU_H

#include <stdint.h>
#include <string.h>

#define PNM_GELU_K 0.7978845608028654f /* sqrt(2/pi) */
#define PNM_GELU_C 0.044715f
#define PNM_LOG2_E 1.4426950408889634f
/* GELU's y = -2 log2(e) u = x (PNM_GELU_Y1 + PNM_GELU_Y3 x^2). */
#define PNM_GELU_Y1 (-2.0f * PNM_LOG2_E * PNM_GELU_K)
#define PNM_GELU_Y3 (-2.0f * PNM_LOG2_E * PNM_GELU_K * PNM_GELU_C)
/* Cephes' exp2f polynomial, 2^f for |f| <= 1/2: 1 + C1 f + ... + C6 f^6.
 * Named so that the int8 kernels' intrinsics (qkernels.c) evaluate the
 * same polynomial in the same order and get the same bits. */
#define PNM_EXP2_C6 1.535336188319500e-4f
#define PNM_EXP2_C5 1.339887440266574e-3f
#define PNM_EXP2_C4 9.618437357674640e-3f
#define PNM_EXP2_C3 5.550332471162809e-2f
#define PNM_EXP2_C2 2.402264791363012e-1f
#define PNM_EXP2_C1 6.931472028550421e-1f

/* 2^y, for GELU and softmax. GELU's tanh form is x sigmoid(2u), u = k (x +
 * c x^3): x / (1 + e) with e = exp(-2u) = 2^y, y = -2 log2(e) u. 2^y is
 * 2^round(y) (put into the exponent bits) times 2^f, |f| <= 1/2, by Cephes'
 * exp2f polynomial; y is clamped where e is 0 or infinite in effect. No branch, no libm call: the
 * loops vectorise. Largest error of GELU against the exact tanh form over
 * [-20, 20]: 1.1e-7 (absolute, relative above 1; measured); 1.35 times as
 * fast as with tanh as the rational function Eigen uses (error 6.6e-7).
 * GELU was a fifth of the inference time: token mixing runs it on h_t x b
 * values per example whatever its length. */
static inline float pnm_exp2(float y)
{
    y = y < 125.0f ? y : 125.0f;
    y = y > -125.0f ? y : -125.0f;
    const float round = 12582912.0f; /* 1.5 * 2^23: y + round is y rounded */
    float t = y + round, f = y - (t - round);
    float p = PNM_EXP2_C6;
    p = p * f + PNM_EXP2_C5;
    p = p * f + PNM_EXP2_C4;
    p = p * f + PNM_EXP2_C3;
    p = p * f + PNM_EXP2_C2;
    p = p * f + PNM_EXP2_C1;
    p = p * f + 1.0f;
    /* The integer round(y) is in t's low mantissa bits. */
    int32_t tb, pb;
    memcpy(&tb, &t, sizeof tb);
    memcpy(&pb, &p, sizeof pb);
    pb += (int32_t)((uint32_t)(tb - 0x4B400000) << 23);
    memcpy(&p, &pb, sizeof p);
    return p;
}

/* GELU's e = exp(-2u) of x. */
static inline float pnm_gelu_exp(float x)
{
    return pnm_exp2(x * (PNM_GELU_Y1 + PNM_GELU_Y3 * (x * x)));
}

/* GELU(x) = x sigmoid(2u) = x / (1 + e). */
static inline float pnm_gelu(float x)
{
    return x / (1.0f + pnm_gelu_exp(x));
}

#endif
