/* SUM_TO: sums over the dims where dst has 1. The walk is split into kept dims (one output
 * element each) and summed dims; which kernel runs depends on whether the innermost dimension
 * is summed (a workgroup per output) or kept (coalesced columns). */
#include <string.h>

#include "vk_internal.h"

struct sum_push {
    uint32_t kne[6], kst[6];
    uint32_t rne[6], rst[6];
    uint32_t os, od, nk, nr, krank, rrank;
};

bool sg_vk_sum_to_supports(const struct sg_vk_device *d, const struct sg_tensor *node) {
    (void)d;
    const struct sg_tensor *a = node->src[0];
    return a->type == SG_TYPE_F32 && node->type == SG_TYPE_F32 && sg_vk_layout_ok(a) && sg_vk_layout_ok(node) &&
           sg_is_contiguous(node) && sg_vk_fits_u32(a);
}

sg_status sg_vk_sum_to_record(struct sg_vk_rec *r, const struct sg_tensor *node) {
    const struct sg_tensor *a = node->src[0];
    struct sum_push pc        = {.os = sg_vk_elem_offset(a), .od = sg_vk_elem_offset(node), .nk = 1, .nr = 1};
    uint32_t kst[1][SG_MAX_DIMS], rst[1][SG_MAX_DIMS];
    int first_kept = -1, first_summed = -1;
    for (int d = 0; d < SG_MAX_DIMS; d++) {
        bool summed = node->ne[d] == 1 && a->ne[d] > 1;
        pc.kne[d]   = summed ? 1 : (uint32_t)a->ne[d];
        kst[0][d]   = summed ? 0 : sg_vk_stride(a, d);
        pc.rne[d]   = summed ? (uint32_t)a->ne[d] : 1;
        rst[0][d]   = summed ? sg_vk_stride(a, d) : 0;
        pc.nk *= pc.kne[d];
        pc.nr *= pc.rne[d];
        if (a->ne[d] > 1 && summed && first_summed < 0) first_summed = d;
        if (a->ne[d] > 1 && !summed && first_kept < 0) first_kept = d;
    }
    pc.krank = (uint32_t)sg_vk_collapse(pc.kne, kst, 1);
    pc.rrank = (uint32_t)sg_vk_collapse(pc.rne, rst, 1);
    memcpy(pc.kst, kst[0], sizeof pc.kst);
    memcpy(pc.rst, rst[0], sizeof pc.rst);

    struct sg_vk_bind b[2] = {sg_vk_bind_tensor(a, false), sg_vk_bind_tensor(node, true)};
    bool rows              = first_kept < 0 || (first_summed >= 0 && first_summed < first_kept);
    if (rows) {
        struct sg_vk_pipeline_key key = {
            .shader = r->dev->caps.subgroup_arith ? SG_VK_SHADER_SUM_ROWS_SG : SG_VK_SHADER_SUM_ROWS,
            .n_spec = 1,
            .spec   = {pc.nr <= 1024 ? 64 : 256}}; /* short sums waste fewer threads and barriers */
        return sg_vk_dispatch(r, &key, b, 2, &pc, sizeof pc, sg_vk_groups(r->dev, pc.nk, 1), 1, 1);
    }
    struct sg_vk_pipeline_key key = {.shader = SG_VK_SHADER_SUM_COLS};
    return sg_vk_dispatch(r, &key, b, 2, &pc, sizeof pc, sg_vk_groups(r->dev, pc.nk, 32), 1, 1);
}
