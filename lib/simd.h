/* Function multi-versioning for the hot loops: a function marked
 * PNM_SIMD_CLONES is built for the portable x86-64 baseline and for AVX2 /
 * AVX-512, and the loader picks the variant the CPU runs (GCC); elsewhere
 * it is built once, plainly. */
#ifndef PNM_SIMD_H
#define PNM_SIMD_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PNM_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PNM_SIMD_CLONES
#endif

#endif
