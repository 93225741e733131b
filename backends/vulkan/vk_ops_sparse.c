/* The sparse-code ops of an SAE: EMBED_BAG (decode K latents per column), SPARSE_DOT (its
 * gradient for the values) and SCATTER_OUTER (the table gradient). SCATTER_OUTER avoids float
 * atomics: a stable counting sort groups the (j, b) pairs by target row, then each output
 * element sums its row's pairs in (b, j) order, so results are deterministic. */
#include "vk_internal.h"

struct sparse_push {
    uint32_t D, N, K, B;
    uint32_t sw0, sw1, si0, si1, sv0, sv1, sx0, sx1;
    uint32_t ow, oi, ov, ox, od;
    uint32_t nb;
};

static bool ok(const struct sg_tensor *t) { return sg_vk_layout_ok(t) && sg_vk_fits_u32(t); }

/* Blocks of the counting sort: enough pairs per block to amortise the walk, few enough that
 * the row x block counters stay small. */
static uint32_t sort_blocks(uint64_t pairs) {
    uint64_t nb = (pairs + 1023) / 1024;
    return nb < 1 ? 1 : nb > 16 ? 16 : (uint32_t)nb;
}

bool sg_vk_sparse_supports(const struct sg_vk_device *d, const struct sg_tensor *node) {
    for (int i = 0; i < 3; i++) {
        const struct sg_tensor *s = node->src[i];
        if (s && (!ok(s) || (s->type != SG_TYPE_F32 && s->type != SG_TYPE_I32))) return false;
    }
    if (!ok(node) || !sg_is_contiguous(node) || node->type != SG_TYPE_F32) return false;
    if (node->op == SG_OP_SCATTER_OUTER) {
        const struct sg_tensor *idx = node->src[0];
        uint64_t pairs = (uint64_t)sg_nelements(idx), counters = ((uint64_t)node->ne[1] * sort_blocks(pairs)) * 4;
        return counters < d->max_buffer && pairs * 4 < d->max_buffer && counters < ((uint64_t)1 << 32);
    }
    return node->src[0] && node->src[0]->type == SG_TYPE_F32;
}

static struct sparse_push push_for(const struct sg_tensor *node, const struct sg_tensor *w, const struct sg_tensor *idx,
                                   const struct sg_tensor *v, const struct sg_tensor *x) {
    struct sparse_push pc = {.K   = (uint32_t)idx->ne[0],
                             .B   = (uint32_t)idx->ne[1],
                             .si0 = sg_vk_stride(idx, 0),
                             .si1 = sg_vk_stride(idx, 1),
                             .oi  = sg_vk_elem_offset(idx),
                             .od  = sg_vk_elem_offset(node)};
    if (w) {
        pc.D   = (uint32_t)w->ne[0];
        pc.N   = (uint32_t)w->ne[1];
        pc.sw0 = sg_vk_stride(w, 0);
        pc.sw1 = sg_vk_stride(w, 1);
        pc.ow  = sg_vk_elem_offset(w);
    }
    if (v) {
        pc.sv0 = sg_vk_stride(v, 0);
        pc.sv1 = sg_vk_stride(v, 1);
        pc.ov  = sg_vk_elem_offset(v);
    }
    if (x) {
        pc.sx0 = sg_vk_stride(x, 0);
        pc.sx1 = sg_vk_stride(x, 1);
        pc.ox  = sg_vk_elem_offset(x);
    }
    return pc;
}

sg_status sg_vk_embed_bag_record(struct sg_vk_rec *r, const struct sg_tensor *node) {
    const struct sg_tensor *w = node->src[0], *idx = node->src[1], *v = node->src[2];
    struct sparse_push pc         = push_for(node, w, idx, v, NULL);
    struct sg_vk_pipeline_key key = {.shader = SG_VK_SHADER_EMBED_BAG};
    struct sg_vk_bind b[4] = {sg_vk_bind_tensor(w, false), sg_vk_bind_tensor(idx, false), sg_vk_bind_tensor(v, false),
                              sg_vk_bind_tensor(node, true)};
    return sg_vk_dispatch(r, &key, b, 4, &pc, sizeof pc, sg_vk_groups(r->dev, (uint64_t)pc.D * pc.B, 256), 1, 1);
}

sg_status sg_vk_sparse_dot_record(struct sg_vk_rec *r, const struct sg_tensor *node) {
    const struct sg_tensor *w = node->src[0], *idx = node->src[1], *x = node->src[2];
    struct sparse_push pc         = push_for(node, w, idx, NULL, x);
    struct sg_vk_pipeline_key key = {.shader = SG_VK_SHADER_SPARSE_DOT, .n_spec = 1, .spec = {64}};
    struct sg_vk_bind b[4] = {sg_vk_bind_tensor(w, false), sg_vk_bind_tensor(idx, false), sg_vk_bind_tensor(x, false),
                              sg_vk_bind_tensor(node, true)};
    return sg_vk_dispatch(r, &key, b, 4, &pc, sizeof pc, sg_vk_groups(r->dev, (uint64_t)pc.K * pc.B, 1), 1, 1);
}

/* Scratch: the row x block counters (then segment cursors) and the sorted pair list. */
void sg_vk_scatter_outer_scratch(const struct sg_vk_device *d, const struct sg_tensor *node,
                                 size_t sizes[SG_VK_MAX_SCRATCH]) {
    (void)d;
    uint64_t pairs                 = (uint64_t)sg_nelements(node->src[0]);
    sizes[SG_VK_SCRATCH_SO_COUNTS] = (size_t)node->ne[1] * sort_blocks(pairs) * 4;
    sizes[SG_VK_SCRATCH_SO_PAIRS]  = (size_t)(pairs ? pairs : 1) * 4;
}

sg_status sg_vk_scatter_outer_record(struct sg_vk_rec *r, const struct sg_tensor *node) {
    const struct sg_tensor *idx = node->src[0], *c = node->src[1], *x = node->src[2];
    struct sparse_push pc = push_for(node, NULL, idx, c, x);
    pc.D                  = (uint32_t)x->ne[0];
    pc.N                  = (uint32_t)node->ne[1];
    uint64_t pairs        = (uint64_t)pc.K * pc.B;
    pc.nb                 = sort_blocks(pairs);
    uint32_t n_cnt        = pc.N * pc.nb;
    struct sg_vk_bind cnt = sg_vk_bind_scratch(r, SG_VK_SCRATCH_SO_COUNTS, 0, (size_t)n_cnt * 4, true);
    struct sg_vk_bind ent = sg_vk_bind_scratch(r, SG_VK_SCRATCH_SO_PAIRS, 0, (size_t)pairs * 4, true);
    struct sg_vk_bind bi  = sg_vk_bind_tensor(idx, false);

    sg_status st                  = sg_vk_fill(r, cnt, 0, n_cnt, 0);
    struct sg_vk_pipeline_key key = {.shader = SG_VK_SHADER_SO_COUNT};
    struct sg_vk_bind b2[2]       = {bi, cnt};
    if (st == SG_OK) st = sg_vk_dispatch(r, &key, b2, 2, &pc, sizeof pc, pc.nb, 1, 1);
    struct {
        uint32_t n;
    } scan = {n_cnt};
    key    = (struct sg_vk_pipeline_key){.shader = SG_VK_SHADER_SO_SCAN};
    if (st == SG_OK) st = sg_vk_dispatch(r, &key, &cnt, 1, &scan, sizeof scan, 1, 1, 1);
    key                     = (struct sg_vk_pipeline_key){.shader = SG_VK_SHADER_SO_PLACE};
    struct sg_vk_bind b3[3] = {bi, cnt, ent};
    if (st == SG_OK) st = sg_vk_dispatch(r, &key, b3, 3, &pc, sizeof pc, pc.nb, 1, 1);
    if (st != SG_OK) return st;

    cnt.write = ent.write = false;
    key = (struct sg_vk_pipeline_key){.shader = SG_VK_SHADER_SO_SUM, .n_spec = 1, .spec = {c != NULL}};
    struct sg_vk_bind b5[5] = {sg_vk_bind_tensor(c ? c : x, false), sg_vk_bind_tensor(x, false), cnt, ent,
                               sg_vk_bind_tensor(node, true)};
    return sg_vk_dispatch(r, &key, b5, 5, &pc, sizeof pc, sg_vk_groups(r->dev, (uint64_t)pc.D * pc.N, 256), 1, 1);
}
