#include "pipeline/cells.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sg_status sg_cells_open(const struct sg_cells_opts *o, struct sg_cells **out) {
    *out               = NULL;
    struct sg_cells *c = calloc(1, sizeof *c);
    if (!c) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    snprintf(c->data, sizeof c->data, "%s", o->data);
    sg_status st = tx1_resolve_model(o->model, o->model_size, c->model_dir, sizeof c->model_dir);
    if (st == SG_OK) st = sg_h5ad_open(o->data, &c->h);
    if (st == SG_OK) st = tx1_model_load_as(c->model_dir, o->device, o->dtype, &c->m);
    if (st == SG_OK && !c->m->vocab)
        st = sg_error(SG_ERR_INVALID_ARG, "%s: the model has no vocabulary (vocab.json)", c->model_dir);
    if (st == SG_OK) st = tx1_gene_map_build(c->m->vocab, c->h, o->gene_id_key, &c->genes);
    if (st != SG_OK) {
        sg_cells_close(c);
        return st;
    }
    int64_t context = o->context > 0 ? o->context : (c->m->cfg.max_length > 1 ? c->m->cfg.max_length : 2048);
    tx1_tokenizer_init(&c->tk, c->m, context, o->seed);
    c->n_cells = sg_h5ad_n_obs(c->h);
    if (o->max_cells > 0 && o->max_cells < c->n_cells) c->n_cells = o->max_cells;
    if (c->n_cells == 0) {
        sg_cells_close(c);
        return sg_error(SG_ERR_INVALID_ARG, "%s: has no cells", o->data);
    }
    c->chunk_rows = sg_h5ad_rows_per_chunk(c->h, 64u << 20);
    *out          = c;
    return SG_OK;
}

void sg_cells_close(struct sg_cells *c) {
    if (!c) return;
    tx1_model_free(c->m);
    tx1_gene_map_free(&c->genes);
    sg_h5ad_rows_free(&c->rows);
    sg_h5ad_close(c->h);
    free(c->gid);
    free(c);
}

int sg_cells_default_layer(const struct sg_cells *c) { return (int)(c->m->cfg.n_layers / 2); }

/* Makes row r part of the chunk in memory; with exact_reads the chunk ends at `end`. */
static sg_status load_row(struct sg_cells *c, int64_t r, int64_t end) {
    if (c->rows.indptr && r >= c->rows.row0 && r < c->rows.row0 + c->rows.n_rows) return SG_OK;
    int64_t n = c->chunk_rows < c->n_cells - r ? c->chunk_rows : c->n_cells - r;
    if (c->exact_reads && n > end - r) n = end - r;
    sg_status st = sg_h5ad_read_rows(c->h, r, n, &c->rows);
    if (st != SG_OK) return st;
    if (c->rows.nnz > c->gid_cap) {
        int32_t *g = realloc(c->gid, (size_t)c->rows.nnz * sizeof *g);
        if (!g) return sg_error(SG_ERR_NO_MEMORY, "out of memory for %lld values", (long long)c->rows.nnz);
        c->gid     = g;
        c->gid_cap = c->rows.nnz;
    }
    for (int64_t p = 0; p < c->rows.nnz; p++) c->gid[p] = c->genes.ids[c->rows.cols[p]];
    return SG_OK;
}

sg_status sg_cells_batch(struct sg_cells *c, int64_t first, int64_t n, struct tx1_batch *b) {
    return sg_cells_batch_genes(c, first, n, b, NULL, NULL);
}

sg_status sg_cells_batch_genes(struct sg_cells *c, int64_t first, int64_t n, struct tx1_batch *b, int32_t *var,
                               float *raw) {
    tx1_batch_clear(b);
    if (first < 0 || n < 1 || first + n > c->n_cells || n > b->cap_batch)
        return sg_error(SG_ERR_INVALID_ARG, "cells [%lld, %lld) outside the %lld cells or the batch", (long long)first,
                        (long long)(first + n), (long long)c->n_cells);
    for (int64_t r = first; r < first + n; r++) {
        sg_status st = load_row(c, r, first + n);
        if (st != SG_OK) return st;
        int64_t i = r - c->rows.row0, p0 = c->rows.indptr[i], cnt = c->rows.indptr[i + 1] - p0;
        st = tx1_batch_add(b, &c->tk, r, c->gid + p0, c->rows.vals + p0, cnt);
        if (st != SG_OK) return sg_error_wrap(st, "%s", c->data);
        if (!var) continue;
        const int64_t off = (b->n_cells - 1) * b->cap_seq;
        for (int64_t t = 0; t < b->cap_seq; t++) {
            int32_t e    = b->entry[off + t];
            var[off + t] = e < 0 ? -1 : c->rows.cols[p0 + e];
            raw[off + t] = e < 0 ? 0.0f : c->rows.vals[p0 + e];
        }
    }
    return SG_OK;
}
