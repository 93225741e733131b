#version 450
// TOP_K: indices of the k largest values of each row, largest first, NaN largest, ties to the
// lower index (deterministic). One workgroup per row:
//  1. radix select on order-preserving 32-bit keys (4 passes of 8 bits) finds the k-th largest
//     key T and how many elements equal to T belong in the result;
//  2. elements above T are collected, and those equal to T in index order (a prefix scan per
//     chunk) until enough are taken;
//  3. a bitonic sort of the k winners by (key descending, index ascending).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x = 256) in;
#define WG 256u
layout(constant_id = 0) const uint KMAX = 256;   // power of two >= k

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer D { int d[]; };

layout(push_constant) uniform P {
    uint N, k, nrows;
    uint rne[5]; uint rsx[5]; uint rsd[5];   // rows (dims 1..5): shape, strides of x and out
    uint sx0, ox, od;
} p;   // the output is contiguous

shared uint hist[256];
shared uint skey[KMAX];
shared uint sidx[KMAX];
shared uint scan[WG];
shared uint chosen, n_above;

// Larger float -> larger key; -0 == +0; every NaN maps to the largest key.
uint order_key(float f) {
    uint u = floatBitsToUint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return 0xffffffffu;
    if (u == 0x80000000u) u = 0u;
    return (u & 0x80000000u) != 0u ? ~u : (u | 0x80000000u);
}

bool before(uint ka, uint ia, uint kb, uint ib) { return ka > kb || (ka == kb && ia < ib); }

void main() {
    const uint tid = gl_LocalInvocationID.x;
    for (uint r = gl_WorkGroupID.x; r < p.nrows; r += gl_NumWorkGroups.x) {
        uint xo = p.ox, dof = p.od, rest = r;
        for (uint i = 0u; i < 5u; i++) {
            uint q = rest / p.rne[i], c = rest - q * p.rne[i];
            xo += c * p.rsx[i];
            dof += c * p.rsd[i];
            rest = q;
        }
        // 1. radix select
        uint prefix = 0u, mask = 0u, want = p.k;
        for (int shift = 24; shift >= 0; shift -= 8) {
            hist[tid] = 0u;
            barrier();
            for (uint n = tid; n < p.N; n += WG) {
                uint key = order_key(x[xo + n * p.sx0]);
                if ((key & mask) == prefix) atomicAdd(hist[(key >> uint(shift)) & 255u], 1u);
            }
            barrier();
            if (tid == 0u) {
                uint above = 0u, b = 255u;
                for (;; b--) {
                    if (above + hist[b] >= want || b == 0u) break;
                    above += hist[b];
                }
                chosen = b;
                n_above = above;
            }
            barrier();
            prefix |= chosen << uint(shift);
            mask |= 255u << uint(shift);
            want -= n_above;
            barrier();
        }
        // 2. collect: keys above T anywhere in [0, k - want), keys equal to T in index order after
        const uint T = prefix, n_gt = p.k - want;
        if (tid == 0u) n_above = 0u;
        barrier();
        uint taken_eq = 0u;
        for (uint n0 = 0u; n0 < p.N; n0 += WG) {
            uint n = n0 + tid;
            uint key = n < p.N ? order_key(x[xo + n * p.sx0]) : 0u;
            bool gt = n < p.N && key > T, eq = n < p.N && key == T;
            if (gt) {
                uint slot = atomicAdd(n_above, 1u);
                skey[slot] = key;
                sidx[slot] = n;
            }
            scan[tid] = eq ? 1u : 0u;
            barrier();
            for (uint s = 1u; s < WG; s <<= 1) {
                uint add = tid >= s ? scan[tid - s] : 0u;
                barrier();
                scan[tid] += add;
                barrier();
            }
            uint pos = taken_eq + scan[tid] - 1u;   // inclusive scan: this one's place among equals
            if (eq && pos < want) {
                skey[n_gt + pos] = key;
                sidx[n_gt + pos] = n;
            }
            taken_eq += scan[WG - 1u];
            barrier();
        }
        for (uint i = p.k + tid; i < KMAX; i += WG) { skey[i] = 0u; sidx[i] = 0xffffffffu; }
        barrier();
        // 3. bitonic sort, best first
        for (uint size = 2u; size <= KMAX; size <<= 1) {
            for (uint stride = size >> 1; stride > 0u; stride >>= 1) {
                for (uint i = tid; i < KMAX / 2u; i += WG) {
                    uint lo = 2u * stride * (i / stride) + (i % stride), hi = lo + stride;
                    bool up = (lo & size) == 0u;
                    uint ka = skey[lo], ia = sidx[lo], kb = skey[hi], ib = sidx[hi];
                    if (before(ka, ia, kb, ib) != up) {
                        skey[lo] = kb; sidx[lo] = ib;
                        skey[hi] = ka; sidx[hi] = ia;
                    }
                }
                barrier();
            }
        }
        for (uint i = tid; i < p.k; i += WG) d[dof + i] = int(sidx[i]);
        barrier();
    }
}
