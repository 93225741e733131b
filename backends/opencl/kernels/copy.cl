/* CONT, CPY and REPEAT: copies with type conversion. Same types copy the bits unchanged (I32,
 * NaN payloads); mixed float types convert through f32 with round-to-nearest-even. Also a fill
 * for the index arrays ops keep in scratch memory. */

void sg_copy_elem(__global char *d, int dtype, __global const char *s, int stype) {
    if (dtype == stype) {
        if (dtype == SG_T_F16 || dtype == SG_T_BF16)
            *(__global ushort *)d = *(__global const ushort *)s;
        else
            *(__global uint *)d = *(__global const uint *)s;
    } else {
        sg_store(d, dtype, sg_load(s, stype));
    }
}

/* dst and src walk the same (collapsed) shape; a src stride of 0 repeats it (REPEAT). */
__kernel void copy_ew(__global char *d, ulong doff, __global const char *s, ulong soff, long8 ne, long8 dnb, long8 snb,
                      int dtype, int stype) {
    SG_EW_BEGIN(ne);
    sg_copy_elem(d + doff + SG_EW_OFF(dnb), dtype, s + soff + SG_EW_OFF(snb), stype);
}

/* Shapes differ (CPY of [6, 4] into [24]): element `flat` of each in logical order. */
__kernel void copy_flat(__global char *d, ulong doff, long8 dne, long8 dnb, __global const char *s, ulong soff,
                        long8 sne, long8 snb, long n, int dtype, int stype) {
    long flat = get_global_id(0);
    if (flat >= n) return;
    sg_copy_elem(d + doff + sg_offset_flat(flat, dne, dnb), dtype, s + soff + sg_offset_flat(flat, sne, snb), stype);
}

__kernel void fill_u32(__global char *d, ulong doff, long n, uint value) {
    long i = get_global_id(0);
    if (i < n) *SG_PTR(uint, d, doff + 4 * i) = value;
}
