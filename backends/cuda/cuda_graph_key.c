/* A 64-bit FNV-1a hash over everything a node's kernel launches are built from. */
#include "cuda_graph_key.h"

#include <string.h>

static uint64_t mix(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static uint64_t mix_tensor(uint64_t h, const struct sg_tensor *t) {
    int32_t head[2] = {(int32_t)t->type, t->op};
    h               = mix(h, head, sizeof head);
    h               = mix(h, t->ne, sizeof t->ne);
    h               = mix(h, t->nb, sizeof t->nb);
    return mix(h, &t->data, sizeof t->data);
}

uint64_t sg_cuda_graph_key(struct sg_tensor *const *nodes, int n) {
    uint64_t h = 14695981039346656037ull;
    h          = mix(h, &n, sizeof n);
    for (int i = 0; i < n; i++) {
        const struct sg_tensor *t = nodes[i];
        h                         = mix_tensor(h, t);
        h                         = mix(h, t->op_params, sizeof t->op_params);
        for (int s = 0; s < SG_MAX_SRC; s++) {
            const struct sg_tensor *src = t->src[s];
            static const char none      = 0;
            h                           = src ? mix_tensor(h, src) : mix(h, &none, 1);
        }
    }
    return h;
}
