/* Sparse autoencoders (SAEs): architectures, training and inference graphs, SAELens v6 files.
 *
 *     struct sg_sae_config cfg;
 *     sg_sae_config_default(&cfg, SG_SAE_TOPK, 512, 16384);      // k = 64
 *     struct sg_sae *sae;
 *     sg_sae_new(&cfg, dev, &sae);                                // weights on dev, undefined
 *     sg_sae_init(sae, seed, first_batch, n_rows);                // W_dec, W_enc = W_dec^T, b_dec
 *
 *     struct sg_sae_fwd f;                                        // loss graph, in a caller ctx
 *     sg_sae_build_train(sae, ctx, 4096, true, &f);               // then sg_graph_backward(f.loss)
 *
 *     sg_sae_save(sae, "run/sae", &meta);      // cfg.json + sae_weights.safetensors (SAELens v6)
 *     sg_sae_load("run/sae", dev, &sae2);      // topk, jumprelu, standard
 *
 * Layout. SAELens stores W_enc [d_in, d_sae] and W_dec [d_sae, d_in]; here both are held as
 * d_sae rows of d_in (ne = {d_in, d_sae}), so that a latent's encoder and decoder directions are
 * rows the sparse ops (sparse_dot, embed_bag, scatter_outer) can pick by index. The encoder GEMM
 * reads W_enc through a transposed view; the writer transposes W_enc into SAELens's layout.
 *
 * Training-only architectures are saved as the inference architecture SAELens uses for them:
 * batchtopk and matryoshka-batchtopk as jumprelu with one global threshold.
 *
 * Input scaling: the trainer feeds s·x with s = sqrt(d_in)/E||x||. sg_sae_fold_scale() folds s
 * into the weights (W_enc *= s, W_dec /= s, b_dec /= s) so that the saved SAE takes raw x.
 */
#ifndef SG_MODELS_SAE_H
#define SG_MODELS_SAE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/backend.h"
#include "core/graph.h"
#include "core/status.h"
#include "core/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

enum sg_sae_arch {
    SG_SAE_TOPK = 0,   /* k largest pre-activations per token, ReLU */
    SG_SAE_BATCHTOPK,  /* k·B largest ReLU activations of the whole batch (mean L0 = k) */
    SG_SAE_JUMPRELU,   /* ReLU(π)·1[π > θ_i], θ trained with a straight-through estimator */
    SG_SAE_STANDARD,   /* ReLU + L1 penalty weighted by decoder norms */
    SG_SAE_MATRYOSHKA, /* BatchTopK code, nested reconstruction losses over prefix widths */
    SG_SAE_ARCH_COUNT
};

enum sg_sae_l0_mode {
    SG_SAE_L0_STEP = 0, /* λ·mean_b Σ_i H(π − θ) (DeepMind, Gemma Scope) */
    SG_SAE_L0_TANH,     /* λ·mean_b Σ_i tanh(c·f·||W_dec[i]||) (Anthropic, 2025) */
};

#define SG_SAE_MAX_WIDTHS 8

struct sg_sae_config {
    enum sg_sae_arch arch;
    int64_t d_in, d_sae;
    int k;              /* topk family: active latents per token (batchtopk: on average) */
    int batch_cap;      /* batchtopk family: candidates per token = batch_cap·k (default 4) */
    float threshold_lr; /* batchtopk family: EMA rate of the global threshold (0.01) */
    float aux_coef;     /* topk family: aux-k coefficient (1/32) */
    int64_t k_aux;      /* topk family: aux-k latents per token at most (0: d_in/2) */
    float l1_coef;      /* standard: L1 coefficient (5) */
    float l0_coef;      /* jumprelu: L0 coefficient (1) */
    enum sg_sae_l0_mode l0_mode;
    float bandwidth;         /* jumprelu: STE kernel width ε (0.05) */
    float init_threshold;    /* jumprelu: θ at initialisation (0.01) */
    float tanh_scale;        /* jumprelu tanh: c (4) */
    float decoder_init_norm; /* row norm of W_dec at initialisation: 1 (topk family), 0.1 */
    int n_widths;            /* matryoshka: prefix widths, increasing, the last = d_sae */
    int64_t widths[SG_SAE_MAX_WIDTHS];
};

/* Architecture names as given on the command line: "topk", "batchtopk", "jumprelu",
 * "standard", "matryoshka-batchtopk" (also "matryoshka"). */
const char *sg_sae_arch_name(enum sg_sae_arch arch);
sg_status sg_sae_arch_parse(const char *name, enum sg_sae_arch *out);
/* True for topk, batchtopk, matryoshka: unit-norm decoder, aux-k loss, sparse path. */
bool sg_sae_arch_is_topk_family(enum sg_sae_arch arch);
/* The architecture SAELens loads the saved file as: topk, jumprelu or standard. */
enum sg_sae_arch sg_sae_arch_saved(enum sg_sae_arch arch);

/* Defaults of the recipe (../shared/reference/sae.md §9) for an architecture. */
void sg_sae_config_default(struct sg_sae_config *cfg, enum sg_sae_arch arch, int64_t d_in, int64_t d_sae);
/* Checks sizes and coefficients; the message names the bad field. */
sg_status sg_sae_config_check(const struct sg_sae_config *cfg);

struct sg_sae {
    struct sg_sae_config cfg;
    struct sg_ctx *ctx; /* owns the weight tensors */
    struct sg_buffer_list bufs;
    struct sg_tensor *W_enc;         /* [d_in, d_sae]: row i = encoder direction of latent i */
    struct sg_tensor *b_enc;         /* [d_sae] */
    struct sg_tensor *W_dec;         /* [d_in, d_sae]: row i = decoder direction of latent i */
    struct sg_tensor *b_dec;         /* [d_in] */
    struct sg_tensor *log_threshold; /* [d_sae], jumprelu training only: θ = exp(log_threshold) */
    struct sg_tensor *threshold;     /* [d_sae], inference with a threshold (jumprelu, batchtopk) */
    float scale;                     /* the SAE sees scale·x; 1 once folded or loaded */
    double batch_threshold;          /* batchtopk family: the running global threshold */
};

/* Creates the weight tensors of cfg on dev (contents undefined). */
sg_status sg_sae_new(const struct sg_sae_config *cfg, struct sg_device *dev, struct sg_sae **out);
void sg_sae_free(struct sg_sae *sae);

/* Initialisation: W_dec rows random directions of norm cfg.decoder_init_norm, W_enc = W_dec^T,
 * b_enc = 0, b_dec = the geometric median of x (n rows of d_in, already scaled), θ = the
 * initial threshold. Deterministic for a seed. */
sg_status sg_sae_init(struct sg_sae *sae, uint64_t seed, const float *x, int64_t n);
/* Weiszfeld's geometric median of n rows of d floats (at most 100 iterations). */
void sg_sae_geometric_median(const float *x, int64_t n, int64_t d, float *out);

/* Makes the SAE ready for inference on raw activations: folds the input scale into the weights
 * (scale becomes 1) and fills `threshold` (jumprelu: exp(log_threshold); batchtopk family: the
 * running batch threshold). Irreversible; call after the last checkpoint. */
sg_status sg_sae_fold_scale(struct sg_sae *sae);

/* ---- graphs ---------------------------------------------------------------------------- */

#define SG_SAE_MAX_TERMS 12
#define SG_SAE_MAX_CONST 12

/* One training forward pass: tensors created in the caller's context. */
struct sg_sae_fwd {
    int64_t batch;
    struct sg_tensor *x;    /* input F32 [d_in, B]: scaled activations, one token per column */
    struct sg_tensor *dead; /* input F32 [d_sae]: 1 for dead latents (aux-k); NULL without aux */
    struct sg_tensor *loss; /* the scalar to differentiate */
    int n_terms;            /* the loss terms that add up to loss, for the training log */
    const char *term_names[SG_SAE_MAX_TERMS];
    struct sg_tensor *terms[SG_SAE_MAX_TERMS];
    struct sg_tensor *sse;             /* [1] Σ (x − x̂)² */
    struct sg_tensor *sst;             /* [1] Σ (x − mean_b x)² */
    struct sg_tensor *fired;           /* [d_sae] tokens of the batch on which each latent is > 0 */
    struct sg_tensor *batch_threshold; /* [1] batchtopk family: this batch's threshold */
    /* jumprelu, standard: input [1], the sparsity coefficient of this step divided by the
     * batch (λ/B once warmed up); sg_sae_fwd_upload sets λ/B, a trainer may ramp it */
    struct sg_tensor *penalty;
    /* constants the caller uploads once the graph has memory (sg_sae_fwd_upload) */
    int n_const;
    struct sg_tensor *consts[SG_SAE_MAX_CONST];
    float *const_data[SG_SAE_MAX_CONST];
};

/* Builds the loss of sae's architecture for batches of `batch` tokens. `aux` adds the aux-k
 * loss over dead latents (topk family; ignored otherwise). The TopK family runs the sparse
 * path: one encoder GEMM feeds top_k; the selected pre-activations are recomputed with
 * sparse_dot so that every gradient (encoder, decoder, biases) touches only the selected
 * latents of each token. */
sg_status sg_sae_build_train(struct sg_sae *sae, struct sg_ctx *ctx, int64_t batch, bool aux, struct sg_sae_fwd *out);
/* Uploads the constants of a graph that has memory; frees their host copies. */
sg_status sg_sae_fwd_upload(struct sg_sae_fwd *f);
void sg_sae_fwd_release(struct sg_sae_fwd *f);

/* Inference on raw activations (the SAE must be folded or loaded): codes and reconstruction. */
struct sg_sae_enc {
    int64_t batch;
    int k_codes;
    struct sg_tensor *x;     /* input F32 [d_in, B] */
    struct sg_tensor *idx;   /* I32 [k_codes, B]: the largest activations, best first */
    struct sg_tensor *vals;  /* F32 [k_codes, B]: their values (0 where fewer latents fire) */
    struct sg_tensor *recon; /* F32 [d_in, B] (NULL unless asked for) */
    struct sg_tensor *fired; /* F32 [d_sae]: tokens on which each latent is > 0 */
    struct sg_tensor *l1;    /* [1] Σ activations */
};
/* k_codes: codes kept per token (topk: k is used whatever is passed; others: the cap, e.g. 4k).
 * Every architecture's activations come out as (idx, vals); dense architectures compute the
 * full [d_sae, B] activations once and keep the k_codes largest (fired and recon use all). */
sg_status sg_sae_build_encode(struct sg_sae *sae, struct sg_ctx *ctx, int64_t batch, int k_codes, bool recon,
                              struct sg_sae_enc *out);

/* ---- files (SAELens v6) ------------------------------------------------------------------ */

/* What cfg.json's metadata says about where the activations came from. */
struct sg_sae_meta {
    const char *model_name; /* "tahoe-x1-70m" */
    const char *model_size; /* "70m" (or NULL) */
    const char *model_path; /* the model folder */
    int layer;              /* block whose residual stream was used */
    const char *tokens;     /* "genes", "cls" or "all" */
    const char *dataset_path;
    int64_t context_size; /* tokens per cell at most */
};

/* Writes dir/cfg.json and dir/sae_weights.safetensors (F32) atomically (temp + rename). The SAE
 * must be folded (scale 1). */
sg_status sg_sae_save(struct sg_sae *sae, const char *dir, const struct sg_sae_meta *meta);
/* Writes dir/sparsity.safetensors: "sparsity" [d_sae] F32 = log10(freq + 1e-10). */
sg_status sg_sae_save_sparsity(const char *dir, const float *freq, int64_t d_sae);
/* What cfg.json's metadata says (defaults where a field is missing: layer -1, tokens "genes"). */
struct sg_sae_file_meta {
    int layer;
    char tokens[16];
    char model_size[16];
    int64_t context_size;
};
sg_status sg_sae_read_meta(const char *dir, struct sg_sae_file_meta *out);
/* Reads an SAELens v6 folder (topk, jumprelu or standard; F32/F16/BF16 weights). Errors name the
 * file and the key. */
sg_status sg_sae_load(const char *dir, struct sg_device *dev, struct sg_sae **out);

#ifdef __cplusplus
}
#endif

#endif
