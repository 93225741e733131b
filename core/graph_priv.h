/* Private parts of struct sg_graph, shared by graph.c and autodiff.c. */
#ifndef SG_GRAPH_PRIV_H
#define SG_GRAPH_PRIV_H

#include <stdbool.h>
#include <stdlib.h>

#include "core/graph.h"
#include "core/ptrmap.h"

struct sg_graph_frame {
    struct sg_tensor *t;
    int next_src;
};

struct sg_graph_priv {
    int cap_nodes;
    int cap_leafs;
    struct sg_ptrmap members; /* tensor -> itself */
    struct sg_ptrmap grads;   /* tensor -> gradient of the loss */
    struct sg_graph_frame *stack;
    int n_stack;
    int cap_stack;
};

static inline bool sg_graph_stack_push(struct sg_graph_priv *p, struct sg_tensor *t) {
    if (p->n_stack == p->cap_stack) {
        int cap                  = p->cap_stack ? 2 * p->cap_stack : 64;
        struct sg_graph_frame *s = realloc(p->stack, (size_t)cap * sizeof *s);
        if (!s) return false;
        p->stack     = s;
        p->cap_stack = cap;
    }
    p->stack[p->n_stack++] = (struct sg_graph_frame){.t = t, .next_src = 0};
    return true;
}

#endif
