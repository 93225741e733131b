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
    int64_t shape[SG_MAX_DIMS], st[SG_CUDA_EW_MAX_OPS][SG_MAX_DIMS];
    for (int d = 0; d < SG_MAX_DIMS; d++) {
        shape[d] = ne[d];
        for (int o = 0; o < n_ops; o++) st[o][d] = ops[o]->ne[d] == 1 ? 0 : (int64_t)ops[o]->nb[d];
    }
    sg_collapse_dims(shape, st, n_ops);
    memset(ew, 0, sizeof *ew);
    memcpy(ew->ne.v, shape, sizeof shape);
    for (int o = 0; o < n_ops; o++) memcpy(ew->nb[o].v, st[o], sizeof st[o]);
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
