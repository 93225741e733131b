/* The op table: what the CUDA backend can run and how, one row per op. */
#include "cuda_internal.h"
#include "cuda_ops.h"

/* Any node the core accepted: the kernels read every layout through strides. */
static bool always(const struct sg_cuda_device *d, const struct sg_tensor *node) {
    (void)d;
    (void)node;
    return true;
}

#define ROW(op_, ...) [SG_OP_##op_] = {__VA_ARGS__}

const struct sg_cuda_op sg_cuda_ops[SG_OP_COUNT] = {
    ROW(CONT, .supports = sg_cuda_supports_copy, .encode = sg_cuda_encode_cont),
    ROW(CPY, .supports = sg_cuda_supports_copy, .encode = sg_cuda_encode_cpy),

    ROW(ADD, .supports = always, .encode = sg_cuda_encode_binary),
    ROW(SUB, .supports = always, .encode = sg_cuda_encode_binary),
    ROW(MUL, .supports = always, .encode = sg_cuda_encode_binary),
    ROW(DIV, .supports = always, .encode = sg_cuda_encode_binary),

    ROW(SCALE, .supports = always, .encode = sg_cuda_encode_unary),
    ROW(SQR, .supports = always, .encode = sg_cuda_encode_unary),
    ROW(SQRT, .supports = always, .encode = sg_cuda_encode_unary),
    ROW(RELU, .supports = always, .encode = sg_cuda_encode_unary),
    ROW(GELU, .supports = always, .encode = sg_cuda_encode_unary),
    ROW(LEAKY_RELU, .supports = always, .encode = sg_cuda_encode_unary),
    ROW(SIGMOID, .supports = always, .encode = sg_cuda_encode_unary),
    ROW(TANH, .supports = always, .encode = sg_cuda_encode_unary),
    ROW(CLAMP, .supports = always, .encode = sg_cuda_encode_unary),
    ROW(EXP, .supports = always, .encode = sg_cuda_encode_unary),
    ROW(STEP, .supports = always, .encode = sg_cuda_encode_unary),
    ROW(ACT_BACK, .supports = always, .encode = sg_cuda_encode_act_back),

    ROW(SUM_TO, .supports = always, .encode = sg_cuda_encode_sum_to),
    ROW(REPEAT, .supports = always, .encode = sg_cuda_encode_repeat),

    ROW(MATMUL, .supports = sg_cuda_supports_matmul, .scratch = sg_cuda_scratch_matmul,
        .encode = sg_cuda_encode_matmul),
    ROW(LAYER_NORM, .supports = always, .encode = sg_cuda_encode_layer_norm),
    ROW(LAYER_NORM_BACK, .supports = always, .encode = sg_cuda_encode_layer_norm_back),
    ROW(ADD_LAYER_NORM, .supports = always, .encode = sg_cuda_encode_add_layer_norm),
    ROW(LINEAR, .supports = sg_cuda_supports_linear, .scratch = sg_cuda_scratch_matmul,
        .encode = sg_cuda_encode_linear),
    ROW(SOFTMAX, .supports = always, .encode = sg_cuda_encode_softmax),
    ROW(ATTENTION, .supports = sg_cuda_supports_attention, .encode = sg_cuda_encode_attention),
    ROW(ATTENTION_BACK, .supports = sg_cuda_supports_attention, .scratch = sg_cuda_scratch_attention,
        .encode = sg_cuda_encode_attention_back),

    ROW(GET_ROWS, .supports = always, .encode = sg_cuda_encode_get_rows),
    ROW(TOP_K, .supports = sg_cuda_supports_top_k, .scratch = sg_cuda_scratch_top_k, .encode = sg_cuda_encode_top_k),
    ROW(GATHER, .supports = always, .encode = sg_cuda_encode_gather),
    ROW(SCATTER, .supports = always, .encode = sg_cuda_encode_scatter),
    ROW(EMBED_BAG, .supports = always, .encode = sg_cuda_encode_embed_bag),
    ROW(SPARSE_DOT, .supports = always, .encode = sg_cuda_encode_sparse_dot),
    ROW(SCATTER_OUTER, .supports = sg_cuda_supports_scatter_outer, .scratch = sg_cuda_scratch_scatter_outer,
        .encode = sg_cuda_encode_scatter_outer),

    ROW(ADAM_STEP, .supports = always, .encode = sg_cuda_encode_adam_step),
};

size_t sg_cuda_node_scratch(const struct sg_cuda_device *d, const struct sg_tensor *node) {
    if (node->op <= SG_OP_NONE || node->op >= SG_OP_COUNT || !sg_cuda_ops[node->op].scratch) return 0;
    return sg_cuda_ops[node->op].scratch(d, node);
}

/* View ops need no kernel; every other op needs its row. */
bool sg_cuda_supports_op(const struct sg_cuda_device *d, const struct sg_tensor *node) {
    if (node->op <= SG_OP_NONE || node->op >= SG_OP_COUNT) return false;
    if (sg_is_view_op(node->op)) return true;
    const struct sg_cuda_op *op = &sg_cuda_ops[node->op];
    return op->encode && op->supports(d, node);
}

sg_status sg_cuda_encode_node(struct sg_cuda_enc *e, const struct sg_tensor *node) {
    const struct sg_cuda_op *op = &sg_cuda_ops[node->op];
    if (!op->encode) return sg_error(SG_ERR_UNSUPPORTED, "CUDA: no kernel for %s", sg_op_name(node->op));
    sg_status st = op->encode(e, node);
    if (st != SG_OK) return sg_error_wrap(st, "%s '%s'", sg_op_name(node->op), node->name);
    return SG_OK;
}

sg_status sg_cuda_launch_check(const char *kernel) {
    cudaError_t err = cudaGetLastError();
    if (err == cudaSuccess) return SG_OK;
    return sg_error(SG_ERR_BACKEND, "CUDA: kernel %s failed to launch: %s (%s)", kernel, cudaGetErrorString(err),
                    cudaGetErrorName(err));
}
