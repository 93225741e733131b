/* The reference kernel table: one slot per op, NULL for ops that need no kernel (views). */
#include <stdlib.h>

#include "backends/cpu/ref/ref.h"
#include "core/log.h"

void *sg_ref_calloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        SG_LOGE("reference kernel: out of memory allocating %zu x %zu bytes", n, size);
        abort();
    }
    return p;
}

const sg_ref_kernel_fn sg_ref_kernels[SG_OP_COUNT] = {
    [SG_OP_CONT] = sg_ref_cont,
    [SG_OP_CPY]  = sg_ref_cpy,

    [SG_OP_ADD] = sg_ref_add,
    [SG_OP_SUB] = sg_ref_sub,
    [SG_OP_MUL] = sg_ref_mul,
    [SG_OP_DIV] = sg_ref_div,

    [SG_OP_SCALE]      = sg_ref_scale,
    [SG_OP_SQR]        = sg_ref_sqr,
    [SG_OP_SQRT]       = sg_ref_sqrt,
    [SG_OP_RELU]       = sg_ref_relu,
    [SG_OP_GELU]       = sg_ref_gelu,
    [SG_OP_LEAKY_RELU] = sg_ref_leaky_relu,
    [SG_OP_SIGMOID]    = sg_ref_sigmoid,
    [SG_OP_TANH]       = sg_ref_tanh,
    [SG_OP_CLAMP]      = sg_ref_clamp,
    [SG_OP_EXP]        = sg_ref_exp,
    [SG_OP_STEP]       = sg_ref_step,
    [SG_OP_ACT_BACK]   = sg_ref_act_back,

    [SG_OP_SUM_TO] = sg_ref_sum_to,
    [SG_OP_REPEAT] = sg_ref_repeat,

    [SG_OP_MATMUL]          = sg_ref_matmul,
    [SG_OP_LAYER_NORM]      = sg_ref_layer_norm,
    [SG_OP_LAYER_NORM_BACK] = sg_ref_layer_norm_back,
    [SG_OP_ADD_LAYER_NORM]  = sg_ref_add_layer_norm,
    [SG_OP_LINEAR]          = sg_ref_linear,
    [SG_OP_SOFTMAX]         = sg_ref_softmax,
    [SG_OP_ATTENTION]       = sg_ref_attention,
    [SG_OP_ATTENTION_BACK]  = sg_ref_attention_back,

    [SG_OP_GET_ROWS]      = sg_ref_get_rows,
    [SG_OP_TOP_K]         = sg_ref_top_k,
    [SG_OP_GATHER]        = sg_ref_gather,
    [SG_OP_SCATTER]       = sg_ref_scatter,
    [SG_OP_EMBED_BAG]     = sg_ref_embed_bag,
    [SG_OP_SPARSE_DOT]    = sg_ref_sparse_dot,
    [SG_OP_SCATTER_OUTER] = sg_ref_scatter_outer,

    [SG_OP_ADAM_STEP] = sg_ref_adam_step,
};
