// MATMUL: a [K, M] (f32, f16 or bf16) times b [N, K] (f32 or bf16) -> [N, M], batch dims
// broadcast. cuBLAS when the operand layouts map onto it, which is every layout the models build
// (plain, transposed, batched views):
//  - with a bf16 operand, a bf16 GEMM (sg_matmul's semantics): the other operand is rounded to
//    bf16 into scratch memory, then cublasGemmStridedBatchedEx with bf16 A and B, fp32 C and
//    CUBLAS_COMPUTE_32F (tensor cores, fp32 accumulation);
//  - otherwise fp32 (tf32 with SAEG_CUDA_TF32=1); an f16 a is first widened into scratch.
// Anything else, or a machine without libcublas, runs the plain kernel: one thread per output
// element, every operand read through its strides (rounding to bf16 for a bf16 GEMM).
#include "cuda_common.cuh"
#include "cuda_internal.h"

namespace {

__global__ void k_matmul_simple(char *c, const char *a, const char *b, int64_t M, int64_t N, int64_t K, int64_t a_sk,
                                int64_t a_sm, int64_t b_sn, int64_t b_sk, int64_t c_sn, int64_t c_sm, cu_dims bne,
                                cu_dims anb, cu_dims bnb, cu_dims cnb, int atype, int btype, bool bf16, int64_t n) {
    CU_FOR(i, n) {
        const int64_t nn = i % N, m = (i / N) % M, z = i / (N * M);
        const char *pa = a + cu_offset_dims2(z, bne, anb) + m * a_sm;
        const char *pb = b + cu_offset_dims2(z, bne, bnb) + nn * b_sn;
        float acc      = 0.0f;
        for (int64_t k = 0; k < K; k++) {
            float x = cu_load(pa + k * a_sk, atype), y = cu_load(pb + k * b_sk, btype);
            if (bf16) { // products of bf16 values, accumulated in fp32
                x = cu_bf16_to_f32(cu_f32_to_bf16(x));
                y = cu_bf16_to_f32(cu_f32_to_bf16(y));
            }
            acc += x * y;
        }
        cu_stf(c, cu_offset_dims2(z, bne, cnb) + m * c_sm + nn * c_sn, acc);
    }
}

sg_status matmul_simple(sg_cuda_enc *e, const sg_tensor *node, const sg_tensor *a, const sg_tensor *b) {
    const int64_t K = a->ne[0], M = a->ne[1], N = b->ne[0];
    cu_dims anb = {}, bnb = {}, cnb = sg_cuda_nb(node);
    for (int d = 2; d < SG_MAX_DIMS; d++) {
        anb.v[d] = a->ne[d] == 1 ? 0 : (int64_t)a->nb[d];
        bnb.v[d] = b->ne[d] == 1 ? 0 : (int64_t)b->nb[d];
    }
    int64_t n = sg_nelements(node);
    k_matmul_simple<<<sg_cuda_blocks(n, 128), 128, 0, e->stream>>>(
        (char *)node->data, (const char *)a->data, (const char *)b->data, M, N, K, (int64_t)a->nb[0], (int64_t)a->nb[1],
        (int64_t)b->nb[0], (int64_t)b->nb[1], (int64_t)node->nb[0], (int64_t)node->nb[1], sg_cuda_ne(node), anb, bnb,
        cnb, a->type, b->type, sg_matmul_is_bf16(node), n);
    return sg_cuda_launch_check("matmul_simple");
}

/* t as a contiguous tensor of `type` at `mem` (a converted copy of t). */
sg_tensor converted(const sg_tensor *t, enum sg_type type, void *mem) {
    sg_tensor w = *t;
    w.type      = type;
    w.data      = mem;
    w.view_src  = nullptr;
    w.nb[0]     = sg_type_size(type);
    for (int d = 1; d < SG_MAX_DIMS; d++) w.nb[d] = w.nb[d - 1] * (size_t)w.ne[d - 1];
    return w;
}

/* Scratch for the bf16 copy of each operand that is not bf16 already: a's, then b's. */
size_t bf16_scratch(const sg_tensor *t) {
    return t->type == SG_TYPE_BF16 ? 0 : sg_cuda_align(2 * (size_t)sg_nelements(t));
}

sg_status matmul_bf16(sg_cuda_enc *e, const sg_tensor *node, const sg_tensor *a, const sg_tensor *b) {
    if (!e->blas) return matmul_simple(e, node, a, b);
    sg_tensor a16 = *a, b16 = *b;
    sg_status st = SG_OK;
    if (a->type != SG_TYPE_BF16) {
        a16 = converted(a, SG_TYPE_BF16, e->scratch);
        st  = sg_cuda_copy_any(e, &a16, a); // rounds to nearest even, like sg_f32_to_bf16
    }
    if (st == SG_OK && b->type != SG_TYPE_BF16) {
        b16 = converted(b, SG_TYPE_BF16, (char *)e->scratch + bf16_scratch(a));
        st  = sg_cuda_copy_any(e, &b16, b);
    }
    if (st != SG_OK) return st;
    sg_cuda_gemm g;
    if (!sg_cuda_gemm_plan(node, &a16, &b16, &g)) return matmul_simple(e, node, &a16, &b16);
    return sg_cuda_blas_gemm(e->blas, &g, a16.data, b16.data, node->data);
}

} // namespace

extern "C" bool sg_cuda_supports_matmul(const sg_cuda_device *d, const sg_tensor *node) {
    (void)d;
    const sg_tensor *a = node->src[0], *b = node->src[1];
    return a->type != SG_TYPE_I32 && (b->type == SG_TYPE_F32 || b->type == SG_TYPE_BF16) && node->type == SG_TYPE_F32;
}

extern "C" size_t sg_cuda_scratch_matmul(const sg_cuda_device *d, const sg_tensor *node) {
    (void)d;
    const sg_tensor *a = node->src[0], *b = node->src[1];
    if (sg_matmul_is_bf16(node)) return bf16_scratch(a) + bf16_scratch(b);
    return a->type == SG_TYPE_F32 ? 0 : sg_cuda_align(sizeof(float) * (size_t)sg_nelements(a));
}

extern "C" sg_status sg_cuda_encode_matmul(sg_cuda_enc *e, const sg_tensor *node) {
    const sg_tensor *a = node->src[0], *b = node->src[1];
    if (sg_nelements(node) == 0) return SG_OK;
    if (a->ne[0] == 0) return sg_cuda_encode_fill(e, node, 0.0f);
    if (sg_matmul_is_bf16(node)) return matmul_bf16(e, node, a, b);
    if (!e->blas) return matmul_simple(e, node, a, b);
    sg_tensor a32 = *a;
    if (a->type != SG_TYPE_F32) {
        a32          = converted(a, SG_TYPE_F32, e->scratch);
        sg_status st = sg_cuda_copy_any(e, &a32, a);
        if (st != SG_OK) return st;
    }
    sg_cuda_gemm g;
    if (!sg_cuda_gemm_plan(node, &a32, b, &g)) return matmul_simple(e, node, &a32, b);
    return sg_cuda_blas_gemm(e->blas, &g, a32.data, b->data, node->data);
}
