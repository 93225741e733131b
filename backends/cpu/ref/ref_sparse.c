/* EMBED_BAG, SPARSE_DOT, SCATTER_OUTER: the sparse-code ops of an SAE decoder and its gradients.
 * w [D, N] holds one row of D per latent; idx [K, B] selects K latents per column b (dims 1..
 * of idx are the columns, flattened). Out-of-range indices read as zero and write nowhere. */
#include <stdlib.h>

#include "backends/cpu/ref/ref.h"

static bool ref_in_range(int32_t id, int64_t n) { return id >= 0 && id < n; }

/* y[:, b] = sum_j v[j, b] * w[:, idx[j, b]];  -> [D, B]. */
void sg_ref_embed_bag(struct sg_tensor *dst) {
    const struct sg_tensor *w   = dst->src[0];
    const struct sg_tensor *idx = dst->src[1];
    const struct sg_tensor *v   = dst->src[2];
    const int64_t D = w->ne[0], N = w->ne[1], K = idx->ne[0];

    for (int64_t b = 0; b < sg_nrows(idx); b++) {
        const size_t irow = ref_row_offset(idx, b);
        const size_t vrow = ref_row_offset(v, b);
        const size_t yrow = ref_row_offset(dst, b);
        for (int64_t d = 0; d < D; d++) {
            double acc = 0.0;
            for (int64_t j = 0; j < K; j++) {
                const int32_t id = ref_at_i32(idx, irow + (size_t)j * idx->nb[0]);
                if (!ref_in_range(id, N)) continue;
                acc += (double)ref_at(v, vrow + (size_t)j * v->nb[0]) *
                       ref_at(w, (size_t)d * w->nb[0] + (size_t)id * w->nb[1]);
            }
            ref_put(dst, yrow + (size_t)d * dst->nb[0], (float)acc);
        }
    }
}

/* out[j, b] = w[:, idx[j, b]] . x[:, b];  x [D, B] -> [K, B]. */
void sg_ref_sparse_dot(struct sg_tensor *dst) {
    const struct sg_tensor *w   = dst->src[0];
    const struct sg_tensor *idx = dst->src[1];
    const struct sg_tensor *x   = dst->src[2];
    const int64_t D = w->ne[0], N = w->ne[1], K = idx->ne[0];

    for (int64_t b = 0; b < sg_nrows(idx); b++) {
        const size_t irow = ref_row_offset(idx, b);
        const size_t xrow = ref_row_offset(x, b);
        const size_t orow = ref_row_offset(dst, b);
        for (int64_t j = 0; j < K; j++) {
            const int32_t id = ref_at_i32(idx, irow + (size_t)j * idx->nb[0]);
            double acc       = 0.0;
            if (ref_in_range(id, N)) {
                for (int64_t d = 0; d < D; d++) {
                    acc += (double)ref_at(w, (size_t)d * w->nb[0] + (size_t)id * w->nb[1]) *
                           ref_at(x, xrow + (size_t)d * x->nb[0]);
                }
            }
            ref_put(dst, orow + (size_t)j * dst->nb[0], (float)acc);
        }
    }
}

/* out = zeros [D, n]; out[:, idx[j, b]] += c[j, b] * x[:, b];  c NULL means ones.
 * The (j, b) pairs are first bucketed by target row, so each output row is one double sum
 * (a row may collect contributions from the whole batch). */
void sg_ref_scatter_outer(struct sg_tensor *dst) {
    const struct sg_tensor *idx = dst->src[0];
    const struct sg_tensor *c   = dst->src[1];
    const struct sg_tensor *x   = dst->src[2];
    const int64_t D = x->ne[0], n = dst->ne[1], K = idx->ne[0], B = sg_nrows(idx);

    int64_t *start = sg_ref_calloc((size_t)n + 1, sizeof(int64_t));
    int64_t *pairs = sg_ref_calloc((size_t)(K * B), sizeof(int64_t)); /* b * K + j, by row */
    for (int64_t b = 0; b < B; b++) {
        for (int64_t j = 0; j < K; j++) {
            const int32_t id = ref_at_i32(idx, ref_row_offset(idx, b) + (size_t)j * idx->nb[0]);
            if (ref_in_range(id, n)) start[id + 1]++;
        }
    }
    for (int64_t r = 0; r < n; r++) start[r + 1] += start[r];
    int64_t *fill = sg_ref_calloc((size_t)n, sizeof(int64_t));
    for (int64_t b = 0; b < B; b++) {
        for (int64_t j = 0; j < K; j++) {
            const int32_t id = ref_at_i32(idx, ref_row_offset(idx, b) + (size_t)j * idx->nb[0]);
            if (ref_in_range(id, n)) pairs[start[id] + fill[id]++] = b * K + j;
        }
    }

    for (int64_t r = 0; r < n; r++) {
        for (int64_t d = 0; d < D; d++) {
            double acc = 0.0;
            for (int64_t e = start[r]; e < start[r + 1]; e++) {
                const int64_t b = pairs[e] / K, j = pairs[e] % K;
                const double cj = c ? ref_at(c, ref_row_offset(c, b) + (size_t)j * c->nb[0]) : 1.0;
                acc += cj * ref_at(x, ref_row_offset(x, b) + (size_t)d * x->nb[0]);
            }
            ref_put(dst, (size_t)d * dst->nb[0] + (size_t)r * dst->nb[1], (float)acc);
        }
    }
    free(start);
    free(pairs);
    free(fill);
}
