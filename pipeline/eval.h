/* SAE evaluation (`saeg eval`, and the end of `saeg train`): reconstruction and sparsity metrics
 * over a stream of activations, and "loss recovered" by splicing the reconstruction into Tahoe
 * X1. Definitions (../shared/reference/sae.md §4, docs/training.md):
 *   L0        mean over tokens of the number of latents > 0
 *   mse       mean over tokens and dims of (x - x̂)²   (mse_per_token: mean_b Σ_d)
 *   explained_variance  1 - Σ(x - x̂)² / Σ(x - μ)², μ the mean of each dim over all tokens
 *   cosine    mean_b cos(x_b, x̂_b);  l2_ratio  mean_b ||x̂_b|| / ||x_b||
 *   relative_reconstruction_bias  E||x̂||² / E[x·x̂]
 *   dead / dense fraction: latents firing on no token / on more than 10% of tokens
 *   density histogram: log10(firing frequency + 1e-10) in 0.5-wide bins from -10 to 0
 *   loss_recovered = (L_abl - L_sae) / (L_abl - L_clean), L the model's own objective
 *     (masked-expression MSE and MVC, averaged) with seeded generative masks, where at the
 *     layer the selected tokens keep their activations (clean), take the SAE's reconstruction
 *     (sae), or are zeroed (abl).
 *
 *     struct sg_eval_opts eo = {.max_tokens = 1 << 20, .batch = 4096};
 *     struct sg_eval_result r;
 *     sg_eval_reconstruction(sae, src, stream, &eo, &r);
 *     sg_eval_loss_recovered(sae, cells, stream, layer, SG_TOKENS_GENES, &eo, &r);
 *     sg_eval_write_json("run/eval.json", &r);
 */
#ifndef SG_PIPELINE_EVAL_H
#define SG_PIPELINE_EVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/backend.h"
#include "models/sae.h"
#include "pipeline/act_source.h"
#include "pipeline/cells.h"

#define SG_EVAL_HIST_BINS 21 /* log10 density: [-10, -9.5), ..., [-0.5, 0], and exactly dead */

struct sg_eval_opts {
    int64_t max_tokens;   /* reconstruction metrics over at most this many tokens (one epoch at most) */
    int64_t batch;        /* tokens per SAE pass */
    int64_t cells;        /* cells for loss recovered (0: skip it) */
    int64_t batch_cells;  /* cells per model pass */
    double mask_fraction; /* generative mask: fraction of each cell's genes (0.5, as in training) */
    uint64_t seed;
};

struct sg_eval_result {
    int64_t n_tokens, d_sae;
    double l0, l1, mse, mse_per_token, explained_variance, cosine, l2_ratio, relative_reconstruction_bias;
    double dead_fraction, dense_fraction;
    int64_t hist[SG_EVAL_HIST_BINS]; /* latents per log10-density bin; the last counts dead ones */
    float *freq;                     /* [d_sae] firing frequency (owned; sg_eval_result_free) */
    bool have_loss;
    int64_t loss_cells, loss_tokens; /* cells and masked tokens behind the losses */
    double loss_clean, loss_sae, loss_ablation, loss_recovered;
};

void sg_eval_opts_default(struct sg_eval_opts *o);
void sg_eval_result_free(struct sg_eval_result *r);
/* Metrics over the next tokens of src (from where it stands). The SAE must be folded. */
sg_status sg_eval_reconstruction(struct sg_sae *sae, struct sg_act_source *src, struct sg_stream *stream,
                                 const struct sg_eval_opts *o, struct sg_eval_result *out);
/* Loss recovered over the first o->cells cells, splicing at block `layer` the tokens selected by
 * `tokens`. */
sg_status sg_eval_loss_recovered(struct sg_sae *sae, struct sg_cells *cells, struct sg_stream *stream, int layer,
                                 enum sg_tokens tokens, const struct sg_eval_opts *o, struct sg_eval_result *out);
sg_status sg_eval_write_json(const char *path, const struct sg_eval_result *r, const char *extra_json);

#endif
