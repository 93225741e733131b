/* A small seeded generator (xoshiro256**) for SAE initialisation, shuffling and evaluation
 * masks. Its whole state is four words, so checkpoints store it and a resumed run draws the
 * same numbers as an uninterrupted one.
 *
 *     struct sg_rng r;
 *     sg_rng_seed(&r, 42);
 *     double u = sg_rng_uniform(&r);          // [0, 1)
 *     uint64_t i = sg_rng_below(&r, n);       // [0, n)
 */
#ifndef SG_MODELS_SAE_RNG_H
#define SG_MODELS_SAE_RNG_H

#include <math.h>
#include <stdint.h>

struct sg_rng {
    uint64_t s[4];
};

static inline uint64_t sg_rng_splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z          = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z          = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline void sg_rng_seed(struct sg_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = sg_rng_splitmix(&seed);
}

static inline uint64_t sg_rng_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t sg_rng_next(struct sg_rng *r) {
    uint64_t *s  = r->s;
    uint64_t out = sg_rng_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = sg_rng_rotl(s[3], 45);
    return out;
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double sg_rng_uniform(struct sg_rng *r) { return (double)(sg_rng_next(r) >> 11) * 0x1.0p-53; }

/* Uniform integer in [0, n) (n > 0), without modulo bias (rejection). */
static inline uint64_t sg_rng_below(struct sg_rng *r, uint64_t n) {
    if (n == 0) return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = sg_rng_next(r);
    while (x >= limit);
    return x % n;
}

/* Standard normal (Box-Muller; one value per call keeps the state a plain 4-word array). */
static inline double sg_rng_normal(struct sg_rng *r) {
    double u1 = sg_rng_uniform(r), u2 = sg_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

#endif
