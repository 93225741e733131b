/* Elementwise F32 ops: broadcasting binary ops, unary functions, activation gradients, fills. */
#include "cl_ops.h"

/* Operation codes of the binary and unary kernels (kernels/elementwise.cl). */
enum cl_binop { CL_ADD = 0, CL_SUB, CL_MUL, CL_DIV };
enum cl_unop {
    CL_SCALE = 0,
    CL_SQR,
    CL_SQRT,
    CL_RELU,
    CL_GELU,
    CL_LEAKY,
    CL_SIGMOID,
    CL_TANH,
    CL_CLAMP,
    CL_FILL,
    CL_EXP,
    CL_STEP
};

static int binop_code(int op) {
    switch (op) {
    case SG_OP_SUB: return CL_SUB;
    case SG_OP_MUL: return CL_MUL;
    case SG_OP_DIV: return CL_DIV;
    default: return CL_ADD;
    }
}

static int unop_code(int op) {
    switch (op) {
    case SG_OP_SQR: return CL_SQR;
    case SG_OP_SQRT: return CL_SQRT;
    case SG_OP_RELU: return CL_RELU;
    case SG_OP_GELU: return CL_GELU;
    case SG_OP_LEAKY_RELU: return CL_LEAKY;
    case SG_OP_SIGMOID: return CL_SIGMOID;
    case SG_OP_TANH: return CL_TANH;
    case SG_OP_CLAMP: return CL_CLAMP;
    case SG_OP_EXP: return CL_EXP;
    case SG_OP_STEP: return CL_STEP;
    default: return CL_SCALE;
    }
}

/* Sets the tensor arguments and collapsed strides of an elementwise kernel over dst's shape,
 * then the caller adds its own scalars and launches with ew's range. */
static void ew_args(struct sg_cl_args *a, struct sg_cl_ew *ew, const struct sg_tensor *const *ops, int n) {
    sg_cl_ew_init(ew, ops[0]->ne, ops, n);
    for (int i = 0; i < n; i++) sg_cl_arg_tensor(a, ops[i]);
    sg_cl_arg_long8(a, ew->ne);
    for (int i = 0; i < n; i++) sg_cl_arg_long8(a, ew->nb[i]);
}

static sg_status ew_launch(struct sg_cl_enc *e, struct sg_cl_args *a, const struct sg_cl_ew *ew) {
    size_t global[3], local[3];
    sg_cl_ew_range(ew, global, local);
    return sg_cl_enc_launch(e, a, 3, global, local);
}

sg_status sg_cl_encode_binary(struct sg_cl_enc *e, const struct sg_tensor *node) {
    cl_kernel k;
    sg_status st = sg_cl_enc_kernel(e, SG_CL_K_BINARY, &k);
    if (st != SG_OK) return st;
    struct sg_cl_args a = sg_cl_args(k);
    struct sg_cl_ew ew;
    ew_args(&a, &ew, (const struct sg_tensor *[]){node, node->src[0], node->src[1]}, 3);
    sg_cl_arg_i32(&a, binop_code(node->op));
    return ew_launch(e, &a, &ew);
}

static sg_status unary(struct sg_cl_enc *e, const struct sg_tensor *dst, const struct sg_tensor *src, int code,
                       float p0, float p1) {
    cl_kernel k;
    sg_status st = sg_cl_enc_kernel(e, SG_CL_K_UNARY, &k);
    if (st != SG_OK) return st;
    struct sg_cl_args a = sg_cl_args(k);
    struct sg_cl_ew ew;
    ew_args(&a, &ew, (const struct sg_tensor *[]){dst, src}, 2);
    sg_cl_arg_i32(&a, code);
    sg_cl_arg_f32(&a, p0);
    sg_cl_arg_f32(&a, p1);
    return ew_launch(e, &a, &ew);
}

sg_status sg_cl_encode_unary(struct sg_cl_enc *e, const struct sg_tensor *node) {
    return unary(e, node, node->src[0], unop_code(node->op), sg_get_param_f32(node, 0), sg_get_param_f32(node, 1));
}

sg_status sg_cl_encode_fill(struct sg_cl_enc *e, const struct sg_tensor *t, float value) {
    return unary(e, t, t, CL_FILL, value, 0.0f);
}

sg_status sg_cl_encode_act_back(struct sg_cl_enc *e, const struct sg_tensor *node) {
    cl_kernel k;
    sg_status st = sg_cl_enc_kernel(e, SG_CL_K_ACT_BACK, &k);
    if (st != SG_OK) return st;
    struct sg_cl_args a = sg_cl_args(k);
    struct sg_cl_ew ew;
    ew_args(&a, &ew, (const struct sg_tensor *[]){node, node->src[0], node->src[1]}, 3);
    sg_cl_arg_i32(&a, sg_get_param_i32(node, 0));
    sg_cl_arg_f32(&a, sg_get_param_f32(node, 1));
    sg_cl_arg_f32(&a, sg_get_param_f32(node, 2));
    sg_cl_arg_f32(&a, sg_get_param_f32(node, 3));
    return ew_launch(e, &a, &ew);
}

sg_status sg_cl_encode_fill_u32(struct sg_cl_enc *e, cl_mem mem, cl_ulong offset, int64_t n, uint32_t value) {
    cl_kernel k;
    sg_status st = sg_cl_enc_kernel(e, SG_CL_K_FILL_U32, &k);
    if (st != SG_OK) return st;
    struct sg_cl_args a = sg_cl_args(k);
    sg_cl_arg_mem(&a, mem, offset);
    sg_cl_arg_i64(&a, n);
    sg_cl_arg_u32(&a, value);
    size_t global[1] = {(size_t)n}, local[1] = {64};
    return sg_cl_enc_launch(e, &a, 1, global, local);
}
