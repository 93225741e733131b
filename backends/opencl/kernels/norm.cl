/* LAYER_NORM, LAYER_NORM_BACK, ADD_LAYER_NORM and SOFTMAX along ne[0]: one work-group (a power of two in
 * size) per row; rows are dims 1..5 of the shape ne. Statistics are two-pass in f32. */

/* Element c of an optional vector (weight, bias), or dflt when absent. */
float sg_vec_or(__global const char *v, ulong off, long nb, int has, long c, float dflt) {
    return has ? *SG_PTR(const float, v, off + c * nb) : dflt;
}

/* Mean and 1/sqrt(var + eps) of a row (biased variance, like PyTorch). */
float2 sg_row_stats(__global const char *x, long xo, long xnb0, long C, float eps, __local float *scratch) {
    float s = 0.0f;
    for (long c = get_local_id(0); c < C; c += get_local_size(0)) s += *SG_PTR(const float, x, xo + c * xnb0);
    const float mean = sg_group_sum(s, scratch) / (float)C;
    float ss         = 0.0f;
    for (long c = get_local_id(0); c < C; c += get_local_size(0)) {
        float dlt = *SG_PTR(const float, x, xo + c * xnb0) - mean;
        ss += dlt * dlt;
    }
    const float var = sg_group_sum(ss, scratch) / (float)C;
    return (float2)(mean, 1.0f / sqrt(var + eps));
}

__kernel void layer_norm(__global char *y, ulong yoff, __global const char *x, ulong xoff, __global const char *w,
                         ulong woff, long wnb, int has_w, __global const char *bias, ulong boff, long bnb, int has_b,
                         long8 ne, long8 xnb, long8 ynb, float eps, __local float *scratch) {
    const long row = SG_GROUP(0);
    const long xo = xoff + sg_offset_row(row, ne, xnb), yo = yoff + sg_offset_row(row, ne, ynb);
    const float2 st = sg_row_stats(x, xo, xnb.s0, ne.s0, eps, scratch);
    for (long c = get_local_id(0); c < ne.s0; c += get_local_size(0)) {
        float xhat = (*SG_PTR(const float, x, xo + c * xnb.s0) - st.s0) * st.s1;
        *SG_PTR(float, y, yo + c * ynb.s0) =
            xhat * sg_vec_or(w, woff, wnb, has_w, c, 1.0f) + sg_vec_or(bias, boff, bnb, has_b, c, 0.0f);
    }
}

/* s = x + r into the first block of the packed output (y + row * C), its LayerNorm into the
 * second (y + (n + row * C)); each work-item reads back only the s it wrote itself. */
__kernel void add_layer_norm(__global char *y, ulong yoff, __global const char *x, ulong xoff, __global const char *r,
                             ulong roff, __global const char *w, ulong woff, long wnb, int has_w,
                             __global const char *bias, ulong boff, long bnb, int has_b, long8 ne, long8 xnb, long8 rnb,
                             long n, float eps, __local float *scratch) {
    const long row = SG_GROUP(0), C = ne.s0;
    const long xo = xoff + sg_offset_row(row, ne, xnb), ro = roff + sg_offset_row(row, ne, rnb);
    __global float *s  = SG_PTR(float, y, yoff) + row * C;
    __global float *yn = SG_PTR(float, y, yoff) + n + row * C;
    float sum          = 0.0f;
    for (long c = get_local_id(0); c < C; c += get_local_size(0)) {
        s[c] = *SG_PTR(const float, x, xo + c * xnb.s0) + *SG_PTR(const float, r, ro + c * rnb.s0);
        sum += s[c];
    }
    const float mean = sg_group_sum(sum, scratch) / (float)C;
    float ss         = 0.0f;
    for (long c = get_local_id(0); c < C; c += get_local_size(0)) ss += (s[c] - mean) * (s[c] - mean);
    const float rstd = 1.0f / sqrt(sg_group_sum(ss, scratch) / (float)C + eps);
    for (long c = get_local_id(0); c < C; c += get_local_size(0))
        yn[c] =
            (s[c] - mean) * rstd * sg_vec_or(w, woff, wnb, has_w, c, 1.0f) + sg_vec_or(bias, boff, bnb, has_b, c, 0.0f);
}

/* dx = rstd (g - mean(g) - xhat mean(g xhat)), g = dy * w. */
__kernel void layer_norm_back(__global char *dx, ulong dxoff, __global const char *x, ulong xoff,
                              __global const char *dy, ulong dyoff, __global const char *w, ulong woff, long wnb,
                              int has_w, long8 ne, long8 xnb, long8 dynb, long8 dxnb, float eps,
                              __local float *scratch) {
    const long row = SG_GROUP(0), C = ne.s0;
    const long xo = xoff + sg_offset_row(row, ne, xnb), dyo = dyoff + sg_offset_row(row, ne, dynb);
    const long dxo  = dxoff + sg_offset_row(row, ne, dxnb);
    const float2 st = sg_row_stats(x, xo, xnb.s0, C, eps, scratch);
    float sg = 0.0f, sgx = 0.0f;
    for (long c = get_local_id(0); c < C; c += get_local_size(0)) {
        float xhat = (*SG_PTR(const float, x, xo + c * xnb.s0) - st.s0) * st.s1;
        float g    = *SG_PTR(const float, dy, dyo + c * dynb.s0) * sg_vec_or(w, woff, wnb, has_w, c, 1.0f);
        sg += g;
        sgx += g * xhat;
    }
    const float mean_g  = sg_group_sum(sg, scratch) / (float)C;
    const float mean_gx = sg_group_sum(sgx, scratch) / (float)C;
    for (long c = get_local_id(0); c < C; c += get_local_size(0)) {
        float xhat = (*SG_PTR(const float, x, xo + c * xnb.s0) - st.s0) * st.s1;
        float g    = *SG_PTR(const float, dy, dyo + c * dynb.s0) * sg_vec_or(w, woff, wnb, has_w, c, 1.0f);
        *SG_PTR(float, dx, dxo + c * dxnb.s0) = st.s1 * (g - mean_g - xhat * mean_gx);
    }
}

/* Shifted by the row maximum so exp never overflows. In place is safe: each element is read
 * and written by the same work-item, after both reductions. */
__kernel void softmax(__global char *y, ulong yoff, __global const char *x, ulong xoff, long8 ne, long8 xnb, long8 ynb,
                      __local float *scratch) {
    const long row = SG_GROUP(0), C = ne.s0;
    const long xo = xoff + sg_offset_row(row, ne, xnb), yo = yoff + sg_offset_row(row, ne, ynb);
    float mx = -INFINITY;
    for (long c = get_local_id(0); c < C; c += get_local_size(0))
        mx = fmax(mx, *SG_PTR(const float, x, xo + c * xnb.s0));
    mx      = sg_group_max(mx, scratch);
    float s = 0.0f;
    for (long c = get_local_id(0); c < C; c += get_local_size(0))
        s += exp(*SG_PTR(const float, x, xo + c * xnb.s0) - mx);
    const float sum = sg_group_sum(s, scratch);
    for (long c = get_local_id(0); c < C; c += get_local_size(0))
        *SG_PTR(float, y, yo + c * ynb.s0) = exp(*SG_PTR(const float, x, xo + c * xnb.s0) - mx) / sum;
}
