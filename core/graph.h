/* Graphs: the nodes needed to compute some outputs, in topological order.
 *
 * Build once, run many times with new input data:
 *
 *     struct sg_graph *g = sg_graph_new(ctx);
 *     sg_graph_expand(g, loss);                 // loss and everything it depends on
 *     sg_graph_backward(g, loss);               // appends gradient nodes for every PARAM
 *     struct sg_tensor *dw = sg_graph_grad(g, w);
 *     sg_graph_expand(g, sg_adam_step(ctx, w, dw, m, v, hp, NULL));
 *     for (...) { sg_tensor_set(x, ...); sg_sched_compute(sched, g); }
 *
 * A graph belongs to its context and is freed with it.
 */
#ifndef SG_GRAPH_H
#define SG_GRAPH_H

#include "core/context.h"
#include "core/status.h"
#include "core/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sg_graph {
    struct sg_ctx *ctx;
    int n_nodes; /* tensors with an op, in topological order */
    struct sg_tensor **nodes;
    int n_leafs; /* op == NONE: inputs, parameters, constants */
    struct sg_tensor **leafs;
    int version; /* bumped whenever nodes are added (invalidates plans) */
    /* private: hash set of members and the gradient map */
    struct sg_graph_priv *priv;
};

struct sg_graph *sg_graph_new(struct sg_ctx *ctx);

/* Adds t and every tensor it depends on (post-order DFS). Fails if t is NULL (the context holds
 * the construction error). */
sg_status sg_graph_expand(struct sg_graph *g, struct sg_tensor *t);

bool sg_graph_contains(const struct sg_graph *g, const struct sg_tensor *t);

/* Reverse-mode autodiff: for every PARAM tensor that `loss` (a scalar F32 node already in g)
 * depends on, builds its gradient from the op table's backward rules and adds it to g. Fails,
 * naming the op, when a path from a parameter to the loss goes through an op without a backward
 * rule. */
sg_status sg_graph_backward(struct sg_graph *g, struct sg_tensor *loss);

/* Gradient of the loss with respect to t after sg_graph_backward, or NULL if none flows. */
struct sg_tensor *sg_graph_grad(const struct sg_graph *g, const struct sg_tensor *t);

/* One line per node ("  12 matmul      [512, 64] f32 <- x, w") to the debug log. */
void sg_graph_print(const struct sg_graph *g);

#ifdef __cplusplus
}
#endif

#endif
