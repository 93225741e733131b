/* The shuffle pool between an activation source and the trainer. It holds `cap` tokens; after a
 * refill it shuffles them and serves about half the pool as batches, keeping the other half to
 * mix with the next refill, so consecutive batches do not come from the same few cells
 * (SAELens's mixing buffer). Served rows are gathered through a permutation: nothing moves in
 * the pool but the new rows written into the freed slots.
 *
 *     struct sg_pool *p;
 *     sg_pool_new(src, 8 * 4096, 4096, seed, &p);
 *     sg_pool_next(p, batch_rows);                 // 4096 rows of src->d floats
 *
 * Its whole state (rows, permutation, cursor, generator) goes into checkpoints.
 */
#ifndef SG_PIPELINE_POOL_H
#define SG_PIPELINE_POOL_H

#include "models/sae_rng.h"
#include "pipeline/act_source.h"

struct sg_pool {
    struct sg_act_source *src; /* borrowed */
    int64_t d, cap, batch;
    int64_t serve;  /* rows served per refill: whole batches, about cap / 2 */
    int64_t cursor; /* rows of the current permutation served */
    bool filled;    /* the first fill has happened */
    float *rows;    /* [cap][d] */
    int32_t *perm;  /* [cap] */
    struct sg_rng rng;
};

/* cap >= 2 * batch. */
sg_status sg_pool_new(struct sg_act_source *src, int64_t cap, int64_t batch, uint64_t seed, struct sg_pool **out);
void sg_pool_free(struct sg_pool *p);
/* Fills the pool if it never was (and shuffles); then the rows of the first batch are readable
 * in p->rows. Used to estimate the input scale before training. */
sg_status sg_pool_prime(struct sg_pool *p);
/* The next batch of p->batch rows into dst, refilling when half the pool has been served. */
sg_status sg_pool_next(struct sg_pool *p, float *dst);

#endif
