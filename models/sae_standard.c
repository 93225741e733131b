/* Standard ReLU SAE (SAELens "standard"): f = ReLU(π); loss MSE + λ·mean_b Σ_i f_i·||W_dec[i]||,
 * the L1 penalty weighted by decoder norms (always on in SAELens v6), so shrinking the code
 * while growing the decoder does not pay. */
#include "models/sae_priv.h"

void sae_loss_standard(struct sae_build *b) {
    struct sg_ctx *ctx  = b->ctx;
    struct sg_tensor *f = sae_encode(b, SG_LINEAR_RELU);
    sae_mse_term(b, sae_decode_dense(b, f), "mse");
    struct sg_tensor *l1 = sg_sum(ctx, sg_mul(ctx, f, sae_decoder_norms(b)));
    sae_add_term(b, "l1_loss", sae_penalty_term(b, l1, b->sae->cfg.l1_coef));
    sae_fired_dense(b, f);
}
