#version 450
// ATTENTION, flash style: a workgroup takes BR queries of one (head, batch) and streams the keys
// through shared memory BC at a time, keeping a running max and sum per query (online softmax),
// so the Sq x Sk score matrix never exists. With flag 2 it also writes each query's
// log-sum-exp for the backward pass.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 128;
layout(constant_id = 1) const uint BR = 16;     // queries per workgroup
layout(constant_id = 2) const uint BC = 32;     // keys per step
layout(constant_id = 3) const uint DMAX = 64;   // >= D and Dv, a power of two

layout(std430, binding = 0) readonly buffer Q { float q[]; };
layout(std430, binding = 1) readonly buffer K { float k[]; };
layout(std430, binding = 2) readonly buffer V { float v[]; };
layout(std430, binding = 3) readonly buffer M { int mask[]; };
layout(std430, binding = 4) writeonly buffer O { float o[]; };
layout(std430, binding = 5) writeonly buffer L { float lse[]; };

#include "attention.glsl"

const uint KS = DMAX + 1u;          // padded key rows: threads walking keys hit distinct banks
const uint NO = BR * DMAX / WG;     // outputs per thread
shared float Qs[BR * DMAX];
shared float KV[BC * KS];
shared float S[BR * BC];
shared float mrow[BR], lrow[BR], arow[BR];
shared int maskS[BC];

void main() {
    const uint tid = gl_LocalInvocationID.x;
    const uint nqb = (p.Sq + BR - 1u) / BR;
    for (uint b = gl_WorkGroupID.z; b < p.B; b += gl_NumWorkGroups.z)
    for (uint h = gl_WorkGroupID.y; h < p.H; h += gl_NumWorkGroups.y)
    for (uint qb = gl_WorkGroupID.x; qb < nqb; qb += gl_NumWorkGroups.x) {
        const uint q0 = qb * BR;
        for (uint i = tid; i < BR * DMAX; i += WG) {
            uint r = i / DMAX, d = i % DMAX;
            Qs[i] = (q0 + r < p.Sq && d < p.D) ? q[p.oq + d * p.sq[0] + h * p.sq[1] + (q0 + r) * p.sq[2] + b * p.sq[3]] : 0.0;
        }
        if (tid < BR) { mrow[tid] = -SG_INF; lrow[tid] = 0.0; }
        float acc[NO];
        for (uint i = 0u; i < NO; i++) acc[i] = 0.0;

        for (uint j0 = 0u; j0 < p.Sk; j0 += BC) {
            for (uint i = tid; i < BC * DMAX; i += WG) {
                uint c = i / DMAX, d = i % DMAX;
                KV[c * KS + d] = (j0 + c < p.Sk && d < p.D) ? k[p.ok + d * p.sk[0] + h * p.sk[1] + (j0 + c) * p.sk[2] + b * p.sk[3]] : 0.0;
            }
            if (tid < BC) maskS[tid] = (has_mask() && j0 + tid < p.Sk) ? mask[p.om + (j0 + tid) * p.sm0 + b * p.sm1] : 1;
            barrier();
            for (uint i = tid; i < BR * BC; i += WG) {
                uint r = i / BC, c = i % BC;
                float s = -SG_INF;
                if (q0 + r < p.Sq && j0 + c < p.Sk && sg_key_visible(maskS[c], q0 + r, j0 + c)) {
                    float dot = 0.0;
                    for (uint d = 0u; d < p.D; d++) dot = fma(Qs[r * DMAX + d], KV[c * KS + d], dot);
                    s = dot * p.scale;
                }
                S[i] = s;
            }
            barrier();
            if (tid < BR) {
                float mold = mrow[tid], mnew = mold;
                for (uint c = 0u; c < BC; c++) mnew = max(mnew, S[tid * BC + c]);
                float sum = 0.0;
                for (uint c = 0u; c < BC; c++) {
                    float s = S[tid * BC + c];
                    float e = s == -SG_INF ? 0.0 : exp(s - mnew);
                    S[tid * BC + c] = e;
                    sum += e;
                }
                float alpha = mold == -SG_INF ? 0.0 : exp(mold - mnew);
                arow[tid] = alpha;
                lrow[tid] = lrow[tid] * alpha + sum;
                mrow[tid] = mnew;
            }
            for (uint i = tid; i < BC * DMAX; i += WG) {
                uint c = i / DMAX, e = i % DMAX;
                KV[c * KS + e] = (j0 + c < p.Sk && e < p.Dv) ? v[p.ov + e * p.sv[0] + h * p.sv[1] + (j0 + c) * p.sv[2] + b * p.sv[3]] : 0.0;
            }
            barrier();
            for (uint i = 0u; i < NO; i++) {
                uint idx = tid + i * WG, r = idx / DMAX, e = idx % DMAX;
                float a = acc[i] * arow[r];
                for (uint c = 0u; c < BC; c++) a = fma(S[r * BC + c], KV[c * KS + e], a);
                acc[i] = a;
            }
            barrier();
        }
        for (uint i = 0u; i < NO; i++) {
            uint idx = tid + i * WG, r = idx / DMAX, e = idx % DMAX;
            if (q0 + r < p.Sq && e < p.Dv) {
                float l = lrow[r];
                o[p.oo + e + p.Dv * (h + p.H * (q0 + r + p.Sq * b))] = l > 0.0 ? acc[i] / l : 0.0;
            }
        }
        if ((p.flags & 2u) != 0u && tid < BR && q0 + tid < p.Sq)
            lse[h + p.H * (q0 + tid + p.Sq * b)] = lrow[tid] > 0.0 ? mrow[tid] + log(lrow[tid]) : 0.0;
        barrier();
    }
}
