/* Cells of an h5ad ready for Tahoe X1: the model, the data, the gene map and the tokenizer
 * opened together, and any range of cells tokenized into a batch. Shared by the activation
 * source, the activation cache and the evaluation.
 *
 *     struct sg_cells_opts o = {.model = "70m-model", .data = "x.h5ad", .device = dev};
 *     struct sg_cells *c;
 *     if (sg_cells_open(&o, &c) != SG_OK) die(sg_last_error());
 *     struct tx1_batch *b = tx1_batch_new(8, c->tk.context);
 *     sg_cells_batch(c, 0, 8, b);                  // cells 0..7, tokenized
 *     sg_cells_close(c);
 */
#ifndef SG_PIPELINE_CELLS_H
#define SG_PIPELINE_CELLS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/backend.h"
#include "core/status.h"
#include "io/h5ad.h"
#include "models/tahoe_x1.h"

struct sg_cells_opts {
    const char *model;      /* model folder, or NULL with model_size */
    const char *model_size; /* "70m", "1.3b", "3b" (resolved as tx1_resolve_model does) */
    const char *data;       /* the h5ad */
    const char *gene_id_key;
    int64_t max_cells; /* <= 0: all */
    int64_t context;   /* tokens per cell at most; <= 0: the model's max_length (else 2048) */
    uint64_t seed;     /* subsampling of long cells */
    struct sg_device *device;
    enum tx1_dtype dtype; /* Linear weights: AUTO (bf16 on CUDA, else f32), F32 or BF16 */
};

struct sg_cells {
    struct tx1_model *m;
    struct sg_h5ad *h;
    struct tx1_gene_map genes;
    struct tx1_tokenizer tk;
    int64_t n_cells;
    char model_dir[1024];
    char data[1024];
    /* the h5ad chunk in memory and its entries' vocabulary ids */
    struct sg_h5ad_rows rows;
    int64_t chunk_rows;
    bool exact_reads; /* read only the rows a batch asks for (MPI ranks: disjoint row ranges) */
    int32_t *gid;
    int64_t gid_cap;
};

sg_status sg_cells_open(const struct sg_cells_opts *o, struct sg_cells **out);
void sg_cells_close(struct sg_cells *c);
/* Clears b and tokenizes cells [first, first + n) into it (n <= b->cap_batch). */
sg_status sg_cells_batch(struct sg_cells *c, int64_t first, int64_t n, struct tx1_batch *b);
/* As sg_cells_batch, and for every token t of cell i also var[i * b->cap_seq + t], the var
 * (gene) index, and raw[...], its value in X; -1 and 0 for CLS and padding. */
sg_status sg_cells_batch_genes(struct sg_cells *c, int64_t first, int64_t n, struct tx1_batch *b, int32_t *var,
                               float *raw);
/* The model's default SAE layer: the middle block, n_layers / 2. */
int sg_cells_default_layer(const struct sg_cells *c);

#endif
