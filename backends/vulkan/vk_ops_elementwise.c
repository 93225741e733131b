/* Elementwise ops: broadcasting binary ops, unary functions, REPEAT and ACT_BACK. Every operand
 * is read through its strides (stride 0 where it broadcasts); the walk is collapsed first so
 * contiguous tensors index directly. */
#include <string.h>

#include "vk_internal.h"

struct binary_push {
    uint32_t ne[6], sa[6], sb[6], sd[6];
    uint32_t oa, ob, od, n, rank;
};

struct unary_push {
    uint32_t ne[6], sa[6], sd[6];
    uint32_t oa, od, n, rank;
    float p0, p1;
};

struct act_push {
    uint32_t ne[6], sx[6], sy[6], sd[6];
    uint32_t ox, oy, od, n, rank;
    float alpha, lo, hi;
};

static bool all_ok(const struct sg_tensor *node, int n_src) {
    if (!sg_vk_layout_ok(node) || !sg_vk_fits_u32(node)) return false;
    for (int i = 0; i < n_src; i++)
        if (!node->src[i] || node->src[i]->type != SG_TYPE_F32 || !sg_vk_layout_ok(node->src[i]) ||
            !sg_vk_fits_u32(node->src[i]))
            return false;
    return node->type == SG_TYPE_F32;
}

bool sg_vk_binary_supports(const struct sg_vk_device *d, const struct sg_tensor *node) {
    (void)d;
    return all_ok(node, 2);
}

bool sg_vk_unary_supports(const struct sg_vk_device *d, const struct sg_tensor *node) {
    (void)d;
    return all_ok(node, 1);
}

bool sg_vk_act_back_supports(const struct sg_vk_device *d, const struct sg_tensor *node) {
    (void)d;
    return all_ok(node, 2) && sg_same_shape(node->src[0], node->src[1]) &&
           (unsigned)sg_get_param_i32(node, 0) <= SG_ACT_CLAMP;
}

static const uint32_t binary_op[SG_OP_COUNT] = {[SG_OP_ADD] = 0, [SG_OP_SUB] = 1, [SG_OP_MUL] = 2, [SG_OP_DIV] = 3};

sg_status sg_vk_binary_record(struct sg_vk_rec *r, const struct sg_tensor *node) {
    const struct sg_tensor *a = node->src[0], *b = node->src[1];
    struct binary_push pc = {.oa = sg_vk_elem_offset(a),
                             .ob = sg_vk_elem_offset(b),
                             .od = sg_vk_elem_offset(node),
                             .n  = (uint32_t)sg_nelements(node)};
    uint32_t st[3][SG_MAX_DIMS];
    sg_vk_shape(node, pc.ne, st[2]);
    sg_vk_bcast_strides(a, node, st[0]);
    sg_vk_bcast_strides(b, node, st[1]);
    pc.rank = (uint32_t)sg_vk_collapse(pc.ne, st, 3);
    memcpy(pc.sa, st[0], sizeof pc.sa);
    memcpy(pc.sb, st[1], sizeof pc.sb);
    memcpy(pc.sd, st[2], sizeof pc.sd);
    struct sg_vk_pipeline_key key = {
        .shader = SG_VK_SHADER_BINARY, .n_spec = 3, .spec = {256, binary_op[node->op], pc.rank == 0}};
    struct sg_vk_bind bind[3] = {sg_vk_bind_tensor(a, false), sg_vk_bind_tensor(b, false),
                                 sg_vk_bind_tensor(node, true)};
    return sg_vk_dispatch(r, &key, bind, 3, &pc, sizeof pc, sg_vk_groups(r->dev, pc.n, 256), 1, 1);
}

static const uint32_t unary_op[SG_OP_COUNT] = {
    [SG_OP_SCALE] = 0, [SG_OP_SQR] = 1,        [SG_OP_SQRT] = 2,    [SG_OP_RELU] = 3,
    [SG_OP_GELU] = 4,  [SG_OP_LEAKY_RELU] = 5, [SG_OP_SIGMOID] = 6, [SG_OP_TANH] = 7,
    [SG_OP_CLAMP] = 8, [SG_OP_REPEAT] = 9,     [SG_OP_EXP] = 10,    [SG_OP_STEP] = 11,
};

sg_status sg_vk_unary_record(struct sg_vk_rec *r, const struct sg_tensor *node) {
    const struct sg_tensor *a = node->src[0];
    struct unary_push pc      = {
             .oa = sg_vk_elem_offset(a), .od = sg_vk_elem_offset(node), .n = (uint32_t)sg_nelements(node)};
    if (node->op != SG_OP_REPEAT) {
        pc.p0 = sg_get_param_f32(node, 0);
        pc.p1 = sg_get_param_f32(node, 1);
    }
    uint32_t st[2][SG_MAX_DIMS];
    sg_vk_shape(node, pc.ne, st[1]);
    sg_vk_bcast_strides(a, node, st[0]);
    pc.rank = (uint32_t)sg_vk_collapse(pc.ne, st, 2);
    memcpy(pc.sa, st[0], sizeof pc.sa);
    memcpy(pc.sd, st[1], sizeof pc.sd);
    struct sg_vk_pipeline_key key = {
        .shader = SG_VK_SHADER_UNARY, .n_spec = 3, .spec = {256, unary_op[node->op], pc.rank == 0}};
    struct sg_vk_bind bind[2] = {sg_vk_bind_tensor(a, false), sg_vk_bind_tensor(node, true)};
    return sg_vk_dispatch(r, &key, bind, 2, &pc, sizeof pc, sg_vk_groups(r->dev, pc.n, 256), 1, 1);
}

sg_status sg_vk_act_back_record(struct sg_vk_rec *r, const struct sg_tensor *node) {
    const struct sg_tensor *x = node->src[0], *dy = node->src[1];
    struct act_push pc = {.ox    = sg_vk_elem_offset(x),
                          .oy    = sg_vk_elem_offset(dy),
                          .od    = sg_vk_elem_offset(node),
                          .n     = (uint32_t)sg_nelements(node),
                          .alpha = sg_get_param_f32(node, 1),
                          .lo    = sg_get_param_f32(node, 2),
                          .hi    = sg_get_param_f32(node, 3)};
    uint32_t st[3][SG_MAX_DIMS];
    sg_vk_shape(node, pc.ne, st[2]);
    sg_vk_bcast_strides(x, node, st[0]);
    sg_vk_bcast_strides(dy, node, st[1]);
    pc.rank = (uint32_t)sg_vk_collapse(pc.ne, st, 3);
    memcpy(pc.sx, st[0], sizeof pc.sx);
    memcpy(pc.sy, st[1], sizeof pc.sy);
    memcpy(pc.sd, st[2], sizeof pc.sd);
    struct sg_vk_pipeline_key key = {
        .shader = SG_VK_SHADER_ACT_BACK, .n_spec = 3, .spec = {256, (uint32_t)sg_get_param_i32(node, 0), pc.rank == 0}};
    struct sg_vk_bind bind[3] = {sg_vk_bind_tensor(x, false), sg_vk_bind_tensor(dy, false),
                                 sg_vk_bind_tensor(node, true)};
    return sg_vk_dispatch(r, &key, bind, 3, &pc, sizeof pc, sg_vk_groups(r->dev, pc.n, 256), 1, 1);
}
