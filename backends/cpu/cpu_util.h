/* Helpers shared by the fast CPU kernels: splitting work between threads, walking the rows of
 * strided tensors and loading elements of any storage type.
 *
 * A "row" is a run of ne[0] elements; row r of a tensor is the one at (i1..i5) with
 * r = i1 + ne1 * (i2 + ne2 * (...)). Kernels divide rows (or rows x column chunks) between
 * threads with sg_cpu_range: thread ith of nth owns [r0, r1).
 */
#ifndef SG_CPU_UTIL_H
#define SG_CPU_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/cpu_simd.h"
#include "backends/cpu/cpu_threadpool.h"
#include "core/tensor.h"

/* Cache-line alignment of per-thread scratch, so threads never share a line. */
#define SG_CPU_ALIGN 64

static inline size_t sg_cpu_align_up(size_t n) { return (n + SG_CPU_ALIGN - 1) & ~(size_t)(SG_CPU_ALIGN - 1); }

/* Thread ith's share [*i0, *i1) of n items, in contiguous blocks whose sizes differ by at most
 * one item. */
static inline void sg_cpu_range(int64_t n, int ith, int nth, int64_t *i0, int64_t *i1) {
    *i0 = n / nth * ith + (ith < n % nth ? ith : n % nth);
    *i1 = *i0 + n / nth + (ith < n % nth ? 1 : 0);
}

/* Waits for the other threads running this node (none when the node runs on one thread). */
static inline void sg_cpu_barrier(const struct sg_cpu_params *p) {
    if (p->nth > 1) sg_cpu_pool_barrier(p->pool);
}

/* Thread ith's per-thread scratch slot when every thread has `per_thread` bytes. */
static inline void *sg_cpu_thread_scratch(const struct sg_cpu_params *p, size_t per_thread) {
    return (char *)p->wdata + (size_t)p->ith * sg_cpu_align_up(per_thread);
}

/* Splits (i1..i5) of row r of a tensor shaped like `ne`. */
static inline void sg_cpu_row_index(const int64_t ne[SG_MAX_DIMS], int64_t r, int64_t idx[SG_MAX_DIMS]) {
    idx[0] = 0;
    for (int d = 1; d < SG_MAX_DIMS; d++) {
        idx[d] = r % ne[d];
        r /= ne[d];
    }
}

/* Byte offset of element (0, i1..i5) of t, where dims of t that are 1 broadcast (index 0). */
static inline size_t sg_cpu_bcast_offset(const struct sg_tensor *t, const int64_t idx[SG_MAX_DIMS]) {
    size_t off = 0;
    for (int d = 1; d < SG_MAX_DIMS; d++)
        if (t->ne[d] > 1) off += (size_t)idx[d] * t->nb[d];
    return off;
}

/* Address of row r of t (no broadcasting: t has ne[1..] of its own). */
static inline char *sg_cpu_row_ptr(const struct sg_tensor *t, int64_t r) {
    int64_t idx[SG_MAX_DIMS];
    sg_cpu_row_index(t->ne, r, idx);
    return (char *)t->data + sg_cpu_bcast_offset(t, idx);
}

static inline float sg_cpu_load(enum sg_type type, const char *p) {
    switch (type) {
    case SG_TYPE_F16: {
        uint16_t h;
        memcpy(&h, p, sizeof h);
        return sg_cpu_f16_to_f32(h);
    }
    case SG_TYPE_BF16: {
        uint16_t h;
        memcpy(&h, p, sizeof h);
        return sg_cpu_bf16_to_f32(h);
    }
    default: {
        float f;
        memcpy(&f, p, sizeof f);
        return f;
    }
    }
}

/* Rows x column chunks: enough units that nth threads stay busy when there are few rows, each
 * chunk a multiple of 16 elements (whole cache lines) and at most SG_CPU_CHUNK_MAX long. */
#define SG_CPU_CHUNK_MAX 16384

struct sg_cpu_chunks {
    int64_t nrows, ncols;
    int64_t ncc;   /* chunks per row */
    int64_t csize; /* elements per chunk (the last one may be shorter) */
};

static inline struct sg_cpu_chunks sg_cpu_chunks_make(int64_t nrows, int64_t ncols, int nth) {
    struct sg_cpu_chunks c = {.nrows = nrows, .ncols = ncols, .ncc = 1, .csize = ncols};
    int64_t want           = nrows < 4 * (int64_t)nth ? (4 * (int64_t)nth + nrows - 1) / nrows : 1;
    int64_t size           = (ncols + want - 1) / want;
    size                   = (size + 15) / 16 * 16;
    if (size > SG_CPU_CHUNK_MAX) size = SG_CPU_CHUNK_MAX;
    if (size < 1) size = 1;
    c.csize = size < ncols ? size : ncols;
    c.ncc   = c.csize > 0 ? (ncols + c.csize - 1) / c.csize : 1;
    return c;
}

/* Elementwise driver for ops with up to two F32 sources that broadcast (dims of 1) against dst.
 * It walks thread ith's rows x chunks and hands the row function contiguous F32 runs of n
 * elements: strided operands are gathered into scratch (and the result scattered back), and a
 * source broadcast along ne[0] is expanded. dst may alias a source with the same layout. */
struct sg_cpu_ew_run {
    float *y;
    const float *a, *b; /* b is NULL for unary ops */
    int64_t n;
};
typedef void (*sg_cpu_ew_row_fn)(const struct sg_tensor *dst, const struct sg_cpu_ew_run *run);

void sg_cpu_ew_compute(const struct sg_cpu_params *p, struct sg_tensor *dst, const struct sg_tensor *a,
                       const struct sg_tensor *b, sg_cpu_ew_row_fn fn);
size_t sg_cpu_ew_work_size(const struct sg_tensor *dst, int nth);

/* Converts n elements of type `type` starting at src (byte stride `stride`) to contiguous F32. */
void sg_cpu_load_row(enum sg_type type, const char *src, size_t stride, int64_t n, float *dst);

/* Copies n floats from src (byte stride `stride`) into dst (contiguous), or back. */
void sg_cpu_gather_f32(const char *src, size_t stride, int64_t n, float *dst);
void sg_cpu_scatter_f32(const float *src, int64_t n, char *dst, size_t stride);

/* Reads index i of an I32 tensor laid out along one dimension with byte stride `stride`. */
static inline int32_t sg_cpu_load_i32(const char *base, size_t stride, int64_t i) {
    int32_t v;
    memcpy(&v, base + (size_t)i * stride, sizeof v);
    return v;
}

#endif
