/* ADAM_STEP: one Adam/AdamW update, in place on w (through dst, a view of it), m and v; the
 * formula and hyper-parameter layout are in core/ops.h. Elements are divided between threads. */
#include <math.h>

#include "backends/cpu/cpu_ops.h"
#include "backends/cpu/cpu_util.h"

struct sg_cpu_adam {
    float lr, beta1, beta2, eps, wd, beta1h, beta2h, gscale;
};

SG_CPU_CLONES static void sg_cpu_adam_run(const struct sg_cpu_adam *h, float *w, const float *g, float *m, float *v,
                                          int64_t n) {
    float decay = 1.0f - h->lr * h->wd;
    for (int64_t i = 0; i < n; i++) {
        float gi = h->gscale * g[i];
        float mi = h->beta1 * m[i] + (1.0f - h->beta1) * gi;
        float vi = h->beta2 * v[i] + (1.0f - h->beta2) * gi * gi;
        m[i]     = mi;
        v[i]     = vi;
        w[i]     = w[i] * decay - h->lr * (mi * h->beta1h) / (sqrtf(vi * h->beta2h) + h->eps);
    }
}

/* Rows whose elements are not adjacent: the same update one element at a time. */
static void sg_cpu_adam_strided(const struct sg_cpu_adam *h, char *w, size_t sw, const char *g, size_t sg, char *m,
                                size_t sm, char *v, size_t sv, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float wi, gi, mi, vi;
        memcpy(&wi, w + (size_t)i * sw, sizeof wi);
        memcpy(&gi, g + (size_t)i * sg, sizeof gi);
        memcpy(&mi, m + (size_t)i * sm, sizeof mi);
        memcpy(&vi, v + (size_t)i * sv, sizeof vi);
        sg_cpu_adam_run(h, &wi, &gi, &mi, &vi, 1);
        memcpy(w + (size_t)i * sw, &wi, sizeof wi);
        memcpy(m + (size_t)i * sm, &mi, sizeof mi);
        memcpy(v + (size_t)i * sv, &vi, sizeof vi);
    }
}

static struct sg_cpu_adam sg_cpu_adam_params(const struct sg_tensor *dst) {
    const struct sg_tensor *hp = dst->src[4], *gn2 = dst->src[5];
    float hv[SG_ADAM_N_PARAMS];
    for (int i = 0; i < SG_ADAM_N_PARAMS; i++)
        memcpy(&hv[i], (const char *)hp->data + (size_t)i * hp->nb[0], sizeof(float));
    struct sg_cpu_adam h = {
        .lr     = hv[SG_ADAM_LR],
        .beta1  = hv[SG_ADAM_BETA1],
        .beta2  = hv[SG_ADAM_BETA2],
        .eps    = hv[SG_ADAM_EPS],
        .wd     = hv[SG_ADAM_WEIGHT_DECAY],
        .beta1h = hv[SG_ADAM_BETA1H],
        .beta2h = hv[SG_ADAM_BETA2H],
        .gscale = 1.0f,
    };
    /* global-norm clipping: the caller supplies the squared norm over all parameters */
    float clip = hv[SG_ADAM_CLIP];
    if (clip > 0.0f && gn2) {
        float s  = clip / sqrtf(*(const float *)gn2->data);
        h.gscale = s < 1.0f ? s : 1.0f;
    }
    return h;
}

void sg_cpu_adam_step_compute(const struct sg_cpu_params *p, struct sg_tensor *dst) {
    const struct sg_tensor *g = dst->src[1];
    struct sg_tensor *m = dst->src[2], *v = dst->src[3];
    struct sg_cpu_adam h = sg_cpu_adam_params(dst);

    bool flat = sg_is_contiguous(dst) && sg_is_contiguous(g) && sg_is_contiguous(m) && sg_is_contiguous(v);
    bool rows = dst->nb[0] == sizeof(float) && g->nb[0] == sizeof(float) && m->nb[0] == sizeof(float) &&
                v->nb[0] == sizeof(float);
    struct sg_cpu_chunks ch =
        flat ? sg_cpu_chunks_make(1, sg_nelements(g), p->nth) : sg_cpu_chunks_make(sg_nrows(g), g->ne[0], p->nth);
    int64_t u0, u1;
    sg_cpu_range(ch.nrows * ch.ncc, p->ith, p->nth, &u0, &u1);
    for (int64_t u = u0; u < u1; u++) {
        int64_t r = u / ch.ncc, c0 = (u % ch.ncc) * ch.csize;
        int64_t n = c0 + ch.csize < ch.ncols ? ch.csize : ch.ncols - c0;
        if (flat) {
            sg_cpu_adam_run(&h, (float *)dst->data + c0, (const float *)g->data + c0, (float *)m->data + c0,
                            (float *)v->data + c0, n);
            continue;
        }
        char *wr = sg_cpu_row_ptr(dst, r) + (size_t)c0 * dst->nb[0];
        char *gr = sg_cpu_row_ptr(g, r) + (size_t)c0 * g->nb[0];
        char *mr = sg_cpu_row_ptr(m, r) + (size_t)c0 * m->nb[0];
        char *vr = sg_cpu_row_ptr(v, r) + (size_t)c0 * v->nb[0];
        if (rows)
            sg_cpu_adam_run(&h, (float *)wr, (const float *)gr, (float *)mr, (float *)vr, n);
        else
            sg_cpu_adam_strided(&h, wr, dst->nb[0], gr, g->nb[0], mr, m->nb[0], vr, v->nb[0], n);
    }
}
