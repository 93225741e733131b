/* TopK (Gao et al. 2024; SAELens "topk"): the k largest pre-activations of each token, ReLU'd.
 * Loss: Σ_d (x̂ - x)² averaged over tokens, plus aux-k over dead latents. The whole graph after
 * the encoder GEMM is sparse: k latents per token. */
#include "models/sae_priv.h"

void sae_loss_topk(struct sae_build *b) {
    struct sg_tensor *pre   = sae_pre(b);
    struct sae_codes c      = sae_select_topk(b, pre, b->sae->cfg.k);
    struct sg_tensor *recon = sae_decode_sparse(b, c);
    sae_mse_term(b, recon, "mse");
    if (b->aux) sae_aux_k(b, pre, recon);
    sae_fired_sparse(b, c);
}
