/* The extraction accumulators, fed one cell at a time: per feature the gene-token statistics,
 * the cell statistics (cell activation = max over the cell's gene tokens, CLS apart), the top
 * cells and the active cells per type; per (feature, gene) the activation × expression scores. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/extract_priv.h"

const char *sg_extract_rank_name(enum sg_extract_rank r) {
    switch (r) {
    case SG_RANK_MEAN: return "mean";
    case SG_RANK_SUM: return "sum";
    case SG_RANK_MAX: return "max";
    }
    return "?";
}

sg_status sg_extract_rank_parse(const char *s, enum sg_extract_rank *out) {
    for (int r = SG_RANK_MEAN; r <= SG_RANK_MAX; r++)
        if (strcmp(s, sg_extract_rank_name((enum sg_extract_rank)r)) == 0) {
            *out = (enum sg_extract_rank)r;
            return SG_OK;
        }
    return sg_error(SG_ERR_INVALID_ARG, "--rank-by '%s': choose mean, sum or max", s);
}

void sg_extract_acc_free(struct sg_extract_acc *a) {
    if (!a) return;
    for (int64_t f = 0; a->res && f < a->o.d_sae; f++) free(a->res[f].v);
    free(a->res);
    free(a->n_active);
    free(a->sum_act);
    free(a->min_act);
    free(a->max_act);
    free(a->hist);
    free(a->n_active_cells);
    free(a->type_active);
    free(a->type_size);
    free(a->cls_n);
    free(a->cls_sum);
    free(a->cls_max);
    free(a->top_cells);
    free(a->top_cells_mem);
    free(a->expressed);
    sg_pairs_free(&a->pairs);
    free(a->top_genes);
    free(a->top_genes_mem);
    free(a->enrich);
    free(a->cell_act);
    free(a->cls_act);
    free(a->touched);
    free(a->mark);
    free(a->row.cols);
    free(a->row.vals);
    free(a);
}

sg_status sg_extract_acc_new(const struct sg_extract_acc_opts *o, struct sg_extract_acc **out) {
    *out = NULL;
    if (o->d_sae < 1 || o->d_sae > INT32_MAX || o->n_var < 1 || o->n_var > INT32_MAX || o->n_types < 0 ||
        o->top_k_genes < 0 || o->top_k_cells < 0 || o->top_k_genes > INT32_MAX || o->top_k_cells > INT32_MAX ||
        o->histogram_bins < 1 || o->histogram_samples < 1)
        return sg_error(SG_ERR_INVALID_ARG, "extract: bad accumulator sizes");
    struct sg_extract_acc *a = calloc(1, sizeof *a);
    if (!a) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    a->o           = *o;
    a->rng         = o->seed ^ 0x5eed5a3b1e0fd1ceull;
    const size_t M = (size_t)o->d_sae, T = (size_t)o->n_types, KC = (size_t)o->top_k_cells;
    a->n_active       = calloc(M, sizeof *a->n_active);
    a->sum_act        = calloc(M, sizeof *a->sum_act);
    a->min_act        = malloc(M * sizeof *a->min_act);
    a->max_act        = calloc(M, sizeof *a->max_act);
    a->n_active_cells = calloc(M, sizeof *a->n_active_cells);
    a->type_active    = calloc(M * (T ? T : 1), sizeof *a->type_active);
    a->type_size      = calloc(T ? T : 1, sizeof *a->type_size);
    a->cls_n          = calloc(M, sizeof *a->cls_n);
    a->cls_sum        = calloc(M, sizeof *a->cls_sum);
    a->cls_max        = calloc(M, sizeof *a->cls_max);
    a->top_cells      = calloc(M, sizeof *a->top_cells);
    a->top_cells_mem  = malloc((M * KC + 1) * sizeof *a->top_cells_mem);
    a->expressed      = calloc((size_t)o->n_var, sizeof *a->expressed);
    a->cell_act       = calloc(M, sizeof *a->cell_act);
    a->cls_act        = calloc(M, sizeof *a->cls_act);
    a->touched        = malloc(M * sizeof *a->touched);
    a->mark           = calloc(M, 1);
    a->row.cols       = malloc(M * sizeof *a->row.cols);
    a->row.vals       = malloc(M * sizeof *a->row.vals);
    a->res            = calloc(M, sizeof *a->res);
    if (!a->n_active || !a->sum_act || !a->min_act || !a->max_act || !a->n_active_cells || !a->type_active ||
        !a->type_size || !a->cls_n || !a->cls_sum || !a->cls_max || !a->top_cells || !a->top_cells_mem ||
        !a->expressed || !a->cell_act || !a->cls_act || !a->touched || !a->mark || !a->row.cols || !a->row.vals ||
        !a->res) {
        sg_extract_acc_free(a);
        return sg_error(SG_ERR_NO_MEMORY, "out of memory for the accumulators of %zu features", M);
    }
    for (size_t f = 0; f < M; f++) {
        a->min_act[f]   = INFINITY;
        a->top_cells[f] = (struct sg_topk){.e = a->top_cells_mem + f * KC, .cap = (int32_t)KC};
    }
    *out = a;
    return SG_OK;
}

static int cmp_i32(const void *pa, const void *pb) {
    int32_t x = *(const int32_t *)pa, y = *(const int32_t *)pb;
    return (x > y) - (x < y);
}

static void touch(struct sg_extract_acc *a, int32_t f) {
    if (a->mark[f]) return;
    a->mark[f]                 = 1;
    a->touched[a->n_touched++] = f;
}

/* the gene tokens: token statistics, histogram samples, cell maxima, (feature, gene) scores */
static sg_status add_genes(struct sg_extract_acc *a, const struct sg_extract_cell *c) {
    for (int64_t t = 1; t <= c->n_tokens; t++) {
        const int32_t g = c->var[t];
        const float x   = c->raw[t];
        if (g < 0 || g >= a->o.n_var) return sg_error(SG_ERR_INVALID_ARG, "extract: token of an unknown gene %d", g);
        if (x != 0.0f) a->expressed[g]++;
        for (int j = 0; j < c->k; j++) {
            const int32_t f = c->idx[t * c->k + j];
            const float v   = c->vals[t * c->k + j];
            if (!(v > 0.0f)) continue;
            if (f < 0 || f >= a->o.d_sae) return sg_error(SG_ERR_INVALID_ARG, "extract: latent %d out of range", f);
            sg_status st = sg_extract_hist_add(a, f, a->n_active[f], v);
            if (st != SG_OK) return st;
            a->n_active[f]++;
            a->sum_act[f] += v;
            if (v < a->min_act[f]) a->min_act[f] = v;
            if (v > a->max_act[f]) a->max_act[f] = v;
            touch(a, f);
            if (v > a->cell_act[f]) a->cell_act[f] = v;
            if (x != 0.0f) {
                st = sg_pairs_add(&a->pairs, (uint32_t)f, (uint32_t)g, (double)v * (double)x);
                if (st != SG_OK) return st;
            }
        }
    }
    return SG_OK;
}

sg_status sg_extract_acc_add_cell(struct sg_extract_acc *a, const struct sg_extract_cell *c,
                                  const struct sg_extract_row **row) {
    if (c->type >= a->o.n_types) return sg_error(SG_ERR_INVALID_ARG, "extract: cell type %d out of range", c->type);
    a->n_touched = 0;
    /* CLS: reported apart, never part of the cell activation */
    for (int j = 0; j < c->k; j++) {
        const int32_t f = c->idx[j];
        const float v   = c->vals[j];
        if (!(v > 0.0f)) continue;
        if (f < 0 || f >= a->o.d_sae) return sg_error(SG_ERR_INVALID_ARG, "extract: latent %d out of range", f);
        a->cls_n[f]++;
        a->cls_sum[f] += v;
        if (v > a->cls_max[f]) a->cls_max[f] = v;
        if (v > a->cls_act[f]) a->cls_act[f] = v;
        touch(a, f);
    }
    sg_status st = add_genes(a, c);
    if (st != SG_OK) return st;
    /* the cell's features, in increasing order for the X_sae row */
    qsort(a->touched, (size_t)a->n_touched, sizeof *a->touched, cmp_i32);
    a->row.n = 0;
    for (int64_t i = 0; i < a->n_touched; i++) {
        const int32_t f = a->touched[i];
        const float act = a->cell_act[f];
        if (act > 0.0f) {
            a->n_active_cells[f]++;
            if (c->type >= 0) a->type_active[(size_t)f * (size_t)a->o.n_types + (size_t)c->type]++;
            sg_topk_push(&a->top_cells[f], act, c->row, a->cls_act[f]);
            a->row.cols[a->row.n] = f;
            a->row.vals[a->row.n] = act;
            a->row.n++;
        }
        a->cell_act[f] = 0.0f;
        a->cls_act[f]  = 0.0f;
        a->mark[f]     = 0;
    }
    if (c->type >= 0) a->type_size[c->type]++;
    a->n_cells++;
    a->n_tokens += c->n_tokens;
    if (row) *row = &a->row;
    return SG_OK;
}

static double rank_score(enum sg_extract_rank r, const struct sg_pair *p, int64_t expressed) {
    switch (r) {
    case SG_RANK_SUM: return p->sum;
    case SG_RANK_MAX: return p->max;
    case SG_RANK_MEAN: break;
    }
    return p->sum / (double)expressed;
}

static sg_status top_genes(struct sg_extract_acc *a) {
    const size_t M = (size_t)a->o.d_sae, KG = (size_t)a->o.top_k_genes;
    a->top_genes     = calloc(M, sizeof *a->top_genes);
    a->top_genes_mem = malloc((M * KG + 1) * sizeof *a->top_genes_mem);
    if (!a->top_genes || !a->top_genes_mem) return sg_error(SG_ERR_NO_MEMORY, "out of memory for the top genes");
    for (size_t f = 0; f < M; f++)
        a->top_genes[f] = (struct sg_topk){.e = a->top_genes_mem + f * KG, .cap = (int32_t)KG};
    for (uint64_t i = 0; i < a->pairs.cap; i++) {
        const struct sg_pair *p = &a->pairs.slot[i];
        if (p->key == UINT64_MAX) continue;
        const uint32_t f = (uint32_t)(p->key >> 32), g = (uint32_t)(p->key & 0xffffffffu);
        sg_topk_push(&a->top_genes[f], rank_score(a->o.rank_by, p, a->expressed[g]), g, 0.0f);
    }
    for (size_t f = 0; f < M; f++) {
        sg_topk_sort(&a->top_genes[f]);
        sg_topk_sort(&a->top_cells[f]);
    }
    return SG_OK;
}

sg_status sg_extract_acc_finish(struct sg_extract_acc *a) {
    sg_status st = sg_extract_hist_finish(a);
    if (st == SG_OK) st = top_genes(a);
    if (st == SG_OK) st = sg_extract_enrich(a);
    return st;
}

static int cmp_i64(const void *pa, const void *pb) {
    int64_t x = *(const int64_t *)pa, y = *(const int64_t *)pb;
    return (x > y) - (x < y);
}

sg_status sg_extract_top_rows(const struct sg_extract_acc *a, int64_t **rows, int64_t *n) {
    size_t total = 0;
    for (int64_t f = 0; f < a->o.d_sae; f++) total += (size_t)a->top_cells[f].n;
    int64_t *r = malloc((total ? total : 1) * sizeof *r);
    if (!r) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    size_t k = 0;
    for (int64_t f = 0; f < a->o.d_sae; f++)
        for (int32_t i = 0; i < a->top_cells[f].n; i++) r[k++] = a->top_cells[f].e[i].id;
    qsort(r, k, sizeof *r, cmp_i64);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (u == 0 || r[u - 1] != r[i]) r[u++] = r[i];
    *rows = r;
    *n    = (int64_t)u;
    return SG_OK;
}
