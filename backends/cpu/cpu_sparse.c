/* The SAE's sparse path: EMBED_BAG (decode from K active latents), SPARSE_DOT (its gradient
 * with respect to the codes) and SCATTER_OUTER (its gradient with respect to the decoder rows).
 * w [D, N] holds one row of D per latent; idx [K, B...] picks K latents per column b (dims 1..
 * flattened). Out-of-range indices read as zero and write nowhere.
 *
 * Every output element is written by exactly one thread and summed in a fixed order, with no
 * atomics: EMBED_BAG and SPARSE_DOT divide output columns (and chunks of them), SCATTER_OUTER
 * sorts its pairs by output row and divides the rows. */
#include "backends/cpu/cpu_ops.h"
#include "backends/cpu/cpu_util.h"

/* Per thread: one row slice of D floats (a strided operand gathered, or an accumulator). */
size_t sg_cpu_sparse_work_size(const struct sg_tensor *node, int nth) {
    int64_t D = node->op == SG_OP_SPARSE_DOT ? node->src[2]->ne[0] : node->ne[0];
    return (size_t)nth * sg_cpu_align_up(2 * (size_t)D * sizeof(float));
}

SG_CPU_CLONES static void sg_cpu_sparse_axpy(float *acc, float c, const char *row, size_t stride, int64_t n) {
    if (stride == sizeof(float)) {
        sg_cpu_axpy_f32(n, c, (const float *)row, acc);
    } else {
        for (int64_t i = 0; i < n; i++) acc[i] += c * *(const float *)(row + (size_t)i * stride);
    }
}

SG_CPU_CLONES static float sg_cpu_sparse_dot_row(const char *row, size_t stride, const float *x, int64_t n) {
    if (stride == sizeof(float)) return sg_cpu_dot_f32(n, (const float *)row, x);
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += *(const float *)(row + (size_t)i * stride) * x[i];
    return s;
}

/* y[:, b] = sum_j v[j, b] * w[:, idx[j, b]];  dst [D, B...]. */
void sg_cpu_embed_bag_compute(const struct sg_cpu_params *p, struct sg_tensor *dst) {
    const struct sg_tensor *w = dst->src[0], *idx = dst->src[1], *v = dst->src[2];
    int64_t D = w->ne[0], N = w->ne[1], K = idx->ne[0];
    float *acc              = sg_cpu_thread_scratch(p, 2 * (size_t)D * sizeof(float));
    struct sg_cpu_chunks ch = sg_cpu_chunks_make(sg_nrows(dst), D, p->nth);
    int64_t u0, u1;
    sg_cpu_range(ch.nrows * ch.ncc, p->ith, p->nth, &u0, &u1);
    for (int64_t u = u0; u < u1; u++) {
        int64_t b = u / ch.ncc, c0 = (u % ch.ncc) * ch.csize;
        int64_t n      = c0 + ch.csize < D ? ch.csize : D - c0;
        const char *ir = sg_cpu_row_ptr(idx, b), *vr = sg_cpu_row_ptr(v, b);
        memset(acc, 0, (size_t)n * sizeof(float));
        for (int64_t j = 0; j < K; j++) {
            int32_t id = sg_cpu_load_i32(ir, idx->nb[0], j);
            if (id < 0 || id >= N) continue;
            float c = *(const float *)(vr + (size_t)j * v->nb[0]);
            sg_cpu_sparse_axpy(acc, c, (const char *)w->data + (size_t)id * w->nb[1] + (size_t)c0 * w->nb[0], w->nb[0],
                               n);
        }
        sg_cpu_scatter_f32(acc, n, sg_cpu_row_ptr(dst, b) + (size_t)c0 * dst->nb[0], dst->nb[0]);
    }
}

/* out[j, b] = w[:, idx[j, b]] . x[:, b];  dst [K, B...]. Pairs (j, b) are divided flat. */
void sg_cpu_sparse_dot_compute(const struct sg_cpu_params *p, struct sg_tensor *dst) {
    const struct sg_tensor *w = dst->src[0], *idx = dst->src[1], *x = dst->src[2];
    int64_t D = w->ne[0], N = w->ne[1], K = idx->ne[0];
    float *xbuf = sg_cpu_thread_scratch(p, 2 * (size_t)D * sizeof(float));
    int64_t u0, u1, loaded = -1;
    const float *xr = NULL;
    sg_cpu_range(K * sg_nrows(dst), p->ith, p->nth, &u0, &u1);
    for (int64_t u = u0; u < u1; u++) {
        int64_t b = u / K, j = u % K;
        if (!xr || b != loaded) {
            const char *xp = sg_cpu_row_ptr(x, b);
            xr             = (const float *)xp;
            if (x->nb[0] != sizeof(float)) {
                sg_cpu_gather_f32(xp, x->nb[0], D, xbuf);
                xr = xbuf;
            }
            loaded = b;
        }
        int32_t id = sg_cpu_load_i32(sg_cpu_row_ptr(idx, b), idx->nb[0], j);
        float s    = id >= 0 && id < N
                         ? sg_cpu_sparse_dot_row((const char *)w->data + (size_t)id * w->nb[1], w->nb[0], xr, D)
                         : 0.0f;
        memcpy(sg_cpu_row_ptr(dst, b) + (size_t)j * dst->nb[0], &s, sizeof s);
    }
}

/* out = zeros [D, n]; out[:, idx[j, b]] += c[j, b] * x[:, b] (c NULL: ones). The (b, j) pairs
 * are first grouped by output row (a counting sort, stable, so each row still adds its pairs in
 * (b, j) order, as the reference); then threads own whole output rows and write each once, rather
 * than updating scattered rows K*B times. */
size_t sg_cpu_scatter_outer_work_size(const struct sg_tensor *node, int nth) {
    const int64_t n = node->ne[1], pairs = sg_nelements(node->src[0]);
    return sg_cpu_align_up((size_t)(n + 1) * sizeof(int64_t)) + sg_cpu_align_up((size_t)pairs * sizeof(int64_t)) +
           (size_t)nth * sg_cpu_align_up((size_t)node->src[2]->ne[0] * sizeof(float));
}

void sg_cpu_scatter_outer_compute(const struct sg_cpu_params *p, struct sg_tensor *dst) {
    const struct sg_tensor *idx = dst->src[0], *c = dst->src[1], *x = dst->src[2];
    const int64_t D = x->ne[0], n = dst->ne[1], K = idx->ne[0], B = sg_nrows(idx);
    int64_t *start = p->wdata; /* [n + 1]: each output row's first pair in `order` */
    int64_t *order = (int64_t *)((char *)p->wdata + sg_cpu_align_up((size_t)(n + 1) * sizeof *start));
    float *xbuf    = (float *)((char *)order + sg_cpu_align_up((size_t)(K * B) * sizeof *order)) +
                  (size_t)p->ith * sg_cpu_align_up((size_t)D * sizeof(float)) / sizeof(float);
    if (p->ith == 0) {
        memset(start, 0, (size_t)(n + 1) * sizeof *start);
        for (int64_t b = 0; b < B; b++) {
            const char *ir = sg_cpu_row_ptr(idx, b);
            for (int64_t j = 0; j < K; j++) {
                int32_t id = sg_cpu_load_i32(ir, idx->nb[0], j);
                if (id >= 0 && id < n) start[id + 1]++;
            }
        }
        for (int64_t r = 0; r < n; r++) start[r + 1] += start[r];
        for (int64_t b = 0; b < B; b++) {
            const char *ir = sg_cpu_row_ptr(idx, b);
            for (int64_t j = 0; j < K; j++) {
                int32_t id = sg_cpu_load_i32(ir, idx->nb[0], j);
                if (id >= 0 && id < n) order[start[id]++] = b * K + j;
            }
        }
        for (int64_t r = n; r > 0; r--) start[r] = start[r - 1]; /* the fill advanced each start */
        start[0] = 0;
    }
    sg_cpu_barrier(p);
    int64_t r0, r1;
    sg_cpu_range(n, p->ith, p->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        char *orow  = (char *)dst->data + (size_t)r * dst->nb[1];
        bool packed = dst->nb[0] == sizeof(float);
        if (packed) {
            memset(orow, 0, (size_t)D * sizeof(float));
        } else {
            for (int64_t d = 0; d < D; d++) memset(orow + (size_t)d * dst->nb[0], 0, sizeof(float));
        }
        for (int64_t e = start[r]; e < start[r + 1]; e++) {
            const int64_t b = order[e] / K, j = order[e] % K;
            const float cj  = c ? *(const float *)(sg_cpu_row_ptr(c, b) + (size_t)j * c->nb[0]) : 1.0f;
            const char *xp  = sg_cpu_row_ptr(x, b);
            const float *xr = (const float *)xp;
            if (x->nb[0] != sizeof(float)) {
                sg_cpu_gather_f32(xp, x->nb[0], D, xbuf);
                xr = xbuf;
            }
            if (packed) {
                sg_cpu_sparse_axpy((float *)orow, cj, (const char *)xr, sizeof(float), D);
            } else {
                for (int64_t d = 0; d < D; d++) *(float *)(orow + (size_t)d * dst->nb[0]) += cj * xr[d];
            }
        }
    }
}
