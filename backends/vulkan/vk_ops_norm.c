/* LAYER_NORM, LAYER_NORM_BACK, ADD_LAYER_NORM and SOFTMAX: one workgroup per row of ne[0];
 * rows (dims 1..5) are reached through the source's strides. */
#include "vk_internal.h"

struct ln_push {
    uint32_t C, nrows;
    uint32_t rne[5], rsx[5], sx0;
    uint32_t ox, ow, sw, ob, sb, od;
    float eps;
};

struct ln_back_push {
    uint32_t C, nrows;
    uint32_t rne[5], rsx[5], rsy[5];
    uint32_t sx0, sy0;
    uint32_t ox, oy, ow, sw, od;
    float eps;
};

struct add_ln_push {
    uint32_t C, nrows;
    uint32_t rne[5], rsx[5], rsr[5];
    uint32_t sx0, sr0;
    uint32_t ox, orr, ow, sw, ob, sb, od, n;
    float eps;
};

struct softmax_push {
    uint32_t C, nrows;
    uint32_t rne[5], rsx[5], rsd[5];
    uint32_t sx0, sd0, ox, od;
};

bool sg_vk_norm_supports(const struct sg_vk_device *d, const struct sg_tensor *node) {
    (void)d;
    if (node->type != SG_TYPE_F32 || !sg_vk_layout_ok(node) || !sg_vk_fits_u32(node) || !sg_is_contiguous(node))
        return false;
    for (int i = 0; i < 4; i++) {
        const struct sg_tensor *s = node->src[i];
        if (s && (s->type != SG_TYPE_F32 || !sg_vk_layout_ok(s) || !sg_vk_fits_u32(s))) return false;
    }
    return true;
}

static void rows(const struct sg_tensor *t, uint32_t ne[5], uint32_t st[5]) {
    for (int i = 0; i < 5; i++) {
        ne[i] = (uint32_t)t->ne[i + 1];
        st[i] = sg_vk_stride(t, i + 1);
    }
}

/* Threads per row: short rows (most of them: model widths) waste fewer idle threads and
 * barriers with 64, long rows get 256. Both sizes run in the lavapipe tests. */
static uint32_t row_threads(int64_t C) { return C <= 1024 ? 64 : 256; }

static uint32_t wg_shader(const struct sg_vk_rec *r, enum sg_vk_shader plain, enum sg_vk_shader subgroup) {
    return r->dev->caps.subgroup_arith ? (uint32_t)subgroup : (uint32_t)plain;
}

/* Optional vectors are bound to x when absent (the kernel never reads them then). */
static struct sg_vk_bind bind_or(const struct sg_tensor *t, const struct sg_tensor *fallback) {
    return sg_vk_bind_tensor(t ? t : fallback, false);
}

sg_status sg_vk_layer_norm_record(struct sg_vk_rec *r, const struct sg_tensor *node) {
    const struct sg_tensor *x = node->src[0], *w = node->src[1], *b = node->src[2];
    struct ln_push pc = {.C     = (uint32_t)x->ne[0],
                         .nrows = (uint32_t)sg_nrows(x),
                         .sx0   = sg_vk_stride(x, 0),
                         .ox    = sg_vk_elem_offset(x),
                         .od    = sg_vk_elem_offset(node),
                         .eps   = sg_get_param_f32(node, 0)};
    rows(x, pc.rne, pc.rsx);
    if (w) {
        pc.ow = sg_vk_elem_offset(w);
        pc.sw = sg_vk_stride(w, 0);
    }
    if (b) {
        pc.ob = sg_vk_elem_offset(b);
        pc.sb = sg_vk_stride(b, 0);
    }
    struct sg_vk_pipeline_key key = {.shader = wg_shader(r, SG_VK_SHADER_LAYER_NORM, SG_VK_SHADER_LAYER_NORM_SG),
                                     .n_spec = 3,
                                     .spec   = {row_threads(pc.C), w != NULL, b != NULL}};
    struct sg_vk_bind bind[4]     = {sg_vk_bind_tensor(x, false), bind_or(w, x), bind_or(b, x),
                                     sg_vk_bind_tensor(node, true)};
    return sg_vk_dispatch(r, &key, bind, 4, &pc, sizeof pc, sg_vk_groups(r->dev, pc.nrows, 1), 1, 1);
}

sg_status sg_vk_layer_norm_back_record(struct sg_vk_rec *r, const struct sg_tensor *node) {
    const struct sg_tensor *x = node->src[0], *dy = node->src[1], *w = node->src[2];
    struct ln_back_push pc = {.C     = (uint32_t)x->ne[0],
                              .nrows = (uint32_t)sg_nrows(x),
                              .sx0   = sg_vk_stride(x, 0),
                              .sy0   = sg_vk_stride(dy, 0),
                              .ox    = sg_vk_elem_offset(x),
                              .oy    = sg_vk_elem_offset(dy),
                              .od    = sg_vk_elem_offset(node),
                              .eps   = sg_get_param_f32(node, 0)};
    rows(x, pc.rne, pc.rsx);
    uint32_t ne_unused[5];
    rows(dy, ne_unused, pc.rsy);
    if (w) {
        pc.ow = sg_vk_elem_offset(w);
        pc.sw = sg_vk_stride(w, 0);
    }
    struct sg_vk_pipeline_key key = {.shader =
                                         wg_shader(r, SG_VK_SHADER_LAYER_NORM_BACK, SG_VK_SHADER_LAYER_NORM_BACK_SG),
                                     .n_spec = 2,
                                     .spec   = {row_threads(pc.C), w != NULL}};
    struct sg_vk_bind bind[4]     = {sg_vk_bind_tensor(x, false), sg_vk_bind_tensor(dy, false), bind_or(w, x),
                                     sg_vk_bind_tensor(node, true)};
    return sg_vk_dispatch(r, &key, bind, 4, &pc, sizeof pc, sg_vk_groups(r->dev, pc.nrows, 1), 1, 1);
}

sg_status sg_vk_add_layer_norm_record(struct sg_vk_rec *r, const struct sg_tensor *node) {
    const struct sg_tensor *x = node->src[0], *res = node->src[1], *w = node->src[2], *b = node->src[3];
    struct add_ln_push pc = {.C     = (uint32_t)x->ne[0],
                             .nrows = (uint32_t)sg_nrows(x),
                             .sx0   = sg_vk_stride(x, 0),
                             .sr0   = sg_vk_stride(res, 0),
                             .ox    = sg_vk_elem_offset(x),
                             .orr   = sg_vk_elem_offset(res),
                             .od    = sg_vk_elem_offset(node),
                             .n     = (uint32_t)sg_nelements(x),
                             .eps   = sg_get_param_f32(node, 0)};
    uint32_t ne_unused[5];
    rows(x, pc.rne, pc.rsx);
    rows(res, ne_unused, pc.rsr);
    if (w) {
        pc.ow = sg_vk_elem_offset(w);
        pc.sw = sg_vk_stride(w, 0);
    }
    if (b) {
        pc.ob = sg_vk_elem_offset(b);
        pc.sb = sg_vk_stride(b, 0);
    }
    struct sg_vk_pipeline_key key = {.shader =
                                         wg_shader(r, SG_VK_SHADER_ADD_LAYER_NORM, SG_VK_SHADER_ADD_LAYER_NORM_SG),
                                     .n_spec = 3,
                                     .spec   = {row_threads(pc.C), w != NULL, b != NULL}};
    struct sg_vk_bind bind[5]     = {sg_vk_bind_tensor(x, false), sg_vk_bind_tensor(res, false), bind_or(w, x),
                                     bind_or(b, x), sg_vk_bind_tensor(node, true)};
    return sg_vk_dispatch(r, &key, bind, 5, &pc, sizeof pc, sg_vk_groups(r->dev, pc.nrows, 1), 1, 1);
}

sg_status sg_vk_softmax_record(struct sg_vk_rec *r, const struct sg_tensor *node) {
    const struct sg_tensor *x = node->src[0];
    struct softmax_push pc    = {.C     = (uint32_t)x->ne[0],
                                 .nrows = (uint32_t)sg_nrows(x),
                                 .sx0   = sg_vk_stride(x, 0),
                                 .sd0   = sg_vk_stride(node, 0),
                                 .ox    = sg_vk_elem_offset(x),
                                 .od    = sg_vk_elem_offset(node)};
    uint32_t ne_unused[5];
    rows(x, pc.rne, pc.rsx);
    rows(node, ne_unused, pc.rsd);
    if (x->ne[0] == 1) pc.sx0 = pc.sd0 = 0;
    struct sg_vk_pipeline_key key = {.shader = wg_shader(r, SG_VK_SHADER_SOFTMAX, SG_VK_SHADER_SOFTMAX_SG),
                                     .n_spec = 1,
                                     .spec   = {row_threads(pc.C)}};
    struct sg_vk_bind bind[2]     = {sg_vk_bind_tensor(x, false), sg_vk_bind_tensor(node, true)};
    return sg_vk_dispatch(r, &key, bind, 2, &pc, sizeof pc, sg_vk_groups(r->dev, pc.nrows, 1), 1, 1);
}
