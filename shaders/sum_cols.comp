#version 450
// SUM_TO when the innermost dimension is kept: a workgroup owns 32 consecutive output elements
// (coalesced reads along the kept dimension); 8 lanes per element split the summed elements,
// then add up in a fixed order.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x = 256) in;
#define COLS 32u
#define LANES 8u

layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) writeonly buffer D { float d[]; };

layout(push_constant) uniform P {
    uint kne[6]; uint kst[6];
    uint rne[6]; uint rst[6];
    uint os, od, nk, nr, krank, rrank;
} p;

shared float part[LANES][COLS];

void main() {
    uint col = gl_LocalInvocationID.x % COLS, lane = gl_LocalInvocationID.x / COLS;
    for (uint k0 = gl_WorkGroupID.x * COLS; k0 < p.nk; k0 += gl_NumWorkGroups.x * COLS) {
        uint k = k0 + col;
        precise float s = 0.0, c = 0.0;
        if (k < p.nk) {
            uint base;
            if (p.krank == 0u) base = k; else SG_OFFSET6(k, p.kne, p.kst, p.krank, base);
            for (uint j = lane; j < p.nr; j += LANES) {
                uint o;
                if (p.rrank == 0u) o = j; else SG_OFFSET6(j, p.rne, p.rst, p.rrank, o);
                precise float y = a[p.os + base + o] - c;
                precise float t = s + y;
                c = (t - s) - y;
                s = t;
            }
        }
        part[lane][col] = s;
        barrier();
        if (lane == 0u && k < p.nk) {
            float t = 0.0;
            for (uint l = 0u; l < LANES; l++) t += part[l][col];
            d[p.od + k] = t;
        }
        barrier();
    }
}
