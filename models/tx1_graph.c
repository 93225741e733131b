/* The Tahoe X1 forward pass as one graph (TXModel.transformer_generate, TXBlock, TXEncoder,
 * ExprDecoder, MVCDecoder). Activations are [d, T] with T = S * B tokens, cell-major. */
#include <math.h>
#include <stdlib.h>

#include "core/context.h"
#include "core/ops.h"
#include "models/tahoe_x1.h"

/* y = act(x W^T + b) for a torch Linear with weight [out, in] and the activation after it, as
 * one fused op (bias and activation in the GEMM's epilogue); x is [in, T]. */
static struct sg_tensor *linear_act(struct sg_ctx *ctx, struct sg_tensor *x, struct sg_tensor *w, struct sg_tensor *b,
                                    enum sg_linear_act act, float slope) {
    return sg_linear(ctx, x, sg_transpose(ctx, w), b, act, slope);
}

static struct sg_tensor *linear(struct sg_ctx *ctx, struct sg_tensor *x, struct sg_tensor *w, struct sg_tensor *b) {
    return linear_act(ctx, x, w, b, SG_LINEAR_NONE, 0.0f);
}

/* linear then the model's activation a */
static struct sg_tensor *linear_then(struct sg_ctx *ctx, struct sg_tensor *x, struct sg_tensor *w, struct sg_tensor *b,
                                     enum tx1_act a) {
    switch (a) {
    case TX1_ACT_RELU: return linear_act(ctx, x, w, b, SG_LINEAR_RELU, 0.0f);
    case TX1_ACT_GELU: return linear_act(ctx, x, w, b, SG_LINEAR_GELU, 0.0f);
    case TX1_ACT_LEAKY_RELU: return linear_act(ctx, x, w, b, SG_LINEAR_LEAKY_RELU, 0.01f); /* torch's default slope */
    }
    return NULL;
}

static struct sg_tensor *norm(struct sg_ctx *ctx, struct sg_tensor *x, struct sg_tensor *w, struct sg_tensor *b,
                              float eps) {
    return w ? sg_layer_norm(ctx, x, w, b, eps) : x;
}

/* The residual add and the LayerNorm that reads its sum, fused: *h becomes h + delta, and
 * LN(h + delta) is returned. */
static struct sg_tensor *add_norm(struct sg_ctx *ctx, struct sg_tensor **h, struct sg_tensor *delta,
                                  struct sg_tensor *w, struct sg_tensor *b, float eps) {
    struct sg_tensor *p = sg_add_layer_norm(ctx, *h, delta, w, b, eps);
    *h                  = sg_add_layer_norm_part(ctx, p, 0);
    return sg_add_layer_norm_part(ctx, p, 1);
}

/* The LayerNorm that follows block i - 1: block i's first norm, or the final norm. */
static void norm_before(const struct tx1_model *m, int i, struct sg_tensor **w, struct sg_tensor **b) {
    bool last = i >= m->cfg.n_layers;
    *w        = last ? m->w.final_norm_w : m->w.layers[i].norm1_w;
    *b        = last ? m->w.final_norm_b : m->w.layers[i].norm1_b;
}

/* Multi-head self-attention over the fused QKV projection: q, k and v are strided views of one
 * [3d, S, B] tensor (heads contiguous inside each third), so nothing is copied. */
static struct sg_tensor *attention(struct sg_ctx *ctx, const struct tx1_config *c, const struct tx1_layer *l,
                                   struct sg_tensor *a, struct sg_tensor *key_mask, int64_t S, int64_t B) {
    const int64_t d = c->d_model, H = c->n_heads, hd = d / H;
    struct sg_tensor *qkv = linear(ctx, a, l->wqkv, l->bqkv); /* [3d, T] */
    const size_t es       = sizeof(float);
    const int64_t ne[4]   = {hd, H, S, B};
    const size_t nb[4]    = {es, (size_t)hd * es, (size_t)(3 * d) * es, (size_t)(3 * d * S) * es};
    struct sg_tensor *q   = sg_view(ctx, qkv, 4, ne, nb, 0);
    struct sg_tensor *k   = sg_view(ctx, qkv, 4, ne, nb, (size_t)d * es);
    struct sg_tensor *v   = sg_view(ctx, qkv, 4, ne, nb, (size_t)(2 * d) * es);
    struct sg_tensor *o   = sg_attention(ctx, q, k, v, key_mask, 1.0f / sqrtf((float)hd)); /* [hd, H, S, B] */
    return linear(ctx, sg_reshape_2d(ctx, o, d, S * B), l->wo, l->bo);
}

static struct sg_tensor *mlp(struct sg_ctx *ctx, const struct tx1_config *c, const struct tx1_layer *l,
                             struct sg_tensor *m) {
    return linear(ctx, linear_then(ctx, m, l->up_w, l->up_b, c->act_ffn), l->down_w, l->down_b);
}

sg_status tx1_graph_build(const struct tx1_model *m, const struct tx1_graph_opts *o, struct tx1_graph **out) {
    *out                        = NULL;
    const struct tx1_config *c  = &m->cfg;
    const struct tx1_weights *w = &m->w;
    const int64_t d = c->d_model, S = o->seq, B = o->batch, T = S * B;
    if (S <= 0 || B <= 0)
        return sg_error(SG_ERR_INVALID_ARG, "tx1 graph: batch %lld x length %lld", (long long)B, (long long)S);
    if (o->splice && (o->splice_layer < 0 || o->splice_layer >= c->n_layers))
        return sg_error(SG_ERR_INVALID_ARG, "tx1 graph: splice layer %d outside 0..%lld", o->splice_layer,
                        (long long)c->n_layers - 1);

    struct tx1_graph *g = calloc(1, sizeof *g);
    if (!g || !(g->ctx = sg_ctx_new())) {
        free(g);
        return sg_error(SG_ERR_NO_MEMORY, "tx1 graph: out of memory");
    }
    struct sg_ctx *ctx = g->ctx;
    g->batch           = B;
    g->seq             = S;

    g->ids      = sg_set_input(sg_set_name(sg_new_tensor_2d(ctx, SG_TYPE_I32, S, B), "ids"));
    g->values   = sg_set_input(sg_set_name(sg_new_tensor_3d(ctx, SG_TYPE_F32, 1, S, B), "values"));
    g->key_mask = sg_set_input(sg_set_name(sg_new_tensor_2d(ctx, SG_TYPE_I32, S, B), "key_mask"));

    /* token embedding: LN(gene embedding) + LN(MLP(min(value, max_value))) (+ mask flag) */
    struct sg_tensor *gene = sg_reshape_2d(ctx, sg_get_rows(ctx, w->gene_emb, g->ids), d, T);
    gene                   = norm(ctx, gene, w->gene_norm_w, w->gene_norm_b, c->eps);
    struct sg_tensor *val  = sg_clamp(ctx, sg_reshape_2d(ctx, g->values, 1, T), -INFINITY, c->value_max);
    val = linear(ctx, linear_then(ctx, val, w->value_w1, w->value_b1, c->act_value), w->value_w2, w->value_b2);
    val = norm(ctx, val, w->value_norm_w, w->value_norm_b, c->eps);
    if (o->generative) {
        /* masked tokens: value embedding zeroed, flag_encoder row 1 added */
        g->gen                  = sg_set_input(sg_set_name(sg_new_tensor_3d(ctx, SG_TYPE_F32, 1, S, B), "gen"));
        struct sg_tensor *gen   = sg_reshape_2d(ctx, g->gen, 1, T);
        struct sg_tensor *flag1 = sg_view_2d(ctx, w->flag, d, 1, (size_t)d * sizeof(float), (size_t)d * sizeof(float));
        val = sg_add(ctx, sg_mul(ctx, val, sg_scale_bias(ctx, gen, -1.0f, 1.0f)), sg_mul(ctx, flag1, gen));
    }
    /* pre-LN blocks; each residual add is fused with the LayerNorm that reads its sum */
    struct sg_tensor *h = gene, *nw, *nb;
    norm_before(m, 0, &nw, &nb);
    struct sg_tensor *a = add_norm(ctx, &h, val, nw, nb, c->eps);
    for (int i = 0; i < c->n_layers; i++) {
        const struct tx1_layer *l = &w->layers[i];
        a = add_norm(ctx, &h, attention(ctx, c, l, a, g->key_mask, S, B), l->norm2_w, l->norm2_b, c->eps);
        struct sg_tensor *f = mlp(ctx, c, l, a);
        norm_before(m, i + 1, &nw, &nb);
        if (o->splice && i == o->splice_layer) { /* the rest of the model runs on the input */
            h = sg_add(ctx, h, f);
        } else {
            a = add_norm(ctx, &h, f, nw, nb, c->eps);
        }
        if (o->resid[i]) /* the residual stream after block i: the SAE's input */
            g->resid[i] = sg_set_output(sg_set_name(sg_reshape_3d(ctx, h, d, S, B), "resid.%d", i));
        if (o->splice && i == o->splice_layer) {
            g->splice = sg_set_input(sg_set_name(sg_new_tensor_3d(ctx, SG_TYPE_F32, d, S, B), "splice"));
            h         = sg_reshape_2d(ctx, g->splice, d, T);
            a         = sg_layer_norm(ctx, h, nw, nb, c->eps);
        }
    }
    struct sg_tensor *y = a;

    /* cell embedding: the CLS token (position 0 of each cell) after the final norm */
    struct sg_tensor *cls = sg_view_2d(ctx, y, d, B, (size_t)(d * S) * sizeof(float), 0);
    g->cell_emb           = sg_set_output(sg_set_name(sg_cont(ctx, cls), "cell_emb"));

    struct sg_graph *graph = sg_graph_new(ctx);
    if (o->heads) {
        /* expression decoder: per-token MLP regression of the bin */
        struct sg_tensor *e = y;
        for (int i = 0; i < c->n_dec_layers; i++) e = linear_then(ctx, e, w->dec_w[i], w->dec_b[i], c->act_dec);
        e            = linear(ctx, e, w->dec_out_w, w->dec_out_b);
        g->expr_pred = sg_set_output(sg_set_name(sg_reshape_3d(ctx, e, 1, S, B), "expr_pred"));
        /* MVC decoder: (W sigmoid(gene2query(gene))) . cell_emb, scaled by 1/sqrt(d) */
        struct sg_tensor *q   = sg_sigmoid(ctx, linear(ctx, gene, w->mvc_query_w, w->mvc_query_b));
        struct sg_tensor *wq  = sg_reshape_3d(ctx, linear(ctx, q, w->mvc_w, NULL), d, S, B);
        struct sg_tensor *mvc = sg_matmul(ctx, wq, sg_reshape_3d(ctx, g->cell_emb, 1, d, B));
        if (c->mvc_scaled) mvc = sg_scale(ctx, mvc, 1.0f / sqrtf((float)d));
        g->mvc_pred = sg_set_output(sg_set_name(mvc, "mvc_pred"));
    }

    sg_status st = sg_ctx_status(ctx);
    if (st != SG_OK) st = sg_error(st, "tx1 graph: %s", sg_ctx_error(ctx));
    if (st == SG_OK) st = sg_graph_expand(graph, g->cell_emb);
    for (int i = 0; st == SG_OK && i < c->n_layers; i++)
        if (g->resid[i]) st = sg_graph_expand(graph, g->resid[i]);
    if (st == SG_OK && o->heads) st = sg_graph_expand(graph, g->expr_pred);
    if (st == SG_OK && o->heads) st = sg_graph_expand(graph, g->mvc_pred);
    if (st != SG_OK) {
        tx1_graph_free(g);
        return st;
    }
    g->graph = graph;
    *out     = g;
    return SG_OK;
}

void tx1_graph_free(struct tx1_graph *g) {
    if (!g) return;
    sg_ctx_free(g->ctx);
    free(g);
}
