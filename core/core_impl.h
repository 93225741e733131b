/* Internal glue between the files of core/ (not for use outside core/). */
#ifndef SG_CORE_IMPL_H
#define SG_CORE_IMPL_H

#include "core/context.h"
#include "core/graph.h"
#include "core/ops.h"

int sg_ctx_add_tensor(struct sg_ctx *ctx, struct sg_tensor *t);
int sg_ctx_add_graph(struct sg_ctx *ctx, struct sg_graph *g);
void sg_graph_release(struct sg_graph *g);

/* Creates a node: records op, sources and parameters, then asks the op table's shape rule for
 * the result's type and shape. Returns NULL (recording the error in ctx) when a required source
 * is NULL or the shape rule rejects the inputs. */
struct sg_tensor *sg_op_new(struct sg_ctx *ctx, enum sg_op op, struct sg_tensor *const *src, int n_src,
                            const int32_t *params, int n_params);

/* Sets dst's shape to ne (contiguous strides for its type). */
void sg_tensor_set_shape(struct sg_tensor *t, enum sg_type type, int n_dims, const int64_t *ne);
/* Makes node a view of base's storage at byte offset (base's own view chain is collapsed). */
void sg_tensor_make_view(struct sg_tensor *node, struct sg_tensor *base, size_t offset);

static inline int32_t sg_f32_param(float f) {
    union {
        float f;
        int32_t i;
    } u = {.f = f};
    return u.i;
}

#endif
