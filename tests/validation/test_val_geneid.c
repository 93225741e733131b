/* Gene-ID hub built from the HGNC complete set: each resolution rule of reference §2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/validation/harness.h"
#include "validation/geneid.h"

static const char *sym_of(struct sgv_genes *g, const char *id, enum sgv_id_kind kind, enum sgv_match *how) {
    int32_t i = sgv_genes_find(g, id, kind, how);
    return i >= 0 ? g->genes[i].symbol : NULL;
}

static int is(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static void test_ensembl_versions_and_par_suffixes_are_stripped(void) {
    struct sgv_genes *g = th_genes();
    enum sgv_match how;
    TH_CHECK(is(sym_of(g, "ENSG00000141510.17", SGV_ID_ANY, &how), "TP53") && how == SGV_MATCH_ENSEMBL);
    TH_CHECK(is(sym_of(g, "ENSG00000141510", SGV_ID_ENSEMBL, &how), "TP53"));
    TH_CHECK(is(sym_of(g, "ENSG00000169429_PAR_Y", SGV_ID_ENSEMBL, &how), "CXCL8"));
    TH_CHECK(sym_of(g, "ENSG00000000000", SGV_ID_ANY, &how) == NULL && how == SGV_MATCH_NONE);
    sgv_genes_free(g);
}

static void test_entrez_and_hgnc_ids_resolve_with_or_without_prefix(void) {
    struct sgv_genes *g = th_genes();
    enum sgv_match how;
    TH_CHECK(is(sym_of(g, "7157", SGV_ID_ANY, &how), "TP53") && how == SGV_MATCH_ENTREZ);
    TH_CHECK(is(sym_of(g, "NCBIGene:672", SGV_ID_ANY, &how), "BRCA1") && how == SGV_MATCH_ENTREZ);
    TH_CHECK(is(sym_of(g, "HGNC:1101", SGV_ID_ANY, &how), "BRCA2") && how == SGV_MATCH_HGNC);
    TH_CHECK(is(sym_of(g, "1101", SGV_ID_HGNC, &how), "BRCA2"));
    TH_CHECK(is(sym_of(g, "P04637", SGV_ID_UNIPROT, &how), "TP53") && how == SGV_MATCH_UNIPROT);
    sgv_genes_free(g);
}

static void test_symbols_match_case_insensitively_approved_first(void) {
    struct sgv_genes *g = th_genes();
    enum sgv_match how;
    TH_CHECK(is(sym_of(g, "tp53", SGV_ID_ANY, &how), "TP53") && how == SGV_MATCH_SYMBOL);
    /* BACH1 is an approved symbol and also an alias of BRIP1: the approved gene wins */
    TH_CHECK(is(sym_of(g, "BACH1", SGV_ID_SYMBOL, &how), "BACH1") && how == SGV_MATCH_SYMBOL);
    sgv_genes_free(g);
}

static void test_previous_symbols_resolve_only_when_unique(void) {
    struct sgv_genes *g = th_genes();
    enum sgv_match how;
    TH_CHECK(is(sym_of(g, "IL8", SGV_ID_SYMBOL, &how), "CXCL8") && how == SGV_MATCH_PREVIOUS);
    TH_CHECK(is(sym_of(g, "CDC2", SGV_ID_SYMBOL, &how), "CDK1") && how == SGV_MATCH_PREVIOUS);
    /* the fixture gives SHAREDPREV to AURKA and PLK1 */
    TH_CHECK(sym_of(g, "SHAREDPREV", SGV_ID_SYMBOL, &how) == NULL && how == SGV_MATCH_AMBIGUOUS);
    sgv_genes_free(g);
}

static void test_aliases_resolve_only_when_unique_and_not_shadowed(void) {
    struct sgv_genes *g = th_genes();
    enum sgv_match how;
    TH_CHECK(is(sym_of(g, "FANCJ", SGV_ID_SYMBOL, &how), "BRIP1") && how == SGV_MATCH_ALIAS);
    TH_CHECK(is(sym_of(g, "Nav1.1", SGV_ID_SYMBOL, &how), "SCN1A") && how == SGV_MATCH_ALIAS);
    TH_CHECK(sym_of(g, "MODY", SGV_ID_SYMBOL, &how) == NULL && how == SGV_MATCH_AMBIGUOUS);
    /* HD is HTT's previous symbol and its alias: the previous-symbol rule answers */
    TH_CHECK(is(sym_of(g, "HD", SGV_ID_SYMBOL, &how), "HTT") && how == SGV_MATCH_PREVIOUS);
    sgv_genes_free(g);
}

static void test_stats_count_each_outcome(void) {
    struct sgv_genes *g    = th_genes();
    struct sgv_map_stats s = {0};
    const char *ids[]      = {"TP53", "IL8", "FANCJ", "MODY", "NOTAGENE", "7157"};
    for (size_t i = 0; i < 6; i++) {
        enum sgv_match how;
        sgv_genes_find(g, ids[i], SGV_ID_ANY, &how);
        sgv_map_stats_add(&s, how);
    }
    TH_CHECK(s.total == 6 && sgv_map_stats_mapped(&s) == 4);
    TH_CHECK(s.by[SGV_MATCH_AMBIGUOUS] == 1 && s.by[SGV_MATCH_NONE] == 1 && s.by[SGV_MATCH_PREVIOUS] == 1);
    sgv_genes_free(g);
}

static void test_missing_column_is_named(void) {
    char *dir = th_tmpdir("hgnc");
    char path[600];
    snprintf(path, sizeof path, "%s/hgnc.txt", dir);
    th_write(path, "hgnc_id\tsymbol\tentrez_id\nHGNC:5\tA1BG\t1\n");
    struct sgv_genes *g = NULL;
    TH_CHECK(sgv_genes_load_hgnc(path, &g) == SG_ERR_FORMAT && g == NULL);
    TH_CHECKF(th_contains(sg_last_error(), "ensembl_gene_id") && th_contains(sg_last_error(), path), "%s",
              sg_last_error());
    th_write(path, "hgnc_id\tsymbol\tentrez_id\tensembl_gene_id\nA1BG\tA1BG\t1\tENSG00000121410\n");
    TH_CHECK(sgv_genes_load_hgnc(path, &g) == SG_ERR_FORMAT);
    TH_CHECKF(th_contains(sg_last_error(), "line 2"), "%s", sg_last_error());
    TH_CHECK(sgv_genes_load_hgnc("/nonexistent/hgnc.txt", &g) == SG_ERR_NOT_FOUND);
    th_rmtree(dir);
    free(dir);
}

static void test_raw_hub_interns_identifiers_case_insensitively(void) {
    struct sgv_genes *g;
    TH_CHECK(sgv_genes_new_raw(&g) == SG_OK);
    enum sgv_match how;
    int32_t a = sgv_genes_find(g, "GeneA", SGV_ID_ANY, &how), b = sgv_genes_find(g, "GENEA", SGV_ID_ANY, &how);
    int32_t c = sgv_genes_find(g, "GeneB", SGV_ID_ANY, &how);
    TH_CHECK(a >= 0 && a == b && c != a && how == SGV_MATCH_RAW && g->n == 2);
    TH_CHECK(strcmp(sgv_gene_label(g, (uint32_t)a), "GeneA") == 0);
    sgv_genes_free(g);
}

int main(void) {
    TH_RUN(test_ensembl_versions_and_par_suffixes_are_stripped);
    TH_RUN(test_entrez_and_hgnc_ids_resolve_with_or_without_prefix);
    TH_RUN(test_symbols_match_case_insensitively_approved_first);
    TH_RUN(test_previous_symbols_resolve_only_when_unique);
    TH_RUN(test_aliases_resolve_only_when_unique_and_not_shadowed);
    TH_RUN(test_stats_count_each_outcome);
    TH_RUN(test_missing_column_is_named);
    TH_RUN(test_raw_hub_interns_identifiers_case_insensitively);
    return th_report();
}
