/* The key is a sum of every 64-bit word a node's launches are built from, each word times its
 * own odd multiplier (its position times two plus one, times an odd constant). An odd
 * multiplier is invertible mod 2^64, so changing any single word always changes the key (two
 * changes could cancel only by an exact coincidence), and the sum has no dependency chain: it
 * runs before every replay and must cost microseconds for a few hundred nodes. */
#include "cuda_graph_key.h"

#include <string.h>

#define KEY_ODD 0x9e3779b97f4a7c15ull

struct key_acc {
    uint64_t sum, mult; /* mult: (2 pos + 1) KEY_ODD for the next word's position */
};

static void add_word(struct key_acc *k, uint64_t w) {
    k->sum += w * k->mult;
    k->mult += 2 * KEY_ODD;
}

/* n is a multiple of 4 (every field added here is) */
static void add_bytes(struct key_acc *k, const void *p, size_t n) {
    const unsigned char *b = p;
    for (; n >= 8; n -= 8, b += 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        add_word(k, w);
    }
    if (n) {
        uint32_t w;
        memcpy(&w, b, 4);
        add_word(k, w);
    }
}

static void add_tensor(struct key_acc *k, const struct sg_tensor *t) {
    add_word(k, ((uint64_t)(uint32_t)t->type << 32) | (uint32_t)t->op);
    add_bytes(k, t->ne, sizeof t->ne);
    add_bytes(k, t->nb, sizeof t->nb);
    add_word(k, (uint64_t)(uintptr_t)t->data);
}

uint64_t sg_cuda_graph_key(struct sg_tensor *const *nodes, int n) {
    struct key_acc k = {0, KEY_ODD};
    add_word(&k, (uint64_t)n);
    for (int i = 0; i < n; i++) {
        const struct sg_tensor *t = nodes[i];
        add_tensor(&k, t);
        add_bytes(&k, t->op_params, sizeof t->op_params);
        for (int s = 0; s < SG_MAX_SRC; s++) {
            if (t->src[s])
                add_tensor(&k, t->src[s]);
            else
                add_word(&k, ~(uint64_t)0); /* absent: not the same as a source at address 0 */
        }
    }
    return k.sum;
}
