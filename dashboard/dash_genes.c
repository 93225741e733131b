/* feature_gene_associations.json: each shown feature's top genes and scores. Genes go into one
 * table (Ensembl ID, symbol) that the features index, so a gene listed by many features is
 * written once and the page can search by gene quickly. Features not shown are checked all the
 * same, so whether a file is accepted does not depend on --top-n-features. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/dash_doc.h"
#include "dashboard/dash_priv.h"

static const char *const score_keys[3] = {"sum", "mean", "max"};

struct gene_cols {
    long *gene;
    double *score[3];
    int64_t *n_cells;
    size_t cap;
};

static void cols_free(struct gene_cols *c) {
    free(c->gene);
    for (int k = 0; k < 3; k++) free(c->score[k]);
    free(c->n_cells);
}

static int cols_reserve(struct gene_cols *c, size_t n) {
    if (n <= c->cap) return 1;
    cols_free(c);
    memset(c, 0, sizeof *c);
    c->gene    = calloc(n, sizeof *c->gene);
    c->n_cells = calloc(n, sizeof *c->n_cells);
    for (int k = 0; k < 3; k++) c->score[k] = calloc(n, sizeof *c->score[k]);
    c->cap = n;
    return c->gene && c->n_cells && c->score[0] && c->score[1] && c->score[2];
}

/* Checks a feature's genes; for a shown feature (keep) also writes them into its page JSON. */
static sg_status read_genes(struct dash_run *r, const struct dash_doc *d, const cJSON *item, const char *where,
                            struct dash_feature *f, bool keep, struct gene_cols *c) {
    const cJSON *genes = NULL, *g;
    sg_status st       = dash_arr(d, item, where, "genes", true, &genes);
    if (st != SG_OK) return st;
    size_t n = (size_t)cJSON_GetArraySize(genes), j = 0;
    if (!cols_reserve(c, n + 1)) return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", d->path);
    bool has[3] = {false}, has_n = false;
    cJSON_ArrayForEach(g, genes) {
        char w[128];
        snprintf(w, sizeof w, "%s.genes[%zu]", where, j);
        const char *ens = "", *sym = "";
        st = dash_str(d, g, w, "ensembl_id", false, &ens);
        if (st == SG_OK) st = dash_str(d, g, w, "symbol", false, &sym);
        if (st == SG_OK && !*ens && !*sym) st = dash_field_error(d, w, NULL, "needs an ensembl_id or a symbol");
        for (int k = 0; k < 3 && st == SG_OK; k++) {
            c->score[k][j] = NAN;
            st             = dash_num(d, g, w, score_keys[k], false, &c->score[k][j]);
            has[k] |= !isnan(c->score[k][j]);
        }
        c->n_cells[j] = -1;
        if (st == SG_OK) st = dash_int(d, g, w, "n_cells", false, 0, &c->n_cells[j]);
        if (st != SG_OK) return st;
        has_n |= c->n_cells[j] >= 0;
        j++;
        if (!keep) continue;
        size_t n_key = strlen(ens) + strlen(sym) + 24;
        char *key    = malloc(n_key);
        if (!key) return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", d->path);
        snprintf(key, n_key, "%zu:%s%s", strlen(ens), ens, sym); /* see dash_priv.h: genes */
        c->gene[j - 1] = dash_intern(&r->genes, key);
        free(key);
        if (c->gene[j - 1] < 0) return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", d->path);
    }
    if (!keep) return SG_OK;
    struct dash_jw *w = &f->genes;
    dash_jw_obj(w);
    dash_jw_key(w, "g");
    dash_jw_arr(w);
    for (size_t i = 0; i < n; i++) dash_jw_int(w, c->gene[i]);
    dash_jw_arr_end(w);
    for (int k = 0; k < 3; k++) {
        if (!has[k]) continue;
        r->has_score[k] = true;
        dash_jw_key(w, score_keys[k]);
        dash_jw_arr(w);
        for (size_t i = 0; i < n; i++) dash_jw_num(w, c->score[k][i], 4);
        dash_jw_arr_end(w);
    }
    if (has_n) {
        r->has_gene_cells = true;
        dash_jw_key(w, "n");
        dash_jw_arr(w);
        for (size_t i = 0; i < n; i++) c->n_cells[i] >= 0 ? dash_jw_int(w, c->n_cells[i]) : dash_jw_null(w);
        dash_jw_arr_end(w);
    }
    dash_jw_obj_end(w);
    return w->oom ? sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", d->path) : SG_OK;
}

sg_status dash_load_genes(struct dash_run *r) {
    static const char *const big[] = {"features", "background_genes", NULL};
    char *path                     = dash_path(r->dir, "feature_gene_associations.json");
    if (!path) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    struct dash_doc d;
    sg_status st = dash_doc_open(path, big, &d);
    if (st == SG_ERR_NOT_FOUND)
        st = sg_error(st, "%s: not found; the dashboard needs the output of 'saeg extract'", path);
    free(path);
    if (st != SG_OK) return st;
    const char *rank_by = "mean";
    st                  = dash_doc_schema(&d, "saeg.feature_gene_associations");
    if (st == SG_OK) st = dash_str(&d, d.head, NULL, "rank_by", false, &rank_by);
    if (st == SG_OK && strcmp(rank_by, "sum") != 0 && strcmp(rank_by, "mean") != 0 && strcmp(rank_by, "max") != 0)
        st = dash_field_error(&d, NULL, "rank_by", "is \"%.40s\"; expected sum, mean or max", rank_by);
    if (st == SG_OK && !(r->rank_by = strdup(rank_by))) st = sg_error(SG_ERR_NO_MEMORY, "out of memory");
    r->top_k_genes = -1;
    if (st == SG_OK) st = dash_int(&d, d.head, NULL, "top_k_genes", false, 0, &r->top_k_genes);
    if (st == SG_OK && !dash_doc_has(&d, "features")) st = dash_field_error(&d, NULL, "features", "missing");
    struct dash_iter it = dash_doc_iter(&d, "features");
    struct gene_cols c  = {0};
    cJSON *item;
    int index;
    while (st == SG_OK && (st = dash_iter_next(&d, &it, &item, &index)) == SG_OK && item) {
        char where[40];
        int64_t id;
        snprintf(where, sizeof where, "features[%d]", index);
        st     = dash_feature_id(&d, item, where, &id);
        long k = st == SG_OK ? dash_find_feature(r, id) : -1;
        if (st == SG_OK && k < 0)
            st = dash_field_error(&d, where, "id",
                                  "feature %lld is not in feature_stats.json (files from different "
                                  "runs?)",
                                  (long long)id);
        else if (st == SG_OK && r->f[k].genes.len)
            st = dash_field_error(&d, where, "id", "feature %lld is listed twice", (long long)id);
        else if (st == SG_OK)
            st = read_genes(r, &d, item, where, &r->f[k], r->f[k].selected, &c);
        cJSON_Delete(item);
    }
    cols_free(&c);
    dash_doc_close(&d);
    return st;
}
