/* The key that decides when the CUDA backend captures a graph again (backends/cuda/
 * cuda_graph_key.c): equal for the same node list, different as soon as anything a kernel launch
 * bakes in changes (an address, a shape, a stride, a parameter, a source), since replaying a
 * stale graph would read or write the wrong memory. */
#include <stdint.h>

#include "backends/cuda/cuda_graph_key.h"
#include "core/context.h"
#include "core/ops.h"
#include "core/tensor.h"
#include "tests/test_util.h"

static char arena[1 << 16];

struct two_nodes {
    struct sg_ctx *ctx;
    struct sg_tensor *a, *b, *sum, *scaled;
    struct sg_tensor *nodes[2];
};

/* sum = a + b; scaled = 2 sum, with fake addresses in one arena */
static void build(struct two_nodes *g) {
    g->ctx          = sg_ctx_new();
    g->a            = sg_new_tensor_2d(g->ctx, SG_TYPE_F32, 8, 4);
    g->b            = sg_new_tensor_2d(g->ctx, SG_TYPE_F32, 8, 4);
    g->sum          = sg_add(g->ctx, g->a, g->b);
    g->scaled       = sg_scale(g->ctx, g->sum, 2.0f);
    g->a->data      = arena;
    g->b->data      = arena + 1024;
    g->sum->data    = arena + 2048;
    g->scaled->data = arena + 3072;
    g->nodes[0]     = g->sum;
    g->nodes[1]     = g->scaled;
}

static void test_same_nodes_same_key(void) {
    struct two_nodes g, h;
    build(&g);
    build(&h);
    CHECK(sg_cuda_graph_key(g.nodes, 2) == sg_cuda_graph_key(g.nodes, 2));
    CHECK(sg_cuda_graph_key(g.nodes, 2) == sg_cuda_graph_key(h.nodes, 2)); /* other tensors, same launches */
    sg_ctx_free(g.ctx);
    sg_ctx_free(h.ctx);
}

static void test_any_launch_input_changes_key(void) {
    struct two_nodes g;
    build(&g);
    const uint64_t k0 = sg_cuda_graph_key(g.nodes, 2);

    g.b->data = arena + 4096; /* a source moved */
    CHECK(sg_cuda_graph_key(g.nodes, 2) != k0);
    g.b->data = arena + 1024;
    CHECK(sg_cuda_graph_key(g.nodes, 2) == k0);

    g.scaled->data = arena + 4096; /* an output moved */
    CHECK(sg_cuda_graph_key(g.nodes, 2) != k0);
    g.scaled->data = arena + 3072;

    g.sum->ne[1] = 3; /* a shape (the consumer's source changes too) */
    CHECK(sg_cuda_graph_key(g.nodes, 2) != k0);
    g.sum->ne[1] = 4;

    g.a->nb[1] = 64; /* a source stride */
    CHECK(sg_cuda_graph_key(g.nodes, 2) != k0);
    g.a->nb[1] = 32;

    g.scaled->op_params[0] ^= 1; /* the scale factor */
    CHECK(sg_cuda_graph_key(g.nodes, 2) != k0);
    g.scaled->op_params[0] ^= 1;

    CHECK(sg_cuda_graph_key(g.nodes, 1) != k0); /* fewer nodes */
    struct sg_tensor *swapped[2] = {g.scaled, g.sum};
    CHECK(sg_cuda_graph_key(swapped, 2) != k0); /* another order */
    CHECK(sg_cuda_graph_key(g.nodes, 2) == k0);
    sg_ctx_free(g.ctx);
}

int main(void) {
    test_same_nodes_same_key();
    test_any_launch_input_changes_key();
    return test_failures ? 1 : 0;
}
