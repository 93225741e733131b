/* Activation histograms in bounded memory. The range, the smallest to the largest non-zero
 * activation of a feature, is tracked exactly but known only at the end, so each feature keeps a
 * uniform sample of its activations (reservoir sampling, algorithm R): all of them while it has
 * fired at most histogram_samples times, which makes its histogram exact; beyond that, a uniform
 * random sample of that many, whose counts are scaled to the true number of firings. Binning
 * follows numpy.histogram(values, bins, range=(lo, hi)) step for step. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/extract_priv.h"

void sg_extract_hist_range(float min_act, float max_act, double *lo, double *hi) {
    *lo = min_act;
    *hi = max_act;
    if (*lo == *hi) { /* numpy widens an empty range by 0.5 on each side */
        *lo -= 0.5;
        *hi += 0.5;
    }
}

double sg_extract_hist_edge(double lo, double hi, int bins, int i) {
    if (i == bins) return hi;
    return (double)i * ((hi - lo) / bins) + lo;
}

static int bin_of(double v, double lo, double hi, int bins) {
    const double norm = bins / (hi - lo);
    int i             = (int)((v - lo) * norm);
    if (i >= bins) i = bins - 1;
    if (i < 0) i = 0;
    /* the multiply can land one bin off near an edge: settle it against the edges themselves */
    if (v < sg_extract_hist_edge(lo, hi, bins, i) && i > 0) i--;
    if (i < bins - 1 && v >= sg_extract_hist_edge(lo, hi, bins, i + 1)) i++;
    return i;
}

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z          = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z          = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

sg_status sg_extract_hist_add(struct sg_extract_acc *a, int32_t f, int64_t t, float v) {
    struct sg_reservoir *r = &a->res[f];
    const int32_t R        = a->o.histogram_samples;
    if (t < R) {
        if (r->n == r->cap) {
            int32_t cap = r->cap ? (r->cap > R / 2 ? R : 2 * r->cap) : (R < 16 ? R : 16);
            float *nv   = realloc(r->v, (size_t)cap * sizeof *nv);
            if (!nv) return sg_error(SG_ERR_NO_MEMORY, "out of memory for the histogram samples of feature %d", f);
            r->v   = nv;
            r->cap = cap;
        }
        r->v[r->n++] = v;
        return SG_OK;
    }
    /* the t-th value replaces a random one with probability R / (t + 1) */
    const uint64_t j = splitmix64(&a->rng) % (uint64_t)(t + 1);
    if (j < (uint64_t)R) r->v[j] = v;
    return SG_OK;
}

bool sg_extract_hist_sampled(const struct sg_extract_acc *a, int64_t f) {
    return a->n_active[f] > a->o.histogram_samples;
}

/* counts of a sample scaled to total, rounded so that they still add up to total */
static void scale_counts(int64_t *c, int bins, int64_t sample, int64_t total) {
    double rem[1024];
    int64_t given = 0;
    for (int i = 0; i < bins; i++) {
        double x = (double)c[i] * (double)total / (double)sample;
        c[i]     = (int64_t)floor(x);
        rem[i]   = x - (double)c[i];
        given += c[i];
    }
    for (; given < total; given++) { /* the largest remainders get the rest */
        int best = 0;
        for (int i = 1; i < bins; i++)
            if (rem[i] > rem[best]) best = i;
        c[best]++;
        rem[best] = -1;
    }
}

sg_status sg_extract_hist_finish(struct sg_extract_acc *a) {
    const int B    = a->o.histogram_bins;
    const size_t M = (size_t)a->o.d_sae;
    if (B > 1024) return sg_error(SG_ERR_INVALID_ARG, "histograms: at most 1024 bins");
    a->hist = calloc(M * (size_t)B, sizeof *a->hist);
    if (!a->hist) return sg_error(SG_ERR_NO_MEMORY, "out of memory for the histograms");
    for (size_t f = 0; f < M; f++) {
        if (a->n_active[f] == 0) continue;
        double lo, hi;
        sg_extract_hist_range(a->min_act[f], a->max_act[f], &lo, &hi);
        int64_t *c = a->hist + f * (size_t)B;
        for (int32_t i = 0; i < a->res[f].n; i++) c[bin_of(a->res[f].v[i], lo, hi, B)]++;
        if (sg_extract_hist_sampled(a, (int64_t)f)) scale_counts(c, B, a->res[f].n, a->n_active[f]);
        free(a->res[f].v);
        a->res[f] = (struct sg_reservoir){0};
    }
    return SG_OK;
}
