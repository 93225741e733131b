/* Pieces shared by the SAE architectures' graphs (sae_graph.c) and the one loss definition of
 * each architecture (sae_<arch>.c). Internal to models/. */
#ifndef SG_MODELS_SAE_PRIV_H
#define SG_MODELS_SAE_PRIV_H

#include "core/context.h"
#include "core/ops.h"
#include "models/sae.h"

/* One training graph being built. */
struct sae_build {
    struct sg_sae *sae;
    struct sg_ctx *ctx;
    int64_t B;
    bool aux;
    struct sg_sae_fwd *f;
    struct sg_tensor *x;  /* [d_in, B] */
    struct sg_tensor *xc; /* x - b_dec: the encoder's input (apply_b_dec_to_input) */
};

/* A sparse code: K latents per token and their activations. */
struct sae_codes {
    struct sg_tensor *idx;  /* I32 [K, B] */
    struct sg_tensor *vals; /* F32 [K, B] */
};

/* Dense pre-activations xc W_enc^T + b_enc  [d_sae, B]. */
struct sg_tensor *sae_pre(struct sae_build *b);
/* The same with an activation fused into the encoder product (sg_linear's epilogue). */
struct sg_tensor *sae_encode(struct sae_build *b, enum sg_linear_act act);
/* The K largest pre-activations per token, recomputed on the sparse path (sparse_dot of the
 * selected encoder rows plus their biases) and ReLU'd: gradients reach only those latents. */
struct sae_codes sae_select_topk(struct sae_build *b, struct sg_tensor *pre, int64_t K);
/* f W_dec + b_dec from a sparse code (embed_bag) or dense activations (matmul). */
struct sg_tensor *sae_decode_sparse(struct sae_build *b, struct sae_codes c);
struct sg_tensor *sae_decode_dense(struct sae_build *b, struct sg_tensor *acts);
/* Σ (recon - x)² / B as the term `name`; the first call also sets f->sse. */
struct sg_tensor *sae_mse_term(struct sae_build *b, struct sg_tensor *recon, const char *name);
/* The aux-k loss over dead latents (topk family): α·||e - â||² / ||e - ē||² with e = x - x̂
 * detached, â decoded (without bias) from the k_aux largest pre-activations among dead
 * latents. Adds the term "aux" and the `dead` input. */
void sae_aux_k(struct sae_build *b, struct sg_tensor *pre, struct sg_tensor *recon);
/* ||W_dec[i]|| as [d_sae] (for penalties weighted by decoder norms). */
struct sg_tensor *sae_decoder_norms(struct sae_build *b);
/* Per-latent firing counts of the batch into f->fired. */
void sae_fired_sparse(struct sae_build *b, struct sae_codes c);
void sae_fired_dense(struct sae_build *b, struct sg_tensor *acts);
/* A constant input filled with `value` (data NULL) or a copy of data, uploaded later. */
struct sg_tensor *sae_const(struct sae_build *b, int n_dims, const int64_t *ne, const float *data, float value,
                            const char *name);
void sae_add_term(struct sae_build *b, const char *name, struct sg_tensor *t);
/* sum * (the penalty input): a sparsity term whose coefficient can change every step. */
struct sg_tensor *sae_penalty_term(struct sae_build *b, struct sg_tensor *sum, float coef);

/* The BatchTopK code: per token the batch_cap·k largest candidates, of which the k·B largest
 * of the batch are kept (f->batch_threshold is the smallest kept value). */
struct sae_codes sae_select_batchtopk(struct sae_build *b, struct sg_tensor *pre);

/* One loss per architecture: each adds its terms (their sum is the loss) and sets fired. */
void sae_loss_topk(struct sae_build *b);
void sae_loss_batchtopk(struct sae_build *b);
void sae_loss_matryoshka(struct sae_build *b);
void sae_loss_jumprelu(struct sae_build *b);
void sae_loss_standard(struct sae_build *b);

#endif
