/* CONT and CPY: element-by-element copies in logical order with type conversion. */
#include <string.h>

#include "vk_internal.h"

struct copy_push {
    uint32_t ne_s[6], st_s[6];
    uint32_t ne_d[6], st_d[6];
    uint32_t os, od, n, rank_s, rank_d;
};

bool sg_vk_copy_supports(const struct sg_vk_device *d, const struct sg_tensor *node) {
    (void)d;
    const struct sg_tensor *src = node->src[0];
    return sg_vk_layout_ok(src) && sg_vk_layout_ok(node) && sg_vk_fits_u32(src) && sg_vk_fits_u32(node) &&
           sg_nelements(src) == sg_nelements(node);
}

sg_status sg_vk_copy_record(struct sg_vk_rec *r, const struct sg_tensor *node) {
    const struct sg_tensor *src = node->src[0];
    struct copy_push pc         = {
                .n = (uint32_t)sg_nelements(node), .os = sg_vk_elem_offset(src), .od = sg_vk_elem_offset(node)};
    uint32_t st[1][SG_MAX_DIMS];
    sg_vk_shape(src, pc.ne_s, st[0]);
    pc.rank_s = (uint32_t)sg_vk_collapse(pc.ne_s, st, 1);
    memcpy(pc.st_s, st[0], sizeof pc.st_s);
    sg_vk_shape(node, pc.ne_d, st[0]);
    pc.rank_d = (uint32_t)sg_vk_collapse(pc.ne_d, st, 1);
    memcpy(pc.st_d, st[0], sizeof pc.st_d);

    bool half_dst                 = node->type == SG_TYPE_F16 || node->type == SG_TYPE_BF16;
    struct sg_vk_pipeline_key key = {
        .shader = half_dst && r->dev->caps.storage16 ? SG_VK_SHADER_COPY_S16 : SG_VK_SHADER_COPY,
        .n_spec = 4,
        .spec   = {256, (uint32_t)src->type, (uint32_t)node->type, pc.rank_s == 0 && pc.rank_d == 0},
    };
    struct sg_vk_bind b[2] = {sg_vk_bind_tensor(src, false), sg_vk_bind_tensor(node, true)};
    return sg_vk_dispatch(r, &key, b, 2, &pc, sizeof pc, sg_vk_groups(r->dev, pc.n, 256), 1, 1);
}
