/* Real data: Bioconductor's org.Hs.eg.db (Debian r-bioc-org.hs.eg.db 3.16, NCBI Gene 2022-09,
 * GO 2022-07) as the gene hub and the source of GO and OMIM gene sets. Canonical cell-cycle
 * genes must pull out GO:0007049 "cell cycle", breast-cancer susceptibility genes OMIM 114480,
 * and a random set of the same size neither. The file comes from tests/validation/fetch-orgdb.sh;
 * without it this test is skipped (exit 77), the only validation test allowed to skip. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/validation/harness.h"
#include "validation/config.h"
#include "validation/enrich.h"
#include "validation/nullset.h"
#include "validation/orgdb.h"
#include "validation/sources/source.h"

static const char *DB;
static struct sgv_genes *G;

static const char *find_db(void) {
    static char path[1024];
    const char *env = getenv("SAEG_ORGDB_SQLITE");
    if (env && *env) return env;
    const char *base = getenv("SAEG_ORGDB_CACHE");
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (base && *base)
        snprintf(path, sizeof path, "%s", base);
    else if (xdg && *xdg)
        snprintf(path, sizeof path, "%s/saeg/orgdb", xdg);
    else
        snprintf(path, sizeof path, "%s/.cache/saeg/orgdb", home ? home : "");
    size_t n = strlen(path);
    snprintf(path + n, sizeof path - n, "/x/usr/lib/R/site-library/org.Hs.eg.db/extdata/org.Hs.eg.sqlite");
    return path;
}

static uint32_t *ids(const char *const *symbols, size_t *n) {
    uint32_t *out = malloc(64 * sizeof *out);
    *n            = 0;
    for (size_t i = 0; symbols[i]; i++) {
        int32_t g = sgv_genes_find(G, symbols[i], SGV_ID_SYMBOL, NULL);
        TH_CHECKF(g >= 0, "%s not in org.Hs.eg.db", symbols[i]);
        if (g >= 0) out[(*n)++] = (uint32_t)g;
    }
    return out;
}

/* Rank (1-based) and per-set q of `term` among the hits, or 0 when absent. */
static size_t rank_of(struct sgv_prepared *p, const uint32_t *genes, size_t n, const char *term, double *q) {
    struct sgv_set_result r = {0};
    TH_CHECK(sgv_enrich_set(p, genes, n, &r) == SG_OK);
    double lp[8192], lq[8192];
    size_t nh = r.n_hits < 8192 ? r.n_hits : 8192, rank = 0;
    for (size_t h = 0; h < nh; h++) lp[h] = r.hits[h].logp;
    sgv_bh_log(lp, nh, r.m, lq);
    for (size_t h = 0; h < nh && !rank; h++)
        if (!strcmp(p->lib->terms[p->term[r.hits[h].t]].id, term)) {
            rank = h + 1;
            *q   = exp(lq[h]);
        }
    sgv_set_result_free(&r);
    return rank;
}

static void test_gene_hub_from_ncbi_gene(void) {
    TH_CHECK(G->n == 77614);
    enum sgv_match how;
    int32_t tp53 = sgv_genes_find(G, "ENSG00000141510", SGV_ID_ANY, &how);
    TH_CHECK(tp53 >= 0 && !strcmp(G->genes[tp53].entrez, "7157") && how == SGV_MATCH_ENSEMBL);
    TH_CHECK(sgv_genes_find(G, "TRP53", SGV_ID_SYMBOL, &how) == tp53 && how == SGV_MATCH_ALIAS);
    char v[64];
    TH_CHECK(sgv_orgdb_metadata(DB, "EGSOURCEDATE", v, sizeof v) == SG_OK && !strcmp(v, "2022-Sep12"));
}

static void test_cell_cycle_genes_find_go_cell_cycle(void) {
    struct sgv_library lib;
    sgv_library_init(&lib, "go");
    TH_CHECKF(sgv_orgdb_load_go(DB, "BP", G, &lib) == SG_OK, "%s", sg_last_error());
    TH_CHECK(lib.n_terms > 10000 && lib.version && th_contains(lib.version, "2022-07-01"));
    struct sgv_enrich_opts eo = {.min_term = 5, .max_term = 2000, .min_overlap = 2};
    struct sgv_prepared *p;
    TH_CHECK(sgv_prepare(&lib, NULL, 0, G->n, &eo, &p) == SG_OK);
    size_t n;
    uint32_t *q = ids((const char *const[]){"CDK1", "CCNB1", "CCNA2",  "CDC20",  "PLK1",   "AURKA",  "AURKB",
                                            "BUB1", "BUB1B", "MAD2L1", "CDK2",   "CCNE1",  "CDKN1A", "E2F1",
                                            "MCM2", "CHEK1", "WEE1",   "CDC25A", "CDC25C", "CDK4",   NULL},
                      &n);
    double qv   = 1;
    size_t rank = rank_of(p, q, n, "GO:0007049", &qv);
    fprintf(stderr, "   GO:0007049 cell cycle: rank %zu of the hits, q = %.3g (universe %u genes, %u terms tested)\n",
            rank, qv, p->N, p->m);
    TH_CHECK(rank >= 1 && rank <= 25 && qv < 1e-15);
    /* the same number of random annotated genes: no cell-cycle signal */
    struct sgv_rng rng;
    sgv_rng_seed(&rng, 2024, "orgdb-control");
    uint32_t *pool = malloc(p->N * sizeof *pool), set[20];
    memcpy(pool, p->universe, p->N * sizeof *pool);
    sgv_sample(&rng, pool, p->N, n, set);
    qv   = 1;
    rank = rank_of(p, set, n, "GO:0007049", &qv);
    TH_CHECKF(rank == 0 || qv > 0.05, "random genes: cell cycle q = %g", qv);
    free(pool);
    free(q);
    sgv_prepared_free(p);
    sgv_library_free(&lib);
}

static void test_breast_cancer_genes_find_omim_114480(void) {
    struct sgv_library lib;
    sgv_library_init(&lib, "omim");
    TH_CHECKF(sgv_orgdb_load_omim(DB, G, &lib) == SG_OK, "%s", sg_last_error());
    struct sgv_enrich_opts eo = {.min_term = 5, .max_term = 1000, .min_overlap = 2};
    struct sgv_prepared *p;
    TH_CHECK(sgv_prepare(&lib, NULL, 0, G->n, &eo, &p) == SG_OK);
    size_t n;
    uint32_t *q =
        ids((const char *const[]){"BRCA1", "BRCA2", "ATM", "CHEK2", "PALB2", "BRIP1", "RAD51", "BARD1", NULL}, &n);
    double qv   = 1;
    size_t rank = rank_of(p, q, n, "OMIM:114480", &qv);
    fprintf(stderr, "   OMIM:114480 breast cancer: rank %zu, q = %.3g\n", rank, qv);
    TH_CHECK(rank == 1 && qv < 1e-6);
    free(q);
    sgv_prepared_free(p);
    sgv_library_free(&lib);
}

/* The same data through the GO and OMIM sources' offline path (files.orgdb). */
static void test_sources_read_orgdb(void) {
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "databases: {go: {files: {orgdb: '%s'}, namespace: cellular_component}, omim: {files: {orgdb: '%s'}}}", DB,
             DB);
    struct sgv_config *c;
    TH_CHECK(sgv_config_parse(yaml, strlen(yaml), "orgdb test", &c) == SG_OK);
    const char *names[] = {"go", "omim"};
    const char *probe[] = {"GO:0005634", "OMIM:114480"};
    for (int i = 0; i < 2; i++) {
        const struct sgv_source *src = sgv_source_find(names[i]);
        struct sgv_source_ctx ctx    = {
               .cfg = sgv_cfg_child(sgv_cfg_child(sgv_cfg_root(c), "databases"), names[i]), .genes = G, .src = src};
        char why[256];
        TH_CHECK(sgv_src_offline_ready(&ctx, why, sizeof why));
        struct sgv_library lib;
        sgv_library_init(&lib, names[i]);
        TH_CHECKF(src->load_offline(&ctx, &lib) == SG_OK, "%s", sg_last_error());
        int32_t t;
        TH_CHECK(sgv_strmap_get(&lib.index, probe[i], &t) && lib.terms[t].n_genes >= 20);
        TH_CHECK(ctx.version != NULL);
        free(ctx.version);
        sgv_library_free(&lib);
    }
    sgv_config_free(c);
}

int main(void) {
    DB = find_db();
    if (access(DB, R_OK) != 0) {
        fprintf(stderr, "SKIP: %s not found; run tests/validation/fetch-orgdb.sh (or set SAEG_ORGDB_SQLITE)\n", DB);
        return 77;
    }
    if (sgv_orgdb_load_genes(DB, &G) != SG_OK) {
        fprintf(stderr, "%s\n", sg_last_error());
        return 1;
    }
    TH_RUN(test_gene_hub_from_ncbi_gene);
    TH_RUN(test_cell_cycle_genes_find_go_cell_cycle);
    TH_RUN(test_breast_cancer_genes_find_omim_114480);
    TH_RUN(test_sources_read_orgdb);
    sgv_genes_free(G);
    return th_report();
}
