/* Gene Ontology: GAF 2.2 annotations + go-basic.obo, propagated over is_a and part_of (the
 * standard true-path rule; org.Hs.eg.db also follows regulates, see docs/validation.md).
 * Alternative offline input: org.Hs.eg.db's already-propagated go_*_all tables.
 * Online: the same two files, downloaded from the GO and OBO Foundry servers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "validation/ontology.h"
#include "validation/orgdb.h"
#include "validation/sources/source.h"
#include "validation/textfile.h"

static const char *const go_files[]   = {"annotations", "ontology", NULL};
static const char *const go_options[] = {"namespace",       "relations",    "exclude_evidence",
                                         "annotations_url", "ontology_url", NULL};

static const char *ns_code(const char *ns) {
    if (strcmp(ns, "biological_process") == 0) return "BP";
    if (strcmp(ns, "molecular_function") == 0) return "MF";
    if (strcmp(ns, "cellular_component") == 0) return "CC";
    return NULL;
}

static int go_ready(struct sgv_source_ctx *c, char *why, size_t cap) {
    if (sgv_src_file_set(c, "orgdb")) {
        static const char *const k[] = {"orgdb", NULL};
        return sgv_src_files_exist(c, k, why, cap);
    }
    return sgv_src_files_exist(c, go_files, why, cap);
}

static int in_list(const char *const *list, const char *s) {
    for (; list && *list; list++)
        if (strcmp(*list, s) == 0) return 1;
    return 0;
}

/* GAF 2.x: 17 columns, '!' comments; column 2 UniProt, 3 symbol, 4 qualifier, 5 GO ID,
 * 7 evidence, 9 aspect, 13 taxon. NOT annotations never propagate and are dropped. */
static sg_status go_read_gaf(struct sgv_source_ctx *c, const char *path, const char *aspect, const char *const *excl_ev,
                             struct sgv_library *direct, char **date) {
    struct sgv_lines r;
    sg_status st = sgv_lines_open(&r, path);
    if (st != SG_OK) return st;
    char *line, *f[20];
    int rc, seen_version = 0;
    while (st == SG_OK && (rc = sgv_lines_next(&r, &line)) > 0) {
        if (line[0] == '!') {
            seen_version |= strncmp(line, "!gaf-version:", 13) == 0;
            if (!*date && strncmp(line, "!date-generated:", 16) == 0) *date = strdup(sgv_trim(line + 16));
            continue;
        }
        if (!*line) continue;
        size_t n = sgv_split(line, '\t', f, 20);
        if (n < 15) {
            st = sg_error(SG_ERR_FORMAT, "%s: line %ld has %zu columns; GAF has 17", path, r.lineno, n);
            break;
        }
        if (strstr(f[3], "NOT")) continue;
        if (strncmp(f[4], "GO:", 3) != 0) {
            st = sg_error(SG_ERR_FORMAT, "%s: line %ld: column 5 '%s' is not a GO ID", path, r.lineno, f[4]);
            break;
        }
        if (strcmp(f[8], aspect) != 0 || in_list(excl_ev, f[6])) continue;
        if (*f[12] && !strstr(f[12], "taxon:9606")) continue;
        enum sgv_match how;
        int32_t gene = strcasecmp(f[0], "UniProtKB") == 0 ? sgv_genes_find(c->genes, f[1], SGV_ID_UNIPROT, &how) : -1;
        if (gene < 0) gene = sgv_genes_find(c->genes, f[2], SGV_ID_SYMBOL, &how);
        sgv_map_stats_add(&direct->map, how);
        if (gene < 0)
            st = sgv_strmap_put(&direct->unmapped, f[2], 1);
        else
            st = sgv_library_add(direct, f[4], NULL, (uint32_t)gene);
    }
    if (st == SG_OK && rc < 0) st = SG_ERR_FORMAT;
    if (st == SG_OK && !seen_version)
        st = sg_error(SG_ERR_FORMAT, "%s: no '!gaf-version:' header line (not a GAF file?)", path);
    sgv_lines_close(&r);
    return st == SG_OK ? sgv_library_finish(direct) : st;
}

static sg_status go_from_files(struct sgv_source_ctx *c, const char *gaf, const char *obo, struct sgv_library *lib) {
    const char *ns;
    const char **rels = NULL, **excl_ev = NULL;
    size_t n;
    sg_status st = sgv_src_opt_str(c, "namespace", "biological_process", &ns);
    if (st == SG_OK && !ns_code(ns))
        st = sg_error(SG_ERR_INVALID_ARG,
                      "%s.namespace: '%s' (expected biological_process, molecular_function or cellular_component)",
                      c->cfg.path, ns);
    if (st == SG_OK && sgv_cfg_present(sgv_cfg_child(c->cfg, "relations")))
        st = sgv_cfg_str_list(c->cfg, "relations", &rels, &n);
    if (st == SG_OK) st = sgv_cfg_str_list(c->cfg, "exclude_evidence", &excl_ev, &n);
    static const char *const part_of[] = {"part_of", NULL};
    struct sgv_ontology *o             = NULL;
    if (st == SG_OK) st = sgv_ontology_load_obo(obo, rels ? (const char *const *)rels : part_of, &o);
    struct sgv_library direct;
    sgv_library_init(&direct, "go-direct");
    char *date           = NULL;
    const char aspect[2] = {(char)(ns[0] == 'b' ? 'P' : ns[0] == 'm' ? 'F' : 'C'), 0};
    if (st == SG_OK) st = go_read_gaf(c, gaf, aspect, excl_ev, &direct, &date);
    struct sgv_onto_filter f = {.namespace = ns};
    struct sgv_propagate_stats ps;
    if (st == SG_OK) st = sgv_ontology_propagate(o, &direct, &f, lib, &ps);
    if (st == SG_OK) {
        if (ps.unknown_terms)
            SG_LOGW("go: %u annotated terms are not in %s (older or newer release?); dropped", ps.unknown_terms, obo);
        lib->map = direct.map;
        sgv_library_take_unmapped(lib, &direct);
        char v[256];
        snprintf(v, sizeof v, "%s; annotations %s", o->version ? o->version : "go-basic (no data-version)",
                 date ? date : "(undated)");
        sgv_src_set_version(c, lib, v);
    }
    free(date);
    free(rels);
    free(excl_ev);
    sgv_library_free(&direct);
    sgv_ontology_free(o);
    return st;
}

static sg_status go_offline(struct sgv_source_ctx *c, struct sgv_library *lib) {
    if (sgv_src_file_set(c, "orgdb")) {
        char *db = sgv_src_file(c, "orgdb");
        const char *ns;
        sg_status st = db ? sgv_src_opt_str(c, "namespace", "biological_process", &ns) : SG_ERR_NOT_FOUND;
        if (st == SG_OK && !ns_code(ns))
            st = sg_error(SG_ERR_INVALID_ARG, "%s.namespace: unknown namespace '%s'", c->cfg.path, ns);
        if (st == SG_OK) st = sgv_orgdb_load_go(db, ns_code(ns), c->genes, lib);
        if (st == SG_OK) sgv_src_set_version(c, lib, lib->version);
        free(db);
        return st;
    }
    char *gaf = sgv_src_file(c, "annotations"), *obo = sgv_src_file(c, "ontology");
    sg_status st = gaf && obo ? go_from_files(c, gaf, obo, lib) : SG_ERR_NOT_FOUND;
    free(gaf);
    free(obo);
    return st;
}

static sg_status go_online(struct sgv_source_ctx *c, struct sgv_library *lib) {
    const char *gaf_url, *obo_url;
    sg_status st = sgv_src_opt_str(c, "annotations_url",
                                   "https://current.geneontology.org/annotations/goa_human.gaf.gz", &gaf_url);
    if (st == SG_OK)
        st = sgv_src_opt_str(c, "ontology_url", "https://purl.obolibrary.org/obo/go/go-basic.obo", &obo_url);
    char *base = NULL;
    if (st == SG_OK) st = sgv_src_api(c, &base); /* applies the rate limit to the GO host */
    free(base);
    /* the release is only known once the files are read: download into today's folder */
    free(c->version);
    c->version             = NULL;
    struct sgv_endpoint ep = sgv_src_endpoint(c);
    char *gaf = NULL, *obo = NULL;
    if (st == SG_OK) st = sgv_download(c->net, &ep, gaf_url, "goa_human.gaf.gz", &gaf);
    if (st == SG_OK) st = sgv_download(c->net, &ep, obo_url, "go-basic.obo", &obo);
    if (st == SG_OK) st = go_from_files(c, gaf, obo, lib);
    free(gaf);
    free(obo);
    return st;
}

const struct sgv_source sgv_source_go = {
    .name          = "go",
    .title         = "Gene Ontology",
    .tier          = 0,
    .licence       = "CC BY 4.0",
    .attribution   = "Gene Ontology Consortium (http://geneontology.org), GO annotations from GOA (EMBL-EBI)",
    .term_url      = "https://amigo.geneontology.org/amigo/term/%s",
    .files         = go_files,
    .options       = go_options,
    .api_url       = "https://current.geneontology.org",
    .api_rate      = 2,
    .max_term      = 500,
    .offline_ready = go_ready,
    .load_offline  = go_offline,
    .load_online   = go_online,
};
