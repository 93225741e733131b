/* CONT and CPY: copies between layouts, with conversion between F32, F16 and BF16.
 *
 * dst is walked in rows x chunks; the source elements with the same linear (row-major in ne
 * order) positions are read run by run, so shapes may differ as long as the element counts
 * match (CPY into a reshaped target). */
#include "backends/cpu/cpu_ops.h"
#include "backends/cpu/cpu_util.h"
#include "core/types.h"

size_t sg_cpu_copy_work_size(const struct sg_tensor *node, int nth) {
    if (node->src[0]->type == node->type) return 0;
    return (size_t)nth * sg_cpu_align_up(SG_CPU_CHUNK_MAX * sizeof(float));
}

SG_CPU_CLONES static void sg_cpu_store_bf16(const float *src, int64_t n, uint16_t *dst) {
    for (int64_t i = 0; i < n; i++) dst[i] = sg_cpu_f32_to_bf16(src[i]);
}

static void sg_cpu_store_f32(enum sg_type type, const float *src, int64_t n, char *dst, size_t stride) {
    if (type == SG_TYPE_F32) {
        sg_cpu_scatter_f32(src, n, dst, stride);
    } else if (type == SG_TYPE_BF16 && stride == sizeof(uint16_t)) {
        sg_cpu_store_bf16(src, n, (uint16_t *)dst);
    } else if (stride == sg_type_size(type)) {
        sg_convert_row(type, dst, SG_TYPE_F32, src, n);
    } else {
        for (int64_t i = 0; i < n; i++) {
            uint16_t h = type == SG_TYPE_F16 ? sg_f32_to_f16(src[i]) : sg_f32_to_bf16(src[i]);
            memcpy(dst + (size_t)i * stride, &h, sizeof h);
        }
    }
}

/* n elements from src (stride ss) to dst (stride ds); tmp holds n floats for conversions. */
static void sg_cpu_copy_run(const struct sg_tensor *dst, char *d, size_t ds, const struct sg_tensor *src, const char *s,
                            size_t ss, int64_t n, float *tmp) {
    size_t es = sg_type_size(src->type);
    if (src->type == dst->type) {
        if (ds == es && ss == es) {
            memmove(d, s, (size_t)n * es);
        } else if (es == 4) {
            for (int64_t i = 0; i < n; i++) *(uint32_t *)(d + (size_t)i * ds) = *(const uint32_t *)(s + (size_t)i * ss);
        } else {
            for (int64_t i = 0; i < n; i++) *(uint16_t *)(d + (size_t)i * ds) = *(const uint16_t *)(s + (size_t)i * ss);
        }
        return;
    }
    sg_cpu_load_row(src->type, s, ss, n, tmp);
    sg_cpu_store_f32(dst->type, tmp, n, d, ds);
}

/* Copies source elements [l, l + n) (linear positions in src's shape) to dst row pointer d. */
static void sg_cpu_copy_span(const struct sg_tensor *dst, char *d, const struct sg_tensor *src, int64_t l, int64_t n,
                             float *tmp) {
    int64_t j[SG_MAX_DIMS];
    for (int k = 0; k < SG_MAX_DIMS; k++) {
        j[k] = l % src->ne[k];
        l /= src->ne[k];
    }
    while (n > 0) {
        int64_t run = src->ne[0] - j[0] < n ? src->ne[0] - j[0] : n;
        size_t off  = 0;
        for (int k = 0; k < SG_MAX_DIMS; k++) off += (size_t)j[k] * src->nb[k];
        sg_cpu_copy_run(dst, d, dst->nb[0], src, (const char *)src->data + off, src->nb[0], run, tmp);
        d += (size_t)run * dst->nb[0];
        n -= run;
        j[0] += run;
        for (int k = 0; k + 1 < SG_MAX_DIMS && j[k] == src->ne[k]; k++) {
            j[k] = 0;
            j[k + 1]++;
        }
    }
}

/* A transposed source (adjacent elements along dim 1, not dim 0): copying whole rows would
 * touch one cache line per element, so dst is walked in SG_CPU_COPY_TILE x SG_CPU_COPY_TILE
 * tiles whose source lines stay in L1 while the tile's rows are written. */
#define SG_CPU_COPY_TILE 32

static void sg_cpu_copy_tiled(const struct sg_cpu_params *p, struct sg_tensor *dst, float *tmp) {
    const struct sg_tensor *src = dst->src[0];
    int64_t ne0                 = dst->ne[0];
    int64_t blocks              = (sg_nrows(dst) + SG_CPU_COPY_TILE - 1) / SG_CPU_COPY_TILE;
    int64_t u0, u1;
    sg_cpu_range(blocks, p->ith, p->nth, &u0, &u1);
    for (int64_t u = u0; u < u1; u++) {
        int64_t r0 = u * SG_CPU_COPY_TILE;
        int64_t r1 = r0 + SG_CPU_COPY_TILE < sg_nrows(dst) ? r0 + SG_CPU_COPY_TILE : sg_nrows(dst);
        for (int64_t c0 = 0; c0 < ne0; c0 += SG_CPU_COPY_TILE) {
            int64_t n = ne0 - c0 < SG_CPU_COPY_TILE ? ne0 - c0 : SG_CPU_COPY_TILE;
            for (int64_t r = r0; r < r1; r++)
                sg_cpu_copy_run(dst, sg_cpu_row_ptr(dst, r) + (size_t)c0 * dst->nb[0], dst->nb[0], src,
                                sg_cpu_row_ptr(src, r) + (size_t)c0 * src->nb[0], src->nb[0], n, tmp);
        }
    }
}

void sg_cpu_copy_compute(const struct sg_cpu_params *p, struct sg_tensor *dst) {
    const struct sg_tensor *src = dst->src[0];
    float *tmp                  = sg_cpu_thread_scratch(p, SG_CPU_CHUNK_MAX * sizeof(float));
    size_t ses                  = sg_type_size(src->type);
    if (sg_same_shape(src, dst) && src->nb[1] == ses && src->nb[0] != ses && dst->ne[0] > 1) {
        sg_cpu_copy_tiled(p, dst, tmp);
        return;
    }
    bool flat = sg_is_contiguous(src) && sg_is_contiguous(dst);
    struct sg_cpu_chunks ch =
        flat ? sg_cpu_chunks_make(1, sg_nelements(dst), p->nth) : sg_cpu_chunks_make(sg_nrows(dst), dst->ne[0], p->nth);
    int64_t u0, u1;
    sg_cpu_range(ch.nrows * ch.ncc, p->ith, p->nth, &u0, &u1);
    for (int64_t u = u0; u < u1; u++) {
        int64_t r  = u / ch.ncc;
        int64_t c0 = (u % ch.ncc) * ch.csize;
        int64_t n  = c0 + ch.csize < ch.ncols ? ch.csize : ch.ncols - c0;
        if (flat) {
            size_t ds = sg_type_size(dst->type), ss = sg_type_size(src->type);
            sg_cpu_copy_run(dst, (char *)dst->data + (size_t)c0 * ds, ds, src,
                            (const char *)src->data + (size_t)c0 * ss, ss, n, tmp);
        } else {
            char *d = sg_cpu_row_ptr(dst, r) + (size_t)c0 * dst->nb[0];
            sg_cpu_copy_span(dst, d, src, r * dst->ne[0] + c0, n, tmp);
        }
    }
}
