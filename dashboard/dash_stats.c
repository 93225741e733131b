/* feature_stats.json: every feature's firing frequency, activation summary and histogram; the
 * page ranks features by frequency and shows the --top-n-features most frequent. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/dash_doc.h"
#include "dashboard/dash_priv.h"

static sg_status read_hist(const struct dash_doc *d, const cJSON *item, const char *where, struct dash_feature *f) {
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(item, "histogram"), *edges = NULL, *counts = NULL;
    if (!h || cJSON_IsNull(h)) return SG_OK;
    char w[128];
    snprintf(w, sizeof w, "%s.histogram", where);
    sg_status st = dash_arr(d, h, w, "edges", true, &edges);
    if (st == SG_OK) st = dash_arr(d, h, w, "counts", true, &counts);
    if (st != SG_OK) return st;
    int ne = cJSON_GetArraySize(edges), nc = cJSON_GetArraySize(counts);
    if (ne == 0 && nc == 0) return SG_OK;
    if (nc <= 0) return dash_field_error(d, w, "counts", "is empty but edges is not");
    if (ne != nc + 1)
        return dash_field_error(d, w, "edges", "has %d values; expected one more than counts (%d)", ne, nc);
    f->edges  = malloc((size_t)ne * sizeof *f->edges);
    f->counts = malloc((size_t)nc * sizeof *f->counts);
    if (!f->edges || !f->counts) return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", d->path);
    f->n_bins = (uint32_t)nc;
    const cJSON *v;
    int i = 0;
    cJSON_ArrayForEach(v, edges) {
        if (!cJSON_IsNumber(v) || (i > 0 && v->valuedouble < f->edges[i - 1]))
            return dash_field_error(d, w, "edges", "value %d is not a number in increasing order", i);
        f->edges[i++] = v->valuedouble;
    }
    i = 0;
    cJSON_ArrayForEach(v, counts) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 0)
            return dash_field_error(d, w, "counts", "value %d is not a count >= 0", i);
        f->counts[i++] = v->valuedouble;
    }
    return SG_OK;
}

static sg_status read_feature(const struct dash_doc *d, const cJSON *item, int index, struct dash_feature *f) {
    char where[40];
    snprintf(where, sizeof where, "features[%d]", index);
    memset(f, 0, sizeof *f);
    f->mean = f->max = f->cell_freq = NAN;
    f->n_active                     = -1;
    sg_status st                    = dash_feature_id(d, item, where, &f->id);
    if (st == SG_OK) st = dash_num(d, item, where, "frequency", true, &f->freq);
    if (st == SG_OK && !(f->freq >= 0 && f->freq <= 1))
        st = dash_field_error(d, where, "frequency", "%g is not a fraction in [0, 1]", f->freq);
    if (st == SG_OK) st = dash_int(d, item, where, "n_active", false, 0, &f->n_active);
    if (st == SG_OK) st = dash_num(d, item, where, "cell_frequency", false, &f->cell_freq);
    if (st == SG_OK) st = dash_num(d, item, where, "mean_activation", false, &f->mean);
    if (st == SG_OK) st = dash_num(d, item, where, "max_activation", false, &f->max);
    if (st == SG_OK) st = read_hist(d, item, where, f);
    return st;
}

static int by_id(const void *a, const void *b) {
    const struct dash_feature *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

sg_status dash_load_stats(struct dash_run *r) {
    static const char *const big[] = {"features", NULL};
    char *path                     = dash_path(r->dir, "feature_stats.json");
    if (!path) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    struct dash_doc d;
    sg_status st = dash_doc_open(path, big, &d);
    if (st == SG_ERR_NOT_FOUND)
        st = sg_error(st,
                      "%s: not found; the dashboard needs the output of 'saeg extract' (feature_stats.json, "
                      "feature_gene_associations.json)",
                      path);
    free(path);
    if (st != SG_OK) return st;
    int64_t n_declared = -1;
    st                 = dash_doc_schema(&d, "saeg.feature_stats");
    if (st == SG_OK) st = dash_int(&d, d.head, NULL, "n_features", false, 0, &n_declared);
    if (st == SG_OK) st = dash_int(&d, d.head, NULL, "n_tokens", false, 0, &r->n_tokens);
    if (st == SG_OK) st = dash_int(&d, d.head, NULL, "n_cells", false, 0, &r->n_cells_stats);
    if (st == SG_OK && !dash_doc_has(&d, "features")) st = dash_field_error(&d, NULL, "features", "missing");
    struct dash_iter it = dash_doc_iter(&d, "features");
    size_t cap          = 0;
    cJSON *item;
    int index;
    while (st == SG_OK && (st = dash_iter_next(&d, &it, &item, &index)) == SG_OK && item) {
        if (r->n_features == cap) {
            cap                    = cap ? cap * 2 : 1024;
            struct dash_feature *f = realloc(r->f, cap * sizeof *f);
            if (!f) {
                cJSON_Delete(item);
                st = sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", d.path);
                break;
            }
            r->f = f;
        }
        st = read_feature(&d, item, index, &r->f[r->n_features++]);
        cJSON_Delete(item);
    }
    if (st == SG_OK && r->n_features == 0) st = dash_field_error(&d, NULL, "features", "is empty");
    if (st == SG_OK && n_declared >= 0 && (size_t)n_declared != r->n_features)
        st = dash_field_error(&d, NULL, "n_features", "is %lld but features lists %zu", (long long)n_declared,
                              r->n_features);
    if (st == SG_OK) {
        qsort(r->f, r->n_features, sizeof *r->f, by_id);
        for (size_t i = 1; i < r->n_features && st == SG_OK; i++)
            if (r->f[i].id == r->f[i - 1].id)
                st = dash_field_error(&d, NULL, "features", "feature id %lld appears more than once",
                                      (long long)r->f[i].id);
        for (size_t i = 0; i < r->n_features; i++) r->n_alive += r->f[i].freq > 0;
    }
    dash_doc_close(&d);
    return st;
}

struct rank {
    double freq;
    int64_t id;
    uint32_t index;
};

static int by_frequency(const void *a, const void *b) {
    const struct rank *x = a, *y = b;
    if (x->freq != y->freq) return x->freq < y->freq ? 1 : -1;
    return (x->id > y->id) - (x->id < y->id);
}

sg_status dash_select(struct dash_run *r) {
    size_t n        = r->top_n > 0 && (size_t)r->top_n < r->n_features ? (size_t)r->top_n : r->n_features;
    struct rank *rk = calloc(r->n_features, sizeof *rk);
    r->order        = calloc(r->n_features, sizeof *r->order);
    if (!rk || !r->order) {
        free(rk);
        return sg_error(SG_ERR_NO_MEMORY, "out of memory ranking %zu features", r->n_features);
    }
    for (size_t i = 0; i < r->n_features; i++) rk[i] = (struct rank){r->f[i].freq, r->f[i].id, (uint32_t)i};
    qsort(rk, r->n_features, sizeof *rk, by_frequency);
    for (size_t i = 0; i < r->n_features; i++) r->order[i] = rk[i].index;
    for (size_t i = 0; i < n; i++) r->f[r->order[i]].selected = true;
    r->n_selected = n;
    free(rk);
    return SG_OK;
}
