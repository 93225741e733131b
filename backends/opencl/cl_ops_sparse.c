/* EMBED_BAG, SPARSE_DOT and SCATTER_OUTER. scatter_outer sorts its (target row, pair) pairs so
 * every output row is one sum in pair order: deterministic, no float atomics. */
#include "cl_ops.h"

#define DOT_GROUP_MAX 64

/* The [K, B] operands (idx, values) as two byte strides. */
static void kb_args(struct sg_cl_args *a, const struct sg_tensor *t) {
    sg_cl_arg_tensor(a, t);
    sg_cl_arg_i64(a, (int64_t)t->nb[0]);
    sg_cl_arg_i64(a, (int64_t)t->nb[1]);
}

sg_status sg_cl_encode_embed_bag(struct sg_cl_enc *e, const struct sg_tensor *node) {
    const struct sg_tensor *w = node->src[0], *idx = node->src[1], *v = node->src[2];
    if (sg_nelements(node) == 0) return SG_OK;
    cl_kernel k;
    sg_status st = sg_cl_enc_kernel(e, SG_CL_K_EMBED_BAG, &k);
    if (st != SG_OK) return st;
    struct sg_cl_args a = sg_cl_args(k);
    kb_args(&a, node);
    kb_args(&a, w);
    sg_cl_arg_i64(&a, w->ne[1]);
    kb_args(&a, idx);
    kb_args(&a, v);
    sg_cl_arg_i64(&a, w->ne[0]);
    sg_cl_arg_i32(&a, (int32_t)idx->ne[0]);
    size_t global[2] = {(size_t)w->ne[0], (size_t)idx->ne[1]}, local[2] = {64, 1};
    return sg_cl_enc_launch(e, &a, 2, global, local);
}

/* One work-group per output, as wide as the device's preferred SIMD width (capped), so a CPU
 * device does not pay for a wide reduction it cannot use. */
sg_status sg_cl_encode_sparse_dot(struct sg_cl_enc *e, const struct sg_tensor *node) {
    const struct sg_tensor *w = node->src[0], *idx = node->src[1], *x = node->src[2];
    if (sg_nelements(node) == 0) return SG_OK;
    cl_kernel k;
    sg_status st = sg_cl_enc_kernel(e, SG_CL_K_SPARSE_DOT, &k);
    if (st != SG_OK) return st;
    size_t pref = 0;
    clGetKernelWorkGroupInfo(k, e->dev->id, CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE, sizeof pref, &pref, NULL);
    size_t wg = sg_cl_group(e->dev, SG_CL_K_SPARSE_DOT, pref >= 1 && pref <= DOT_GROUP_MAX ? pref : DOT_GROUP_MAX);
    struct sg_cl_args a = sg_cl_args(k);
    kb_args(&a, node);
    kb_args(&a, w);
    sg_cl_arg_i64(&a, w->ne[1]);
    kb_args(&a, idx);
    kb_args(&a, x);
    sg_cl_arg_i64(&a, w->ne[0]);
    sg_cl_arg_i32(&a, (int32_t)idx->ne[0]);
    sg_cl_arg_local(&a, wg * sizeof(float));
    size_t global[1] = {(size_t)sg_nelements(idx) * wg}, local[1] = {wg};
    return sg_cl_enc_launch(e, &a, 1, global, local);
}

/* Scratch: sort keys and values (a power of two >= K B each), then [start, end) per row. */
struct so_layout {
    size_t seg;
    int64_t n_pairs, n;
    size_t vals, ranges, total;
};

static struct so_layout so_layout(const struct sg_tensor *node) {
    struct so_layout l;
    l.n_pairs = sg_nelements(node->src[0]);
    l.n       = node->ne[1];
    l.seg     = sg_cl_pow2_ceil((size_t)(l.n_pairs ? l.n_pairs : 1));
    l.vals    = sg_cl_align(sizeof(uint32_t) * l.seg);
    l.ranges  = l.vals + sg_cl_align(sizeof(uint32_t) * l.seg);
    l.total   = l.ranges + sg_cl_align(2 * sizeof(uint32_t) * (size_t)l.n);
    return l;
}

/* Pair ids, target rows and sorted positions are 32-bit; 0xffffffff marks "no row". */
bool sg_cl_supports_scatter_outer(const struct sg_cl_device *d, const struct sg_tensor *node) {
    (void)d;
    return sg_nelements(node->src[0]) <= ((int64_t)1 << 31) && node->ne[1] < ((int64_t)1 << 31);
}

size_t sg_cl_scratch_scatter_outer(const struct sg_cl_device *d, const struct sg_tensor *node) {
    (void)d;
    return so_layout(node).total;
}

sg_status sg_cl_encode_scatter_outer(struct sg_cl_enc *e, const struct sg_tensor *node) {
    const struct sg_tensor *idx = node->src[0], *c = node->src[1], *x = node->src[2];
    const struct so_layout l = so_layout(node);
    if (sg_nelements(node) == 0) return SG_OK;
    if (l.n_pairs == 0) return sg_cl_encode_fill(e, node, 0.0f);

    cl_kernel k;
    sg_status st = sg_cl_enc_kernel(e, SG_CL_K_SO_KEYS, &k);
    if (st != SG_OK) return st;
    struct sg_cl_args a = sg_cl_args(k);
    sg_cl_arg_mem(&a, e->scratch, 0);
    sg_cl_arg_mem(&a, e->scratch, l.vals);
    kb_args(&a, idx);
    sg_cl_arg_i32(&a, (int32_t)idx->ne[0]);
    sg_cl_arg_i64(&a, l.n_pairs);
    sg_cl_arg_i64(&a, l.n);
    sg_cl_arg_i64(&a, (int64_t)l.seg);
    size_t global[1] = {l.seg}, local[1] = {64};
    st = sg_cl_enc_launch(e, &a, 1, global, local);
    if (st == SG_OK) st = sg_cl_encode_sort_pairs(e, e->scratch, 0, l.vals, l.seg, 1);
    if (st == SG_OK) st = sg_cl_encode_fill_u32(e, e->scratch, l.ranges, 2 * l.n, 0);
    if (st == SG_OK) st = sg_cl_enc_kernel(e, SG_CL_K_SO_BOUNDS, &k);
    if (st != SG_OK) return st;
    a = sg_cl_args(k);
    sg_cl_arg_mem(&a, e->scratch, 0);
    sg_cl_arg_mem(&a, e->scratch, l.ranges);
    sg_cl_arg_i64(&a, (int64_t)l.seg);
    st = sg_cl_enc_launch(e, &a, 1, global, local);
    if (st == SG_OK) st = sg_cl_enc_kernel(e, SG_CL_K_SO_ACCUM, &k);
    if (st != SG_OK) return st;

    a = sg_cl_args(k);
    kb_args(&a, node);
    sg_cl_arg_mem(&a, e->scratch, l.vals);
    sg_cl_arg_mem(&a, e->scratch, l.ranges);
    kb_args(&a, c ? c : idx); /* never read without coefficients */
    sg_cl_arg_i32(&a, c != NULL);
    kb_args(&a, x);
    sg_cl_arg_i64(&a, x->ne[0]);
    sg_cl_arg_i32(&a, (int32_t)idx->ne[0]);
    size_t global2[2] = {(size_t)x->ne[0], (size_t)l.n}, local2[2] = {64, 1};
    return sg_cl_enc_launch(e, &a, 2, global2, local2);
}
