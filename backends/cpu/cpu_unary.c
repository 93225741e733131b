/* Unary F32 ops (SCALE .. CLAMP) and ACT_BACK, rows walked by sg_cpu_ew_compute. Sources have
 * dst's shape. */
#include <math.h>

#include "backends/cpu/cpu_ops.h"
#include "backends/cpu/cpu_util.h"
#include "core/ops.h"

#define SG_CPU_SQRT1_2      0.70710678118654752f
#define SG_CPU_INV_SQRT_2PI 0.39894228040143268f

/* Each op is its own loop; y may alias x (in place), so no restrict. */
SG_CPU_CLONES static void sg_cpu_unary_row(const struct sg_tensor *dst, const struct sg_cpu_ew_run *r) {
    float *y       = r->y;
    const float *x = r->a;
    int64_t n      = r->n;
    switch (dst->op) {
    case SG_OP_SCALE: {
        float s = sg_get_param_f32(dst, 0), b = sg_get_param_f32(dst, 1);
        for (int64_t i = 0; i < n; i++) y[i] = s * x[i] + b;
        break;
    }
    case SG_OP_SQR:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * x[i];
        break;
    case SG_OP_SQRT:
        for (int64_t i = 0; i < n; i++) y[i] = sqrtf(x[i]);
        break;
    case SG_OP_RELU:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i];
        break;
    case SG_OP_GELU:
        for (int64_t i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * SG_CPU_SQRT1_2));
        break;
    case SG_OP_LEAKY_RELU: {
        float slope = sg_get_param_f32(dst, 0);
        for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : slope * x[i];
        break;
    }
    case SG_OP_SIGMOID:
        for (int64_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + sg_cpu_expf(-x[i]));
        break;
    case SG_OP_TANH:
        for (int64_t i = 0; i < n; i++) y[i] = tanhf(x[i]);
        break;
    case SG_OP_EXP:
        for (int64_t i = 0; i < n; i++) y[i] = expf(x[i]);
        break;
    case SG_OP_STEP:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? 1.0f : 0.0f;
        break;
    case SG_OP_CLAMP: {
        float lo = sg_get_param_f32(dst, 0), hi = sg_get_param_f32(dst, 1);
        for (int64_t i = 0; i < n; i++) y[i] = x[i] < lo ? lo : (x[i] > hi ? hi : x[i]);
        break;
    }
    default: break;
    }
}

/* dy * f'(x); at the kinks PyTorch's choices: relu'(0) = 0, leaky'(0) = slope, clamp passes dy
 * on the closed interval [lo, hi]. */
SG_CPU_CLONES static void sg_cpu_act_back_row(const struct sg_tensor *dst, const struct sg_cpu_ew_run *r) {
    float *y        = r->y;
    const float *x  = r->a;
    const float *dy = r->b;
    int64_t n       = r->n;
    float alpha = sg_get_param_f32(dst, 1), lo = sg_get_param_f32(dst, 2), hi = sg_get_param_f32(dst, 3);
    switch (sg_get_param_i32(dst, 0)) {
    case SG_ACT_RELU:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? dy[i] : 0.0f;
        break;
    case SG_ACT_LEAKY_RELU:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? dy[i] : alpha * dy[i];
        break;
    case SG_ACT_GELU:
        for (int64_t i = 0; i < n; i++) {
            float cdf = 0.5f * (1.0f + erff(x[i] * SG_CPU_SQRT1_2));
            float pdf = SG_CPU_INV_SQRT_2PI * sg_cpu_expf(-0.5f * x[i] * x[i]);
            y[i]      = dy[i] * (cdf + x[i] * pdf);
        }
        break;
    case SG_ACT_CLAMP:
        for (int64_t i = 0; i < n; i++) y[i] = ((x[i] >= lo) & (x[i] <= hi)) ? dy[i] : 0.0f;
        break;
    default: break;
    }
}

void sg_cpu_unary_compute(const struct sg_cpu_params *p, struct sg_tensor *dst) {
    sg_cpu_ew_compute(p, dst, dst->src[0], NULL, sg_cpu_unary_row);
}

void sg_cpu_act_back_compute(const struct sg_cpu_params *p, struct sg_tensor *dst) {
    sg_cpu_ew_compute(p, dst, dst->src[0], dst->src[1], sg_cpu_act_back_row);
}
