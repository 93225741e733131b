/* The page's data: one JSON document, embedded in dashboard.html and read by dashboard.js.
 * Shapes are described in docs/dashboard.md ("Embedded data"). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dashboard/dash_priv.h"

#ifndef SAEG_VERSION
#define SAEG_VERSION "unknown"
#endif

static void key_int(struct dash_jw *w, const char *k, int64_t v) {
    dash_jw_key(w, k);
    v >= 0 ? dash_jw_int(w, v) : dash_jw_null(w);
}

static void key_num(struct dash_jw *w, const char *k, double v, int digits) {
    dash_jw_key(w, k);
    dash_jw_num(w, v, digits);
}

static void key_str(struct dash_jw *w, const char *k, const char *v) {
    dash_jw_key(w, k);
    dash_jw_str(w, v);
}

static void generated_at(char *buf, size_t cap) {
    const char *sde = getenv("SOURCE_DATE_EPOCH"); /* reproducible output */
    time_t t        = sde && *sde ? (time_t)strtoll(sde, NULL, 10) : time(NULL);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm)) snprintf(buf, cap, "unknown");
}

/* Histogram of log10(firing frequency) over the alive features, in quarter decades. */
static void density(const struct dash_run *r, struct dash_jw *w) {
    double lo = 0;
    for (size_t i = 0; i < r->n_features; i++)
        if (r->f[i].freq > 0 && log10(r->f[i].freq) < lo) lo = log10(r->f[i].freq);
    int nb      = r->n_alive ? (int)ceil(-floor(lo) * 4) : 0;
    nb          = nb < 1 && r->n_alive ? 1 : nb;
    double *cnt = calloc((size_t)nb + 1, sizeof *cnt);
    dash_jw_key(w, "density");
    if (!cnt || !nb) {
        dash_jw_null(w);
        free(cnt);
        return;
    }
    double start = floor(lo);
    for (size_t i = 0; i < r->n_features; i++) {
        if (!(r->f[i].freq > 0)) continue;
        int b = (int)((log10(r->f[i].freq) - start) * 4);
        cnt[b < 0 ? 0 : b >= nb ? nb - 1 : b]++;
    }
    dash_jw_obj(w);
    dash_jw_key(w, "edges");
    dash_jw_arr(w);
    for (int b = 0; b <= nb; b++) dash_jw_num(w, start + b * 0.25, 4);
    dash_jw_arr_end(w);
    dash_jw_key(w, "counts");
    dash_jw_arr(w);
    for (int b = 0; b < nb; b++) dash_jw_num(w, cnt[b], 10);
    dash_jw_arr_end(w);
    key_int(w, "dead", (int64_t)(r->n_features - r->n_alive));
    dash_jw_obj_end(w);
    free(cnt);
}

static void summary(const struct dash_run *r, struct dash_jw *w) {
    static const char *const scores[3] = {"sum", "mean", "max"};
    dash_jw_key(w, "summary");
    dash_jw_obj(w);
    key_int(w, "n_features", (int64_t)r->n_features);
    key_int(w, "n_alive", (int64_t)r->n_alive);
    key_int(w, "n_shown", (int64_t)r->n_selected);
    dash_jw_key(w, "top_n");
    r->top_n > 0 ? dash_jw_int(w, r->top_n) : dash_jw_str(w, "all");
    key_int(w, "n_tokens", r->n_tokens ? r->n_tokens : -1);
    key_int(w, "n_cells", r->n_cells_total ? r->n_cells_total : r->n_cells_stats ? r->n_cells_stats : -1);
    key_str(w, "rank_by", r->rank_by);
    key_int(w, "top_k_genes", r->top_k_genes);
    key_int(w, "top_k_cells", r->has_cells ? r->top_k_cells : -1);
    dash_jw_key(w, "scores");
    dash_jw_arr(w);
    for (int k = 0; k < 3; k++)
        if (r->has_score[k]) dash_jw_str(w, scores[k]);
    dash_jw_arr_end(w);
    dash_jw_key(w, "gene_cells");
    dash_jw_bool(w, r->has_gene_cells);
    dash_jw_obj_end(w);
}

static void genes(const struct dash_run *r, struct dash_jw *w) {
    dash_jw_key(w, "genes"); /* [ensembl_id, symbol] */
    dash_jw_arr(w);
    for (size_t i = 0; i < r->genes.n; i++) {
        char *ens;
        size_t n_ens = strtoul(r->genes.keys[i], &ens, 10); /* "<n>:<ensembl_id><symbol>" */
        ens++;
        dash_jw_arr(w);
        dash_jw_strn(w, ens, n_ens);
        dash_jw_str(w, ens + n_ens);
        dash_jw_arr_end(w);
    }
    dash_jw_arr_end(w);
}

static void cells(const struct dash_run *r, struct dash_jw *w) {
    dash_jw_key(w, "cells");
    if (!r->has_cells) {
        dash_jw_null(w);
        return;
    }
    dash_jw_obj(w);
    dash_jw_key(w, "obs_keys");
    dash_jw_arr(w);
    for (size_t i = 0; i < r->n_obs_keys; i++) dash_jw_str(w, r->obs_keys[i]);
    dash_jw_arr_end(w);
    key_str(w, "type_key", r->cell_type_key);
    dash_jw_key(w, "types"); /* [name, n_cells] */
    dash_jw_arr(w);
    for (size_t i = 0; i < r->types.n; i++) {
        dash_jw_arr(w);
        dash_jw_str(w, r->types.keys[i]);
        r->type_sizes[i] >= 0 ? dash_jw_int(w, r->type_sizes[i]) : dash_jw_null(w);
        dash_jw_arr_end(w);
    }
    dash_jw_arr_end(w);
    dash_jw_key(w, "rows");
    dash_jw_arr(w);
    for (size_t i = 0; i < r->n_cells; i++) dash_jw_int(w, r->cells[i].row);
    dash_jw_arr_end(w);
    dash_jw_key(w, "info"); /* [name, [obs values]] */
    dash_jw_arr(w);
    for (size_t i = 0; i < r->n_cells; i++) dash_jw_value(w, &r->cells[i].info);
    dash_jw_arr_end(w);
    dash_jw_obj_end(w);
}

static void feature(const struct dash_feature *f, struct dash_jw *w) {
    dash_jw_obj(w);
    key_int(w, "id", f->id);
    key_num(w, "f", f->freq, 4);
    key_num(w, "cf", f->cell_freq, 4);
    key_int(w, "na", f->n_active);
    key_num(w, "mean", f->mean, 4);
    key_num(w, "max", f->max, 4);
    if (f->n_bins) {
        dash_jw_key(w, "he");
        dash_jw_arr(w);
        for (uint32_t b = 0; b <= f->n_bins; b++) dash_jw_num(w, f->edges[b], 4);
        dash_jw_arr_end(w);
        dash_jw_key(w, "hc");
        dash_jw_arr(w);
        for (uint32_t b = 0; b < f->n_bins; b++) dash_jw_num(w, f->counts[b], 10);
        dash_jw_arr_end(w);
    }
    if (f->genes.len) {
        dash_jw_key(w, "genes");
        dash_jw_value(w, &f->genes);
    }
    if (f->cells.len) {
        dash_jw_key(w, "cells");
        dash_jw_value(w, &f->cells);
    }
    if (f->val.len) {
        dash_jw_key(w, "v");
        dash_jw_value(w, &f->val);
    }
    dash_jw_obj_end(w);
}

/* Every n-th point (and the last) so that a series has at most DASH_MAX_POINTS. */
static void training(const struct dash_run *r, struct dash_jw *w) {
    dash_jw_key(w, "training");
    if (!r->n_steps) {
        dash_jw_null(w);
        return;
    }
    size_t every = (r->n_steps + DASH_MAX_POINTS - 1) / DASH_MAX_POINTS;
    dash_jw_obj(w);
    key_int(w, "lines", (int64_t)r->n_lines);
    key_int(w, "every", (int64_t)every);
    dash_jw_key(w, "steps");
    dash_jw_arr(w);
    for (size_t i = 0; i < r->n_steps; i++)
        if (i % every == 0 || i + 1 == r->n_steps) dash_jw_int(w, r->steps[i]);
    dash_jw_arr_end(w);
    dash_jw_key(w, "series");
    dash_jw_obj(w);
    for (size_t s = 0; s < r->n_series; s++) {
        dash_jw_key(w, r->series[s].name);
        dash_jw_arr(w);
        for (size_t i = 0; i < r->n_steps; i++)
            if (i % every == 0 || i + 1 == r->n_steps) dash_jw_num(w, r->series[s].v[i], 6);
        dash_jw_arr_end(w);
    }
    dash_jw_obj_end(w);
    dash_jw_obj_end(w);
}

static void validation(const struct dash_run *r, struct dash_jw *w) {
    dash_jw_key(w, "validation");
    if (!r->val_summary) {
        dash_jw_null(w);
        return;
    }
    dash_jw_obj(w);
    dash_jw_key(w, "summary");
    dash_jw_cjson(w, r->val_summary);
    dash_jw_key(w, "with_features"); /* sources whose per-feature results were read */
    dash_jw_arr(w);
    for (size_t i = 0; i < r->n_val_sources; i++) dash_jw_str(w, r->val_sources[i]);
    dash_jw_arr_end(w);
    key_int(w, "max_terms", DASH_MAX_TERMS);
    dash_jw_obj_end(w);
}

sg_status dash_emit(const struct dash_run *r, const char *title, struct dash_jw *w) {
    char when[40];
    generated_at(when, sizeof when);
    dash_jw_obj(w);
    key_str(w, "format", "saeg.dashboard/1");
    key_str(w, "title", title);
    key_str(w, "results", r->dir);
    key_str(w, "generated_at", when);
    key_str(w, "saeg_version", SAEG_VERSION);
    summary(r, w);
    density(r, w);
    genes(r, w);
    cells(r, w);
    dash_jw_key(w, "features");
    dash_jw_arr(w);
    for (size_t i = 0; i < r->n_selected; i++) feature(&r->f[r->order[i]], w);
    dash_jw_arr_end(w);
    training(r, w);
    dash_jw_key(w, "eval");
    r->eval ? dash_jw_cjson(w, r->eval) : dash_jw_null(w);
    dash_jw_key(w, "sae");
    r->cfg ? dash_jw_cjson(w, r->cfg) : dash_jw_null(w);
    validation(r, w);
    dash_jw_key(w, "notes");
    r->notes ? dash_jw_cjson(w, r->notes) : dash_jw_null(w);
    dash_jw_obj_end(w);
    if (w->oom) return sg_error(SG_ERR_NO_MEMORY, "out of memory writing the dashboard data");
    if (w->deep) return sg_error(SG_ERR_FORMAT, "eval.json, sae/cfg.json or validation/summary.json nests too deeply");
    return SG_OK;
}
