/* Tensors: shape, strides, type, and where their data lives.
 *
 * ne[0] is the innermost (fastest-varying) dimension: a matrix of R rows and C columns has
 * ne = {C, R}. nb[] are byte strides, so views, reshapes, permutes and transposes are metadata
 * only. Tensors are created in a context (core/context.h) and live until it is freed.
 *
 *     struct sg_ctx *ctx = sg_ctx_new();
 *     struct sg_tensor *x = sg_new_tensor_2d(ctx, SG_TYPE_F32, 512, 64);   // 64 rows of 512
 *     struct sg_tensor *xt = sg_transpose(ctx, x);                          // no copy
 */
#ifndef SG_TENSOR_H
#define SG_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "core/types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SG_MAX_DIMS      6
#define SG_MAX_SRC       6
#define SG_MAX_OP_PARAMS 64 /* bytes of inline scalar parameters per node */
#define SG_MAX_NAME      64

struct sg_ctx;
struct sg_buffer;

enum sg_tensor_flag {
    SG_FLAG_INPUT  = 1 << 0, /* set by the caller before each run; never overwritten */
    SG_FLAG_OUTPUT = 1 << 1, /* read after a run; its memory is never reused */
    SG_FLAG_PARAM  = 1 << 2, /* trainable: autodiff computes its gradient */
    SG_FLAG_LOSS   = 1 << 3, /* a scalar that autodiff differentiates */
};

struct sg_tensor {
    enum sg_type type;
    int op; /* enum sg_op; SG_OP_NONE for leafs */
    int32_t flags;
    int64_t ne[SG_MAX_DIMS]; /* elements per dimension (unused dims are 1) */
    size_t nb[SG_MAX_DIMS];  /* byte strides */
    int32_t op_params[SG_MAX_OP_PARAMS / sizeof(int32_t)];
    struct sg_tensor *src[SG_MAX_SRC]; /* optional sources may be NULL */

    struct sg_tensor *view_src; /* base tensor owning the storage (never itself a view) */
    size_t view_offs;           /* byte offset of this view in view_src */

    struct sg_buffer *buffer; /* where the data lives (NULL until allocated) */
    void *data;               /* host pointer, or a backend's offset-encoded address */
    void *extra;              /* backend-private per-tensor state */

    struct sg_ctx *ctx;
    int id; /* creation index within ctx */
    char name[SG_MAX_NAME];
};

/* Creation. Types and element counts are checked; on a bad request NULL is returned and the
 * context records the first error (sg_ctx_error). */
struct sg_tensor *sg_new_tensor(struct sg_ctx *ctx, enum sg_type type, int n_dims, const int64_t *ne);
struct sg_tensor *sg_new_tensor_1d(struct sg_ctx *ctx, enum sg_type type, int64_t ne0);
struct sg_tensor *sg_new_tensor_2d(struct sg_ctx *ctx, enum sg_type type, int64_t ne0, int64_t ne1);
struct sg_tensor *sg_new_tensor_3d(struct sg_ctx *ctx, enum sg_type type, int64_t ne0, int64_t ne1, int64_t ne2);
struct sg_tensor *sg_new_tensor_4d(struct sg_ctx *ctx, enum sg_type type, int64_t ne0, int64_t ne1, int64_t ne2,
                                   int64_t ne3);
/* A new tensor with a's type and shape (contiguous, not a view). */
struct sg_tensor *sg_dup_tensor(struct sg_ctx *ctx, const struct sg_tensor *a);

struct sg_tensor *sg_set_name(struct sg_tensor *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct sg_tensor *sg_set_input(struct sg_tensor *t);
struct sg_tensor *sg_set_output(struct sg_tensor *t);
struct sg_tensor *sg_set_param(struct sg_tensor *t);
struct sg_tensor *sg_set_loss(struct sg_tensor *t);

/* Shape queries. */
int sg_rank(const struct sg_tensor *t); /* dims up to the last one > 1 (at least 1) */
int64_t sg_nelements(const struct sg_tensor *t);
int64_t sg_nrows(const struct sg_tensor *t); /* product of ne[1..] */
size_t sg_nbytes(const struct sg_tensor *t); /* span covered by the data, strides included */
size_t sg_row_size(enum sg_type type, int64_t ne0);
bool sg_is_contiguous(const struct sg_tensor *t);      /* dense, in ne order */
bool sg_is_rows_contiguous(const struct sg_tensor *t); /* nb[0] == type size */
bool sg_is_transposed(const struct sg_tensor *t);      /* nb[0] > nb[1] */
bool sg_same_shape(const struct sg_tensor *a, const struct sg_tensor *b);
bool sg_is_view_op(int op); /* VIEW/RESHAPE/PERMUTE/TRANSPOSE: no kernel runs */
/* Collapses the iteration space of an elementwise kernel, shape ne[], over n_ops operands whose
 * strides are st[k][] (any unit, the same for every dim; 0 for a broadcast dim): size-1 dims are
 * dropped and a dim joins the previous kept one when it continues it contiguously in every
 * operand. Returns the number of dims kept; ne[]/st[][] beyond it become 1/0. Every GPU backend
 * uses it so that their kernels see the same (smallest) loop nests. */
int sg_collapse_dims(int64_t ne[SG_MAX_DIMS], int64_t st[][SG_MAX_DIMS], int n_ops);
/* "[512, 64] f32" into buf; returns buf. */
const char *sg_shape_str(const struct sg_tensor *t, char *buf, size_t size);

/* Views: no data is copied. sg_view takes n_dims sizes and byte strides (nb NULL: contiguous)
 * starting `offset` bytes into a, and must stay inside a's bytes. Reshape needs a contiguous
 * tensor. Permute moves source dimension i to position axes[i] (like ggml_permute). */
struct sg_tensor *sg_view(struct sg_ctx *ctx, struct sg_tensor *a, int n_dims, const int64_t *ne, const size_t *nb,
                          size_t offset);
struct sg_tensor *sg_view_1d(struct sg_ctx *ctx, struct sg_tensor *a, int64_t ne0, size_t offset);
struct sg_tensor *sg_view_2d(struct sg_ctx *ctx, struct sg_tensor *a, int64_t ne0, int64_t ne1, size_t nb1,
                             size_t offset);
struct sg_tensor *sg_reshape(struct sg_ctx *ctx, struct sg_tensor *a, int n_dims, const int64_t *ne);
struct sg_tensor *sg_reshape_2d(struct sg_ctx *ctx, struct sg_tensor *a, int64_t ne0, int64_t ne1);
struct sg_tensor *sg_reshape_3d(struct sg_ctx *ctx, struct sg_tensor *a, int64_t ne0, int64_t ne1, int64_t ne2);
struct sg_tensor *sg_reshape_4d(struct sg_ctx *ctx, struct sg_tensor *a, int64_t ne0, int64_t ne1, int64_t ne2,
                                int64_t ne3);
struct sg_tensor *sg_permute(struct sg_ctx *ctx, struct sg_tensor *a, const int axes[SG_MAX_DIMS]);
struct sg_tensor *sg_transpose(struct sg_ctx *ctx, struct sg_tensor *a); /* swaps dims 0 and 1 */

/* Data transfer through the tensor's buffer (any backend). offset/size are bytes from t->data;
 * the range must lie within sg_nbytes(t). */
sg_status sg_tensor_set(struct sg_tensor *t, const void *data, size_t offset, size_t size);
sg_status sg_tensor_get(const struct sg_tensor *t, void *data, size_t offset, size_t size);
/* Fills the tensor's bytes with `value` (0 zeroes any type). */
sg_status sg_tensor_memset(struct sg_tensor *t, uint8_t value);

/* Address of element (i0..i5) of a host-resident tensor. */
static inline void *sg_elem_ptr(const struct sg_tensor *t, const int64_t i[SG_MAX_DIMS]) {
    size_t off = 0;
    for (int d = 0; d < SG_MAX_DIMS; d++) off += (size_t)i[d] * t->nb[d];
    return (char *)t->data + off;
}

#ifdef __cplusplus
}
#endif

#endif
