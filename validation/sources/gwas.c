/* GWAS Catalog: the "all associations v1.0.2 with ontology annotations" TSV. A trait's gene
 * set is the union of SNP_GENE_IDS (Ensembl IDs of genes containing a genome-wide significant
 * SNP, PVALUE_MLOG >= 7.30103), optionally with the flanking genes of intergenic SNPs.
 * Online: REST API v2, /v2/associations?mapped_gene=<symbol>, paged. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validation/sources/source.h"
#include "validation/tsv.h"

static const char *const gwas_files[]   = {"associations", NULL};
static const char *const gwas_options[] = {"min_mlog_p", "include_intergenic", "page_size", NULL};

/* "http://www.ebi.ac.uk/efo/EFO_0001360" -> "EFO_0001360" */
static const char *uri_tail(const char *uri) {
    const char *s = strrchr(uri, '/');
    return s ? s + 1 : uri;
}

static sg_status gwas_add_genes(struct sgv_source_ctx *c, struct sgv_library *lib, const char *term, const char *name,
                                char *ids) {
    sg_status st = SG_OK;
    char *save   = NULL;
    for (char *g = strtok_r(ids, ",; ", &save); g && st == SG_OK; g = strtok_r(NULL, ",; ", &save))
        if (strncmp(g, "ENSG", 4) == 0) st = sgv_library_add_id(lib, c->genes, term, name, g, SGV_ID_ENSEMBL);
    return st;
}

static sg_status gwas_row(struct sgv_source_ctx *c, struct sgv_library *lib, char **f, const int *col,
                          int intergenic_on) {
    enum { URI, TRAIT, GENES, UP, DOWN, INTERGENIC };
    /* trait names are comma-separated too, but may contain commas: pair them only when counts agree */
    char *uris[64], *names[64];
    size_t nu = 0, nn = 0;
    char *save = NULL;
    for (char *u = strtok_r(f[col[URI]], ",", &save); u && nu < 64; u = strtok_r(NULL, ",", &save))
        uris[nu++] = sgv_trim(u);
    if (nu == 1)
        names[nn++] = f[col[TRAIT]];
    else
        for (char *n = strtok_r(f[col[TRAIT]], ",", &save); n && nn < 64; n = strtok_r(NULL, ",", &save))
            names[nn++] = sgv_trim(n);
    sg_status st = SG_OK;
    for (size_t i = 0; i < nu && st == SG_OK; i++) {
        if (!*uris[i]) continue;
        const char *term = uri_tail(uris[i]), *name = nn == nu ? names[i] : NULL;
        char buf[4096];
        snprintf(buf, sizeof buf, "%s", f[col[GENES]]);
        st = gwas_add_genes(c, lib, term, name, buf);
        if (st == SG_OK && intergenic_on && strcmp(f[col[INTERGENIC]], "1") == 0) {
            snprintf(buf, sizeof buf, "%s,%s", f[col[UP]], f[col[DOWN]]);
            st = gwas_add_genes(c, lib, term, name, buf);
        }
    }
    return st;
}

static sg_status gwas_offline(struct sgv_source_ctx *c, struct sgv_library *lib) {
    char *path = sgv_src_file(c, "associations");
    if (!path) return SG_ERR_NOT_FOUND;
    double min_mlog;
    int intergenic;
    sg_status st = sgv_src_opt_num(c, "min_mlog_p", 7.30103, &min_mlog);
    if (st == SG_OK) st = sgv_cfg_bool(c->cfg, "include_intergenic", 0, &intergenic);
    struct sgv_tsv t;
    if (st == SG_OK) st = sgv_tsv_open(&t, path, '\t', 0);
    if (st != SG_OK) {
        free(path);
        return st;
    }
    static const char *const names[] = {"MAPPED_TRAIT_URI",   "MAPPED_TRAIT", "SNP_GENE_IDS", "UPSTREAM_GENE_ID",
                                        "DOWNSTREAM_GENE_ID", "INTERGENIC",   "PVALUE_MLOG",  NULL};
    int col[7];
    st          = sgv_tsv_require(&t, names, col);
    int rc      = 0;
    size_t rows = 0, kept = 0;
    while (st == SG_OK && (rc = sgv_tsv_next(&t)) > 0) {
        rows++;
        char *end;
        double mlog = strtod(t.f[col[6]], &end);
        if (end == t.f[col[6]] || !isfinite(mlog)) {
            st = sg_error(SG_ERR_FORMAT, "%s: line %ld: PVALUE_MLOG '%s' is not a number", path, sgv_tsv_line(&t),
                          t.f[col[6]]);
            break;
        }
        if (mlog < min_mlog) continue;
        kept++;
        st = gwas_row(c, lib, t.f, col, intergenic);
    }
    if (st == SG_OK && rc < 0) st = SG_ERR_FORMAT;
    sgv_tsv_close(&t);
    if (st == SG_OK && rows == 0) st = sg_error(SG_ERR_FORMAT, "%s: no association rows", path);
    if (st == SG_OK) st = sgv_library_finish(lib);
    if (st == SG_OK) sgv_src_set_version(c, lib, NULL);
    free(path);
    return st;
}

struct gwas_online {
    char *base;
    double min_mlog;
    unsigned page_size;
};

static sg_status gwas_gene(struct sgv_source_ctx *c, uint32_t gene, const char *symbol, struct sgv_library *lib,
                           void *user) {
    struct gwas_online *g = user;
    char *sym             = sgv_url_escape(symbol);
    if (!sym) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    sg_status st = SG_OK;
    for (int page = 0, pages = 1; st == SG_OK && page < pages; page++) {
        char url[1024];
        snprintf(url, sizeof url, "%s/v2/associations?mapped_gene=%s&size=%u&page=%d", g->base, sym, g->page_size,
                 page);
        struct sg_http_request rq = {
            .url = url, .headers = (const char *const[]){"Accept: application/json", NULL}, .accept_status = 404};
        struct sgv_endpoint ep = sgv_src_endpoint(c);
        cJSON *j;
        st = sgv_fetch_json(c->net, &ep, &rq, &j, NULL);
        if (st != SG_OK || !j) break;
        const cJSON *pg = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "page"), "totalPages");
        if (cJSON_IsNumber(pg)) pages = pg->valueint;
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "_embedded"),
                                                             "associations"),
                    *a;
        cJSON_ArrayForEach(a, list) {
            const cJSON *p = cJSON_GetObjectItemCaseSensitive(a, "p_value");
            if (!cJSON_IsNumber(p) || p->valuedouble <= 0 || -log10(p->valuedouble) < g->min_mlog) continue;
            const cJSON *traits = cJSON_GetObjectItemCaseSensitive(a, "efo_traits"), *t;
            cJSON_ArrayForEach(t, traits) {
                const cJSON *id   = cJSON_GetObjectItemCaseSensitive(t, "efo_id");
                const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "efo_trait");
                if (cJSON_IsString(id) && st == SG_OK)
                    st = sgv_library_add(lib, id->valuestring, cJSON_IsString(name) ? name->valuestring : NULL, gene);
            }
        }
        cJSON_Delete(j);
    }
    free(sym);
    return st;
}

static sg_status gwas_online(struct sgv_source_ctx *c, struct sgv_library *lib) {
    struct gwas_online g = {0};
    double ps            = 200;
    sg_status st         = sgv_src_api(c, &g.base);
    if (st == SG_OK) st = sgv_src_opt_num(c, "min_mlog_p", 7.30103, &g.min_mlog);
    if (st == SG_OK) st = sgv_src_opt_num(c, "page_size", 200, &ps);
    g.page_size = ps >= 1 && ps < 1e9 ? (unsigned)ps : 200; /* converting a larger double is undefined */
    if (st == SG_OK) st = sgv_src_annotate(c, SGV_ID_SYMBOL, gwas_gene, lib, &g);
    free(g.base);
    return st;
}

const struct sgv_source sgv_source_gwas = {
    .name         = "gwas",
    .title        = "GWAS Catalog",
    .tier         = 1,
    .licence      = "EMBL-EBI terms of use (curated associations); summary statistics mostly CC0",
    .attribution  = "NHGRI-EBI GWAS Catalog (https://www.ebi.ac.uk/gwas), Cerezo et al., Nucleic Acids Res.",
    .term_url     = "https://www.ebi.ac.uk/gwas/efotraits/%s",
    .files        = gwas_files,
    .options      = gwas_options,
    .api_url      = "https://www.ebi.ac.uk/gwas/rest/api",
    .api_rate     = 10,
    .per_gene_api = 1,
    .max_term     = 1000,
    .load_offline = gwas_offline,
    .load_online  = gwas_online,
};
