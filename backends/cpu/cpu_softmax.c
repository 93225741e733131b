/* SOFTMAX along ne[0], shifted by the row maximum; rows divided between threads. dst may be
 * src itself (in place): each row is read in full before it is written. */
#include "backends/cpu/cpu_ops.h"
#include "backends/cpu/cpu_util.h"

size_t sg_cpu_softmax_work_size(const struct sg_tensor *node, int nth) {
    return (size_t)nth * sg_cpu_align_up(2 * (size_t)node->ne[0] * sizeof(float));
}

SG_CPU_CLONES static void sg_cpu_softmax_row(float *y, const float *x, int64_t n) {
    float max = sg_cpu_max_f32(n, x);
    for (int64_t i = 0; i < n; i++) y[i] = sg_cpu_expf(x[i] - max);
    float inv = 1.0f / sg_cpu_sum_f32(n, y);
    for (int64_t i = 0; i < n; i++) y[i] *= inv;
}

void sg_cpu_softmax_compute(const struct sg_cpu_params *p, struct sg_tensor *dst) {
    const struct sg_tensor *x = dst->src[0];
    int64_t C                 = x->ne[0];
    float *t                  = sg_cpu_thread_scratch(p, 2 * (size_t)C * sizeof(float));
    int64_t r0, r1;
    sg_cpu_range(sg_nrows(dst), p->ith, p->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const char *xp  = sg_cpu_row_ptr(x, r);
        const float *xr = (const float *)xp;
        if (x->nb[0] != sizeof(float)) {
            sg_cpu_gather_f32(xp, x->nb[0], C, t);
            xr = t;
        }
        char *yp  = sg_cpu_row_ptr(dst, r);
        float *yr = dst->nb[0] == sizeof(float) ? (float *)yp : t + C;
        sg_cpu_softmax_row(yr, xr, C);
        if (yr != (float *)yp) sg_cpu_scatter_f32(yr, C, yp, dst->nb[0]);
    }
}
