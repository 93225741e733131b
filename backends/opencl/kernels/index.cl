/* GET_ROWS, GATHER, SCATTER: lookups by I32 index. An index outside its table reads as zero and
 * writes nowhere. */

/* dst [D, T...] = rows of w [D, N] (f32, f16 or bf16) picked by ids [T...]. The host collapses
 * the ids' dims together with dst's dims 1..: id t sits at sg_offset_flat(t, idne, idnb) and its
 * row of dst at doff + sg_offset_flat(t, idne, drnb). */
__kernel void get_rows(__global char *d, ulong doff, long dnb0, long8 drnb, __global const char *w, ulong woff,
                       long wnb0, long wnb1, long N, int wtype, __global const char *ids, ulong idoff, long8 idne,
                       long8 idnb, long D) {
    const long c = get_global_id(0), t = get_global_id(1);
    if (c >= D) return;
    int id  = *SG_PTR(const int, ids, idoff + sg_offset_flat(t, idne, idnb));
    float x = id >= 0 && id < N ? sg_load(w + woff + c * wnb0 + id * wnb1, wtype) : 0.0f;
    *SG_PTR(float, d, doff + c * dnb0 + sg_offset_flat(t, idne, drnb)) = x;
}

/* out[j, r] = x[idx[j, r], r]; dne is the shape of out (and idx); rows are dims 1... */
__kernel void gather(__global char *d, ulong doff, long8 dne, long8 dnb, __global const char *x, ulong xoff, long8 xnb,
                     long N, __global const char *idx, ulong ioff, long8 inb) {
    const long j = get_global_id(0), r = get_global_id(1);
    if (j >= dne.s0) return;
    int id    = *SG_PTR(const int, idx, ioff + j * inb.s0 + sg_offset_row(r, dne, inb));
    float val = id >= 0 && id < N ? *SG_PTR(const float, x, xoff + id * xnb.s0 + sg_offset_row(r, dne, xnb)) : 0.0f;
    *SG_PTR(float, d, doff + j * dnb.s0 + sg_offset_row(r, dne, dnb)) = val;
}

/* out[idx[j, r], r] += v[j, r] over a zeroed out. The first j holding an index sums every
 * entry with that index in j order and writes it: deterministic, no atomics. ine is the shape
 * of idx (and v); out has n = dne0 entries per row. */
__kernel void scatter(__global char *d, ulong doff, long8 dnb, long n, __global const char *v, ulong voff, long8 vnb,
                      __global const char *idx, ulong ioff, long8 ine, long8 inb) {
    const long j = get_global_id(0), r = get_global_id(1);
    if (j >= ine.s0) return;
    const long io = ioff + sg_offset_row(r, ine, inb), vo = voff + sg_offset_row(r, ine, vnb);
    const int id = *SG_PTR(const int, idx, io + j * inb.s0);
    if (id < 0 || id >= n) return;
    for (long p = 0; p < j; p++)
        if (*SG_PTR(const int, idx, io + p * inb.s0) == id) return;
    float sum = 0.0f;
    for (long p = j; p < ine.s0; p++)
        if (*SG_PTR(const int, idx, io + p * inb.s0) == id) sum += *SG_PTR(const float, v, vo + p * vnb.s0);
    *SG_PTR(float, d, doff + id * dnb.s0 + sg_offset_row(r, ine, dnb)) = sum;
}
