/* validation/summary.json and validation/<source>.json (saeg validate): the per-source summary,
 * and for each shown feature its best terms per source. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "dashboard/dash_doc.h"
#include "dashboard/dash_priv.h"

static sg_status oom(const struct dash_doc *d) { return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", d->path); }

/* A term row: [term_id, term_name, url, k, K, n, p, q, fold, [overlap genes]]. */
static sg_status write_term(const struct dash_doc *d, const cJSON *t, const char *where, struct dash_jw *w) {
    const char *id = "", *name = NULL, *url = NULL;
    int64_t k = -1, K = -1, n = -1;
    double p = NAN, q = NAN, fold = NAN, log10_p = NAN;
    const cJSON *ov = NULL, *g;
    sg_status st    = dash_str(d, t, where, "term_id", true, &id);
    if (st == SG_OK) st = dash_str(d, t, where, "term_name", false, &name);
    if (st == SG_OK) st = dash_str(d, t, where, "url", false, &url);
    if (st == SG_OK) st = dash_int(d, t, where, "k", false, 0, &k);
    if (st == SG_OK) st = dash_int(d, t, where, "K", false, 0, &K);
    if (st == SG_OK) st = dash_int(d, t, where, "n", false, 0, &n);
    if (st == SG_OK) st = dash_num(d, t, where, "p", false, &p);
    if (st == SG_OK) st = dash_num(d, t, where, "log10_p", false, &log10_p);
    if (st == SG_OK) st = dash_num(d, t, where, "q_bh", false, &q);
    if (st == SG_OK) st = dash_num(d, t, where, "fold_enrichment", false, &fold);
    if (st == SG_OK) st = dash_arr(d, t, where, "overlap_genes", false, &ov);
    if (st != SG_OK) return st;
    if (!(p > 0) && isfinite(log10_p)) p = pow(10, log10_p); /* p underflowed; log10_p is exact */
    dash_jw_arr(w);
    dash_jw_str(w, id);
    dash_jw_str(w, name);
    dash_jw_str(w, url);
    k >= 0 ? dash_jw_int(w, k) : dash_jw_null(w);
    K >= 0 ? dash_jw_int(w, K) : dash_jw_null(w);
    n >= 0 ? dash_jw_int(w, n) : dash_jw_null(w);
    dash_jw_num(w, p, 3);
    dash_jw_num(w, q, 3);
    dash_jw_num(w, fold, 3);
    dash_jw_arr(w);
    int j = 0;
    cJSON_ArrayForEach(g, ov) {
        if (j++ == DASH_MAX_OVERLAP) break;
        if (cJSON_IsString(g)) dash_jw_str(w, g->valuestring);
    }
    dash_jw_arr_end(w);
    dash_jw_arr_end(w);
    return SG_OK;
}

/* One feature of a source file, appended to the feature's "v" object under the source name. */
static sg_status write_feature(const struct dash_doc *d, const cJSON *item, const char *where, const char *source,
                               bool ppi, struct dash_jw *w) {
    const cJSON *tested = cJSON_GetObjectItemCaseSensitive(item, "tested"), *terms = NULL, *t;
    int64_t nsig = -1;
    sg_status st = dash_int(d, item, where, "n_significant", false, 0, &nsig);
    if (st == SG_OK && !ppi) st = dash_arr(d, item, where, "terms", false, &terms);
    if (st != SG_OK) return st;
    if (!w->len) dash_jw_obj(w);
    dash_jw_key(w, source);
    dash_jw_obj(w);
    dash_jw_key(w, "t");
    dash_jw_bool(w, !cJSON_IsFalse(tested));
    if (nsig >= 0) {
        dash_jw_key(w, "ns");
        dash_jw_int(w, nsig);
    }
    if (ppi && !cJSON_IsFalse(tested)) { /* [n_nodes, edges, expected_edges, p, q, significant] */
        static const char *const keys[5] = {"n_nodes", "edges", "expected_edges", "p", "q_bh"};
        double v[5]                      = {NAN, NAN, NAN, NAN, NAN};
        for (int k = 0; k < 5 && st == SG_OK; k++) st = dash_num(d, item, where, keys[k], false, &v[k]);
        if (st != SG_OK) return st;
        dash_jw_key(w, "ppi");
        dash_jw_arr(w);
        for (int k = 0; k < 5; k++) dash_jw_num(w, v[k], 4);
        dash_jw_bool(w, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(item, "significant")));
        dash_jw_arr_end(w);
    }
    if (terms) {
        dash_jw_key(w, "terms");
        dash_jw_arr(w);
        int j = 0;
        cJSON_ArrayForEach(t, terms) {
            if (j == DASH_MAX_TERMS) break;
            char wt[128];
            snprintf(wt, sizeof wt, "%s.terms[%d]", where, j++);
            if ((st = write_term(d, t, wt, w)) != SG_OK) return st;
        }
        dash_jw_arr_end(w);
    }
    dash_jw_obj_end(w);
    return w->oom ? oom(d) : SG_OK;
}

static sg_status load_source(struct dash_run *r, const char *source) {
    static const char *const big[] = {"features", NULL};
    char name[160];
    snprintf(name, sizeof name, "validation/%s.json", source);
    char *path = dash_path(r->dir, name);
    if (!path) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    struct dash_doc d;
    sg_status st = dash_doc_open(path, big, &d);
    free(path);
    if (st == SG_ERR_NOT_FOUND) {
        SG_LOGW("%s", sg_last_error());
        sg_error_clear();
        return SG_OK; /* summary.json's row still shows the source */
    }
    const char *kind = "term_enrichment";
    if (st == SG_OK) st = dash_doc_schema(&d, "saeg.validation.source");
    if (st == SG_OK) st = dash_str(&d, d.head, NULL, "kind", false, &kind);
    bool ppi            = st == SG_OK && strcmp(kind, "ppi_network") == 0;
    struct dash_iter it = dash_doc_iter(&d, "features");
    cJSON *item;
    int index;
    while (st == SG_OK && (st = dash_iter_next(&d, &it, &item, &index)) == SG_OK && item) {
        char where[40];
        int64_t id;
        snprintf(where, sizeof where, "features[%d]", index);
        st     = dash_feature_id(&d, item, where, &id);
        long k = st == SG_OK ? dash_find_feature(r, id) : -1;
        if (k >= 0 && r->f[k].selected) st = write_feature(&d, item, where, source, ppi, &r->f[k].val);
        cJSON_Delete(item);
    }
    if (st == SG_OK) {
        char **s = realloc(r->val_sources, (r->n_val_sources + 1) * sizeof *s);
        if (!s || !(s[r->n_val_sources] = strdup(source))) st = oom(&d);
        if (s) r->val_sources = s;
        if (st == SG_OK) r->n_val_sources++;
    }
    dash_doc_close(&d);
    return st;
}

/* Source names become file names: letters, digits, '_' and '-' only. */
static bool plain_name(const char *s) {
    if (!*s) return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-') return false;
    return true;
}

sg_status dash_load_validation(struct dash_run *r) {
    char *dir = dash_path(r->dir, "validation"), *path = dash_path(r->dir, "validation/summary.json");
    struct stat sb;
    sg_status st = dir && path ? SG_OK : sg_error(SG_ERR_NO_MEMORY, "out of memory");
    if (st == SG_OK && (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
        dash_note(r, "validation",
                  "No validation/ folder in this results folder: run 'saeg validate --results "
                  "DIR' to test each feature's genes against disease and pathway databases.");
    } else if (st == SG_OK && !dash_file_exists(path)) {
        dash_note(r, "validation", "validation/ has no summary.json ('saeg validate' did not finish).");
    } else if (st == SG_OK) {
        struct dash_doc d;
        st = dash_doc_open(path, NULL, &d);
        if (st == SG_OK) st = dash_doc_schema(&d, "saeg.validation.summary");
        const cJSON *rows = NULL, *row;
        if (st == SG_OK) st = dash_arr(&d, d.head, NULL, "sources", false, &rows);
        int j = 0;
        cJSON_ArrayForEach(row, rows) {
            if (st != SG_OK) break;
            char where[40];
            const char *source = NULL, *status = NULL;
            snprintf(where, sizeof where, "sources[%d]", j++);
            st = dash_str(&d, row, where, "source", true, &source);
            if (st == SG_OK) st = dash_str(&d, row, where, "status", false, &status);
            if (st == SG_OK && !plain_name(source))
                st = dash_field_error(&d, where, "source", "\"%.40s\" is not a plain name", source);
            if (st == SG_OK && status && strcmp(status, "ok") == 0) st = load_source(r, source);
        }
        for (size_t i = 0; i < r->n_features; i++) /* close each feature's {"<source>": ...} */
            if (r->f[i].val.len) dash_jw_obj_end(&r->f[i].val);
        if (st == SG_OK) {
            r->val_summary = d.head;
            d.head         = NULL;
        }
        dash_doc_close(&d);
    }
    free(dir);
    free(path);
    return st;
}
