/* GET_ROWS, GATHER, SCATTER: lookups by I32 index. An index outside its table reads as zero
 * and writes nowhere. Threads own disjoint output rows. */
#include "backends/cpu/cpu_ops.h"
#include "backends/cpu/cpu_util.h"

/* Element r (flattened, dim 0 fastest) of an I32 tensor of any shape. */
static int32_t sg_cpu_index_at(const struct sg_tensor *ids, int64_t r) {
    size_t off = 0;
    for (int d = 0; d < SG_MAX_DIMS; d++) {
        off += (size_t)(r % ids->ne[d]) * ids->nb[d];
        r /= ids->ne[d];
    }
    int32_t v;
    memcpy(&v, (const char *)ids->data + off, sizeof v);
    return v;
}

/* w [D, N] (F32, F16, BF16), ids [T...] -> dst F32 [D, T...]: dst row r is w's row ids[r]. */
void sg_cpu_get_rows_compute(const struct sg_cpu_params *p, struct sg_tensor *dst) {
    const struct sg_tensor *w = dst->src[0], *ids = dst->src[1];
    int64_t D = w->ne[0], N = w->ne[1];
    struct sg_cpu_chunks ch = sg_cpu_chunks_make(sg_nrows(dst), D, p->nth);
    float tmp[256];
    int64_t u0, u1;
    sg_cpu_range(ch.nrows * ch.ncc, p->ith, p->nth, &u0, &u1);
    for (int64_t u = u0; u < u1; u++) {
        int64_t r = u / ch.ncc, c0 = (u % ch.ncc) * ch.csize;
        int64_t n  = c0 + ch.csize < D ? ch.csize : D - c0;
        int32_t id = sg_cpu_index_at(ids, r);
        char *out  = sg_cpu_row_ptr(dst, r) + (size_t)c0 * dst->nb[0];
        if (id < 0 || id >= N) {
            for (int64_t c = 0; c < n; c++) memset(out + (size_t)c * dst->nb[0], 0, sizeof(float));
            continue;
        }
        const char *src = (const char *)w->data + (size_t)id * w->nb[1] + (size_t)c0 * w->nb[0];
        if (dst->nb[0] == sizeof(float)) {
            sg_cpu_load_row(w->type, src, w->nb[0], n, (float *)out);
            continue;
        }
        for (int64_t c = 0; c < n; c += 256) {
            int64_t m = n - c < 256 ? n - c : 256;
            sg_cpu_load_row(w->type, src + (size_t)c * w->nb[0], w->nb[0], m, tmp);
            sg_cpu_scatter_f32(tmp, m, out + (size_t)c * dst->nb[0], dst->nb[0]);
        }
    }
}

/* out[j, r] = x[idx[j, r], r];  x [N, R...], idx [K, R...]. */
void sg_cpu_gather_compute(const struct sg_cpu_params *p, struct sg_tensor *dst) {
    const struct sg_tensor *x = dst->src[0], *idx = dst->src[1];
    int64_t N = x->ne[0], K = idx->ne[0];
    int64_t r0, r1;
    sg_cpu_range(sg_nrows(dst), p->ith, p->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const char *xr = sg_cpu_row_ptr(x, r), *ir = sg_cpu_row_ptr(idx, r);
        char *orow = sg_cpu_row_ptr(dst, r);
        for (int64_t j = 0; j < K; j++) {
            int32_t id = sg_cpu_load_i32(ir, idx->nb[0], j);
            float v    = id >= 0 && id < N ? *(const float *)(xr + (size_t)id * x->nb[0]) : 0.0f;
            memcpy(orow + (size_t)j * dst->nb[0], &v, sizeof v);
        }
    }
}

/* out = zeros [n, R...]; out[idx[j, r], r] += v[j, r], duplicates adding up in j order. */
void sg_cpu_scatter_compute(const struct sg_cpu_params *p, struct sg_tensor *dst) {
    const struct sg_tensor *v = dst->src[0], *idx = dst->src[1];
    int64_t n = dst->ne[0], K = idx->ne[0];
    int64_t r0, r1;
    sg_cpu_range(sg_nrows(dst), p->ith, p->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const char *vr = sg_cpu_row_ptr(v, r), *ir = sg_cpu_row_ptr(idx, r);
        char *orow = sg_cpu_row_ptr(dst, r);
        if (dst->nb[0] == sizeof(float)) {
            memset(orow, 0, (size_t)n * sizeof(float));
        } else {
            for (int64_t i = 0; i < n; i++) memset(orow + (size_t)i * dst->nb[0], 0, sizeof(float));
        }
        for (int64_t j = 0; j < K; j++) {
            int32_t id = sg_cpu_load_i32(ir, idx->nb[0], j);
            if (id < 0 || id >= n) continue;
            float *o = (float *)(orow + (size_t)id * dst->nb[0]);
            *o += *(const float *)(vr + (size_t)j * v->nb[0]);
        }
    }
}
