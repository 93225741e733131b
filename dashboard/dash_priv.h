/* What the dashboard generator reads from a run directory, before it writes the page.
 * One loader per input file (dash_stats.c, dash_genes.c, dash_cells.c, dash_training.c,
 * dash_validation.c); dash_emit.c writes the page's JSON; dash_html.c the page. */
#ifndef SAEG_DASH_PRIV_H
#define SAEG_DASH_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/status.h"
#include "dashboard/dash_jw.h"

/* Per-feature validation terms kept for the page, and overlap genes per term. */
#define DASH_MAX_TERMS   5
#define DASH_MAX_OVERLAP 20
/* Training-log points per series after thinning. */
#define DASH_MAX_POINTS 2000

struct dash_feature {
    int64_t id;
    double freq, mean, max, cell_freq; /* NAN when the file does not say */
    int64_t n_active;                  /* -1 when the file does not say */
    uint32_t n_bins;
    double *edges, *counts; /* n_bins + 1 edges, n_bins counts */
    bool selected;
    /* Page JSON written while the other files are read (selected features only). */
    struct dash_jw genes; /* {"g":[...], "sum":[...], ...} */
    struct dash_jw cells; /* {"nac":..., "cls":[...], "c":[...], "ca":[...], "cc":[...], "e":[...]} */
    struct dash_jw val;   /* {"<source>": {...}, ...} */
};

/* Interned strings with an index: the gene table, cell rows and cell types. */
struct dash_intern {
    char **keys;
    size_t n, cap;
    uint32_t *slots; /* open addressing: index + 1, 0 empty */
    size_t n_slots;
};

struct dash_cell {
    int64_t row;
    struct dash_jw info; /* [name, [obs values in obs_keys order]] once read from the cells list */
};

struct dash_series {
    char *name;
    double *v; /* one per step; NAN where the line has no value */
};

struct dash_run {
    const char *dir;
    /* feature_stats.json */
    struct dash_feature *f;
    size_t n_features, n_alive;
    int64_t n_tokens, n_cells_stats;
    uint32_t *order; /* every feature, most frequent first; the first n_selected are shown */
    size_t n_selected;
    long top_n; /* 0 = all */
    /* feature_gene_associations.json */
    struct dash_intern genes; /* "<strlen(ensembl_id)>:<ensembl_id><symbol>": any bytes may occur in either */
    char *rank_by;
    bool has_score[3]; /* sum, mean, max */
    bool has_gene_cells;
    int64_t top_k_genes;
    /* feature_cell_associations.json */
    bool has_cells;
    char *cell_type_key;
    char **obs_keys;
    size_t n_obs_keys;
    struct dash_intern types;
    int64_t *type_sizes;     /* per types index; -1 unknown */
    struct dash_cell *cells; /* referenced cells, in first-reference order */
    size_t n_cells, cap_cells;
    struct dash_intern cell_rows; /* decimal row -> index into cells */
    int64_t n_cells_total, top_k_cells;
    /* training_log.jsonl */
    int64_t *steps;
    size_t n_steps, cap_steps, n_lines;
    struct dash_series *series;
    size_t n_series;
    /* small files passed through */
    cJSON *eval, *cfg, *val_summary;
    char **val_sources; /* sources with per-feature results read */
    size_t n_val_sources;
    /* optional inputs that are absent or unusable: section -> sentence */
    cJSON *notes;
};

/* Index of a feature id among the selected features' f[] entries, or -1. */
long dash_find_feature(const struct dash_run *r, int64_t id);
void dash_note(struct dash_run *r, const char *section, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
char *dash_path(const char *dir, const char *name);

long dash_intern(struct dash_intern *t, const char *key); /* index, -1 when out of memory */
long dash_intern_find(const struct dash_intern *t, const char *key);
void dash_intern_free(struct dash_intern *t);

sg_status dash_load_stats(struct dash_run *r);
sg_status dash_select(struct dash_run *r);
sg_status dash_load_genes(struct dash_run *r);
sg_status dash_load_cells(struct dash_run *r);
sg_status dash_load_training(struct dash_run *r);
sg_status dash_load_small(struct dash_run *r); /* eval.json, sae/cfg.json */
sg_status dash_load_validation(struct dash_run *r);
sg_status dash_emit(const struct dash_run *r, const char *title, struct dash_jw *w);
void dash_run_free(struct dash_run *r);

#endif
