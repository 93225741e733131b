#version 450
// ATTENTION_BACK, dk and dv: for BC keys of one (head, batch), stream the queries and recompute
//   P = exp(scale q.k - lse),  dS = P (dout.v - delta),
//   dv_j = sum_i P dout_i,  dk_j = scale sum_i dS q_i.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 128;
layout(constant_id = 1) const uint BR = 16;    // queries per step
layout(constant_id = 2) const uint BC = 16;    // keys per workgroup
layout(constant_id = 3) const uint DMAX = 64;

layout(std430, binding = 0) readonly buffer Q { float q[]; };
layout(std430, binding = 1) readonly buffer K { float k[]; };
layout(std430, binding = 2) readonly buffer V { float v[]; };
layout(std430, binding = 3) readonly buffer M { int mask[]; };
layout(std430, binding = 4) readonly buffer G { float dout[]; };
layout(std430, binding = 5) readonly buffer St { float lse[]; };
layout(std430, binding = 6) readonly buffer Dl { float delta[]; };
layout(std430, binding = 7) writeonly buffer Out { float grad[]; };

#include "attention.glsl"

const uint KS = DMAX + 1u;
const uint NO = BC * DMAX / WG;
shared float Ks[BC * KS];
shared float Vs[BC * KS];
shared float Qs[BR * DMAX];
shared float Gs[BR * DMAX];
shared float Ps[BR * BC];
shared float Ds[BR * BC];
shared float Lr[BR], Dr[BR];
shared int maskS[BC];

void main() {
    const uint tid = gl_LocalInvocationID.x;
    const uint nkb = (p.Sk + BC - 1u) / BC;
    const uint nq = p.D * p.H * p.Sq * p.B, nk = p.D * p.H * p.Sk * p.B;
    for (uint b = gl_WorkGroupID.z; b < p.B; b += gl_NumWorkGroups.z)
    for (uint h = gl_WorkGroupID.y; h < p.H; h += gl_NumWorkGroups.y)
    for (uint kb = gl_WorkGroupID.x; kb < nkb; kb += gl_NumWorkGroups.x) {
        const uint j0 = kb * BC;
        for (uint i = tid; i < BC * DMAX; i += WG) {
            uint c = i / DMAX, d = i % DMAX;
            bool in_k = j0 + c < p.Sk;
            Ks[c * KS + d] = (in_k && d < p.D) ? k[p.ok + d * p.sk[0] + h * p.sk[1] + (j0 + c) * p.sk[2] + b * p.sk[3]] : 0.0;
            Vs[c * KS + d] = (in_k && d < p.Dv) ? v[p.ov + d * p.sv[0] + h * p.sv[1] + (j0 + c) * p.sv[2] + b * p.sv[3]] : 0.0;
        }
        if (tid < BC) maskS[tid] = (has_mask() && j0 + tid < p.Sk) ? mask[p.om + (j0 + tid) * p.sm0 + b * p.sm1] : 1;
        float dk[NO], dv[NO];
        for (uint i = 0u; i < NO; i++) { dk[i] = 0.0; dv[i] = 0.0; }

        for (uint i0 = 0u; i0 < p.Sq; i0 += BR) {
            for (uint i = tid; i < BR * DMAX; i += WG) {
                uint r = i / DMAX, d = i % DMAX;
                bool in_q = i0 + r < p.Sq;
                Qs[i] = (in_q && d < p.D) ? q[p.oq + d * p.sq[0] + h * p.sq[1] + (i0 + r) * p.sq[2] + b * p.sq[3]] : 0.0;
                Gs[i] = (in_q && d < p.Dv) ? dout[p.od + d * p.sd[0] + h * p.sd[1] + (i0 + r) * p.sd[2] + b * p.sd[3]] : 0.0;
            }
            if (tid < BR && i0 + tid < p.Sq) {
                uint row = h + p.H * (i0 + tid + p.Sq * b);
                Lr[tid] = lse[row];
                Dr[tid] = delta[row];
            }
            barrier();
            for (uint i = tid; i < BR * BC; i += WG) {
                uint r = i / BC, c = i % BC;
                float pr = 0.0, ds = 0.0;
                if (i0 + r < p.Sq && j0 + c < p.Sk && sg_key_visible(maskS[c], i0 + r, j0 + c)) {
                    float s = 0.0, dp = 0.0;
                    for (uint d = 0u; d < p.D; d++) s = fma(Qs[r * DMAX + d], Ks[c * KS + d], s);
                    for (uint e = 0u; e < p.Dv; e++) dp = fma(Gs[r * DMAX + e], Vs[c * KS + e], dp);
                    pr = exp(s * p.scale - Lr[r]);
                    ds = pr * (dp - Dr[r]);
                }
                Ps[i] = pr;
                Ds[i] = ds;
            }
            barrier();
            for (uint i = 0u; i < NO; i++) {
                uint idx = tid + i * WG, c = idx / DMAX, d = idx % DMAX;
                float a = dk[i], e = dv[i];
                for (uint r = 0u; r < BR; r++) {
                    a = fma(Ds[r * BC + c], Qs[r * DMAX + d], a);
                    e = fma(Ps[r * BC + c], Gs[r * DMAX + d], e);
                }
                dk[i] = a;
                dv[i] = e;
            }
            barrier();
        }
        for (uint i = 0u; i < NO; i++) {
            uint idx = tid + i * WG, c = idx / DMAX, d = idx % DMAX;
            if (j0 + c >= p.Sk) continue;
            uint key = h + p.H * (j0 + c + p.Sk * b);
            if (d < p.D) grad[p.oo + nq + d + p.D * key] = p.scale * dk[i];
            if (d < p.Dv) grad[p.oo + nq + nk + d + p.Dv * key] = dv[i];
        }
        barrier();
    }
}
