/* One accumulator per (feature, gene) pair that fired on an expressed gene: an open-addressing
 * table keyed by feature << 32 | gene, linear probing, grown to twice its size at 70% load. */
#include <stdlib.h>
#include <string.h>

#include "pipeline/extract_priv.h"

static uint64_t hash64(uint64_t x) { /* splitmix64's finaliser: every key bit moves every slot bit */
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static struct sg_pair *find(struct sg_pair *slot, uint64_t cap, uint64_t key) {
    uint64_t i = hash64(key) & (cap - 1);
    while (slot[i].key != key && slot[i].key != UINT64_MAX) i = (i + 1) & (cap - 1);
    return &slot[i];
}

static sg_status grow(struct sg_pairs *p) {
    uint64_t cap       = p->cap ? 2 * p->cap : 1u << 16;
    struct sg_pair *ns = malloc(cap * sizeof *ns);
    if (!ns)
        return sg_error(SG_ERR_NO_MEMORY, "out of memory for %llu (feature, gene) accumulators",
                        (unsigned long long)cap);
    memset(ns, 0xff, cap * sizeof *ns); /* every key UINT64_MAX: empty */
    for (uint64_t i = 0; i < p->cap; i++)
        if (p->slot[i].key != UINT64_MAX) *find(ns, cap, p->slot[i].key) = p->slot[i];
    free(p->slot);
    p->slot = ns;
    p->cap  = cap;
    return SG_OK;
}

/* The slot of (feature, gene), grown first if one more key could overfill the table. */
static sg_status slot_for(struct sg_pairs *p, uint32_t feature, uint32_t gene, struct sg_pair **out) {
    if (10 * (p->n + 1) > 7 * p->cap) {
        sg_status st = grow(p);
        if (st != SG_OK) return st;
    }
    *out = find(p->slot, p->cap, (uint64_t)feature << 32 | gene);
    return SG_OK;
}

sg_status sg_pairs_add(struct sg_pairs *p, uint32_t feature, uint32_t gene, double score) {
    struct sg_pair *s;
    sg_status st = slot_for(p, feature, gene, &s);
    if (st != SG_OK) return st;
    if (s->key == UINT64_MAX) {
        *s = (struct sg_pair){.key = (uint64_t)feature << 32 | gene, .sum = score, .max = score, .n = 1};
        p->n++;
        return SG_OK;
    }
    s->sum += score;
    if (score > s->max) s->max = score;
    s->n++;
    return SG_OK;
}

sg_status sg_pairs_set(struct sg_pairs *p, uint32_t feature, uint32_t gene, double sum, double max, uint32_t n) {
    struct sg_pair *s;
    sg_status st = slot_for(p, feature, gene, &s);
    if (st != SG_OK) return st;
    p->n += s->key == UINT64_MAX;
    *s = (struct sg_pair){.key = (uint64_t)feature << 32 | gene, .sum = sum, .max = max, .n = n};
    return SG_OK;
}

void sg_pairs_free(struct sg_pairs *p) {
    free(p->slot);
    memset(p, 0, sizeof *p);
}

const struct sg_pair *sg_pairs_get(const struct sg_pairs *p, uint32_t feature, uint32_t gene) {
    if (!p->cap) return NULL;
    const struct sg_pair *s = find(p->slot, p->cap, (uint64_t)feature << 32 | gene);
    return s->key == UINT64_MAX ? NULL : s;
}
