#version 450
// SPARSE_DOT: out[j, b] = w[:, idx[j, b]] . x[:, b]; a workgroup per (j, b) pair reduces over D.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;
#include "reduce.glsl"

layout(std430, binding = 0) readonly buffer W { float w[]; };
layout(std430, binding = 1) readonly buffer I { int idx[]; };
layout(std430, binding = 2) readonly buffer X { float x[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };

#include "sparse.glsl"

void main() {
    uint pairs = p.K * p.B;
    for (uint pr = gl_WorkGroupID.x; pr < pairs; pr += gl_NumWorkGroups.x) {
        uint b = pr / p.K, j = pr - b * p.K;
        int id = idx[p.oi + j * p.si0 + b * p.si1];
        float s = 0.0;
        if (id >= 0 && uint(id) < p.N)
            for (uint d = gl_LocalInvocationID.x; d < p.D; d += WG)
                s = fma(w[p.ow + d * p.sw0 + uint(id) * p.sw1], x[p.ox + d * p.sx0 + b * p.sx1], s);
        s = wg_sum(s);
        if (gl_LocalInvocationID.x == 0u) y[p.od + pr] = s;
    }
}
