/* Layout ops: views (metadata only), contiguous copies and casts, copies into existing storage. */
#include <string.h>

#include "ops_impl.h"

/* View-like nodes get their shape from the constructor in tensor.c; nothing to infer. */
sg_status sg_shape_view(struct sg_tensor *node) {
    (void)node;
    return SG_OK;
}

sg_status sg_shape_cont(struct sg_tensor *node) {
    const struct sg_tensor *a = node->src[0];
    enum sg_type type         = (enum sg_type)node->op_params[0];
    bool float_types          = a->type != SG_TYPE_I32 && type != SG_TYPE_I32;
    if ((unsigned)type >= SG_TYPE_COUNT || !(float_types || a->type == type))
        return sg_error(SG_ERR_INVALID_ARG, "cast: cannot convert '%s' from %s to %s", a->name, sg_type_name(a->type),
                        sg_type_name(type));
    sg_tensor_set_shape(node, type, SG_MAX_DIMS, a->ne);
    return SG_OK;
}

struct sg_tensor *sg_cast(struct sg_ctx *ctx, struct sg_tensor *a, enum sg_type type) {
    return sg_op_new(ctx, SG_OP_CONT, (struct sg_tensor *[]){a}, 1, (int32_t[]){(int32_t)type}, 1);
}

struct sg_tensor *sg_cont(struct sg_ctx *ctx, struct sg_tensor *a) {
    return a ? sg_cast(ctx, a, a->type) : NULL;
}

sg_status sg_shape_cpy(struct sg_tensor *node) {
    struct sg_tensor *a = node->src[0], *dst = node->src[1];
    if (sg_nelements(a) != sg_nelements(dst))
        return sg_error(SG_ERR_INVALID_ARG, "cpy: '%s' has %lld elements but the target '%s' has %lld", a->name,
                        (long long)sg_nelements(a), dst->name, (long long)sg_nelements(dst));
    if ((a->type == SG_TYPE_I32) != (dst->type == SG_TYPE_I32))
        return sg_error(SG_ERR_INVALID_ARG, "cpy: cannot copy %s '%s' into %s '%s'", sg_type_name(a->type), a->name,
                        sg_type_name(dst->type), dst->name);
    node->type = dst->type;
    memcpy(node->ne, dst->ne, sizeof node->ne);
    memcpy(node->nb, dst->nb, sizeof node->nb);
    sg_tensor_make_view(node, dst, 0);
    return SG_OK;
}

struct sg_tensor *sg_cpy(struct sg_ctx *ctx, struct sg_tensor *a, struct sg_tensor *dst) {
    return sg_op_new(ctx, SG_OP_CPY, (struct sg_tensor *[]){a, dst}, 2, NULL, 0);
}

/* ---- backward rules --------------------------------------------------------------------- */

void sg_backward_reshape(struct sg_autodiff *ad, struct sg_tensor *node) {
    struct sg_ctx *ctx  = sg_ad_ctx(ad);
    struct sg_tensor *a = node->src[0];
    struct sg_tensor *g = sg_cont_if_needed(ctx, sg_ad_grad(ad, node));
    sg_ad_accum(ad, a, sg_reshape(ctx, g, SG_MAX_DIMS, a->ne));
}

void sg_backward_permute(struct sg_autodiff *ad, struct sg_tensor *node) {
    int inverse[SG_MAX_DIMS];
    for (int d = 0; d < SG_MAX_DIMS; d++) inverse[node->op_params[d]] = d;
    sg_ad_accum(ad, node->src[0], sg_permute(sg_ad_ctx(ad), sg_ad_grad(ad, node), inverse));
}

void sg_backward_transpose(struct sg_autodiff *ad, struct sg_tensor *node) {
    sg_ad_accum(ad, node->src[0], sg_transpose(sg_ad_ctx(ad), sg_ad_grad(ad, node)));
}

void sg_backward_cont(struct sg_autodiff *ad, struct sg_tensor *node) {
    /* gradients stay f32 whatever the forward cast was */
    struct sg_tensor *g = sg_ad_grad(ad, node);
    if (g && g->type != SG_TYPE_F32) g = sg_cast(sg_ad_ctx(ad), g, SG_TYPE_F32);
    sg_ad_accum(ad, node->src[0], g);
}

void sg_backward_cpy(struct sg_autodiff *ad, struct sg_tensor *node) {
    /* the target is overwritten, so only the copied tensor gets a gradient */
    struct sg_ctx *ctx  = sg_ad_ctx(ad);
    struct sg_tensor *a = node->src[0];
    struct sg_tensor *g = sg_ad_grad(ad, node);
    if (g && !sg_same_shape(g, a)) g = sg_reshape(ctx, sg_cont_if_needed(ctx, g), SG_MAX_DIMS, a->ne);
    sg_ad_accum(ad, a, g);
}
