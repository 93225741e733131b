/* The extraction accumulators and files against an independent reference: the cells, tokens and
 * codes of fixtures/accum_case.json, and what gen_accum_fixture.py computed from them with plain
 * Python loops, numpy.histogram and scipy's hypergeometric test (its docstring lists the edge
 * cases). Also: the three files carry those numbers under the names of docs/schemas.md, strings
 * survive JSON escaping, and the dashboard accepts the files. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dashboard/dashboard.h"
#include "pipeline/extract_priv.h"
#include "tests/test_util.h"

#define FIXTURE "tests/extract/fixtures/accum_case.json"

/* sums run in the same order as the reference, so they agree to the last bit or two */
#define TOL_EXACT 1e-12
/* the files print 9 significant digits: up to 5e-9 relative */
#define TOL_FILE 1e-8

static cJSON *fixture;
static char tmp[256];

static cJSON *load_json(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    size_t got = fread(text, 1, (size_t)n, f);
    text[got]  = '\0';
    fclose(f);
    cJSON *j = cJSON_Parse(text);
    free(text);
    return j;
}

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }
static double num(const cJSON *o, const char *k) { return get(o, k)->valuedouble; }
static int64_t inum(const cJSON *o, const char *k) { return (int64_t)get(o, k)->valuedouble; }

/* fills arrays from a JSON list of numbers */
static void ints(const cJSON *a, int32_t *out) {
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, a) out[i++] = (int32_t)v->valuedouble;
}
static void floats(const cJSON *a, float *out) {
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, a) out[i++] = (float)v->valuedouble;
}

/* runs every cell of the fixture through fresh accumulators; checks each X_sae row on the way */
static struct sg_extract_acc *run_case(enum sg_extract_rank rank) {
    struct sg_extract_acc_opts o = {.d_sae             = inum(fixture, "d_sae"),
                                    .n_var             = inum(fixture, "n_var"),
                                    .n_types           = (int32_t)inum(fixture, "n_types"),
                                    .top_k_genes       = inum(fixture, "top_k_genes"),
                                    .top_k_cells       = inum(fixture, "top_k_cells"),
                                    .rank_by           = rank,
                                    .histogram_bins    = (int)inum(fixture, "histogram_bins"),
                                    .histogram_samples = 1000}; /* more than any latent fires: exact */
    struct sg_extract_acc *a;
    CHECK(sg_extract_acc_new(&o, &a) == SG_OK);
    const int k        = (int)inum(fixture, "k");
    const cJSON *xrows = get(get(fixture, "expected"), "x_sae");
    const cJSON *c     = NULL;
    int ci             = 0;
    cJSON_ArrayForEach(c, get(fixture, "cells")) {
        const int n = cJSON_GetArraySize(get(c, "var"));
        int32_t var[64], idx[64 * 4];
        float raw[64], vals[64 * 4];
        ints(get(c, "var"), var);
        floats(get(c, "raw"), raw);
        int t = 0;
        const cJSON *tok;
        cJSON_ArrayForEach(tok, get(c, "idx")) ints(tok, idx + k * t++);
        t = 0;
        cJSON_ArrayForEach(tok, get(c, "vals")) floats(tok, vals + k * t++);
        struct sg_extract_cell cell      = {.row      = inum(c, "row"),
                                            .type     = (int32_t)inum(c, "type"),
                                            .n_tokens = n - 1,
                                            .var      = var,
                                            .raw      = raw,
                                            .k        = k,
                                            .idx      = idx,
                                            .vals     = vals};
        const struct sg_extract_row *row = NULL;
        CHECK(sg_extract_acc_add_cell(a, &cell, &row) == SG_OK);
        const cJSON *want = cJSON_GetArrayItem(xrows, ci++);
        CHECK_MSG(row->n == cJSON_GetArraySize(want), "cell %d: X_sae row has %lld entries", ci - 1, (long long)row->n);
        for (int i = 0; i < row->n && i < cJSON_GetArraySize(want); i++) {
            const cJSON *e = cJSON_GetArrayItem(want, i);
            CHECK(row->cols[i] == cJSON_GetArrayItem(e, 0)->valueint);
            CHECK_CLOSE(row->vals[i], cJSON_GetArrayItem(e, 1)->valuedouble, 0);
        }
    }
    CHECK(sg_extract_acc_finish(a) == SG_OK);
    return a;
}

static void test_token_and_cell_statistics_match_the_reference(void) {
    struct sg_extract_acc *a = run_case(SG_RANK_MEAN);
    const cJSON *exp         = get(fixture, "expected");
    CHECK(a->n_cells == inum(exp, "n_cells"));
    CHECK(a->n_tokens == inum(exp, "n_tokens"));
    const int B = a->o.histogram_bins;
    const cJSON *f;
    cJSON_ArrayForEach(f, get(exp, "features")) {
        const int64_t id = inum(f, "id"), n = inum(f, "n_active");
        CHECK_MSG(a->n_active[id] == n, "feature %lld", (long long)id);
        CHECK_CLOSE(n ? a->sum_act[id] / (double)n : 0.0, num(f, "mean_activation"), TOL_EXACT);
        CHECK_CLOSE(a->max_act[id], num(f, "max_activation"), 0);
        const cJSON *counts = get(get(f, "histogram"), "counts"), *edges = get(get(f, "histogram"), "edges");
        CHECK(cJSON_GetArraySize(counts) == (n ? B : 0));
        for (int i = 0; i < cJSON_GetArraySize(counts); i++)
            CHECK_MSG(a->hist[id * B + i] == cJSON_GetArrayItem(counts, i)->valuedouble, "feature %lld bin %d",
                      (long long)id, i);
        double lo = 0, hi = 0;
        if (n) sg_extract_hist_range(a->min_act[id], a->max_act[id], &lo, &hi);
        for (int i = 0; i < cJSON_GetArraySize(edges); i++)
            CHECK_CLOSE(sg_extract_hist_edge(lo, hi, B, i), cJSON_GetArrayItem(edges, i)->valuedouble, 0);
        CHECK(a->n_active_cells[id] == inum(f, "n_active_cells"));
        const cJSON *cls = get(f, "cls");
        CHECK(a->cls_n[id] == inum(cls, "n"));
        CHECK_CLOSE(a->cls_n[id] ? a->cls_sum[id] / (double)a->cls_n[id] : 0.0, num(cls, "mean"), TOL_EXACT);
        CHECK_CLOSE(a->cls_max[id], num(cls, "max"), 0);
        const cJSON *tc = get(f, "top_cells");
        CHECK(a->top_cells[id].n == cJSON_GetArraySize(tc));
        for (int i = 0; i < a->top_cells[id].n && i < cJSON_GetArraySize(tc); i++) {
            const cJSON *e = cJSON_GetArrayItem(tc, i);
            CHECK_MSG(a->top_cells[id].e[i].id == inum(e, "row"), "feature %lld top cell %d", (long long)id, i);
            CHECK_CLOSE(a->top_cells[id].e[i].score, num(e, "activation"), 0);
            CHECK_CLOSE(a->top_cells[id].e[i].extra, num(e, "cls_activation"), 0);
        }
    }
    sg_extract_acc_free(a);
}

/* p and q agree with scipy to 1e-12 relative; fold is exact; rows ordered by p, then type */
static void test_enrichment_matches_scipy(void) {
    struct sg_extract_acc *a = run_case(SG_RANK_MEAN);
    const cJSON *f;
    cJSON_ArrayForEach(f, get(get(fixture, "expected"), "features")) {
        const int64_t id = inum(f, "id");
        const cJSON *en  = get(f, "enrichment");
        CHECK(a->n_enrich == cJSON_GetArraySize(en));
        for (int i = 0; i < a->n_enrich && i < cJSON_GetArraySize(en); i++) {
            const struct sg_enrich_row *r = &a->enrich[id * a->n_enrich + i];
            const cJSON *e                = cJSON_GetArrayItem(en, i);
            CHECK_MSG(r->type == inum(e, "type"), "feature %lld row %d", (long long)id, i);
            CHECK(r->k == inum(e, "k") && r->K == inum(e, "K"));
            if (cJSON_IsNull(get(e, "fold")))
                CHECK(isnan(r->fold));
            else
                CHECK_CLOSE(r->fold, num(e, "fold"), TOL_EXACT);
            CHECK_CLOSE(r->p, num(e, "p"), 1e-12);
            CHECK_CLOSE(r->q, num(e, "q"), 1e-12);
        }
    }
    sg_extract_acc_free(a);
}

static void check_genes(enum sg_extract_rank rank) {
    struct sg_extract_acc *a = run_case(rank);
    const cJSON *f;
    cJSON_ArrayForEach(f, get(get(fixture, "expected"), "features")) {
        const int64_t id = inum(f, "id");
        const cJSON *g   = get(get(f, "genes"), sg_extract_rank_name(rank));
        CHECK(a->top_genes[id].n == cJSON_GetArraySize(g));
        for (int i = 0; i < a->top_genes[id].n && i < cJSON_GetArraySize(g); i++) {
            const cJSON *e   = cJSON_GetArrayItem(g, i);
            const int64_t gv = a->top_genes[id].e[i].id;
            CHECK_MSG(gv == inum(e, "var"), "%s: feature %lld gene %d is %lld, expected %lld",
                      sg_extract_rank_name(rank), (long long)id, i, (long long)gv, (long long)inum(e, "var"));
            const struct sg_pair *p = sg_pairs_get(&a->pairs, (uint32_t)id, (uint32_t)gv);
            CHECK(p != NULL);
            if (!p) continue;
            CHECK_CLOSE(p->sum, num(e, "sum"), TOL_EXACT);
            CHECK_CLOSE(p->sum / (double)a->expressed[gv], num(e, "mean"), TOL_EXACT);
            CHECK_CLOSE(p->max, num(e, "max"), TOL_EXACT);
            CHECK(p->n == inum(e, "n_cells"));
        }
    }
    sg_extract_acc_free(a);
}

static void test_top_genes_by_mean_match_the_reference(void) { check_genes(SG_RANK_MEAN); }
static void test_top_genes_by_sum_match_the_reference(void) { check_genes(SG_RANK_SUM); }
static void test_top_genes_by_max_match_the_reference(void) { check_genes(SG_RANK_MAX); }

/* ---- the files ------------------------------------------------------------------------------ */

#define NG 15
#define NT 4
static char gene_buf[NG][32], sym_buf[NG][32], type_buf[NT][8];

static void make_meta(struct sg_extract_meta *m, char **ids, char **syms, char **types, char **obs_keys) {
    for (int g = 0; g < NG; g++) {
        snprintf(gene_buf[g], sizeof gene_buf[g], "ENSG%011d.%d", 100 + g, g % 3);
        snprintf(sym_buf[g], sizeof sym_buf[g], "SYM%d", g);
        ids[g]  = gene_buf[g];
        syms[g] = sym_buf[g];
    }
    syms[0] = "A\"B\\C\n<b>&"; /* must come back exactly through JSON escaping */
    for (int t = 0; t < NT; t++) {
        snprintf(type_buf[t], sizeof type_buf[t], "t%d", t);
        types[t] = type_buf[t];
    }
    obs_keys[0] = "cell_type";
    *m          = (struct sg_extract_meta){.n_var         = NG,
                                           .gene_id       = ids,
                                           .symbol        = syms,
                                           .gene_id_key   = "",
                                           .symbol_key    = "gene_symbol",
                                           .background    = ids,
                                           .n_background  = NG,
                                           .cell_type_key = "cell_type",
                                           .n_types       = NT,
                                           .type_name     = types,
                                           .n_obs_keys    = 1,
                                           .obs_keys      = obs_keys,
                                           .n_cells       = 20,
                                           .n_cells_total = 20,
                                           .layer         = 1,
                                           .sae_dir       = "sae",
                                           .data          = "cells.h5ad",
                                           .model_dir     = "model"};
}

static void test_files_hold_the_numbers_under_the_schema_names(void) {
    struct sg_extract_acc *a = run_case(SG_RANK_MEAN);
    char *ids[NG], *syms[NG], *types[NT], *obs_keys[1];
    struct sg_extract_meta m;
    make_meta(&m, ids, syms, types, obs_keys);
    int64_t *rows = NULL, n_rows = 0;
    CHECK(sg_extract_top_rows(a, &rows, &n_rows) == SG_OK);
    char *names[32], *obs[32], name_buf[32][16];
    for (int64_t i = 0; i < n_rows && i < 32; i++) {
        snprintf(name_buf[i], sizeof name_buf[i], "cell%lld", (long long)rows[i]);
        names[i] = name_buf[i];
        obs[i]   = "x";
    }
    struct sg_extract_cells_info cells = {.n = n_rows, .rows = rows, .name = names, .obs = obs};
    CHECK(sg_extract_write_genes(a, &m, tmp) == SG_OK);
    CHECK(sg_extract_write_cells(a, &m, &cells, tmp) == SG_OK);
    CHECK(sg_extract_write_stats(a, &m, tmp) == SG_OK);

    char path[400];
    snprintf(path, sizeof path, "%s/feature_gene_associations.json", tmp);
    cJSON *genes = load_json(path);
    snprintf(path, sizeof path, "%s/feature_cell_associations.json", tmp);
    cJSON *cj = load_json(path);
    snprintf(path, sizeof path, "%s/feature_stats.json", tmp);
    cJSON *st = load_json(path);
    CHECK(genes && cj && st);
    if (!genes || !cj || !st) return;
    CHECK(strcmp(get(genes, "schema")->valuestring, "saeg.feature_gene_associations/1") == 0);
    CHECK(strcmp(get(cj, "schema")->valuestring, "saeg.feature_cell_associations/1") == 0);
    CHECK(strcmp(get(st, "schema")->valuestring, "saeg.feature_stats/1") == 0);
    CHECK(strcmp(get(genes, "rank_by")->valuestring, "mean") == 0);
    CHECK(cJSON_GetArraySize(get(genes, "background_genes")) == NG);
    CHECK(cJSON_GetArraySize(get(genes, "features")) == 12 && cJSON_GetArraySize(get(st, "features")) == 12);
    CHECK(inum(st, "n_features") == 12 && inum(st, "n_tokens") == 77 && inum(cj, "n_cells") == 20);

    const cJSON *exp = get(get(fixture, "expected"), "features");
    for (int id = 0; id < 12; id++) {
        const cJSON *e = cJSON_GetArrayItem(exp, id);
        const cJSON *s = cJSON_GetArrayItem(get(st, "features"), id);
        CHECK(inum(s, "id") == id && inum(s, "n_active") == inum(e, "n_active"));
        CHECK_CLOSE(num(s, "frequency"), (double)inum(e, "n_active") / 77.0, TOL_FILE);
        CHECK_CLOSE(num(s, "cell_frequency"), (double)inum(e, "n_active_cells") / 20.0, TOL_FILE);
        CHECK_CLOSE(num(s, "mean_activation"), num(e, "mean_activation"), TOL_FILE);
        CHECK(cJSON_GetArraySize(get(get(s, "histogram"), "edges")) ==
              cJSON_GetArraySize(get(get(e, "histogram"), "edges")));
        const cJSON *g  = cJSON_GetArrayItem(get(genes, "features"), id);
        const cJSON *eg = get(get(e, "genes"), "mean");
        CHECK(cJSON_GetArraySize(get(g, "genes")) == cJSON_GetArraySize(eg));
        for (int i = 0; i < cJSON_GetArraySize(eg) && i < cJSON_GetArraySize(get(g, "genes")); i++) {
            const cJSON *x = cJSON_GetArrayItem(get(g, "genes"), i), *y = cJSON_GetArrayItem(eg, i);
            int var = (int)inum(y, "var");
            CHECK(strcmp(get(x, "ensembl_id")->valuestring, ids[var]) == 0);
            CHECK(strcmp(get(x, "symbol")->valuestring, syms[var]) == 0);
            CHECK_CLOSE(num(x, "mean"), num(y, "mean"), TOL_FILE);
            CHECK_CLOSE(num(x, "sum"), num(y, "sum"), TOL_FILE);
            CHECK_CLOSE(num(x, "max"), num(y, "max"), TOL_FILE);
            CHECK(inum(x, "n_cells") == inum(y, "n_cells"));
        }
        const cJSON *c  = cJSON_GetArrayItem(get(cj, "features"), id);
        const cJSON *en = get(c, "enrichment"), *een = get(e, "enrichment");
        CHECK(inum(c, "n_active_cells") == inum(e, "n_active_cells"));
        CHECK(cJSON_GetArraySize(en) == cJSON_GetArraySize(een));
        for (int i = 0; i < cJSON_GetArraySize(een) && i < cJSON_GetArraySize(en); i++) {
            const cJSON *x = cJSON_GetArrayItem(en, i), *y = cJSON_GetArrayItem(een, i);
            CHECK(strcmp(get(x, "type")->valuestring, types[inum(y, "type")]) == 0);
            CHECK(inum(x, "n_active_in_type") == inum(y, "k") && inum(x, "n_type") == inum(y, "K"));
            CHECK(cJSON_IsNull(get(x, "fold")) == cJSON_IsNull(get(y, "fold")));
            CHECK_CLOSE(num(x, "p"), num(y, "p"), 1e-12);
            CHECK_CLOSE(num(x, "q"), num(y, "q"), 1e-12);
        }
    }
    /* every top cell is listed once in cells[], with its annotations */
    CHECK(cJSON_GetArraySize(get(cj, "cells")) == n_rows);
    CHECK(cJSON_GetArraySize(get(cj, "cell_types")) == NT);
    CHECK(strcmp(get(cJSON_GetArrayItem(get(cj, "cells"), 0), "name")->valuestring, "cell0") == 0);

    /* the dashboard reads all three (the dead latent, the null folds) without complaint */
    struct sg_dashboard_info info;
    struct sg_dashboard_opts dopt = {.results_dir = tmp, .top_n = 0};
    sg_status ds                  = sg_dashboard_write(&dopt, &info);
    CHECK_MSG(ds == SG_OK, "%s", sg_last_error());
    CHECK(info.n_features == 12);
    cJSON_Delete(genes);
    cJSON_Delete(cj);
    cJSON_Delete(st);
    free(rows);
    sg_extract_acc_free(a);
}

/* 5,000 firings spread evenly over (0, 1]: a reservoir of 5,000 gives the exact histogram; one of
 * 256 gives counts that still add up to 5,000 and are each within 40% of the truth (1,000 per
 * bin; a bin of the sample holds ~51 +- 6.4), the same for the same seed */
static void hist_case(int32_t samples, int64_t out[5], bool *sampled) {
    struct sg_extract_acc_opts o = {
        .d_sae = 2, .n_var = 50, .top_k_genes = 1, .top_k_cells = 1, .histogram_bins = 5, .histogram_samples = samples};
    struct sg_extract_acc *a;
    CHECK(sg_extract_acc_new(&o, &a) == SG_OK);
    int32_t var[51], idx[51];
    float raw[51], vals[51];
    for (int t = 0; t <= 50; t++) {
        var[t] = t - 1;
        raw[t] = 1.0f;
        idx[t] = 0;
    }
    for (int cell = 0; cell < 100; cell++) {
        vals[0] = 0.0f;
        for (int t = 1; t <= 50; t++) vals[t] = (float)((cell * 50 + t - 1) % 1000 + 1) / 1000.0f;
        struct sg_extract_cell c = {
            .row = cell, .type = -1, .n_tokens = 50, .var = var, .raw = raw, .k = 1, .idx = idx, .vals = vals};
        CHECK(sg_extract_acc_add_cell(a, &c, NULL) == SG_OK);
    }
    CHECK(sg_extract_acc_finish(a) == SG_OK);
    CHECK(a->n_active[0] == 5000);
    for (int i = 0; i < 5; i++) out[i] = a->hist[i];
    *sampled = sg_extract_hist_sampled(a, 0);
    sg_extract_acc_free(a);
}

static void test_histograms_beyond_the_samples_are_scaled_estimates(void) {
    int64_t exact[5], est[5], again[5];
    bool s_exact, s_est, s_again;
    hist_case(5000, exact, &s_exact);
    hist_case(256, est, &s_est);
    hist_case(256, again, &s_again);
    CHECK(!s_exact && s_est);
    int64_t total = 0;
    for (int i = 0; i < 5; i++) {
        CHECK(exact[i] == 1000);
        CHECK_MSG(est[i] > 600 && est[i] < 1400, "bin %d: %lld", i, (long long)est[i]);
        CHECK(est[i] == again[i]);
        total += est[i];
    }
    CHECK(total == 5000);
}

/* exact streaming top-k: the same k best whatever order the entries come in */
static void test_topk_keeps_the_best_in_any_order(void) {
    struct sg_topk_entry mem[4];
    struct sg_topk h      = {.e = mem, .cap = 4};
    const double scores[] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5};
    for (int i = 10; i >= 0; i--) sg_topk_push(&h, scores[i], i, 0.0f);
    sg_topk_sort(&h);
    CHECK(h.n == 4);
    /* 9 (id 5), 6 (id 7), then the three 5s: ids 4 and 8 win over 10 */
    const int64_t want[] = {5, 7, 4, 8};
    for (int i = 0; i < 4; i++) CHECK(h.e[i].id == want[i]);
}

int main(void) {
    fixture = load_json(FIXTURE);
    if (!fixture) {
        fprintf(stderr, "cannot read %s (run from the repository root)\n", FIXTURE);
        return 1;
    }
    snprintf(tmp, sizeof tmp, "/tmp/saeg-extract-accum-XXXXXX");
    if (!mkdtemp(tmp)) return 1;
    RUN_TEST(test_token_and_cell_statistics_match_the_reference);
    RUN_TEST(test_enrichment_matches_scipy);
    RUN_TEST(test_top_genes_by_mean_match_the_reference);
    RUN_TEST(test_top_genes_by_sum_match_the_reference);
    RUN_TEST(test_top_genes_by_max_match_the_reference);
    RUN_TEST(test_files_hold_the_numbers_under_the_schema_names);
    RUN_TEST(test_topk_keeps_the_best_in_any_order);
    RUN_TEST(test_histograms_beyond_the_samples_are_scaled_estimates);
    cJSON_Delete(fixture);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    return test_exit_code();
}
