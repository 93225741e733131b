/* Host-side layout helpers: collapsing elementwise iteration spaces and picking group sizes. */
#include <string.h>

#include "cl_ops.h"

void sg_cl_strides(const struct sg_tensor *t, int64_t nb[SG_MAX_DIMS]) {
    for (int d = 0; d < SG_MAX_DIMS; d++) nb[d] = (int64_t)t->nb[d];
}

void sg_cl_ew_init(struct sg_cl_ew *ew, const int64_t ne[SG_MAX_DIMS], const struct sg_tensor *const *ops, int n_ops) {
    memset(ew, 0, sizeof *ew);
    for (int d = 0; d < SG_MAX_DIMS; d++) {
        ew->ne[d] = ne[d];
        for (int o = 0; o < n_ops; o++) ew->nb[o][d] = ops[o]->ne[d] == 1 ? 0 : (int64_t)ops[o]->nb[d];
    }
    sg_collapse_dims(ew->ne, ew->nb, n_ops);
}

void sg_cl_ew_range(const struct sg_cl_ew *ew, size_t global[3], size_t local[3]) {
    global[0] = (size_t)ew->ne[0];
    global[1] = (size_t)ew->ne[1];
    global[2] = (size_t)(ew->ne[2] * ew->ne[3] * ew->ne[4] * ew->ne[5]);
    /* Two group shapes only, so PoCL compiles each kernel at most twice: rows along dim 0 when
     * it is long enough to fill a group, else along dim 1. */
    bool wide = ew->ne[0] >= 32 || ew->ne[1] < 32;
    local[0]  = wide ? 64 : 1;
    local[1]  = wide ? 1 : 64;
    local[2]  = 1;
}

size_t sg_cl_pow2_floor(size_t n) {
    size_t p = 1;
    while (p * 2 <= n) p *= 2;
    return p;
}

size_t sg_cl_pow2_ceil(size_t n) {
    size_t p = 1;
    while (p < n) p *= 2;
    return p;
}

size_t sg_cl_group(struct sg_cl_device *d, enum sg_cl_kernel_id id, size_t want) {
    size_t limit = sg_cl_kernel_group_limit(d, id);
    if (limit == 0 || limit > d->max_wg_size) limit = d->max_wg_size;
    return sg_cl_pow2_floor(want < limit ? want : limit);
}
