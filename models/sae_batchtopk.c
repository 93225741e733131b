/* BatchTopK (Bussmann et al. 2024; SAELens "batchtopk"): the k·B largest ReLU activations of the
 * whole batch, so tokens differ in L0 and its mean is k. Saved as JumpReLU with the running
 * global threshold θ ← (1 - lr)·θ + lr·θ_batch, which the trainer updates from batch_threshold.
 *
 * Sparse form: each token first keeps its batch_cap·k largest candidates (top_k), then the
 * kB-th largest candidate value of the batch is the threshold. It equals the exact BatchTopK
 * threshold unless one token holds more than batch_cap·k of the batch's k·B winners. */
#include "models/sae_priv.h"

struct sae_codes sae_select_batchtopk(struct sae_build *b, struct sg_tensor *pre) {
    struct sg_ctx *ctx              = b->ctx;
    const struct sg_sae_config *cfg = &b->sae->cfg;
    int64_t Kc                      = (int64_t)cfg->batch_cap * cfg->k;
    if (Kc > cfg->d_sae) Kc = cfg->d_sae;
    struct sae_codes c = sae_select_topk(b, pre, Kc);
    const int64_t n = Kc * b->B, keep_n = (int64_t)cfg->k * b->B;
    /* the threshold: the keep_n-th largest candidate (top_k sorts best first) */
    struct sg_tensor *vd   = sg_detach(ctx, c.vals);
    struct sg_tensor *flat = sg_reshape_2d(ctx, vd, n, 1);
    struct sg_tensor *top  = sg_top_k(ctx, flat, (int)keep_n);
    struct sg_tensor *last =
        top ? sg_view_2d(ctx, top, 1, 1, sizeof(int32_t), (size_t)(keep_n - 1) * sizeof(int32_t)) : NULL;
    struct sg_tensor *th = sg_gather(ctx, flat, last); /* [1, 1] */
    /* keep v >= θ and v > 0; the mask is a constant to autodiff */
    struct sg_tensor *ge   = sg_scale_bias(ctx, sg_step(ctx, sg_sub(ctx, th, vd)), -1.0f, 1.0f);
    struct sg_tensor *keep = sg_mul(ctx, ge, sg_step(ctx, vd));
    c.vals                 = sg_mul(ctx, c.vals, keep);
    if (th) b->f->batch_threshold = sg_set_output(sg_set_name(sg_reshape(ctx, th, 1, (int64_t[]){1}), "threshold"));
    return c;
}

void sae_loss_batchtopk(struct sae_build *b) {
    struct sg_tensor *pre   = sae_pre(b);
    struct sae_codes c      = sae_select_batchtopk(b, pre);
    struct sg_tensor *recon = sae_decode_sparse(b, c);
    sae_mse_term(b, recon, "mse");
    if (b->aux) sae_aux_k(b, pre, recon);
    sae_fired_sparse(b, c);
}
