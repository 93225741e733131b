/* The op table of the Vulkan backend: support test, scratch and recording per op. */
#include "vk_internal.h"

const struct sg_vk_op sg_vk_ops[SG_OP_COUNT] = {
    [SG_OP_CONT] = {sg_vk_copy_supports, NULL, sg_vk_copy_record},
    [SG_OP_CPY]  = {sg_vk_copy_supports, NULL, sg_vk_copy_record},

    [SG_OP_ADD] = {sg_vk_binary_supports, NULL, sg_vk_binary_record},
    [SG_OP_SUB] = {sg_vk_binary_supports, NULL, sg_vk_binary_record},
    [SG_OP_MUL] = {sg_vk_binary_supports, NULL, sg_vk_binary_record},
    [SG_OP_DIV] = {sg_vk_binary_supports, NULL, sg_vk_binary_record},

    [SG_OP_SCALE]      = {sg_vk_unary_supports, NULL, sg_vk_unary_record},
    [SG_OP_SQR]        = {sg_vk_unary_supports, NULL, sg_vk_unary_record},
    [SG_OP_SQRT]       = {sg_vk_unary_supports, NULL, sg_vk_unary_record},
    [SG_OP_RELU]       = {sg_vk_unary_supports, NULL, sg_vk_unary_record},
    [SG_OP_GELU]       = {sg_vk_unary_supports, NULL, sg_vk_unary_record},
    [SG_OP_LEAKY_RELU] = {sg_vk_unary_supports, NULL, sg_vk_unary_record},
    [SG_OP_SIGMOID]    = {sg_vk_unary_supports, NULL, sg_vk_unary_record},
    [SG_OP_TANH]       = {sg_vk_unary_supports, NULL, sg_vk_unary_record},
    [SG_OP_EXP]        = {sg_vk_unary_supports, NULL, sg_vk_unary_record},
    [SG_OP_STEP]       = {sg_vk_unary_supports, NULL, sg_vk_unary_record},
    [SG_OP_CLAMP]      = {sg_vk_unary_supports, NULL, sg_vk_unary_record},
    [SG_OP_ACT_BACK]   = {sg_vk_act_back_supports, NULL, sg_vk_act_back_record},

    [SG_OP_SUM_TO] = {sg_vk_sum_to_supports, NULL, sg_vk_sum_to_record},
    [SG_OP_REPEAT] = {sg_vk_unary_supports, NULL, sg_vk_unary_record},

    [SG_OP_MATMUL]          = {sg_vk_matmul_supports, NULL, sg_vk_matmul_record},
    [SG_OP_LAYER_NORM]      = {sg_vk_norm_supports, NULL, sg_vk_layer_norm_record},
    [SG_OP_LAYER_NORM_BACK] = {sg_vk_norm_supports, NULL, sg_vk_layer_norm_back_record},
    [SG_OP_ADD_LAYER_NORM]  = {sg_vk_norm_supports, NULL, sg_vk_add_layer_norm_record},
    [SG_OP_LINEAR]          = {sg_vk_matmul_supports, NULL, sg_vk_matmul_record},
    [SG_OP_SOFTMAX]         = {sg_vk_norm_supports, NULL, sg_vk_softmax_record},
    [SG_OP_ATTENTION]       = {sg_vk_attention_supports, NULL, sg_vk_attention_record},
    [SG_OP_ATTENTION_BACK]  = {sg_vk_attention_supports, sg_vk_attention_back_scratch, sg_vk_attention_back_record},

    [SG_OP_GET_ROWS]      = {sg_vk_index_supports, NULL, sg_vk_get_rows_record},
    [SG_OP_TOP_K]         = {sg_vk_index_supports, NULL, sg_vk_top_k_record},
    [SG_OP_GATHER]        = {sg_vk_index_supports, NULL, sg_vk_gather_record},
    [SG_OP_SCATTER]       = {sg_vk_index_supports, NULL, sg_vk_scatter_record},
    [SG_OP_EMBED_BAG]     = {sg_vk_sparse_supports, NULL, sg_vk_embed_bag_record},
    [SG_OP_SPARSE_DOT]    = {sg_vk_sparse_supports, NULL, sg_vk_sparse_dot_record},
    [SG_OP_SCATTER_OUTER] = {sg_vk_sparse_supports, sg_vk_scatter_outer_scratch, sg_vk_scatter_outer_record},

    [SG_OP_ADAM_STEP] = {sg_vk_adam_supports, NULL, sg_vk_adam_record},
};

/* Every tensor the node touches must be addressable with 32-bit element indices and live in
 * (or be bound for) device memory; each family then checks types, layouts and sizes. A tensor
 * larger than one storage buffer can hold (maxStorageBufferRange: 128 MiB on lavapipe and some
 * Intel drivers) cannot be bound at all, so its nodes go to the CPU fallback instead of failing
 * the whole graph at allocation. */
bool sg_vk_supports_op(const struct sg_vk_device *d, const struct sg_tensor *node) {
    if (node->op <= SG_OP_NONE || node->op >= SG_OP_COUNT) return false;
    if (sg_is_view_op(node->op)) return true;
    const struct sg_vk_op *op = &sg_vk_ops[node->op];
    if (!op->supports || !op->record) return false;
    if (sg_nbytes(node) > d->max_buffer) return false;
    for (int i = 0; i < SG_MAX_SRC; i++) {
        if (!node->src[i]) continue;
        if ((unsigned)node->src[i]->type >= SG_TYPE_COUNT || sg_nbytes(node->src[i]) > d->max_buffer) return false;
    }
    return op->supports(d, node);
}
