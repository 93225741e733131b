#version 450
// SCATTER into a zeroed output: out[idx[j, r], r] += v[j, r]. One thread per row walks its K
// entries in order, so duplicate indices add up deterministically without atomics.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer V { float v[]; };
layout(std430, binding = 1) readonly buffer I { int idx[]; };
layout(std430, binding = 2) buffer D { float d[]; };

layout(push_constant) uniform P {
    uint K, n, nrows;
    uint rne[5]; uint rsv[5]; uint rsi[5];
    uint sv0, si0, ov, oi, od;
} p;

void main() {
    for (uint r = gl_GlobalInvocationID.x; r < p.nrows; r += gl_NumWorkGroups.x * 64u) {
        uint vo = p.ov, io = p.oi, rest = r;
        for (uint k = 0u; k < 5u; k++) {
            uint q = rest / p.rne[k], c = rest - q * p.rne[k];
            vo += c * p.rsv[k];
            io += c * p.rsi[k];
            rest = q;
        }
        uint row = p.od + r * p.n;
        for (uint j = 0u; j < p.K; j++) {
            int id = idx[io + j * p.si0];
            if (id >= 0 && uint(id) < p.n) d[row + uint(id)] += v[vo + j * p.sv0];
        }
    }
}
