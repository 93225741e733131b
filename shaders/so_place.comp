#version 450
// SCATTER_OUTER, step 3: each block walks its pairs in order and writes pair q = b * K + j to
// its row's segment, after the earlier pairs of the same row (rank within a chunk by comparing
// with the chunk's earlier rows). The segment cursors in cnt advance as pairs are placed.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x = 256) in;

layout(std430, binding = 0) readonly buffer I { int idx[]; };
layout(std430, binding = 1) coherent buffer C { uint cnt[]; };   // cursors shared by the workgroup
layout(std430, binding = 2) writeonly buffer E { uint entries[]; };

#include "sparse.glsl"

shared uint rows[256];

void main() {
    const uint tid = gl_LocalInvocationID.x;
    uint P = p.K * p.B, per = (P + p.nb - 1u) / p.nb;
    for (uint blk = gl_WorkGroupID.x; blk < p.nb; blk += gl_NumWorkGroups.x) {
        uint end = min(P, (blk + 1u) * per);
        for (uint q0 = blk * per; q0 < end; q0 += 256u) {
            uint q = q0 + tid, row = 0xffffffffu;
            if (q < end) {
                uint b = q / p.K, j = q - b * p.K;
                int id = idx[p.oi + j * p.si0 + b * p.si1];
                if (id >= 0 && uint(id) < p.N) row = uint(id);
            }
            rows[tid] = row;
            barrier();
            uint rank = 0u;
            bool last = true;
            if (row != 0xffffffffu) {
                for (uint t = 0u; t < 256u; t++) {
                    if (rows[t] != row) continue;
                    if (t < tid) rank++;
                    else if (t > tid) last = false;
                }
                entries[cnt[row * p.nb + blk] + rank] = q;
            }
            barrier();
            if (row != 0xffffffffu && last) cnt[row * p.nb + blk] += rank + 1u;
            memoryBarrierBuffer();   // the new cursors are read by other invocations next chunk
            barrier();
        }
    }
}
