/* GET_ROWS, TOP_K, GATHER, SCATTER: lookups by I32 index. An index outside its table reads as
 * zero and writes nowhere. */
#include <math.h>
#include <stdlib.h>

#include "backends/cpu/ref/ref.h"

/* w [D, N] (F32, F16 or BF16), ids I32 [T0, T1, ...] -> dst F32 [D, T0, T1, ...]. */
void sg_ref_get_rows(struct sg_tensor *dst) {
    const struct sg_tensor *w   = dst->src[0];
    const struct sg_tensor *ids = dst->src[1];
    const int64_t D = w->ne[0], N = w->ne[1];
    if (sg_nelements(ids) == 0) return;

    int64_t it[SG_MAX_DIMS] = {0};
    do {
        const int32_t id       = ref_at_i32(ids, ref_offset(ids, it));
        int64_t i[SG_MAX_DIMS] = {0, it[0], it[1], it[2], it[3], it[4]};
        for (i[0] = 0; i[0] < D; i[0]++) {
            const float x = (id >= 0 && id < N) ? ref_at(w, (size_t)i[0] * w->nb[0] + (size_t)id * w->nb[1]) : 0.0f;
            ref_set(dst, i, x);
        }
    } while (ref_next(it, ids->ne));
}

/* Whether (a at index ia) ranks before (b at ib): larger first, NaN largest (as torch.topk),
 * equal values by lower index. */
static bool ref_ranks_before(float a, int64_t ia, float b, int64_t ib) {
    if (isnan(a) != isnan(b)) return isnan(a);
    if (!isnan(a) && a != b) return a > b;
    return ia < ib;
}

/* x [N, R...] -> dst I32 [k, R...]: indices of the k largest of each row, best first. Selection
 * by repeated scans: O(k N) per row, plainly correct. */
void sg_ref_top_k(struct sg_tensor *dst) {
    const struct sg_tensor *x = dst->src[0];
    const int64_t N           = x->ne[0];
    const int64_t K           = dst->ne[0];

    bool *taken = sg_ref_calloc((size_t)N, sizeof(bool));
    for (int64_t r = 0; r < sg_nrows(x); r++) {
        const size_t xrow = ref_row_offset(x, r);
        const size_t orow = ref_row_offset(dst, r);
        for (int64_t n = 0; n < N; n++) taken[n] = false;
        for (int64_t j = 0; j < K; j++) {
            int64_t best = -1;
            float best_x = 0.0f;
            for (int64_t n = 0; n < N; n++) {
                if (taken[n]) continue;
                const float xn = ref_at(x, xrow + (size_t)n * x->nb[0]);
                if (best < 0 || ref_ranks_before(xn, n, best_x, best)) {
                    best   = n;
                    best_x = xn;
                }
            }
            if (best >= 0) taken[best] = true;
            /* -1 only if k > N, which the constructor rejects */
            *(int32_t *)((char *)dst->data + orow + (size_t)j * dst->nb[0]) = (int32_t)best;
        }
    }
    free(taken);
}

/* out[j, r] = x[idx[j, r], r];  x [N, R...], idx I32 [K, R...] -> [K, R...]. */
void sg_ref_gather(struct sg_tensor *dst) {
    const struct sg_tensor *x   = dst->src[0];
    const struct sg_tensor *idx = dst->src[1];
    const int64_t N = x->ne[0], K = idx->ne[0];

    for (int64_t r = 0; r < sg_nrows(idx); r++) {
        const size_t xrow = ref_row_offset(x, r);
        const size_t irow = ref_row_offset(idx, r);
        const size_t orow = ref_row_offset(dst, r);
        for (int64_t j = 0; j < K; j++) {
            const int32_t id = ref_at_i32(idx, irow + (size_t)j * idx->nb[0]);
            const float val  = (id >= 0 && id < N) ? ref_at(x, xrow + (size_t)id * x->nb[0]) : 0.0f;
            ref_put(dst, orow + (size_t)j * dst->nb[0], val);
        }
    }
}

/* out = zeros [n, R...]; out[idx[j, r], r] += v[j, r];  v [K, R...], idx I32 [K, R...]. */
void sg_ref_scatter(struct sg_tensor *dst) {
    const struct sg_tensor *v   = dst->src[0];
    const struct sg_tensor *idx = dst->src[1];
    const int64_t n = dst->ne[0], K = idx->ne[0];

    double *acc = sg_ref_calloc((size_t)n, sizeof(double)); /* duplicate indices add up */
    for (int64_t r = 0; r < sg_nrows(dst); r++) {
        const size_t vrow = ref_row_offset(v, r);
        const size_t irow = ref_row_offset(idx, r);
        const size_t orow = ref_row_offset(dst, r);
        for (int64_t i = 0; i < n; i++) acc[i] = 0.0;
        for (int64_t j = 0; j < K; j++) {
            const int32_t id = ref_at_i32(idx, irow + (size_t)j * idx->nb[0]);
            if (id >= 0 && id < n) acc[id] += ref_at(v, vrow + (size_t)j * v->nb[0]);
        }
        for (int64_t i = 0; i < n; i++) ref_put(dst, orow + (size_t)i * dst->nb[0], (float)acc[i]);
    }
    free(acc);
}
