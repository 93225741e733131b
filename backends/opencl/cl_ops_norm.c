/* LAYER_NORM, LAYER_NORM_BACK, ADD_LAYER_NORM and SOFTMAX: one work-group per row. */
#include "cl_ops.h"

#define ROW_GROUP 64

static void vec_args(struct sg_cl_args *a, const struct sg_tensor *v, const struct sg_tensor *fallback) {
    sg_cl_arg_tensor(a, v ? v : fallback); /* any valid buffer when absent; never read */
    sg_cl_arg_i64(a, v ? (int64_t)v->nb[0] : 0);
    sg_cl_arg_i32(a, v != NULL);
}

static sg_status row_launch(struct sg_cl_enc *e, struct sg_cl_args *a, const struct sg_tensor *x, size_t wg) {
    sg_cl_arg_local(a, wg * sizeof(float));
    size_t global[1] = {(size_t)sg_nrows(x) * wg}, local[1] = {wg};
    return sg_cl_enc_launch(e, a, 1, global, local);
}

sg_status sg_cl_encode_layer_norm(struct sg_cl_enc *e, const struct sg_tensor *node) {
    const struct sg_tensor *x = node->src[0];
    if (sg_nelements(x) == 0) return SG_OK;
    cl_kernel k;
    sg_status st = sg_cl_enc_kernel(e, SG_CL_K_LAYER_NORM, &k);
    if (st != SG_OK) return st;
    int64_t xnb[SG_MAX_DIMS], ynb[SG_MAX_DIMS];
    sg_cl_strides(x, xnb);
    sg_cl_strides(node, ynb);
    struct sg_cl_args a = sg_cl_args(k);
    sg_cl_arg_tensor(&a, node);
    sg_cl_arg_tensor(&a, x);
    vec_args(&a, node->src[1], x);
    vec_args(&a, node->src[2], x);
    sg_cl_arg_long8(&a, x->ne);
    sg_cl_arg_long8(&a, xnb);
    sg_cl_arg_long8(&a, ynb);
    sg_cl_arg_f32(&a, sg_get_param_f32(node, 0));
    return row_launch(e, &a, x, sg_cl_group(e->dev, SG_CL_K_LAYER_NORM, ROW_GROUP));
}

sg_status sg_cl_encode_layer_norm_back(struct sg_cl_enc *e, const struct sg_tensor *node) {
    const struct sg_tensor *x = node->src[0], *dy = node->src[1];
    if (sg_nelements(x) == 0) return SG_OK;
    cl_kernel k;
    sg_status st = sg_cl_enc_kernel(e, SG_CL_K_LAYER_NORM_BACK, &k);
    if (st != SG_OK) return st;
    int64_t xnb[SG_MAX_DIMS], dynb[SG_MAX_DIMS], dxnb[SG_MAX_DIMS];
    sg_cl_strides(x, xnb);
    sg_cl_strides(dy, dynb);
    sg_cl_strides(node, dxnb);
    struct sg_cl_args a = sg_cl_args(k);
    sg_cl_arg_tensor(&a, node);
    sg_cl_arg_tensor(&a, x);
    sg_cl_arg_tensor(&a, dy);
    vec_args(&a, node->src[2], x);
    sg_cl_arg_long8(&a, x->ne);
    sg_cl_arg_long8(&a, xnb);
    sg_cl_arg_long8(&a, dynb);
    sg_cl_arg_long8(&a, dxnb);
    sg_cl_arg_f32(&a, sg_get_param_f32(node, 0));
    return row_launch(e, &a, x, sg_cl_group(e->dev, SG_CL_K_LAYER_NORM_BACK, ROW_GROUP));
}

sg_status sg_cl_encode_add_layer_norm(struct sg_cl_enc *e, const struct sg_tensor *node) {
    const struct sg_tensor *x = node->src[0], *r = node->src[1];
    if (sg_nelements(x) == 0) return SG_OK;
    cl_kernel k;
    sg_status st = sg_cl_enc_kernel(e, SG_CL_K_ADD_LAYER_NORM, &k);
    if (st != SG_OK) return st;
    int64_t xnb[SG_MAX_DIMS], rnb[SG_MAX_DIMS];
    sg_cl_strides(x, xnb);
    sg_cl_strides(r, rnb);
    struct sg_cl_args a = sg_cl_args(k);
    sg_cl_arg_tensor(&a, node);
    sg_cl_arg_tensor(&a, x);
    sg_cl_arg_tensor(&a, r);
    vec_args(&a, node->src[2], x);
    vec_args(&a, node->src[3], x);
    sg_cl_arg_long8(&a, x->ne);
    sg_cl_arg_long8(&a, xnb);
    sg_cl_arg_long8(&a, rnb);
    sg_cl_arg_i64(&a, sg_nelements(x));
    sg_cl_arg_f32(&a, sg_get_param_f32(node, 0));
    return row_launch(e, &a, x, sg_cl_group(e->dev, SG_CL_K_ADD_LAYER_NORM, ROW_GROUP));
}

sg_status sg_cl_encode_softmax(struct sg_cl_enc *e, const struct sg_tensor *node) {
    const struct sg_tensor *x = node->src[0];
    if (sg_nelements(x) == 0) return SG_OK;
    cl_kernel k;
    sg_status st = sg_cl_enc_kernel(e, SG_CL_K_SOFTMAX, &k);
    if (st != SG_OK) return st;
    int64_t xnb[SG_MAX_DIMS], ynb[SG_MAX_DIMS];
    sg_cl_strides(x, xnb);
    sg_cl_strides(node, ynb);
    struct sg_cl_args a = sg_cl_args(k);
    sg_cl_arg_tensor(&a, node);
    sg_cl_arg_tensor(&a, x);
    sg_cl_arg_long8(&a, x->ne);
    sg_cl_arg_long8(&a, xnb);
    sg_cl_arg_long8(&a, ynb);
    return row_launch(e, &a, x, sg_cl_group(e->dev, SG_CL_K_SOFTMAX, ROW_GROUP));
}
