/* Function multi-versioning for the hot loops: a function marked
 * PNM_SIMD_CLONES is built for the portable x86-64 baseline and for
 * x86-64-v3 (AVX2, FMA) and x86-64-v4 (AVX-512), and the loader picks the
 * variant the CPU runs (GCC); elsewhere it is built once, plainly. The
 * Makefile lets these contract a * b + c into one FMA. */
#ifndef PNM_SIMD_H
#define PNM_SIMD_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PNM_SIMD_CLONES \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define PNM_SIMD_CLONES
#endif

#endif
