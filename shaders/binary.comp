#version 450
// ADD, SUB, MUL, DIV with numpy broadcasting (a source's stride is 0 in dims where it has 1).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 256;
layout(constant_id = 1) const uint OP = 0;   // 0 add, 1 sub, 2 mul, 3 div
layout(constant_id = 2) const bool DENSE = false;   // every operand contiguous: no index arithmetic

layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer D { float d[]; };

layout(push_constant) uniform P {
    uint ne[6]; uint sa[6]; uint sb[6]; uint sd[6];
    uint oa, ob, od, n, rank;
} p;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += gl_NumWorkGroups.x * WG) {
        uint ia = i, ib = i, id = i;
        if (!DENSE) {
            ia = 0u; ib = 0u; id = 0u;
            uint f = i;
            for (uint k = 0u; k + 1u < p.rank; k++) {
                uint q = f / p.ne[k], c = f - q * p.ne[k];
                ia += c * p.sa[k]; ib += c * p.sb[k]; id += c * p.sd[k];
                f = q;
            }
            ia += f * p.sa[p.rank - 1u]; ib += f * p.sb[p.rank - 1u]; id += f * p.sd[p.rank - 1u];
        }
        float x = a[p.oa + ia], y = b[p.ob + ib], r;
        if (OP == 0u) r = x + y;
        else if (OP == 1u) r = x - y;
        else if (OP == 2u) r = x * y;
        else r = x / y;
        d[p.od + id] = r;
    }
}
