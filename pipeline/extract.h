/* Feature extraction (`saeg extract`): what each SAE feature responds to, from cells streamed
 * through Tahoe X1 and the SAE encoder batch by batch.
 *
 *     struct sg_extract_opts o;
 *     sg_extract_opts_default(&o);
 *     o.sae_dir = "run1/sae"; o.data = "cells.h5ad"; o.model = "70m-model"; o.output = "run1";
 *     struct sg_extract_result r;
 *     if (sg_extract_run(&o, &r) != SG_OK) fprintf(stderr, "%s\n", sg_last_error());
 *
 * Per feature (docs/extract.md; the files are specified in docs/schemas.md):
 *   genes   score = activation on the gene's token × the gene's value in X, summed over cells,
 *           averaged over the cells where the gene is expressed, and its maximum; the top
 *           --top-k-genes by `rank_by` (mean by default)
 *   cells   cell activation = max over the cell's gene tokens (the CLS token apart); the top
 *           --top-k-cells cells with their obs annotations; one-sided Fisher test of the active
 *           cells against each cell type, Benjamini-Hochberg over the feature's types
 *   stats   firing frequency over gene tokens, mean and max activation, a histogram
 * Writes OUTPUT/feature_gene_associations.json, feature_cell_associations.json,
 * feature_stats.json, and with write_h5ad a copy of the input with obsm['X_sae'].
 *
 * Memory: the model batch and its codes; O(d_sae × (top_k_cells + cell types +
 * histogram_samples)) for the per-feature accumulators; one accumulator per (feature, gene) pair
 * that ever fired on an expressed gene. Activations are never held for more than one batch of
 * cells. Counts, sums, maxima and top-k lists are exact; a histogram is exact for a feature that
 * fired at most histogram_samples times and comes from a uniform sample of that many otherwise.
 */
#ifndef SG_PIPELINE_EXTRACT_H
#define SG_PIPELINE_EXTRACT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "models/tahoe_x1.h"

enum sg_extract_rank { SG_RANK_MEAN = 0, SG_RANK_SUM, SG_RANK_MAX };
const char *sg_extract_rank_name(enum sg_extract_rank r);
sg_status sg_extract_rank_parse(const char *s, enum sg_extract_rank *out);

struct sg_extract_opts {
    const char *sae_dir;    /* the SAE folder (SAELens layout) */
    const char *data;       /* the h5ad */
    const char *model;      /* model folder; or model_size; or NULL: cfg.json's model_size */
    const char *model_size; /* "70m", "1.3b"/"1b", "3b" */
    const char *output;     /* run folder (created) */
    const char *gene_id_key, *symbol_key, *cell_type_key; /* NULL: detected (docs/extract.md) */
    int64_t top_k_genes, top_k_cells;                     /* 100, 100 */
    enum sg_extract_rank rank_by;                         /* mean */
    int layer;                                            /* -1: cfg.json's metadata.layer */
    int64_t max_cells;                                    /* <= 0: all */
    int64_t context;                                      /* <= 0: cfg.json's context_size, else the model's */
    int64_t batch_cells;                                  /* cells per forward pass (8) */
    int64_t sae_batch;                                    /* tokens per SAE encoder pass (4096) */
    int max_codes;             /* non-TopK SAEs: latents kept per token (1024); TopK keeps k */
    int histogram_bins;        /* 50 */
    int32_t histogram_samples; /* activations kept per feature for its histogram (4096) */
    uint64_t seed;             /* subsampling of cells longer than the context (0) */
    const char *device;        /* "auto" */
    enum tx1_dtype dtype;      /* --dtype: AUTO (bf16 on CUDA, else f32) */
    int threads;               /* 0: SAEG_THREADS or the physical cores */
    const char *write_h5ad;    /* NULL: none; "": OUTPUT/<data stem>_sae.h5ad; else this path */
    bool resume;               /* continue OUTPUT/extract_checkpoint.safetensors */
    bool overwrite;            /* drop an interrupted run's checkpoint and start afresh */
    int64_t checkpoint_every;  /* seconds between checkpoints (600; 0: after every batch) */
};

struct sg_extract_result {
    int64_t n_cells, n_tokens, d_sae, n_alive;
    int layer;
    int64_t n_pairs;          /* (feature, gene) accumulators */
    int64_t truncated_tokens; /* tokens with more active latents than max_codes */
    char symbol_key[128];     /* the var column of the symbols; "" the var index */
    bool has_symbols;
    char cell_type_key[128]; /* "" none */
    char h5ad[4096];         /* the --write-h5ad file, "" when none */
};

void sg_extract_opts_default(struct sg_extract_opts *o);
sg_status sg_extract_run(const struct sg_extract_opts *o, struct sg_extract_result *res);

#endif
