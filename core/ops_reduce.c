/* Reductions (sum_to and the sums built on it) and broadcasts (repeat), each other's gradient. */
#include <string.h>

#include "ops_impl.h"

/* Checks that every dim of `small` is 1 or big's, for an op going between the two shapes. */
static sg_status check_broadcastable(const struct sg_tensor *node, const int64_t *small, const struct sg_tensor *big) {
    for (int d = 0; d < SG_MAX_DIMS; d++) {
        if (small[d] != 1 && small[d] != big->ne[d]) {
            char s[96];
            return sg_error(SG_ERR_INVALID_ARG, "%s: '%s' %s and the target dimension %d of size %lld do not match",
                            sg_op_name(node->op), big->name, sg_shape_str(big, s, sizeof s), d, (long long)small[d]);
        }
    }
    return SG_OK;
}

sg_status sg_shape_sum_to(struct sg_tensor *node) {
    const struct sg_tensor *a = node->src[0];
    int64_t ne[SG_MAX_DIMS];
    memcpy(ne, node->op_params, sizeof ne);
    sg_status st = sg_require_type(node, a, "input", SG_TYPE_F32);
    if (st == SG_OK) st = check_broadcastable(node, ne, a);
    if (st != SG_OK) return st;
    sg_tensor_set_shape(node, SG_TYPE_F32, SG_MAX_DIMS, ne);
    return SG_OK;
}

struct sg_tensor *sg_sum_to(struct sg_ctx *ctx, struct sg_tensor *a, const int64_t ne[SG_MAX_DIMS]) {
    int32_t params[SG_MAX_DIMS * 2];
    memcpy(params, ne, sizeof(int64_t) * SG_MAX_DIMS);
    return sg_op_new(ctx, SG_OP_SUM_TO, (struct sg_tensor *[]){a}, 1, params, SG_MAX_DIMS * 2);
}

struct sg_tensor *sg_sum_like(struct sg_ctx *ctx, struct sg_tensor *a, const struct sg_tensor *like) {
    return like ? sg_sum_to(ctx, a, like->ne) : NULL;
}

struct sg_tensor *sg_sum(struct sg_ctx *ctx, struct sg_tensor *a) {
    return sg_sum_to(ctx, a, (int64_t[SG_MAX_DIMS]){1, 1, 1, 1, 1, 1});
}

struct sg_tensor *sg_mean(struct sg_ctx *ctx, struct sg_tensor *a) {
    return a ? sg_scale(ctx, sg_sum(ctx, a), (float)(1.0 / (double)sg_nelements(a))) : NULL;
}

struct sg_tensor *sg_sum_rows(struct sg_ctx *ctx, struct sg_tensor *a) {
    if (!a) return NULL;
    int64_t ne[SG_MAX_DIMS];
    memcpy(ne, a->ne, sizeof ne);
    ne[0] = 1;
    return sg_sum_to(ctx, a, ne);
}

struct sg_tensor *sg_mean_rows(struct sg_ctx *ctx, struct sg_tensor *a) {
    return a ? sg_scale(ctx, sg_sum_rows(ctx, a), (float)(1.0 / (double)a->ne[0])) : NULL;
}

sg_status sg_shape_repeat(struct sg_tensor *node) {
    const struct sg_tensor *a = node->src[0];
    int64_t ne[SG_MAX_DIMS];
    memcpy(ne, node->op_params, sizeof ne);
    struct sg_tensor target = {.type = a->type};
    sg_tensor_set_shape(&target, a->type, SG_MAX_DIMS, ne);
    sg_status st = sg_require_type(node, a, "input", SG_TYPE_F32);
    if (st == SG_OK) st = check_broadcastable(node, a->ne, &target);
    if (st != SG_OK) return st;
    sg_tensor_set_shape(node, SG_TYPE_F32, SG_MAX_DIMS, ne);
    return SG_OK;
}

struct sg_tensor *sg_repeat(struct sg_ctx *ctx, struct sg_tensor *a, const struct sg_tensor *like) {
    if (!like) return NULL;
    int32_t params[SG_MAX_DIMS * 2];
    memcpy(params, like->ne, sizeof(int64_t) * SG_MAX_DIMS);
    return sg_op_new(ctx, SG_OP_REPEAT, (struct sg_tensor *[]){a}, 1, params, SG_MAX_DIMS * 2);
}

void sg_backward_sum_to(struct sg_autodiff *ad, struct sg_tensor *node) {
    sg_ad_accum(ad, node->src[0], sg_repeat(sg_ad_ctx(ad), sg_ad_grad(ad, node), node->src[0]));
}

void sg_backward_repeat(struct sg_autodiff *ad, struct sg_tensor *node) {
    sg_ad_accum(ad, node->src[0], sg_sum_like(sg_ad_ctx(ad), sg_ad_grad(ad, node), node->src[0]));
}

double sg_flops_sum_to(const struct sg_tensor *node) { return (double)sg_nelements(node->src[0]); }
