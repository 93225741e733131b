#version 450
// Backward helper: delta[h, iq, b] = dout[:, h, iq, b] . out[:, h, iq, b], with out the forward
// result (contiguous, in scratch). One thread per query row.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer G { float dout[]; };
layout(std430, binding = 1) readonly buffer O { float o[]; };
layout(std430, binding = 2) writeonly buffer Dl { float delta[]; };

#include "attention.glsl"

void main() {
    uint rows = p.H * p.Sq * p.B;
    for (uint row = gl_GlobalInvocationID.x; row < rows; row += gl_NumWorkGroups.x * 64u) {
        uint h = row % p.H, iq = (row / p.H) % p.Sq, b = row / (p.H * p.Sq);
        uint go = p.od + h * p.sd[1] + iq * p.sd[2] + b * p.sd[3];
        float s = 0.0;
        for (uint e = 0u; e < p.Dv; e++) s = fma(dout[go + e * p.sd[0]], o[row * p.Dv + e], s);
        delta[row] = s;
    }
}
