/* Fused multi-head attention (flash-style kernels; the score matrix is never a graph tensor). */
#include "ops_impl.h"

static sg_status check_attention_inputs(const struct sg_tensor *node) {
    const struct sg_tensor *q = node->src[0], *k = node->src[1], *v = node->src[2], *mask = node->src[3];
    char sq[96], sk[96], sv[96];
    const char *op = sg_op_name(node->op);
    sg_status st   = sg_require_type(node, q, "q", SG_TYPE_F32);
    if (st == SG_OK) st = sg_require_type(node, k, "k", SG_TYPE_F32);
    if (st == SG_OK) st = sg_require_type(node, v, "v", SG_TYPE_F32);
    if (st == SG_OK) st = sg_require_rank(node, q, "q", 4);
    if (st == SG_OK) st = sg_require_rank(node, k, "k", 4);
    if (st == SG_OK) st = sg_require_rank(node, v, "v", 4);
    if (st != SG_OK) return st;
    sg_shape_str(q, sq, sizeof sq);
    sg_shape_str(k, sk, sizeof sk);
    sg_shape_str(v, sv, sizeof sv);
    if (q->ne[0] != k->ne[0] || q->ne[1] != k->ne[1] || q->ne[3] != k->ne[3])
        return sg_error(SG_ERR_INVALID_ARG, "%s: q %s and k %s must agree in head size, heads and batch", op, sq, sk);
    if (v->ne[1] != k->ne[1] || v->ne[2] != k->ne[2] || v->ne[3] != k->ne[3])
        return sg_error(SG_ERR_INVALID_ARG, "%s: v %s must have the heads, keys and batch of k %s", op, sv, sk);
    if (mask) {
        char sm[96];
        st = sg_require_type(node, mask, "key_mask", SG_TYPE_I32);
        if (st != SG_OK) return st;
        if (mask->ne[0] != k->ne[2] || mask->ne[1] != k->ne[3] || sg_nelements(mask) != k->ne[2] * k->ne[3])
            return sg_error(SG_ERR_INVALID_ARG, "%s: key_mask %s must be [%lld, %lld] (keys, batch)", op,
                            sg_shape_str(mask, sm, sizeof sm), (long long)k->ne[2], (long long)k->ne[3]);
    }
    return SG_OK;
}

sg_status sg_shape_attention(struct sg_tensor *node) {
    sg_status st = check_attention_inputs(node);
    if (st != SG_OK) return st;
    const struct sg_tensor *q = node->src[0], *v = node->src[2];
    sg_tensor_set_shape(node, SG_TYPE_F32, 4, (int64_t[]){v->ne[0], q->ne[1], q->ne[2], q->ne[3]});
    return SG_OK;
}

struct sg_tensor *sg_attention(struct sg_ctx *ctx, struct sg_tensor *q, struct sg_tensor *k, struct sg_tensor *v,
                               struct sg_tensor *key_mask, float scale) {
    return sg_op_new(ctx, SG_OP_ATTENTION, (struct sg_tensor *[]){q, k, v, key_mask}, 4,
                     (int32_t[]){sg_f32_param(scale)}, 1);
}

sg_status sg_shape_attention_back(struct sg_tensor *node) {
    struct sg_tensor *dout = node->src[4];
    if (!dout) return sg_error(SG_ERR_INVALID_ARG, "attention_back: dout is missing");
    sg_status st = check_attention_inputs(node);
    if (st == SG_OK) st = sg_require_type(node, dout, "dout", SG_TYPE_F32);
    if (st != SG_OK) return st;
    const struct sg_tensor *q = node->src[0], *k = node->src[1], *v = node->src[2];
    if (dout->ne[0] != v->ne[0] || dout->ne[1] != q->ne[1] || dout->ne[2] != q->ne[2] || dout->ne[3] != q->ne[3])
        return sg_error(SG_ERR_INVALID_ARG, "attention_back: dout must have the attention output's shape");
    int64_t n = sg_nelements(q) + sg_nelements(k) + sg_nelements(v);
    sg_tensor_set_shape(node, SG_TYPE_F32, 1, &n);
    return SG_OK;
}

struct sg_tensor *sg_attention_back(struct sg_ctx *ctx, struct sg_tensor *q, struct sg_tensor *k, struct sg_tensor *v,
                                    struct sg_tensor *key_mask, struct sg_tensor *dout, float scale) {
    if (!dout) return NULL;
    return sg_op_new(ctx, SG_OP_ATTENTION_BACK, (struct sg_tensor *[]){q, k, v, key_mask, dout}, 5,
                     (int32_t[]){sg_f32_param(scale)}, 1);
}

/* The part of the packed gradient that belongs to t, with t's shape. */
static struct sg_tensor *grad_part(struct sg_ctx *ctx, struct sg_tensor *packed, const struct sg_tensor *t,
                                   size_t offset_elems) {
    int64_t n              = sg_nelements(t);
    struct sg_tensor *flat = sg_view_1d(ctx, packed, n, offset_elems * sizeof(float));
    return sg_reshape(ctx, flat, SG_MAX_DIMS, t->ne);
}

void sg_backward_attention(struct sg_autodiff *ad, struct sg_tensor *node) {
    struct sg_ctx *ctx  = sg_ad_ctx(ad);
    struct sg_tensor *q = node->src[0], *k = node->src[1], *v = node->src[2];
    struct sg_tensor *packed =
        sg_attention_back(ctx, q, k, v, node->src[3], sg_ad_grad(ad, node), sg_get_param_f32(node, 0));
    if (!packed) return;
    size_t nq = (size_t)sg_nelements(q), nk = (size_t)sg_nelements(k);
    if (sg_ad_needs(ad, q)) sg_ad_accum(ad, q, grad_part(ctx, packed, q, 0));
    if (sg_ad_needs(ad, k)) sg_ad_accum(ad, k, grad_part(ctx, packed, k, nq));
    if (sg_ad_needs(ad, v)) sg_ad_accum(ad, v, grad_part(ctx, packed, v, nq + nk));
}

double sg_flops_attention(const struct sg_tensor *node) {
    const struct sg_tensor *q = node->src[0], *k = node->src[1], *v = node->src[2];
    double pairs = (double)q->ne[1] * (double)q->ne[2] * (double)k->ne[2] * (double)q->ne[3];
    return 2.0 * pairs * (double)(q->ne[0] + v->ne[0]);
}

double sg_flops_attention_back(const struct sg_tensor *node) {
    /* recompute scores, then dP = dO V^T, dV = P^T dO, dQ = dS K, dK = dS^T Q */
    return 2.5 * sg_flops_attention(node);
}
