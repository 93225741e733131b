/* Bitonic sort of (key, value) pairs (both uint), ascending by key then value, independently
 * within each segment of `seg` elements (a power of two). Used by TOP_K (keys are inverted
 * values, so the largest come first and ties go to the lower index) and by SCATTER_OUTER
 * (keys are target rows). The host runs sort_local once (all stages up to the chunk size L =
 * 2 x work-group size, in local memory), then for each larger stage k the global steps
 * sort_step down to j = L and one sort_merge for the rest. */

bool sg_pair_gt(uint ka, uint va, uint kb, uint vb) { return ka > kb || (ka == kb && va > vb); }

/* One compare-exchange step over the chunk in local memory; i_base is the chunk's index within
 * its segment. */
void sg_sort_local_step(__local uint *lk, __local uint *lv, uint L, uint i_base, uint k, uint j) {
    for (uint t = get_local_id(0); t < L / 2; t += get_local_size(0)) {
        uint i = (t / j) * 2 * j + t % j, p = i + j;
        bool asc = ((i_base + i) & k) == 0;
        uint ka = lk[i], va = lv[i], kb = lk[p], vb = lv[p];
        if (sg_pair_gt(ka, va, kb, vb) == asc) {
            lk[i] = kb;
            lv[i] = vb;
            lk[p] = ka;
            lv[p] = va;
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
}

void sg_sort_chunk_load(__local uint *lk, __local uint *lv, __global const uint *keys, __global const uint *vals,
                        long base, uint L) {
    for (uint t = get_local_id(0); t < L; t += get_local_size(0)) {
        lk[t] = keys[base + t];
        lv[t] = vals[base + t];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
}

void sg_sort_chunk_store(__local const uint *lk, __local const uint *lv, __global uint *keys, __global uint *vals,
                         long base, uint L) {
    for (uint t = get_local_id(0); t < L; t += get_local_size(0)) {
        keys[base + t] = lk[t];
        vals[base + t] = lv[t];
    }
}

/* Every stage k <= L of each chunk of L elements. */
__kernel void sort_local(__global char *kb, ulong koff, __global char *vb, ulong voff, uint seg, uint L,
                         __local uint *lk, __local uint *lv) {
    __global uint *keys = SG_PTR(uint, kb, koff);
    __global uint *vals = SG_PTR(uint, vb, voff);
    const long base     = (long)SG_GROUP(0) * L;
    const uint i_base   = (uint)(base & (seg - 1));
    sg_sort_chunk_load(lk, lv, keys, vals, base, L);
    for (uint k = 2; k <= L; k <<= 1)
        for (uint j = k / 2; j > 0; j >>= 1) sg_sort_local_step(lk, lv, L, i_base, k, j);
    sg_sort_chunk_store(lk, lv, keys, vals, base, L);
}

/* Stage k, step j (j >= L) over the whole array of n pairs. */
__kernel void sort_step(__global char *kb, ulong koff, __global char *vb, ulong voff, uint seg, uint k, uint j,
                        long n) {
    __global uint *keys = SG_PTR(uint, kb, koff);
    __global uint *vals = SG_PTR(uint, vb, voff);
    const long t        = get_global_id(0);
    if (t >= n / 2) return;
    const long i = (t / j) * 2 * j + t % j, p = i + j;
    const bool asc = (((uint)i & (seg - 1)) & k) == 0;
    uint ka = keys[i], va = vals[i], kc = keys[p], vc = vals[p];
    if (sg_pair_gt(ka, va, kc, vc) == asc) {
        keys[i] = kc;
        vals[i] = vc;
        keys[p] = ka;
        vals[p] = va;
    }
}

/* Steps j < L of stage k, within each chunk of L elements. */
__kernel void sort_merge(__global char *kb, ulong koff, __global char *vb, ulong voff, uint seg, uint k, uint L,
                         __local uint *lk, __local uint *lv) {
    __global uint *keys = SG_PTR(uint, kb, koff);
    __global uint *vals = SG_PTR(uint, vb, voff);
    const long base     = (long)SG_GROUP(0) * L;
    const uint i_base   = (uint)(base & (seg - 1));
    sg_sort_chunk_load(lk, lv, keys, vals, base, L);
    for (uint j = L / 2; j > 0; j >>= 1) sg_sort_local_step(lk, lv, L, i_base, k, j);
    sg_sort_chunk_store(lk, lv, keys, vals, base, L);
}
