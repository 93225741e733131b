#version 450
// SUM_TO when the innermost dimension is summed: one workgroup per output element, its threads
// striding over the summed elements (Kahan-compensated), then a workgroup reduction.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 256;
#include "reduce.glsl"

layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) writeonly buffer D { float d[]; };

layout(push_constant) uniform P {
    uint kne[6]; uint kst[6];   // kept dims: shape and source strides
    uint rne[6]; uint rst[6];   // summed dims
    uint os, od, nk, nr, krank, rrank;
} p;

void main() {
    for (uint k = gl_WorkGroupID.x; k < p.nk; k += gl_NumWorkGroups.x) {
        uint base;
        if (p.krank == 0u) base = k; else SG_OFFSET6(k, p.kne, p.kst, p.krank, base);
        precise float s = 0.0, c = 0.0;
        for (uint j = gl_LocalInvocationID.x; j < p.nr; j += WG) {
            uint o;
            if (p.rrank == 0u) o = j; else SG_OFFSET6(j, p.rne, p.rst, p.rrank, o);
            precise float y = a[p.os + base + o] - c;
            precise float t = s + y;
            c = (t - s) - y;
            s = t;
        }
        float total = wg_sum(s);
        if (gl_LocalInvocationID.x == 0u) d[p.od + k] = total;
    }
}
