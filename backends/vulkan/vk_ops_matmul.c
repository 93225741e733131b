/* MATMUL and LINEAR: a tiled shared-memory kernel (shaders/matmul.comp); the tile shape is
 * picked from the problem size, the load path from each operand's layout. LINEAR specialises
 * the same shader with its bias and activation, applied before the store. */
#include <string.h>

#include "vk_internal.h"

struct matmul_push {
    uint32_t M, N, K;
    uint32_t oa, ob, od;
    uint32_t sa0, sa1, sb0, sb1;
    uint32_t nbatch;
    uint32_t bne[4], saz[4], sbz[4];
    uint32_t flags;
    uint32_t obias, sbias;
    float slope;
};

enum {
    A_MFAST = 1, /* a is read 4 rows at a time (a transposed view), else 4 along k */
    A_VEC   = 2, /* ... with vec4 loads */
    B_KFAST = 4, /* b is read 4 along k, else 4 along n */
    B_VEC   = 8,
    D_VEC   = 16, /* the output is written 4 at a time */
};

/* Tile configurations: block M x N, depth K, per-thread M x N (multiples of 4). */
struct tile {
    uint32_t bm, bn, bk, tm, tn;
};
static const struct tile tile_large  = {128, 128, 8, 8, 8}; /* 256 threads */
static const struct tile tile_medium = {64, 64, 16, 4, 4};  /* 256 threads */
static const struct tile tile_small  = {32, 32, 16, 4, 4};  /* 64 threads */

bool sg_vk_matmul_supports(const struct sg_vk_device *d, const struct sg_tensor *node) {
    (void)d;
    const struct sg_tensor *a = node->src[0], *b = node->src[1], *bias = node->src[2];
    if (a->type == SG_TYPE_I32 || (b->type != SG_TYPE_F32 && b->type != SG_TYPE_BF16) || node->type != SG_TYPE_F32)
        return false;
    if (node->op == SG_OP_LINEAR) {
        int32_t act = sg_get_param_i32(node, 0);
        if (act < SG_LINEAR_NONE || act >= SG_LINEAR_N_ACTS) return false;
        if (bias && (bias->type != SG_TYPE_F32 || !sg_vk_layout_ok(bias) || !sg_vk_fits_u32(bias))) return false;
    }
    if (!sg_vk_layout_ok(a) || !sg_vk_layout_ok(b) || !sg_is_contiguous(node)) return false;
    return sg_vk_fits_u32(a) && sg_vk_fits_u32(b) && sg_vk_fits_u32(node);
}

static const struct tile *pick_tile(uint32_t M, uint32_t N) {
    if (M >= 128 && N >= 128) return &tile_large;
    if (M >= 64 && N >= 64) return &tile_medium;
    return &tile_small;
}

static bool all_mult4(const uint32_t *v, int n) {
    for (int i = 0; i < n; i++)
        if (v[i] % 4) return false;
    return true;
}

/* Which dimension of each operand to read along, and whether vec4 loads are aligned. */
static uint32_t load_flags(const struct sg_tensor *a, const struct sg_tensor *b, const struct matmul_push *pc) {
    uint32_t flags = 0;
    bool batch_a4 = all_mult4(pc->saz, 4) && pc->oa % 4 == 0, batch_b4 = all_mult4(pc->sbz, 4) && pc->ob % 4 == 0;
    if (pc->sa0 != 1 && pc->sa1 == 1) {
        flags |= A_MFAST;
        if (pc->M % 4 == 0 && pc->sa0 % 4 == 0 && batch_a4) flags |= A_VEC;
    } else if (pc->sa0 == 1 && pc->K % 4 == 0 && pc->sa1 % 4 == 0 && batch_a4) {
        flags |= A_VEC;
    }
    if (a->type != SG_TYPE_F32) flags &= ~(uint32_t)A_VEC;
    if (pc->sb0 != 1 && pc->sb1 == 1) {
        flags |= B_KFAST;
        if (pc->K % 4 == 0 && pc->sb0 % 4 == 0 && batch_b4) flags |= B_VEC;
    } else if (pc->sb0 == 1 && pc->N % 4 == 0 && pc->sb1 % 4 == 0 && batch_b4) {
        flags |= B_VEC;
    }
    if (b->type != SG_TYPE_F32) flags &= ~(uint32_t)B_VEC;
    if (pc->N % 4 == 0 && pc->od % 4 == 0) flags |= D_VEC;
    return flags;
}

sg_status sg_vk_matmul_record(struct sg_vk_rec *r, const struct sg_tensor *node) {
    const struct sg_tensor *a = node->src[0], *b = node->src[1];
    struct matmul_push pc = {
        .M      = (uint32_t)node->ne[1],
        .N      = (uint32_t)node->ne[0],
        .K      = (uint32_t)a->ne[0],
        .oa     = sg_vk_elem_offset(a),
        .ob     = sg_vk_elem_offset(b),
        .od     = sg_vk_elem_offset(node),
        .sa0    = sg_vk_stride(a, 0),
        .sa1    = sg_vk_stride(a, 1),
        .sb0    = sg_vk_stride(b, 0),
        .sb1    = sg_vk_stride(b, 1),
        .nbatch = 1,
    };
    for (int i = 0; i < 4; i++) {
        int dim   = i + 2;
        pc.bne[i] = (uint32_t)node->ne[dim];
        pc.saz[i] = sg_vk_stride(a, dim);
        pc.sbz[i] = sg_vk_stride(b, dim);
        pc.nbatch *= pc.bne[i];
    }
    pc.flags                     = load_flags(a, b, &pc);
    const struct sg_tensor *bias = node->op == SG_OP_LINEAR ? node->src[2] : NULL;
    uint32_t epi                 = node->op == SG_OP_LINEAR ? (uint32_t)sg_get_param_i32(node, 0) : 0;
    if (bias) {
        pc.obias = sg_vk_elem_offset(bias);
        pc.sbias = sg_vk_stride(bias, 0);
    }
    if (node->op == SG_OP_LINEAR) pc.slope = sg_get_param_f32(node, 1);
    const struct tile *t = pick_tile(pc.M, pc.N);
    SG_LOGD("%s: matmul %ux%ux%u (x%u): tile %ux%ux%u, loads 0x%x", r->dev->name, pc.M, pc.N, pc.K, pc.nbatch, t->bm,
            t->bn, t->bk, pc.flags);
    uint32_t wg                   = (t->bm / t->tm) * (t->bn / t->tn);
    struct sg_vk_pipeline_key key = {
        .shader = SG_VK_SHADER_MATMUL,
        .n_spec = 10,
        .spec   = {wg, t->bm, t->bn, t->bk, t->tm, t->tn, (uint32_t)a->type, (uint32_t)b->type, epi, bias != NULL}};
    /* without a bias, binding 3 is bound to a (the shader never reads it then) */
    struct sg_vk_bind bind[4] = {sg_vk_bind_tensor(a, false), sg_vk_bind_tensor(b, false),
                                 sg_vk_bind_tensor(node, true), sg_vk_bind_tensor(bias ? bias : a, false)};
    uint32_t gx = sg_vk_groups(r->dev, pc.N, t->bn), gy = sg_vk_groups(r->dev, pc.M, t->bm);
    uint32_t gz = sg_vk_groups(r->dev, pc.nbatch, 1);
    return sg_vk_dispatch(r, &key, bind, 4, &pc, sizeof pc, gx, gy, gz);
}
