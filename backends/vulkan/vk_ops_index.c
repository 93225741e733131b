/* Lookups by I32 index: GET_ROWS, TOP_K, GATHER, SCATTER. Indices outside their table read as
 * zero and write nowhere. */
#include "vk_internal.h"

#define TOP_K_MAX 1024 /* the sort of the winners lives in shared memory */

struct get_rows_push {
    uint32_t D, N, n;
    uint32_t ine[5], ist[5];
    uint32_t sw0, sw1, ow, oi, od;
};

struct top_k_push {
    uint32_t N, k, nrows;
    uint32_t rne[5], rsx[5], rsd[5];
    uint32_t sx0, ox, od;
};

struct gather_push {
    uint32_t ne[6], si[6], sx[6];
    uint32_t N, oi, ox, od, n;
};

struct scatter_push {
    uint32_t K, n, nrows;
    uint32_t rne[5], rsv[5], rsi[5];
    uint32_t sv0, si0, ov, oi, od;
};

static bool ok(const struct sg_tensor *t) { return t && sg_vk_layout_ok(t) && sg_vk_fits_u32(t); }

bool sg_vk_index_supports(const struct sg_vk_device *d, const struct sg_tensor *node) {
    const struct sg_tensor *a = node->src[0], *b = node->src[1];
    if (!ok(node) || !sg_is_contiguous(node) || !ok(a)) return false;
    switch (node->op) {
    case SG_OP_GET_ROWS: return ok(b) && b->type == SG_TYPE_I32 && a->type != SG_TYPE_I32;
    case SG_OP_TOP_K:
        /* the shared histogram and sort need 12 KiB at most */
        return a->type == SG_TYPE_F32 && sg_get_param_i32(node, 0) <= TOP_K_MAX && d->caps.max_shared >= 16384;
    case SG_OP_GATHER:
    case SG_OP_SCATTER: return ok(b) && a->type == SG_TYPE_F32 && b->type == SG_TYPE_I32;
    default: return false;
    }
}

static void rows(const struct sg_tensor *t, uint32_t ne[5], uint32_t st[5]) {
    for (int i = 0; i < 5; i++) {
        if (ne) ne[i] = (uint32_t)t->ne[i + 1];
        st[i] = sg_vk_stride(t, i + 1);
    }
}

sg_status sg_vk_get_rows_record(struct sg_vk_rec *r, const struct sg_tensor *node) {
    const struct sg_tensor *w = node->src[0], *ids = node->src[1];
    struct get_rows_push pc = {.D   = (uint32_t)w->ne[0],
                               .N   = (uint32_t)w->ne[1],
                               .n   = (uint32_t)sg_nelements(node),
                               .sw0 = sg_vk_stride(w, 0),
                               .sw1 = sg_vk_stride(w, 1),
                               .ow  = sg_vk_elem_offset(w),
                               .oi  = sg_vk_elem_offset(ids),
                               .od  = sg_vk_elem_offset(node)};
    for (int i = 0; i < 5; i++) {
        pc.ine[i] = (uint32_t)ids->ne[i];
        pc.ist[i] = sg_vk_stride(ids, i);
    }
    struct sg_vk_pipeline_key key = {.shader = SG_VK_SHADER_GET_ROWS, .n_spec = 2, .spec = {256, (uint32_t)w->type}};
    struct sg_vk_bind b[3]        = {sg_vk_bind_tensor(w, false), sg_vk_bind_tensor(ids, false),
                                     sg_vk_bind_tensor(node, true)};
    return sg_vk_dispatch(r, &key, b, 3, &pc, sizeof pc, sg_vk_groups(r->dev, pc.n, 256), 1, 1);
}

sg_status sg_vk_top_k_record(struct sg_vk_rec *r, const struct sg_tensor *node) {
    const struct sg_tensor *x = node->src[0];
    struct top_k_push pc      = {.N     = (uint32_t)x->ne[0],
                                 .k     = (uint32_t)sg_get_param_i32(node, 0),
                                 .nrows = (uint32_t)sg_nrows(x),
                                 .sx0   = sg_vk_stride(x, 0),
                                 .ox    = sg_vk_elem_offset(x),
                                 .od    = sg_vk_elem_offset(node)};
    rows(x, pc.rne, pc.rsx);
    rows(node, NULL, pc.rsd);
    uint32_t kmax = 2;
    while (kmax < pc.k) kmax *= 2;
    struct sg_vk_pipeline_key key = {.shader = SG_VK_SHADER_TOP_K, .n_spec = 1, .spec = {kmax}};
    struct sg_vk_bind b[2]        = {sg_vk_bind_tensor(x, false), sg_vk_bind_tensor(node, true)};
    return sg_vk_dispatch(r, &key, b, 2, &pc, sizeof pc, sg_vk_groups(r->dev, pc.nrows, 1), 1, 1);
}

sg_status sg_vk_gather_record(struct sg_vk_rec *r, const struct sg_tensor *node) {
    const struct sg_tensor *x = node->src[0], *idx = node->src[1];
    struct gather_push pc = {.N  = (uint32_t)x->ne[0],
                             .oi = sg_vk_elem_offset(idx),
                             .ox = sg_vk_elem_offset(x),
                             .od = sg_vk_elem_offset(node),
                             .n  = (uint32_t)sg_nelements(node)};
    for (int i = 0; i < 6; i++) {
        pc.ne[i] = (uint32_t)idx->ne[i];
        pc.si[i] = sg_vk_stride(idx, i);
        pc.sx[i] = sg_vk_stride(x, i);
    }
    if (x->ne[0] == 1) pc.sx[0] = 0;
    struct sg_vk_pipeline_key key = {.shader = SG_VK_SHADER_GATHER, .n_spec = 1, .spec = {256}};
    struct sg_vk_bind b[3]        = {sg_vk_bind_tensor(x, false), sg_vk_bind_tensor(idx, false),
                                     sg_vk_bind_tensor(node, true)};
    return sg_vk_dispatch(r, &key, b, 3, &pc, sizeof pc, sg_vk_groups(r->dev, pc.n, 256), 1, 1);
}

sg_status sg_vk_scatter_record(struct sg_vk_rec *r, const struct sg_tensor *node) {
    const struct sg_tensor *v = node->src[0], *idx = node->src[1];
    struct scatter_push pc = {.K     = (uint32_t)idx->ne[0],
                              .n     = (uint32_t)node->ne[0],
                              .nrows = (uint32_t)sg_nrows(idx),
                              .sv0   = sg_vk_stride(v, 0),
                              .si0   = sg_vk_stride(idx, 0),
                              .ov    = sg_vk_elem_offset(v),
                              .oi    = sg_vk_elem_offset(idx),
                              .od    = sg_vk_elem_offset(node)};
    rows(idx, pc.rne, pc.rsi);
    rows(v, NULL, pc.rsv);
    struct sg_vk_bind out = sg_vk_bind_tensor(node, true);
    sg_status st          = sg_vk_fill(r, out, pc.od, (uint32_t)sg_nelements(node), 0);
    if (st != SG_OK) return st;
    struct sg_vk_pipeline_key key = {.shader = SG_VK_SHADER_SCATTER};
    struct sg_vk_bind b[3]        = {sg_vk_bind_tensor(v, false), sg_vk_bind_tensor(idx, false), out};
    return sg_vk_dispatch(r, &key, b, 3, &pc, sizeof pc, sg_vk_groups(r->dev, pc.nrows, 64), 1, 1);
}
