/* ADAM_STEP: one Adam/AdamW update, in place on w (through dst, a view of it), m and v.
 * Formula and hparams layout: core/ops.h (sg_adam_step, enum sg_adam_param). */
#include <math.h>

#include "backends/cpu/ref/ref.h"

void sg_ref_adam_step(struct sg_tensor *dst) {
    const struct sg_tensor *w   = dst->src[0];
    const struct sg_tensor *g   = dst->src[1];
    struct sg_tensor *m         = dst->src[2];
    struct sg_tensor *v         = dst->src[3];
    const struct sg_tensor *hp  = dst->src[4];
    const struct sg_tensor *gn2 = dst->src[5];

    double h[SG_ADAM_N_PARAMS];
    for (int p = 0; p < SG_ADAM_N_PARAMS; p++) h[p] = ref_at(hp, (size_t)p * hp->nb[0]);
    const double lr = h[SG_ADAM_LR], beta1 = h[SG_ADAM_BETA1], beta2 = h[SG_ADAM_BETA2];
    const double eps = h[SG_ADAM_EPS], wd = h[SG_ADAM_WEIGHT_DECAY];
    const double beta1h = h[SG_ADAM_BETA1H], beta2h = h[SG_ADAM_BETA2H], clip = h[SG_ADAM_CLIP];

    /* Global-norm clipping: the caller supplies the squared norm over all parameters. */
    double gscale = 1.0;
    if (clip > 0.0 && gn2) gscale = fmin(1.0, clip / sqrt((double)ref_at(gn2, 0)));
    if (sg_nelements(g) == 0) return;

    int64_t i[SG_MAX_DIMS] = {0};
    do {
        const double gi = gscale * ref_get(g, i);
        const double mi = beta1 * ref_get(m, i) + (1.0 - beta1) * gi;
        const double vi = beta2 * ref_get(v, i) + (1.0 - beta2) * gi * gi;
        const double wi = ref_get(w, i) * (1.0 - lr * wd) - lr * (mi * beta1h) / (sqrt(vi * beta2h) + eps);
        ref_set(m, i, (float)mi);
        ref_set(v, i, (float)vi);
        ref_set(dst, i, (float)wi);
    } while (ref_next(i, g->ne));
}
