/* Elementwise ops: broadcasting binary ops, unary functions and activation gradients. */
#include "ops_impl.h"

sg_status sg_shape_binary(struct sg_tensor *node) {
    const struct sg_tensor *a = node->src[0], *b = node->src[1];
    sg_status st = sg_require_type(node, a, "a", SG_TYPE_F32);
    if (st == SG_OK) st = sg_require_type(node, b, "b", SG_TYPE_F32);
    if (st != SG_OK) return st;
    int64_t ne[SG_MAX_DIMS];
    for (int d = 0; d < SG_MAX_DIMS; d++) {
        if (a->ne[d] != b->ne[d] && a->ne[d] != 1 && b->ne[d] != 1) {
            char sa[96], sb[96];
            return sg_error(SG_ERR_INVALID_ARG, "%s: shapes %s ('%s') and %s ('%s') do not broadcast (dimension %d)",
                            sg_op_name(node->op), sg_shape_str(a, sa, sizeof sa), a->name,
                            sg_shape_str(b, sb, sizeof sb), b->name, d);
        }
        ne[d] = a->ne[d] > b->ne[d] ? a->ne[d] : b->ne[d];
    }
    sg_tensor_set_shape(node, SG_TYPE_F32, SG_MAX_DIMS, ne);
    return SG_OK;
}

static struct sg_tensor *binary(struct sg_ctx *ctx, enum sg_op op, struct sg_tensor *a, struct sg_tensor *b) {
    return sg_op_new(ctx, op, (struct sg_tensor *[]){a, b}, 2, NULL, 0);
}

struct sg_tensor *sg_add(struct sg_ctx *ctx, struct sg_tensor *a, struct sg_tensor *b) {
    return binary(ctx, SG_OP_ADD, a, b);
}
struct sg_tensor *sg_sub(struct sg_ctx *ctx, struct sg_tensor *a, struct sg_tensor *b) {
    return binary(ctx, SG_OP_SUB, a, b);
}
struct sg_tensor *sg_mul(struct sg_ctx *ctx, struct sg_tensor *a, struct sg_tensor *b) {
    return binary(ctx, SG_OP_MUL, a, b);
}
struct sg_tensor *sg_div(struct sg_ctx *ctx, struct sg_tensor *a, struct sg_tensor *b) {
    return binary(ctx, SG_OP_DIV, a, b);
}

sg_status sg_shape_unary(struct sg_tensor *node) {
    sg_status st = sg_require_type(node, node->src[0], "input", SG_TYPE_F32);
    return st == SG_OK ? sg_shape_like_src0(node) : st;
}

static struct sg_tensor *unary(struct sg_ctx *ctx, enum sg_op op, struct sg_tensor *a, const int32_t *params,
                               int n_params) {
    return sg_op_new(ctx, op, (struct sg_tensor *[]){a}, 1, params, n_params);
}

struct sg_tensor *sg_scale_bias(struct sg_ctx *ctx, struct sg_tensor *a, float s, float b) {
    return unary(ctx, SG_OP_SCALE, a, (int32_t[]){sg_f32_param(s), sg_f32_param(b)}, 2);
}
struct sg_tensor *sg_scale(struct sg_ctx *ctx, struct sg_tensor *a, float s) {
    return sg_scale_bias(ctx, a, s, 0.0f);
}
struct sg_tensor *sg_sqr(struct sg_ctx *ctx, struct sg_tensor *a) {
    return unary(ctx, SG_OP_SQR, a, NULL, 0);
}
struct sg_tensor *sg_sqrt(struct sg_ctx *ctx, struct sg_tensor *a) {
    return unary(ctx, SG_OP_SQRT, a, NULL, 0);
}
struct sg_tensor *sg_relu(struct sg_ctx *ctx, struct sg_tensor *a) {
    return unary(ctx, SG_OP_RELU, a, NULL, 0);
}
struct sg_tensor *sg_gelu(struct sg_ctx *ctx, struct sg_tensor *a) {
    return unary(ctx, SG_OP_GELU, a, NULL, 0);
}
struct sg_tensor *sg_sigmoid(struct sg_ctx *ctx, struct sg_tensor *a) {
    return unary(ctx, SG_OP_SIGMOID, a, NULL, 0);
}
struct sg_tensor *sg_tanh(struct sg_ctx *ctx, struct sg_tensor *a) {
    return unary(ctx, SG_OP_TANH, a, NULL, 0);
}

struct sg_tensor *sg_exp(struct sg_ctx *ctx, struct sg_tensor *a) {
    return unary(ctx, SG_OP_EXP, a, NULL, 0);
}
struct sg_tensor *sg_step(struct sg_ctx *ctx, struct sg_tensor *a) {
    return unary(ctx, SG_OP_STEP, a, NULL, 0);
}

struct sg_tensor *sg_leaky_relu(struct sg_ctx *ctx, struct sg_tensor *a, float slope) {
    return unary(ctx, SG_OP_LEAKY_RELU, a, (int32_t[]){sg_f32_param(slope)}, 1);
}

struct sg_tensor *sg_clamp(struct sg_ctx *ctx, struct sg_tensor *a, float min, float max) {
    if (!(min <= max)) return sg_ctx_fail(ctx, SG_ERR_INVALID_ARG, "clamp: min %g is above max %g", min, max);
    return unary(ctx, SG_OP_CLAMP, a, (int32_t[]){sg_f32_param(min), sg_f32_param(max)}, 2);
}

sg_status sg_shape_act_back(struct sg_tensor *node) {
    const struct sg_tensor *x = node->src[0], *dy = node->src[1];
    sg_status st = sg_require_type(node, x, "x", SG_TYPE_F32);
    if (st == SG_OK) st = sg_require_type(node, dy, "dy", SG_TYPE_F32);
    if (st != SG_OK) return st;
    if (!sg_same_shape(x, dy)) {
        char sx[96], sd[96];
        return sg_error(SG_ERR_INVALID_ARG, "act_back: x %s and dy %s differ in shape", sg_shape_str(x, sx, sizeof sx),
                        sg_shape_str(dy, sd, sizeof sd));
    }
    if ((unsigned)node->op_params[0] > SG_ACT_CLAMP)
        return sg_error(SG_ERR_INVALID_ARG, "act_back: unknown activation %d", node->op_params[0]);
    return sg_shape_like_src0(node);
}

struct sg_tensor *sg_act_back(struct sg_ctx *ctx, enum sg_act act, struct sg_tensor *x, struct sg_tensor *dy,
                              float alpha, float lo, float hi) {
    int32_t params[] = {(int32_t)act, sg_f32_param(alpha), sg_f32_param(lo), sg_f32_param(hi)};
    return sg_op_new(ctx, SG_OP_ACT_BACK, (struct sg_tensor *[]){x, dy}, 2, params, 4);
}

/* ---- backward rules --------------------------------------------------------------------- */

void sg_backward_add(struct sg_autodiff *ad, struct sg_tensor *node) {
    struct sg_ctx *ctx  = sg_ad_ctx(ad);
    struct sg_tensor *g = sg_ad_grad(ad, node);
    if (sg_ad_needs(ad, node->src[0])) sg_ad_accum(ad, node->src[0], sg_unbroadcast(ctx, g, node->src[0]));
    if (sg_ad_needs(ad, node->src[1])) sg_ad_accum(ad, node->src[1], sg_unbroadcast(ctx, g, node->src[1]));
}

void sg_backward_sub(struct sg_autodiff *ad, struct sg_tensor *node) {
    struct sg_ctx *ctx  = sg_ad_ctx(ad);
    struct sg_tensor *g = sg_ad_grad(ad, node);
    if (sg_ad_needs(ad, node->src[0])) sg_ad_accum(ad, node->src[0], sg_unbroadcast(ctx, g, node->src[0]));
    if (sg_ad_needs(ad, node->src[1]))
        sg_ad_accum(ad, node->src[1], sg_unbroadcast(ctx, sg_scale(ctx, g, -1.0f), node->src[1]));
}

void sg_backward_mul(struct sg_autodiff *ad, struct sg_tensor *node) {
    struct sg_ctx *ctx  = sg_ad_ctx(ad);
    struct sg_tensor *g = sg_ad_grad(ad, node), *a = node->src[0], *b = node->src[1];
    if (sg_ad_needs(ad, a)) sg_ad_accum(ad, a, sg_unbroadcast(ctx, sg_mul(ctx, g, b), a));
    if (sg_ad_needs(ad, b)) sg_ad_accum(ad, b, sg_unbroadcast(ctx, sg_mul(ctx, g, a), b));
}

void sg_backward_div(struct sg_autodiff *ad, struct sg_tensor *node) {
    /* d(a/b)/da = 1/b;  d(a/b)/db = -(a/b)/b */
    struct sg_ctx *ctx  = sg_ad_ctx(ad);
    struct sg_tensor *g = sg_ad_grad(ad, node), *a = node->src[0], *b = node->src[1];
    if (sg_ad_needs(ad, a)) sg_ad_accum(ad, a, sg_unbroadcast(ctx, sg_div(ctx, g, b), a));
    if (sg_ad_needs(ad, b))
        sg_ad_accum(ad, b, sg_unbroadcast(ctx, sg_scale(ctx, sg_div(ctx, sg_mul(ctx, g, node), b), -1.0f), b));
}

void sg_backward_scale(struct sg_autodiff *ad, struct sg_tensor *node) {
    sg_ad_accum(ad, node->src[0], sg_scale(sg_ad_ctx(ad), sg_ad_grad(ad, node), sg_get_param_f32(node, 0)));
}

void sg_backward_sqr(struct sg_autodiff *ad, struct sg_tensor *node) {
    struct sg_ctx *ctx = sg_ad_ctx(ad);
    sg_ad_accum(ad, node->src[0], sg_mul(ctx, sg_ad_grad(ad, node), sg_scale(ctx, node->src[0], 2.0f)));
}

void sg_backward_sqrt(struct sg_autodiff *ad, struct sg_tensor *node) {
    struct sg_ctx *ctx = sg_ad_ctx(ad);
    sg_ad_accum(ad, node->src[0], sg_div(ctx, sg_ad_grad(ad, node), sg_scale(ctx, node, 2.0f)));
}

void sg_backward_activation(struct sg_autodiff *ad, struct sg_tensor *node) {
    struct sg_ctx *ctx  = sg_ad_ctx(ad);
    struct sg_tensor *x = node->src[0], *g = sg_ad_grad(ad, node), *dx = NULL;
    switch (node->op) {
    case SG_OP_RELU: dx = sg_act_back(ctx, SG_ACT_RELU, x, g, 0, 0, 0); break;
    case SG_OP_GELU: dx = sg_act_back(ctx, SG_ACT_GELU, x, g, 0, 0, 0); break;
    case SG_OP_LEAKY_RELU: dx = sg_act_back(ctx, SG_ACT_LEAKY_RELU, x, g, sg_get_param_f32(node, 0), 0, 0); break;
    case SG_OP_CLAMP:
        dx = sg_act_back(ctx, SG_ACT_CLAMP, x, g, 0, sg_get_param_f32(node, 0), sg_get_param_f32(node, 1));
        break;
    default: break;
    }
    sg_ad_accum(ad, x, dx);
}

void sg_backward_sigmoid(struct sg_autodiff *ad, struct sg_tensor *node) {
    /* s' = s (1 - s), from the output */
    struct sg_ctx *ctx   = sg_ad_ctx(ad);
    struct sg_tensor *ds = sg_mul(ctx, node, sg_scale_bias(ctx, node, -1.0f, 1.0f));
    sg_ad_accum(ad, node->src[0], sg_mul(ctx, sg_ad_grad(ad, node), ds));
}

void sg_backward_tanh(struct sg_autodiff *ad, struct sg_tensor *node) {
    /* tanh' = 1 - tanh^2, from the output */
    struct sg_ctx *ctx   = sg_ad_ctx(ad);
    struct sg_tensor *dt = sg_scale_bias(ctx, sg_sqr(ctx, node), -1.0f, 1.0f);
    sg_ad_accum(ad, node->src[0], sg_mul(ctx, sg_ad_grad(ad, node), dt));
}

void sg_backward_exp(struct sg_autodiff *ad, struct sg_tensor *node) {
    /* exp' = exp, the output itself */
    sg_ad_accum(ad, node->src[0], sg_mul(sg_ad_ctx(ad), sg_ad_grad(ad, node), node));
}

double sg_flops_gelu(const struct sg_tensor *node) { return 10.0 * (double)sg_nelements(node); }
