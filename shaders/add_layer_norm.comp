#version 450
// ADD_LAYER_NORM: s = x + r, then LAYER_NORM of s, one workgroup per row. The output packs
// [s | y]: s goes to the first block (od + row * C) and is read back by the same thread for the
// two statistics passes, y to the second block (od + n + row * C).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 256;
layout(constant_id = 1) const bool HAS_W = false;
layout(constant_id = 2) const bool HAS_B = false;
#include "reduce.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer R { float res[]; };
layout(std430, binding = 2) readonly buffer W { float w[]; };
layout(std430, binding = 3) readonly buffer Bi { float bias[]; };
layout(std430, binding = 4) buffer D { float d[]; };

layout(push_constant) uniform P {
    uint C, nrows;
    uint rne[5]; uint rsx[5]; uint rsr[5];
    uint sx0, sr0;
    uint ox, or_, ow, sw, ob, sb, od, n;
    float eps;
} p;

void main() {
    for (uint r = gl_WorkGroupID.x; r < p.nrows; r += gl_NumWorkGroups.x) {
        uint xo = p.ox, ro = p.or_, rest = r;
        for (uint i = 0u; i < 5u; i++) {
            uint q = rest / p.rne[i], c = rest - q * p.rne[i];
            xo += c * p.rsx[i];
            ro += c * p.rsr[i];
            rest = q;
        }
        uint so = p.od + r * p.C, yo = p.od + p.n + r * p.C;
        float s = 0.0;
        for (uint c = gl_LocalInvocationID.x; c < p.C; c += WG) {
            float v = x[xo + c * p.sx0] + res[ro + c * p.sr0];
            d[so + c] = v;
            s += v;
        }
        float mean = wg_sum(s) / float(p.C);
        float ss = 0.0;
        for (uint c = gl_LocalInvocationID.x; c < p.C; c += WG) { float t = d[so + c] - mean; ss += t * t; }
        float rstd = inversesqrt(wg_sum(ss) / float(p.C) + p.eps);
        for (uint c = gl_LocalInvocationID.x; c < p.C; c += WG) {
            float v = (d[so + c] - mean) * rstd;
            if (HAS_W) v *= w[p.ow + c * p.sw];
            if (HAS_B) v += bias[p.ob + c * p.sb];
            d[yo + c] = v;
        }
    }
}
