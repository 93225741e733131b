/* Inside feature extraction: the accumulators (fed one cell at a time, no engine needed, so
 * tests can drive them with codes of their own), the run's metadata, and the file writers.
 *
 *     struct sg_extract_acc *a;
 *     sg_extract_acc_new(&(struct sg_extract_acc_opts){.d_sae = M, .n_var = G, ...}, &a);
 *     for each cell: sg_extract_acc_add_cell(a, &cell, &row);    // row: the cell's X_sae entries
 *     sg_extract_acc_finish(a);                                   // histograms, top genes, enrichment
 *     sg_extract_write_genes(a, &meta, dir); ..._cells(a, &meta, &cells, dir); ..._stats(a, dir);
 */
#ifndef SG_PIPELINE_EXTRACT_PRIV_H
#define SG_PIPELINE_EXTRACT_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/status.h"
#include "pipeline/extract.h"

/* ---- exact streaming top-k: a min-heap of the k best entries ---------------------------- */

struct sg_topk_entry {
    double score;
    int64_t id;  /* gene (var index) or cell (row); equal scores: the lower id ranks first */
    float extra; /* the CLS activation of a top cell */
};
struct sg_topk {
    struct sg_topk_entry *e; /* borrowed storage of cap entries */
    int32_t n, cap;
};
/* Offers an entry; keeps it when it is among the cap best so far. */
void sg_topk_push(struct sg_topk *h, double score, int64_t id, float extra);
/* Sorts the kept entries best first (the heap order is lost). */
void sg_topk_sort(struct sg_topk *h);

/* ---- (feature, gene) accumulators: open addressing on feature << 32 | gene ---------------- */

struct sg_pair {
    uint64_t key; /* UINT64_MAX: empty */
    double sum, max;
    uint32_t n;
};
struct sg_pairs {
    struct sg_pair *slot;
    uint64_t cap, n; /* cap a power of two */
};
sg_status sg_pairs_add(struct sg_pairs *p, uint32_t feature, uint32_t gene, double score);
/* Puts a pair's accumulated values as they are (restoring a checkpoint). */
sg_status sg_pairs_set(struct sg_pairs *p, uint32_t feature, uint32_t gene, double sum, double max, uint32_t n);
const struct sg_pair *sg_pairs_get(const struct sg_pairs *p, uint32_t feature, uint32_t gene); /* NULL: none */
void sg_pairs_free(struct sg_pairs *p);

/* ---- the accumulators ---------------------------------------------------------------------- */

struct sg_extract_acc_opts {
    int64_t d_sae, n_var;
    int32_t n_types; /* cell types (0: none) */
    int64_t top_k_genes, top_k_cells;
    enum sg_extract_rank rank_by;
    int histogram_bins;
    int32_t histogram_samples; /* activations kept per feature for its histogram */
    uint64_t seed;             /* of the reservoir sampling */
};

/* One cell as the accumulators see it: token 0 is CLS, tokens 1..n_tokens are its genes. */
struct sg_extract_cell {
    int64_t row;
    int32_t type;       /* index into the cell types, -1: none or missing */
    int64_t n_tokens;   /* gene tokens */
    const int32_t *var; /* [n_tokens + 1] var index of each token (var[0], CLS, is ignored) */
    const float *raw;   /* [n_tokens + 1] the gene's value in X */
    int k;              /* codes per token */
    const int32_t *idx; /* [(n_tokens + 1) * k] latent of each code */
    const float *vals;  /* [(n_tokens + 1) * k] its activation; <= 0: not firing */
};

/* A cell's row of obsm['X_sae']: its active features and their cell activations. */
struct sg_extract_row {
    int64_t n;
    int32_t *cols; /* increasing */
    float *vals;
};

struct sg_enrich_row {
    int32_t type;
    int64_t k, K; /* active cells of the type, cells of the type */
    double fold;  /* NAN: no active cell */
    double p, q;
};

/* A uniform sample of at most cap of a feature's activations (all of them while it has fired at
 * most cap times): Vitter's algorithm R, grown on demand. */
struct sg_reservoir {
    float *v;
    int32_t n, cap;
};

struct sg_extract_acc {
    struct sg_extract_acc_opts o;
    int64_t n_cells, n_tokens;
    /* gene tokens, per feature */
    int64_t *n_active;
    double *sum_act;
    float *min_act, *max_act;
    int64_t *hist;            /* [d_sae][bins] after finish */
    struct sg_reservoir *res; /* [d_sae] activations for the histograms */
    uint64_t rng;
    /* cells, per feature */
    int64_t *n_active_cells;
    uint32_t *type_active; /* [d_sae][n_types] active cells of each type */
    int64_t *type_size;    /* [n_types] */
    int64_t *cls_n;
    double *cls_sum;
    float *cls_max;
    struct sg_topk *top_cells;
    struct sg_topk_entry *top_cells_mem;
    /* genes */
    int64_t *expressed; /* [n_var] cells where the gene is a token with a non-zero value */
    struct sg_pairs pairs;
    struct sg_topk *top_genes; /* after finish */
    struct sg_topk_entry *top_genes_mem;
    /* enrichment, after finish: per feature the types with cells, smallest p first */
    struct sg_enrich_row *enrich; /* [d_sae][n_types_nonempty] */
    int32_t n_enrich;             /* rows per feature */
    /* per-cell scratch */
    float *cell_act, *cls_act;
    int32_t *touched;
    int64_t n_touched;
    uint8_t *mark;
    struct sg_extract_row row;
};

sg_status sg_extract_acc_new(const struct sg_extract_acc_opts *o, struct sg_extract_acc **out);
void sg_extract_acc_free(struct sg_extract_acc *a);
/* Accumulates one cell; `row` (may be NULL) gets its X_sae entries, valid until the next call. */
sg_status sg_extract_acc_add_cell(struct sg_extract_acc *a, const struct sg_extract_cell *c,
                                  const struct sg_extract_row **row);
/* After the last cell: histograms, top genes, enrichment. */
sg_status sg_extract_acc_finish(struct sg_extract_acc *a);
/* Offers the t-th (0-based) activation v of feature f to its reservoir. */
sg_status sg_extract_hist_add(struct sg_extract_acc *a, int32_t f, int64_t t, float v);
/* Fills hist [d_sae][bins] from the reservoirs: exact counts for a feature that fired at most
 * histogram_samples times, else its sample's counts scaled to n_active (largest remainders). */
sg_status sg_extract_hist_finish(struct sg_extract_acc *a);
/* Whether feature f's histogram comes from a sample. */
bool sg_extract_hist_sampled(const struct sg_extract_acc *a, int64_t f);
/* Fills enrich: one-sided Fisher (validation/enrich.h) and BH per feature. */
sg_status sg_extract_enrich(struct sg_extract_acc *a);
/* The histogram range numpy.histogram(range=(lo, hi)) uses: a width-1 range around a single
 * value. */
void sg_extract_hist_range(float min_act, float max_act, double *lo, double *hi);
/* Edge i of `bins` equal bins over [lo, hi], as numpy.linspace computes it. */
double sg_extract_hist_edge(double lo, double hi, int bins, int i);

/* ---- what the files say about the data ----------------------------------------------------- */

struct sg_extract_meta {
    int64_t n_var;
    char **gene_id;          /* [n_var] as the data wrote them */
    char **symbol;           /* [n_var], NULL without symbols */
    const char *gene_id_key; /* "" the var index */
    const char *symbol_key;  /* NULL none, "" the var index */
    char **background;       /* model vocabulary ∩ data genes, unversioned */
    int64_t n_background;
    const char *cell_type_key; /* NULL none */
    int32_t n_types;
    char **type_name; /* [n_types] */
    int n_obs_keys;
    char **obs_keys; /* cell type first */
    int64_t n_cells;
    int64_t n_cells_total; /* obs rows of the h5ad */
    int layer;
    const char *sae_dir, *data, *model_dir;
    int64_t truncated_tokens;
};

/* The cells that appear in some feature's top cells, with their annotations. */
struct sg_extract_cells_info {
    int64_t n;
    int64_t *rows; /* increasing */
    char **name;   /* [n] obs index */
    char **obs;    /* [n][n_obs_keys] values */
};

/* ---- files --------------------------------------------------------------------------------- */

sg_status sg_extract_write_genes(const struct sg_extract_acc *a, const struct sg_extract_meta *m, const char *dir);
sg_status sg_extract_write_cells(const struct sg_extract_acc *a, const struct sg_extract_meta *m,
                                 const struct sg_extract_cells_info *cells, const char *dir);
sg_status sg_extract_write_stats(const struct sg_extract_acc *a, const struct sg_extract_meta *m, const char *dir);

/* The rows listed in any feature's top cells, increasing (caller frees). */
sg_status sg_extract_top_rows(const struct sg_extract_acc *a, int64_t **rows, int64_t *n);

/* ---- a small streaming JSON writer -------------------------------------------------------- */

struct sg_jw {
    FILE *f;
    int depth;
    bool first[32]; /* nothing written yet at this depth */
    int line_depth; /* containers at most this deep start each element on a new line */
};
void sg_jw_begin(struct sg_jw *w, FILE *f, int line_depth);
void sg_jw_obj(struct sg_jw *w, const char *key); /* key NULL inside arrays */
void sg_jw_arr(struct sg_jw *w, const char *key);
void sg_jw_end_obj(struct sg_jw *w);
void sg_jw_end_arr(struct sg_jw *w);
void sg_jw_str(struct sg_jw *w, const char *key, const char *s); /* NULL: null */
void sg_jw_num(struct sg_jw *w, const char *key, double v);      /* 9 significant digits; null unless finite */
void sg_jw_num17(struct sg_jw *w, const char *key, double v);    /* 17 significant digits */
void sg_jw_int(struct sg_jw *w, const char *key, int64_t v);
void sg_jw_null(struct sg_jw *w, const char *key);
void sg_jw_bool(struct sg_jw *w, const char *key, bool v);
/* Opens path.tmp for writing; sg_jw_close renames it to path when everything was written. */
sg_status sg_jw_open(const char *path, FILE **f);
sg_status sg_jw_close(FILE *f, const char *path);

#endif
