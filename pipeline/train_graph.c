/* The training step graph: loss -> autodiff -> (decoder gradient projection) -> clipping ->
 * Adam -> (decoder renormalisation). Built once per batch size and replayed every step; the
 * learning rate and bias corrections come in through the hyper-parameter input. */
#include <string.h>

#include "core/context.h"
#include "core/ops.h"
#include "pipeline/train_priv.h"

sg_status sg_adam_state_new(struct sg_sae *sae, struct sg_device *dev, struct sg_adam_state *out) {
    memset(out, 0, sizeof *out);
    struct sg_tensor *params[] = {sae->W_enc, sae->b_enc, sae->W_dec, sae->b_dec, sae->log_threshold};
    out->ctx                   = sg_ctx_new();
    if (!out->ctx) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    for (int i = 0; i < 5; i++) {
        if (!params[i]) continue;
        out->param[out->n] = params[i];
        out->m[out->n]     = sg_set_name(sg_dup_tensor(out->ctx, params[i]), "adam.m.%s", params[i]->name);
        out->v[out->n]     = sg_set_name(sg_dup_tensor(out->ctx, params[i]), "adam.v.%s", params[i]->name);
        out->n++;
    }
    sg_status st = sg_ctx_status(out->ctx);
    if (st == SG_OK) st = sg_alloc_ctx_tensors(out->ctx, sg_device_buffer_type(dev), &out->bufs);
    for (int i = 0; st == SG_OK && i < out->n; i++) {
        st = sg_tensor_memset(out->m[i], 0);
        if (st == SG_OK) st = sg_tensor_memset(out->v[i], 0);
    }
    if (st != SG_OK) sg_adam_state_free(out);
    return st;
}

void sg_adam_state_free(struct sg_adam_state *a) {
    sg_buffer_list_free(&a->bufs);
    sg_ctx_free(a->ctx);
    memset(a, 0, sizeof *a);
}

void sg_step_graph_free(struct sg_step_graph *g) {
    sg_sae_fwd_release(&g->fwd);
    sg_ctx_free(g->uctx);
    sg_ctx_free(g->ctx);
    memset(g, 0, sizeof *g);
}

sg_status sg_step_graph_build(struct sg_sae *sae, struct sg_adam_state *adam, int64_t batch, bool aux, bool split,
                              struct sg_step_graph *out) {
    memset(out, 0, sizeof *out);
    struct sg_ctx *ctx = out->ctx = sg_ctx_new();
    if (!ctx) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    sg_status st       = sg_sae_build_train(sae, ctx, batch, aux, &out->fwd);
    struct sg_graph *g = out->graph = st == SG_OK ? sg_graph_new(ctx) : NULL;
    const struct sg_sae_fwd *f      = &out->fwd;
    if (st == SG_OK && !g) st = sg_error(SG_ERR_NO_MEMORY, "out of memory");
    /* outputs first: they are read after every step */
    if (st == SG_OK) st = sg_graph_expand(g, f->loss);
    for (int i = 0; st == SG_OK && i < f->n_terms; i++) st = sg_graph_expand(g, f->terms[i]);
    if (st == SG_OK) st = sg_graph_expand(g, f->sse);
    if (st == SG_OK) st = sg_graph_expand(g, f->sst);
    if (st == SG_OK) st = sg_graph_expand(g, f->fired);
    if (st == SG_OK && f->batch_threshold) st = sg_graph_expand(g, f->batch_threshold);
    if (st == SG_OK) st = sg_graph_backward(g, f->loss);
    if (st != SG_OK) {
        sg_step_graph_free(out);
        return st;
    }

    const bool unit_decoder                      = sg_sae_arch_is_topk_family(sae->cfg.arch);
    struct sg_tensor *grads[SG_TRAIN_MAX_PARAMS] = {0};
    struct sg_tensor *norm_sq                    = NULL;
    for (int i = 0; i < adam->n; i++) {
        struct sg_tensor *p = adam->param[i], *gr = sg_graph_grad(g, p);
        if (!gr) continue; /* no gradient reaches it (cannot happen for the SAE's losses) */
        if (unit_decoder && p == sae->W_dec) {
            /* keep only the part of each row's gradient tangent to the unit sphere:
             * g_i - (g_i . w_i) w_i */
            struct sg_tensor *along = sg_sum_rows(ctx, sg_mul(ctx, gr, p)); /* [1, d_sae] */
            gr                      = sg_sub(ctx, gr, sg_mul(ctx, along, p));
        }
        grads[i] = gr;
    }
    if (split) {
        /* the projection is linear, so projecting before the sum over ranks is the same */
        for (int i = 0; st == SG_OK && i < adam->n; i++) {
            if (!grads[i]) continue;
            out->grad[i] = sg_set_output(sg_set_name(grads[i], "grad.%d", i));
            st           = sg_graph_expand(g, out->grad[i]);
        }
        ctx = out->uctx = sg_ctx_new();
        g = out->update = ctx ? sg_graph_new(ctx) : NULL;
        if (st == SG_OK && !g) st = sg_error(SG_ERR_NO_MEMORY, "out of memory");
        for (int i = 0; st == SG_OK && i < adam->n; i++) {
            if (!grads[i]) continue;
            grads[i] = out->grad_in[i] = sg_set_input(sg_set_name(sg_dup_tensor(ctx, grads[i]), "grad_in.%d", i));
        }
        if (st != SG_OK) {
            sg_step_graph_free(out);
            return st;
        }
    }
    for (int i = 0; i < adam->n; i++) {
        if (!grads[i]) continue;
        struct sg_tensor *sq = sg_sum(ctx, sg_sqr(ctx, grads[i]));
        norm_sq              = norm_sq ? sg_add(ctx, norm_sq, sq) : sq;
    }
    out->grad_norm_sq = norm_sq ? sg_set_output(sg_set_name(norm_sq, "grad_norm_sq")) : NULL;
    out->hparams      = sg_set_input(sg_set_name(sg_new_tensor_1d(ctx, SG_TYPE_F32, SG_ADAM_N_PARAMS), "adam.hparams"));
    struct sg_tensor *dec_step = NULL;
    for (int i = 0; i < adam->n; i++) {
        if (!grads[i]) continue;
        struct sg_tensor *u =
            sg_adam_step(ctx, adam->param[i], grads[i], adam->m[i], adam->v[i], out->hparams, out->grad_norm_sq);
        if (adam->param[i] == sae->W_dec) dec_step = u;
        st = sg_graph_expand(g, u);
        if (st != SG_OK) break;
    }
    if (st == SG_OK && unit_decoder && dec_step) {
        /* back onto the unit sphere after the step */
        struct sg_tensor *norm = sg_sqrt(ctx, sg_sum_rows(ctx, sg_sqr(ctx, dec_step)));
        st                     = sg_graph_expand(g, sg_cpy(ctx, sg_div(ctx, dec_step, norm), sae->W_dec));
    }
    if (st == SG_OK && sg_ctx_status(ctx) != SG_OK)
        st = sg_error(sg_ctx_status(ctx), "step graph: %s", sg_ctx_error(ctx));
    if (st == SG_OK && split && sg_ctx_status(out->ctx) != SG_OK)
        st = sg_error(sg_ctx_status(out->ctx), "step graph: %s", sg_ctx_error(out->ctx));
    if (st != SG_OK) sg_step_graph_free(out);
    return st;
}
