/* Human Phenotype Ontology: genes_to_phenotype.txt + hp.obo, annotations propagated up is_a,
 * terms kept under Phenotypic abnormality (HP:0000118). Online: the JAX ontology service,
 * one call per gene (NCBIGene:<id>), propagated with the same hp.obo. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "validation/fsutil.h"
#include "validation/ontology.h"
#include "validation/sources/source.h"
#include "validation/tsv.h"

static const char *const hpo_files[]   = {"genes_to_phenotype", "ontology", NULL};
static const char *const hpo_options[] = {"root", "exclude", "ontology_url", NULL};

/* Direct gene -> phenotype pairs from genes_to_phenotype.txt (current or pre-2023 header). */
static sg_status hpo_read_direct(struct sgv_source_ctx *c, const char *path, struct sgv_library *direct) {
    struct sgv_tsv t;
    sg_status st = sgv_tsv_open(&t, path, '\t', 0);
    if (st != SG_OK) return st;
    static const char *const now[] = {"ncbi_gene_id", "hpo_id", "hpo_name", NULL};
    static const char *const old[] = {"Format: entrez-gene-id", "HPO-Term-ID", "HPO-Term-Name", NULL};
    int col[3];
    st     = sgv_tsv_require(&t, sgv_tsv_col(&t, "Format: entrez-gene-id") >= 0 ? old : now, col);
    int rc = 0;
    while (st == SG_OK && (rc = sgv_tsv_next(&t)) > 0) {
        const char *term = t.f[col[1]];
        if (strncmp(term, "HP:", 3) != 0) {
            st = sg_error(SG_ERR_FORMAT, "%s: line %ld: hpo_id '%s' is not an HP term", path, sgv_tsv_line(&t), term);
            break;
        }
        st = sgv_library_add_id(direct, c->genes, term, t.f[col[2]], t.f[col[0]], SGV_ID_ENTREZ);
    }
    if (st == SG_OK && rc < 0) st = SG_ERR_FORMAT;
    sgv_tsv_close(&t);
    if (st == SG_OK) st = sgv_library_finish(direct);
    return st;
}

static sg_status hpo_propagate(struct sgv_source_ctx *c, const char *obo, struct sgv_library *direct,
                               struct sgv_library *lib) {
    struct sgv_ontology *o;
    sg_status st = sgv_ontology_load_obo(obo, NULL, &o); /* HPO's hierarchy is is_a only */
    if (st != SG_OK) return st;
    const char *root;
    const char **excl = NULL;
    size_t n_excl;
    st = sgv_src_opt_str(c, "root", "HP:0000118", &root);
    if (st == SG_OK) st = sgv_cfg_str_list(c->cfg, "exclude", &excl, &n_excl);
    struct sgv_onto_filter f = {.root = root, .exclude = excl};
    struct sgv_propagate_stats ps;
    if (st == SG_OK) st = sgv_ontology_propagate(o, direct, &f, lib, &ps);
    if (st == SG_OK) {
        if (ps.unknown_terms || ps.obsolete_dropped)
            SG_LOGW("hpo: %u annotated terms are not in %s and %u are obsolete without replacement; dropped",
                    ps.unknown_terms, obo, ps.obsolete_dropped);
        lib->map = direct->map;
        sgv_library_take_unmapped(lib, direct);
        sgv_src_set_version(c, lib, o->version);
    }
    free(excl);
    sgv_ontology_free(o);
    return st;
}

static sg_status hpo_offline(struct sgv_source_ctx *c, struct sgv_library *lib) {
    char *g2p = sgv_src_file(c, "genes_to_phenotype"), *obo = sgv_src_file(c, "ontology");
    sg_status st = g2p && obo ? SG_OK : SG_ERR_NOT_FOUND;
    struct sgv_library direct;
    sgv_library_init(&direct, "hpo-direct");
    if (st == SG_OK) st = hpo_read_direct(c, g2p, &direct);
    if (st == SG_OK) st = hpo_propagate(c, obo, &direct, lib);
    sgv_library_free(&direct);
    free(g2p);
    free(obo);
    return st;
}

struct hpo_online {
    char *base;
};

static sg_status hpo_gene(struct sgv_source_ctx *c, uint32_t gene, const char *entrez, struct sgv_library *direct,
                          void *user) {
    struct hpo_online *h = user;
    char url[1024];
    snprintf(url, sizeof url, "%s/NCBIGene%%3A%s", h->base, entrez);
    struct sg_http_request rq = {.url = url, .accept_status = 404}; /* 404: gene has no annotations */
    struct sgv_endpoint ep    = sgv_src_endpoint(c);
    cJSON *j;
    sg_status st = sgv_fetch_json(c->net, &ep, &rq, &j, NULL);
    if (st != SG_OK || !j) return st;
    const cJSON *ph = cJSON_GetObjectItemCaseSensitive(j, "phenotypes");
    if (ph && !cJSON_IsArray(ph)) st = sg_error(SG_ERR_FORMAT, "hpo: %s: 'phenotypes' is not a list", url);
    const cJSON *e;
    const cJSON *plist = cJSON_IsArray(ph) ? ph : NULL;
    cJSON_ArrayForEach(e, plist) {
        const cJSON *id   = cJSON_GetObjectItemCaseSensitive(e, "id");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
        if (st != SG_OK || !cJSON_IsString(id)) continue;
        st = sgv_library_add(direct, id->valuestring, cJSON_IsString(name) ? name->valuestring : NULL, gene);
    }
    sgv_map_stats_add(&direct->map, SGV_MATCH_ENTREZ);
    cJSON_Delete(j);
    return st;
}

static sg_status hpo_online(struct sgv_source_ctx *c, struct sgv_library *lib) {
    struct hpo_online h = {0};
    sg_status st        = sgv_src_api(c, &h.base);
    struct sgv_library direct;
    sgv_library_init(&direct, "hpo-direct");
    if (st == SG_OK) st = sgv_src_annotate(c, SGV_ID_ENTREZ, hpo_gene, &direct, &h);
    char *obo = NULL;
    if (st == SG_OK) {
        char why[512];
        const char *const key[] = {"ontology", NULL};
        if (sgv_src_files_exist(c, key, why, sizeof why))
            obo = sgv_src_file(c, "ontology");
        else {
            const char *url;
            st                     = sgv_src_opt_str(c, "ontology_url", "https://purl.obolibrary.org/obo/hp.obo", &url);
            struct sgv_endpoint ep = sgv_src_endpoint(c);
            if (st == SG_OK) st = sgv_download(c->net, &ep, url, "hp.obo", &obo);
        }
    }
    if (st == SG_OK) st = hpo_propagate(c, obo, &direct, lib);
    sgv_library_free(&direct);
    free(obo);
    free(h.base);
    return st;
}

const struct sgv_source sgv_source_hpo = {
    .name         = "hpo",
    .title        = "Human Phenotype Ontology",
    .tier         = 1,
    .licence      = "HPO licence: free to use; files must not be altered; show the version; acknowledge HPO",
    .attribution  = "Human Phenotype Ontology (https://hpo.jax.org), Köhler et al., Nucleic Acids Res.",
    .term_url     = "https://hpo.jax.org/browse/term/%s",
    .files        = hpo_files,
    .options      = hpo_options,
    .api_url      = "https://ontology.jax.org/api/network/annotation",
    .api_rate     = 5,
    .per_gene_api = 1,
    .max_term     = 500,
    .load_offline = hpo_offline,
    .load_online  = hpo_online,
};
