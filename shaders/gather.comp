#version 450
// GATHER: out[j, r] = x[idx[j, r], r]; indices outside [0, N) read as zero.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 256;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer I { int idx[]; };
layout(std430, binding = 2) writeonly buffer D { float d[]; };

layout(push_constant) uniform P {
    uint ne[6]; uint si[6]; uint sx[6];
    uint N, oi, ox, od, n;
} p;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += gl_NumWorkGroups.x * WG) {
        uint io = p.oi, xo = p.ox, rest = i;
        for (uint k = 0u; k < 6u; k++) {
            uint q = rest / p.ne[k], c = rest - q * p.ne[k];
            io += c * p.si[k];
            if (k > 0u) xo += c * p.sx[k];
            rest = q;
        }
        int id = idx[io];
        d[p.od + i] = (id >= 0 && uint(id) < p.N) ? x[xo + uint(id) * p.sx[0]] : 0.0;
    }
}
