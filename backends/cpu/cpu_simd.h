/* Instruction-set dispatch and small vector-friendly helpers for the CPU kernels.
 *
 * The library is compiled for the baseline x86-64 so that it starts on any machine. Hot loops
 * are marked SG_CPU_CLONES: the compiler emits a baseline, an AVX2+FMA (x86-64-v3) and an
 * AVX-512 (x86-64-v4) version and the loader picks one per machine (ifunc). The helpers below
 * are always inlined (SG_CPU_INLINE), so they are compiled again inside each clone with its
 * instruction set.
 *
 *     SG_CPU_CLONES static void relu_rows(float *y, const float *x, int64_t n) { ... }
 *
 * Reductions use fixed lane arrays (SG_CPU_LANES partial sums) so that they vectorize without
 * -ffast-math; their rounding differs from a sequential sum only by reassociation.
 */
#ifndef SG_CPU_SIMD_H
#define SG_CPU_SIMD_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__ELF__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define SG_CPU_CLONES __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#endif
#endif
#ifndef SG_CPU_CLONES
#define SG_CPU_CLONES
#endif

#define SG_CPU_LANES 16

/* Helpers called from cloned functions must be inlined into them to get the clone's ISA. */
#define SG_CPU_INLINE static inline __attribute__((always_inline))

/* Lets a sibling hyper-thread or the other spinning threads run while we poll. */
static inline void sg_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

SG_CPU_INLINE float sg_cpu_bits_to_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* exp(x) within 1.5 ulp over the normal range, branch-free so loops calling it vectorize
 * (libm's expf is an opaque call). Below -87.33 it returns 0, above log(FLT_MAX) +inf.
 * The selects are kept flat (no nested ?:), which GCC needs to if-convert the loop. */
SG_CPU_INLINE float sg_cpu_expf(float x) {
    float xc = x < -87.33f ? -87.33f : x;
    xc       = xc > 88.7228f ? 88.7228f : xc;
    float n  = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round(x / ln 2) */
    float r  = xc - n * 0.693359375f;
    r        = r - n * -2.12194440e-4f;
    float p  = 1.9875691500e-4f;
    p        = p * r + 1.3981999507e-3f;
    p        = p * r + 8.3334519073e-3f;
    p        = p * r + 4.1665795894e-2f;
    p        = p * r + 1.6666665459e-1f;
    p        = p * r + 5.0000001201e-1f;
    p        = p * r * r + r + 1.0f;
    /* 2^n as exponent bits; n = 128 is reached through 2^127 * 2 */
    float h   = n > 0.0f ? 1.0f : 0.0f;
    int32_t e = (int32_t)(n - h);
    float y   = p * sg_cpu_bits_to_f32((uint32_t)(e + 127) << 23) * (1.0f + h);
    y         = x == x ? y : x;
    y         = x < -87.33f ? 0.0f : y;
    return x > 88.7228f ? INFINITY : y;
}

/* Exact widening conversions (no rounding involved), written so they vectorize. */
static inline float sg_cpu_bf16_to_f32(uint16_t h) { return sg_cpu_bits_to_f32((uint32_t)h << 16); }

static inline float sg_cpu_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t em   = h & 0x7fff;
    /* normal and subnormal: shift into place and rescale by 2^112; Inf/NaN: force exponent */
    float f = sg_cpu_bits_to_f32(em << 13) * 0x1p112f;
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    u = em >= 0x7c00 ? (0x7f800000u | (em & 0x3ff) << 13) : u;
    return sg_cpu_bits_to_f32(u | sign);
}

/* Round to nearest even, NaN kept quiet: bit-identical to core/types.c's sg_f32_to_bf16. */
SG_CPU_INLINE uint16_t sg_cpu_f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    uint32_t r = (u + 0x7fffu + ((u >> 16) & 1)) >> 16;
    return (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? (u >> 16) | 0x40 : r);
}

SG_CPU_INLINE float sg_cpu_dot_f32(int64_t n, const float *x, const float *y) {
    float acc[SG_CPU_LANES] = {0};
    int64_t i               = 0;
    for (; i + SG_CPU_LANES <= n; i += SG_CPU_LANES)
        for (int l = 0; l < SG_CPU_LANES; l++) acc[l] += x[i + l] * y[i + l];
    float s = 0.0f;
    for (; i < n; i++) s += x[i] * y[i];
    for (int l = 0; l < SG_CPU_LANES; l++) s += acc[l];
    return s;
}

SG_CPU_INLINE float sg_cpu_sum_f32(int64_t n, const float *x) {
    float acc[SG_CPU_LANES] = {0};
    int64_t i               = 0;
    for (; i + SG_CPU_LANES <= n; i += SG_CPU_LANES)
        for (int l = 0; l < SG_CPU_LANES; l++) acc[l] += x[i + l];
    float s = 0.0f;
    for (; i < n; i++) s += x[i];
    for (int l = 0; l < SG_CPU_LANES; l++) s += acc[l];
    return s;
}

/* Maximum of x[0..n); -INFINITY for n == 0. NaNs are ignored unless every value is NaN. */
SG_CPU_INLINE float sg_cpu_max_f32(int64_t n, const float *x) {
    float acc[SG_CPU_LANES];
    for (int l = 0; l < SG_CPU_LANES; l++) acc[l] = -INFINITY;
    int64_t i = 0;
    for (; i + SG_CPU_LANES <= n; i += SG_CPU_LANES)
        for (int l = 0; l < SG_CPU_LANES; l++) acc[l] = x[i + l] > acc[l] ? x[i + l] : acc[l];
    float m = -INFINITY;
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    for (int l = 0; l < SG_CPU_LANES; l++) m = acc[l] > m ? acc[l] : m;
    return m;
}

/* y += a * x */
SG_CPU_INLINE void sg_cpu_axpy_f32(int64_t n, float a, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

#endif
