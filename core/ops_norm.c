/* Layer normalisation and softmax along ne[0]. */
#include "ops_impl.h"

sg_status sg_check_row_vector(const struct sg_tensor *node, const struct sg_tensor *v, const char *what) {
    if (!v) return SG_OK;
    const struct sg_tensor *x = node->src[0];
    sg_status st              = sg_require_type(node, v, what, SG_TYPE_F32);
    if (st != SG_OK) return st;
    if (v->ne[0] != x->ne[0] || sg_nelements(v) != v->ne[0]) {
        char sv[96], sx[96];
        return sg_error(SG_ERR_INVALID_ARG, "%s: %s '%s' %s must be a vector of %lld for input %s",
                        sg_op_name(node->op), what, v->name, sg_shape_str(v, sv, sizeof sv), (long long)x->ne[0],
                        sg_shape_str(x, sx, sizeof sx));
    }
    return SG_OK;
}

sg_status sg_shape_layer_norm(struct sg_tensor *node) {
    sg_status st = sg_require_type(node, node->src[0], "x", SG_TYPE_F32);
    if (st == SG_OK) st = sg_check_row_vector(node, node->src[1], "weight");
    if (st == SG_OK) st = sg_check_row_vector(node, node->src[2], "bias");
    if (st != SG_OK) return st;
    return sg_shape_like_src0(node);
}

struct sg_tensor *sg_layer_norm(struct sg_ctx *ctx, struct sg_tensor *x, struct sg_tensor *w, struct sg_tensor *b,
                                float eps) {
    return sg_op_new(ctx, SG_OP_LAYER_NORM, (struct sg_tensor *[]){x, w, b}, 3, (int32_t[]){sg_f32_param(eps)}, 1);
}

sg_status sg_shape_layer_norm_back(struct sg_tensor *node) {
    const struct sg_tensor *x = node->src[0], *dy = node->src[1];
    sg_status st = sg_require_type(node, x, "x", SG_TYPE_F32);
    if (st == SG_OK) st = sg_require_type(node, dy, "dy", SG_TYPE_F32);
    if (st == SG_OK) st = sg_check_row_vector(node, node->src[2], "weight");
    if (st != SG_OK) return st;
    if (!sg_same_shape(x, dy)) return sg_error(SG_ERR_INVALID_ARG, "layer_norm_back: x and dy differ in shape");
    return sg_shape_like_src0(node);
}

struct sg_tensor *sg_layer_norm_back(struct sg_ctx *ctx, struct sg_tensor *x, struct sg_tensor *dy, struct sg_tensor *w,
                                     float eps) {
    return sg_op_new(ctx, SG_OP_LAYER_NORM_BACK, (struct sg_tensor *[]){x, dy, w}, 3, (int32_t[]){sg_f32_param(eps)},
                     1);
}

void sg_backward_layer_norm(struct sg_autodiff *ad, struct sg_tensor *node) {
    struct sg_ctx *ctx  = sg_ad_ctx(ad);
    struct sg_tensor *x = node->src[0], *w = node->src[1], *b = node->src[2], *g = sg_ad_grad(ad, node);
    float eps = sg_get_param_f32(node, 0);
    if (sg_ad_needs(ad, x)) sg_ad_accum(ad, x, sg_layer_norm_back(ctx, x, g, w, eps));
    if (w && sg_ad_needs(ad, w)) {
        struct sg_tensor *xhat = sg_layer_norm(ctx, x, NULL, NULL, eps);
        sg_ad_accum(ad, w, sg_sum_like(ctx, sg_mul(ctx, g, xhat), w));
    }
    if (b && sg_ad_needs(ad, b)) sg_ad_accum(ad, b, sg_sum_like(ctx, g, b));
}

double sg_flops_layer_norm(const struct sg_tensor *node) { return 8.0 * (double)sg_nelements(node); }

sg_status sg_shape_softmax(struct sg_tensor *node) {
    sg_status st = sg_require_type(node, node->src[0], "input", SG_TYPE_F32);
    return st == SG_OK ? sg_shape_like_src0(node) : st;
}

struct sg_tensor *sg_softmax(struct sg_ctx *ctx, struct sg_tensor *a) {
    return sg_op_new(ctx, SG_OP_SOFTMAX, (struct sg_tensor *[]){a}, 1, NULL, 0);
}

void sg_backward_softmax(struct sg_autodiff *ad, struct sg_tensor *node) {
    /* dx = y * (g - sum(g * y)) per row */
    struct sg_ctx *ctx  = sg_ad_ctx(ad);
    struct sg_tensor *y = node, *g = sg_ad_grad(ad, node);
    struct sg_tensor *dot = sg_sum_rows(ctx, sg_mul(ctx, g, y));
    sg_ad_accum(ad, node->src[0], sg_mul(ctx, y, sg_sub(ctx, g, dot)));
}

double sg_flops_softmax(const struct sg_tensor *node) { return 5.0 * (double)sg_nelements(node); }
