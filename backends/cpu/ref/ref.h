/* Shared helpers of the CPU reference kernels (the test oracle; see cpu_kernels.h).
 *
 * Reference kernels never assume a layout: every element is reached through ne[]/nb[], read
 * as a float whatever its storage type, and written the same way. They are slow on purpose.
 *
 *     int64_t i[SG_MAX_DIMS] = {0};
 *     if (sg_nelements(dst) > 0) do {
 *         ref_set(dst, i, 2.0f * ref_get(dst->src[0], i));
 *     } while (ref_next(i, dst->ne));
 */
#ifndef SG_CPU_REF_H
#define SG_CPU_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/cpu/cpu_kernels.h"
#include "core/ops.h"
#include "core/tensor.h"
#include "core/types.h"

/* ---- indices ---------------------------------------------------------------------------- */

/* Advances a 6-D index over ne, dim 0 fastest; returns false after the last element. */
static inline bool ref_next(int64_t i[SG_MAX_DIMS], const int64_t ne[SG_MAX_DIMS]) {
    for (int d = 0; d < SG_MAX_DIMS; d++) {
        if (++i[d] < ne[d]) return true;
        i[d] = 0;
    }
    return false;
}

/* The 6-D index of element `flat` of a tensor of shape ne, in logical (dim 0 fastest) order. */
static inline void ref_unravel(int64_t flat, const int64_t ne[SG_MAX_DIMS], int64_t i[SG_MAX_DIMS]) {
    for (int d = 0; d < SG_MAX_DIMS; d++) {
        i[d] = flat % ne[d];
        flat /= ne[d];
    }
}

/* Byte offset of element i of t. */
static inline size_t ref_offset(const struct sg_tensor *t, const int64_t i[SG_MAX_DIMS]) {
    size_t off = 0;
    for (int d = 0; d < SG_MAX_DIMS; d++) off += (size_t)i[d] * t->nb[d];
    return off;
}

/* Byte offset of element i of a source broadcast to i's shape: a dim of size 1 stays at 0. */
static inline size_t ref_bcast_offset(const struct sg_tensor *t, const int64_t i[SG_MAX_DIMS]) {
    size_t off = 0;
    for (int d = 0; d < SG_MAX_DIMS; d++) off += (size_t)(t->ne[d] == 1 ? 0 : i[d]) * t->nb[d];
    return off;
}

/* Byte offset of row r of t, rows being dims 1.. flattened (dim 1 fastest). */
static inline size_t ref_row_offset(const struct sg_tensor *t, int64_t r) {
    size_t off = 0;
    for (int d = 1; d < SG_MAX_DIMS; d++) {
        off += (size_t)(r % t->ne[d]) * t->nb[d];
        r /= t->ne[d];
    }
    return off;
}

/* ---- elements --------------------------------------------------------------------------- */

static inline float ref_load(enum sg_type type, const void *p) {
    switch (type) {
    case SG_TYPE_F32: return *(const float *)p;
    case SG_TYPE_F16: return sg_f16_to_f32(*(const uint16_t *)p);
    case SG_TYPE_BF16: return sg_bf16_to_f32(*(const uint16_t *)p);
    case SG_TYPE_I32: return (float)*(const int32_t *)p;
    default: return 0.0f;
    }
}

static inline void ref_store(enum sg_type type, void *p, float x) {
    switch (type) {
    case SG_TYPE_F32: *(float *)p = x; break;
    case SG_TYPE_F16: *(uint16_t *)p = sg_f32_to_f16(x); break;
    case SG_TYPE_BF16: *(uint16_t *)p = sg_f32_to_bf16(x); break;
    case SG_TYPE_I32: *(int32_t *)p = (int32_t)x; break;
    default: break;
    }
}

/* Element at byte offset `off` from t->data. */
static inline float ref_at(const struct sg_tensor *t, size_t off) {
    return ref_load(t->type, (const char *)t->data + off);
}
static inline void ref_put(struct sg_tensor *t, size_t off, float x) { ref_store(t->type, (char *)t->data + off, x); }
static inline int32_t ref_at_i32(const struct sg_tensor *t, size_t off) {
    return *(const int32_t *)((const char *)t->data + off);
}

static inline float ref_get(const struct sg_tensor *t, const int64_t i[SG_MAX_DIMS]) {
    return ref_at(t, ref_offset(t, i));
}
static inline void ref_set(struct sg_tensor *t, const int64_t i[SG_MAX_DIMS], float x) {
    ref_put(t, ref_offset(t, i), x);
}

/* Element (i0, i1, i2, i3) of a tensor of rank <= 4. */
static inline float ref_get4(const struct sg_tensor *t, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    return ref_at(t, (size_t)i0 * t->nb[0] + (size_t)i1 * t->nb[1] + (size_t)i2 * t->nb[2] + (size_t)i3 * t->nb[3]);
}

/* Zeroed scratch memory. Reference kernels have no way to report failure, and the oracle
 * running out of memory is not something a test can recover from, so this aborts with a
 * message instead. */
void *sg_ref_calloc(size_t n, size_t size);

/* ---- kernels, collected into sg_ref_kernels by ref_table.c ------------------------------ */

void sg_ref_cont(struct sg_tensor *dst);
void sg_ref_cpy(struct sg_tensor *dst);

void sg_ref_add(struct sg_tensor *dst);
void sg_ref_sub(struct sg_tensor *dst);
void sg_ref_mul(struct sg_tensor *dst);
void sg_ref_div(struct sg_tensor *dst);

void sg_ref_scale(struct sg_tensor *dst);
void sg_ref_sqr(struct sg_tensor *dst);
void sg_ref_sqrt(struct sg_tensor *dst);
void sg_ref_relu(struct sg_tensor *dst);
void sg_ref_gelu(struct sg_tensor *dst);
void sg_ref_leaky_relu(struct sg_tensor *dst);
void sg_ref_sigmoid(struct sg_tensor *dst);
void sg_ref_tanh(struct sg_tensor *dst);
void sg_ref_exp(struct sg_tensor *dst);
void sg_ref_step(struct sg_tensor *dst);
void sg_ref_clamp(struct sg_tensor *dst);
void sg_ref_act_back(struct sg_tensor *dst);

void sg_ref_sum_to(struct sg_tensor *dst);
void sg_ref_repeat(struct sg_tensor *dst);

void sg_ref_matmul(struct sg_tensor *dst);
void sg_ref_layer_norm(struct sg_tensor *dst);
void sg_ref_layer_norm_back(struct sg_tensor *dst);
void sg_ref_add_layer_norm(struct sg_tensor *dst);
void sg_ref_linear(struct sg_tensor *dst);
void sg_ref_softmax(struct sg_tensor *dst);
void sg_ref_attention(struct sg_tensor *dst);
void sg_ref_attention_back(struct sg_tensor *dst);

void sg_ref_get_rows(struct sg_tensor *dst);
void sg_ref_top_k(struct sg_tensor *dst);
void sg_ref_gather(struct sg_tensor *dst);
void sg_ref_scatter(struct sg_tensor *dst);
void sg_ref_embed_bag(struct sg_tensor *dst);
void sg_ref_sparse_dot(struct sg_tensor *dst);
void sg_ref_scatter_outer(struct sg_tensor *dst);

void sg_ref_adam_step(struct sg_tensor *dst);

#endif
