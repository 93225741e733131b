/* MATMUL, the plain way: one work-item per output element. Used for shapes too small or too
 * thin for the tiled kernels. c[n, m] = sum_k a[k, m] b[n, k] with every operand read through
 * its strides; batch dims (2..5) broadcast through zero strides. A bf16 `a` makes it a bf16 GEMM:
 * b is rounded to bf16 too.
 *
 * Every matmul kernel ends with LINEAR's epilogue (bias, then activation) on the value it is
 * about to store; MATMUL passes has_bias = 0 and act = 0, which leave the value as it is. */

/* act(z + bias[n]), act an enum sg_linear_act: 0 none, 1 relu, 2 gelu (erf), 3 leaky_relu. */
float sg_mm_epilogue(float z, int n, __global const char *bias, ulong bias_off, long bias_nb, int has_bias, int act,
                     float slope) {
    if (has_bias) z += *SG_PTR(const float, bias, bias_off + n * bias_nb);
    switch (act) {
    case 1: return z < 0.0f ? 0.0f : z;
    case 2: return z * 0.5f * (1.0f + erf(z * 0.70710678118654752f));
    case 3: return z > 0.0f ? z : slope * z;
    default: return z;
    }
}

__kernel void matmul_simple(__global char *c, ulong coff, __global const char *a, ulong aoff, __global const char *b,
                            ulong boff, int M, int N, int K, long a_sk, long a_sm, long b_sn, long b_sk, long c_sn,
                            long c_sm, long8 bne, long8 anb, long8 bnb, long8 cnb, int atype, __global const char *bias,
                            ulong bias_off, long bias_nb, int has_bias, int act, float slope) {
    const long n = get_global_id(0), m = get_global_id(1), z = get_global_id(2);
    if (n >= N || m >= M) return;
    __global const char *pa = a + aoff + sg_offset_dims2(z, bne, anb) + m * a_sm;
    __global const char *pb = b + boff + sg_offset_dims2(z, bne, bnb) + n * b_sn;
    float acc               = 0.0f;
    for (int k = 0; k < K; k++) {
        const float x = *(__global const float *)(pb + k * b_sk);
        acc += sg_load(pa + k * a_sk, atype) * (atype == 2 ? sg_round_bf16(x) : x);
    }
    *SG_PTR(float, c, coff + sg_offset_dims2(z, bne, cnb) + m * c_sm + n * c_sn) =
        sg_mm_epilogue(acc, (int)n, bias, bias_off, bias_nb, has_bias, act, slope);
}
