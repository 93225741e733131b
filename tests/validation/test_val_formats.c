/* Readers shared by the sources: YAML config typing, TSV quoting, gzip, OBO structure errors,
 * GMT variants and the feature file's ranking rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/validation/harness.h"
#include "validation/config.h"
#include "validation/features.h"
#include "validation/gmt.h"
#include "validation/online.h"
#include "validation/ontology.h"
#include "validation/textfile.h"
#include "validation/tsv.h"

static char *TMP;

static char *tmpfile_with(const char *name, const char *text) {
    static char path[8][700];
    static int i;
    i = (i + 1) % 8;
    snprintf(path[i], sizeof path[i], "%s/%s", TMP, name);
    th_write(path[i], text);
    return path[i];
}

static void test_config_values_are_typed_and_errors_located(void) {
    const char *y = "a:\n  n: 12\n  b: yes\n  s: text\n  l: [x, y]\n  bad_b: maybe\n  bad_n: 1.5.2\n  m: {k: 1}\n";
    struct sgv_config *c;
    TH_CHECK(sgv_config_parse(y, strlen(y), "t.yaml", &c) == SG_OK);
    struct sgv_cfg a = sgv_cfg_child(sgv_cfg_root(c), "a");
    double d;
    int b;
    unsigned u;
    const char *s, **l;
    size_t n;
    TH_CHECK(sgv_cfg_num(a, "n", 0, &d) == SG_OK && d == 12);
    TH_CHECK(sgv_cfg_uint(a, "missing", 7, &u) == SG_OK && u == 7);
    TH_CHECK(sgv_cfg_bool(a, "b", 0, &b) == SG_OK && b == 1);
    TH_CHECK(sgv_cfg_str(a, "s", NULL, &s) == SG_OK && !strcmp(s, "text"));
    TH_CHECK(sgv_cfg_str_list(a, "l", &l, &n) == SG_OK && n == 2 && !strcmp(l[1], "y") && l[2] == NULL);
    free(l);
    TH_CHECK(sgv_cfg_str_list(a, "s", &l, &n) == SG_OK && n == 1); /* a scalar is a one-item list */
    free(l);
    TH_CHECK(sgv_cfg_bool(a, "bad_b", 0, &b) == SG_ERR_INVALID_ARG);
    TH_CHECKF(th_contains(sg_last_error(), "t.yaml:6") && th_contains(sg_last_error(), "a.bad_b") &&
                  th_contains(sg_last_error(), "'maybe'"),
              "%s", sg_last_error());
    TH_CHECK(sgv_cfg_num(a, "bad_n", 0, &d) == SG_ERR_INVALID_ARG && th_contains(sg_last_error(), "a.bad_n"));
    TH_CHECK(sgv_cfg_uint(a, "n", 0, &u) == SG_OK && u == 12);
    TH_CHECK(sgv_cfg_str(a, "m", NULL, &s) == SG_ERR_INVALID_ARG && th_contains(sg_last_error(), "a mapping"));
    static const char *const allowed[] = {"n", "b", NULL};
    TH_CHECK(sgv_cfg_check_keys(a, allowed) == SG_ERR_INVALID_ARG && th_contains(sg_last_error(), "a.s"));
    sgv_config_free(c);
    const char *broken = "a: [1, 2\nb: 3\n";
    TH_CHECK(sgv_config_parse(broken, strlen(broken), "broken.yaml", &c) == SG_ERR_FORMAT);
    TH_CHECKF(th_contains(sg_last_error(), "broken.yaml:"), "%s", sg_last_error());
    TH_CHECK(sgv_config_parse("- a\n- b\n", 8, "list.yaml", &c) == SG_ERR_FORMAT &&
             th_contains(sg_last_error(), "mapping"));
}

static void test_tsv_quotes_preamble_and_short_rows(void) {
    char *p = tmpfile_with(
        "q.tsv", "#date: 2024-01-02\n#note without tabs\n\"a\"\t\"b c\"\tc\n\"x \"\"y\"\"\"\t\"two\nlines\"\tz\n");
    struct sgv_tsv t;
    TH_CHECK(sgv_tsv_open(&t, p, '\t', 1) == SG_OK);
    TH_CHECK(t.version && !strcmp(t.version, "2024-01-02") && t.n_header == 3 && !strcmp(t.header[1], "b c"));
    TH_CHECK(sgv_tsv_next(&t) == 1 && t.nf == 3 && !strcmp(t.f[0], "x \"y\"") && !strcmp(t.f[1], "two\nlines") &&
             !strcmp(t.f[2], "z"));
    TH_CHECK(sgv_tsv_next(&t) == 0);
    sgv_tsv_close(&t);
    p = tmpfile_with("short.tsv", "a\tb\tc\n1\t2\t3\n4\t5\n");
    TH_CHECK(sgv_tsv_open(&t, p, '\t', 0) == SG_OK);
    static const char *const cols[] = {"a", "c", NULL};
    int c[2];
    TH_CHECK(sgv_tsv_require(&t, cols, c) == SG_OK && c[1] == 2);
    TH_CHECK(sgv_tsv_next(&t) == 1 && sgv_tsv_next(&t) == -1);
    TH_CHECKF(th_contains(sg_last_error(), p) && th_contains(sg_last_error(), "line 3"), "%s", sg_last_error());
    sgv_tsv_close(&t);
    TH_CHECK(sgv_tsv_open(&t, tmpfile_with("empty.tsv", ""), '\t', 0) == SG_ERR_FORMAT);
}

static void test_gzip_is_read_transparently(void) {
    char cmd[900], *p = tmpfile_with("z.txt", "line one\nline two");
    snprintf(cmd, sizeof cmd, "gzip -kf '%s'", p);
    TH_CHECK(system(cmd) == 0);
    char gz[720];
    snprintf(gz, sizeof gz, "%s.gz", p);
    struct sgv_lines r;
    char *line;
    TH_CHECK(sgv_lines_open(&r, gz) == SG_OK);
    TH_CHECK(sgv_lines_next(&r, &line) == 1 && !strcmp(line, "line one"));
    TH_CHECK(sgv_lines_next(&r, &line) == 1 && !strcmp(line, "line two")); /* no final newline */
    TH_CHECK(sgv_lines_next(&r, &line) == 0);
    sgv_lines_close(&r);
}

static void test_obo_structure_errors_are_reported(void) {
    struct sgv_ontology *o;
    char *cyc = tmpfile_with("cyc.obo", "[Term]\nid: A:1\nis_a: A:2\n\n[Term]\nid: A:2\nis_a: A:1\n");
    TH_CHECK(sgv_ontology_load_obo(cyc, NULL, &o) == SG_OK);
    const uint32_t *anc;
    uint32_t n;
    TH_CHECK(sgv_ontology_ancestors(o, 0, &anc, &n) == SG_ERR_FORMAT && th_contains(sg_last_error(), "cycle"));
    sgv_ontology_free(o);
    char *undef = tmpfile_with("undef.obo", "[Term]\nid: A:1\nis_a: A:9 ! missing\n");
    TH_CHECK(sgv_ontology_load_obo(undef, NULL, &o) == SG_ERR_FORMAT);
    TH_CHECKF(th_contains(sg_last_error(), "A:9") && th_contains(sg_last_error(), undef), "%s", sg_last_error());
    TH_CHECK(sgv_ontology_load_obo(tmpfile_with("none.obo", "format-version: 1.2\n"), NULL, &o) == SG_ERR_FORMAT);
    TH_CHECK(sgv_ontology_load_obo(tmpfile_with("dup.obo", "[Term]\nid: A:1\n[Term]\nid: A:1\n"), NULL, &o) ==
             SG_ERR_FORMAT);
    TH_CHECK(sgv_ontology_load_obo(FIX "/hpo/hp.obo", NULL, &o) == SG_OK);
    TH_CHECK(sgv_ontology_find(o, "HP:0002279") == sgv_ontology_find(o, "HP:0001250")); /* alt_id */
    TH_CHECK(sgv_ontology_find(o, "HP:0006813") == sgv_ontology_find(o, "HP:0002373")); /* replaced_by */
    TH_CHECK(sgv_ontology_find(o, "HP:9999999") == -1);
    TH_CHECK(sgv_ontology_is_ancestor(o, (uint32_t)sgv_ontology_find(o, "HP:0000118"),
                                      (uint32_t)sgv_ontology_find(o, "HP:0002373")));
    sgv_ontology_free(o);
}

static void test_gmt_variants(void) {
    struct sgv_genes *g = th_genes();
    struct sgv_library lib;
    sgv_library_init(&lib, "t");
    char *p = tmpfile_with("e.gmt", "# comment\nSET_A\tdesc\tCDK1,1.0\tCCNB1,0.5\t\nSET_B\thttp://x/SET_B\n");
    TH_CHECK(sgv_gmt_load(p, g, SGV_ID_ANY, SGV_GMT_ID_NAME, &lib) == SG_OK);
    TH_CHECK(th_term_is(&lib, g, "SET_A", (const char *const[]){"CDK1", "CCNB1", NULL})); /* Enrichr weights */
    int32_t t;
    TH_CHECK(sgv_strmap_get(&lib.index, "SET_B", &t) && lib.terms[t].n_genes == 0 && lib.terms[t].name == NULL);
    sgv_library_free(&lib);
    sgv_library_init(&lib, "t");
    TH_CHECK(sgv_gmt_load(tmpfile_with("none.gmt", "# nothing\n"), g, SGV_ID_ANY, SGV_GMT_ID_NAME, &lib) ==
             SG_ERR_FORMAT);
    sgv_library_free(&lib);
    sgv_genes_free(g);
}

static void test_feature_file_takes_top_n_positive_genes(void) {
    struct sgv_genes *g = th_genes();
    char *p             = tmpfile_with(
                    "f.json",
                    "{\"rank_by\": \"max\", \"background_genes\": [\"ENSG00000141510\", \"CDK1\", \"6790\", \"NOPE\"],\n"
                                " \"features\": [{\"id\": \"f7\", \"genes\": [\n"
                                "   {\"ensembl_id\": \"ENSG00000170312\", \"symbol\": \"CDK1\", \"sum\": 1, \"mean\": 0.1, \"max\": 3},\n"
                                "   {\"ensembl_id\": \"\", \"symbol\": \"CCNB1\", \"sum\": 1, \"mean\": 0.1, \"max\": 2},\n"
                                "   {\"ensembl_id\": \"ENSG00000170312\", \"symbol\": \"CDK1\", \"max\": 1},\n"
                                "   {\"ensembl_id\": \"ENSG00000117399\", \"symbol\": \"CDC20\", \"max\": 0.5},\n"
                                "   {\"ensembl_id\": \"ENSG00000166851\", \"symbol\": \"PLK1\", \"max\": 0}]}]}\n");
    struct sgv_features fs;
    TH_CHECKF(sgv_features_load_json(p, g, 3, &fs) == SG_OK, "%s", sg_last_error());
    /* top 3 by file order; the repeated CDK1 counts once; PLK1 is beyond top-n anyway */
    TH_CHECK(fs.n == 1 && !strcmp(fs.items[0].id, "f7") && fs.items[0].n_listed == 3 && fs.items[0].n_genes == 2);
    TH_CHECK(fs.n_background == 3 && fs.bg_map.by[SGV_MATCH_NONE] == 1 && !strcmp(fs.rank_by, "max"));
    sgv_features_free(&fs);
    TH_CHECK(sgv_features_load_json(p, g, 100, &fs) == SG_OK && fs.items[0].n_listed == 4); /* max 0: not firing */
    sgv_features_free(&fs);
    p = tmpfile_with("bad.json", "{\"rank_by\": \"median\", \"features\": []}");
    TH_CHECK(sgv_features_load_json(p, g, 10, &fs) == SG_ERR_FORMAT && th_contains(sg_last_error(), "median"));
    p = tmpfile_with("bad2.json", "{\"features\": [{\"genes\": []}]}");
    TH_CHECK(sgv_features_load_json(p, g, 10, &fs) == SG_ERR_FORMAT && th_contains(sg_last_error(), "features[0]"));
    p = tmpfile_with("bg.txt", "# comment\nTP53\textra column\n\nENSG00000012048.1\nTP53\n");
    memset(&fs, 0, sizeof fs);
    TH_CHECK(sgv_background_load(p, g, &fs) == SG_OK && fs.n_background == 2 && fs.bg_map.total == 3);
    sgv_features_free(&fs);
    TH_CHECK(sgv_background_load(tmpfile_with("bg0.txt", "NOPE\n"), g, &fs) == SG_ERR_FORMAT);
    sgv_features_free(&fs);
    sgv_genes_free(g);
}

static void test_api_keys_come_from_environment_then_env_file(void) {
    char *envf = tmpfile_with(".env", "# keys\nexport SAEG_TEST_KEY_A=\"from-file\"\nSAEG_TEST_KEY_B=plain\n");
    char buf[64];
    unsetenv("SAEG_TEST_KEY_A");
    TH_CHECK(sgv_api_key("SAEG_TEST_KEY_A", envf, buf, sizeof buf) == SG_OK && !strcmp(buf, "from-file"));
    TH_CHECK(sgv_api_key("SAEG_TEST_KEY_B", envf, buf, sizeof buf) == SG_OK && !strcmp(buf, "plain"));
    setenv("SAEG_TEST_KEY_A", "from-env", 1);
    TH_CHECK(sgv_api_key("SAEG_TEST_KEY_A", envf, buf, sizeof buf) == SG_OK && !strcmp(buf, "from-env"));
    unsetenv("SAEG_TEST_KEY_A");
    TH_CHECK(sgv_api_key("SAEG_TEST_KEY_C", envf, buf, sizeof buf) == SG_ERR_NOT_FOUND && buf[0] == '\0');
    TH_CHECKF(th_contains(sg_last_error(), "SAEG_TEST_KEY_C") && th_contains(sg_last_error(), envf), "%s",
              sg_last_error());
}

int main(void) {
    TMP = th_tmpdir("formats");
    TH_RUN(test_config_values_are_typed_and_errors_located);
    TH_RUN(test_tsv_quotes_preamble_and_short_rows);
    TH_RUN(test_gzip_is_read_transparently);
    TH_RUN(test_obo_structure_errors_are_reported);
    TH_RUN(test_gmt_variants);
    TH_RUN(test_feature_file_takes_top_n_positive_genes);
    TH_RUN(test_api_keys_come_from_environment_then_env_file);
    th_rmtree(TMP);
    free(TMP);
    return th_report();
}
