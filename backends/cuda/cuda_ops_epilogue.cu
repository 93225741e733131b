// LINEAR: act(a @ b + bias). The product is MATMUL's (cuBLAS or the plain kernel, cuda_ops_matmul.cu);
// bias and activation then follow in one pass over the result, in place, where the unfused graph
// takes two (add, then the activation), each reading and writing the whole product.
//
// cuBLASLt could apply them inside the GEMM (CUBLASLT_EPILOGUE_BIAS, RELU_BIAS, GELU_BIAS), but
// its GELU is the tanh approximation, not the exact erf GELU Tahoe X1 and torch.nn.GELU use, and
// cuBLASLt is not loaded by this plugin yet; the pass here covers every activation exactly.
#include "cuda_common.cuh"
#include "cuda_internal.h"

namespace {

/* y[m, n] = act(y[m, n] + bias[n]) over a contiguous [N, rows] result. */
__global__ void k_bias_act(float *y, const char *bias, int64_t bias_nb, int64_t N, int64_t n, int act, float slope) {
    CU_FOR(i, n) {
        float z = y[i];
        if (bias) z += cu_ldf(bias, (i % N) * bias_nb);
        switch (act) {
        case SG_LINEAR_RELU: z = z < 0.0f ? 0.0f : z; break;
        case SG_LINEAR_GELU: z = z * 0.5f * (1.0f + erff(z * 0.70710678118654752f)); break;
        case SG_LINEAR_LEAKY_RELU: z = z > 0.0f ? z : slope * z; break;
        default: break;
        }
        y[i] = z;
    }
}

} // namespace

extern "C" bool sg_cuda_supports_linear(const sg_cuda_device *d, const sg_tensor *node) {
    const sg_tensor *bias = node->src[2];
    int32_t act           = sg_get_param_i32(node, 0);
    return sg_cuda_supports_matmul(d, node) && sg_is_contiguous(node) && act >= SG_LINEAR_NONE &&
           act < SG_LINEAR_N_ACTS && (!bias || bias->type == SG_TYPE_F32);
}

extern "C" sg_status sg_cuda_encode_linear(sg_cuda_enc *e, const sg_tensor *node) {
    sg_status st = sg_cuda_encode_matmul(e, node); /* reads src[0] and src[1] only */
    if (st != SG_OK) return st;
    const sg_tensor *bias = node->src[2];
    int act               = sg_get_param_i32(node, 0);
    int64_t n             = sg_nelements(node);
    if (n == 0 || (!bias && act == SG_LINEAR_NONE)) return SG_OK;
    k_bias_act<<<sg_cuda_blocks(n, 256), 256, 0, e->stream>>>(
        (float *)node->data, bias ? (const char *)bias->data : nullptr, bias ? (int64_t)bias->nb[0] : 0, node->ne[0], n,
        act, sg_get_param_f32(node, 1));
    return sg_cuda_launch_check("linear bias_act");
}
