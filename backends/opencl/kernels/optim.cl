/* ADAM_STEP: in place on w, m and v. */

/* hp: enum sg_adam_param order; gn2: squared global gradient norm, or has_gn2 == 0. */
__kernel void adam_step(__global char *w, ulong woff, __global const char *g, ulong goff, __global char *m, ulong moff,
                        __global char *v, ulong voff, __global const char *hp, ulong hpoff, long hpnb,
                        __global const char *gn2, ulong gn2off, int has_gn2, long8 ne, long8 wnb, long8 gnb, long8 mnb,
                        long8 vnb) {
    SG_EW_BEGIN(ne);
    float lr = *SG_PTR(const float, hp, hpoff), beta1 = *SG_PTR(const float, hp, hpoff + hpnb);
    float beta2 = *SG_PTR(const float, hp, hpoff + 2 * hpnb), eps = *SG_PTR(const float, hp, hpoff + 3 * hpnb);
    float wd = *SG_PTR(const float, hp, hpoff + 4 * hpnb), beta1h = *SG_PTR(const float, hp, hpoff + 5 * hpnb);
    float beta2h = *SG_PTR(const float, hp, hpoff + 6 * hpnb), clip = *SG_PTR(const float, hp, hpoff + 7 * hpnb);
    float gscale = 1.0f;
    if (clip > 0.0f && has_gn2) gscale = fmin(1.0f, clip / sqrt(*SG_PTR(const float, gn2, gn2off)));

    __global float *pw = SG_PTR(float, w, woff + SG_EW_OFF(wnb));
    __global float *pm = SG_PTR(float, m, moff + SG_EW_OFF(mnb));
    __global float *pv = SG_PTR(float, v, voff + SG_EW_OFF(vnb));
    float gi           = gscale * *SG_PTR(const float, g, goff + SG_EW_OFF(gnb));
    float mi           = beta1 * *pm + (1.0f - beta1) * gi;
    float vi           = beta2 * *pv + (1.0f - beta2) * gi * gi;
    *pm                = mi;
    *pv                = vi;
    *pw                = *pw * (1.0f - lr * wd) - lr * (mi * beta1h) / (sqrt(vi * beta2h) + eps);
}
