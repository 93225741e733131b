/* Host-side layout helpers: collapsing elementwise iteration spaces, launch sizes. */
#include <string.h>

#include "cuda_ops.h"

struct sg_cu_dims sg_cuda_ne(const struct sg_tensor *t) {
    struct sg_cu_dims d;
    for (int i = 0; i < SG_MAX_DIMS; i++) d.v[i] = t->ne[i];
    return d;
}

struct sg_cu_dims sg_cuda_nb(const struct sg_tensor *t) {
    struct sg_cu_dims d;
    for (int i = 0; i < SG_MAX_DIMS; i++) d.v[i] = (int64_t)t->nb[i];
    return d;
}

void sg_cuda_ew_init(struct sg_cuda_ew *ew, const int64_t ne[SG_MAX_DIMS], const struct sg_tensor *const *ops,
                     int n_ops) {
    memset(ew, 0, sizeof *ew);
    int n = 0; /* dims kept so far */
    for (int d = 0; d < SG_MAX_DIMS; d++) {
        if (ne[d] == 1) continue;
        /* merge into the previous kept dim when every operand continues contiguously */
        bool merge = n > 0;
        for (int o = 0; o < n_ops && merge; o++) {
            int64_t nb = ops[o]->ne[d] == 1 ? 0 : (int64_t)ops[o]->nb[d];
            merge      = nb == ew->nb[o].v[n - 1] * ew->ne.v[n - 1];
        }
        if (merge) {
            ew->ne.v[n - 1] *= ne[d];
            continue;
        }
        ew->ne.v[n] = ne[d];
        for (int o = 0; o < n_ops; o++) ew->nb[o].v[n] = ops[o]->ne[d] == 1 ? 0 : (int64_t)ops[o]->nb[d];
        n++;
    }
    for (int d = n; d < SG_MAX_DIMS; d++) ew->ne.v[d] = 1;
}

size_t sg_cuda_pow2_ceil(size_t n) {
    size_t p = 1;
    while (p < n) p *= 2;
    return p;
}

unsigned sg_cuda_blocks(int64_t n, unsigned threads) {
    int64_t b = (n + threads - 1) / threads;
    if (b < 1) b = 1;
    if (b > 65535 * 16) b = 65535 * 16; /* grid-stride loops cover the rest */
    return (unsigned)b;
}
