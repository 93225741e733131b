/* EMBED_BAG, SPARSE_DOT, SCATTER_OUTER: the sparse-code ops of an SAE decoder and their
 * gradients. w [D, N] holds one row of D per latent, idx [K, B] picks K latents per column b.
 * Out-of-range indices read as zero and write nowhere. All sums run in a fixed order. */

/* y[d, b] = sum_j v[j, b] w[d, idx[j, b]]; one work-item per (d, b). */
__kernel void embed_bag(__global char *y, ulong yoff, long ynb0, long ynb1, __global const char *w, ulong woff,
                        long wnb0, long wnb1, long N, __global const char *idx, ulong ioff, long inb0, long inb1,
                        __global const char *v, ulong voff, long vnb0, long vnb1, long D, int K) {
    const long d = get_global_id(0), b = get_global_id(1);
    if (d >= D) return;
    float acc = 0.0f;
    for (int j = 0; j < K; j++) {
        int id = *SG_PTR(const int, idx, ioff + j * inb0 + b * inb1);
        if (id < 0 || id >= N) continue;
        float vj = *SG_PTR(const float, v, voff + j * vnb0 + b * vnb1);
        acc += vj * *SG_PTR(const float, w, woff + d * wnb0 + id * wnb1);
    }
    *SG_PTR(float, y, yoff + d * ynb0 + b * ynb1) = acc;
}

/* out[j, b] = w[:, idx[j, b]] . x[:, b]; one work-group per (j, b), reducing over D. */
__kernel void sparse_dot(__global char *o, ulong ooff, long onb0, long onb1, __global const char *w, ulong woff,
                         long wnb0, long wnb1, long N, __global const char *idx, ulong ioff, long inb0, long inb1,
                         __global const char *x, ulong xoff, long xnb0, long xnb1, long D, int K,
                         __local float *scratch) {
    const long pair = SG_GROUP(0), j = pair % K, b = pair / K;
    const int id = *SG_PTR(const int, idx, ioff + j * inb0 + b * inb1);
    float acc    = 0.0f;
    if (id >= 0 && id < N)
        for (long d = get_local_id(0); d < D; d += get_local_size(0))
            acc += *SG_PTR(const float, w, woff + d * wnb0 + id * wnb1) *
                   *SG_PTR(const float, x, xoff + d * xnb0 + b * xnb1);
    acc = sg_group_sum(acc, scratch);
    if (get_local_id(0) == 0) *SG_PTR(float, o, ooff + j * onb0 + b * onb1) = acc;
}

/* SCATTER_OUTER, step one: a (target row, pair id) pair per (j, b), pair id = b K + j; invalid
 * targets and the padding up to seg get key 0xffffffff, which sorts last. */
__kernel void scatter_outer_keys(__global char *kb, ulong koff, __global char *vb, ulong voff, __global const char *idx,
                                 ulong ioff, long inb0, long inb1, int K, long n_pairs, long n, long seg) {
    const long t = get_global_id(0);
    if (t >= seg) return;
    uint key = 0xffffffffu;
    if (t < n_pairs) {
        int id = *SG_PTR(const int, idx, ioff + (t % K) * inb0 + (t / K) * inb1);
        if (id >= 0 && id < n) key = (uint)id;
    }
    SG_PTR(uint, kb, koff)[t] = key;
    SG_PTR(uint, vb, voff)[t] = (uint)t;
}

/* Step three (after sorting): the range [start[r], end[r]) of sorted pairs targeting row r;
 * start and end are zeroed beforehand so unused rows get an empty range. */
__kernel void scatter_outer_bounds(__global const char *kb, ulong koff, __global char *sb, ulong soff, long seg) {
    const long t = get_global_id(0);
    if (t >= seg) return;
    __global const uint *keys = SG_PTR(const uint, kb, koff);
    __global uint *start      = SG_PTR(uint, sb, soff);
    const uint key            = keys[t];
    if (key == 0xffffffffu) return;
    if (t == 0 || keys[t - 1] != key) start[2 * (long)key] = (uint)t;
    if (t == seg - 1 || keys[t + 1] != key) start[2 * (long)key + 1] = (uint)t + 1u;
}

/* Step four: out[d, r] = sum over r's pairs (in pair order) of c[j, b] x[d, b]. */
__kernel void scatter_outer_accum(__global char *o, ulong ooff, long onb0, long onb1, __global const char *vb,
                                  ulong voff, __global const char *sb, ulong soff, __global const char *c, ulong coff,
                                  long cnb0, long cnb1, int has_c, __global const char *x, ulong xoff, long xnb0,
                                  long xnb1, long D, int K) {
    const long d = get_global_id(0), r = get_global_id(1);
    if (d >= D) return;
    __global const uint *vals  = SG_PTR(const uint, vb, voff);
    __global const uint *range = SG_PTR(const uint, sb, soff) + 2 * r;
    float acc                  = 0.0f;
    for (uint e = range[0]; e < range[1]; e++) {
        long p = vals[e], j = p % K, b = p / K;
        float cj = has_c ? *SG_PTR(const float, c, coff + j * cnb0 + b * cnb1) : 1.0f;
        acc += cj * *SG_PTR(const float, x, xoff + d * xnb0 + b * xnb1);
    }
    *SG_PTR(float, o, ooff + d * onb0 + r * onb1) = acc;
}
