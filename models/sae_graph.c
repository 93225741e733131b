/* The SAE's shared encoder and decoder pieces, the training-graph dispatch to each
 * architecture's loss, and the inference (encode) graph. Activations are [d_in, B]: one token
 * per column. */
#include <stdlib.h>
#include <string.h>

#include "models/sae_priv.h"

/* The encoder xc W_enc^T + b_enc, with act (a ReLU, or none) fused into the product. */
struct sg_tensor *sae_encode(struct sae_build *b, enum sg_linear_act act) {
    struct sg_sae *s = b->sae;
    return sg_linear(b->ctx, b->xc, sg_transpose(b->ctx, s->W_enc), s->b_enc, act, 0.0f);
}

struct sg_tensor *sae_pre(struct sae_build *b) {
    return sae_encode(b, SG_LINEAR_NONE);
}

/* b_enc[idx] as [K, B]: a lookup in the bias seen as a table of d_sae rows of 1. */
static struct sg_tensor *bias_rows(struct sae_build *b, struct sg_tensor *idx) {
    struct sg_ctx *ctx   = b->ctx;
    struct sg_tensor *bt = sg_reshape_2d(ctx, b->sae->b_enc, 1, b->sae->cfg.d_sae);
    return sg_reshape_2d(ctx, sg_get_rows(ctx, bt, idx), idx->ne[0], idx->ne[1]);
}

struct sae_codes sae_select_topk(struct sae_build *b, struct sg_tensor *pre, int64_t K) {
    struct sg_ctx *ctx = b->ctx;
    struct sae_codes c = {0};
    /* selection sees the dense pre-activations but sends no gradient into them */
    c.idx                 = sg_top_k(ctx, sg_detach(ctx, pre), (int)K);
    struct sg_tensor *dot = sg_sparse_dot(ctx, b->sae->W_enc, c.idx, b->xc);
    c.vals                = sg_relu(ctx, sg_add(ctx, dot, c.idx ? bias_rows(b, c.idx) : NULL));
    return c;
}

struct sg_tensor *sae_decode_sparse(struct sae_build *b, struct sae_codes c) {
    return sg_add(b->ctx, sg_embed_bag(b->ctx, b->sae->W_dec, c.idx, c.vals), b->sae->b_dec);
}

struct sg_tensor *sae_decode_dense(struct sae_build *b, struct sg_tensor *acts) {
    return sg_linear(b->ctx, acts, b->sae->W_dec, b->sae->b_dec, SG_LINEAR_NONE, 0.0f);
}

void sae_add_term(struct sae_build *b, const char *name, struct sg_tensor *t) {
    struct sg_sae_fwd *f = b->f;
    if (f->n_terms == SG_SAE_MAX_TERMS) {
        sg_ctx_fail(b->ctx, SG_ERR_INVALID_ARG, "SAE: too many loss terms");
        return;
    }
    f->term_names[f->n_terms] = name;
    f->terms[f->n_terms++]    = t ? sg_set_output(sg_set_name(t, "loss.%s", name)) : NULL;
}

struct sg_tensor *sae_penalty_term(struct sae_build *b, struct sg_tensor *sum, float coef) {
    struct sg_tensor *p = sae_const(b, 1, (int64_t[]){1}, NULL, coef / (float)b->B, "penalty");
    b->f->penalty       = p;
    return sg_mul(b->ctx, sum, p);
}

struct sg_tensor *sae_mse_term(struct sae_build *b, struct sg_tensor *recon, const char *name) {
    struct sg_ctx *ctx    = b->ctx;
    struct sg_tensor *sse = sg_sum(ctx, sg_sqr(ctx, sg_sub(ctx, recon, b->x)));
    struct sg_tensor *t   = sg_scale(ctx, sse, 1.0f / (float)b->B);
    if (!b->f->sse) b->f->sse = sg_set_output(sg_set_name(sse, "sse"));
    sae_add_term(b, name, t);
    return t;
}

struct sg_tensor *sae_const(struct sae_build *b, int n_dims, const int64_t *ne, const float *data, float value,
                            const char *name) {
    struct sg_sae_fwd *f = b->f;
    if (f->n_const == SG_SAE_MAX_CONST) return sg_ctx_fail(b->ctx, SG_ERR_INVALID_ARG, "SAE: too many constants");
    struct sg_tensor *t = sg_new_tensor(b->ctx, SG_TYPE_F32, n_dims, ne);
    if (!t) return NULL;
    sg_set_input(sg_set_name(t, "%s", name));
    int64_t n = sg_nelements(t);
    float *h  = malloc((size_t)n * sizeof *h);
    if (!h) return sg_ctx_fail(b->ctx, SG_ERR_NO_MEMORY, "SAE: out of memory for %s", name);
    for (int64_t i = 0; i < n; i++) h[i] = data ? data[i] : value;
    f->consts[f->n_const]       = t;
    f->const_data[f->n_const++] = h;
    return t;
}

void sae_fired_sparse(struct sae_build *b, struct sae_codes c) {
    struct sg_ctx *ctx     = b->ctx;
    const int64_t M        = b->sae->cfg.d_sae;
    struct sg_tensor *ones = sae_const(b, 2, (int64_t[]){1, b->B}, NULL, 1.0f, "ones");
    struct sg_tensor *on   = sg_step(ctx, sg_detach(ctx, c.vals));
    /* a count per latent without a dense [d_sae, B] mask: scatter the firing flags */
    struct sg_tensor *cnt = sg_scatter_outer(ctx, c.idx, on, ones, M);
    b->f->fired           = sg_set_output(sg_set_name(sg_reshape(ctx, cnt, 1, (int64_t[]){M}), "fired"));
}

void sae_fired_dense(struct sae_build *b, struct sg_tensor *acts) {
    struct sg_ctx *ctx    = b->ctx;
    const int64_t M       = b->sae->cfg.d_sae;
    struct sg_tensor *cnt = sg_sum_to(ctx, sg_step(ctx, sg_detach(ctx, acts)), (int64_t[]){M, 1, 1, 1, 1, 1});
    b->f->fired           = sg_set_output(sg_set_name(sg_reshape(ctx, cnt, 1, (int64_t[]){M}), "fired"));
}

struct sg_tensor *sae_decoder_norms(struct sae_build *b) {
    struct sg_ctx *ctx  = b->ctx;
    struct sg_tensor *n = sg_sqrt(ctx, sg_sum_rows(ctx, sg_sqr(ctx, b->sae->W_dec))); /* [1, d_sae] */
    return sg_reshape(ctx, n, 1, (int64_t[]){b->sae->cfg.d_sae});
}

void sae_aux_k(struct sae_build *b, struct sg_tensor *pre, struct sg_tensor *recon) {
    struct sg_ctx *ctx = b->ctx;
    struct sg_sae *s   = b->sae;
    const int64_t M = s->cfg.d_sae, D = s->cfg.d_in;
    int64_t ka          = s->cfg.k_aux > 0 ? s->cfg.k_aux : D / 2;
    ka                  = ka < 1 ? 1 : (ka > M ? M : ka);
    struct sg_tensor *d = sg_set_input(sg_set_name(sg_new_tensor_1d(ctx, SG_TYPE_F32, M), "dead"));
    b->f->dead          = d;
    /* live latents sink to -1e30: the k_aux largest are the dead ones first, and a live one
     * picked when fewer than k_aux are dead gets a zero coefficient below, which makes
     * k_aux = min(d_in/2, n_dead) without a graph per dead count */
    struct sg_tensor *sink = sg_scale_bias(ctx, d, 1e30f, -1e30f);
    struct sg_tensor *idx  = sg_top_k(ctx, sg_add(ctx, sg_detach(ctx, pre), sink), (int)ka);
    struct sg_tensor *dot  = sg_sparse_dot(ctx, s->W_enc, idx, b->xc);
    struct sg_tensor *is_d = sg_reshape_2d(ctx, sg_get_rows(ctx, sg_reshape_2d(ctx, d, 1, M), idx), ka, b->B);
    struct sg_tensor *v    = sg_mul(ctx, sg_relu(ctx, sg_add(ctx, dot, idx ? bias_rows(b, idx) : NULL)), is_d);
    struct sg_tensor *ahat = sg_embed_bag(ctx, s->W_dec, idx, v);
    /* the residual is a target, not something to train through */
    struct sg_tensor *e   = sg_detach(ctx, sg_sub(ctx, b->x, recon));
    struct sg_tensor *emu = sg_scale(ctx, sg_sum_to(ctx, e, (int64_t[]){D, 1, 1, 1, 1, 1}), 1.0f / (float)b->B);
    struct sg_tensor *den = sg_scale_bias(ctx, sg_sum(ctx, sg_sqr(ctx, sg_sub(ctx, e, emu))), 1.0f, 1e-12f);
    struct sg_tensor *num = sg_sum(ctx, sg_sqr(ctx, sg_sub(ctx, e, ahat)));
    sae_add_term(b, "aux", sg_scale(ctx, sg_div(ctx, num, den), s->cfg.aux_coef));
}

/* ---- training graph -------------------------------------------------------------------- */

sg_status sg_sae_build_train(struct sg_sae *sae, struct sg_ctx *ctx, int64_t batch, bool aux, struct sg_sae_fwd *out) {
    memset(out, 0, sizeof *out);
    if (batch < 1) return sg_error(SG_ERR_INVALID_ARG, "SAE: batch %lld must be positive", (long long)batch);
    const int64_t D    = sae->cfg.d_in;
    out->batch         = batch;
    struct sae_build b = {.sae = sae, .ctx = ctx, .B = batch, .f = out};
    b.aux              = aux && sg_sae_arch_is_topk_family(sae->cfg.arch);
    b.x                = sg_set_input(sg_set_name(sg_new_tensor_2d(ctx, SG_TYPE_F32, D, batch), "x"));
    out->x             = b.x;
    b.xc               = sg_sub(ctx, b.x, sae->b_dec);
    switch (sae->cfg.arch) {
    case SG_SAE_TOPK: sae_loss_topk(&b); break;
    case SG_SAE_BATCHTOPK: sae_loss_batchtopk(&b); break;
    case SG_SAE_MATRYOSHKA: sae_loss_matryoshka(&b); break;
    case SG_SAE_JUMPRELU: sae_loss_jumprelu(&b); break;
    case SG_SAE_STANDARD: sae_loss_standard(&b); break;
    default: break;
    }
    struct sg_tensor *loss = NULL;
    for (int i = 0; i < out->n_terms; i++) loss = loss ? sg_add(ctx, loss, out->terms[i]) : out->terms[i];
    out->loss = loss ? sg_set_output(sg_set_name(loss, "loss")) : NULL;
    /* total variance of the batch, for explained variance */
    struct sg_tensor *mu = sg_scale(ctx, sg_sum_to(ctx, b.x, (int64_t[]){D, 1, 1, 1, 1, 1}), 1.0f / (float)batch);
    out->sst             = sg_sum(ctx, sg_sqr(ctx, sg_sub(ctx, b.x, mu)));
    if (out->sst) sg_set_output(sg_set_name(out->sst, "sst"));
    sg_status st = sg_ctx_status(ctx);
    if (st != SG_OK) {
        sg_sae_fwd_release(out);
        return sg_error(st, "SAE %s graph: %s", sg_sae_arch_name(sae->cfg.arch), sg_ctx_error(ctx));
    }
    return SG_OK;
}

sg_status sg_sae_fwd_upload(struct sg_sae_fwd *f) {
    for (int i = 0; i < f->n_const; i++) {
        if (!f->const_data[i]) continue;
        sg_status st = sg_tensor_set(f->consts[i], f->const_data[i], 0, (size_t)sg_nelements(f->consts[i]) * 4);
        if (st != SG_OK) return st;
        free(f->const_data[i]);
        f->const_data[i] = NULL;
    }
    return SG_OK;
}

void sg_sae_fwd_release(struct sg_sae_fwd *f) {
    for (int i = 0; i < f->n_const; i++) {
        free(f->const_data[i]);
        f->const_data[i] = NULL;
    }
}

/* ---- inference graph ------------------------------------------------------------------- */

sg_status sg_sae_build_encode(struct sg_sae *sae, struct sg_ctx *ctx, int64_t batch, int k_codes, bool recon,
                              struct sg_sae_enc *out) {
    memset(out, 0, sizeof *out);
    const struct sg_sae_config *c = &sae->cfg;
    const int64_t D = c->d_in, M = c->d_sae;
    if (batch < 1) return sg_error(SG_ERR_INVALID_ARG, "SAE: batch %lld must be positive", (long long)batch);
    if (sae->scale != 1.0f) return sg_error(SG_ERR_INVALID_ARG, "SAE: fold the input scale before inference");
    enum sg_sae_arch arch = sg_sae_arch_saved(c->arch);
    if (arch == SG_SAE_TOPK) k_codes = c->k;
    if (k_codes < 1) k_codes = 1;
    if (k_codes > M) k_codes = (int)M;
    out->batch           = batch;
    out->k_codes         = k_codes;
    out->x               = sg_set_input(sg_set_name(sg_new_tensor_2d(ctx, SG_TYPE_F32, D, batch), "x"));
    struct sg_tensor *xc = sg_sub(ctx, out->x, sae->b_dec);
    /* the ReLU of the architectures that read nothing else goes into the encoder's epilogue */
    bool relu_only         = arch != SG_SAE_TOPK && arch != SG_SAE_JUMPRELU;
    struct sg_tensor *pre  = sg_linear(ctx, xc, sg_transpose(ctx, sae->W_enc), sae->b_enc,
                                      relu_only ? SG_LINEAR_RELU : SG_LINEAR_NONE, 0.0f);
    struct sg_tensor *acts = NULL, *l1 = NULL;
    if (arch == SG_SAE_TOPK) {
        out->idx  = sg_top_k(ctx, pre, k_codes);
        out->vals = sg_relu(ctx, sg_gather(ctx, pre, out->idx));
        l1        = sg_sum(ctx, out->vals);
        if (recon) out->recon = sg_add(ctx, sg_embed_bag(ctx, sae->W_dec, out->idx, out->vals), sae->b_dec);
        /* counts per latent from the codes: scatter the firing flags over a row of ones */
        struct sg_tensor *ones =
            sg_scale_bias(ctx, sg_sum_to(ctx, out->vals, (int64_t[]){1, batch, 1, 1, 1, 1}), 0.0f, 1.0f);
        struct sg_tensor *cnt = sg_scatter_outer(ctx, out->idx, sg_step(ctx, out->vals), ones, M);
        out->fired            = sg_reshape(ctx, cnt, 1, (int64_t[]){M});
    } else {
        if (arch == SG_SAE_JUMPRELU)
            acts = sg_mul(ctx, pre, sg_step(ctx, sg_sub(ctx, pre, sae->threshold)));
        else
            acts = pre; /* ReLU applied by the encoder */
        out->idx  = sg_top_k(ctx, acts, k_codes);
        out->vals = sg_gather(ctx, acts, out->idx);
        l1        = sg_sum(ctx, acts);
        if (recon) out->recon = sg_linear(ctx, acts, sae->W_dec, sae->b_dec, SG_LINEAR_NONE, 0.0f);
        struct sg_tensor *cnt = sg_sum_to(ctx, sg_step(ctx, acts), (int64_t[]){M, 1, 1, 1, 1, 1});
        out->fired            = sg_reshape(ctx, cnt, 1, (int64_t[]){M});
    }
    out->l1      = l1;
    sg_status st = sg_ctx_status(ctx);
    if (st != SG_OK) return sg_error(st, "SAE encode graph: %s", sg_ctx_error(ctx));
    sg_set_output(sg_set_name(out->idx, "codes.idx"));
    sg_set_output(sg_set_name(out->vals, "codes.vals"));
    sg_set_output(sg_set_name(out->fired, "fired"));
    sg_set_output(sg_set_name(out->l1, "l1"));
    if (out->recon) sg_set_output(sg_set_name(out->recon, "recon"));
    return SG_OK;
}
