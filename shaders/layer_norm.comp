#version 450
// LAYER_NORM along ne[0]: one workgroup per row; mean, then biased variance from (x - mean)^2
// (two passes, so a large mean costs no digits), then the normalised, scaled, shifted row.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 256;
layout(constant_id = 1) const bool HAS_W = false;
layout(constant_id = 2) const bool HAS_B = false;
#include "reduce.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) readonly buffer Bi { float bias[]; };
layout(std430, binding = 3) writeonly buffer D { float d[]; };

layout(push_constant) uniform P {
    uint C, nrows;
    uint rne[5]; uint rsx[5]; uint sx0;
    uint ox, ow, sw, ob, sb, od;
    float eps;
} p;

void main() {
    for (uint r = gl_WorkGroupID.x; r < p.nrows; r += gl_NumWorkGroups.x) {
        uint xo = p.ox, rest = r;
        for (uint i = 0u; i < 5u; i++) { uint q = rest / p.rne[i]; xo += (rest - q * p.rne[i]) * p.rsx[i]; rest = q; }
        float s = 0.0;
        for (uint c = gl_LocalInvocationID.x; c < p.C; c += WG) s += x[xo + c * p.sx0];
        float mean = wg_sum(s) / float(p.C);
        float ss = 0.0;
        for (uint c = gl_LocalInvocationID.x; c < p.C; c += WG) { float t = x[xo + c * p.sx0] - mean; ss += t * t; }
        float rstd = inversesqrt(wg_sum(ss) / float(p.C) + p.eps);
        uint yo = p.od + r * p.C;
        for (uint c = gl_LocalInvocationID.x; c < p.C; c += WG) {
            float v = (x[xo + c * p.sx0] - mean) * rstd;
            if (HAS_W) v *= w[p.ow + c * p.sw];
            if (HAS_B) v += bias[p.ob + c * p.sb];
            d[yo + c] = v;
        }
    }
}
