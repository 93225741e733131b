/* Seeded random gene sets for the null baseline: the same sizes as the real queries, drawn
 * uniformly without replacement from a source's universe.
 *
 *     struct sgv_rng r;
 *     sgv_rng_seed(&r, 42, "hpo");              // one stream per (seed, source): order-independent
 *     sgv_sample(&r, pool, n_pool, 50, out);    // pool is shuffled in place; out gets 50 genes
 */
#ifndef SGV_NULLSET_H
#define SGV_NULLSET_H

#include <stddef.h>
#include <stdint.h>

struct sgv_rng {
    uint64_t s[4];
};

void sgv_rng_seed(struct sgv_rng *r, uint64_t seed, const char *stream);
uint64_t sgv_rng_next(struct sgv_rng *r);
/* Uniform integer in [0, n), without modulo bias. */
uint64_t sgv_rng_below(struct sgv_rng *r, uint64_t n);
/* Draws k distinct elements of pool (partial Fisher–Yates; pool is permuted) into out. */
void sgv_sample(struct sgv_rng *r, uint32_t *pool, size_t n_pool, size_t k, uint32_t *out);

#endif
