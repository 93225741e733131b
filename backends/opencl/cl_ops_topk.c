/* TOP_K: radix selection per row (topk_select), a sort of each row's k pairs so the largest
 * come first and ties go to the lower index, then the indices are written out (topk_write). */
#include "cl_ops.h"

#define SELECT_GROUP 256

/* Pairs are sorted in segments of a power of two >= k. */
static size_t segment(const struct sg_tensor *node) { return sg_cl_pow2_ceil((size_t)node->ne[0]); }

static size_t keys_bytes(const struct sg_tensor *node) {
    return sg_cl_align(sizeof(uint32_t) * segment(node) * (size_t)sg_nrows(node));
}

size_t sg_cl_scratch_top_k(const struct sg_cl_device *d, const struct sg_tensor *node) {
    (void)d;
    return 2 * keys_bytes(node);
}

sg_status sg_cl_encode_top_k(struct sg_cl_enc *e, const struct sg_tensor *node) {
    const struct sg_tensor *x = node->src[0];
    const size_t seg = segment(node), rows = (size_t)sg_nrows(node);
    const cl_ulong koff = 0, voff = keys_bytes(node);
    if (sg_nelements(node) == 0) return SG_OK;

    cl_kernel k;
    sg_status st = sg_cl_enc_kernel(e, SG_CL_K_TOPK_SELECT, &k);
    if (st != SG_OK) return st;
    int64_t xnb[SG_MAX_DIMS];
    sg_cl_strides(x, xnb);
    size_t wg           = sg_cl_group(e->dev, SG_CL_K_TOPK_SELECT, SELECT_GROUP);
    struct sg_cl_args a = sg_cl_args(k);
    sg_cl_arg_tensor(&a, x);
    sg_cl_arg_long8(&a, x->ne);
    sg_cl_arg_long8(&a, xnb);
    sg_cl_arg_i32(&a, (int32_t)node->ne[0]);
    sg_cl_arg_u32(&a, (uint32_t)seg);
    sg_cl_arg_mem(&a, e->scratch, koff);
    sg_cl_arg_mem(&a, e->scratch, voff);
    sg_cl_arg_local(&a, 256 * sizeof(uint32_t));
    sg_cl_arg_local(&a, wg * sizeof(uint32_t));
    size_t global[1] = {rows * wg}, local[1] = {wg};
    st = sg_cl_enc_launch(e, &a, 1, global, local);
    if (st == SG_OK) st = sg_cl_encode_sort_pairs(e, e->scratch, koff, voff, seg, rows);
    if (st != SG_OK) return st;

    st = sg_cl_enc_kernel(e, SG_CL_K_TOPK_WRITE, &k);
    if (st != SG_OK) return st;
    int64_t dnb[SG_MAX_DIMS];
    sg_cl_strides(node, dnb);
    a = sg_cl_args(k);
    sg_cl_arg_tensor(&a, node);
    sg_cl_arg_long8(&a, node->ne);
    sg_cl_arg_long8(&a, dnb);
    sg_cl_arg_mem(&a, e->scratch, voff);
    sg_cl_arg_u32(&a, (uint32_t)seg);
    size_t global2[2] = {(size_t)node->ne[0], rows}, local2[2] = {16, 1};
    return sg_cl_enc_launch(e, &a, 2, global2, local2);
}

/* Indices travel as 32-bit values and rows are sorted in segments of up to 2^31 pairs. */
bool sg_cl_supports_top_k(const struct sg_cl_device *d, const struct sg_tensor *node) {
    (void)d;
    return node->src[0]->ne[0] < ((int64_t)1 << 31);
}
