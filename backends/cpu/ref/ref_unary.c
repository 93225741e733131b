/* Unary activations and their backward (ACT_BACK). Computed in double, rounded once to F32. */
#include <math.h>

#include "backends/cpu/ref/ref.h"

/* p: the node's first two f32 params (scale s, b; leaky slope; clamp min, max). */
typedef double (*ref_unary_fn)(double x, const float p[2]);

static void ref_unary(struct sg_tensor *dst, ref_unary_fn f) {
    const struct sg_tensor *a = dst->src[0];
    const float p[2]          = {sg_get_param_f32(dst, 0), sg_get_param_f32(dst, 1)};
    if (sg_nelements(dst) == 0) return;

    int64_t i[SG_MAX_DIMS] = {0};
    do {
        ref_set(dst, i, (float)f(ref_get(a, i), p));
    } while (ref_next(i, dst->ne));
}

/* Phi(x), the standard normal CDF, and phi(x), its density. */
static double ref_norm_cdf(double x) { return 0.5 * (1.0 + erf(x / sqrt(2.0))); }
static double ref_norm_pdf(double x) { return exp(-0.5 * x * x) / sqrt(2.0 * 3.14159265358979323846); }

static double ref_f_scale(double x, const float p[2]) { return (double)p[0] * x + (double)p[1]; }
static double ref_f_sqr(double x, const float p[2]) {
    (void)p;
    return x * x;
}
static double ref_f_sqrt(double x, const float p[2]) {
    (void)p;
    return sqrt(x);
}
/* NaN propagates (x < 0 is false), as in PyTorch. */
static double ref_f_relu(double x, const float p[2]) {
    (void)p;
    return x < 0.0 ? 0.0 : x;
}
static double ref_f_gelu(double x, const float p[2]) {
    (void)p;
    return x * ref_norm_cdf(x);
}
static double ref_f_leaky_relu(double x, const float p[2]) { return x > 0.0 ? x : (double)p[0] * x; }
static double ref_f_sigmoid(double x, const float p[2]) {
    (void)p;
    return 1.0 / (1.0 + exp(-x));
}
static double ref_f_tanh(double x, const float p[2]) {
    (void)p;
    return tanh(x);
}
static double ref_f_exp(double x, const float p[2]) {
    (void)p;
    return exp(x);
}
/* NaN > 0 is false: NaN steps to 0. */
static double ref_f_step(double x, const float p[2]) {
    (void)p;
    return x > 0.0 ? 1.0 : 0.0;
}
static double ref_f_clamp(double x, const float p[2]) {
    return x < (double)p[0] ? (double)p[0] : (x > (double)p[1] ? (double)p[1] : x);
}

void sg_ref_scale(struct sg_tensor *dst) { ref_unary(dst, ref_f_scale); }
void sg_ref_sqr(struct sg_tensor *dst) { ref_unary(dst, ref_f_sqr); }
void sg_ref_sqrt(struct sg_tensor *dst) { ref_unary(dst, ref_f_sqrt); }
void sg_ref_relu(struct sg_tensor *dst) { ref_unary(dst, ref_f_relu); }
void sg_ref_gelu(struct sg_tensor *dst) { ref_unary(dst, ref_f_gelu); }
void sg_ref_leaky_relu(struct sg_tensor *dst) { ref_unary(dst, ref_f_leaky_relu); }
void sg_ref_sigmoid(struct sg_tensor *dst) { ref_unary(dst, ref_f_sigmoid); }
void sg_ref_tanh(struct sg_tensor *dst) { ref_unary(dst, ref_f_tanh); }
void sg_ref_clamp(struct sg_tensor *dst) { ref_unary(dst, ref_f_clamp); }
void sg_ref_exp(struct sg_tensor *dst) { ref_unary(dst, ref_f_exp); }
void sg_ref_step(struct sg_tensor *dst) { ref_unary(dst, ref_f_step); }

/* f'(x) with PyTorch's values at the kinks: relu'(0) = 0, leaky_relu'(0) = slope, and clamp
 * passes the gradient on the closed interval [lo, hi]. */
static double ref_act_grad(enum sg_act act, double x, double alpha, double lo, double hi) {
    switch (act) {
    case SG_ACT_RELU: return x > 0.0 ? 1.0 : 0.0;
    case SG_ACT_LEAKY_RELU: return x > 0.0 ? 1.0 : alpha;
    case SG_ACT_GELU: return ref_norm_cdf(x) + x * ref_norm_pdf(x);
    case SG_ACT_CLAMP: return (x >= lo && x <= hi) ? 1.0 : 0.0;
    }
    return 0.0;
}

void sg_ref_act_back(struct sg_tensor *dst) {
    const struct sg_tensor *x  = dst->src[0];
    const struct sg_tensor *dy = dst->src[1];
    const enum sg_act act      = (enum sg_act)sg_get_param_i32(dst, 0);
    const double alpha         = sg_get_param_f32(dst, 1);
    const double lo            = sg_get_param_f32(dst, 2);
    const double hi            = sg_get_param_f32(dst, 3);
    if (sg_nelements(dst) == 0) return;

    int64_t i[SG_MAX_DIMS] = {0};
    do {
        const double g = ref_act_grad(act, ref_at(x, ref_bcast_offset(x, i)), alpha, lo, hi);
        ref_set(dst, i, (float)(ref_at(dy, ref_bcast_offset(dy, i)) * g));
    } while (ref_next(i, dst->ne));
}
