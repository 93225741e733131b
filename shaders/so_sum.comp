#version 450
// SCATTER_OUTER, step 4: out[d, r] = sum over row r's pairs (in (b, j) order) of c[j, b] x[d, b].
// After placing, cnt[r * nb + nb - 1] is the end of row r's pairs and the previous row's end its
// start.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x = 256) in;
layout(constant_id = 0) const bool HAS_C = true;

layout(std430, binding = 0) readonly buffer Cc { float c[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) readonly buffer C { uint cnt[]; };
layout(std430, binding = 3) readonly buffer E { uint entries[]; };
layout(std430, binding = 4) writeonly buffer Y { float y[]; };

#include "sparse.glsl"

void main() {
    uint n = p.D * p.N;
    for (uint i = gl_GlobalInvocationID.x; i < n; i += gl_NumWorkGroups.x * 256u) {
        uint r = i / p.D, d = i - r * p.D;
        uint start = r == 0u ? 0u : cnt[(r - 1u) * p.nb + p.nb - 1u], stop = cnt[r * p.nb + p.nb - 1u];
        float acc = 0.0;
        for (uint e = start; e < stop; e++) {
            uint q = entries[e], b = q / p.K, j = q - b * p.K;
            float cj = HAS_C ? c[p.ov + j * p.sv0 + b * p.sv1] : 1.0;
            acc = fma(cj, x[p.ox + d * p.sx0 + b * p.sx1], acc);
        }
        y[p.od + i] = acc;
    }
}
