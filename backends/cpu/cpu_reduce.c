/* SUM_TO: sums src over the dims where dst has 1; REPEAT: broadcasts src to dst's shape.
 *
 * Output rows (and column chunks of them) are divided between threads; when everything is
 * summed along ne[0] into fewer rows than threads (a full sum), the source rows are divided
 * instead and thread 0 adds the per-thread partial sums in thread order, so results do not
 * depend on timing. */
#include "backends/cpu/cpu_ops.h"
#include "backends/cpu/cpu_util.h"

/* Which source rows feed an output row: the dims >= 1 that dst collapses. */
struct sg_cpu_sum_plan {
    int nred; /* number of collapsed dims */
    int dims[SG_MAX_DIMS];
    int64_t count; /* source rows per output row */
    bool along0;   /* dst->ne[0] == 1 < src->ne[0]: rows are summed to scalars */
};

static struct sg_cpu_sum_plan sg_cpu_sum_plan_make(const struct sg_tensor *dst) {
    const struct sg_tensor *src = dst->src[0];
    struct sg_cpu_sum_plan pl   = {.count = 1, .along0 = dst->ne[0] == 1 && src->ne[0] > 1};
    for (int d = 1; d < SG_MAX_DIMS; d++)
        if (dst->ne[d] == 1 && src->ne[d] > 1) {
            pl.dims[pl.nred++] = d;
            pl.count *= src->ne[d];
        }
    return pl;
}

/* Address of the k-th source row feeding the output row at index o (o[d] = 0 on collapsed dims). */
static const char *sg_cpu_sum_src_row(const struct sg_tensor *src, const struct sg_cpu_sum_plan *pl,
                                      const int64_t o[SG_MAX_DIMS], int64_t k) {
    size_t off = 0;
    for (int d = 1; d < SG_MAX_DIMS; d++) off += (size_t)o[d] * src->nb[d];
    for (int i = 0; i < pl->nred; i++) {
        int d = pl->dims[i];
        off += (size_t)(k % src->ne[d]) * src->nb[d];
        k /= src->ne[d];
    }
    return (const char *)src->data + off;
}

SG_CPU_CLONES static float sg_cpu_sum_row(const char *row, size_t stride, int64_t n) {
    if (stride == sizeof(float)) return sg_cpu_sum_f32(n, (const float *)row);
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += *(const float *)(row + (size_t)i * stride);
    return s;
}

SG_CPU_CLONES static void sg_cpu_sum_accum(float *acc, const char *row, size_t stride, int64_t n) {
    if (stride == sizeof(float)) {
        const float *x = (const float *)row;
        for (int64_t i = 0; i < n; i++) acc[i] += x[i];
    } else {
        for (int64_t i = 0; i < n; i++) acc[i] += *(const float *)(row + (size_t)i * stride);
    }
}

size_t sg_cpu_sum_to_work_size(const struct sg_tensor *node, int nth) {
    size_t chunk    = (size_t)nth * sg_cpu_align_up(SG_CPU_CHUNK_MAX * sizeof(float));
    size_t partials = sg_cpu_align_up((size_t)nth * (size_t)sg_nrows(node) * sizeof(double));
    return chunk > partials ? chunk : partials;
}

/* Full sums along ne[0] into few outputs: thread ith sums its slice of each output's rows. */
static void sg_cpu_sum_to_split_sources(const struct sg_cpu_params *p, struct sg_tensor *dst,
                                        const struct sg_cpu_sum_plan *pl) {
    const struct sg_tensor *src = dst->src[0];
    int64_t rows_out            = sg_nrows(dst);
    double *part                = p->wdata;
    int64_t k0, k1;
    sg_cpu_range(pl->count, p->ith, p->nth, &k0, &k1);
    for (int64_t r = 0; r < rows_out; r++) {
        int64_t o[SG_MAX_DIMS];
        sg_cpu_row_index(dst->ne, r, o);
        double s = 0.0;
        for (int64_t k = k0; k < k1; k++)
            s += sg_cpu_sum_row(sg_cpu_sum_src_row(src, pl, o, k), src->nb[0], src->ne[0]);
        part[(size_t)r * p->nth + p->ith] = s;
    }
    sg_cpu_barrier(p);
    if (p->ith != 0) return;
    for (int64_t r = 0; r < rows_out; r++) {
        double s = 0.0;
        for (int t = 0; t < p->nth; t++) s += part[(size_t)r * p->nth + t];
        *(float *)sg_cpu_row_ptr(dst, r) = (float)s;
    }
}

void sg_cpu_sum_to_compute(const struct sg_cpu_params *p, struct sg_tensor *dst) {
    const struct sg_tensor *src = dst->src[0];
    struct sg_cpu_sum_plan pl   = sg_cpu_sum_plan_make(dst);
    int64_t rows_out            = sg_nrows(dst);

    if (pl.along0 && rows_out < p->nth) {
        sg_cpu_sum_to_split_sources(p, dst, &pl);
        return;
    }
    if (pl.along0) {
        int64_t r0, r1;
        sg_cpu_range(rows_out, p->ith, p->nth, &r0, &r1);
        for (int64_t r = r0; r < r1; r++) {
            int64_t o[SG_MAX_DIMS];
            sg_cpu_row_index(dst->ne, r, o);
            double s = 0.0;
            for (int64_t k = 0; k < pl.count; k++)
                s += sg_cpu_sum_row(sg_cpu_sum_src_row(src, &pl, o, k), src->nb[0], src->ne[0]);
            *(float *)sg_cpu_row_ptr(dst, r) = (float)s;
        }
        return;
    }

    /* dst keeps ne[0]: accumulate source rows into a chunk of the output row */
    float *acc              = sg_cpu_thread_scratch(p, SG_CPU_CHUNK_MAX * sizeof(float));
    struct sg_cpu_chunks ch = sg_cpu_chunks_make(rows_out, dst->ne[0], p->nth);
    int64_t u0, u1;
    sg_cpu_range(ch.nrows * ch.ncc, p->ith, p->nth, &u0, &u1);
    for (int64_t u = u0; u < u1; u++) {
        int64_t r  = u / ch.ncc;
        int64_t c0 = (u % ch.ncc) * ch.csize;
        int64_t n  = c0 + ch.csize < ch.ncols ? ch.csize : ch.ncols - c0;
        int64_t o[SG_MAX_DIMS];
        sg_cpu_row_index(dst->ne, r, o);
        memset(acc, 0, (size_t)n * sizeof(float));
        for (int64_t k = 0; k < pl.count; k++)
            sg_cpu_sum_accum(acc, sg_cpu_sum_src_row(src, &pl, o, k) + (size_t)c0 * src->nb[0], src->nb[0], n);
        sg_cpu_scatter_f32(acc, n, sg_cpu_row_ptr(dst, r) + (size_t)c0 * dst->nb[0], dst->nb[0]);
    }
}

static void sg_cpu_repeat_row(const struct sg_tensor *dst, const struct sg_cpu_ew_run *r) {
    (void)dst;
    memcpy(r->y, r->a, (size_t)r->n * sizeof(float));
}

void sg_cpu_repeat_compute(const struct sg_cpu_params *p, struct sg_tensor *dst) {
    sg_cpu_ew_compute(p, dst, dst->src[0], NULL, sg_cpu_repeat_row);
}
