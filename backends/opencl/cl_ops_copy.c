/* CONT, CPY and REPEAT: strided copies with type conversion. */
#include <string.h>

#include "cl_ops.h"

bool sg_cl_supports_copy(const struct sg_cl_device *d, const struct sg_tensor *node) {
    (void)d;
    /* I32 copies only to I32 (the core never builds anything else) */
    return (node->src[0]->type == SG_TYPE_I32) == (node->type == SG_TYPE_I32);
}

/* dst and src walked together over the shape ne (src may be broadcast). */
static sg_status copy_ew(struct sg_cl_enc *e, const struct sg_tensor *dst, const struct sg_tensor *src,
                         const int64_t ne[SG_MAX_DIMS]) {
    struct sg_cl_ew ew;
    sg_cl_ew_init(&ew, ne, (const struct sg_tensor *[]){dst, src}, 2);
    cl_kernel k;
    sg_status st = sg_cl_enc_kernel(e, SG_CL_K_COPY_EW, &k);
    if (st != SG_OK) return st;
    struct sg_cl_args a = sg_cl_args(k);
    sg_cl_arg_tensor(&a, dst);
    sg_cl_arg_tensor(&a, src);
    sg_cl_arg_long8(&a, ew.ne);
    sg_cl_arg_long8(&a, ew.nb[0]);
    sg_cl_arg_long8(&a, ew.nb[1]);
    sg_cl_arg_i32(&a, dst->type);
    sg_cl_arg_i32(&a, src->type);
    size_t global[3], local[3];
    sg_cl_ew_range(&ew, global, local);
    return sg_cl_enc_launch(e, &a, 3, global, local);
}

/* Element i of src to element i of dst in logical order, whatever their shapes. */
static sg_status copy_flat(struct sg_cl_enc *e, const struct sg_tensor *dst, const struct sg_tensor *src) {
    cl_kernel k;
    sg_status st = sg_cl_enc_kernel(e, SG_CL_K_COPY_FLAT, &k);
    if (st != SG_OK) return st;
    int64_t dnb[SG_MAX_DIMS], snb[SG_MAX_DIMS];
    sg_cl_strides(dst, dnb);
    sg_cl_strides(src, snb);
    struct sg_cl_args a = sg_cl_args(k);
    sg_cl_arg_tensor(&a, dst);
    sg_cl_arg_long8(&a, dst->ne);
    sg_cl_arg_long8(&a, dnb);
    sg_cl_arg_tensor(&a, src);
    sg_cl_arg_long8(&a, src->ne);
    sg_cl_arg_long8(&a, snb);
    sg_cl_arg_i64(&a, sg_nelements(dst));
    sg_cl_arg_i32(&a, dst->type);
    sg_cl_arg_i32(&a, src->type);
    size_t global[1] = {(size_t)sg_nelements(dst)}, local[1] = {64};
    return sg_cl_enc_launch(e, &a, 1, global, local);
}

/* Same element order: walk both together when their collapsed shapes agree (the usual case),
 * else index each by the flat element number. */
static sg_status copy_any(struct sg_cl_enc *e, const struct sg_tensor *dst, const struct sg_tensor *src) {
    if (sg_nelements(dst) != sg_nelements(src))
        return sg_error(SG_ERR_INVALID_ARG, "OpenCL: copy of %lld elements into %lld", (long long)sg_nelements(src),
                        (long long)sg_nelements(dst));
    if (sg_same_shape(dst, src)) return copy_ew(e, dst, src, dst->ne);
    struct sg_cl_ew ed, es;
    sg_cl_ew_init(&ed, dst->ne, &dst, 1);
    sg_cl_ew_init(&es, src->ne, &src, 1);
    if (memcmp(ed.ne, es.ne, sizeof ed.ne) != 0) return copy_flat(e, dst, src);
    /* both are the same walk over the collapsed shape: pass the collapsed strides directly */
    struct sg_tensor d2 = *dst, s2 = *src;
    for (int i = 0; i < SG_MAX_DIMS; i++) {
        d2.ne[i] = s2.ne[i] = ed.ne[i];
        d2.nb[i]            = (size_t)ed.nb[0][i];
        s2.nb[i]            = (size_t)es.nb[0][i];
    }
    return copy_ew(e, &d2, &s2, ed.ne);
}

sg_status sg_cl_encode_cont(struct sg_cl_enc *e, const struct sg_tensor *node) {
    return copy_any(e, node, node->src[0]);
}

/* node is a view of the target (src[1]): writing through its strides fills the target. */
sg_status sg_cl_encode_cpy(struct sg_cl_enc *e, const struct sg_tensor *node) {
    return copy_any(e, node, node->src[0]);
}

sg_status sg_cl_encode_repeat(struct sg_cl_enc *e, const struct sg_tensor *node) {
    return copy_ew(e, node, node->src[0], node->ne);
}
