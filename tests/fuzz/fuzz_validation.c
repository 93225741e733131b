/* libFuzzer target: every file the validation layer reads from the user. The first input byte
 * picks the format (FORMATS below, modulo their count); the rest of the input becomes that file,
 * and any other file the loader needs is the test fixture. Seeds in corpus/validation/ are the
 * fixtures with their selector byte in front (tests/fuzz/make_seeds.sh writes them).
 *
 * Whatever a loader accepts is then used the way the pipeline uses it (libraries finished and
 * walked, ontologies propagated through the loader, feature gene sets indexed), so a parser that
 * returns SG_OK with inconsistent data is caught too. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_file.h"
#include "validation/config.h"
#include "validation/features.h"
#include "validation/geneid.h"
#include "validation/gmt.h"
#include "validation/library.h"
#include "validation/ppi.h"
#include "validation/sources/source.h"

#define FIX "tests/validation/fixtures/"

enum kind { GMT, HGNC, CONFIG, FEATURES_JSON, FEATURES_GMT, BACKGROUND, SOURCE, NETWORK };

/* A source file: files.<key> of databases.<source> is the input, `others` the rest of the
 * files: mapping (fixture paths relative to the fixture folder). */
static const struct format {
    const char *name;
    enum kind kind;
    const char *source, *key, *others;
} FORMATS[] = {
    {"gmt", GMT, NULL, NULL, NULL},
    {"hgnc", HGNC, NULL, NULL, NULL},
    {"config", CONFIG, NULL, NULL, NULL},
    {"features_json", FEATURES_JSON, NULL, NULL, NULL},
    {"features_gmt", FEATURES_GMT, NULL, NULL, NULL},
    {"background", BACKGROUND, NULL, NULL, NULL},
    {"open_targets", SOURCE, "open_targets", "associations", "diseases: open_targets/diseases"},
    {"open_targets_diseases", SOURCE, "open_targets", "diseases",
     "associations: open_targets/associationByOverallDirect"},
    {"hpo", SOURCE, "hpo", "genes_to_phenotype", "ontology: hpo/hp.obo"},
    {"hpo_obo", SOURCE, "hpo", "ontology", "genes_to_phenotype: hpo/genes_to_phenotype.txt"},
    {"gwas", SOURCE, "gwas", "associations", NULL},
    {"disgenet", SOURCE, "disgenet", "associations", NULL},
    {"monarch", SOURCE, "monarch", "associations", NULL},
    {"string_links", NETWORK, "string", "links", "info: string/9606.protein.info.v12.0.txt"},
    {"string_info", NETWORK, "string", "info", "links: string/9606.protein.links.v12.0.txt"},
    {"omim", SOURCE, "omim", "genemap2", NULL},
    {"orphanet", SOURCE, "orphanet", "product6", NULL},
    {"clinvar", SOURCE, "clinvar", "gene_condition", NULL},
    {"gencc", SOURCE, "gencc", "submissions", NULL},
    {"go", SOURCE, "go", "annotations", "ontology: go/go-basic.obo"},
    {"go_obo", SOURCE, "go", "ontology", "annotations: go/goa_human.gaf"},
    {"reactome", SOURCE, "reactome", "ncbi2reactome", NULL},
    {"reactome_gmt", SOURCE, "reactome", "gmt", NULL},
    {"kegg", SOURCE, "kegg", "gmt", NULL},
    {"msigdb", SOURCE, "msigdb", "gmt", NULL},
};
#define N_FORMATS (sizeof FORMATS / sizeof FORMATS[0])

static struct sgv_genes *G; /* the fixture gene table, as every test uses */
static int verbose;         /* FUZZ_VERBOSE=1: say what each input was read as, and the outcome */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    if (sgv_genes_load_hgnc(FUZZ_FIXTURE(FIX "hgnc_complete_set.txt"), &G) != SG_OK) {
        fprintf(stderr, "fuzz-validation: %s\n", sg_last_error());
        abort();
    }
    verbose = getenv("FUZZ_VERBOSE") != NULL;
    return 0;
}

/* A finished library must be internally consistent: every gene a valid hub index. */
static void report(const struct format *f, sg_status st) {
    if (verbose) fprintf(stderr, "%s: %s\n", f->name, st == SG_OK ? "loaded" : sg_last_error());
}

static void check_library(const struct sgv_library *lib) {
    for (size_t t = 0; t < lib->n_terms; t++)
        for (uint32_t k = 0; k < lib->terms[t].n_genes; k++)
            if (lib->terms[t].genes[k] >= G->n) abort();
}

static void check_features(const struct sgv_features *fs) {
    for (size_t i = 0; i < fs->n; i++)
        for (uint32_t k = 0; k < fs->items[i].n_genes; k++)
            if (fs->items[i].genes[k] >= G->n) abort();
    for (size_t i = 0; i < fs->n_background; i++)
        if (fs->background[i] >= G->n) abort();
}

static void run_source(const struct format *f, const char *path) {
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "databases: {%s: {files: {%s: \"%s\"%s%s}}}", f->source, f->key, path,
             f->others ? ", " : "", f->others ? f->others : "");
    struct sgv_config *cfg;
    if (sgv_config_parse(yaml, strlen(yaml), "fuzz config", &cfg) != SG_OK) abort(); /* our own text */
    const struct sgv_source *src = sgv_source_find(f->source);
    struct sgv_source_ctx c      = {
             .cfg      = sgv_cfg_child(sgv_cfg_child(sgv_cfg_root(cfg), "databases"), f->source),
             .data_dir = FUZZ_FIXTURE(FIX),
             .genes    = G,
             .src      = src,
    };
    if (f->kind == NETWORK) {
        uint8_t *universe = calloc(G->n + 1, 1);
        if (!universe) abort();
        for (size_t i = 0; i < G->n; i += 2) universe[i] = 1;
        struct sgv_ppi_net *net = NULL;
        sg_status st            = src->net_offline(&c, universe, &net);
        report(f, st);
        if (st == SG_OK && net->n_hub != G->n) abort();
        sgv_ppi_net_free(net);
        free(universe);
    } else {
        struct sgv_library lib;
        sgv_library_init(&lib, src->name);
        sg_status st = src->load_offline(&c, &lib);
        report(f, st);
        if (st == SG_OK) check_library(&lib);
        sgv_library_free(&lib);
    }
    free(c.version);
    sgv_config_free(cfg);
}

/* The config as `saeg validate` walks it: every database's settings read with their types. */
static void run_config(const uint8_t *data, size_t size) {
    struct sgv_config *cfg;
    sg_status st = sgv_config_parse((const char *)data, size, "fuzz.yaml", &cfg);
    report(&FORMATS[CONFIG], st);
    if (st != SG_OK) return;
    struct sgv_cfg root = sgv_cfg_root(cfg), dbs = sgv_cfg_child(root, "databases"), v;
    const char *key, *s;
    double d;
    unsigned u;
    int b;
    const char **list;
    size_t n;
    (void)sgv_cfg_str(root, "data_dir", NULL, &s);
    (void)sgv_cfg_uint(sgv_cfg_child(root, "statistics"), "min_term_size", 5, &u);
    for (size_t i = 0; sgv_cfg_entry(dbs, i, &key, &v); i++) {
        (void)sgv_cfg_bool(v, "enabled", 1, &b);
        (void)sgv_cfg_str(v, "mode", "auto", &s);
        (void)sgv_cfg_num(v, "min_score", 0, &d);
        (void)sgv_cfg_str(v, "files.gmt", NULL, &s);
        if (sgv_cfg_str_list(v, "categories", &list, &n) == SG_OK) free((void *)list);
    }
    sgv_config_free(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const struct format *f = &FORMATS[data[0] % N_FORMATS];
    const char *path       = fuzz_file(data + 1, size - 1);
    switch (f->kind) {
    case GMT: {
        struct sgv_library lib;
        sgv_library_init(&lib, "gmt");
        sg_status st = sgv_gmt_load(path, G, SGV_ID_ANY, data[0] & 0x80 ? SGV_GMT_ID_DESC : SGV_GMT_ID_NAME, &lib);
        report(f, st);
        if (st == SG_OK) check_library(&lib);
        sgv_library_free(&lib);
        break;
    }
    case HGNC: {
        struct sgv_genes *g;
        sg_status st = sgv_genes_load_hgnc(path, &g);
        report(f, st);
        if (st == SG_OK) {
            for (size_t i = 0; i < g->n; i++) (void)sgv_gene_label(g, (uint32_t)i);
            sgv_genes_free(g);
        }
        break;
    }
    case CONFIG: run_config(data + 1, size - 1); break;
    case FEATURES_JSON:
    case FEATURES_GMT:
    case BACKGROUND: {
        struct sgv_features fs = {0};
        sg_status st           = f->kind == FEATURES_JSON  ? sgv_features_load_json(path, G, 100, &fs)
                                 : f->kind == FEATURES_GMT ? sgv_features_load_gmt(path, G, &fs)
                                                           : sgv_background_load(path, G, &fs);
        report(f, st);
        if (st == SG_OK) check_features(&fs);
        sgv_features_free(&fs);
        break;
    }
    case SOURCE:
    case NETWORK: run_source(f, path); break;
    }
    return 0;
}
