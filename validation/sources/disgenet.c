/* DisGeNET gene–disease associations. Offline: the legacy v7 TSV exports
 * (curated_gene_disease_associations.tsv[.gz]). Online: api.disgenet.com with the user's key
 * (DISGENET_API_KEY), one gene at a time. Licence CC BY-NC-SA 4.0: never bundled, responses
 * cached only under the user's cache directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validation/sources/source.h"
#include "validation/tsv.h"

static const char *const dg_files[]   = {"associations", NULL};
static const char *const dg_options[] = {"min_score", "source_filter", NULL};

static sg_status dg_offline(struct sgv_source_ctx *c, struct sgv_library *lib) {
    char *path = sgv_src_file(c, "associations");
    if (!path) return SG_ERR_NOT_FOUND;
    double min_score;
    sg_status st = sgv_src_opt_num(c, "min_score", 0.0, &min_score);
    struct sgv_tsv t;
    if (st == SG_OK) st = sgv_tsv_open(&t, path, '\t', 0);
    if (st != SG_OK) {
        free(path);
        return st;
    }
    static const char *const names[] = {"geneId", "diseaseId", "diseaseName", "score", NULL};
    int col[4], rc = 0;
    st = sgv_tsv_require(&t, names, col);
    while (st == SG_OK && (rc = sgv_tsv_next(&t)) > 0) {
        char *end;
        double s = strtod(t.f[col[3]], &end);
        if (end == t.f[col[3]]) {
            st = sg_error(SG_ERR_FORMAT, "%s: line %ld: score '%s' is not a number", path, sgv_tsv_line(&t),
                          t.f[col[3]]);
            break;
        }
        if (s < min_score) continue;
        st = sgv_library_add_id(lib, c->genes, t.f[col[1]], t.f[col[2]], t.f[col[0]], SGV_ID_ENTREZ);
    }
    if (st == SG_OK && rc < 0) st = SG_ERR_FORMAT;
    sgv_tsv_close(&t);
    if (st == SG_OK) st = sgv_library_finish(lib);
    if (st == SG_OK) sgv_src_set_version(c, lib, NULL);
    free(path);
    return st;
}

struct dg_online {
    char *base;
    char auth[600];
    double min_score;
    const char *filter;
};

static sg_status dg_gene(struct sgv_source_ctx *c, uint32_t gene, const char *entrez, struct sgv_library *lib,
                         void *user) {
    struct dg_online *d = user;
    const char *hdr[]   = {d->auth, "Accept: application/json", NULL};
    sg_status st        = SG_OK;
    for (int page = 0, pages = 1; st == SG_OK && page < pages; page++) {
        char url[1024];
        snprintf(url, sizeof url, "%s/gda/summary?gene_ncbi_id=%s&source=%s&page_number=%d", d->base, entrez, d->filter,
                 page);
        struct sg_http_request rq = {.url = url, .headers = hdr, .accept_status = 404};
        struct sgv_endpoint ep    = sgv_src_endpoint(c);
        cJSON *j;
        st = sgv_fetch_json(c->net, &ep, &rq, &j, NULL);
        if (st != SG_OK || !j) break;
        const cJSON *paging = cJSON_GetObjectItemCaseSensitive(j, "paging");
        const cJSON *total  = cJSON_GetObjectItemCaseSensitive(paging, "totalElements");
        const cJSON *size   = cJSON_GetObjectItemCaseSensitive(paging, "pageSize");
        if (cJSON_IsNumber(total) && cJSON_IsNumber(size) && size->valueint > 0)
            pages = (total->valueint + size->valueint - 1) / size->valueint;
        const cJSON *payload = cJSON_GetObjectItemCaseSensitive(j, "payload"), *a;
        if (!cJSON_IsArray(payload))
            st = sg_error(SG_ERR_FORMAT, "disgenet: gene %s: response has no 'payload' list", entrez);
        const cJSON *plist = st == SG_OK ? payload : NULL;
        cJSON_ArrayForEach(a, plist) {
            const cJSON *cui   = cJSON_GetObjectItemCaseSensitive(a, "diseaseUMLSCUI");
            const cJSON *name  = cJSON_GetObjectItemCaseSensitive(a, "diseaseName");
            const cJSON *score = cJSON_GetObjectItemCaseSensitive(a, "score");
            if (!cJSON_IsString(cui) || (cJSON_IsNumber(score) && score->valuedouble < d->min_score)) continue;
            if (st == SG_OK)
                st = sgv_library_add(lib, cui->valuestring, cJSON_IsString(name) ? name->valuestring : NULL, gene);
        }
        cJSON_Delete(j);
    }
    return st;
}

static sg_status dg_online(struct sgv_source_ctx *c, struct sgv_library *lib) {
    struct dg_online d = {0};
    char key[512];
    sg_status st = sgv_api_key(c->src->key_env, c->env_file, key, sizeof key);
    if (st == SG_OK) st = sgv_src_api(c, &d.base);
    if (st == SG_OK) st = sgv_src_opt_num(c, "min_score", 0.0, &d.min_score);
    if (st == SG_OK) st = sgv_src_opt_str(c, "source_filter", "CURATED", &d.filter);
    snprintf(d.auth, sizeof d.auth, "Authorization: %s", key);
    if (st == SG_OK) st = sgv_src_annotate(c, SGV_ID_ENTREZ, dg_gene, lib, &d);
    memset(key, 0, sizeof key);
    memset(d.auth, 0, sizeof d.auth);
    free(d.base);
    return st;
}

const struct sgv_source sgv_source_disgenet = {
    .name         = "disgenet",
    .title        = "DisGeNET",
    .tier         = 2,
    .licence      = "CC BY-NC-SA 4.0 (legacy data; non-commercial research only; commercial use needs a licence). Not "
                    "redistributed.",
    .attribution  = "DisGeNET (https://www.disgenet.com), Piñero et al., Nucleic Acids Res.",
    .term_url     = "https://www.disgenet.com/search?view=DISEASES&idents=%s",
    .restricted   = 1,
    .key_env      = "DISGENET_API_KEY",
    .files        = dg_files,
    .options      = dg_options,
    .api_url      = "https://api.disgenet.com/api/v1",
    .api_rate     = 1,
    .per_gene_api = 1,
    .max_term     = 1000,
    .load_offline = dg_offline,
    .load_online  = dg_online,
};
