/* ATTENTION and ATTENTION_BACK: flash-style kernels (online softmax, the score matrix is never
 * stored). The backward pass reruns the forward for each query's log-sum-exp, then computes dq
 * (per query block) and dk, dv (per key block) without atomics. Tile sizes come from the head
 * size and the device's shared memory. */
#include "vk_internal.h"

#define ATTN_WG 128

struct attn_push {
    uint32_t D, Dv, H, Sq, Sk, B;
    uint32_t sq[4], sk[4], sv[4];
    uint32_t sm0, sm1;
    uint32_t sd[4];
    uint32_t oq, ok, ov, om, od, oo;
    float scale;
    uint32_t flags; /* 1: key mask bound, 2: write log-sum-exp */
};

enum attn_kernel { ATTN_FWD, ATTN_DQ, ATTN_DKDV };

struct attn_tiles {
    uint32_t dmax, br, bc;
};

static size_t shared_bytes(enum attn_kernel k, uint32_t dmax, uint32_t br, uint32_t bc) {
    size_t ks = dmax + 1;
    switch (k) {
    case ATTN_FWD: return 4 * (br * dmax + bc * ks + br * bc + 3 * br + bc);
    case ATTN_DQ: return 4 * (2 * br * dmax + 2 * bc * ks + br * bc + 2 * br + bc);
    case ATTN_DKDV: return 4 * (2 * bc * ks + 2 * br * dmax + 2 * br * bc + 2 * br + bc);
    }
    return SIZE_MAX;
}

/* The largest tiles that fit the device's shared memory, shrinking the streamed dimension
 * first; false when even the smallest do not fit. */
static bool attn_tiles(const struct sg_vk_device *d, enum attn_kernel k, int64_t D, int64_t Dv, struct attn_tiles *t) {
    int64_t need  = D > Dv ? D : Dv;
    uint32_t dmax = 32;
    while (dmax < need) dmax *= 2;
    if (dmax > 256) return false;
    /* the block that owns the outputs must give every thread at least one */
    uint32_t own_min = (ATTN_WG + dmax - 1) / dmax;
    uint32_t br = 16, bc = k == ATTN_FWD ? 32 : 16;
    uint32_t *stream = k == ATTN_DKDV ? &br : &bc, *own = k == ATTN_DKDV ? &bc : &br;
    while (shared_bytes(k, dmax, br, bc) > d->caps.max_shared) {
        if (*stream > 4)
            *stream /= 2;
        else if (*own / 2 >= own_min && *own > 4)
            *own /= 2;
        else
            return false;
    }
    *t = (struct attn_tiles){dmax, br, bc};
    return true;
}

bool sg_vk_attention_supports(const struct sg_vk_device *d, const struct sg_tensor *node) {
    const struct sg_tensor *q = node->src[0], *k = node->src[1], *v = node->src[2], *mask = node->src[3];
    const struct sg_tensor *dout = node->op == SG_OP_ATTENTION_BACK ? node->src[4] : NULL;
    const struct sg_tensor *ts[] = {q, k, v, mask, dout, node};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        if (ts[i] && (!sg_vk_layout_ok(ts[i]) || !sg_vk_fits_u32(ts[i]))) return false;
    if (!sg_is_contiguous(node) || q->type != SG_TYPE_F32 || k->type != SG_TYPE_F32 || v->type != SG_TYPE_F32)
        return false;
    if (mask && mask->type != SG_TYPE_I32) return false;
    struct attn_tiles t;
    if (node->op == SG_OP_ATTENTION) return attn_tiles(d, ATTN_FWD, q->ne[0], v->ne[0], &t);
    if (!dout || dout->type != SG_TYPE_F32) return false;
    /* scratch: the forward output and two values per query, each within one buffer */
    if ((size_t)sg_nelements(dout) * 4 > d->max_buffer) return false;
    return attn_tiles(d, ATTN_FWD, q->ne[0], v->ne[0], &t) && attn_tiles(d, ATTN_DQ, q->ne[0], v->ne[0], &t) &&
           attn_tiles(d, ATTN_DKDV, q->ne[0], v->ne[0], &t);
}

static struct attn_push attn_push(const struct sg_tensor *node) {
    const struct sg_tensor *q = node->src[0], *k = node->src[1], *v = node->src[2], *mask = node->src[3];
    struct attn_push pc = {.D     = (uint32_t)q->ne[0],
                           .Dv    = (uint32_t)v->ne[0],
                           .H     = (uint32_t)q->ne[1],
                           .Sq    = (uint32_t)q->ne[2],
                           .Sk    = (uint32_t)k->ne[2],
                           .B     = (uint32_t)q->ne[3],
                           .oq    = sg_vk_elem_offset(q),
                           .ok    = sg_vk_elem_offset(k),
                           .ov    = sg_vk_elem_offset(v),
                           .scale = sg_get_param_f32(node, 0)};
    for (int i = 0; i < 4; i++) {
        pc.sq[i] = sg_vk_stride(q, i);
        pc.sk[i] = sg_vk_stride(k, i);
        pc.sv[i] = sg_vk_stride(v, i);
    }
    if (mask) {
        pc.flags |= 1;
        pc.om  = sg_vk_elem_offset(mask);
        pc.sm0 = sg_vk_stride(mask, 0);
        pc.sm1 = sg_vk_stride(mask, 1);
    }
    if (node->op == SG_OP_ATTENTION_BACK) {
        const struct sg_tensor *dout = node->src[4];
        pc.od                        = sg_vk_elem_offset(dout);
        for (int i = 0; i < 4; i++) pc.sd[i] = sg_vk_stride(dout, i);
    }
    return pc;
}

/* Mask and statistics are run-time flags, not pipeline variants: fewer pipelines to compile. */
static sg_status dispatch_blocks(struct sg_vk_rec *r, enum sg_vk_shader shader, const struct attn_tiles *t,
                                 const struct sg_vk_bind *b, int n_binds, const struct attn_push *pc, uint32_t blocks) {
    struct sg_vk_pipeline_key key = {.shader = shader, .n_spec = 4, .spec = {ATTN_WG, t->br, t->bc, t->dmax}};
    return sg_vk_dispatch(r, &key, b, n_binds, pc, sizeof *pc, sg_vk_groups(r->dev, blocks, 1),
                          sg_vk_groups(r->dev, pc->H, 1), sg_vk_groups(r->dev, pc->B, 1));
}

sg_status sg_vk_attention_record(struct sg_vk_rec *r, const struct sg_tensor *node) {
    const struct sg_tensor *q = node->src[0], *k = node->src[1], *v = node->src[2], *mask = node->src[3];
    struct attn_tiles t;
    if (!attn_tiles(r->dev, ATTN_FWD, q->ne[0], v->ne[0], &t))
        return sg_error(SG_ERR_UNSUPPORTED, "%s: attention head size %lld too large", r->dev->name,
                        (long long)q->ne[0]);
    struct attn_push pc    = attn_push(node);
    pc.oo                  = sg_vk_elem_offset(node);
    struct sg_vk_bind b[6] = {sg_vk_bind_tensor(q, false),   sg_vk_bind_tensor(k, false),
                              sg_vk_bind_tensor(v, false),   sg_vk_bind_tensor(mask ? mask : q, false),
                              sg_vk_bind_tensor(node, true), sg_vk_bind_tensor(node, true)};
    return dispatch_blocks(r, SG_VK_SHADER_ATTN_FWD, &t, b, 6, &pc, (pc.Sq + t.br - 1) / t.br);
}

/* Scratch: the forward output, each query's log-sum-exp and each query's dout . out. */
void sg_vk_attention_back_scratch(const struct sg_vk_device *d, const struct sg_tensor *node,
                                  size_t sizes[SG_VK_MAX_SCRATCH]) {
    (void)d;
    const struct sg_tensor *q = node->src[0], *dout = node->src[4];
    size_t rows                     = (size_t)(q->ne[1] * q->ne[2] * q->ne[3]);
    sizes[SG_VK_SCRATCH_ATTN_OUT]   = (size_t)sg_nelements(dout) * 4;
    sizes[SG_VK_SCRATCH_ATTN_LSE]   = rows * 4;
    sizes[SG_VK_SCRATCH_ATTN_DELTA] = rows * 4;
}

sg_status sg_vk_attention_back_record(struct sg_vk_rec *r, const struct sg_tensor *node) {
    const struct sg_tensor *q = node->src[0], *k = node->src[1], *v = node->src[2], *mask = node->src[3];
    const struct sg_tensor *dout = node->src[4];
    struct attn_tiles tf, tq, tk;
    if (!attn_tiles(r->dev, ATTN_FWD, q->ne[0], v->ne[0], &tf) ||
        !attn_tiles(r->dev, ATTN_DQ, q->ne[0], v->ne[0], &tq) ||
        !attn_tiles(r->dev, ATTN_DKDV, q->ne[0], v->ne[0], &tk))
        return sg_error(SG_ERR_UNSUPPORTED, "%s: attention head size %lld too large", r->dev->name,
                        (long long)q->ne[0]);
    struct attn_push pc    = attn_push(node);
    size_t rows            = (size_t)pc.H * pc.Sq * pc.B;
    struct sg_vk_bind so_w = sg_vk_bind_scratch(r, SG_VK_SCRATCH_ATTN_OUT, 0, (size_t)sg_nelements(dout) * 4, true);
    struct sg_vk_bind sl_w = sg_vk_bind_scratch(r, SG_VK_SCRATCH_ATTN_LSE, 0, rows * 4, true);
    struct sg_vk_bind sd_w = sg_vk_bind_scratch(r, SG_VK_SCRATCH_ATTN_DELTA, 0, rows * 4, true);
    struct sg_vk_bind bq = sg_vk_bind_tensor(q, false), bk = sg_vk_bind_tensor(k, false),
                      bv = sg_vk_bind_tensor(v, false), bm = sg_vk_bind_tensor(mask ? mask : q, false),
                      bg = sg_vk_bind_tensor(dout, false);

    /* forward again, keeping the output and each query's log-sum-exp */
    pc.oo = 0;
    pc.flags |= 2;
    struct sg_vk_bind fwd[6] = {bq, bk, bv, bm, so_w, sl_w};
    sg_status st             = dispatch_blocks(r, SG_VK_SHADER_ATTN_FWD, &tf, fwd, 6, &pc, (pc.Sq + tf.br - 1) / tf.br);
    if (st != SG_OK) return st;

    /* delta = dout . out per query */
    struct sg_vk_bind so_r = so_w, sl_r = sl_w, sd_r = sd_w;
    so_r.write = sl_r.write = sd_r.write = false;
    struct sg_vk_bind dot[3]             = {bg, so_r, sd_w};
    struct sg_vk_pipeline_key key        = {.shader = SG_VK_SHADER_ATTN_DOT};
    st = sg_vk_dispatch(r, &key, dot, 3, &pc, sizeof pc, sg_vk_groups(r->dev, rows, 64), 1, 1);
    if (st != SG_OK) return st;

    /* dq, then dk and dv, into disjoint parts of the packed result (no barrier between them) */
    size_t nq = (size_t)sg_nelements(q);
    pc.oo     = sg_vk_elem_offset(node);
    pc.flags &= ~2u;
    struct sg_vk_bind out_q = sg_vk_bind_tensor(node, true), out_kv = out_q;
    out_q.hi                 = out_q.lo + nq * 4;
    out_kv.lo                = out_q.hi;
    struct sg_vk_bind bwd[8] = {bq, bk, bv, bm, bg, sl_r, sd_r, out_q};
    st = dispatch_blocks(r, SG_VK_SHADER_ATTN_BWD_DQ, &tq, bwd, 8, &pc, (pc.Sq + tq.br - 1) / tq.br);
    if (st != SG_OK) return st;
    bwd[7] = out_kv;
    return dispatch_blocks(r, SG_VK_SHADER_ATTN_BWD_DKDV, &tk, bwd, 8, &pc, (pc.Sk + tk.bc - 1) / tk.bc);
}
