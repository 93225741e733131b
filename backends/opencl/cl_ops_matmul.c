/* MATMUL: a [K, M] (f32, f16 or bf16) times b [N, K] (f32, or bf16 with an f32 a) -> [N, M],
 * batch dims broadcast; with a bf16 operand the other is rounded to bf16 (a bf16 GEMM). Big
 * products use the tiled local-memory kernels, thin ones the plain kernel; all read operands
 * through their strides, so transposed views cost no copy. LINEAR runs the same kernels with
 * their epilogue arguments set: bias and activation are applied before the store. */
#include <limits.h>

#include "cl_ops.h"

bool sg_cl_supports_matmul(const struct sg_cl_device *d, const struct sg_tensor *node) {
    (void)d;
    const struct sg_tensor *a = node->src[0], *b = node->src[1];
    /* a BF16 b runs as the transposed product (see sg_cl_encode_matmul), which needs an F32 a;
     * there the kernels' columns are the product's rows, so a bias (indexed by column) cannot
     * follow: such a LINEAR stays on the CPU */
    bool types = b->type == SG_TYPE_F32 || (b->type == SG_TYPE_BF16 && a->type == SG_TYPE_F32);
    if (node->op == SG_OP_LINEAR &&
        (sg_get_param_i32(node, 0) < SG_LINEAR_NONE || sg_get_param_i32(node, 0) >= SG_LINEAR_N_ACTS ||
         (b->type == SG_TYPE_BF16 && node->src[2])))
        return false;
    return types && a->ne[0] <= INT_MAX && a->ne[1] <= INT_MAX && b->ne[0] <= INT_MAX;
}

enum mm_kind { MM_SIMPLE, MM_SMALL, MM_LARGE };

static enum sg_cl_kernel_id kernel_id(enum mm_kind kind, enum sg_type atype) {
    int t = atype == SG_TYPE_F16 ? 1 : atype == SG_TYPE_BF16 ? 2 : 0;
    if (kind == MM_LARGE) return (enum sg_cl_kernel_id)(SG_CL_K_MM_LARGE_F32 + t);
    if (kind == MM_SMALL) return (enum sg_cl_kernel_id)(SG_CL_K_MM_SMALL_F32 + t);
    return SG_CL_K_MM_SIMPLE;
}

/* Large tiles need enough of them to fill the device; small ones need rows and columns to
 * fill at least a quarter of a tile. The tiled kernels want 256 work-items per group. */
static enum mm_kind choose(const struct sg_cl_device *d, int64_t M, int64_t N, int64_t batch) {
    if (d->max_wg_size < 256) return MM_SIMPLE;
    int64_t large_tiles = ((M + 127) / 128) * ((N + 127) / 128) * batch;
    if (M >= 128 && N >= 128 && large_tiles >= 2 * (int64_t)d->compute_units && d->local_mem_size >= 20 * 1024)
        return MM_LARGE;
    if (M >= 16 && N >= 16) return MM_SMALL;
    return MM_SIMPLE;
}

/* The tiled kernel when the compiled kernel really allows 256 work-items (register-heavy
 * kernels may allow fewer), else the plain one. */
static sg_status pick_kernel(struct sg_cl_enc *e, enum mm_kind *kind, enum sg_type atype, cl_kernel *k) {
    sg_status st = sg_cl_enc_kernel(e, kernel_id(*kind, atype), k);
    if (st != SG_OK || *kind == MM_SIMPLE) return st;
    if (sg_cl_kernel_group_limit(e->dev, kernel_id(*kind, atype)) >= 256) return SG_OK;
    if (e->plan) clReleaseKernel(*k);
    *kind = MM_SIMPLE;
    return sg_cl_enc_kernel(e, SG_CL_K_MM_SIMPLE, k);
}

/* LINEAR's bias and activation; MATMUL's leave the product as it is. */
static void epilogue_args(struct sg_cl_args *args, const struct sg_tensor *node) {
    bool linear                  = node->op == SG_OP_LINEAR;
    const struct sg_tensor *bias = linear ? node->src[2] : NULL;
    sg_cl_arg_tensor(args, bias ? bias : node); /* any valid buffer when absent; never read */
    sg_cl_arg_i64(args, bias ? (int64_t)bias->nb[0] : 0);
    sg_cl_arg_i32(args, bias != NULL);
    sg_cl_arg_i32(args, linear ? sg_get_param_i32(node, 0) : SG_LINEAR_NONE);
    sg_cl_arg_f32(args, linear ? sg_get_param_f32(node, 1) : 0.0f);
}

sg_status sg_cl_encode_matmul(struct sg_cl_enc *e, const struct sg_tensor *node) {
    const struct sg_tensor *a = node->src[0], *b = node->src[1];
    if (sg_nelements(node) == 0) return SG_OK;
    if (a->ne[0] == 0 && node->op == SG_OP_MATMUL) return sg_cl_encode_fill(e, node, 0.0f);
    /* The kernels take any strides, and only `a` may be 16-bit; a BF16 weight b runs as
     * C^T = B^T A^T: the same numbers (a bf16 GEMM either way), read with swapped strides. */
    const bool swap = b->type == SG_TYPE_BF16;
    size_t c_sm = node->nb[1], c_sn = node->nb[0];
    if (swap) {
        const struct sg_tensor *t = a;
        a                         = b;
        b                         = t;
        c_sm                      = node->nb[0];
        c_sn                      = node->nb[1];
    }
    /* a' is b^T and b' is a^T: their k and m/n strides trade places */
    const size_t a_sk = swap ? a->nb[1] : a->nb[0], a_sm = swap ? a->nb[0] : a->nb[1];
    const size_t b_sn = swap ? b->nb[1] : b->nb[0], b_sk = swap ? b->nb[0] : b->nb[1];
    const int64_t K = swap ? a->ne[1] : a->ne[0], M = swap ? a->ne[0] : a->ne[1], N = swap ? b->ne[1] : b->ne[0];

    int64_t anb[SG_MAX_DIMS] = {0}, bnb[SG_MAX_DIMS] = {0}, cnb[SG_MAX_DIMS];
    int64_t batch = 1;
    sg_cl_strides(node, cnb);
    for (int d = 2; d < SG_MAX_DIMS; d++) {
        anb[d] = a->ne[d] == 1 ? 0 : (int64_t)a->nb[d];
        bnb[d] = b->ne[d] == 1 ? 0 : (int64_t)b->nb[d];
        batch *= node->ne[d];
    }
    enum mm_kind kind = choose(e->dev, M, N, batch);
    cl_kernel k;
    sg_status st = pick_kernel(e, &kind, a->type, &k);
    if (st != SG_OK) return st;

    struct sg_cl_args args = sg_cl_args(k);
    sg_cl_arg_tensor(&args, node);
    sg_cl_arg_tensor(&args, a);
    sg_cl_arg_tensor(&args, b);
    sg_cl_arg_i32(&args, (int32_t)M);
    sg_cl_arg_i32(&args, (int32_t)N);
    sg_cl_arg_i32(&args, (int32_t)K);
    sg_cl_arg_i64(&args, (int64_t)a_sk);
    sg_cl_arg_i64(&args, (int64_t)a_sm);
    sg_cl_arg_i64(&args, (int64_t)b_sn);
    sg_cl_arg_i64(&args, (int64_t)b_sk);
    sg_cl_arg_i64(&args, (int64_t)c_sn);
    sg_cl_arg_i64(&args, (int64_t)c_sm);
    sg_cl_arg_long8(&args, node->ne);
    sg_cl_arg_long8(&args, anb);
    sg_cl_arg_long8(&args, bnb);
    sg_cl_arg_long8(&args, cnb);
    if (kind == MM_SIMPLE) {
        size_t local[3] = {16, 4, 1};
        sg_cl_arg_i32(&args, a->type == SG_TYPE_F16 ? 1 : a->type == SG_TYPE_BF16 ? 2 : 0);
        epilogue_args(&args, node);
        size_t global[3] = {(size_t)N, (size_t)M, (size_t)batch};
        return sg_cl_enc_launch(e, &args, 3, global, local);
    }
    /* tile loads follow the unit-stride dim of each operand */
    sg_cl_arg_i32(&args, a_sk == sg_type_size(a->type) || K == 1);
    sg_cl_arg_i32(&args, b_sn == sizeof(float) || N == 1);
    epilogue_args(&args, node);
    const size_t tile = kind == MM_LARGE ? 128 : 64, local[3] = {16, 16, 1};
    size_t global[3] = {(size_t)(N + tile - 1) / tile * 16, (size_t)(M + tile - 1) / tile * 16, (size_t)batch};
    return sg_cl_enc_launch(e, &args, 3, global, local);
}
