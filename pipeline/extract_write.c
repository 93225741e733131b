/* The three extraction files (docs/schemas.md): feature_gene_associations.json,
 * feature_cell_associations.json and feature_stats.json, each written to a temporary file and
 * renamed once complete. */
#include <math.h>
#include <stdio.h>

#include "pipeline/extract_priv.h"

static void path_in(char *out, size_t cap, const char *dir, const char *name) {
    snprintf(out, cap, "%s/%s", dir, name);
}

/* facts every file repeats, for people reading one of them alone */
static void run_facts(struct sg_jw *w, const struct sg_extract_meta *m) {
    sg_jw_str(w, "sae", m->sae_dir);
    sg_jw_str(w, "data", m->data);
    sg_jw_str(w, "model", m->model_dir);
    sg_jw_int(w, "layer", m->layer);
}

sg_status sg_extract_write_genes(const struct sg_extract_acc *a, const struct sg_extract_meta *m, const char *dir) {
    char path[4200];
    path_in(path, sizeof path, dir, "feature_gene_associations.json");
    FILE *f;
    sg_status st = sg_jw_open(path, &f);
    if (st != SG_OK) return st;
    struct sg_jw w;
    sg_jw_begin(&w, f, 2);
    sg_jw_obj(&w, NULL);
    sg_jw_str(&w, "schema", "saeg.feature_gene_associations/1");
    sg_jw_str(&w, "rank_by", sg_extract_rank_name(a->o.rank_by));
    sg_jw_int(&w, "top_k_genes", a->o.top_k_genes);
    sg_jw_int(&w, "n_features", a->o.d_sae);
    sg_jw_int(&w, "n_cells", a->n_cells);
    sg_jw_str(&w, "gene_id_key", m->gene_id_key);
    sg_jw_str(&w, "symbol_key", m->symbol_key);
    sg_jw_str(&w, "score", "activation on the gene's token x the gene's value in X");
    run_facts(&w, m);
    sg_jw_arr(&w, "background_genes");
    for (int64_t i = 0; i < m->n_background; i++) sg_jw_str(&w, NULL, m->background[i]);
    sg_jw_end_arr(&w);
    sg_jw_arr(&w, "features");
    for (int64_t id = 0; id < a->o.d_sae; id++) {
        const struct sg_topk *h = &a->top_genes[id];
        sg_jw_obj(&w, NULL);
        sg_jw_int(&w, "id", id);
        sg_jw_arr(&w, "genes");
        for (int32_t i = 0; i < h->n; i++) {
            const int64_t g         = h->e[i].id;
            const struct sg_pair *p = sg_pairs_get(&a->pairs, (uint32_t)id, (uint32_t)g);
            if (!p) continue; /* cannot happen: every ranked gene came from the table */
            sg_jw_obj(&w, NULL);
            sg_jw_str(&w, "ensembl_id", m->gene_id[g]);
            sg_jw_str(&w, "symbol", m->symbol ? m->symbol[g] : "");
            sg_jw_num(&w, "sum", p->sum);
            sg_jw_num(&w, "mean", p->sum / (double)a->expressed[g]);
            sg_jw_num(&w, "max", p->max);
            sg_jw_int(&w, "n_cells", p->n);
            sg_jw_end_obj(&w);
        }
        sg_jw_end_arr(&w);
        sg_jw_end_obj(&w);
    }
    sg_jw_end_arr(&w);
    sg_jw_end_obj(&w);
    return sg_jw_close(f, path);
}

static void write_cells_list(struct sg_jw *w, const struct sg_extract_meta *m,
                             const struct sg_extract_cells_info *cells) {
    sg_jw_arr(w, "cells");
    for (int64_t i = 0; i < cells->n; i++) {
        sg_jw_obj(w, NULL);
        sg_jw_int(w, "row", cells->rows[i]);
        sg_jw_str(w, "name", cells->name[i]);
        sg_jw_obj(w, "obs");
        for (int j = 0; j < m->n_obs_keys; j++) sg_jw_str(w, m->obs_keys[j], cells->obs[i * m->n_obs_keys + j]);
        sg_jw_end_obj(w);
        sg_jw_end_obj(w);
    }
    sg_jw_end_arr(w);
}

static void write_cell_feature(struct sg_jw *w, const struct sg_extract_acc *a, const struct sg_extract_meta *m,
                               int64_t id) {
    sg_jw_obj(w, NULL);
    sg_jw_int(w, "id", id);
    sg_jw_int(w, "n_active_cells", a->n_active_cells[id]);
    sg_jw_obj(w, "cls");
    sg_jw_num(w, "frequency", (double)a->cls_n[id] / (double)a->n_cells);
    sg_jw_num(w, "mean_activation", a->cls_n[id] ? a->cls_sum[id] / (double)a->cls_n[id] : 0.0);
    sg_jw_num(w, "max_activation", a->cls_max[id]);
    sg_jw_end_obj(w);
    const struct sg_topk *h = &a->top_cells[id];
    sg_jw_arr(w, "top_cells");
    for (int32_t i = 0; i < h->n; i++) {
        sg_jw_obj(w, NULL);
        sg_jw_int(w, "row", h->e[i].id);
        sg_jw_num(w, "activation", h->e[i].score);
        sg_jw_num(w, "cls_activation", h->e[i].extra);
        sg_jw_end_obj(w);
    }
    sg_jw_end_arr(w);
    sg_jw_arr(w, "enrichment");
    for (int32_t i = 0; a->enrich && i < a->n_enrich; i++) {
        const struct sg_enrich_row *r = &a->enrich[(size_t)id * (size_t)a->n_enrich + (size_t)i];
        sg_jw_obj(w, NULL);
        sg_jw_str(w, "type", m->type_name[r->type]);
        sg_jw_int(w, "n_active_in_type", r->k);
        sg_jw_int(w, "n_type", r->K);
        sg_jw_num(w, "fold", r->fold); /* NAN (no active cell) is written as null */
        sg_jw_num17(w, "p", r->p);
        sg_jw_num17(w, "q", r->q);
        sg_jw_end_obj(w);
    }
    sg_jw_end_arr(w);
    sg_jw_end_obj(w);
}

sg_status sg_extract_write_cells(const struct sg_extract_acc *a, const struct sg_extract_meta *m,
                                 const struct sg_extract_cells_info *cells, const char *dir) {
    char path[4200];
    path_in(path, sizeof path, dir, "feature_cell_associations.json");
    FILE *f;
    sg_status st = sg_jw_open(path, &f);
    if (st != SG_OK) return st;
    struct sg_jw w;
    sg_jw_begin(&w, f, 2);
    sg_jw_obj(&w, NULL);
    sg_jw_str(&w, "schema", "saeg.feature_cell_associations/1");
    sg_jw_int(&w, "n_cells", a->n_cells);
    sg_jw_int(&w, "top_k_cells", a->o.top_k_cells);
    sg_jw_str(&w, "cell_activation", "max over the cell's gene tokens");
    sg_jw_arr(&w, "obs_keys");
    for (int j = 0; j < m->n_obs_keys; j++) sg_jw_str(&w, NULL, m->obs_keys[j]);
    sg_jw_end_arr(&w);
    sg_jw_str(&w, "cell_type_key", m->cell_type_key);
    sg_jw_arr(&w, "cell_types");
    for (int32_t t = 0; t < m->n_types; t++) {
        sg_jw_obj(&w, NULL);
        sg_jw_str(&w, "type", m->type_name[t]);
        sg_jw_int(&w, "n_cells", a->type_size[t]);
        sg_jw_end_obj(&w);
    }
    sg_jw_end_arr(&w);
    sg_jw_str(&w, "enrichment_test",
              "one-sided Fisher exact (greater); Benjamini-Hochberg across each feature's types");
    run_facts(&w, m);
    write_cells_list(&w, m, cells);
    sg_jw_arr(&w, "features");
    for (int64_t id = 0; id < a->o.d_sae; id++) write_cell_feature(&w, a, m, id);
    sg_jw_end_arr(&w);
    sg_jw_end_obj(&w);
    return sg_jw_close(f, path);
}

sg_status sg_extract_write_stats(const struct sg_extract_acc *a, const struct sg_extract_meta *m, const char *dir) {
    char path[4200];
    path_in(path, sizeof path, dir, "feature_stats.json");
    FILE *f;
    sg_status st = sg_jw_open(path, &f);
    if (st != SG_OK) return st;
    const int B = a->o.histogram_bins;
    struct sg_jw w;
    sg_jw_begin(&w, f, 2);
    sg_jw_obj(&w, NULL);
    sg_jw_str(&w, "schema", "saeg.feature_stats/1");
    sg_jw_int(&w, "n_features", a->o.d_sae);
    sg_jw_int(&w, "n_cells", a->n_cells);
    sg_jw_int(&w, "n_tokens", a->n_tokens);
    sg_jw_str(&w, "tokens", "genes");
    sg_jw_int(&w, "histogram_bins", B);
    sg_jw_int(&w, "histogram_samples", a->o.histogram_samples);
    sg_jw_int(&w, "truncated_tokens", m->truncated_tokens);
    run_facts(&w, m);
    sg_jw_arr(&w, "features");
    for (int64_t id = 0; id < a->o.d_sae; id++) {
        const int64_t n = a->n_active[id];
        sg_jw_obj(&w, NULL);
        sg_jw_int(&w, "id", id);
        sg_jw_num(&w, "frequency", a->n_tokens ? (double)n / (double)a->n_tokens : 0.0);
        sg_jw_int(&w, "n_active", n);
        sg_jw_num(&w, "cell_frequency", (double)a->n_active_cells[id] / (double)a->n_cells);
        sg_jw_num(&w, "mean_activation", n ? a->sum_act[id] / (double)n : 0.0);
        sg_jw_num(&w, "max_activation", a->max_act[id]);
        sg_jw_obj(&w, "histogram");
        if (sg_extract_hist_sampled(a, id)) sg_jw_bool(&w, "sampled", true);
        double lo = 0, hi = 0;
        if (n) sg_extract_hist_range(a->min_act[id], a->max_act[id], &lo, &hi);
        sg_jw_arr(&w, "edges");
        for (int i = 0; n && i <= B; i++) sg_jw_num(&w, NULL, sg_extract_hist_edge(lo, hi, B, i));
        sg_jw_end_arr(&w);
        sg_jw_arr(&w, "counts");
        for (int i = 0; n && i < B; i++) sg_jw_int(&w, NULL, a->hist[(size_t)id * (size_t)B + (size_t)i]);
        sg_jw_end_arr(&w);
        sg_jw_end_obj(&w);
        sg_jw_end_obj(&w);
    }
    sg_jw_end_arr(&w);
    sg_jw_end_obj(&w);
    return sg_jw_close(f, path);
}
