/* JumpReLU (Rajamanoharan et al. 2024; SAELens "jumprelu"): f = π·H(π - θ) with a trained
 * per-latent threshold θ = exp(log_threshold). The step has no gradient; SAELens's
 * straight-through estimator with the rectangle kernel K(u) = 1[|u| < 1/2] of width ε gives
 *   ∂f/∂π = H(π - θ),   ∂f/∂θ = -(θ/ε)·K((π - θ)/ε),   ∂H/∂θ = -(1/ε)·K((π - θ)/ε).
 * Both come out of autodiff from a zero-valued surrogate s - detach(s) with
 * s = clamp((detach(π) - θ)/ε, -1/2, 1/2), whose derivative in θ is -(1/ε)·K.
 * Loss: MSE + λ·mean_b Σ_i H(π - θ) ("step") or λ·mean_b Σ_i tanh(c·f_i·||W_dec[i]||) ("tanh"). */
#include "models/sae_priv.h"

void sae_loss_jumprelu(struct sae_build *b) {
    struct sg_ctx *ctx            = b->ctx;
    const struct sg_sae_config *c = &b->sae->cfg;
    struct sg_tensor *pre         = sae_pre(b);
    struct sg_tensor *theta       = sg_exp(ctx, b->sae->log_threshold); /* [d_sae] */
    struct sg_tensor *pd          = sg_detach(ctx, pre);
    struct sg_tensor *h           = sg_step(ctx, sg_sub(ctx, pd, sg_detach(ctx, theta)));
    struct sg_tensor *s   = sg_clamp(ctx, sg_scale(ctx, sg_sub(ctx, pd, theta), 1.0f / c->bandwidth), -0.5f, 0.5f);
    struct sg_tensor *ste = sg_sub(ctx, s, sg_detach(ctx, s)); /* 0, with the STE's gradient in θ */
    struct sg_tensor *f   = sg_add(ctx, sg_mul(ctx, pre, h), sg_mul(ctx, theta, ste));
    sae_mse_term(b, sae_decode_dense(b, f), "mse");
    struct sg_tensor *l0;
    if (c->l0_mode == SG_SAE_L0_TANH)
        l0 = sg_sum(ctx, sg_tanh(ctx, sg_scale(ctx, sg_mul(ctx, f, sae_decoder_norms(b)), c->tanh_scale)));
    else
        l0 = sg_sum(ctx, sg_add(ctx, h, ste));
    sae_add_term(b, "l0_loss", sae_penalty_term(b, l0, c->l0_coef));
    sae_fired_dense(b, f);
}
