// CONT, CPY and REPEAT: strided copies with type conversion. Same types copy the bits
// unchanged (I32, NaN payloads); mixed float types convert through f32 (round to nearest even).
#include <string.h>

#include "cuda_common.cuh"

namespace {

const unsigned THREADS = 256;

__device__ __forceinline__ void copy_elem(char *d, int dtype, const char *s, int stype) {
    if (dtype == stype) {
        if (dtype == SG_T_F16 || dtype == SG_T_BF16)
            *reinterpret_cast<uint16_t *>(d) = *reinterpret_cast<const uint16_t *>(s);
        else
            *reinterpret_cast<uint32_t *>(d) = *reinterpret_cast<const uint32_t *>(s);
    } else {
        cu_store(d, dtype, cu_load(s, stype));
    }
}

/* dst and src walk the same (collapsed) shape; a src stride of 0 repeats it (REPEAT). */
__global__ void k_copy_ew(char *d, const char *s, cu_dims ne, cu_dims dnb, cu_dims snb, int64_t n, int dtype,
                          int stype) {
    CU_FOR(i, n) {
        int64_t r = i, od = 0, os = 0;
        for (int k = 0; k < SG_MAX_DIMS; k++) {
            if (ne.v[k] == 1) continue;
            int64_t id = r % ne.v[k];
            r /= ne.v[k];
            od += id * dnb.v[k];
            os += id * snb.v[k];
        }
        copy_elem(d + od, dtype, s + os, stype);
    }
}

/* Shapes differ (CPY of [6, 4] into [24]): element `flat` of each in logical order. */
__global__ void k_copy_flat(char *d, cu_dims dne, cu_dims dnb, const char *s, cu_dims sne, cu_dims snb, int64_t n,
                            int dtype, int stype) {
    CU_FOR(i, n) { copy_elem(d + cu_offset_flat(i, dne, dnb), dtype, s + cu_offset_flat(i, sne, snb), stype); }
}

int64_t count(const cu_dims &ne) {
    int64_t n = 1;
    for (int d = 0; d < SG_MAX_DIMS; d++) n *= ne.v[d];
    return n;
}

sg_status copy_ew(sg_cuda_enc *e, const sg_tensor *dst, const sg_tensor *src, const int64_t ne[SG_MAX_DIMS]) {
    sg_cuda_ew ew;
    const sg_tensor *ops[2] = {dst, src};
    sg_cuda_ew_init(&ew, ne, ops, 2);
    int64_t n = count(ew.ne);
    if (n == 0) return SG_OK;
    k_copy_ew<<<sg_cuda_blocks(n, THREADS), THREADS, 0, e->stream>>>((char *)dst->data, (const char *)src->data, ew.ne,
                                                                     ew.nb[0], ew.nb[1], n, dst->type, src->type);
    return sg_cuda_launch_check("copy_ew");
}

sg_status copy_flat(sg_cuda_enc *e, const sg_tensor *dst, const sg_tensor *src) {
    int64_t n = sg_nelements(dst);
    if (n == 0) return SG_OK;
    k_copy_flat<<<sg_cuda_blocks(n, THREADS), THREADS, 0, e->stream>>>(
        (char *)dst->data, sg_cuda_ne(dst), sg_cuda_nb(dst), (const char *)src->data, sg_cuda_ne(src), sg_cuda_nb(src),
        n, dst->type, src->type);
    return sg_cuda_launch_check("copy_flat");
}

} // namespace

extern "C" bool sg_cuda_supports_copy(const sg_cuda_device *d, const sg_tensor *node) {
    (void)d;
    /* I32 copies only to I32 (the core never builds anything else) */
    return (node->src[0]->type == SG_TYPE_I32) == (node->type == SG_TYPE_I32);
}

/* Same element order: walk both together when their collapsed shapes agree (the usual case),
 * else index each by the flat element number. */
extern "C" sg_status sg_cuda_copy_any(sg_cuda_enc *e, const sg_tensor *dst, const sg_tensor *src) {
    if (sg_nelements(dst) != sg_nelements(src))
        return sg_error(SG_ERR_INVALID_ARG, "CUDA: copy of %lld elements into %lld", (long long)sg_nelements(src),
                        (long long)sg_nelements(dst));
    if (sg_same_shape(dst, src)) return copy_ew(e, dst, src, dst->ne);
    sg_cuda_ew ed, es;
    sg_cuda_ew_init(&ed, dst->ne, &dst, 1);
    sg_cuda_ew_init(&es, src->ne, &src, 1);
    if (memcmp(ed.ne.v, es.ne.v, sizeof ed.ne.v) != 0) return copy_flat(e, dst, src);
    /* both are the same walk over the collapsed shape: pass the collapsed strides directly */
    sg_tensor d2 = *dst, s2 = *src;
    for (int i = 0; i < SG_MAX_DIMS; i++) {
        d2.ne[i] = s2.ne[i] = ed.ne.v[i];
        d2.nb[i]            = (size_t)ed.nb[0].v[i];
        s2.nb[i]            = (size_t)es.nb[0].v[i];
    }
    return copy_ew(e, &d2, &s2, ed.ne.v);
}

extern "C" sg_status sg_cuda_encode_cont(sg_cuda_enc *e, const sg_tensor *node) {
    return sg_cuda_copy_any(e, node, node->src[0]);
}

/* node is a view of the target (src[1]): writing through its strides fills the target. */
extern "C" sg_status sg_cuda_encode_cpy(sg_cuda_enc *e, const sg_tensor *node) {
    return sg_cuda_copy_any(e, node, node->src[0]);
}

extern "C" sg_status sg_cuda_encode_repeat(sg_cuda_enc *e, const sg_tensor *node) {
    return copy_ew(e, node, node->src[0], node->ne);
}
