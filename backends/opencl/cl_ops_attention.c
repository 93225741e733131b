/* ATTENTION and ATTENTION_BACK (flash-style, kernels/attention.cl). Query and key blocks are as
 * large as local memory allows (up to 32 rows); the backward pass keeps two floats per query
 * row (log-sum-exp and dO . O) in scratch memory. */
#include <limits.h>

#include "cl_ops.h"

#define MAX_BLOCK  32
#define GROUP_SIZE 64

struct attn_dims {
    int64_t D, Dv, H, Sq, Sk, B;
};

static struct attn_dims dims_of(const struct sg_tensor *node) {
    const struct sg_tensor *q = node->src[0], *k = node->src[1], *v = node->src[2];
    return (struct attn_dims){q->ne[0], v->ne[0], q->ne[1], q->ne[2], k->ne[2], q->ne[3]};
}

/* Local memory (bytes) of each kernel for blocks of n queries and n keys. */
static size_t local_fwd(const struct attn_dims *a, size_t n) {
    return sizeof(float) * (n * a->D + n * (a->D + 1) + n * a->Dv + n * n + n * a->Dv + 3 * n) + sizeof(int) * n;
}
static size_t local_dq(const struct attn_dims *a, size_t n) {
    return sizeof(float) * (2 * n * a->D + n * a->Dv + 2 * n + n * (a->D + 1) + n * (a->Dv + 1) + n * n) +
           sizeof(int) * n;
}
static size_t local_dkdv(const struct attn_dims *a, size_t n) {
    return sizeof(float) *
               (n * (a->D + 1) + n * (a->Dv + 1) + n * a->D + n * a->Dv + n * a->D + n * a->Dv + 2 * n + 2 * n * n) +
           sizeof(int) * n;
}

/* The largest block that fits every kernel the op runs, or 0. A little local memory is kept
 * back for what compilers add on their own. */
static size_t block_size(const struct sg_cl_device *d, const struct attn_dims *a, bool backward) {
    const size_t avail = d->local_mem_size > 1024 ? (size_t)d->local_mem_size - 1024 : 0;
    for (size_t n = MAX_BLOCK; n >= 1; n /= 2) {
        bool fits = local_fwd(a, n) <= avail;
        if (backward) fits = fits && local_dq(a, n) <= avail && local_dkdv(a, n) <= avail;
        if (fits) return n;
    }
    return 0;
}

bool sg_cl_supports_attention(const struct sg_cl_device *d, const struct sg_tensor *node) {
    struct attn_dims a = dims_of(node);
    if (a.D > INT_MAX || a.Dv > INT_MAX || a.H > INT_MAX || a.Sq > INT_MAX || a.Sk > INT_MAX || a.B > INT_MAX)
        return false;
    return block_size(d, &a, node->op == SG_OP_ATTENTION_BACK) > 0;
}

size_t sg_cl_scratch_attention(const struct sg_cl_device *d, const struct sg_tensor *node) {
    (void)d;
    struct attn_dims a = dims_of(node);
    return sg_cl_align(2 * sizeof(float) * (size_t)(a.B * a.H * a.Sq));
}

/* Arguments every attention kernel starts with after its output: q, k, v, mask, sizes, scale,
 * blocks. */
static void common_args(struct sg_cl_args *args, const struct sg_tensor *node, const struct attn_dims *a, size_t blk) {
    const struct sg_tensor *mask = node->src[3];
    for (int i = 0; i < 3; i++) {
        int64_t nb[SG_MAX_DIMS];
        sg_cl_strides(node->src[i], nb);
        sg_cl_arg_tensor(args, node->src[i]);
        sg_cl_arg_long8(args, nb);
    }
    sg_cl_arg_tensor(args, mask ? mask : node->src[0]); /* never read without a mask */
    sg_cl_arg_i64(args, mask ? (int64_t)mask->nb[0] : 0);
    sg_cl_arg_i64(args, mask ? (int64_t)mask->nb[1] : 0);
    sg_cl_arg_i32(args, mask != NULL);
    sg_cl_arg_i32(args, (int32_t)a->D);
    sg_cl_arg_i32(args, (int32_t)a->Dv);
    sg_cl_arg_i32(args, (int32_t)a->H);
    sg_cl_arg_i32(args, (int32_t)a->Sq);
    sg_cl_arg_i32(args, (int32_t)a->Sk);
    sg_cl_arg_i32(args, (int32_t)a->B);
    sg_cl_arg_f32(args, sg_get_param_f32(node, 0));
    sg_cl_arg_i32(args, (int32_t)blk);
    sg_cl_arg_i32(args, (int32_t)blk);
}

static sg_status launch_blocks(struct sg_cl_enc *e, enum sg_cl_kernel_id id, struct sg_cl_args *args,
                               const struct attn_dims *a, int64_t rows, size_t blk, size_t local_bytes) {
    sg_cl_arg_local(args, local_bytes - sizeof(int) * blk);
    sg_cl_arg_local(args, sizeof(int) * blk);
    size_t wg        = sg_cl_group(e->dev, id, GROUP_SIZE);
    size_t global[3] = {(size_t)(rows + (int64_t)blk - 1) / blk * wg, (size_t)a->H, (size_t)a->B};
    size_t local[3]  = {wg, 1, 1};
    return sg_cl_enc_launch(e, args, 3, global, local);
}

/* mode 0 writes the output into out; mode 1 writes row statistics into scratch. */
static sg_status encode_fwd(struct sg_cl_enc *e, const struct sg_tensor *node, const struct sg_tensor *out,
                            const struct sg_tensor *dout, int mode, size_t blk) {
    struct attn_dims a = dims_of(node);
    cl_kernel k;
    sg_status st = sg_cl_enc_kernel(e, SG_CL_K_ATTN_FWD, &k);
    if (st != SG_OK) return st;
    int64_t onb[SG_MAX_DIMS] = {0}, dnb[SG_MAX_DIMS] = {0};
    if (out) sg_cl_strides(out, onb);
    if (dout) sg_cl_strides(dout, dnb);
    struct sg_cl_args args = sg_cl_args(k);
    if (out)
        sg_cl_arg_tensor(&args, out);
    else
        sg_cl_arg_mem(&args, e->scratch, 0);
    sg_cl_arg_long8(&args, onb);
    common_args(&args, node, &a, blk);
    sg_cl_arg_i32(&args, mode);
    if (mode)
        sg_cl_arg_mem(&args, e->scratch, 0);
    else
        sg_cl_arg_tensor(&args, node->src[0]);
    sg_cl_arg_tensor(&args, dout ? dout : node->src[0]);
    sg_cl_arg_long8(&args, dnb);
    return launch_blocks(e, SG_CL_K_ATTN_FWD, &args, &a, a.Sq, blk, local_fwd(&a, blk));
}

sg_status sg_cl_encode_attention(struct sg_cl_enc *e, const struct sg_tensor *node) {
    struct attn_dims a = dims_of(node);
    if (sg_nelements(node) == 0) return SG_OK;
    if (a.Sk == 0 || a.D == 0) return sg_cl_encode_fill(e, node, 0.0f);
    return encode_fwd(e, node, node, NULL, 0, block_size(e->dev, &a, false));
}

static sg_status encode_bwd(struct sg_cl_enc *e, const struct sg_tensor *node, enum sg_cl_kernel_id id, size_t blk) {
    struct attn_dims a           = dims_of(node);
    const struct sg_tensor *dout = node->src[4];
    cl_kernel k;
    sg_status st = sg_cl_enc_kernel(e, id, &k);
    if (st != SG_OK) return st;
    int64_t dnb[SG_MAX_DIMS];
    sg_cl_strides(dout, dnb);
    struct sg_cl_args args = sg_cl_args(k);
    sg_cl_arg_tensor(&args, node);
    common_args(&args, node, &a, blk);
    sg_cl_arg_mem(&args, e->scratch, 0);
    sg_cl_arg_tensor(&args, dout);
    sg_cl_arg_long8(&args, dnb);
    bool dq = id == SG_CL_K_ATTN_BWD_DQ;
    return launch_blocks(e, id, &args, &a, dq ? a.Sq : a.Sk, blk, dq ? local_dq(&a, blk) : local_dkdv(&a, blk));
}

sg_status sg_cl_encode_attention_back(struct sg_cl_enc *e, const struct sg_tensor *node) {
    struct attn_dims a = dims_of(node);
    if (sg_nelements(node) == 0) return SG_OK;
    if (a.Sk == 0 || a.Sq == 0 || a.D == 0 || a.H == 0 || a.B == 0) return sg_cl_encode_fill(e, node, 0.0f);
    size_t blk   = block_size(e->dev, &a, true);
    sg_status st = encode_fwd(e, node, NULL, node->src[4], 1, blk);
    if (st == SG_OK) st = encode_bwd(e, node, SG_CL_K_ATTN_BWD_DQ, blk);
    if (st == SG_OK) st = encode_bwd(e, node, SG_CL_K_ATTN_BWD_DKDV, blk);
    return st;
}
