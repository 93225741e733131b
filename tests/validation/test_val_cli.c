/* `saeg validate` end to end (cli/cmd_validate.c linked in): usage errors exit 2, the results
 * mode runs every source offline from the fixtures without opening a single connection, writes
 * validation/<source>.json and summary.json, isolates a broken source, and the query mode
 * reproduces scipy's p and q values. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "io/http.h"
#include "tests/validation/harness.h"
#include "validation/tsv.h"

static char *TMP;
static struct th_server SRV;
static char CFG[600], RES[600];

static int run(const char *first, ...) {
    char *argv[64];
    int argc     = 0;
    argv[argc++] = "validate";
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 63; a = va_arg(ap, const char *)) argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    fflush(stdout);
    return saeg_cmd_validate(argc, argv);
}

static cJSON *load_json(const char *dir, const char *name) {
    char path[800];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *t  = th_read(path);
    cJSON *j = t ? cJSON_Parse(t) : NULL;
    free(t);
    return j;
}

static const cJSON *find_by(const cJSON *arr, const char *key, const char *value) {
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, key);
        if (cJSON_IsString(v) && !strcmp(v->valuestring, value)) return e;
    }
    return NULL;
}

static double num(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* feature 0: seizure genes; 1: cell cycle; 2: inflammation; 3: dead; 4: mixed, with an ID that
 * maps nowhere and one given by symbol only */
static const char features_json[] =
    "{\"schema\": \"saeg.feature_gene_associations/1\", \"rank_by\": \"mean\", \"top_k_genes\": 100,\n"
    " \"background_genes\": [%s],\n"
    " \"features\": [\n"
    "  {\"id\": 0, \"genes\": [%s]},\n"
    "  {\"id\": 1, \"genes\": [%s]},\n"
    "  {\"id\": 2, \"genes\": [%s]},\n"
    "  {\"id\": 3, \"genes\": [{\"ensembl_id\": \"ENSG00000141510\", \"symbol\": \"TP53\", \"sum\": 0, \"mean\": 0, "
    "\"max\": 0}]},\n"
    "  {\"id\": 4, \"genes\": [{\"ensembl_id\": \"ENSG00000000001\", \"symbol\": \"NOPE\", \"sum\": 3, \"mean\": 1, "
    "\"max\": 2},\n"
    "                        {\"symbol\": \"TP53\", \"sum\": 2, \"mean\": 0.9, \"max\": 1.5},\n"
    "                        {\"ensembl_id\": \"ENSG00000012048.23\", \"symbol\": \"BRCA1\", \"sum\": 1, \"mean\": "
    "0.5, \"max\": 1}]}\n"
    " ]}\n";

static void gene_list(char *out, size_t cap, const char *const *symbols, struct sgv_genes *g) {
    size_t o = 0;
    for (size_t i = 0; symbols[i]; i++) {
        int32_t k = sgv_genes_find(g, symbols[i], SGV_ID_SYMBOL, NULL);
        o += (size_t)snprintf(out + o, cap - o,
                              "%s{\"ensembl_id\": \"%s\", \"symbol\": \"%s\", \"sum\": %d, \"mean\": %g, \"max\": %d}",
                              i ? ", " : "", g->genes[k].ensembl, symbols[i], 10 - (int)i, 1.0 - 0.1 * (double)i, 5);
    }
}

static void write_results(void) {
    struct sgv_genes *g = th_genes();
    static char bg[8192], f0[4096], f1[4096], f2[4096], doc[32768];
    size_t o = 0;
    for (uint32_t i = 0; i < g->n; i++)
        o += (size_t)snprintf(bg + o, sizeof bg - o, "%s\"%s\"", i ? ", " : "", g->genes[i].ensembl);
    gene_list(f0, sizeof f0, (const char *const[]){"SCN1A", "SCN2A", "SCN8A", "KCNQ2", "CDKL5", NULL}, g);
    gene_list(f1, sizeof f1, (const char *const[]){"CDK1", "CCNB1", "CDC20", "PLK1", "AURKA", "BUB1", "TOP2A", NULL},
              g);
    gene_list(f2, sizeof f2, (const char *const[]){"IL6", "TNF", "CXCL8", "CCL2", NULL}, g);
    snprintf(doc, sizeof doc, features_json, bg, f0, f1, f2);
    snprintf(RES, sizeof RES, "%s/results", TMP);
    char path[700];
    snprintf(path, sizeof path, "mkdir -p '%s'", RES);
    TH_CHECK(system(path) == 0);
    snprintf(path, sizeof path, "%s/feature_gene_associations.json", RES);
    th_write(path, doc);
    sgv_genes_free(g);
}

static void write_config(const char *path, const char *extra_from, const char *extra_to) {
    char *t = th_read(FIX "/validation-test.yaml"), *c = th_subst_port(t, SRV.port);
    if (extra_from) {
        char *hit = strstr(c, extra_from);
        if (!hit) {
            fprintf(stderr, "config has no '%s'\n", extra_from);
            exit(1);
        }
        char *n = malloc(strlen(c) + strlen(extra_to) + 1);
        sprintf(n, "%.*s%s%s", (int)(hit - c), c, extra_to, hit + strlen(extra_from));
        free(c);
        c = n;
    }
    th_write(path, c);
    free(t);
    free(c);
}

static void replace_in_file(const char *path, const char *from, const char *to) {
    char *c = th_read(path), *hit = c ? strstr(c, from) : NULL;
    if (!hit) {
        fprintf(stderr, "%s has no '%s'\n", path, from);
        exit(1);
    }
    char *n = malloc(strlen(c) + strlen(to) + 1);
    sprintf(n, "%.*s%s%s", (int)(hit - c), c, to, hit + strlen(from));
    th_write(path, n);
    free(n);
    free(c);
}

/* status and reason of one source in the last summary.json */
static void source_status(const char *name, char *status, char *reason) {
    char vdir[700];
    snprintf(vdir, sizeof vdir, "%s/validation", RES);
    cJSON *sum       = load_json(vdir, "summary.json");
    const cJSON *row = find_by(cJSON_GetObjectItemCaseSensitive(sum, "sources"), "source", name);
    snprintf(status, 32, "%s", str(row, "status"));
    snprintf(reason, 1024, "%s", str(row, "reason"));
    cJSON_Delete(sum);
}

static void test_usage_errors_exit_2(void) {
    TH_CHECK(run(NULL) == 2);
    TH_CHECK(run("--results", RES, "--query", "q.gmt", NULL) == 2);
    TH_CHECK(run("--results", RES, "--config", CFG, "--top-n", "ten", NULL) == 2);
    TH_CHECK(run("--results", RES, "--config", CFG, "--fdr", "1.5", NULL) == 2);
    TH_CHECK(run("--results", RES, "--config", CFG, "--sources", "hpo,nosuch", NULL) == 2);
    TH_CHECK(run("--results", RES, "--bogus", NULL) == 2);
    TH_CHECK(run("--results", NULL) == 2);
    TH_CHECK(run("--query", "q.gmt", "--gene-sets", "t.gmt", NULL) == 2);
    TH_CHECK(run("--results", RES, "--config", CFG, "stray", NULL) == 2);
    TH_CHECK(run("--help", NULL) == 0);
}

static void test_offline_run_never_opens_a_connection(void) {
    uint64_t sockets = sg_http_sockets_opened();
    int before       = th_server_connections(&SRV);
    int rc           = run("--results", RES, "--config", CFG, "--offline", "--cache-dir", TMP, NULL);
    TH_CHECKF(rc == 0, "exit %d: %s", rc, sg_last_error());
    TH_CHECKF(sg_http_sockets_opened() == sockets, "%llu sockets opened",
              (unsigned long long)(sg_http_sockets_opened() - sockets));
    TH_CHECKF(th_server_connections(&SRV) == before, "the replay server saw %d connections",
              th_server_connections(&SRV) - before);
}

static void test_results_files_and_summary(void) {
    char vdir[700];
    snprintf(vdir, sizeof vdir, "%s/validation", RES);
    cJSON *sum = load_json(vdir, "summary.json");
    TH_CHECK(sum != NULL);
    if (!sum) return;
    TH_CHECK(!strcmp(str(sum, "schema"), "saeg.validation.summary/1"));
    const cJSON *srcs = cJSON_GetObjectItemCaseSensitive(sum, "sources");
    TH_CHECK(cJSON_GetArraySize(srcs) == 14);
    const cJSON *e;
    cJSON_ArrayForEach(e, srcs) {
        TH_CHECKF(!strcmp(str(e, "status"), "ok") && !strcmp(str(e, "mode"), "offline"), "%s: %s %s", str(e, "source"),
                  str(e, "status"), str(e, "reason"));
        char name[100];
        snprintf(name, sizeof name, "%s.json", str(e, "source"));
        cJSON *doc = load_json(vdir, name);
        TH_CHECKF(doc && !strcmp(str(doc, "schema"), "saeg.validation.source/1") &&
                      cJSON_GetObjectItemCaseSensitive(doc, "licence"),
                  "%s missing or incomplete", name);
        cJSON_Delete(doc);
    }
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(sum, "input");
    TH_CHECK(num(in, "features") == 5 && num(in, "features_without_genes") == 1);
    const cJSON *qg =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(sum, "gene_ids"), "query_genes");
    TH_CHECKF(num(qg, "total") == 19 && num(qg, "mapped") == 18 && num(qg, "unmapped") == 1, "query genes %g/%g/%g",
              num(qg, "total"), num(qg, "mapped"), num(qg, "unmapped"));
    /* null baseline: repeats (3) x tested features, recorded next to the observed fraction */
    const cJSON *hpo = find_by(srcs, "source", "hpo");
    TH_CHECK(num(hpo, "features_tested") >= 1 &&
             cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(hpo, "null_fraction_enriched")));
    const cJSON *go = find_by(srcs, "source", "go");
    TH_CHECK(num(go, "fraction_enriched") > 0);
    cJSON_Delete(sum);

    /* HPO: feature 0 = every seizure gene of an 8-gene universe, term size 5: p = 1/C(8,5) */
    cJSON *h         = load_json(vdir, "hpo.json");
    const cJSON *f0  = find_by(cJSON_GetObjectItemCaseSensitive(h, "features"), "id", "0");
    const cJSON *row = find_by(cJSON_GetObjectItemCaseSensitive(f0, "terms"), "term_id", "HP:0001250");
    TH_CHECKF(row && num(row, "N") == 8 && num(row, "K") == 5 && num(row, "n") == 5 && num(row, "k") == 5 &&
                  fabs(num(row, "p") - 1.0 / 56) < 1e-14,
              "HP:0001250 row: N %g K %g n %g k %g p %g", num(row, "N"), num(row, "K"), num(row, "n"), num(row, "k"),
              num(row, "p"));
    TH_CHECK(row && !strcmp(str(row, "url"), "https://hpo.jax.org/browse/term/HP:0001250"));
    TH_CHECK(row && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(row, "overlap_genes")) == 5);
    const cJSON *f3 = find_by(cJSON_GetObjectItemCaseSensitive(h, "features"), "id", "3");
    TH_CHECK(f3 && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(f3, "tested")));
    cJSON_Delete(h);

    /* GO: feature 1 holds all 6 annotated cell-cycle genes of a 13-gene universe: p = 1/C(13,6) */
    cJSON *gj       = load_json(vdir, "go.json");
    const cJSON *f1 = find_by(cJSON_GetObjectItemCaseSensitive(gj, "features"), "id", "1");
    row             = find_by(cJSON_GetObjectItemCaseSensitive(f1, "terms"), "term_id", "GO:0007049");
    TH_CHECKF(row && fabs(num(row, "p") - 1.0 / 1716) < 1e-15 && num(row, "q_bh") < 0.05 &&
                  num(f1, "n_significant") >= 1,
              "GO:0007049 p %g q %g", num(row, "p"), num(row, "q_bh"));
    cJSON_Delete(gj);

    /* STRING: the cell-cycle feature is a clique in the fixture network */
    cJSON *sj = load_json(vdir, "string.json");
    f1        = find_by(cJSON_GetObjectItemCaseSensitive(sj, "features"), "id", "1");
    TH_CHECKF(f1 && num(f1, "n_nodes") == 7 && num(f1, "edges") == 21 && num(f1, "p") < 0.01,
              "string feature 1: %g nodes %g edges", num(f1, "n_nodes"), num(f1, "edges"));
    cJSON_Delete(sj);
}

static void test_broken_source_fails_alone(void) {
    char cfg[700], bad[700];
    snprintf(bad, sizeof bad, "%s/broken.gmt", TMP);
    th_write(bad, "no tabs on this line\n");
    snprintf(cfg, sizeof cfg, "%s/broken.yaml", TMP);
    char to[800];
    snprintf(to, sizeof to, "files: {gmt: %s}", bad);
    write_config(cfg, "files: {gmt: kegg/kegg_medicus.symbols.gmt}", to);
    int rc = run("--results", RES, "--config", cfg, "--offline", "--sources", "kegg,reactome", NULL);
    TH_CHECK(rc == 1);
    char status[32], reason[1024];
    source_status("kegg", status, reason);
    TH_CHECKF(!strcmp(status, "failed") && th_contains(reason, bad) && th_contains(reason, "line 1"), "kegg: %s",
              reason);
    source_status("reactome", status, reason);
    TH_CHECK(!strcmp(status, "ok"));
    source_status("hpo", status, reason);
    TH_CHECK(!strcmp(status, "skipped") && th_contains(reason, "--sources"));
}

static void test_missing_offline_files_skip_under_offline(void) {
    char cfg[700];
    snprintf(cfg, sizeof cfg, "%s/missing.yaml", TMP);
    write_config(cfg, "hpo/genes_to_phenotype.txt", "hpo/not-there.txt");
    TH_CHECK(run("--results", RES, "--config", cfg, "--offline", "--sources", "hpo,go", NULL) == 0);
    char status[32], reason[1024];
    source_status("hpo", status, reason);
    TH_CHECKF(!strcmp(status, "skipped") && th_contains(reason, "not-there.txt"), "hpo: %s", reason);
}

static void test_bad_inputs_name_the_file(void) {
    char dir[700], path[800];
    snprintf(dir, sizeof dir, "%s/empty-results", TMP);
    snprintf(path, sizeof path, "mkdir -p '%s'", dir);
    TH_CHECK(system(path) == 0);
    TH_CHECK(run("--results", dir, "--config", CFG, "--offline", NULL) == 1);
    TH_CHECKF(th_contains(sg_last_error(), "feature_gene_associations.json"), "%s", sg_last_error());
    snprintf(path, sizeof path, "%s/feature_gene_associations.json", dir);
    th_write(path, "{\"features\": [{\"id\": 0, \"genes\": []}]}");
    TH_CHECK(run("--results", dir, "--config", CFG, "--offline", NULL) == 1);
    TH_CHECKF(th_contains(sg_last_error(), "background_genes") && th_contains(sg_last_error(), "--background"), "%s",
              sg_last_error());
    th_write(path, "{\"features\": [{\"id\": 0, \"genes\": [{\"symbol\": \"TP53\", \"mean\": \"high\"}]}]}");
    TH_CHECK(run("--results", dir, "--config", CFG, "--offline", NULL) == 1);
    TH_CHECKF(th_contains(sg_last_error(), "features[0].genes[0].mean"), "%s", sg_last_error());
    th_write(path, "{\"features\": [ {\"id\": 0, ");
    TH_CHECK(run("--results", dir, "--config", CFG, "--offline", NULL) == 1);
    TH_CHECKF(th_contains(sg_last_error(), "not valid JSON"), "%s", sg_last_error());
    char cfg[700];
    snprintf(cfg, sizeof cfg, "%s/typo.yaml", TMP);
    write_config(cfg, "  hpo:\n    enabled: true", "  hpo:\n    enabeld: true");
    TH_CHECK(run("--results", RES, "--config", cfg, "--offline", NULL) == 1);
    TH_CHECKF(th_contains(sg_last_error(), "databases.hpo.enabeld") && th_contains(sg_last_error(), "unknown setting"),
              "%s", sg_last_error());
    /* the shipped config is accepted as it is (with no data files every source is skipped) */
    TH_CHECK(run("--results", RES, "--config", "configs/validation/databases.yaml", "--offline", "--data-dir", TMP,
                 "--gene-table", FIX "/hgnc_complete_set.txt", NULL) == 1);
    TH_CHECKF(th_contains(sg_last_error(), "no source could run"), "%s", sg_last_error());
    TH_CHECK(run("--results", RES, "--config", "/nonexistent/config.yaml", NULL) == 1);
    TH_CHECK(th_contains(sg_last_error(), "/nonexistent/config.yaml"));
}

static void test_online_source_in_results_mode(void) {
    char cfg[700];
    snprintf(cfg, sizeof cfg, "%s/online.yaml", TMP);
    write_config(cfg, "    files: {gmt: kegg/kegg_medicus.symbols.gmt}\n", "    mode: online\n");
    int before = th_server_count(&SRV, "/kegg/link/pathway/hsa");
    char cache[700];
    snprintf(cache, sizeof cache, "%s/net-cache", TMP);
    TH_CHECKF(run("--results", RES, "--config", cfg, "--sources", "kegg", "--cache-dir", cache, NULL) == 0, "%s",
              sg_last_error());
    TH_CHECK(th_server_count(&SRV, "/kegg/link/pathway/hsa") == before + 1);
    char vdir[700];
    snprintf(vdir, sizeof vdir, "%s/validation", RES);
    cJSON *k = load_json(vdir, "kegg.json");
    TH_CHECK(k && !strcmp(str(k, "mode"), "online") && !strcmp(str(k, "version"), "110.0+/06-18"));
    cJSON_Delete(k);
    /* a per-gene API refuses a background larger than online_max_genes, saying how to proceed */
    char guard[700];
    snprintf(guard, sizeof guard, "%s/guard.yaml", TMP);
    write_config(guard, "    files: {genes_to_phenotype: hpo/genes_to_phenotype.txt, ontology: hpo/hp.obo}\n",
                 "    mode: online\n");
    replace_in_file(guard, "version: 1\n", "version: 1\nonline_max_genes: 10\n");
    before = th_server_connections(&SRV);
    TH_CHECK(run("--results", RES, "--config", guard, "--sources", "hpo,go", "--cache-dir", cache, NULL) == 0);
    TH_CHECK(th_server_connections(&SRV) == before);
    char status[32], reason[1024];
    source_status("hpo", status, reason);
    TH_CHECKF(!strcmp(status, "skipped") && th_contains(reason, "online_max_genes"), "hpo: %s", reason);
    /* --offline with only an online source configured: skipped, and nothing to run is an error */
    TH_CHECK(run("--results", RES, "--config", cfg, "--sources", "kegg", "--offline", NULL) == 1);
    TH_CHECKF(th_contains(sg_last_error(), "no source could run"), "%s", sg_last_error());
}

static void test_query_mode_reproduces_scipy(void) {
    char out[700];
    snprintf(out, sizeof out, "%s/query.json", TMP);
    int rc = run("--query", FIX "/stats/query.gmt", "--gene-sets", FIX "/stats/terms.gmt", "--background",
                 FIX "/stats/background.txt", "--min-term-size", "5", "--max-term-size", "500", "--output", out, NULL);
    TH_CHECKF(rc == 0, "%s", sg_last_error());
    char *t    = th_read(out);
    cJSON *doc = t ? cJSON_Parse(t) : NULL;
    free(t);
    TH_CHECK(doc != NULL);
    struct sgv_tsv ref;
    TH_CHECK(sgv_tsv_open(&ref, FIX "/stats/enrich_expected_bg.tsv", '\t', 0) == SG_OK);
    int compared = 0, listed_expected = 0;
    while (sgv_tsv_next(&ref) > 0) {
        double p = strtod(ref.f[6], NULL), q = strtod(ref.f[7], NULL), qg = strtod(ref.f[8], NULL);
        int k            = atoi(ref.f[5]);
        const cJSON *f   = find_by(cJSON_GetObjectItemCaseSensitive(doc, "features"), "id", ref.f[0]);
        const cJSON *row = find_by(cJSON_GetObjectItemCaseSensitive(f, "terms"), "term_id", ref.f[1]);
        int should_list  = k >= 2 && p < 0.05;
        listed_expected += should_list;
        TH_CHECKF(!row == !should_list, "%s/%s listed=%d, expected %d", ref.f[0], ref.f[1], row != NULL, should_list);
        if (!row) continue;
        compared++;
        TH_CHECKF(fabs(num(row, "p") - p) <= 1e-9 * p && fabs(num(row, "q_bh") - q) <= 1e-9 * q &&
                      fabs(num(row, "q_bh_global") - qg) <= 1e-9 * qg,
                  "%s/%s: p %.17g q %.17g qg %.17g vs %.17g %.17g %.17g", ref.f[0], ref.f[1], num(row, "p"),
                  num(row, "q_bh"), num(row, "q_bh_global"), p, q, qg);
    }
    sgv_tsv_close(&ref);
    TH_CHECK(compared == listed_expected && compared > 5);
    fprintf(stderr, "   %d reported rows match scipy\n", compared);
    cJSON_Delete(doc);
    TH_CHECK(run("--query", "/nonexistent.gmt", "--gene-sets", FIX "/stats/terms.gmt", "--output", out, NULL) == 1);
    TH_CHECK(th_contains(sg_last_error(), "/nonexistent.gmt"));
}

int main(void) {
    TMP = th_tmpdir("cli");
    if (th_server_start(FIX "/online/scenario.json", &SRV) != 0) return 1;
    snprintf(CFG, sizeof CFG, "%s/validation.yaml", TMP);
    write_config(CFG, NULL, NULL);
    write_results();
    TH_RUN(test_usage_errors_exit_2);
    TH_RUN(test_offline_run_never_opens_a_connection);
    TH_RUN(test_results_files_and_summary);
    TH_RUN(test_broken_source_fails_alone);
    TH_RUN(test_missing_offline_files_skip_under_offline);
    TH_RUN(test_bad_inputs_name_the_file);
    TH_RUN(test_online_source_in_results_mode);
    TH_RUN(test_query_mode_reproduces_scipy);
    th_server_stop(&SRV);
    th_rmtree(TMP);
    free(TMP);
    return th_report();
}
