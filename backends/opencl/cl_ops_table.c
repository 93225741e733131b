/* The op table: what the OpenCL backend can run and how, one row per op. */
#include "cl_ops.h"

/* Any node the core accepted: the kernels read every layout through strides. */
static bool always(const struct sg_cl_device *d, const struct sg_tensor *node) {
    (void)d;
    (void)node;
    return true;
}

#define ROW(op_, ...) [SG_OP_##op_] = {__VA_ARGS__}

const struct sg_cl_op sg_cl_ops[SG_OP_COUNT] = {
    ROW(CONT, .program = SG_CL_PROG_BASIC, .supports = sg_cl_supports_copy, .encode = sg_cl_encode_cont),
    ROW(CPY, .program = SG_CL_PROG_BASIC, .supports = sg_cl_supports_copy, .encode = sg_cl_encode_cpy),

    ROW(ADD, .program = SG_CL_PROG_BASIC, .supports = always, .encode = sg_cl_encode_binary),
    ROW(SUB, .program = SG_CL_PROG_BASIC, .supports = always, .encode = sg_cl_encode_binary),
    ROW(MUL, .program = SG_CL_PROG_BASIC, .supports = always, .encode = sg_cl_encode_binary),
    ROW(DIV, .program = SG_CL_PROG_BASIC, .supports = always, .encode = sg_cl_encode_binary),

    ROW(SCALE, .program = SG_CL_PROG_BASIC, .supports = always, .encode = sg_cl_encode_unary),
    ROW(SQR, .program = SG_CL_PROG_BASIC, .supports = always, .encode = sg_cl_encode_unary),
    ROW(SQRT, .program = SG_CL_PROG_BASIC, .supports = always, .encode = sg_cl_encode_unary),
    ROW(RELU, .program = SG_CL_PROG_BASIC, .supports = always, .encode = sg_cl_encode_unary),
    ROW(GELU, .program = SG_CL_PROG_BASIC, .supports = always, .encode = sg_cl_encode_unary),
    ROW(LEAKY_RELU, .program = SG_CL_PROG_BASIC, .supports = always, .encode = sg_cl_encode_unary),
    ROW(SIGMOID, .program = SG_CL_PROG_BASIC, .supports = always, .encode = sg_cl_encode_unary),
    ROW(TANH, .program = SG_CL_PROG_BASIC, .supports = always, .encode = sg_cl_encode_unary),
    ROW(CLAMP, .program = SG_CL_PROG_BASIC, .supports = always, .encode = sg_cl_encode_unary),
    ROW(EXP, .program = SG_CL_PROG_BASIC, .supports = always, .encode = sg_cl_encode_unary),
    ROW(STEP, .program = SG_CL_PROG_BASIC, .supports = always, .encode = sg_cl_encode_unary),
    ROW(ACT_BACK, .program = SG_CL_PROG_BASIC, .supports = always, .encode = sg_cl_encode_act_back),

    ROW(SUM_TO, .program = SG_CL_PROG_BASIC, .supports = always, .encode = sg_cl_encode_sum_to),
    ROW(REPEAT, .program = SG_CL_PROG_BASIC, .supports = always, .encode = sg_cl_encode_repeat),

    ROW(MATMUL, .program = SG_CL_PROG_MATMUL, .supports = sg_cl_supports_matmul, .encode = sg_cl_encode_matmul),
    ROW(LAYER_NORM, .program = SG_CL_PROG_NN, .supports = always, .encode = sg_cl_encode_layer_norm),
    ROW(LAYER_NORM_BACK, .program = SG_CL_PROG_NN, .supports = always, .encode = sg_cl_encode_layer_norm_back),
    ROW(ADD_LAYER_NORM, .program = SG_CL_PROG_NN, .supports = always, .encode = sg_cl_encode_add_layer_norm),
    ROW(LINEAR, .program = SG_CL_PROG_MATMUL, .supports = sg_cl_supports_matmul, .encode = sg_cl_encode_matmul),
    ROW(SOFTMAX, .program = SG_CL_PROG_NN, .supports = always, .encode = sg_cl_encode_softmax),
    ROW(ATTENTION, .program = SG_CL_PROG_NN, .supports = sg_cl_supports_attention, .encode = sg_cl_encode_attention),
    ROW(ATTENTION_BACK, .program = SG_CL_PROG_NN, .supports = sg_cl_supports_attention,
        .scratch = sg_cl_scratch_attention, .encode = sg_cl_encode_attention_back),

    ROW(GET_ROWS, .program = SG_CL_PROG_SPARSE, .supports = always, .encode = sg_cl_encode_get_rows),
    ROW(TOP_K, .program = SG_CL_PROG_SPARSE, .supports = sg_cl_supports_top_k, .scratch = sg_cl_scratch_top_k,
        .encode = sg_cl_encode_top_k),
    ROW(GATHER, .program = SG_CL_PROG_SPARSE, .supports = always, .encode = sg_cl_encode_gather),
    ROW(SCATTER, .program = SG_CL_PROG_SPARSE, .supports = always, .encode = sg_cl_encode_scatter),
    ROW(EMBED_BAG, .program = SG_CL_PROG_SPARSE, .supports = always, .encode = sg_cl_encode_embed_bag),
    ROW(SPARSE_DOT, .program = SG_CL_PROG_SPARSE, .supports = always, .encode = sg_cl_encode_sparse_dot),
    ROW(SCATTER_OUTER, .program = SG_CL_PROG_SPARSE, .supports = sg_cl_supports_scatter_outer,
        .scratch = sg_cl_scratch_scatter_outer, .encode = sg_cl_encode_scatter_outer),

    ROW(ADAM_STEP, .program = SG_CL_PROG_BASIC, .supports = always, .encode = sg_cl_encode_adam_step),
};

size_t sg_cl_node_scratch(const struct sg_cl_device *d, const struct sg_tensor *node) {
    if (node->op <= SG_OP_NONE || node->op >= SG_OP_COUNT || !sg_cl_ops[node->op].scratch) return 0;
    return sg_cl_ops[node->op].scratch(d, node);
}

/* Indices and element counts the kernels keep in 32 bits (sort keys, top-k indices, matmul and
 * attention sizes) are checked per op; every node must also fit the scratch it needs. */
bool sg_cl_supports_op(const struct sg_cl_device *d, const struct sg_tensor *node) {
    if (node->op <= SG_OP_NONE || node->op >= SG_OP_COUNT) return false;
    const struct sg_cl_op *op = &sg_cl_ops[node->op];
    if (!op->encode || !op->supports(d, node) || sg_cl_node_scratch(d, node) > d->max_alloc_size) return false;
    /* a program the driver cannot build sends its ops to the CPU rather than failing runs */
    return sg_cl_program_usable((struct sg_cl_device *)d, op->program);
}

sg_status sg_cl_encode_node(struct sg_cl_enc *e, const struct sg_tensor *node) {
    const struct sg_cl_op *op = &sg_cl_ops[node->op];
    if (!op->encode) return sg_error(SG_ERR_UNSUPPORTED, "OpenCL: no kernel for %s", sg_op_name(node->op));
    sg_status st = op->encode(e, node);
    if (st != SG_OK) return sg_error_wrap(st, "%s '%s'", sg_op_name(node->op), node->name);
    return SG_OK;
}
