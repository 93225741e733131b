/* TOP_K, step one of three (then sort.cl sorts each row's pairs, and topk_write stores them):
 * one work-group per row finds the k largest by radix selection on order-preserving keys, then
 * writes them as (inverted key, index) pairs, so an ascending sort puts the largest first and
 * equal values in index order. NaN ranks above everything (as in torch.topk); -0 equals +0. */

/* Larger float, larger key; every NaN maps to the largest key. */
uint sg_order_key(float x) {
    if (isnan(x)) return 0xffffffffu;
    uint u = as_uint(x);
    if (u == 0x80000000u) u = 0u;
    return (u & 0x80000000u) ? ~u : u | 0x80000000u;
}

/* Exclusive prefix sum of v over the work-group (size a power of two) using scan[]; *total
 * gets the sum. */
uint sg_group_scan(uint v, __local uint *scan, uint *total) {
    const uint lid = get_local_id(0), n = get_local_size(0);
    scan[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = 1; s < n; s <<= 1) {
        uint add = lid >= s ? scan[lid - s] : 0u;
        barrier(CLK_LOCAL_MEM_FENCE);
        scan[lid] += add;
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    uint incl = scan[lid];
    *total    = scan[n - 1];
    barrier(CLK_LOCAL_MEM_FENCE);
    return incl - v;
}

/* x rows [N] (dims 1.. flattened); pairs for row r go to keys/vals[r * seg ...]; positions
 * k..seg-1 get padding that sorts last. hist: 256 uints; scan: one uint per work-item. */
__kernel void topk_select(__global const char *x, ulong xoff, long8 xne, long8 xnb, int k, uint seg, __global char *kb,
                          ulong koff, __global char *vb, ulong voff, __local uint *hist, __local uint *scan) {
    __local uint sel[2]; /* digit prefix found so far, elements still to place */
    const long row = SG_GROUP(0), N = xne.s0;
    const uint lid = get_local_id(0), W = get_local_size(0);
    const long xo       = xoff + sg_offset_row(row, xne, xnb);
    __global uint *keys = SG_PTR(uint, kb, koff) + row * seg;
    __global uint *vals = SG_PTR(uint, vb, voff) + row * seg;

    /* Radix select, 8 bits at a time from the top: the key T of the k-th largest element. */
    uint prefix = 0u, mask = 0u, remaining = (uint)k;
    for (int shift = 24; shift >= 0; shift -= 8) {
        for (uint b = lid; b < 256u; b += W) hist[b] = 0u;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (long n = lid; n < N; n += W) {
            uint key = sg_order_key(*SG_PTR(const float, x, xo + n * xnb.s0));
            if ((key & mask) == prefix) atomic_inc(&hist[(key >> shift) & 255u]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid == 0) {
            uint cum = 0u, digit = 0u;
            for (int b = 255; b >= 0; b--) {
                if (cum + hist[b] >= remaining) {
                    digit = (uint)b;
                    break;
                }
                cum += hist[b];
            }
            sel[0] = prefix | (digit << shift);
            sel[1] = remaining - cum;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        prefix    = sel[0];
        remaining = sel[1];
        mask |= 255u << shift;
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const uint T = prefix, n_ties = remaining, n_gt = (uint)k - remaining;

    /* Compaction in index order: every key above T, then the first n_ties keys equal to T. */
    uint done_gt = 0u, done_eq = 0u;
    for (long base = 0; base < N && (done_gt < n_gt || done_eq < n_ties); base += W) {
        const long n = base + lid;
        uint key     = n < N ? sg_order_key(*SG_PTR(const float, x, xo + n * xnb.s0)) : 0u;
        uint gt = n < N && key > T, eq = n < N && key == T;
        /* one scan for both flags: counts stay below 2^16 (at most one per work-item) */
        uint tot;
        uint excl   = sg_group_scan((gt << 16) | eq, scan, &tot);
        uint pos_gt = done_gt + (excl >> 16), pos_eq = done_eq + (excl & 0xffffu);
        uint tot_gt = tot >> 16, tot_eq = tot & 0xffffu;
        if (gt) {
            keys[pos_gt] = ~key;
            vals[pos_gt] = (uint)n;
        }
        if (eq && pos_eq < n_ties) {
            keys[n_gt + pos_eq] = ~key;
            vals[n_gt + pos_eq] = (uint)n;
        }
        done_gt += tot_gt;
        done_eq += tot_eq;
    }
    for (uint p = (uint)k + lid; p < seg; p += W) {
        keys[p] = 0xffffffffu;
        vals[p] = 0xffffffffu;
    }
}

/* dst[j, r] = vals[r * seg + j] for j < k; dne is dst's shape. */
__kernel void topk_write(__global char *d, ulong doff, long8 dne, long8 dnb, __global const char *vb, ulong voff,
                         uint seg) {
    const long j = get_global_id(0), r = get_global_id(1);
    if (j >= dne.s0) return;
    *SG_PTR(int, d, doff + j * dnb.s0 + sg_offset_row(r, dne, dnb)) = (int)SG_PTR(const uint, vb, voff)[r * seg + j];
}
