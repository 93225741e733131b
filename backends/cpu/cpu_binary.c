/* ADD, SUB, MUL, DIV with numpy-style broadcasting (rows walked by sg_cpu_ew_compute). */
#include "backends/cpu/cpu_ops.h"
#include "backends/cpu/cpu_util.h"

SG_CPU_CLONES static void sg_cpu_binary_row(const struct sg_tensor *dst, const struct sg_cpu_ew_run *r) {
    float *y       = r->y; /* may alias a (in place) */
    const float *a = r->a, *b = r->b;
    int64_t n = r->n;
    switch (dst->op) {
    case SG_OP_ADD:
        for (int64_t i = 0; i < n; i++) y[i] = a[i] + b[i];
        break;
    case SG_OP_SUB:
        for (int64_t i = 0; i < n; i++) y[i] = a[i] - b[i];
        break;
    case SG_OP_MUL:
        for (int64_t i = 0; i < n; i++) y[i] = a[i] * b[i];
        break;
    case SG_OP_DIV:
        for (int64_t i = 0; i < n; i++) y[i] = a[i] / b[i];
        break;
    default: break;
    }
}

void sg_cpu_binary_compute(const struct sg_cpu_params *p, struct sg_tensor *dst) {
    sg_cpu_ew_compute(p, dst, dst->src[0], dst->src[1], sg_cpu_binary_row);
}
