/* MATMUL, the plain way: one work-item per output element. Used for shapes too small or too
 * thin for the tiled kernels. c[n, m] = sum_k a[k, m] b[n, k] with every operand read through
 * its strides; batch dims (2..5) broadcast through zero strides. A bf16 `a` makes it a bf16 GEMM:
 * b is rounded to bf16 too. */

__kernel void matmul_simple(__global char *c, ulong coff, __global const char *a, ulong aoff, __global const char *b,
                            ulong boff, int M, int N, int K, long a_sk, long a_sm, long b_sn, long b_sk, long c_sn,
                            long c_sm, long8 bne, long8 anb, long8 bnb, long8 cnb, int atype) {
    const long n = get_global_id(0), m = get_global_id(1), z = get_global_id(2);
    if (n >= N || m >= M) return;
    __global const char *pa = a + aoff + sg_offset_dims2(z, bne, anb) + m * a_sm;
    __global const char *pb = b + boff + sg_offset_dims2(z, bne, bnb) + n * b_sn;
    float acc               = 0.0f;
    for (int k = 0; k < K; k++) {
        const float x = *(__global const float *)(pb + k * b_sk);
        acc += sg_load(pa + k * a_sk, atype) * (atype == 2 ? sg_round_bf16(x) : x);
    }
    *SG_PTR(float, c, coff + sg_offset_dims2(z, bne, cnb) + m * c_sm + n * c_sn) = acc;
}
