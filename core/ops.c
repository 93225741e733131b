/* The op table: everything the engine knows about each op, one row per op. */
#include "ops.h"

#include <stdio.h>
#include <string.h>

#include "context.h"
#include "ops_impl.h"

#define ROW(op_, ...) [SG_OP_##op_] = {__VA_ARGS__}

/* one row per op, read as a table */
// clang-format off
static const struct sg_op_info op_table[SG_OP_COUNT] = {
    ROW(NONE,            .name = "none"),

    ROW(VIEW,            .name = "view",       .n_src = 1, .n_src_min = 1, .shape = sg_shape_view),
    ROW(RESHAPE,         .name = "reshape",    .n_src = 1, .n_src_min = 1, .shape = sg_shape_view,
                         .backward = sg_backward_reshape),
    ROW(PERMUTE,         .name = "permute",    .n_src = 1, .n_src_min = 1, .shape = sg_shape_view,
                         .backward = sg_backward_permute),
    ROW(TRANSPOSE,       .name = "transpose",  .n_src = 1, .n_src_min = 1, .shape = sg_shape_view,
                         .backward = sg_backward_transpose),

    ROW(DETACH,          .name = "detach",     .n_src = 1, .n_src_min = 1, .shape = sg_shape_view),

    ROW(CONT,            .name = "cont",       .n_src = 1, .n_src_min = 1, .shape = sg_shape_cont,
                         .backward = sg_backward_cont),
    ROW(CPY,             .name = "cpy",        .n_src = 2, .n_src_min = 2, .shape = sg_shape_cpy,
                         .backward = sg_backward_cpy),

    ROW(ADD,             .name = "add",        .n_src = 2, .n_src_min = 2, .inplace = true, .shape = sg_shape_binary,
                         .backward = sg_backward_add, .flops = sg_cost_per_element),
    ROW(SUB,             .name = "sub",        .n_src = 2, .n_src_min = 2, .inplace = true, .shape = sg_shape_binary,
                         .backward = sg_backward_sub, .flops = sg_cost_per_element),
    ROW(MUL,             .name = "mul",        .n_src = 2, .n_src_min = 2, .inplace = true, .shape = sg_shape_binary,
                         .backward = sg_backward_mul, .flops = sg_cost_per_element),
    ROW(DIV,             .name = "div",        .n_src = 2, .n_src_min = 2, .inplace = true, .shape = sg_shape_binary,
                         .backward = sg_backward_div, .flops = sg_cost_per_element),

    ROW(SCALE,           .name = "scale",      .n_src = 1, .n_src_min = 1, .inplace = true, .shape = sg_shape_unary,
                         .backward = sg_backward_scale, .flops = sg_cost_per_element),
    ROW(SQR,             .name = "sqr",        .n_src = 1, .n_src_min = 1, .inplace = true, .shape = sg_shape_unary,
                         .backward = sg_backward_sqr, .flops = sg_cost_per_element),
    ROW(SQRT,            .name = "sqrt",       .n_src = 1, .n_src_min = 1, .inplace = true, .shape = sg_shape_unary,
                         .backward = sg_backward_sqrt, .flops = sg_cost_per_element),
    ROW(RELU,            .name = "relu",       .n_src = 1, .n_src_min = 1, .inplace = true, .shape = sg_shape_unary,
                         .backward = sg_backward_activation, .flops = sg_cost_per_element),
    ROW(GELU,            .name = "gelu",       .n_src = 1, .n_src_min = 1, .inplace = true, .shape = sg_shape_unary,
                         .backward = sg_backward_activation, .flops = sg_flops_gelu),
    ROW(LEAKY_RELU,      .name = "leaky_relu", .n_src = 1, .n_src_min = 1, .inplace = true, .shape = sg_shape_unary,
                         .backward = sg_backward_activation, .flops = sg_cost_per_element),
    ROW(SIGMOID,         .name = "sigmoid",    .n_src = 1, .n_src_min = 1, .inplace = true, .shape = sg_shape_unary,
                         .backward = sg_backward_sigmoid, .flops = sg_cost_per_element),
    ROW(TANH,            .name = "tanh",       .n_src = 1, .n_src_min = 1, .inplace = true, .shape = sg_shape_unary,
                         .backward = sg_backward_tanh, .flops = sg_cost_per_element),
    ROW(CLAMP,           .name = "clamp",      .n_src = 1, .n_src_min = 1, .inplace = true, .shape = sg_shape_unary,
                         .backward = sg_backward_activation, .flops = sg_cost_per_element),
    ROW(EXP,             .name = "exp",        .n_src = 1, .n_src_min = 1, .inplace = true, .shape = sg_shape_unary,
                         .backward = sg_backward_exp, .flops = sg_cost_per_element),
    ROW(STEP,            .name = "step",       .n_src = 1, .n_src_min = 1, .inplace = true, .shape = sg_shape_unary,
                         .flops = sg_cost_per_element),
    ROW(ACT_BACK,        .name = "act_back",   .n_src = 2, .n_src_min = 2, .shape = sg_shape_act_back,
                         .flops = sg_flops_gelu),

    ROW(SUM_TO,          .name = "sum_to",     .n_src = 1, .n_src_min = 1, .shape = sg_shape_sum_to,
                         .backward = sg_backward_sum_to, .flops = sg_flops_sum_to),
    ROW(REPEAT,          .name = "repeat",     .n_src = 1, .n_src_min = 1, .shape = sg_shape_repeat,
                         .backward = sg_backward_repeat),

    ROW(MATMUL,          .name = "matmul",     .n_src = 2, .n_src_min = 2, .shape = sg_shape_matmul,
                         .backward = sg_backward_matmul, .flops = sg_flops_matmul),
    ROW(LAYER_NORM,      .name = "layer_norm", .n_src = 3, .n_src_min = 1, .shape = sg_shape_layer_norm,
                         .backward = sg_backward_layer_norm, .flops = sg_flops_layer_norm),
    ROW(LAYER_NORM_BACK, .name = "layer_norm_back", .n_src = 3, .n_src_min = 2, .shape = sg_shape_layer_norm_back,
                         .flops = sg_flops_layer_norm),
    ROW(ADD_LAYER_NORM,  .name = "add_layer_norm", .n_src = 4, .n_src_min = 2, .shape = sg_shape_add_layer_norm,
                         .backward = sg_backward_add_layer_norm, .flops = sg_flops_add_layer_norm),
    ROW(LINEAR,          .name = "linear",     .n_src = 3, .n_src_min = 2, .shape = sg_shape_linear,
                         .backward = sg_backward_linear, .flops = sg_flops_linear),
    ROW(SOFTMAX,         .name = "softmax",    .n_src = 1, .n_src_min = 1, .inplace = true, .shape = sg_shape_softmax,
                         .backward = sg_backward_softmax, .flops = sg_flops_softmax),
    ROW(ATTENTION,       .name = "attention",  .n_src = 4, .n_src_min = 3, .shape = sg_shape_attention,
                         .backward = sg_backward_attention, .flops = sg_flops_attention),
    ROW(ATTENTION_BACK,  .name = "attention_back", .n_src = 5, .n_src_min = 3, .shape = sg_shape_attention_back,
                         .flops = sg_flops_attention_back),

    ROW(GET_ROWS,        .name = "get_rows",   .n_src = 2, .n_src_min = 2, .shape = sg_shape_get_rows,
                         .backward = sg_backward_get_rows, .bytes = sg_bytes_indexed),
    ROW(TOP_K,           .name = "top_k",      .n_src = 1, .n_src_min = 1, .shape = sg_shape_top_k,
                         .flops = sg_flops_top_k),
    ROW(GATHER,          .name = "gather",     .n_src = 2, .n_src_min = 2, .shape = sg_shape_gather,
                         .backward = sg_backward_gather, .bytes = sg_bytes_indexed),
    ROW(SCATTER,         .name = "scatter",    .n_src = 2, .n_src_min = 2, .shape = sg_shape_scatter,
                         .backward = sg_backward_scatter),
    ROW(EMBED_BAG,       .name = "embed_bag",  .n_src = 3, .n_src_min = 3, .shape = sg_shape_embed_bag,
                         .backward = sg_backward_embed_bag, .flops = sg_flops_sparse, .bytes = sg_bytes_indexed),
    ROW(SPARSE_DOT,      .name = "sparse_dot", .n_src = 3, .n_src_min = 3, .shape = sg_shape_sparse_dot,
                         .backward = sg_backward_sparse_dot, .flops = sg_flops_sparse, .bytes = sg_bytes_indexed),
    ROW(SCATTER_OUTER,   .name = "scatter_outer", .n_src = 3, .n_src_min = 1, .shape = sg_shape_scatter_outer,
                         .backward = sg_backward_scatter_outer, .flops = sg_flops_sparse, .bytes = sg_bytes_indexed),

    ROW(ADAM_STEP,       .name = "adam_step",  .n_src = 6, .n_src_min = 5, .shape = sg_shape_adam_step,
                         .flops = sg_flops_adam_step),
};
// clang-format on

/* Optional sources sit at the end, except ATTENTION_BACK's mask (index 3) and SCATTER_OUTER's
 * coefficients (index 1): their shape rules check the required sources after them. */

const struct sg_op_info *sg_op_info(int op) {
    if (op < 0 || op >= SG_OP_COUNT) return &op_table[SG_OP_NONE];
    return &op_table[op];
}

const char *sg_op_name(int op) { return sg_op_info(op)->name; }

int sg_op_from_name(const char *name) {
    for (int op = 0; op < SG_OP_COUNT; op++)
        if (op_table[op].name && strcmp(op_table[op].name, name) == 0) return op;
    return SG_OP_COUNT;
}

double sg_op_flops(const struct sg_tensor *node) {
    const struct sg_op_info *info = sg_op_info(node->op);
    return info->flops ? info->flops(node) : 0.0;
}

double sg_op_bytes(const struct sg_tensor *node) {
    const struct sg_op_info *info = sg_op_info(node->op);
    if (sg_is_view_op(node->op) || node->op == SG_OP_NONE) return 0.0;
    return info->bytes ? info->bytes(node) : sg_cost_bytes_default(node);
}

/* ---- node creation ---------------------------------------------------------------------- */

struct sg_tensor *sg_op_new(struct sg_ctx *ctx, enum sg_op op, struct sg_tensor *const *src, int n_src,
                            const int32_t *params, int n_params) {
    const struct sg_op_info *info = &op_table[op];
    if (!ctx) return NULL;
    for (int i = 0; i < info->n_src_min; i++)
        if (!src[i]) return NULL; /* an earlier constructor failed and recorded why */
    struct sg_tensor *t = sg_ctx_alloc(ctx, sizeof *t);
    if (!t || sg_ctx_add_tensor(ctx, t) != 0)
        return sg_ctx_fail(ctx, SG_ERR_NO_MEMORY, "%s: out of memory", info->name);
    t->ctx = ctx;
    t->op  = op;
    for (int i = 0; i < n_src; i++) t->src[i] = src[i];
    if (n_params) memcpy(t->op_params, params, (size_t)n_params * sizeof *params);
    sg_error_clear();
    sg_status st = info->shape(t);
    if (st != SG_OK) {
        sg_ctx_fail(ctx, st, "%s", sg_last_error());
        t->op = SG_OP_NONE; /* keep a failed node out of any graph walk */
        sg_tensor_set_shape(t, SG_TYPE_F32, 1, (int64_t[]){1});
        return NULL;
    }
    return t;
}

/* ---- helpers shared by the families ----------------------------------------------------- */

sg_status sg_shape_like_src0(struct sg_tensor *node) {
    sg_tensor_set_shape(node, node->src[0]->type, SG_MAX_DIMS, node->src[0]->ne);
    return SG_OK;
}

sg_status sg_require_type(const struct sg_tensor *node, const struct sg_tensor *t, const char *what,
                          enum sg_type type) {
    if (t->type == type) return SG_OK;
    char s[96];
    return sg_error(SG_ERR_INVALID_ARG, "%s: %s '%s' %s must be %s", sg_op_name(node->op), what, t->name,
                    sg_shape_str(t, s, sizeof s), sg_type_name(type));
}

sg_status sg_require_rank(const struct sg_tensor *node, const struct sg_tensor *t, const char *what, int max_rank) {
    if (sg_rank(t) <= max_rank) return SG_OK;
    char s[96];
    return sg_error(SG_ERR_INVALID_ARG, "%s: %s '%s' %s has more than %d dimensions", sg_op_name(node->op), what,
                    t->name, sg_shape_str(t, s, sizeof s), max_rank);
}

double sg_cost_bytes_default(const struct sg_tensor *node) {
    double bytes = (double)sg_nelements(node) * (double)sg_type_size(node->type);
    for (int i = 0; i < SG_MAX_SRC; i++)
        if (node->src[i]) bytes += (double)sg_nelements(node->src[i]) * (double)sg_type_size(node->src[i]->type);
    return bytes;
}

double sg_cost_per_element(const struct sg_tensor *node) { return (double)sg_nelements(node); }

struct sg_tensor *sg_cont_if_needed(struct sg_ctx *ctx, struct sg_tensor *t) {
    return t && sg_is_contiguous(t) ? t : sg_cont(ctx, t);
}

struct sg_tensor *sg_unbroadcast(struct sg_ctx *ctx, struct sg_tensor *g, const struct sg_tensor *t) {
    if (!g || sg_same_shape(g, t)) return g;
    return sg_sum_to(ctx, g, t->ne);
}
