/* SAE training on Tahoe X1 activations: the loop behind `saeg train`.
 *
 *     struct sg_train_opts o;
 *     sg_train_opts_default(&o);
 *     o.data = "cells.h5ad"; o.model = "70m-model"; o.output = "run1"; o.steps = 10000;
 *     if (sg_train_run(&o, NULL) != SG_OK) fprintf(stderr, "%s\n", sg_last_error());
 *
 * The recipe (docs/training.md, ../shared/reference/sae.md §9): activations at --layer scaled so
 * that E||x|| = sqrt(d_in); W_dec rows unit norm (0.1 for standard/jumprelu), W_enc = W_dec^T,
 * b_dec the geometric median of the first batch; Adam(0.9, 0.999) with lr 2e-4/sqrt(d_sae/2^14),
 * 1000 warm-up steps, linear decay over the last 20%, global-norm clipping at 1; aux-k over dead
 * latents and a unit-norm decoder with gradient projection for the TopK family.
 *
 * Output folder: sae/ (SAELens v6), training_log.jsonl, eval.json, checkpoint.safetensors.
 * Deterministic for a seed on one backend with one thread count.
 */
#ifndef SG_PIPELINE_TRAIN_H
#define SG_PIPELINE_TRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "models/sae.h"
#include "pipeline/act_source.h"
#include "pipeline/eval.h"

struct sg_train_opts {
    /* data: the model and the h5ad, or a caller's source */
    const char *data, *model, *model_size, *gene_id_key;
    int layer;             /* -1: the middle block */
    enum sg_tokens tokens; /* genes */
    int64_t max_cells;     /* <= 0: all */
    int64_t context;       /* <= 0: the model's */
    int64_t cells_per_pass;
    const char *cache_dir;        /* --cache-activations */
    bool cache_f32;               /* shards in F32 instead of BF16 */
    struct sg_act_source *source; /* tests and benchmarks: train on this instead (no model) */

    /* the SAE: architecture, d_sae, k and coefficients (d_in comes from the model or the
     * source). sg_train_opts_default fills TopK defaults; to change the architecture, call
     * sg_sae_config_default(&o.sae, arch, 0, d_sae) and then adjust fields. */
    struct sg_sae_config sae;

    /* optimisation */
    int64_t steps, batch;
    double lr;                    /* <= 0: 2e-4 / sqrt(d_sae / 2^14) */
    int64_t warmup_steps;         /* < 0: min(1000, steps / 10) */
    double decay_frac;            /* linear decay over this last fraction of the steps (0.2) */
    double clip;                  /* global gradient-norm clip (1.0; <= 0 off) */
    int64_t dead_tokens;          /* a latent silent for this many tokens is dead (10M) */
    int64_t penalty_warmup_steps; /* jumprelu/standard: the sparsity coefficient ramps up from 0
                                     over these steps; < 0: 5% of the steps */
    int64_t pool_tokens;          /* shuffle pool; <= 0: 8 batches */
    uint64_t seed;

    /* the run */
    const char *output;
    const char *device;
    enum tx1_dtype dtype; /* --dtype of the model's Linear weights: AUTO (bf16 on CUDA, else f32) */
    int threads;
    int64_t checkpoint_every; /* <= 0: only at the end */
    bool resume;
    bool overwrite;    /* start afresh even when output already holds a training run */
    int64_t log_every; /* training_log.jsonl line every N steps (10) */
    int progress;      /* 1 bar, 0 plain lines, -1: a bar when stderr is a terminal */
    bool eval;         /* evaluate at the end (eval.json) */
    struct sg_eval_opts eval_opts;

    /* tests: called after every step with the step count done */
    void (*on_step)(int64_t step, void *user);
    void *user;
};

struct sg_train_result {
    int64_t steps_done;
    double final_loss, final_mse, final_ev, final_l0;
    double dead_fraction;
    double tokens_per_s;
    bool have_eval;
    struct sg_eval_result eval;
};

void sg_train_opts_default(struct sg_train_opts *o);
/* Trains; res (may be NULL) gets the final numbers. */
sg_status sg_train_run(const struct sg_train_opts *o, struct sg_train_result *res);
/* Refuses to start a fresh run over an earlier one: SG_OK when output holds no checkpoint and
 * no sae/cfg.json (or overwrite is set), else an error naming what is there and the options. */
sg_status sg_train_check_output(const char *output, bool overwrite);
/* The default learning rate for a dictionary size: 2e-4 / sqrt(d_sae / 2^14). */
double sg_train_default_lr(int64_t d_sae);
/* The learning rate at step t (0-based) of `steps`. */
double sg_train_lr_at(double lr, int64_t t, int64_t steps, int64_t warmup, double decay_frac);

#endif
