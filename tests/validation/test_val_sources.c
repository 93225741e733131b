/* Offline parsers, one test per source (ctest passes the source name): each reads its fixture
 * in the published layout and must build exactly the term gene sets the rows imply, applying
 * the source's filters (scores, evidence, taxon, negation, classifications) and counting
 * identifiers that do not map. Malformed input must fail with a message naming file and field. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/validation/harness.h"
#include "validation/config.h"
#include "validation/ppi.h"
#include "validation/sources/source.h"
#include "validation/tsv.h"

static struct sgv_genes *G;
static struct sgv_config *CFG;

#define SET(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Loads `name` offline with databases.<name> from cfg (the shared test config when NULL). */
static sg_status load(const char *name, struct sgv_config *cfg, struct sgv_library *lib, char **version) {
    const struct sgv_source *src = sgv_source_find(name);
    struct sgv_source_ctx c      = {
             .cfg      = sgv_cfg_child(sgv_cfg_child(sgv_cfg_root(cfg ? cfg : CFG), "databases"), name),
             .data_dir = FIX,
             .genes    = G,
             .src      = src,
    };
    sgv_library_init(lib, name);
    sg_status st = src->load_offline(&c, lib);
    if (version) *version = c.version ? strdup(c.version) : NULL;
    free(c.version);
    return st;
}

/* A one-source config from YAML text ("databases: {name: {...}}"). */
static struct sgv_config *cfg_text(const char *yaml) {
    struct sgv_config *c;
    if (sgv_config_parse(yaml, strlen(yaml), "inline test config", &c) != SG_OK) {
        fprintf(stderr, "bad inline config: %s\n", sg_last_error());
        exit(1);
    }
    return c;
}

/* Copies a fixture into dir with `from` replaced by `to` (first occurrence); returns the path. */
static char *mutate(const char *dir, const char *fixture, const char *from, const char *to) {
    char *text = th_read(fixture), *hit = text ? strstr(text, from) : NULL;
    static char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, strrchr(fixture, '/') + 1);
    if (!hit) {
        fprintf(stderr, "%s has no '%s'\n", fixture, from);
        exit(1);
    }
    FILE *f = fopen(path, "wb");
    fwrite(text, 1, (size_t)(hit - text), f);
    fputs(to, f);
    fputs(hit + strlen(from), f);
    fclose(f);
    free(text);
    return path;
}

static void expect_error(const char *name, const char *yaml, sg_status want, const char *const *needles) {
    struct sgv_config *c = cfg_text(yaml);
    struct sgv_library lib;
    sg_status st = load(name, c, &lib, NULL);
    TH_CHECKF(st == want, "%s: status %d, expected %d (%s)", name, st, want, sg_last_error());
    for (const char *const *n = needles; *n; n++)
        TH_CHECKF(th_contains(sg_last_error(), *n), "error '%s' lacks '%s'", sg_last_error(), *n);
    sgv_library_free(&lib);
    sgv_config_free(c);
}

/* A fixture with `from` changed to `to` must make the source fail with an error naming the copy
 * and every needle; files_fmt is the files: mapping with %s where the copy goes. */
static void bad_file(const char *name, const char *files_fmt, const char *fixture, const char *from, const char *to,
                     const char *const *needles) {
    char *dir = th_tmpdir(name);
    char *bad = mutate(dir, fixture, from, to), files[1200], yaml[1400];
    snprintf(files, sizeof files, files_fmt, bad);
    snprintf(yaml, sizeof yaml, "databases: {%s: {files: %s}}", name, files);
    const char *all[8] = {bad};
    for (size_t i = 0; needles[i] && i < 6; i++) all[i + 1] = needles[i];
    expect_error(name, yaml, SG_ERR_FORMAT, all);
    th_rmtree(dir);
    free(dir);
}

static void test_open_targets(void) {
    struct sgv_library lib;
    TH_CHECKF(load("open_targets", NULL, &lib, NULL) == SG_OK, "%s", sg_last_error());
    TH_CHECK(th_term_is(&lib, G, "MONDO_0007254", SET("BRCA1", "BRCA2", "PALB2", "CHEK2"))); /* TP53 below min_score */
    TH_CHECK(th_term_is(&lib, G, "EFO_0000400", SET("GCK", "HNF1A", "HNF4A", "INS")));       /* versioned ENSG maps */
    TH_CHECK(th_term_is(&lib, G, "MONDO_0009061", SET("CFTR")));
    int32_t t;
    TH_CHECK(sgv_strmap_get(&lib.index, "MONDO_0007254", &t) && lib.terms[t].name &&
             !strcmp(lib.terms[t].name, "breast cancer"));
    TH_CHECK(lib.map.by[SGV_MATCH_NONE] == 1 && lib.n_terms == 3);
    sgv_library_free(&lib);
    char *dir = th_tmpdir("ot");
    char part[700];
    snprintf(part, sizeof part, "%s/part-00000.parquet", dir);
    th_write(part, "PAR1");
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "databases: {open_targets: {files: {associations: %s}}}", dir);
    expect_error("open_targets", yaml, SG_ERR_UNSUPPORTED, SET("Parquet", dir));
    th_rmtree(dir);
    free(dir);
    bad_file("open_targets", "{associations: %s}",
             FIX "/open_targets/associationByOverallDirect/part-00001-0a1b2c3d.c000.json", "\"score\":0.58",
             "\"score\":\"high\"", SET("line 2", "score"));
}

static void test_hpo(void) {
    struct sgv_library lib;
    char *version;
    TH_CHECKF(load("hpo", NULL, &lib, &version) == SG_OK, "%s", sg_last_error());
    TH_CHECK(version && !strcmp(version, "hp/releases/2024-04-26"));
    /* propagation under Phenotypic abnormality must reproduce phenotype_to_genes.txt exactly */
    struct sgv_library ref;
    sgv_library_init(&ref, "p2g");
    struct sgv_tsv t;
    TH_CHECK(sgv_tsv_open(&t, FIX "/hpo/phenotype_to_genes.txt", '\t', 0) == SG_OK);
    static const char *const cols[] = {"hpo_id", "ncbi_gene_id", NULL};
    int c[2];
    TH_CHECK(sgv_tsv_require(&t, cols, c) == SG_OK);
    while (sgv_tsv_next(&t) > 0) sgv_library_add_id(&ref, G, t.f[c[0]], NULL, t.f[c[1]], SGV_ID_ENTREZ);
    sgv_tsv_close(&t);
    sgv_library_finish(&ref);
    TH_CHECKF(ref.n_terms == lib.n_terms, "%zu terms propagated, phenotype_to_genes has %zu", lib.n_terms, ref.n_terms);
    for (size_t i = 0; i < ref.n_terms; i++) {
        int32_t k;
        int same = sgv_strmap_get(&lib.index, ref.terms[i].id, &k) && lib.terms[k].n_genes == ref.terms[i].n_genes &&
                   !memcmp(lib.terms[k].genes, ref.terms[i].genes, ref.terms[i].n_genes * sizeof(uint32_t));
        TH_CHECKF(same, "term %s differs from phenotype_to_genes.txt", ref.terms[i].id);
    }
    TH_CHECK(!sgv_strmap_get(&lib.index, "HP:0000006", NULL) && !sgv_strmap_get(&lib.index, "HP:0000118", NULL));
    TH_CHECK(lib.map.by[SGV_MATCH_NONE] == 1);
    sgv_library_free(&ref);
    sgv_library_free(&lib);
    free(version);
    bad_file("hpo", "{genes_to_phenotype: %s, ontology: " FIX "/hpo/hp.obo}", FIX "/hpo/genes_to_phenotype.txt",
             "hpo_id", "hpo_term", SET("hpo_id"));
}

static void test_gwas(void) {
    struct sgv_library lib;
    TH_CHECKF(load("gwas", NULL, &lib, NULL) == SG_OK, "%s", sg_last_error());
    TH_CHECK(th_term_is(&lib, G, "EFO_0004611", SET("PCSK9", "LDLR"))); /* APOE's row is below 5e-8 */
    TH_CHECK(th_term_is(&lib, G, "MONDO_0005148", SET("KCNJ11", "ABCC8")));
    TH_CHECK(th_term_is(&lib, G, "EFO_0004340", SET("KCNJ11", "ABCC8")));
    TH_CHECK(th_term_is(&lib, G, "MONDO_0004975", SET("APOE")));
    int32_t t;
    TH_CHECK(sgv_strmap_get(&lib.index, "EFO_0004340", &t) && lib.terms[t].name &&
             !strcmp(lib.terms[t].name, "body mass index"));
    sgv_library_free(&lib);
    struct sgv_config *c =
        cfg_text("databases: {gwas: {files: {associations: gwas/gwas-catalog-associations_ontology-annotated.tsv}, "
                 "include_intergenic: true}}");
    TH_CHECK(load("gwas", c, &lib, NULL) == SG_OK);
    TH_CHECK(
        th_term_is(&lib, G, "EFO_0004611", SET("PCSK9", "LDLR", "APOE"))); /* flanking genes of the intergenic hit */
    sgv_library_free(&lib);
    sgv_config_free(c);
    bad_file("gwas", "{associations: %s}", FIX "/gwas/gwas-catalog-associations_ontology-annotated.tsv", "\t9.5\t",
             "\tNR\t", SET("PVALUE_MLOG", "line 2"));
}

static void test_disgenet(void) {
    struct sgv_library lib;
    TH_CHECKF(load("disgenet", NULL, &lib, NULL) == SG_OK, "%s", sg_last_error()); /* read through zlib */
    TH_CHECK(th_term_is(&lib, G, "C0006142", SET("BRCA1", "BRCA2", "PALB2")));     /* TP53 below min_score */
    TH_CHECK(th_term_is(&lib, G, "C0010674", SET("CFTR")));
    TH_CHECK(lib.map.by[SGV_MATCH_NONE] == 1);
    sgv_library_free(&lib);
    /* a gzip stream cut short must fail, not end silently */
    char *dir = th_tmpdir("dg"), path[700], yaml[1024];
    char *gz  = th_read(FIX "/disgenet/curated_gene_disease_associations.tsv.gz");
    FILE *in  = fopen(FIX "/disgenet/curated_gene_disease_associations.tsv.gz", "rb");
    fseek(in, 0, SEEK_END);
    long size = ftell(in);
    fclose(in);
    snprintf(path, sizeof path, "%s/cut.tsv.gz", dir);
    FILE *out = fopen(path, "wb");
    fwrite(gz, 1, (size_t)(size * 2 / 3), out);
    fclose(out);
    free(gz);
    snprintf(yaml, sizeof yaml, "databases: {disgenet: {files: {associations: %s}}}", path);
    expect_error("disgenet", yaml, SG_ERR_FORMAT, SET(path, "compressed"));
    th_rmtree(dir);
    free(dir);
}

static void test_monarch(void) {
    struct sgv_library lib;
    TH_CHECKF(load("monarch", NULL, &lib, NULL) == SG_OK, "%s", sg_last_error());
    TH_CHECK(th_term_is(&lib, G, "MONDO:0009061", SET("CFTR"))); /* repeated row merged, mouse row dropped */
    TH_CHECK(th_term_is(&lib, G, "MONDO:0007947", SET("FBN1"))); /* a Protein subject is not a gene row */
    TH_CHECK(th_term_is(&lib, G, "MONDO:0100135", SET("SCN1A", "CDKL5", "KCNQ2"))); /* negated SCN2A dropped */
    TH_CHECK(lib.map.by[SGV_MATCH_NONE] == 1);
    sgv_library_free(&lib);
    bad_file("monarch", "{associations: %s}", FIX "/monarch/causal_gene_to_disease_association.all.tsv", "\tnegated\t",
             "\tnot_negated\t", SET("negated"));
}

static double rel(double a, double b) { return a == b ? 0 : fabs(a - b) / fmax(fabs(a), fabs(b)); }

static void test_string(void) {
    const struct sgv_source *src = sgv_source_find("string");
    struct sgv_source_ctx c      = {.cfg      = sgv_cfg_child(sgv_cfg_child(sgv_cfg_root(CFG), "databases"), "string"),
                                    .data_dir = FIX,
                                    .genes    = G,
                                    .src      = src};
    struct sgv_ppi_net *net;
    TH_CHECKF(src->net_offline(&c, NULL, &net) == SG_OK, "%s", sg_last_error());
    TH_CHECK(net->n_edges == 35 && net->n_nodes == 20); /* 3 edges below 400, NOTAGENE unmapped */
    TH_CHECK(c.version && !strcmp(c.version, "12.0"));
    struct sgv_tsv t;
    TH_CHECK(sgv_tsv_open(&t, FIX "/string/ppi_expected.tsv", '\t', 0) == SG_OK);
    int rows = 0;
    while (sgv_tsv_next(&t) > 0) {
        uint32_t genes[16];
        size_t n   = 0;
        char *save = NULL;
        for (char *s = strtok_r(t.f[1], ",", &save); s; s = strtok_r(NULL, ",", &save)) {
            int32_t gi = sgv_genes_find(G, s, SGV_ID_SYMBOL, NULL);
            if (gi >= 0) genes[n++] = (uint32_t)gi;
        }
        struct sgv_ppi_result r;
        TH_CHECK(sgv_ppi_enrich(net, genes, n, &r) == SG_OK);
        double p = exp(r.logp);
        TH_CHECKF(r.n_nodes == (uint32_t)atoi(t.f[2]) && r.edges == (uint64_t)atoi(t.f[3]) &&
                      rel(r.expected, strtod(t.f[4], NULL)) < 1e-12 && rel(p, strtod(t.f[5], NULL)) < 1e-9,
                  "%s: nodes %u edges %llu lambda %.17g p %.17g; scipy: %s %s %s %s", t.f[0], r.n_nodes,
                  (unsigned long long)r.edges, r.expected, p, t.f[2], t.f[3], t.f[4], t.f[5]);
        rows++;
    }
    sgv_tsv_close(&t);
    TH_CHECK(rows == 4);
    sgv_ppi_net_free(net);
    /* restricting the network to the background removes a node's edges before degrees count */
    uint8_t *u = calloc(G->n, 1);
    memset(u, 1, G->n);
    u[sgv_genes_find(G, "TNF", SGV_ID_SYMBOL, NULL)] = 0;
    free(c.version);
    c.version = NULL;
    TH_CHECK(src->net_offline(&c, u, &net) == SG_OK);
    TH_CHECK(net->n_edges == 32 && net->n_nodes == 19);
    sgv_ppi_net_free(net);
    free(u);
    free(c.version);
}

static void test_omim(void) {
    struct sgv_library lib;
    char *version;
    TH_CHECKF(load("omim", NULL, &lib, &version) == SG_OK, "%s", sg_last_error());
    TH_CHECK(th_term_is(&lib, G, "OMIM:900101", SET("CFTR")));
    TH_CHECK(th_term_is(&lib, G, "OMIM:900201", SET("FBN1")));
    TH_CHECK(th_term_is(&lib, G, "OMIM:900301", SET("GCK", "HNF1A", "HNF4A", "INS"))); /* INS by its Ensembl ID */
    /* mapping key 2, {susceptibility}, [non-disease] and ?provisional entries are left out */
    TH_CHECK(lib.n_terms == 3);
    int32_t t;
    TH_CHECK(sgv_strmap_get(&lib.index, "OMIM:900301", &t) && !strcmp(lib.terms[t].name, "Test diabetes, type A"));
    TH_CHECK(version && !strcmp(version, "2024-06-18"));
    TH_CHECK(lib.map.by[SGV_MATCH_NONE] == 1);
    sgv_library_free(&lib);
    free(version);
    bad_file("omim", "{genemap2: %s}", FIX "/omim/genemap2.txt", "\tPhenotypes\t", "\tPhenotype\t", SET("Phenotypes"));
    /* a mapping key that is not 1..4 is a config error, not a key that never matches */
    expect_error("omim", "databases: {omim: {files: {genemap2: omim/genemap2.txt}, mapping_keys: [\"3\", \"three\"]}}",
                 SG_ERR_INVALID_ARG, SET("mapping_keys", "three"));
}

static void test_orphanet(void) {
    struct sgv_library lib;
    char *version;
    TH_CHECKF(load("orphanet", NULL, &lib, &version) == SG_OK, "%s", sg_last_error());
    TH_CHECK(th_term_is(&lib, G, "ORPHA:586", SET("CFTR")));    /* the modifier gene is not disease-causing */
    TH_CHECK(th_term_is(&lib, G, "ORPHA:558", SET("FBN1")));    /* "Not yet assessed" is left out */
    TH_CHECK(th_term_is(&lib, G, "ORPHA:33069", SET("SCN1A"))); /* pre-2020 OrphaNumber element */
    TH_CHECK(version && !strcmp(version, "2024-06-05 05:17:42"));
    TH_CHECK(lib.map.by[SGV_MATCH_NONE] == 1 && lib.map.by[SGV_MATCH_HGNC] == 1 && lib.map.by[SGV_MATCH_ENSEMBL] == 1);
    sgv_library_free(&lib);
    free(version);
    bad_file("orphanet", "{product6: %s}", FIX "/orphanet/en_product6.xml", "</DisorderList>", "</DisorderLis>",
             SET("XML"));
    /* well-formed, but without the <DisorderList> the genes live in */
    char *dir = th_tmpdir("orpha"), yaml[1024];
    char *bad = mutate(dir, FIX "/orphanet/en_product6.xml", "<DisorderList count=\"3\">", "<Disorders>");
    bad       = mutate(dir, bad, "</DisorderList>", "</Disorders>");
    snprintf(yaml, sizeof yaml, "databases: {orphanet: {files: {product6: %s}}}", bad);
    expect_error("orphanet", yaml, SG_ERR_FORMAT, SET(bad, "DisorderList"));
    th_rmtree(dir);
    free(dir);
}

static void test_clinvar(void) {
    struct sgv_library lib;
    TH_CHECKF(load("clinvar", NULL, &lib, NULL) == SG_OK, "%s", sg_last_error());
    TH_CHECK(th_term_is(&lib, G, "C0010674", SET("CFTR")));
    TH_CHECK(th_term_is(&lib, G, "C0677776", SET("BRCA1", "BRCA2", "PALB2"))); /* TP53 only via RelatedGenes */
    TH_CHECK(th_term_is(&lib, G, "C2676676", SET("BRCA1")));
    TH_CHECK(lib.map.by[SGV_MATCH_NONE] == 1);
    sgv_library_free(&lib);
    bad_file("clinvar", "{gene_condition: %s}", FIX "/clinvar/gene_condition_source_id", "ConceptID", "Concept",
             SET("ConceptID"));
}

static void test_gencc(void) {
    struct sgv_library lib;
    TH_CHECKF(load("gencc", NULL, &lib, NULL) == SG_OK, "%s", sg_last_error());
    TH_CHECK(th_term_is(&lib, G, "MONDO:0009061", SET("CFTR")));  /* two submissions, one pair */
    TH_CHECK(th_term_is(&lib, G, "MONDO:0007947", SET("FBN1")));  /* its notes span two lines */
    TH_CHECK(th_term_is(&lib, G, "MONDO:0100135", SET("SCN1A"))); /* Limited and Refuted left out */
    TH_CHECK(lib.map.by[SGV_MATCH_NONE] == 1);
    sgv_library_free(&lib);
    struct sgv_config *c = cfg_text("databases: {gencc: {files: {submissions: gencc/gencc-submissions.tsv}, "
                                    "classifications: [Definitive, Strong, Moderate, Limited]}}");
    TH_CHECK(load("gencc", c, &lib, NULL) == SG_OK);
    TH_CHECK(th_term_is(&lib, G, "MONDO:0100135", SET("SCN1A", "SCN2A")));
    sgv_library_free(&lib);
    sgv_config_free(c);
    bad_file("gencc", "{submissions: %s}", FIX "/gencc/gencc-submissions.tsv", "notes span\ntwo lines\"",
             "notes span\ntwo lines", SET("quoted field"));
}

static void test_go(void) {
    struct sgv_library lib;
    char *version;
    TH_CHECKF(load("go", NULL, &lib, &version) == SG_OK, "%s", sg_last_error());
    /* is_a + part_of; NOT annotations, other taxa, regulates and obsolete terms stay out */
    TH_CHECK(th_term_is(&lib, G, "GO:0007049", SET("CDK1", "CCNB1", "AURKA", "PLK1", "CDC20", "TOP2A")));
    TH_CHECK(th_term_is(&lib, G, "GO:0000278", SET("CDK1", "CCNB1", "AURKA", "PLK1", "CDC20")));
    TH_CHECK(th_term_is(&lib, G, "GO:0006954", SET("IL6", "TNF", "CXCL8", "CCL2")));
    TH_CHECK(th_term_is(&lib, G, "GO:0006281", SET("PCNA", "BRCA1")));
    TH_CHECK(!sgv_strmap_get(&lib.index, "GO:0008150", NULL) && !sgv_strmap_get(&lib.index, "GO:0004672", NULL));
    TH_CHECK(version && th_contains(version, "releases/2024-06-17") && th_contains(version, "2024-06-17T02:40"));
    TH_CHECK(lib.map.by[SGV_MATCH_NONE] == 1 && lib.map.by[SGV_MATCH_SYMBOL] == 1); /* TOP2A by symbol */
    sgv_library_free(&lib);
    free(version);
    struct sgv_config *c = cfg_text("databases: {go: {files: {annotations: go/goa_human.gaf, ontology: "
                                    "go/go-basic.obo}, relations: [part_of, regulates]}}");
    TH_CHECK(load("go", c, &lib, NULL) == SG_OK);
    TH_CHECK(th_term_has(&lib, G, "GO:0007049", "MYC"));
    sgv_library_free(&lib);
    sgv_config_free(c);
    c = cfg_text("databases: {go: {files: {annotations: go/goa_human.gaf, ontology: go/go-basic.obo}, relations: []}}");
    TH_CHECK(load("go", c, &lib, NULL) == SG_OK);
    TH_CHECK(th_term_is(&lib, G, "GO:0007049", SET("AURKA", "TOP2A"))); /* is_a only */
    sgv_library_free(&lib);
    sgv_config_free(c);
    c = cfg_text("databases: {go: {files: {annotations: go/goa_human.gaf, ontology: go/go-basic.obo}, namespace: "
                 "cellular_component}}");
    TH_CHECK(load("go", c, &lib, NULL) == SG_OK);
    TH_CHECK(th_term_is(&lib, G, "GO:0005634", SET("MKI67")) && lib.n_terms == 1);
    sgv_library_free(&lib);
    sgv_config_free(c);
    expect_error("go", "databases: {go: {files: {annotations: go/go-basic.obo, ontology: go/go-basic.obo}}}",
                 SG_ERR_FORMAT, SET("go-basic.obo"));
}

static void test_reactome(void) {
    struct sgv_library lib;
    TH_CHECKF(load("reactome", NULL, &lib, NULL) == SG_OK, "%s", sg_last_error());
    TH_CHECK(th_term_is(&lib, G, "R-HSA-69278", SET("CDK1", "CCNB1", "CDC20", "PLK1", "AURKA", "BUB1", "TOP2A")));
    TH_CHECK(th_term_is(&lib, G, "R-HSA-1059683", SET("IL6", "CXCL8"))); /* IL8: CXCL8's previous symbol */
    int32_t t;
    TH_CHECK(sgv_strmap_get(&lib.index, "R-HSA-69278", &t) && !strcmp(lib.terms[t].name, "Cell Cycle, Mitotic"));
    TH_CHECK(lib.map.by[SGV_MATCH_NONE] == 1 && lib.map.by[SGV_MATCH_PREVIOUS] == 1);
    sgv_library_free(&lib);
    struct sgv_config *c =
        cfg_text("databases: {reactome: {files: {ncbi2reactome: reactome/NCBI2Reactome_All_Levels.txt}}}");
    TH_CHECK(load("reactome", c, &lib, NULL) == SG_OK);
    TH_CHECK(th_term_is(&lib, G, "R-HSA-69278", SET("CDK1", "CCNB1", "CDC20"))); /* mouse row left out */
    TH_CHECK(th_term_is(&lib, G, "R-HSA-1640170", SET("CDK1", "CCNB1")));
    TH_CHECK(th_term_is(&lib, G, "R-HSA-73894", SET("BRCA1", "BRCA2")) && lib.map.by[SGV_MATCH_NONE] == 1);
    sgv_library_free(&lib);
    sgv_config_free(c);
}

static void test_kegg(void) {
    struct sgv_library lib;
    TH_CHECKF(load("kegg", NULL, &lib, NULL) == SG_OK, "%s", sg_last_error());
    TH_CHECK(th_term_is(&lib, G, "KEGG_MEDICUS_REFERENCE_CELL_CYCLE_G2_M", SET("CDK1", "CCNB1", "PLK1", "AURKA")));
    TH_CHECK(th_term_is(&lib, G, "KEGG_MEDICUS_REFERENCE_IL6_SIGNALING", SET("IL6", "TNF")));
    sgv_library_free(&lib);
    char *dir = th_tmpdir("kegg"), path[700], yaml[1024];
    snprintf(path, sizeof path, "%s/dup.gmt", dir);
    th_write(path, "A\tx\tCDK1\nA\ty\tTP53\n");
    snprintf(yaml, sizeof yaml, "databases: {kegg: {files: {gmt: %s}}}", path);
    expect_error("kegg", yaml, SG_ERR_FORMAT, SET(path, "line 2", "twice"));
    th_write(path, "just one column\n");
    expect_error("kegg", yaml, SG_ERR_FORMAT, SET(path, "line 1"));
    th_rmtree(dir);
    free(dir);
}

static void test_msigdb(void) {
    struct sgv_library lib;
    TH_CHECKF(load("msigdb", NULL, &lib, NULL) == SG_OK, "%s", sg_last_error()); /* an .entrez.gmt */
    TH_CHECK(th_term_is(&lib, G, "HALLMARK_G2M_CHECKPOINT",
                        SET("CDK1", "CCNB1", "CDC20", "PLK1", "AURKA", "BUB1", "TOP2A", "MKI67")));
    TH_CHECK(th_term_is(&lib, G, "HALLMARK_INFLAMMATORY_RESPONSE", SET("IL6", "TNF", "CXCL8", "CCL2")));
    TH_CHECK(lib.map.by[SGV_MATCH_ENTREZ] == 12 && lib.map.by[SGV_MATCH_NONE] == 1);
    sgv_library_free(&lib);
}

int main(int argc, char **argv) {
    static const struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        {"open_targets", test_open_targets},
        {"hpo", test_hpo},
        {"gwas", test_gwas},
        {"disgenet", test_disgenet},
        {"monarch", test_monarch},
        {"string", test_string},
        {"omim", test_omim},
        {"orphanet", test_orphanet},
        {"clinvar", test_clinvar},
        {"gencc", test_gencc},
        {"go", test_go},
        {"reactome", test_reactome},
        {"kegg", test_kegg},
        {"msigdb", test_msigdb},
    };
    if (argc != 2) {
        fprintf(stderr, "usage: %s SOURCE\n", argv[0]);
        return 2;
    }
    G = th_genes();
    if (sgv_config_load(FIX "/validation-test.yaml", &CFG) != SG_OK) {
        fprintf(stderr, "%s\n", sg_last_error());
        return 1;
    }
    int found = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (!strcmp(tests[i].name, argv[1])) {
            found = 1;
            fprintf(stderr, "-- %s offline parser\n", argv[1]);
            tests[i].fn();
        }
    if (!found) {
        fprintf(stderr, "unknown source %s\n", argv[1]);
        return 2;
    }
    sgv_config_free(CFG);
    sgv_genes_free(G);
    return th_report();
}
