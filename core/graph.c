#include "graph.h"

#include <stdio.h>
#include <stdlib.h>

#include "core_impl.h"
#include "graph_priv.h"
#include "log.h"
#include "ops.h"

struct sg_graph *sg_graph_new(struct sg_ctx *ctx) {
    struct sg_graph *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->priv = calloc(1, sizeof *g->priv);
    if (!g->priv || sg_ctx_add_graph(ctx, g) != 0) {
        free(g->priv);
        free(g);
        sg_ctx_fail(ctx, SG_ERR_NO_MEMORY, "out of memory for a graph");
        return NULL;
    }
    g->ctx = ctx;
    return g;
}

void sg_graph_release(struct sg_graph *g) {
    if (!g) return;
    sg_ptrmap_free(&g->priv->members);
    sg_ptrmap_free(&g->priv->grads);
    free(g->priv->stack);
    free(g->priv);
    free(g->nodes);
    free(g->leafs);
    free(g);
}

static bool push(struct sg_tensor ***arr, int *n, int *cap, struct sg_tensor *t) {
    if (*n == *cap) {
        int c                = *cap ? 2 * *cap : 64;
        struct sg_tensor **p = realloc(*arr, (size_t)c * sizeof *p);
        if (!p) return false;
        *arr = p;
        *cap = c;
    }
    (*arr)[(*n)++] = t;
    return true;
}

static bool add_member(struct sg_graph *g, struct sg_tensor *t) {
    struct sg_graph_priv *p = g->priv;
    bool ok                 = t->op == SG_OP_NONE ? push(&g->leafs, &g->n_leafs, &p->cap_leafs, t)
                                                  : push(&g->nodes, &g->n_nodes, &p->cap_nodes, t);
    return ok && sg_ptrmap_put(&p->members, t, t);
}

/* Post-order DFS with an explicit stack (deep models would overflow recursion). Each stack
 * entry is a tensor and the index of the next source to visit. */
sg_status sg_graph_expand(struct sg_graph *g, struct sg_tensor *t) {
    if (!g) return sg_error(SG_ERR_INVALID_ARG, "graph is NULL");
    if (!t) {
        sg_status st = sg_ctx_status(g->ctx);
        return sg_error(st != SG_OK ? st : SG_ERR_INVALID_ARG, "graph: cannot add a missing tensor: %s",
                        st != SG_OK ? sg_ctx_error(g->ctx) : "NULL tensor");
    }
    struct sg_graph_priv *p = g->priv;
    if (sg_ptrmap_has(&p->members, t)) return SG_OK;
    int n_before = g->n_nodes;
    p->n_stack   = 0;
    if (!sg_graph_stack_push(p, t)) return sg_error(SG_ERR_NO_MEMORY, "graph: out of memory");
    while (p->n_stack > 0) {
        struct sg_graph_frame *f = &p->stack[p->n_stack - 1];
        struct sg_tensor *cur    = f->t;
        if (f->next_src < SG_MAX_SRC) {
            struct sg_tensor *s = cur->src[f->next_src++];
            /* a source cannot be on the stack already: that would be a cycle */
            if (s && !sg_ptrmap_has(&p->members, s)) {
                if (!sg_graph_stack_push(p, s)) return sg_error(SG_ERR_NO_MEMORY, "graph: out of memory");
            }
            continue;
        }
        p->n_stack--;
        if (!add_member(g, cur)) return sg_error(SG_ERR_NO_MEMORY, "graph: out of memory");
    }
    if (g->n_nodes != n_before) g->version++;
    return SG_OK;
}

bool sg_graph_contains(const struct sg_graph *g, const struct sg_tensor *t) {
    return sg_ptrmap_has(&g->priv->members, t);
}

struct sg_tensor *sg_graph_grad(const struct sg_graph *g, const struct sg_tensor *t) {
    return sg_ptrmap_get(&g->priv->grads, t);
}

void sg_graph_print(const struct sg_graph *g) {
    if (!sg_log_enabled(SG_LOG_DEBUG)) return;
    SG_LOGD("graph: %d nodes, %d leafs", g->n_nodes, g->n_leafs);
    for (int i = 0; i < g->n_nodes; i++) {
        const struct sg_tensor *t = g->nodes[i];
        char shape[96], srcs[256] = "";
        size_t n = 0;
        for (int s = 0; s < SG_MAX_SRC && n < sizeof srcs; s++)
            if (t->src[s])
                n += (size_t)snprintf(srcs + n, sizeof srcs - n, "%s%s", n ? ", " : "",
                                      t->src[s]->name[0] ? t->src[s]->name : sg_op_name(t->src[s]->op));
        SG_LOGD("%5d %-16s %-24s %-20s <- %s", i, sg_op_name(t->op), sg_shape_str(t, shape, sizeof shape), t->name,
                srcs);
    }
}
