/* feature_cell_associations.json: top cells with their obs annotations, the CLS token's
 * activation, and cell-type enrichment. Only the cells some shown feature lists are kept. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/dash_doc.h"
#include "dashboard/dash_priv.h"

static sg_status oom(const struct dash_doc *d) { return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", d->path); }

/* Index of a cell row in r->cells, adding it (without its annotations yet) when new. */
static long cell_index(struct dash_run *r, int64_t row) {
    char key[24];
    snprintf(key, sizeof key, "%" PRId64, row);
    size_t before = r->cell_rows.n;
    long i        = dash_intern(&r->cell_rows, key);
    if (i < 0 || r->cell_rows.n == before) return i;
    if (r->n_cells == r->cap_cells) {
        size_t cap          = r->cap_cells ? r->cap_cells * 2 : 256;
        struct dash_cell *c = realloc(r->cells, cap * sizeof *c);
        if (!c) return -1;
        r->cells     = c;
        r->cap_cells = cap;
    }
    memset(&r->cells[r->n_cells], 0, sizeof r->cells[0]);
    r->cells[r->n_cells].row = row;
    return (long)r->n_cells++;
}

static long type_index(struct dash_run *r, const char *type, int64_t size) {
    size_t before = r->types.n;
    long i        = dash_intern(&r->types, type);
    if (i >= 0 && r->types.n != before) {
        int64_t *s = realloc(r->type_sizes, r->types.n * sizeof *s);
        if (!s) return -1;
        r->type_sizes    = s;
        r->type_sizes[i] = size;
    }
    return i;
}

static sg_status read_cls(const struct dash_doc *d, const cJSON *item, const char *where, struct dash_jw *w) {
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(item, "cls");
    if (!cls || cJSON_IsNull(cls)) return SG_OK;
    static const char *const keys[3] = {"frequency", "mean_activation", "max_activation"};
    double v[3]                      = {NAN, NAN, NAN};
    char wc[128];
    snprintf(wc, sizeof wc, "%s.cls", where);
    sg_status st = SG_OK;
    for (int k = 0; k < 3 && st == SG_OK; k++) st = dash_num(d, cls, wc, keys[k], false, &v[k]);
    if (st != SG_OK) return st;
    dash_jw_key(w, "cls");
    dash_jw_arr(w);
    for (int k = 0; k < 3; k++) dash_jw_num(w, v[k], 4);
    dash_jw_arr_end(w);
    return SG_OK;
}

static sg_status read_top_cells(struct dash_run *r, const struct dash_doc *d, const cJSON *item, const char *where,
                                bool keep, struct dash_jw *w) {
    const cJSON *top = NULL, *c;
    sg_status st     = dash_arr(d, item, where, "top_cells", true, &top);
    size_t n = st == SG_OK ? (size_t)cJSON_GetArraySize(top) : 0, j = 0;
    long *idx   = calloc(n + 1, sizeof *idx);
    double *act = calloc(n + 1, sizeof *act), *cls = calloc(n + 1, sizeof *cls);
    if (st == SG_OK && (!idx || !act || !cls)) st = oom(d);
    cJSON_ArrayForEach(c, top) {
        if (st != SG_OK) break;
        char wc[128];
        int64_t row;
        snprintf(wc, sizeof wc, "%s.top_cells[%zu]", where, j);
        cls[j] = NAN;
        st     = dash_int(d, c, wc, "row", true, 0, &row);
        if (st == SG_OK) st = dash_num(d, c, wc, "activation", true, &act[j]);
        if (st == SG_OK) st = dash_num(d, c, wc, "cls_activation", false, &cls[j]);
        idx[j] = 0;
        if (st == SG_OK && keep && (idx[j] = cell_index(r, row)) < 0) st = oom(d);
        j++;
    }
    if (st == SG_OK) {
        dash_jw_key(w, "c");
        dash_jw_arr(w);
        for (size_t i = 0; i < n; i++) dash_jw_int(w, idx[i]);
        dash_jw_arr_end(w);
        dash_jw_key(w, "ca");
        dash_jw_arr(w);
        for (size_t i = 0; i < n; i++) dash_jw_num(w, act[i], 4);
        dash_jw_arr_end(w);
        dash_jw_key(w, "cc");
        dash_jw_arr(w);
        for (size_t i = 0; i < n; i++) dash_jw_num(w, cls[i], 4);
        dash_jw_arr_end(w);
    }
    free(idx);
    free(act);
    free(cls);
    return st;
}

/* Enrichment rows: [type index, n_active_in_type, n_type, fold, p, q]. */
static sg_status read_enrichment(struct dash_run *r, const struct dash_doc *d, const cJSON *item, const char *where,
                                 bool keep, struct dash_jw *w) {
    const cJSON *rows = NULL, *e;
    sg_status st      = dash_arr(d, item, where, "enrichment", false, &rows);
    if (st != SG_OK || !rows) return st;
    dash_jw_key(w, "e");
    dash_jw_arr(w);
    size_t j = 0;
    cJSON_ArrayForEach(e, rows) {
        char we[128];
        snprintf(we, sizeof we, "%s.enrichment[%zu]", where, j++);
        const char *type = NULL;
        int64_t k = 0, K = 0;
        double fold = NAN, p = NAN, q = NAN;
        st = dash_str(d, e, we, "type", true, &type);
        if (st == SG_OK) st = dash_int(d, e, we, "n_active_in_type", true, 0, &k);
        if (st == SG_OK) st = dash_int(d, e, we, "n_type", true, 0, &K);
        if (st == SG_OK) st = dash_num(d, e, we, "fold", false, &fold);
        if (st == SG_OK) st = dash_num(d, e, we, "p", true, &p);
        if (st == SG_OK) st = dash_num(d, e, we, "q", false, &q);
        if (st != SG_OK) return st;
        long t = keep ? type_index(r, type, K) : 0;
        if (t < 0) return oom(d);
        dash_jw_arr(w);
        dash_jw_int(w, t);
        dash_jw_int(w, k);
        dash_jw_int(w, K);
        dash_jw_num(w, fold, 4);
        dash_jw_num(w, p, 3);
        dash_jw_num(w, q, 3);
        dash_jw_arr_end(w);
    }
    dash_jw_arr_end(w);
    return SG_OK;
}

/* Checks a feature; for a shown one also writes its page JSON (others go to a scratch buffer,
 * so that whether a file is accepted does not depend on --top-n-features). */
static sg_status read_feature(struct dash_run *r, const struct dash_doc *d, const cJSON *item, int index) {
    char where[40];
    int64_t id;
    snprintf(where, sizeof where, "features[%d]", index);
    sg_status st = dash_feature_id(d, item, where, &id);
    long k       = st == SG_OK ? dash_find_feature(r, id) : -1;
    if (st != SG_OK) return st;
    if (k < 0)
        return dash_field_error(
            d, where, "id", "feature %lld is not in feature_stats.json (files from different runs?)", (long long)id);
    struct dash_feature *f = &r->f[k];
    if (f->cells.len) return dash_field_error(d, where, "id", "feature %lld is listed twice", (long long)id);
    int64_t nac            = -1;
    struct dash_jw scratch = {0}, *w = f->selected ? &f->cells : &scratch;
    st = dash_int(d, item, where, "n_active_cells", false, 0, &nac);
    dash_jw_obj(w);
    dash_jw_key(w, "nac");
    nac >= 0 ? dash_jw_int(w, nac) : dash_jw_null(w);
    if (st == SG_OK) st = read_cls(d, item, where, w);
    if (st == SG_OK) st = read_top_cells(r, d, item, where, f->selected, w);
    if (st == SG_OK) st = read_enrichment(r, d, item, where, f->selected, w);
    dash_jw_obj_end(w);
    if (st == SG_OK && w->oom) st = oom(d);
    dash_jw_free(&scratch);
    return st;
}

/* The head: n_cells, obs_keys, cell_type_key, cell_types. */
static sg_status read_head(struct dash_run *r, const struct dash_doc *d) {
    const cJSON *keys = NULL, *types = NULL, *e;
    const char *type_key = NULL;
    sg_status st         = dash_doc_schema(d, "saeg.feature_cell_associations");
    if (st == SG_OK) st = dash_int(d, d->head, NULL, "n_cells", true, 0, &r->n_cells_total);
    r->top_k_cells = -1;
    if (st == SG_OK) st = dash_int(d, d->head, NULL, "top_k_cells", false, 0, &r->top_k_cells);
    if (st == SG_OK) st = dash_str(d, d->head, NULL, "cell_type_key", false, &type_key);
    if (st == SG_OK && type_key && !(r->cell_type_key = strdup(type_key))) st = oom(d);
    if (st == SG_OK) st = dash_arr(d, d->head, NULL, "obs_keys", false, &keys);
    if (st == SG_OK && keys) {
        r->obs_keys = calloc((size_t)cJSON_GetArraySize(keys) + 1, sizeof *r->obs_keys);
        if (!r->obs_keys) return oom(d);
        cJSON_ArrayForEach(e, keys) {
            if (!cJSON_IsString(e)) return dash_field_error(d, NULL, "obs_keys", "expected a list of strings");
            if (!(r->obs_keys[r->n_obs_keys++] = strdup(e->valuestring))) return oom(d);
        }
    }
    if (st == SG_OK) st = dash_arr(d, d->head, NULL, "cell_types", false, &types);
    size_t j = 0;
    cJSON_ArrayForEach(e, types) {
        if (st != SG_OK) break;
        char w[40];
        const char *t = NULL;
        int64_t n     = 0;
        snprintf(w, sizeof w, "cell_types[%zu]", j++);
        st = dash_str(d, e, w, "type", true, &t);
        if (st == SG_OK) st = dash_int(d, e, w, "n_cells", true, 0, &n);
        if (st == SG_OK && type_index(r, t, n) < 0) st = oom(d);
    }
    return st;
}

/* Without obs_keys, the first cell's obs columns are the ones shown. */
static sg_status default_obs_keys(struct dash_run *r, const struct dash_doc *d, const cJSON *obs) {
    const cJSON *e;
    r->obs_keys = calloc((size_t)cJSON_GetArraySize(obs) + 1, sizeof *r->obs_keys);
    if (!r->obs_keys) return oom(d);
    cJSON_ArrayForEach(e, obs) {
        if (!(r->obs_keys[r->n_obs_keys++] = strdup(e->string ? e->string : ""))) return oom(d);
    }
    return SG_OK;
}

static sg_status read_cell(struct dash_run *r, const struct dash_doc *d, const cJSON *item, int index) {
    char where[40], key[24], buf[64];
    int64_t row;
    snprintf(where, sizeof where, "cells[%d]", index);
    sg_status st = dash_int(d, item, where, "row", true, 0, &row);
    if (st != SG_OK) return st;
    snprintf(key, sizeof key, "%" PRId64, row);
    long i = dash_intern_find(&r->cell_rows, key);
    if (i < 0) return SG_OK; /* no shown feature lists this cell */
    struct dash_cell *c = &r->cells[i];
    if (c->info.len) return dash_field_error(d, where, "row", "row %lld is listed twice", (long long)row);
    const char *name = "";
    const cJSON *obs = cJSON_GetObjectItemCaseSensitive(item, "obs");
    st               = dash_str(d, item, where, "name", false, &name);
    if (st == SG_OK && obs && !cJSON_IsObject(obs) && !cJSON_IsNull(obs))
        st = dash_field_error(d, where, "obs", "expected an object");
    if (st == SG_OK && !r->obs_keys && cJSON_IsObject(obs)) st = default_obs_keys(r, d, obs);
    if (st != SG_OK) return st;
    dash_jw_arr(&c->info);
    dash_jw_str(&c->info, name);
    dash_jw_arr(&c->info);
    for (size_t k = 0; k < r->n_obs_keys; k++)
        dash_jw_str(&c->info, dash_text(cJSON_GetObjectItemCaseSensitive(obs, r->obs_keys[k]), buf, sizeof buf));
    dash_jw_arr_end(&c->info);
    dash_jw_arr_end(&c->info);
    return c->info.oom ? oom(d) : SG_OK;
}

sg_status dash_load_cells(struct dash_run *r) {
    static const char *const big[] = {"features", "cells", NULL};
    char *path                     = dash_path(r->dir, "feature_cell_associations.json");
    if (!path) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    struct dash_doc d;
    sg_status st = dash_doc_open(path, big, &d);
    free(path);
    if (st == SG_ERR_NOT_FOUND) {
        dash_note(r, "cells",
                  "No feature_cell_associations.json in this results folder: top cells and cell-type "
                  "enrichment are not available.");
        sg_error_clear();
        return SG_OK;
    }
    if (st != SG_OK) return st;
    r->has_cells = true;
    st           = read_head(r, &d);
    if (st == SG_OK && !dash_doc_has(&d, "features")) st = dash_field_error(&d, NULL, "features", "missing");
    struct dash_iter it = dash_doc_iter(&d, "features");
    cJSON *item;
    int index;
    while (st == SG_OK && (st = dash_iter_next(&d, &it, &item, &index)) == SG_OK && item) {
        st = read_feature(r, &d, item, index);
        cJSON_Delete(item);
    }
    if (st == SG_OK && r->n_cells && !dash_doc_has(&d, "cells")) st = dash_field_error(&d, NULL, "cells", "missing");
    it = dash_doc_iter(&d, "cells");
    while (st == SG_OK && (st = dash_iter_next(&d, &it, &item, &index)) == SG_OK && item) {
        st = read_cell(r, &d, item, index);
        cJSON_Delete(item);
    }
    for (size_t i = 0; st == SG_OK && i < r->n_cells; i++)
        if (!r->cells[i].info.len)
            st = dash_field_error(&d, NULL, "cells", "no entry for row %lld, which a feature's top_cells lists",
                                  (long long)r->cells[i].row);
    if (st == SG_OK && !r->cell_type_key)
        dash_note(r, "enrichment",
                  "The data set has no cell-type column (extract ran without --cell-type-key), "
                  "so there is no cell-type enrichment.");
    dash_doc_close(&d);
    return st;
}
