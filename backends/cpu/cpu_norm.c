/* LAYER_NORM, LAYER_NORM_BACK and ADD_LAYER_NORM along ne[0] (biased variance, like PyTorch),
 * one row per step, rows divided between threads. Statistics are two-pass so rows with a large
 * mean keep their digits. */
#include <math.h>

#include "backends/cpu/cpu_ops.h"
#include "backends/cpu/cpu_util.h"

/* Per thread: x row, dy row, weight, bias and output row, each ne[0] floats. */
size_t sg_cpu_norm_work_size(const struct sg_tensor *node, int nth) {
    return (size_t)nth * sg_cpu_align_up(5 * (size_t)node->ne[0] * sizeof(float));
}

/* A row of t (strided or not) as contiguous floats, gathered into tmp when needed. */
static const float *sg_cpu_norm_row(const struct sg_tensor *t, int64_t r, float *tmp) {
    const char *row = sg_cpu_row_ptr(t, r);
    if (t->nb[0] == sizeof(float)) return (const float *)row;
    sg_cpu_gather_f32(row, t->nb[0], t->ne[0], tmp);
    return tmp;
}

/* An optional [C] vector as contiguous floats, or `dflt` repeated. */
static const float *sg_cpu_norm_vec(const struct sg_tensor *t, int64_t C, float dflt, float *tmp) {
    if (t) return sg_cpu_norm_row(t, 0, tmp);
    for (int64_t c = 0; c < C; c++) tmp[c] = dflt;
    return tmp;
}

/* 1/sqrt(var + eps) of a row given its mean (the variance from (x - mean)^2, second pass). */
SG_CPU_CLONES static float sg_cpu_norm_rstd(const float *x, int64_t C, float eps, float m) {
    float acc[SG_CPU_LANES] = {0};
    int64_t c               = 0;
    for (; c + SG_CPU_LANES <= C; c += SG_CPU_LANES)
        for (int l = 0; l < SG_CPU_LANES; l++) acc[l] += (x[c + l] - m) * (x[c + l] - m);
    float ss = 0.0f;
    for (; c < C; c++) ss += (x[c] - m) * (x[c] - m);
    for (int l = 0; l < SG_CPU_LANES; l++) ss += acc[l];
    return 1.0f / sqrtf(ss / (float)C + eps);
}

SG_CPU_CLONES static void sg_cpu_norm_stats(const float *x, int64_t C, float eps, float *mean, float *rstd) {
    *mean = sg_cpu_sum_f32(C, x) / (float)C;
    *rstd = sg_cpu_norm_rstd(x, C, eps, *mean);
}

SG_CPU_CLONES static void sg_cpu_norm_fwd_row(float *y, const float *x, const float *w, const float *b, int64_t C,
                                              float eps) {
    float mean, rstd;
    sg_cpu_norm_stats(x, C, eps, &mean, &rstd);
    for (int64_t c = 0; c < C; c++) y[c] = (x[c] - mean) * rstd * w[c] + b[c];
}

/* dx = rstd (g - mean(g) - xhat mean(g xhat)) with g = dy w, xhat = (x - mean) rstd. */
SG_CPU_CLONES static void sg_cpu_norm_back_row(float *dx, const float *x, const float *dy, const float *w, int64_t C,
                                               float eps) {
    float mean, rstd;
    sg_cpu_norm_stats(x, C, eps, &mean, &rstd);
    float ag[SG_CPU_LANES] = {0}, agx[SG_CPU_LANES] = {0};
    int64_t c = 0;
    for (; c + SG_CPU_LANES <= C; c += SG_CPU_LANES)
        for (int l = 0; l < SG_CPU_LANES; l++) {
            float g = dy[c + l] * w[c + l];
            ag[l] += g;
            agx[l] += g * (x[c + l] - mean) * rstd;
        }
    float sg = 0.0f, sgx = 0.0f;
    for (; c < C; c++) {
        float g = dy[c] * w[c];
        sg += g;
        sgx += g * (x[c] - mean) * rstd;
    }
    for (int l = 0; l < SG_CPU_LANES; l++) sg += ag[l], sgx += agx[l];
    float mg = sg / (float)C, mgx = sgx / (float)C;
    for (c = 0; c < C; c++) dx[c] = rstd * (dy[c] * w[c] - mg - (x[c] - mean) * rstd * mgx);
}

void sg_cpu_layer_norm_compute(const struct sg_cpu_params *p, struct sg_tensor *dst) {
    const struct sg_tensor *x = dst->src[0];
    int64_t C                 = x->ne[0];
    float *t                  = sg_cpu_thread_scratch(p, 5 * (size_t)C * sizeof(float));
    int64_t r0, r1;
    sg_cpu_range(sg_nrows(dst), p->ith, p->nth, &r0, &r1);
    if (r0 >= r1) return;
    const float *w = sg_cpu_norm_vec(dst->src[1], C, 1.0f, t + 2 * C);
    const float *b = sg_cpu_norm_vec(dst->src[2], C, 0.0f, t + 3 * C);
    float eps      = sg_get_param_f32(dst, 0);
    for (int64_t r = r0; r < r1; r++) {
        const float *xr = sg_cpu_norm_row(x, r, t);
        char *yp        = sg_cpu_row_ptr(dst, r);
        float *yr       = dst->nb[0] == sizeof(float) ? (float *)yp : t + 4 * C;
        sg_cpu_norm_fwd_row(yr, xr, w, b, C, eps);
        if (yr != (float *)yp) sg_cpu_scatter_f32(yr, C, yp, dst->nb[0]);
    }
}

void sg_cpu_layer_norm_back_compute(const struct sg_cpu_params *p, struct sg_tensor *dst) {
    const struct sg_tensor *x = dst->src[0], *dy = dst->src[1];
    int64_t C = x->ne[0];
    float *t  = sg_cpu_thread_scratch(p, 5 * (size_t)C * sizeof(float));
    int64_t r0, r1;
    sg_cpu_range(sg_nrows(dst), p->ith, p->nth, &r0, &r1);
    if (r0 >= r1) return;
    const float *w = sg_cpu_norm_vec(dst->src[2], C, 1.0f, t + 2 * C);
    float eps      = sg_get_param_f32(dst, 0);
    for (int64_t r = r0; r < r1; r++) {
        const float *xr  = sg_cpu_norm_row(x, r, t);
        const float *dyr = sg_cpu_norm_row(dy, r, t + C);
        char *yp         = sg_cpu_row_ptr(dst, r);
        float *yr        = dst->nb[0] == sizeof(float) ? (float *)yp : t + 4 * C;
        sg_cpu_norm_back_row(yr, xr, dyr, w, C, eps);
        if (yr != (float *)yp) sg_cpu_scatter_f32(yr, C, yp, dst->nb[0]);
    }
}

/* s = x + r written straight into the first half of dst while its sum accumulates (in the
 * lanes and order of sg_cpu_sum_f32, so the mean is LAYER_NORM's to the bit), then the variance
 * and y from the row of s, which is still in cache: x and r are read once. */
SG_CPU_CLONES static void sg_cpu_add_norm_row(float *s, float *y, const float *x, const float *r, const float *w,
                                              const float *b, int64_t C, float eps) {
    float acc[SG_CPU_LANES] = {0};
    int64_t c               = 0;
    for (; c + SG_CPU_LANES <= C; c += SG_CPU_LANES)
        for (int l = 0; l < SG_CPU_LANES; l++) {
            s[c + l] = x[c + l] + r[c + l];
            acc[l] += s[c + l];
        }
    float sum = 0.0f;
    for (; c < C; c++) {
        s[c] = x[c] + r[c];
        sum += s[c];
    }
    for (int l = 0; l < SG_CPU_LANES; l++) sum += acc[l];
    float mean = sum / (float)C, rstd = sg_cpu_norm_rstd(s, C, eps, mean);
    for (c = 0; c < C; c++) y[c] = (s[c] - mean) * rstd * w[c] + b[c];
}

void sg_cpu_add_layer_norm_compute(const struct sg_cpu_params *p, struct sg_tensor *dst) {
    const struct sg_tensor *x = dst->src[0], *r = dst->src[1];
    int64_t C = x->ne[0], n = sg_nelements(x);
    float *t = sg_cpu_thread_scratch(p, 5 * (size_t)C * sizeof(float));
    int64_t r0, r1;
    sg_cpu_range(sg_nrows(x), p->ith, p->nth, &r0, &r1);
    if (r0 >= r1) return;
    const float *w = sg_cpu_norm_vec(dst->src[2], C, 1.0f, t + 2 * C);
    const float *b = sg_cpu_norm_vec(dst->src[3], C, 0.0f, t + 3 * C);
    float eps      = sg_get_param_f32(dst, 0);
    float *out     = (float *)dst->data; /* contiguous: [s | y], rows in x's order */
    for (int64_t i = r0; i < r1; i++) {
        const float *xr = sg_cpu_norm_row(x, i, t);
        const float *rr = sg_cpu_norm_row(r, i, t + C);
        sg_cpu_add_norm_row(out + i * C, out + n + i * C, xr, rr, w, b, C, eps);
    }
}
