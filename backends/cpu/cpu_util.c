/* Shared helpers of the fast CPU kernels (see cpu_util.h). */
#include "backends/cpu/cpu_util.h"

/* Cloned functions stay static: clang (14, 15) names the dispatcher of an exported clone
 * "sg_cpu_load_row.ifunc", so other files would not link against it. */
SG_CPU_CLONES static void load_row(enum sg_type type, const char *src, size_t stride, int64_t n, float *dst) {
    switch (type) {
    case SG_TYPE_F32:
        if (stride == sizeof(float)) {
            memcpy(dst, src, (size_t)n * sizeof(float));
        } else {
            for (int64_t i = 0; i < n; i++) memcpy(&dst[i], src + (size_t)i * stride, sizeof(float));
        }
        break;
    case SG_TYPE_F16:
        if (stride == sizeof(uint16_t)) {
            const uint16_t *h = (const uint16_t *)src;
            for (int64_t i = 0; i < n; i++) dst[i] = sg_cpu_f16_to_f32(h[i]);
        } else {
            for (int64_t i = 0; i < n; i++) dst[i] = sg_cpu_load(type, src + (size_t)i * stride);
        }
        break;
    case SG_TYPE_BF16:
        if (stride == sizeof(uint16_t)) {
            const uint16_t *h = (const uint16_t *)src;
            for (int64_t i = 0; i < n; i++) dst[i] = sg_cpu_bf16_to_f32(h[i]);
        } else {
            for (int64_t i = 0; i < n; i++) dst[i] = sg_cpu_load(type, src + (size_t)i * stride);
        }
        break;
    default:
        /* I32 is never converted to float: callers copy it as raw elements */
        break;
    }
}

void sg_cpu_load_row(enum sg_type type, const char *src, size_t stride, int64_t n, float *dst) {
    load_row(type, src, stride, n, dst);
}

void sg_cpu_gather_f32(const char *src, size_t stride, int64_t n, float *dst) {
    sg_cpu_load_row(SG_TYPE_F32, src, stride, n, dst);
}

void sg_cpu_scatter_f32(const float *src, int64_t n, char *dst, size_t stride) {
    if (stride == sizeof(float)) {
        memmove(dst, src, (size_t)n * sizeof(float));
        return;
    }
    for (int64_t i = 0; i < n; i++) memcpy(dst + (size_t)i * stride, &src[i], sizeof(float));
}

/* ---- elementwise driver -------------------------------------------------------------------- */

static bool sg_cpu_ew_flat(const struct sg_tensor *dst, const struct sg_tensor *a, const struct sg_tensor *b) {
    return sg_is_contiguous(dst) && sg_is_contiguous(a) && sg_same_shape(dst, a) &&
           (!b || (sg_is_contiguous(b) && sg_same_shape(dst, b)));
}

size_t sg_cpu_ew_work_size(const struct sg_tensor *dst, int nth) {
    int64_t ne0 = dst->ne[0] < SG_CPU_CHUNK_MAX ? dst->ne[0] : SG_CPU_CHUNK_MAX;
    return (size_t)nth * sg_cpu_align_up(3 * (size_t)ne0 * sizeof(float));
}

/* A run of n elements of source t for dst row index idx, from column c0: in place when it is
 * contiguous, else gathered (or, when t broadcasts along ne[0], filled) into tmp. */
static const float *sg_cpu_ew_src(const struct sg_tensor *t, const int64_t idx[SG_MAX_DIMS], int64_t c0, int64_t n,
                                  float *tmp) {
    const char *row = (const char *)t->data + sg_cpu_bcast_offset(t, idx);
    if (t->ne[0] == 1) {
        if (n == 1) return (const float *)row;
        float v = *(const float *)row;
        for (int64_t i = 0; i < n; i++) tmp[i] = v;
        return tmp;
    }
    row += (size_t)c0 * t->nb[0];
    if (t->nb[0] == sizeof(float) || n == 1) return (const float *)row;
    sg_cpu_gather_f32(row, t->nb[0], n, tmp);
    return tmp;
}

void sg_cpu_ew_compute(const struct sg_cpu_params *p, struct sg_tensor *dst, const struct sg_tensor *a,
                       const struct sg_tensor *b, sg_cpu_ew_row_fn fn) {
    bool flat = sg_cpu_ew_flat(dst, a, b);
    struct sg_cpu_chunks ch =
        flat ? sg_cpu_chunks_make(1, sg_nelements(dst), p->nth) : sg_cpu_chunks_make(sg_nrows(dst), dst->ne[0], p->nth);
    int64_t u0, u1;
    sg_cpu_range(ch.nrows * ch.ncc, p->ith, p->nth, &u0, &u1);
    if (u0 >= u1) return;

    if (flat) {
        for (int64_t u = u0; u < u1; u++) {
            int64_t c0               = u * ch.csize;
            int64_t n                = c0 + ch.csize < ch.ncols ? ch.csize : ch.ncols - c0;
            struct sg_cpu_ew_run run = {.y = (float *)dst->data + c0,
                                        .a = (const float *)a->data + c0,
                                        .b = b ? (const float *)b->data + c0 : NULL,
                                        .n = n};
            fn(dst, &run);
        }
        return;
    }

    size_t per = 3 * (size_t)(dst->ne[0] < SG_CPU_CHUNK_MAX ? dst->ne[0] : SG_CPU_CHUNK_MAX) * sizeof(float);
    float *ta  = sg_cpu_thread_scratch(p, per);
    float *tb  = ta + ch.csize;
    float *ty  = tb + ch.csize;
    for (int64_t u = u0; u < u1; u++) {
        int64_t r  = u / ch.ncc;
        int64_t c0 = (u % ch.ncc) * ch.csize;
        int64_t n  = c0 + ch.csize < ch.ncols ? ch.csize : ch.ncols - c0;
        int64_t idx[SG_MAX_DIMS];
        sg_cpu_row_index(dst->ne, r, idx);

        struct sg_cpu_ew_run run = {.n = n};
        run.a                    = sg_cpu_ew_src(a, idx, c0, n, ta);
        if (b) run.b = sg_cpu_ew_src(b, idx, c0, n, tb);
        char *py = (char *)dst->data + sg_cpu_bcast_offset(dst, idx) + (size_t)c0 * dst->nb[0];
        run.y    = dst->nb[0] == sizeof(float) ? (float *)py : ty;
        fn(dst, &run);
        if (run.y == ty) sg_cpu_scatter_f32(ty, n, py, dst->nb[0]);
    }
}
