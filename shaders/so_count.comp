#version 450
// SCATTER_OUTER, step 1 of a stable counting sort of the (j, b) pairs by target row: block
// `blk` counts its contiguous range of pairs per row into cnt[row * nb + blk] (zeroed before).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x = 256) in;

layout(std430, binding = 0) readonly buffer I { int idx[]; };
layout(std430, binding = 1) buffer C { uint cnt[]; };

#include "sparse.glsl"

void main() {
    uint P = p.K * p.B, per = (P + p.nb - 1u) / p.nb;
    for (uint blk = gl_WorkGroupID.x; blk < p.nb; blk += gl_NumWorkGroups.x) {
        uint end = min(P, (blk + 1u) * per);
        for (uint q = blk * per + gl_LocalInvocationID.x; q < end; q += 256u) {
            uint b = q / p.K, j = q - b * p.K;
            int id = idx[p.oi + j * p.si0 + b * p.si1];
            if (id >= 0 && uint(id) < p.N) atomicAdd(cnt[uint(id) * p.nb + blk], 1u);
        }
    }
}
