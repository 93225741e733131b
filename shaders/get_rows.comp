#version 450
// GET_ROWS: out[:, t] = w[:, ids[t]] (f32, f16 or bf16 table) for every id in any shape; ids
// outside the table give zero rows.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 256;
layout(constant_id = 1) const uint WT = 0;   // table type

layout(std430, binding = 0) readonly buffer W { uint w[]; };
layout(std430, binding = 1) readonly buffer I { int ids[]; };
layout(std430, binding = 2) writeonly buffer D { float d[]; };

layout(push_constant) uniform P {
    uint D, N, n;              // row length, table rows, output elements
    uint ine[5]; uint ist[5];  // ids shape and strides
    uint sw0, sw1, ow, oi, od;
} p;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += gl_NumWorkGroups.x * WG) {
        uint t = i / p.D, c = i - t * p.D;
        uint io = p.oi, rest = t;
        for (uint k = 0u; k < 5u; k++) { uint q = rest / p.ine[k]; io += (rest - q * p.ine[k]) * p.ist[k]; rest = q; }
        int id = ids[io];
        float v = 0.0;
        if (id >= 0 && uint(id) < p.N) v = SG_LOAD_AS_F32(w, WT, p.ow + c * p.sw0 + uint(id) * p.sw1);
        d[p.od + i] = v;
    }
}
