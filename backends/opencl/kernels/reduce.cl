/* SUM_TO: sums the source over the dims the destination keeps as 1. The host splits the
 * (collapsed) source dims into kept dims (kne, with source strides ksnb and destination
 * strides kdnb) and reduced dims (rne, source strides rsnb). Sums are compensated (Kahan) and
 * run in a fixed order, so results are deterministic. */

/* Adds every reduced element at byte offset base + ... of x, starting at reduced index r0 of
 * dim 0 and stepping by `step` along it. */
float sg_sum_reduced(__global const char *x, long base, long8 rne, long8 rsnb, long r0, long step) {
    float sum = 0.0f, comp = 0.0f;
    for (long i5 = 0; i5 < rne.s5; i5++)
        for (long i4 = 0; i4 < rne.s4; i4++)
            for (long i3 = 0; i3 < rne.s3; i3++)
                for (long i2 = 0; i2 < rne.s2; i2++)
                    for (long i1 = 0; i1 < rne.s1; i1++) {
                        long o = base + i1 * rsnb.s1 + i2 * rsnb.s2 + i3 * rsnb.s3 + i4 * rsnb.s4 + i5 * rsnb.s5;
                        for (long i0 = r0; i0 < rne.s0; i0 += step) {
                            float y = *SG_PTR(const float, x, o + i0 * rsnb.s0) - comp;
                            float t = sum + y;
                            comp    = (t - sum) - y;
                            sum     = t;
                        }
                    }
    return sum;
}

/* One work-item per output element. */
__kernel void sum_to_item(__global char *d, ulong doff, __global const char *x, ulong xoff, long8 kne, long8 kdnb,
                          long8 ksnb, long8 rne, long8 rsnb, long n_out) {
    long o = get_global_id(0);
    if (o >= n_out) return;
    float s = sg_sum_reduced(x, xoff + sg_offset_flat(o, kne, ksnb), rne, rsnb, 0, 1);
    *SG_PTR(float, d, doff + sg_offset_flat(o, kne, kdnb)) = s;
}

/* One work-group per output element (few outputs, long sums); scratch holds a float per item. */
__kernel void sum_to_group(__global char *d, ulong doff, __global const char *x, ulong xoff, long8 kne, long8 kdnb,
                           long8 ksnb, long8 rne, long8 rsnb, __local float *scratch) {
    long o  = SG_GROUP(0);
    float s = sg_sum_reduced(x, xoff + sg_offset_flat(o, kne, ksnb), rne, rsnb, get_local_id(0), get_local_size(0));
    s       = sg_group_sum(s, scratch);
    if (get_local_id(0) == 0) *SG_PTR(float, d, doff + sg_offset_flat(o, kne, kdnb)) = s;
}
