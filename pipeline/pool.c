#include "pipeline/pool.h"

#include <stdlib.h>
#include <string.h>

sg_status sg_pool_new(struct sg_act_source *src, int64_t cap, int64_t batch, uint64_t seed, struct sg_pool **out) {
    *out = NULL;
    if (batch < 1 || cap < 2 * batch)
        return sg_error(SG_ERR_INVALID_ARG, "shuffle pool of %lld tokens must hold at least two batches of %lld",
                        (long long)cap, (long long)batch);
    if (cap > INT32_MAX)
        return sg_error(SG_ERR_INVALID_ARG, "shuffle pool of %lld tokens is too large", (long long)cap);
    struct sg_pool *p = calloc(1, sizeof *p);
    if (!p) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    p->src   = src;
    p->d     = src->d;
    p->cap   = cap;
    p->batch = batch;
    p->serve = cap / 2 / batch * batch;
    if (p->serve < batch) p->serve = batch;
    p->rows = malloc((size_t)(cap * p->d) * sizeof *p->rows);
    p->perm = malloc((size_t)cap * sizeof *p->perm);
    if (!p->rows || !p->perm) {
        sg_pool_free(p);
        return sg_error(SG_ERR_NO_MEMORY, "out of memory for a shuffle pool of %lld x %lld", (long long)cap,
                        (long long)src->d);
    }
    for (int64_t i = 0; i < cap; i++) p->perm[i] = (int32_t)i;
    sg_rng_seed(&p->rng, seed ^ 0x5f0e1b2a3c4d6e7full);
    *out = p;
    return SG_OK;
}

void sg_pool_free(struct sg_pool *p) {
    if (!p) return;
    free(p->rows);
    free(p->perm);
    free(p);
}

static void shuffle(struct sg_pool *p) {
    for (int64_t i = p->cap - 1; i > 0; i--) {
        int64_t j  = (int64_t)sg_rng_below(&p->rng, (uint64_t)i + 1);
        int32_t t  = p->perm[i];
        p->perm[i] = p->perm[j];
        p->perm[j] = t;
    }
    p->cursor = 0;
}

sg_status sg_pool_prime(struct sg_pool *p) {
    if (p->filled) return SG_OK;
    sg_status st = p->src->read(p->src, p->rows, p->cap, NULL);
    if (st != SG_OK) return st;
    p->filled = true;
    shuffle(p);
    return SG_OK;
}

sg_status sg_pool_next(struct sg_pool *p, float *dst) {
    sg_status st = sg_pool_prime(p);
    if (st != SG_OK) return st;
    if (p->cursor + p->batch > p->serve) {
        /* the served slots take new rows; the rest of the pool stays to be mixed in */
        for (int64_t i = 0; i < p->cursor; i++) {
            st = p->src->read(p->src, p->rows + (int64_t)p->perm[i] * p->d, 1, NULL);
            if (st != SG_OK) return st;
        }
        shuffle(p);
    }
    for (int64_t i = 0; i < p->batch; i++)
        memcpy(dst + i * p->d, p->rows + (int64_t)p->perm[p->cursor + i] * p->d, (size_t)p->d * sizeof(float));
    p->cursor += p->batch;
    return SG_OK;
}
