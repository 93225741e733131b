/* LAYER_NORM, LAYER_NORM_BACK and ADD_LAYER_NORM along ne[0] (biased variance, like PyTorch).
 * Row statistics are two-pass in double, so the oracle does not lose digits on rows with a
 * large mean. */
#include <math.h>
#include <stdlib.h>

#include "backends/cpu/ref/ref.h"

struct ref_row_stats {
    double mean;
    double rstd; /* 1 / sqrt(var + eps) */
};

static struct ref_row_stats ref_row_stats(const struct sg_tensor *x, size_t row, double eps) {
    const int64_t C = x->ne[0];
    double sum      = 0.0;
    for (int64_t c = 0; c < C; c++) sum += ref_at(x, row + (size_t)c * x->nb[0]);
    const double mean = sum / (double)C;
    double ss         = 0.0;
    for (int64_t c = 0; c < C; c++) {
        const double d = ref_at(x, row + (size_t)c * x->nb[0]) - mean;
        ss += d * d;
    }
    return (struct ref_row_stats){.mean = mean, .rstd = 1.0 / sqrt(ss / (double)C + eps)};
}

/* Element c of an optional [C] vector, or `dflt` when it is absent. */
static double ref_vec_or(const struct sg_tensor *t, int64_t c, double dflt) {
    return t ? ref_at(t, (size_t)c * t->nb[0]) : dflt;
}

void sg_ref_layer_norm(struct sg_tensor *dst) {
    const struct sg_tensor *x = dst->src[0];
    const struct sg_tensor *w = dst->src[1];
    const struct sg_tensor *b = dst->src[2];
    const double eps          = sg_get_param_f32(dst, 0);
    const int64_t C           = x->ne[0];
    if (C == 0) return;

    for (int64_t r = 0; r < sg_nrows(x); r++) {
        const size_t xrow             = ref_row_offset(x, r);
        const size_t yrow             = ref_row_offset(dst, r);
        const struct ref_row_stats st = ref_row_stats(x, xrow, eps);
        for (int64_t c = 0; c < C; c++) {
            const double xhat = (ref_at(x, xrow + (size_t)c * x->nb[0]) - st.mean) * st.rstd;
            ref_put(dst, yrow + (size_t)c * dst->nb[0], (float)(xhat * ref_vec_or(w, c, 1.0) + ref_vec_or(b, c, 0.0)));
        }
    }
}

/* With xhat = (x - mean) rstd and g = dy * w:
 *   dx = rstd (g - mean(g) - xhat mean(g xhat)). */
void sg_ref_layer_norm_back(struct sg_tensor *dst) {
    const struct sg_tensor *x  = dst->src[0];
    const struct sg_tensor *dy = dst->src[1];
    const struct sg_tensor *w  = dst->src[2];
    const double eps           = sg_get_param_f32(dst, 0);
    const int64_t C            = x->ne[0];
    if (C == 0) return;

    for (int64_t r = 0; r < sg_nrows(x); r++) {
        const size_t xrow             = ref_row_offset(x, r);
        const size_t dyrow            = ref_row_offset(dy, r);
        const size_t dxrow            = ref_row_offset(dst, r);
        const struct ref_row_stats st = ref_row_stats(x, xrow, eps);

        double sum_g = 0.0, sum_gx = 0.0;
        for (int64_t c = 0; c < C; c++) {
            const double xhat = (ref_at(x, xrow + (size_t)c * x->nb[0]) - st.mean) * st.rstd;
            const double g    = ref_at(dy, dyrow + (size_t)c * dy->nb[0]) * ref_vec_or(w, c, 1.0);
            sum_g += g;
            sum_gx += g * xhat;
        }
        const double mean_g  = sum_g / (double)C;
        const double mean_gx = sum_gx / (double)C;

        for (int64_t c = 0; c < C; c++) {
            const double xhat = (ref_at(x, xrow + (size_t)c * x->nb[0]) - st.mean) * st.rstd;
            const double g    = ref_at(dy, dyrow + (size_t)c * dy->nb[0]) * ref_vec_or(w, c, 1.0);
            ref_put(dst, dxrow + (size_t)c * dst->nb[0], (float)(st.rstd * (g - mean_g - xhat * mean_gx)));
        }
    }
}

/* ADD_LAYER_NORM: s = x + r rounded to f32 (as ADD would store it), then LAYER_NORM of s;
 * dst packs [s | y] as two blocks of x's element count, each in x's logical order. */
void sg_ref_add_layer_norm(struct sg_tensor *dst) {
    const struct sg_tensor *x = dst->src[0];
    const struct sg_tensor *r = dst->src[1];
    const struct sg_tensor *w = dst->src[2];
    const struct sg_tensor *b = dst->src[3];
    const double eps          = sg_get_param_f32(dst, 0);
    const int64_t C = x->ne[0], n = sg_nelements(x);
    if (C == 0) return;
    float *s = sg_ref_calloc((size_t)C, sizeof *s);
    for (int64_t row = 0; row < sg_nrows(x); row++) {
        const size_t xrow = ref_row_offset(x, row), rrow = ref_row_offset(r, row);
        double sum = 0.0;
        for (int64_t c = 0; c < C; c++) {
            s[c] = ref_at(x, xrow + (size_t)c * x->nb[0]) + ref_at(r, rrow + (size_t)c * r->nb[0]);
            sum += s[c];
        }
        const double mean = sum / (double)C;
        double ss         = 0.0;
        for (int64_t c = 0; c < C; c++) ss += ((double)s[c] - mean) * ((double)s[c] - mean);
        const double rstd = 1.0 / sqrt(ss / (double)C + eps);
        float *out        = (float *)dst->data + row * C;
        for (int64_t c = 0; c < C; c++) {
            out[c]     = s[c];
            out[n + c] = (float)(((double)s[c] - mean) * rstd * ref_vec_or(w, c, 1.0) + ref_vec_or(b, c, 0.0));
        }
    }
    free(s);
}
