#version 450
// LAYER_NORM_BACK: with xhat = (x - mean) rstd and g = dy * w,
//   dx = rstd (g - mean(g) - xhat mean(g xhat)), one workgroup per row.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 256;
layout(constant_id = 1) const bool HAS_W = false;
#include "reduce.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Y { float dy[]; };
layout(std430, binding = 2) readonly buffer W { float w[]; };
layout(std430, binding = 3) writeonly buffer D { float d[]; };

layout(push_constant) uniform P {
    uint C, nrows;
    uint rne[5]; uint rsx[5]; uint rsy[5];
    uint sx0, sy0;
    uint ox, oy, ow, sw, od;
    float eps;
} p;

void main() {
    for (uint r = gl_WorkGroupID.x; r < p.nrows; r += gl_NumWorkGroups.x) {
        uint xo = p.ox, yo = p.oy, rest = r;
        for (uint i = 0u; i < 5u; i++) {
            uint q = rest / p.rne[i], c = rest - q * p.rne[i];
            xo += c * p.rsx[i];
            yo += c * p.rsy[i];
            rest = q;
        }
        float s = 0.0;
        for (uint c = gl_LocalInvocationID.x; c < p.C; c += WG) s += x[xo + c * p.sx0];
        float mean = wg_sum(s) / float(p.C);
        float ss = 0.0;
        for (uint c = gl_LocalInvocationID.x; c < p.C; c += WG) { float t = x[xo + c * p.sx0] - mean; ss += t * t; }
        float rstd = inversesqrt(wg_sum(ss) / float(p.C) + p.eps);
        float sg = 0.0, sgx = 0.0;
        for (uint c = gl_LocalInvocationID.x; c < p.C; c += WG) {
            float xh = (x[xo + c * p.sx0] - mean) * rstd;
            float g = dy[yo + c * p.sy0] * (HAS_W ? w[p.ow + c * p.sw] : 1.0);
            sg += g;
            sgx += g * xh;
        }
        float mg = wg_sum(sg) / float(p.C);
        float mgx = wg_sum(sgx) / float(p.C);
        uint oo = p.od + r * p.C;
        for (uint c = gl_LocalInvocationID.x; c < p.C; c += WG) {
            float xh = (x[xo + c * p.sx0] - mean) * rstd;
            float g = dy[yo + c * p.sy0] * (HAS_W ? w[p.ow + c * p.sw] : 1.0);
            d[oo + c] = rstd * (g - mg - xh * mgx);
        }
    }
}
