/* The fast kernel table and what both CPU kernel tables accept. */
#include "backends/cpu/cpu_ops.h"
#include "backends/cpu/cpu_util.h"
#include "core/ops.h"

const struct sg_cpu_kernel sg_cpu_kernels[SG_OP_COUNT] = {
    [SG_OP_CONT] = {sg_cpu_copy_compute, sg_cpu_copy_work_size},
    [SG_OP_CPY]  = {sg_cpu_copy_compute, sg_cpu_copy_work_size},

    [SG_OP_ADD] = {sg_cpu_binary_compute, sg_cpu_ew_work_size},
    [SG_OP_SUB] = {sg_cpu_binary_compute, sg_cpu_ew_work_size},
    [SG_OP_MUL] = {sg_cpu_binary_compute, sg_cpu_ew_work_size},
    [SG_OP_DIV] = {sg_cpu_binary_compute, sg_cpu_ew_work_size},

    [SG_OP_SCALE]      = {sg_cpu_unary_compute, sg_cpu_ew_work_size},
    [SG_OP_SQR]        = {sg_cpu_unary_compute, sg_cpu_ew_work_size},
    [SG_OP_SQRT]       = {sg_cpu_unary_compute, sg_cpu_ew_work_size},
    [SG_OP_RELU]       = {sg_cpu_unary_compute, sg_cpu_ew_work_size},
    [SG_OP_GELU]       = {sg_cpu_unary_compute, sg_cpu_ew_work_size},
    [SG_OP_LEAKY_RELU] = {sg_cpu_unary_compute, sg_cpu_ew_work_size},
    [SG_OP_SIGMOID]    = {sg_cpu_unary_compute, sg_cpu_ew_work_size},
    [SG_OP_TANH]       = {sg_cpu_unary_compute, sg_cpu_ew_work_size},
    [SG_OP_CLAMP]      = {sg_cpu_unary_compute, sg_cpu_ew_work_size},
    [SG_OP_EXP]        = {sg_cpu_unary_compute, sg_cpu_ew_work_size},
    [SG_OP_STEP]       = {sg_cpu_unary_compute, sg_cpu_ew_work_size},
    [SG_OP_ACT_BACK]   = {sg_cpu_act_back_compute, sg_cpu_ew_work_size},

    [SG_OP_SUM_TO] = {sg_cpu_sum_to_compute, sg_cpu_sum_to_work_size},
    [SG_OP_REPEAT] = {sg_cpu_repeat_compute, sg_cpu_ew_work_size},

    [SG_OP_MATMUL]          = {sg_cpu_matmul_compute, sg_cpu_matmul_work_size},
    [SG_OP_LAYER_NORM]      = {sg_cpu_layer_norm_compute, sg_cpu_norm_work_size},
    [SG_OP_LAYER_NORM_BACK] = {sg_cpu_layer_norm_back_compute, sg_cpu_norm_work_size},
    [SG_OP_ADD_LAYER_NORM]  = {sg_cpu_add_layer_norm_compute, sg_cpu_norm_work_size},
    [SG_OP_LINEAR]          = {sg_cpu_linear_compute, sg_cpu_linear_work_size},
    [SG_OP_SOFTMAX]         = {sg_cpu_softmax_compute, sg_cpu_softmax_work_size},
    [SG_OP_ATTENTION]       = {sg_cpu_attention_compute, sg_cpu_attention_work_size},
    [SG_OP_ATTENTION_BACK]  = {sg_cpu_attention_back_compute, sg_cpu_attention_back_work_size},

    [SG_OP_GET_ROWS]      = {sg_cpu_get_rows_compute, NULL},
    [SG_OP_TOP_K]         = {sg_cpu_top_k_compute, sg_cpu_top_k_work_size},
    [SG_OP_GATHER]        = {sg_cpu_gather_compute, NULL},
    [SG_OP_SCATTER]       = {sg_cpu_scatter_compute, NULL},
    [SG_OP_EMBED_BAG]     = {sg_cpu_embed_bag_compute, sg_cpu_sparse_work_size},
    [SG_OP_SPARSE_DOT]    = {sg_cpu_sparse_dot_compute, sg_cpu_sparse_work_size},
    [SG_OP_SCATTER_OUTER] = {sg_cpu_scatter_outer_compute, sg_cpu_scatter_outer_work_size},

    [SG_OP_ADAM_STEP] = {sg_cpu_adam_step_compute, NULL},
};

static bool sg_cpu_is_float(const struct sg_tensor *t) {
    return t->type == SG_TYPE_F32 || t->type == SG_TYPE_F16 || t->type == SG_TYPE_BF16;
}

static bool sg_cpu_is(const struct sg_tensor *t, enum sg_type type) { return t && t->type == type; }

/* Absent (optional) or of the given type. */
static bool sg_cpu_opt(const struct sg_tensor *t, enum sg_type type) { return !t || t->type == type; }

/* Every dim of t is 1 or like's. */
static bool sg_cpu_broadcasts(const struct sg_tensor *t, const struct sg_tensor *like) {
    for (int d = 0; d < SG_MAX_DIMS; d++)
        if (t->ne[d] != 1 && t->ne[d] != like->ne[d]) return false;
    return true;
}

static bool sg_cpu_rank_at_most(const struct sg_tensor *t, int rank) {
    for (int d = rank; d < SG_MAX_DIMS; d++)
        if (t->ne[d] != 1) return false;
    return true;
}

/* q, k, v F32 of rank <= 4 agreeing in head size, heads, keys and batch; an I32 key mask. */
static bool sg_cpu_attention_ok(const struct sg_tensor *node) {
    const struct sg_tensor *q = node->src[0], *k = node->src[1], *v = node->src[2];
    return sg_cpu_is(node, SG_TYPE_F32) && sg_cpu_is(q, SG_TYPE_F32) && sg_cpu_is(k, SG_TYPE_F32) &&
           sg_cpu_is(v, SG_TYPE_F32) && sg_cpu_opt(node->src[3], SG_TYPE_I32) && sg_cpu_rank_at_most(q, 4) &&
           sg_cpu_rank_at_most(k, 4) && sg_cpu_rank_at_most(v, 4) && q->ne[0] == k->ne[0] && q->ne[1] == k->ne[1] &&
           q->ne[3] == k->ne[3] && v->ne[1] == k->ne[1] && v->ne[2] == k->ne[2] && v->ne[3] == k->ne[3];
}

/* Types and layouts the kernels handle: every op reads its sources through their strides, so
 * what is checked is types and the shape relations the kernels index by. The op constructors
 * already enforce these; this guards nodes built or edited by other means. */
bool sg_cpu_supports_op(const struct sg_tensor *node) {
    const struct sg_tensor *s0 = node->src[0], *s1 = node->src[1], *s2 = node->src[2];
    const struct sg_tensor *s4 = node->src[4];
    switch (node->op) {
    case SG_OP_NONE:
    case SG_OP_VIEW:
    case SG_OP_RESHAPE:
    case SG_OP_PERMUTE:
    case SG_OP_TRANSPOSE:
    case SG_OP_DETACH: return true;
    case SG_OP_CONT:
    case SG_OP_CPY:
        if (!s0 || sg_nelements(s0) != sg_nelements(node)) return false;
        return (sg_cpu_is_float(s0) && sg_cpu_is_float(node)) || (s0->type == SG_TYPE_I32 && node->type == SG_TYPE_I32);
    case SG_OP_ADD:
    case SG_OP_SUB:
    case SG_OP_MUL:
    case SG_OP_DIV:
        return sg_cpu_is(node, SG_TYPE_F32) && sg_cpu_is(s0, SG_TYPE_F32) && sg_cpu_is(s1, SG_TYPE_F32) &&
               sg_cpu_broadcasts(s0, node) && sg_cpu_broadcasts(s1, node);
    case SG_OP_SCALE:
    case SG_OP_SQR:
    case SG_OP_SQRT:
    case SG_OP_RELU:
    case SG_OP_GELU:
    case SG_OP_LEAKY_RELU:
    case SG_OP_SIGMOID:
    case SG_OP_TANH:
    case SG_OP_EXP:
    case SG_OP_STEP:
    case SG_OP_CLAMP: return sg_cpu_is(node, SG_TYPE_F32) && sg_cpu_is(s0, SG_TYPE_F32) && sg_same_shape(s0, node);
    case SG_OP_ACT_BACK:
        return sg_cpu_is(node, SG_TYPE_F32) && sg_cpu_is(s0, SG_TYPE_F32) && sg_cpu_is(s1, SG_TYPE_F32) &&
               sg_same_shape(s0, node) && sg_same_shape(s1, node) && sg_get_param_i32(node, 0) >= SG_ACT_RELU &&
               sg_get_param_i32(node, 0) <= SG_ACT_CLAMP;
    case SG_OP_SUM_TO: return sg_cpu_is(node, SG_TYPE_F32) && sg_cpu_is(s0, SG_TYPE_F32) && sg_cpu_broadcasts(node, s0);
    case SG_OP_REPEAT: return sg_cpu_is(node, SG_TYPE_F32) && sg_cpu_is(s0, SG_TYPE_F32) && sg_cpu_broadcasts(s0, node);
    case SG_OP_MATMUL:
        return sg_cpu_is(node, SG_TYPE_F32) && s0 && sg_cpu_is_float(s0) &&
               (sg_cpu_is(s1, SG_TYPE_F32) || sg_cpu_is(s1, SG_TYPE_BF16)) && s1->ne[1] == s0->ne[0] &&
               node->ne[0] == s1->ne[0] && node->ne[1] == s0->ne[1];
    case SG_OP_LAYER_NORM:
        return sg_cpu_is(node, SG_TYPE_F32) && sg_cpu_is(s0, SG_TYPE_F32) && sg_same_shape(s0, node) &&
               sg_cpu_opt(s1, SG_TYPE_F32) && sg_cpu_opt(s2, SG_TYPE_F32);
    case SG_OP_LINEAR:
        return sg_cpu_is(node, SG_TYPE_F32) && s0 && sg_cpu_is_float(s0) &&
               (sg_cpu_is(s1, SG_TYPE_F32) || sg_cpu_is(s1, SG_TYPE_BF16)) && s1->ne[1] == s0->ne[0] &&
               node->ne[0] == s1->ne[0] && node->ne[1] == s0->ne[1] && sg_cpu_opt(s2, SG_TYPE_F32) &&
               (!s2 || sg_nelements(s2) == node->ne[0]) && sg_get_param_i32(node, 0) >= SG_LINEAR_NONE &&
               sg_get_param_i32(node, 0) < SG_LINEAR_N_ACTS;
    case SG_OP_ADD_LAYER_NORM:
        return sg_cpu_is(node, SG_TYPE_F32) && sg_cpu_is(s0, SG_TYPE_F32) && sg_cpu_is(s1, SG_TYPE_F32) &&
               sg_same_shape(s0, s1) && sg_nelements(node) == 2 * sg_nelements(s0) && sg_is_contiguous(node) &&
               sg_cpu_opt(s2, SG_TYPE_F32) && sg_cpu_opt(node->src[3], SG_TYPE_F32);
    case SG_OP_LAYER_NORM_BACK:
        return sg_cpu_is(node, SG_TYPE_F32) && sg_cpu_is(s0, SG_TYPE_F32) && sg_cpu_is(s1, SG_TYPE_F32) &&
               sg_same_shape(s0, node) && sg_same_shape(s1, node) && sg_cpu_opt(s2, SG_TYPE_F32);
    case SG_OP_SOFTMAX: return sg_cpu_is(node, SG_TYPE_F32) && sg_cpu_is(s0, SG_TYPE_F32) && sg_same_shape(s0, node);
    case SG_OP_ATTENTION: return sg_cpu_attention_ok(node);
    case SG_OP_ATTENTION_BACK: return sg_cpu_attention_ok(node) && sg_cpu_is(s4, SG_TYPE_F32) && sg_is_contiguous(node);
    case SG_OP_GET_ROWS:
        return sg_cpu_is(node, SG_TYPE_F32) && s0 && sg_cpu_is_float(s0) && sg_cpu_is(s1, SG_TYPE_I32) &&
               sg_cpu_rank_at_most(s0, 2) && sg_nrows(node) == sg_nelements(s1);
    case SG_OP_TOP_K:
        return sg_cpu_is(node, SG_TYPE_I32) && sg_cpu_is(s0, SG_TYPE_F32) && node->ne[0] <= s0->ne[0] &&
               sg_nrows(node) == sg_nrows(s0);
    case SG_OP_GATHER:
        return sg_cpu_is(node, SG_TYPE_F32) && sg_cpu_is(s0, SG_TYPE_F32) && sg_cpu_is(s1, SG_TYPE_I32) &&
               sg_same_shape(s1, node) && sg_nrows(s0) == sg_nrows(node);
    case SG_OP_SCATTER:
        return sg_cpu_is(node, SG_TYPE_F32) && sg_cpu_is(s0, SG_TYPE_F32) && sg_cpu_is(s1, SG_TYPE_I32) &&
               sg_same_shape(s0, s1) && sg_nrows(s0) == sg_nrows(node);
    case SG_OP_EMBED_BAG:
        return sg_cpu_is(node, SG_TYPE_F32) && sg_cpu_is(s0, SG_TYPE_F32) && sg_cpu_is(s1, SG_TYPE_I32) &&
               sg_cpu_is(s2, SG_TYPE_F32) && sg_cpu_rank_at_most(s0, 2) && sg_same_shape(s1, s2) &&
               node->ne[0] == s0->ne[0] && sg_nrows(node) == sg_nrows(s1);
    case SG_OP_SPARSE_DOT:
        return sg_cpu_is(node, SG_TYPE_F32) && sg_cpu_is(s0, SG_TYPE_F32) && sg_cpu_is(s1, SG_TYPE_I32) &&
               sg_cpu_is(s2, SG_TYPE_F32) && sg_cpu_rank_at_most(s0, 2) && sg_same_shape(s1, node) &&
               s2->ne[0] == s0->ne[0] && sg_nrows(s2) == sg_nrows(s1);
    case SG_OP_SCATTER_OUTER:
        return sg_cpu_is(node, SG_TYPE_F32) && sg_cpu_is(s0, SG_TYPE_I32) && sg_cpu_opt(s1, SG_TYPE_F32) &&
               sg_cpu_is(s2, SG_TYPE_F32) && sg_cpu_rank_at_most(node, 2) && node->ne[0] == s2->ne[0] &&
               sg_nrows(s2) == sg_nrows(s0) && (!s1 || sg_same_shape(s1, s0));
    case SG_OP_ADAM_STEP:
        for (int i = 0; i < 5; i++)
            if (!sg_cpu_is(node->src[i], SG_TYPE_F32)) return false;
        return sg_cpu_opt(node->src[5], SG_TYPE_F32) && sg_same_shape(s1, s0) && sg_same_shape(node->src[2], s0) &&
               sg_same_shape(node->src[3], s0) && sg_same_shape(node, s0) &&
               sg_nelements(node->src[4]) >= SG_ADAM_N_PARAMS;
    default: return false;
    }
}
