#version 450
// MATMUL: d[b][m][n] = sum_k a[b][m][k] * b[b][k][n] with a [K, M] (f32, f16 or bf16) and
// b [N, K] (f32 or bf16) read through any strides, batch dims broadcast. With a bf16 operand
// the f32 one is rounded to bf16 as it is loaded (a bf16 GEMM: see sg_matmul in core/ops.h).
//
// Tiled: a workgroup makes a BM x BN tile, stepping BK deep through shared memory; each thread
// owns TM x TN outputs as (TM/4) x (TN/4) blocks of 4x4, spread so that its vec4 reads of the
// shared tiles never collide on a bank. Global loads go 4 elements at a time along whichever
// dimension of an operand is contiguous (vec4 loads when the host found it aligned), and the
// next step's loads are issued before the current step's arithmetic (register prefetch).
// Tiles are walked grid-stride, so any size fits the device's group-count limits.
//
// LINEAR is the same kernel with an epilogue: the bias (binding 3) and the activation are
// applied to each thread's outputs in registers before the one store (EPI, HAS_BIAS select it;
// MATMUL specialises both away).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 256;   // (BM / TM) * (BN / TN)
layout(constant_id = 1) const uint BM = 64;
layout(constant_id = 2) const uint BN = 64;
layout(constant_id = 3) const uint BK = 16;    // a multiple of 4
layout(constant_id = 4) const uint TM = 4;     // multiples of 4
layout(constant_id = 5) const uint TN = 4;
layout(constant_id = 6) const uint AT = 0;     // type of a
layout(constant_id = 7) const uint BT = 0;     // type of b
const bool BF16_GEMM = AT == SG_BF16 || BT == SG_BF16;
layout(constant_id = 8) const uint EPI = 0;    // enum sg_linear_act: none, relu, gelu, leaky_relu
layout(constant_id = 9) const bool HAS_BIAS = false;

layout(std430, binding = 0) readonly buffer A { uint a[]; };
layout(std430, binding = 0) readonly buffer A4 { vec4 a4[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 1) readonly buffer B4 { vec4 b4[]; };
layout(std430, binding = 1) readonly buffer BU { uint bu[]; };
layout(std430, binding = 2) writeonly buffer D { float d[]; };
layout(std430, binding = 2) writeonly buffer D4 { vec4 d4[]; };
layout(std430, binding = 3) readonly buffer Bias { float bias[]; };

layout(push_constant) uniform P {
    uint M, N, K;
    uint oa, ob, od;
    uint sa0, sa1, sb0, sb1;   // a: k stride, m stride; b: n stride, k stride
    uint nbatch;
    uint bne[4]; uint saz[4]; uint sbz[4];
    uint flags;
    uint obias, sbias;   // LINEAR: bias offset and stride (elements)
    float slope;         // LINEAR: leaky_relu's slope
} p;

// flags: how the operands are read
const uint A_MFAST = 1u;   // a is contiguous along m (a transposed view), else along k
const uint A_VEC = 2u;     // ... and aligned for vec4 loads
const uint B_KFAST = 4u;   // b is contiguous along k, else along n
const uint B_VEC = 8u;
const uint D_VEC = 16u;    // rows of d are vec4-aligned

const uint TX = BN / TN, TY = BM / TM;
const uint LA = (BM * BK / 4u + WG - 1u) / WG;   // vec4 loads per thread per step
const uint LB = (BN * BK / 4u + WG - 1u) / WG;
shared vec4 As[BK * BM / 4u];   // As[k][m], 4 consecutive m per vec4
shared vec4 Bs[BK * BN / 4u];   // Bs[k][n], 4 consecutive n per vec4

// Rounds an f32 operand of a bf16 GEMM to bf16 (the bf16 one is exact already).
float rnd(float x) { return BF16_GEMM ? sg_bf16_to_f32(sg_f32_to_bf16(x)) : x; }
vec4 rnd4(vec4 v) { return BF16_GEMM ? vec4(rnd(v.x), rnd(v.y), rnd(v.z), rnd(v.w)) : v; }

float load_a(uint m, uint k, uint oa) {
    if (m >= p.M || k >= p.K) return 0.0;
    return rnd(SG_LOAD_AS_F32(a, AT, oa + m * p.sa1 + k * p.sa0));
}

float load_b(uint k, uint n, uint ob) {
    if (n >= p.N || k >= p.K) return 0.0;
    uint i = ob + k * p.sb1 + n * p.sb0;
    return rnd(BT == SG_F32 ? b[i] : SG_LOAD_AS_F32(bu, BT, i));
}

// 4 elements of a's step at k0, slot l: along k (m, k0 + 4 l') or along m (4 m', k0 + k).
vec4 fetch_a(uint l, uint k0, uint m0, uint oa) {
    bool mfast = (p.flags & A_MFAST) != 0u, vec = AT == SG_F32 && (p.flags & A_VEC) != 0u;
    uint m, k;
    if (mfast) { m = m0 + (l % (BM / 4u)) * 4u; k = k0 + l / (BM / 4u); }
    else { k = k0 + (l % (BK / 4u)) * 4u; m = m0 + l / (BK / 4u); }
    if (vec) {
        // the host checked alignment and that K (or M) is a multiple of 4: whole vec4s or none
        bool inside = m < p.M && k < p.K;
        return inside ? rnd4(a4[(oa + m * p.sa1 + k * p.sa0) / 4u]) : vec4(0.0);
    }
    if (mfast) return vec4(load_a(m, k, oa), load_a(m + 1u, k, oa), load_a(m + 2u, k, oa), load_a(m + 3u, k, oa));
    return vec4(load_a(m, k, oa), load_a(m, k + 1u, oa), load_a(m, k + 2u, oa), load_a(m, k + 3u, oa));
}

vec4 fetch_b(uint l, uint k0, uint n0, uint ob) {
    bool kfast = (p.flags & B_KFAST) != 0u, vec = BT == SG_F32 && (p.flags & B_VEC) != 0u;
    uint n, k;
    if (kfast) { k = k0 + (l % (BK / 4u)) * 4u; n = n0 + l / (BK / 4u); }
    else { n = n0 + (l % (BN / 4u)) * 4u; k = k0 + l / (BN / 4u); }
    if (vec) {
        bool inside = n < p.N && k < p.K;
        return inside ? rnd4(b4[(ob + k * p.sb1 + n * p.sb0) / 4u]) : vec4(0.0);
    }
    if (kfast) return vec4(load_b(k, n, ob), load_b(k + 1u, n, ob), load_b(k + 2u, n, ob), load_b(k + 3u, n, ob));
    return vec4(load_b(k, n, ob), load_b(k, n + 1u, ob), load_b(k, n + 2u, ob), load_b(k, n + 3u, ob));
}

void store_a(uint l, vec4 v) {
    if ((p.flags & A_MFAST) != 0u) {
        As[(l / (BM / 4u)) * (BM / 4u) + l % (BM / 4u)] = v;
    } else {
        uint k = (l % (BK / 4u)) * 4u, m = l / (BK / 4u);
        for (uint j = 0u; j < 4u; j++) As[(k + j) * (BM / 4u) + m / 4u][m % 4u] = v[j];
    }
}

void store_b(uint l, vec4 v) {
    if ((p.flags & B_KFAST) != 0u) {
        uint k = (l % (BK / 4u)) * 4u, n = l / (BK / 4u);
        for (uint j = 0u; j < 4u; j++) Bs[(k + j) * (BN / 4u) + n / 4u][n % 4u] = v[j];
    } else {
        Bs[(l / (BN / 4u)) * (BN / 4u) + l % (BN / 4u)] = v;
    }
}

// LINEAR's epilogue on output column n (n < N); MATMUL's is the identity.
float epilogue(float z, uint n) {
    if (HAS_BIAS) z += bias[p.obias + n * p.sbias];
    if (EPI == 1u) return z < 0.0 ? 0.0 : z;
    if (EPI == 2u) return z * sg_norm_cdf(z);
    if (EPI == 3u) return z > 0.0 ? z : p.slope * z;
    return z;
}

void main() {
    const uint tid = gl_LocalInvocationID.x;
    const uint tx = tid % TX, ty = tid / TX;
    const uint tiles_n = (p.N + BN - 1u) / BN, tiles_m = (p.M + BM - 1u) / BM;

    for (uint z = gl_WorkGroupID.z; z < p.nbatch; z += gl_NumWorkGroups.z) {
        uint oa = p.oa, ob = p.ob, rest = z;
        for (uint i = 0u; i < 4u; i++) {
            uint q = rest / p.bne[i], c = rest - q * p.bne[i];
            oa += c * p.saz[i];
            ob += c * p.sbz[i];
            rest = q;
        }
        const uint od = p.od + z * p.M * p.N;
        for (uint tm = gl_WorkGroupID.y; tm < tiles_m; tm += gl_NumWorkGroups.y) {
            for (uint tn = gl_WorkGroupID.x; tn < tiles_n; tn += gl_NumWorkGroups.x) {
                const uint m0 = tm * BM, n0 = tn * BN;
                float acc[TM * TN];
                for (uint i = 0u; i < TM * TN; i++) acc[i] = 0.0;
                vec4 pa[LA], pb[LB];
                for (uint i = 0u; i < LA; i++) { uint l = tid + i * WG; if (l < BM * BK / 4u) pa[i] = fetch_a(l, 0u, m0, oa); }
                for (uint i = 0u; i < LB; i++) { uint l = tid + i * WG; if (l < BN * BK / 4u) pb[i] = fetch_b(l, 0u, n0, ob); }

                for (uint k0 = 0u; k0 < p.K; k0 += BK) {
                    for (uint i = 0u; i < LA; i++) { uint l = tid + i * WG; if (l < BM * BK / 4u) store_a(l, pa[i]); }
                    for (uint i = 0u; i < LB; i++) { uint l = tid + i * WG; if (l < BN * BK / 4u) store_b(l, pb[i]); }
                    barrier();
                    if (k0 + BK < p.K) {   // the next step's loads overlap this step's arithmetic
                        for (uint i = 0u; i < LA; i++) { uint l = tid + i * WG; if (l < BM * BK / 4u) pa[i] = fetch_a(l, k0 + BK, m0, oa); }
                        for (uint i = 0u; i < LB; i++) { uint l = tid + i * WG; if (l < BN * BK / 4u) pb[i] = fetch_b(l, k0 + BK, n0, ob); }
                    }
                    for (uint k = 0u; k < BK; k++) {
                        vec4 ra[TM / 4u], rb[TN / 4u];
                        for (uint i = 0u; i < TM / 4u; i++) ra[i] = As[k * (BM / 4u) + ty + i * TY];
                        for (uint j = 0u; j < TN / 4u; j++) rb[j] = Bs[k * (BN / 4u) + tx + j * TX];
                        for (uint i = 0u; i < TM; i++)
                            for (uint j = 0u; j < TN; j++)
                                acc[i * TN + j] = fma(ra[i / 4u][i % 4u], rb[j / 4u][j % 4u], acc[i * TN + j]);
                    }
                    barrier();
                }
                for (uint i = 0u; i < TM; i++) {
                    uint m = m0 + (ty + (i / 4u) * TY) * 4u + i % 4u;
                    if (m >= p.M) continue;
                    for (uint j = 0u; j < TN / 4u; j++) {
                        uint n = n0 + (tx + j * TX) * 4u;
                        vec4 v = vec4(acc[i * TN + j * 4u], acc[i * TN + j * 4u + 1u], acc[i * TN + j * 4u + 2u],
                                      acc[i * TN + j * 4u + 3u]);
                        if (EPI != 0u || HAS_BIAS)
                            for (uint c = 0u; c < 4u; c++) v[c] = epilogue(v[c], min(n + c, p.N - 1u));
                        if ((p.flags & D_VEC) != 0u && n + 3u < p.N) {
                            d4[(od + m * p.N + n) / 4u] = v;
                        } else {
                            for (uint c = 0u; c < 4u; c++)
                                if (n + c < p.N) d[od + m * p.N + n + c] = v[c];
                        }
                    }
                }
            }
        }
    }
}
