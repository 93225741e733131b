#version 450
// SOFTMAX along ne[0], shifted by the row maximum; one workgroup per row. May run in place.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 256;
#include "reduce.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer D { float d[]; };

layout(push_constant) uniform P {
    uint C, nrows;
    uint rne[5]; uint rsx[5]; uint rsd[5];
    uint sx0, sd0, ox, od;
} p;

void main() {
    for (uint r = gl_WorkGroupID.x; r < p.nrows; r += gl_NumWorkGroups.x) {
        uint xo = p.ox, yo = p.od, rest = r;
        for (uint i = 0u; i < 5u; i++) {
            uint q = rest / p.rne[i], c = rest - q * p.rne[i];
            xo += c * p.rsx[i];
            yo += c * p.rsd[i];
            rest = q;
        }
        float m = -SG_INF;
        for (uint c = gl_LocalInvocationID.x; c < p.C; c += WG) m = max(m, x[xo + c * p.sx0]);
        m = wg_max(m);
        float s = 0.0;
        for (uint c = gl_LocalInvocationID.x; c < p.C; c += WG) s += exp(x[xo + c * p.sx0] - m);
        float inv = 1.0 / wg_sum(s);
        for (uint c = gl_LocalInvocationID.x; c < p.C; c += WG) d[yo + c * p.sd0] = exp(x[xo + c * p.sx0] - m) * inv;
    }
}
