#version 450
// ACT_BACK: dy * f'(x), with PyTorch's values at the kinks (relu'(0) = 0, leaky'(0) = slope,
// clamp passes dy on the closed interval).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 256;
layout(constant_id = 1) const uint ACT = 0;   // enum sg_act: relu, leaky relu, gelu, clamp
layout(constant_id = 2) const bool DENSE = false;   // every operand contiguous: no index arithmetic

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Y { float dy[]; };
layout(std430, binding = 2) writeonly buffer D { float d[]; };

layout(push_constant) uniform P {
    uint ne[6]; uint sx[6]; uint sy[6]; uint sd[6];
    uint ox, oy, od, n, rank;
    float alpha, lo, hi;
} p;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += gl_NumWorkGroups.x * WG) {
        uint ix = i, iy = i, id = i;
        if (!DENSE) {
            ix = 0u; iy = 0u; id = 0u;
            uint f = i;
            for (uint k = 0u; k + 1u < p.rank; k++) {
                uint q = f / p.ne[k], c = f - q * p.ne[k];
                ix += c * p.sx[k]; iy += c * p.sy[k]; id += c * p.sd[k];
                f = q;
            }
            ix += f * p.sx[p.rank - 1u]; iy += f * p.sy[p.rank - 1u]; id += f * p.sd[p.rank - 1u];
        }
        float v = x[p.ox + ix], g = dy[p.oy + iy], r;
        if (ACT == 0u) r = v > 0.0 ? g : 0.0;
        else if (ACT == 1u) r = v > 0.0 ? g : p.alpha * g;
        else if (ACT == 2u) r = g * (sg_norm_cdf(v) + v * sg_norm_pdf(v));
        else r = (v >= p.lo && v <= p.hi) ? g : 0.0;
        d[p.od + id] = r;
    }
}
