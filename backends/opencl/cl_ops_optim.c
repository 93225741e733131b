/* ADAM_STEP: in place on w (through the node, a view of w), m and v. */
#include "cl_ops.h"

sg_status sg_cl_encode_adam_step(struct sg_cl_enc *e, const struct sg_tensor *node) {
    const struct sg_tensor *g = node->src[1], *m = node->src[2], *v = node->src[3];
    const struct sg_tensor *hp = node->src[4], *gn2 = node->src[5];
    if (sg_nelements(g) == 0) return SG_OK;
    cl_kernel k;
    sg_status st = sg_cl_enc_kernel(e, SG_CL_K_ADAM, &k);
    if (st != SG_OK) return st;
    struct sg_cl_ew ew;
    const struct sg_tensor *ops[4] = {node, g, m, v};
    sg_cl_ew_init(&ew, g->ne, ops, 4);
    struct sg_cl_args a = sg_cl_args(k);
    sg_cl_arg_tensor(&a, node);
    sg_cl_arg_tensor(&a, g);
    sg_cl_arg_tensor(&a, m);
    sg_cl_arg_tensor(&a, v);
    sg_cl_arg_tensor(&a, hp);
    sg_cl_arg_i64(&a, (int64_t)hp->nb[0]);
    sg_cl_arg_tensor(&a, gn2 ? gn2 : hp); /* never read without a norm */
    sg_cl_arg_i32(&a, gn2 != NULL);
    sg_cl_arg_long8(&a, ew.ne);
    for (int i = 0; i < 4; i++) sg_cl_arg_long8(&a, ew.nb[i]);
    size_t global[3], local[3];
    sg_cl_ew_range(&ew, global, local);
    return sg_cl_enc_launch(e, &a, 3, global, local);
}
