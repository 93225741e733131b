/* Matryoshka BatchTopK (Bussmann et al. 2025; SAELens "matryoshka_batchtopk"): one BatchTopK
 * code, and a reconstruction loss for each prefix of the dictionary, so the first latents learn
 * the most general features: L = Σ_w mean_b ||f[:, :w] W_dec[:w] + b_dec - x||² + aux-k, summed
 * without weights over the widths (the last is d_sae). Saved as JumpReLU like BatchTopK. */
#include <stdio.h>
#include <stdlib.h>

#include "models/sae_priv.h"

void sae_loss_matryoshka(struct sae_build *b) {
    struct sg_ctx *ctx            = b->ctx;
    const struct sg_sae_config *c = &b->sae->cfg;
    const int64_t M               = c->d_sae;
    struct sg_tensor *pre         = sae_pre(b);
    struct sae_codes code         = sae_select_batchtopk(b, pre);
    struct sg_tensor *recon       = sae_decode_sparse(b, code);
    sae_mse_term(b, recon, "mse");
    float *prefix = malloc((size_t)M * sizeof *prefix);
    if (!prefix) {
        sg_ctx_fail(ctx, SG_ERR_NO_MEMORY, "matryoshka: out of memory");
        return;
    }
    for (int w = 0; w + 1 < c->n_widths; w++) {
        /* the code restricted to latents below the width: a 0/1 table looked up by index */
        for (int64_t i = 0; i < M; i++) prefix[i] = i < c->widths[w] ? 1.0f : 0.0f;
        char *name = sg_ctx_alloc(ctx, 32); /* term names live as long as the graph */
        if (!name) break;
        snprintf(name, 32, "inner_mse_%lld", (long long)c->widths[w]);
        struct sg_tensor *tab  = sae_const(b, 2, (int64_t[]){1, M}, prefix, 0.0f, name);
        struct sg_tensor *in   = sg_get_rows(ctx, tab, code.idx);
        in                     = in ? sg_reshape_2d(ctx, in, code.idx->ne[0], code.idx->ne[1]) : NULL;
        struct sae_codes inner = {code.idx, sg_mul(ctx, code.vals, in)};
        sae_mse_term(b, sae_decode_sparse(b, inner), name);
    }
    free(prefix);
    if (b->aux) sae_aux_k(b, pre, recon);
    sae_fired_sparse(b, code);
}
