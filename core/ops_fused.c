/* Fused ops: the residual add with the LayerNorm that follows it (pre-norm blocks), and a
 * matmul with its bias and activation (a GEMM epilogue). Each computes what two or three
 * ordinary ops would, in fewer passes over memory; their backward rules are built from the
 * ordinary ops. */
#include "ops_impl.h"

/* ---- add_layer_norm ------------------------------------------------------------------------ */

sg_status sg_shape_add_layer_norm(struct sg_tensor *node) {
    const struct sg_tensor *x = node->src[0], *r = node->src[1];
    sg_status st = sg_require_type(node, x, "x", SG_TYPE_F32);
    if (st == SG_OK) st = sg_require_type(node, r, "r", SG_TYPE_F32);
    if (st == SG_OK) st = sg_require_rank(node, x, "x", SG_MAX_DIMS - 1);
    if (st == SG_OK) st = sg_check_row_vector(node, node->src[2], "weight");
    if (st == SG_OK) st = sg_check_row_vector(node, node->src[3], "bias");
    if (st != SG_OK) return st;
    if (!sg_same_shape(x, r)) {
        char sx[96], sr[96];
        return sg_error(SG_ERR_INVALID_ARG, "add_layer_norm: x '%s' %s and r '%s' %s differ in shape", x->name,
                        sg_shape_str(x, sx, sizeof sx), r->name, sg_shape_str(r, sr, sizeof sr));
    }
    int64_t ne[SG_MAX_DIMS];
    for (int d = 0; d < SG_MAX_DIMS; d++) ne[d] = x->ne[d];
    ne[sg_rank(x)] = 2; /* the new last dim: [sum | normalised sum] */
    sg_tensor_set_shape(node, SG_TYPE_F32, SG_MAX_DIMS, ne);
    return SG_OK;
}

struct sg_tensor *sg_add_layer_norm(struct sg_ctx *ctx, struct sg_tensor *x, struct sg_tensor *r, struct sg_tensor *w,
                                    struct sg_tensor *b, float eps) {
    return sg_op_new(ctx, SG_OP_ADD_LAYER_NORM, (struct sg_tensor *[]){x, r, w, b}, 4, (int32_t[]){sg_f32_param(eps)},
                     1);
}

/* Part i of a packed [.., 2] tensor (the result or its gradient), shaped like `like`. */
static struct sg_tensor *packed_part(struct sg_ctx *ctx, struct sg_tensor *packed, const struct sg_tensor *like,
                                     int i) {
    int64_t n = sg_nelements(like);
    return sg_reshape(ctx, sg_view_1d(ctx, packed, n, (size_t)(i * n) * sizeof(float)), SG_MAX_DIMS, like->ne);
}

struct sg_tensor *sg_add_layer_norm_part(struct sg_ctx *ctx, struct sg_tensor *packed, int i) {
    if (!packed) return NULL;
    if (packed->op != SG_OP_ADD_LAYER_NORM || (i != 0 && i != 1))
        return sg_ctx_fail(ctx, SG_ERR_INVALID_ARG,
                           "add_layer_norm_part: '%s' is not an add_layer_norm result, or "
                           "part %d is not 0 or 1",
                           packed->name, i);
    return packed_part(ctx, packed, packed->src[0], i);
}

void sg_backward_add_layer_norm(struct sg_autodiff *ad, struct sg_tensor *node) {
    /* s = x + r, y = LN(s):  ds = g_s + LN'(s) g_y;  dx = dr = ds */
    struct sg_ctx *ctx  = sg_ad_ctx(ad);
    struct sg_tensor *x = node->src[0], *r = node->src[1], *w = node->src[2], *b = node->src[3];
    struct sg_tensor *g = sg_cont_if_needed(ctx, sg_ad_grad(ad, node));
    float eps           = sg_get_param_f32(node, 0);
    struct sg_tensor *s = packed_part(ctx, node, x, 0), *gs = packed_part(ctx, g, x, 0);
    struct sg_tensor *gy = packed_part(ctx, g, x, 1);
    if (sg_ad_needs(ad, x) || sg_ad_needs(ad, r)) {
        struct sg_tensor *ds = sg_add(ctx, gs, sg_layer_norm_back(ctx, s, gy, w, eps));
        sg_ad_accum(ad, x, ds);
        sg_ad_accum(ad, r, ds);
    }
    if (w && sg_ad_needs(ad, w))
        sg_ad_accum(ad, w, sg_sum_like(ctx, sg_mul(ctx, gy, sg_layer_norm(ctx, s, NULL, NULL, eps)), w));
    if (b && sg_ad_needs(ad, b)) sg_ad_accum(ad, b, sg_sum_like(ctx, gy, b));
}

/* the add, then layer_norm's count */
double sg_flops_add_layer_norm(const struct sg_tensor *node) { return 9.0 * (double)sg_nelements(node->src[0]); }

/* ---- linear ---------------------------------------------------------------------------------- */

sg_status sg_shape_linear(struct sg_tensor *node) {
    sg_status st = sg_shape_matmul(node);
    if (st != SG_OK) return st;
    int32_t act = sg_get_param_i32(node, 0);
    if (act < SG_LINEAR_NONE || act >= SG_LINEAR_N_ACTS)
        return sg_error(SG_ERR_INVALID_ARG, "linear: activation %d is not an enum sg_linear_act", (int)act);
    const struct sg_tensor *bias = node->src[2];
    if (!bias) return SG_OK;
    st = sg_require_type(node, bias, "bias", SG_TYPE_F32);
    if (st != SG_OK) return st;
    if (bias->ne[0] != node->ne[0] || sg_nelements(bias) != bias->ne[0]) {
        char sb[96], sd[96];
        return sg_error(SG_ERR_INVALID_ARG, "linear: bias '%s' %s must be a vector of %lld for the product %s",
                        bias->name, sg_shape_str(bias, sb, sizeof sb), (long long)node->ne[0],
                        sg_shape_str(node, sd, sizeof sd));
    }
    return SG_OK;
}

struct sg_tensor *sg_linear(struct sg_ctx *ctx, struct sg_tensor *a, struct sg_tensor *b, struct sg_tensor *bias,
                            enum sg_linear_act act, float slope) {
    return sg_op_new(ctx, SG_OP_LINEAR, (struct sg_tensor *[]){a, b, bias}, 3,
                     (int32_t[]){(int32_t)act, sg_f32_param(slope)}, 2);
}

void sg_backward_linear(struct sg_autodiff *ad, struct sg_tensor *node) {
    /* y = f(z), z = a @ b + bias:  dz = f'(z) g, then matmul's rule and dbias = sum dz */
    struct sg_ctx *ctx  = sg_ad_ctx(ad);
    struct sg_tensor *a = node->src[0], *b = node->src[1], *bias = node->src[2];
    struct sg_tensor *g    = sg_ad_grad(ad, node);
    enum sg_linear_act act = (enum sg_linear_act)sg_get_param_i32(node, 0);
    float slope            = sg_get_param_f32(node, 1);
    struct sg_tensor *dz   = g;
    /* relu and a positive-slope leaky_relu keep the sign of z, so f'(z) = f'(y) and the output
     * serves; gelu (or a leaky slope <= 0) needs z again: the product is recomputed rather
     * than kept, since the point of the op is never to store it */
    if (act == SG_LINEAR_RELU) dz = sg_act_back(ctx, SG_ACT_RELU, node, g, 0.0f, 0.0f, 0.0f);
    if (act == SG_LINEAR_LEAKY_RELU) {
        struct sg_tensor *z = slope > 0.0f ? node : sg_linear(ctx, a, b, bias, SG_LINEAR_NONE, 0.0f);
        dz                  = sg_act_back(ctx, SG_ACT_LEAKY_RELU, z, g, slope, 0.0f, 0.0f);
    }
    if (act == SG_LINEAR_GELU)
        dz = sg_act_back(ctx, SG_ACT_GELU, sg_linear(ctx, a, b, bias, SG_LINEAR_NONE, 0.0f), g, 0.0f, 0.0f, 0.0f);
    if (!dz) return; /* a constructor failed; the context says why */
    sg_matmul_accum_grads(ad, a, b, dz);
    if (bias && sg_ad_needs(ad, bias)) sg_ad_accum(ad, bias, sg_sum_like(ctx, dz, bias));
}

double sg_flops_linear(const struct sg_tensor *node) {
    enum sg_linear_act act = (enum sg_linear_act)sg_get_param_i32(node, 0);
    double per_out         = (node->src[2] ? 1.0 : 0.0) + (act == SG_LINEAR_GELU ? 8.0 : act ? 1.0 : 0.0);
    return sg_flops_matmul(node) + per_out * (double)sg_nelements(node);
}
