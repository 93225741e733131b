#version 450
// SCATTER_OUTER, step 2: exclusive prefix sum over cnt[0 .. N * nb) in place (one workgroup,
// chunks of 1024), giving each (row, block) segment its start in the sorted pair list.
layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer C { uint cnt[]; };

layout(push_constant) uniform P { uint n; } p;

shared uint part[256];

void main() {
    const uint tid = gl_LocalInvocationID.x;
    uint carry = 0u;
    for (uint c0 = 0u; c0 < p.n; c0 += 1024u) {
        uint v[4], s = 0u;
        for (uint i = 0u; i < 4u; i++) {
            uint at = c0 + tid * 4u + i;
            v[i] = at < p.n ? cnt[at] : 0u;
            s += v[i];
        }
        part[tid] = s;
        barrier();
        for (uint off = 1u; off < 256u; off <<= 1) {
            uint add = tid >= off ? part[tid - off] : 0u;
            barrier();
            part[tid] += add;
            barrier();
        }
        uint run = carry + part[tid] - s;
        for (uint i = 0u; i < 4u; i++) {
            uint at = c0 + tid * 4u + i;
            if (at < p.n) cnt[at] = run;
            run += v[i];
        }
        carry += part[255];
        barrier();
    }
}
