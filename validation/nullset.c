#include "validation/nullset.h"

#include <string.h>

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z          = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z          = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void sgv_rng_seed(struct sgv_rng *r, uint64_t seed, const char *stream) {
    uint64_t x = seed;
    for (const char *p = stream ? stream : ""; *p; p++) x = (x ^ (unsigned char)*p) * 1099511628211ull;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix(&x);
}

static uint64_t rotl(uint64_t v, int k) { return (v << k) | (v >> (64 - k)); }

uint64_t sgv_rng_next(struct sgv_rng *r) { /* xoshiro256** */
    uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

uint64_t sgv_rng_below(struct sgv_rng *r, uint64_t n) {
    if (n <= 1) return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n, v;
    do v = sgv_rng_next(r);
    while (v >= limit);
    return v % n;
}

void sgv_sample(struct sgv_rng *r, uint32_t *pool, size_t n_pool, size_t k, uint32_t *out) {
    if (k > n_pool) k = n_pool;
    for (size_t i = 0; i < k; i++) {
        size_t j   = i + (size_t)sgv_rng_below(r, n_pool - i);
        uint32_t t = pool[i];
        pool[i]    = pool[j];
        pool[j]    = t;
        out[i]     = pool[i];
    }
}
