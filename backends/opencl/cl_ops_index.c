/* GET_ROWS, GATHER and SCATTER. */
#include "cl_ops.h"

sg_status sg_cl_encode_get_rows(struct sg_cl_enc *e, const struct sg_tensor *node) {
    const struct sg_tensor *w = node->src[0], *ids = node->src[1];
    if (sg_nelements(node) == 0) return SG_OK;
    cl_kernel k;
    sg_status st = sg_cl_enc_kernel(e, SG_CL_K_GET_ROWS, &k);
    if (st != SG_OK) return st;
    /* dst's dims 1.. walk with the ids' dims 0..: collapse them together */
    struct sg_tensor rows = *ids;
    for (int d = 0; d + 1 < SG_MAX_DIMS; d++) rows.nb[d] = node->nb[d + 1];
    struct sg_cl_ew ew;
    sg_cl_ew_init(&ew, ids->ne, (const struct sg_tensor *[]){ids, &rows}, 2);
    struct sg_cl_args a = sg_cl_args(k);
    sg_cl_arg_tensor(&a, node);
    sg_cl_arg_i64(&a, (int64_t)node->nb[0]);
    sg_cl_arg_long8(&a, ew.nb[1]);
    sg_cl_arg_tensor(&a, w);
    sg_cl_arg_i64(&a, (int64_t)w->nb[0]);
    sg_cl_arg_i64(&a, (int64_t)w->nb[1]);
    sg_cl_arg_i64(&a, w->ne[1]);
    sg_cl_arg_i32(&a, w->type);
    sg_cl_arg_tensor(&a, ids);
    sg_cl_arg_long8(&a, ew.ne);
    sg_cl_arg_long8(&a, ew.nb[0]);
    sg_cl_arg_i64(&a, w->ne[0]);
    size_t global[2] = {(size_t)w->ne[0], (size_t)sg_nelements(ids)}, local[2] = {64, 1};
    return sg_cl_enc_launch(e, &a, 2, global, local);
}

sg_status sg_cl_encode_gather(struct sg_cl_enc *e, const struct sg_tensor *node) {
    const struct sg_tensor *x = node->src[0], *idx = node->src[1];
    if (sg_nelements(node) == 0) return SG_OK;
    cl_kernel k;
    sg_status st = sg_cl_enc_kernel(e, SG_CL_K_GATHER, &k);
    if (st != SG_OK) return st;
    int64_t dnb[SG_MAX_DIMS], xnb[SG_MAX_DIMS], inb[SG_MAX_DIMS];
    sg_cl_strides(node, dnb);
    sg_cl_strides(x, xnb);
    sg_cl_strides(idx, inb);
    struct sg_cl_args a = sg_cl_args(k);
    sg_cl_arg_tensor(&a, node);
    sg_cl_arg_long8(&a, node->ne);
    sg_cl_arg_long8(&a, dnb);
    sg_cl_arg_tensor(&a, x);
    sg_cl_arg_long8(&a, xnb);
    sg_cl_arg_i64(&a, x->ne[0]);
    sg_cl_arg_tensor(&a, idx);
    sg_cl_arg_long8(&a, inb);
    size_t global[2] = {(size_t)node->ne[0], (size_t)sg_nrows(node)}, local[2] = {16, 1};
    return sg_cl_enc_launch(e, &a, 2, global, local);
}

/* Zero the output, then each distinct index of a row writes its sum once. */
sg_status sg_cl_encode_scatter(struct sg_cl_enc *e, const struct sg_tensor *node) {
    const struct sg_tensor *v = node->src[0], *idx = node->src[1];
    if (sg_nelements(node) == 0) return SG_OK;
    sg_status st = sg_cl_encode_fill(e, node, 0.0f);
    if (st != SG_OK || sg_nelements(idx) == 0) return st;
    cl_kernel k;
    st = sg_cl_enc_kernel(e, SG_CL_K_SCATTER, &k);
    if (st != SG_OK) return st;
    int64_t dnb[SG_MAX_DIMS], vnb[SG_MAX_DIMS], inb[SG_MAX_DIMS];
    sg_cl_strides(node, dnb);
    sg_cl_strides(v, vnb);
    sg_cl_strides(idx, inb);
    struct sg_cl_args a = sg_cl_args(k);
    sg_cl_arg_tensor(&a, node);
    sg_cl_arg_long8(&a, dnb);
    sg_cl_arg_i64(&a, node->ne[0]);
    sg_cl_arg_tensor(&a, v);
    sg_cl_arg_long8(&a, vnb);
    sg_cl_arg_tensor(&a, idx);
    sg_cl_arg_long8(&a, idx->ne);
    sg_cl_arg_long8(&a, inb);
    size_t global[2] = {(size_t)idx->ne[0], (size_t)sg_nrows(idx)}, local[2] = {16, 1};
    return sg_cl_enc_launch(e, &a, 2, global, local);
}
