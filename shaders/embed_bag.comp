#version 450
// EMBED_BAG: y[d, b] = sum_j v[j, b] w[d, idx[j, b]], one thread per output element, j in order.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x = 256) in;

layout(std430, binding = 0) readonly buffer W { float w[]; };
layout(std430, binding = 1) readonly buffer I { int idx[]; };
layout(std430, binding = 2) readonly buffer V { float v[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };

#include "sparse.glsl"

void main() {
    uint n = p.D * p.B;
    for (uint i = gl_GlobalInvocationID.x; i < n; i += gl_NumWorkGroups.x * 256u) {
        uint b = i / p.D, d = i - b * p.D;
        float acc = 0.0;
        for (uint j = 0u; j < p.K; j++) {
            int id = idx[p.oi + j * p.si0 + b * p.si1];
            if (id >= 0 && uint(id) < p.N) acc = fma(v[p.ov + j * p.sv0 + b * p.sv1], w[p.ow + d * p.sw0 + uint(id) * p.sw1], acc);
        }
        y[p.od + i] = acc;
    }
}
