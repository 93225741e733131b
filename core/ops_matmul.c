/* Batched matrix product with broadcasting batch dims; transposes are views, not flags. */
#include "ops_impl.h"

sg_status sg_shape_matmul(struct sg_tensor *node) {
    const struct sg_tensor *a = node->src[0], *b = node->src[1];
    char sa[96], sb[96];
    if (a->type == SG_TYPE_I32)
        return sg_error(SG_ERR_INVALID_ARG, "matmul: a '%s' must be f32, f16 or bf16, not i32", a->name);
    if (b->type != SG_TYPE_F32 && b->type != SG_TYPE_BF16)
        return sg_error(SG_ERR_INVALID_ARG, "matmul: b '%s' must be f32 or bf16, not %s", b->name,
                        sg_type_name(b->type));
    if (a->ne[0] != b->ne[1])
        return sg_error(SG_ERR_INVALID_ARG, "matmul: a '%s' %s has %lld columns but b '%s' %s has %lld rows", a->name,
                        sg_shape_str(a, sa, sizeof sa), (long long)a->ne[0], b->name, sg_shape_str(b, sb, sizeof sb),
                        (long long)b->ne[1]);
    int64_t ne[SG_MAX_DIMS] = {b->ne[0], a->ne[1]};
    for (int d = 2; d < SG_MAX_DIMS; d++) {
        if (a->ne[d] != b->ne[d] && a->ne[d] != 1 && b->ne[d] != 1)
            return sg_error(SG_ERR_INVALID_ARG, "matmul: batch dimension %d of a %s and b %s do not broadcast", d,
                            sg_shape_str(a, sa, sizeof sa), sg_shape_str(b, sb, sizeof sb));
        ne[d] = a->ne[d] > b->ne[d] ? a->ne[d] : b->ne[d];
    }
    sg_tensor_set_shape(node, SG_TYPE_F32, SG_MAX_DIMS, ne);
    return SG_OK;
}

struct sg_tensor *sg_matmul(struct sg_ctx *ctx, struct sg_tensor *a, struct sg_tensor *b) {
    return sg_op_new(ctx, SG_OP_MATMUL, (struct sg_tensor *[]){a, b}, 2, NULL, 0);
}

bool sg_matmul_is_bf16(const struct sg_tensor *node) {
    return node->src[0]->type == SG_TYPE_BF16 || node->src[1]->type == SG_TYPE_BF16;
}

void sg_matmul_accum_grads(struct sg_autodiff *ad, struct sg_tensor *a, struct sg_tensor *b, struct sg_tensor *g) {
    /* out = a @ b:  da = g @ b^T,  db = a^T @ g  (summed over broadcast batch dims) */
    struct sg_ctx *ctx = sg_ad_ctx(ad);
    if (sg_ad_needs(ad, a)) sg_ad_accum(ad, a, sg_unbroadcast(ctx, sg_matmul(ctx, g, sg_transpose(ctx, b)), a));
    /* a BF16 operand is a frozen weight: gradients flow to the F32 one only (sg_ad_needs) */
    if (sg_ad_needs(ad, b)) {
        struct sg_tensor *at = a->type == SG_TYPE_F32 ? a : sg_cast(ctx, a, SG_TYPE_F32);
        sg_ad_accum(ad, b, sg_unbroadcast(ctx, sg_matmul(ctx, sg_transpose(ctx, at), g), b));
    }
}

void sg_backward_matmul(struct sg_autodiff *ad, struct sg_tensor *node) {
    sg_matmul_accum_grads(ad, node->src[0], node->src[1], sg_ad_grad(ad, node));
}

double sg_flops_matmul(const struct sg_tensor *node) {
    return 2.0 * (double)sg_nelements(node) * (double)node->src[0]->ne[0];
}
