/* ADAM_STEP: one fused in-place update of w, m and v. */
#include <string.h>

#include "vk_internal.h"

struct adam_push {
    uint32_t ne[6], sg[6];
    uint32_t og, ow, om, ov, oh, sh, on, n, rank;
};

bool sg_vk_adam_supports(const struct sg_vk_device *d, const struct sg_tensor *node) {
    (void)d;
    for (int i = 0; i < 6; i++) {
        const struct sg_tensor *s = node->src[i];
        if (i < 5 && !s) return false;
        if (s && (s->type != SG_TYPE_F32 || !sg_vk_layout_ok(s) || !sg_vk_fits_u32(s))) return false;
    }
    /* w (through the node), m and v are walked flat */
    return sg_is_contiguous(node) && sg_is_contiguous(node->src[2]) && sg_is_contiguous(node->src[3]);
}

sg_status sg_vk_adam_record(struct sg_vk_rec *r, const struct sg_tensor *node) {
    const struct sg_tensor *g = node->src[1], *m = node->src[2], *v = node->src[3], *hp = node->src[4];
    const struct sg_tensor *gn2 = node->src[5];
    struct adam_push pc         = {.og = sg_vk_elem_offset(g),
                                   .ow = sg_vk_elem_offset(node),
                                   .om = sg_vk_elem_offset(m),
                                   .ov = sg_vk_elem_offset(v),
                                   .oh = sg_vk_elem_offset(hp),
                                   .sh = sg_vk_stride(hp, 0),
                                   .on = gn2 ? sg_vk_elem_offset(gn2) : 0,
                                   .n  = (uint32_t)sg_nelements(node)};
    uint32_t st[1][SG_MAX_DIMS];
    sg_vk_shape(g, pc.ne, st[0]);
    pc.rank = (uint32_t)sg_vk_collapse(pc.ne, st, 1);
    memcpy(pc.sg, st[0], sizeof pc.sg);
    struct sg_vk_pipeline_key key = {
        .shader = SG_VK_SHADER_ADAM_STEP, .n_spec = 2, .spec = {gn2 != NULL, pc.rank == 0}};
    struct sg_vk_bind b[6] = {sg_vk_bind_tensor(node, true), sg_vk_bind_tensor(g, false),
                              sg_vk_bind_tensor(m, true),    sg_vk_bind_tensor(v, true),
                              sg_vk_bind_tensor(hp, false),  sg_vk_bind_tensor(gn2 ? gn2 : hp, false)};
    return sg_vk_dispatch(r, &key, b, 6, &pc, sizeof pc, sg_vk_groups(r->dev, pc.n, 256), 1, 1);
}
