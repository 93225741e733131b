/* A 64-bit hash over everything a node's kernel launches are built from, a word at a time: it
 * runs before every replay, so it must cost microseconds for a few hundred nodes. */
#include "cuda_graph_key.h"

#include <string.h>

static uint64_t mix_word(uint64_t h, uint64_t w) {
    h ^= w + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdull;
}

/* n is a multiple of 4 (every field hashed here is) */
static uint64_t mix(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (; n >= 8; n -= 8, b += 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        h = mix_word(h, w);
    }
    if (n) {
        uint32_t w;
        memcpy(&w, b, 4);
        h = mix_word(h, w);
    }
    return h;
}

static uint64_t mix_tensor(uint64_t h, const struct sg_tensor *t) {
    h = mix_word(h, ((uint64_t)(uint32_t)t->type << 32) | (uint32_t)t->op);
    h = mix(h, t->ne, sizeof t->ne);
    h = mix(h, t->nb, sizeof t->nb);
    return mix_word(h, (uint64_t)(uintptr_t)t->data);
}

uint64_t sg_cuda_graph_key(struct sg_tensor *const *nodes, int n) {
    uint64_t h = mix_word(14695981039346656037ull, (uint64_t)n);
    for (int i = 0; i < n; i++) {
        const struct sg_tensor *t = nodes[i];
        h                         = mix_tensor(h, t);
        h                         = mix(h, t->op_params, sizeof t->op_params);
        for (int s = 0; s < SG_MAX_SRC; s++) h = t->src[s] ? mix_tensor(h, t->src[s]) : mix_word(h, 0);
    }
    return h;
}
