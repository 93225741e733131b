/* Host side of the bitonic pair sort (kernels/sort.cl), shared by TOP_K and SCATTER_OUTER. */
#include "cl_ops.h"

#define SORT_GROUP 256

static sg_status sort_local_pass(struct sg_cl_enc *e, enum sg_cl_kernel_id id, cl_mem mem, cl_ulong koff, cl_ulong voff,
                                 size_t seg, size_t total, size_t L, size_t k) {
    cl_kernel kern;
    sg_status st = sg_cl_enc_kernel(e, id, &kern);
    if (st != SG_OK) return st;
    struct sg_cl_args a = sg_cl_args(kern);
    sg_cl_arg_mem(&a, mem, koff);
    sg_cl_arg_mem(&a, mem, voff);
    sg_cl_arg_u32(&a, (uint32_t)seg);
    if (id == SG_CL_K_SORT_MERGE) sg_cl_arg_u32(&a, (uint32_t)k);
    sg_cl_arg_u32(&a, (uint32_t)L);
    sg_cl_arg_local(&a, L * sizeof(uint32_t));
    sg_cl_arg_local(&a, L * sizeof(uint32_t));
    size_t wg        = L / 2;
    size_t global[1] = {total / L * wg}, local[1] = {wg};
    return sg_cl_enc_launch(e, &a, 1, global, local);
}

static sg_status sort_step(struct sg_cl_enc *e, cl_mem mem, cl_ulong koff, cl_ulong voff, size_t seg, size_t total,
                           size_t k, size_t j) {
    cl_kernel kern;
    sg_status st = sg_cl_enc_kernel(e, SG_CL_K_SORT_STEP, &kern);
    if (st != SG_OK) return st;
    struct sg_cl_args a = sg_cl_args(kern);
    sg_cl_arg_mem(&a, mem, koff);
    sg_cl_arg_mem(&a, mem, voff);
    sg_cl_arg_u32(&a, (uint32_t)seg);
    sg_cl_arg_u32(&a, (uint32_t)k);
    sg_cl_arg_u32(&a, (uint32_t)j);
    sg_cl_arg_i64(&a, (int64_t)total);
    size_t global[1] = {total / 2}, local[1] = {64};
    return sg_cl_enc_launch(e, &a, 1, global, local);
}

/* Stages up to the chunk size L run in local memory in one launch; each larger stage k takes
 * global steps down to j = L, then one local launch for the remaining steps. */
sg_status sg_cl_encode_sort_pairs(struct sg_cl_enc *e, cl_mem mem, cl_ulong koff, cl_ulong voff, size_t seg,
                                  size_t n_seg) {
    if (seg < 2 || n_seg == 0) return SG_OK;
    const size_t total = seg * n_seg;
    /* the chunk must suit both local kernels: they pair up at the same boundaries */
    size_t wl = sg_cl_group(e->dev, SG_CL_K_SORT_LOCAL, SORT_GROUP);
    size_t wm = sg_cl_group(e->dev, SG_CL_K_SORT_MERGE, SORT_GROUP);
    size_t L  = 2 * (wl < wm ? wl : wm);
    if (L > seg) L = seg;
    sg_status st = sort_local_pass(e, SG_CL_K_SORT_LOCAL, mem, koff, voff, seg, total, L, 0);
    for (size_t k = 2 * L; st == SG_OK && k <= seg; k *= 2) {
        for (size_t j = k / 2; st == SG_OK && j >= L; j /= 2) st = sort_step(e, mem, koff, voff, seg, total, k, j);
        if (st == SG_OK) st = sort_local_pass(e, SG_CL_K_SORT_MERGE, mem, koff, voff, seg, total, L, k);
    }
    return st;
}
