/* Reverse-mode autodiff: walks the graph backwards and lets each op's backward rule (from the op
 * table) build gradient nodes out of ordinary forward ops. */
#include "autodiff.h"

#include "graph_priv.h"
#include "ops_impl.h"

struct sg_autodiff {
    struct sg_ctx *ctx;
    struct sg_ptrmap needs; /* tensor -> itself, when a parameter is upstream of it */
    struct sg_ptrmap grads; /* tensor -> gradient of the loss w.r.t. it */
    bool failed;
};

static void *const YES = (void *)1;

struct sg_ctx *sg_ad_ctx(struct sg_autodiff *ad) {
    return ad->ctx;
}

struct sg_tensor *sg_ad_grad(struct sg_autodiff *ad, struct sg_tensor *node) {
    return sg_ptrmap_get(&ad->grads, node);
}

bool sg_ad_needs(struct sg_autodiff *ad, const struct sg_tensor *t) { return t && sg_ptrmap_has(&ad->needs, t); }

void sg_ad_accum(struct sg_autodiff *ad, struct sg_tensor *t, struct sg_tensor *grad) {
    if (!sg_ad_needs(ad, t)) return;
    if (!grad) { /* a constructor failed; the context holds why */
        ad->failed = true;
        return;
    }
    if (!sg_same_shape(t, grad)) {
        char st[96], sg[96];
        sg_ctx_fail(ad->ctx, SG_ERR_INVALID_ARG, "autodiff: gradient %s does not match '%s' %s (computed by %s)",
                    sg_shape_str(grad, sg, sizeof sg), t->name, sg_shape_str(t, st, sizeof st), sg_op_name(t->op));
        ad->failed = true;
        return;
    }
    struct sg_tensor *old = sg_ptrmap_get(&ad->grads, t);
    struct sg_tensor *sum = old ? sg_add(ad->ctx, old, grad) : grad;
    if (!sum || !sg_ptrmap_put(&ad->grads, t, sum)) ad->failed = true;
}

static sg_status mark_needs(struct sg_autodiff *ad, const struct sg_graph *g) {
    for (int i = 0; i < g->n_leafs; i++)
        if ((g->leafs[i]->flags & SG_FLAG_PARAM) && !sg_ptrmap_put(&ad->needs, g->leafs[i], YES))
            return sg_error(SG_ERR_NO_MEMORY, "autodiff: out of memory");
    for (int i = 0; i < g->n_nodes; i++) {
        struct sg_tensor *t = g->nodes[i];
        if (t->op == SG_OP_DETACH) continue; /* a constant to autodiff */
        for (int s = 0; s < SG_MAX_SRC; s++) {
            if (t->src[s] && sg_ptrmap_has(&ad->needs, t->src[s])) {
                if (!sg_ptrmap_put(&ad->needs, t, YES)) return sg_error(SG_ERR_NO_MEMORY, "autodiff: out of memory");
                break;
            }
        }
    }
    return SG_OK;
}

static sg_status run_backward_rules(struct sg_autodiff *ad, struct sg_graph *g) {
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        struct sg_tensor *node = g->nodes[i];
        if (!sg_ad_needs(ad, node) || !sg_ad_grad(ad, node)) continue;
        const struct sg_op_info *info = sg_op_info(node->op);
        if (!info->backward)
            return sg_error(SG_ERR_UNSUPPORTED,
                            "autodiff: op '%s' (node '%s') has no backward rule, but a parameter's gradient flows "
                            "through it to the loss",
                            info->name, node->name);
        info->backward(ad, node);
        if (ad->failed || sg_ctx_status(ad->ctx) != SG_OK)
            return sg_error(sg_ctx_status(ad->ctx) != SG_OK ? sg_ctx_status(ad->ctx) : SG_ERR_INVALID_ARG,
                            "autodiff: backward of '%s' (node '%s') failed: %s", info->name, node->name,
                            sg_ctx_error(ad->ctx));
    }
    return SG_OK;
}

sg_status sg_graph_backward(struct sg_graph *g, struct sg_tensor *loss) {
    if (!g || !loss) return sg_error(SG_ERR_INVALID_ARG, "backward: graph or loss is NULL");
    if (!sg_graph_contains(g, loss))
        return sg_error(SG_ERR_INVALID_ARG, "backward: loss '%s' is not in the graph", loss->name);
    if (loss->type != SG_TYPE_F32 || sg_nelements(loss) != 1)
        return sg_error(SG_ERR_INVALID_ARG, "backward: loss '%s' must be a scalar f32", loss->name);
    loss->flags |= SG_FLAG_LOSS;

    struct sg_autodiff ad = {.ctx = g->ctx};
    sg_status st          = mark_needs(&ad, g);
    if (st == SG_OK && !sg_ad_needs(&ad, loss))
        st = sg_error(SG_ERR_INVALID_ARG, "backward: loss '%s' does not depend on any parameter", loss->name);
    if (st == SG_OK) {
        /* d loss / d loss = 1, written as 0*loss + 1 so the seed needs no constant buffer */
        struct sg_tensor *seed = sg_scale_bias(g->ctx, loss, 0.0f, 1.0f);
        if (!seed || !sg_ptrmap_put(&ad.grads, loss, seed)) st = sg_error(SG_ERR_NO_MEMORY, "backward: out of memory");
    }
    if (st == SG_OK) st = run_backward_rules(&ad, g);
    for (int i = 0; st == SG_OK && i < g->n_leafs; i++) {
        struct sg_tensor *p    = g->leafs[i];
        struct sg_tensor *grad = (p->flags & SG_FLAG_PARAM) ? sg_ad_grad(&ad, p) : NULL;
        if (!grad) continue;
        if (!grad->name[0]) sg_set_name(grad, "grad.%s", p->name);
        if (!sg_ptrmap_put(&g->priv->grads, p, grad)) st = sg_error(SG_ERR_NO_MEMORY, "backward: out of memory");
        if (st == SG_OK) st = sg_graph_expand(g, grad);
    }
    sg_ptrmap_free(&ad.needs);
    sg_ptrmap_free(&ad.grads);
    return st;
}
