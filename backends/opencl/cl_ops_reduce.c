/* SUM_TO: sums over the dims the destination keeps as 1. */
#include "cl_ops.h"

#define GROUP_SIZE 64

sg_status sg_cl_encode_sum_to(struct sg_cl_enc *e, const struct sg_tensor *node) {
    const struct sg_tensor *x = node->src[0];
    struct sg_cl_ew ew;
    sg_cl_ew_init(&ew, x->ne, (const struct sg_tensor *[]){x, node}, 2);
    /* a collapsed dim is reduced when the destination does not advance along it */
    int64_t kne[SG_MAX_DIMS], kdnb[SG_MAX_DIMS] = {0}, ksnb[SG_MAX_DIMS] = {0};
    int64_t rne[SG_MAX_DIMS], rsnb[SG_MAX_DIMS] = {0};
    int nk = 0, nr = 0;
    for (int d = 0; d < SG_MAX_DIMS; d++) kne[d] = rne[d] = 1;
    for (int d = 0; d < SG_MAX_DIMS && ew.ne[d] > 1; d++) {
        if (ew.nb[1][d] == 0) {
            rne[nr]    = ew.ne[d];
            rsnb[nr++] = ew.nb[0][d];
        } else {
            kne[nk]    = ew.ne[d];
            ksnb[nk]   = ew.nb[0][d];
            kdnb[nk++] = ew.nb[1][d];
        }
    }
    int64_t n_out = 1;
    for (int d = 0; d < SG_MAX_DIMS; d++) n_out *= kne[d];
    if (sg_nelements(node) == 0) return SG_OK;
    if (sg_nelements(x) == 0) return sg_cl_encode_fill(e, node, 0.0f);

    /* Few outputs over long contiguous runs: a work-group per output; otherwise a work-item
     * per output (reads stay coalesced across neighbouring outputs). */
    size_t wg  = sg_cl_group(e->dev, SG_CL_K_SUM_TO_GROUP, GROUP_SIZE);
    bool group = rne[0] >= (int64_t)wg && (rsnb[0] == (int64_t)sizeof(float) || n_out < 1024);
    cl_kernel k;
    sg_status st = sg_cl_enc_kernel(e, group ? SG_CL_K_SUM_TO_GROUP : SG_CL_K_SUM_TO_ITEM, &k);
    if (st != SG_OK) return st;
    struct sg_cl_args a = sg_cl_args(k);
    sg_cl_arg_tensor(&a, node);
    sg_cl_arg_tensor(&a, x);
    sg_cl_arg_long8(&a, kne);
    sg_cl_arg_long8(&a, kdnb);
    sg_cl_arg_long8(&a, ksnb);
    sg_cl_arg_long8(&a, rne);
    sg_cl_arg_long8(&a, rsnb);
    if (group) {
        sg_cl_arg_local(&a, wg * sizeof(float));
        size_t global[1] = {(size_t)n_out * wg}, local[1] = {wg};
        return sg_cl_enc_launch(e, &a, 1, global, local);
    }
    sg_cl_arg_i64(&a, n_out);
    size_t global[1] = {(size_t)n_out}, local[1] = {64};
    return sg_cl_enc_launch(e, &a, 1, global, local);
}
