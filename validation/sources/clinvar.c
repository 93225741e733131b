/* ClinVar gene–condition pairs: gene_condition_source_id (GeneID, ConceptID = MedGen CUI).
 * Rows that link a gene only through RelatedGenes (a region or CNV) are left out; the older
 * layout (GeneID Symbol ConceptID …) is read too. Online: E-utilities, per gene an esearch for
 * its pathogenic records then an esummary of their conditions (MedGen CUIs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validation/sources/source.h"
#include "validation/tsv.h"

static const char *const cv_files[]   = {"gene_condition", NULL};
static const char *const cv_options[] = {"email", "tool", "max_records", NULL};

static sg_status cv_offline(struct sgv_source_ctx *c, struct sgv_library *lib) {
    char *path = sgv_src_file(c, "gene_condition");
    if (!path) return SG_ERR_NOT_FOUND;
    struct sgv_tsv t;
    sg_status st = sgv_tsv_open(&t, path, '\t', 0);
    if (st != SG_OK) {
        free(path);
        return st;
    }
    static const char *const names[] = {"GeneID", "ConceptID", "DiseaseName", NULL};
    int col[3], rc = 0;
    st        = sgv_tsv_require(&t, names, col);
    int assoc = sgv_tsv_col(&t, "AssociatedGenes");
    if (assoc >= 0) sgv_tsv_need(&t, assoc + 1);
    while (st == SG_OK && (rc = sgv_tsv_next(&t)) > 0) {
        if (assoc >= 0 && (!*t.f[assoc] || strcmp(t.f[assoc], "-") == 0)) continue;
        const char *cui = t.f[col[1]];
        if (!*cui || strcmp(cui, "-") == 0) continue;
        st = sgv_library_add_id(lib, c->genes, cui, t.f[col[2]], t.f[col[0]], SGV_ID_ENTREZ);
    }
    if (st == SG_OK && rc < 0) st = SG_ERR_FORMAT;
    sgv_tsv_close(&t);
    if (st == SG_OK) st = sgv_library_finish(lib);
    if (st == SG_OK) sgv_src_set_version(c, lib, NULL);
    free(path);
    return st;
}

struct cv_online {
    char *base;
    char ident[512];
    unsigned max_records;
};

/* Conditions of one esummary record: germline_classification.trait_set (2024 schema) or the
 * older top-level trait_set; each trait's MedGen cross-reference is the term. */
static sg_status cv_traits(struct sgv_library *lib, const cJSON *rec, uint32_t gene) {
    const cJSON *ts =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, "germline_classification"), "trait_set");
    if (!cJSON_IsArray(ts)) ts = cJSON_GetObjectItemCaseSensitive(rec, "trait_set");
    const cJSON *tr;
    sg_status st = SG_OK;
    cJSON_ArrayForEach(tr, ts) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(tr, "trait_name");
        const cJSON *xr   = cJSON_GetObjectItemCaseSensitive(tr, "trait_xrefs"), *x;
        cJSON_ArrayForEach(x, xr) {
            const cJSON *db = cJSON_GetObjectItemCaseSensitive(x, "db_source");
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(x, "db_id");
            if (!cJSON_IsString(db) || !cJSON_IsString(id) || strcmp(db->valuestring, "MedGen") != 0 || st != SG_OK)
                continue;
            st = sgv_library_add(lib, id->valuestring, cJSON_IsString(name) ? name->valuestring : NULL, gene);
        }
    }
    return st;
}

static sg_status cv_gene(struct sgv_source_ctx *c, uint32_t gene, const char *symbol, struct sgv_library *lib,
                         void *user) {
    struct cv_online *o = user;
    char *sym           = sgv_url_escape(symbol);
    if (!sym) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    char url[4096];
    snprintf(
        url, sizeof url,
        "%s/esearch.fcgi?db=clinvar&term=%s%%5Bgene%%5D+AND+clinsig_pathogenic%%5BFilter%%5D&retmode=json&retmax=%u%s",
        o->base, sym, o->max_records, o->ident);
    free(sym);
    struct sg_http_request rq = {.url = url};
    struct sgv_endpoint ep    = sgv_src_endpoint(c);
    cJSON *j;
    sg_status st = sgv_fetch_json(c->net, &ep, &rq, &j, NULL);
    if (st != SG_OK) return st;
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "esearchresult"), "idlist"),
                *id;
    if (!cJSON_IsArray(ids)) {
        cJSON_Delete(j);
        return sg_error(SG_ERR_FORMAT, "clinvar: esearch for %s: no esearchresult.idlist", symbol);
    }
    size_t o2 = (size_t)snprintf(url, sizeof url, "%s/esummary.fcgi?db=clinvar&retmode=json%s&id=", o->base, o->ident);
    int n     = 0;
    const char *sep = "";
    cJSON_ArrayForEach(id, ids) {
        if (cJSON_IsString(id) && o2 + strlen(id->valuestring) + 2 < sizeof url) {
            o2 += (size_t)snprintf(url + o2, sizeof url - o2, "%s%s", sep, id->valuestring);
            sep = ",";
            n++;
        }
    }
    cJSON_Delete(j);
    if (n == 0) return SG_OK;
    rq.url = url;
    st     = sgv_fetch_json(c->net, &ep, &rq, &j, NULL);
    if (st != SG_OK) return st;
    const cJSON *res  = cJSON_GetObjectItemCaseSensitive(j, "result");
    const cJSON *uids = cJSON_GetObjectItemCaseSensitive(res, "uids"), *u;
    if (!cJSON_IsArray(uids)) st = sg_error(SG_ERR_FORMAT, "clinvar: esummary for %s: no result.uids", symbol);
    const cJSON *ulist = st == SG_OK ? uids : NULL;
    cJSON_ArrayForEach(u, ulist) {
        if (cJSON_IsString(u) && st == SG_OK)
            st = cv_traits(lib, cJSON_GetObjectItemCaseSensitive(res, u->valuestring), gene);
    }
    cJSON_Delete(j);
    return st;
}

static sg_status cv_online(struct sgv_source_ctx *c, struct sgv_library *lib) {
    struct cv_online o = {0};
    const char *email, *tool;
    double maxr   = 500;
    char key[256] = "";
    sg_status st  = sgv_src_api(c, &o.base);
    if (st == SG_OK) st = sgv_src_opt_str(c, "email", NULL, &email);
    if (st == SG_OK) st = sgv_src_opt_str(c, "tool", "saeg", &tool);
    if (st == SG_OK) st = sgv_src_opt_num(c, "max_records", 500, &maxr);
    o.max_records = maxr >= 1 && maxr < 1e9 ? (unsigned)maxr : 500; /* converting a larger double is undefined */
    int have_key  = st == SG_OK && sgv_api_key("NCBI_API_KEY", c->env_file, key, sizeof key) == SG_OK;
    sg_error_clear();
    if (st == SG_OK) {
        char *t = sgv_url_escape(tool), *e = email ? sgv_url_escape(email) : NULL;
        snprintf(o.ident, sizeof o.ident, "&tool=%s%s%s%s%s", t ? t : "saeg", e ? "&email=" : "", e ? e : "",
                 have_key ? "&api_key=" : "", have_key ? key : "");
        free(t);
        free(e);
        /* NCBI allows 10 requests/s with a key, 3 without */
        double rate;
        st = sgv_cfg_num(c->cfg, "api.rate_per_s", have_key ? 10 : 3, &rate);
        if (st == SG_OK && rate > 0) st = sgv_src_set_rate(c, o.base, rate);
    }
    if (st == SG_OK) st = sgv_src_annotate(c, SGV_ID_SYMBOL, cv_gene, lib, &o);
    memset(key, 0, sizeof key);
    memset(o.ident, 0, sizeof o.ident);
    free(o.base);
    return st;
}

const struct sgv_source sgv_source_clinvar = {
    .name         = "clinvar",
    .title        = "ClinVar",
    .tier         = 3,
    .licence      = "NCBI data: public domain (submitters keep attribution expectations)",
    .attribution  = "ClinVar (https://www.ncbi.nlm.nih.gov/clinvar), Landrum et al., Nucleic Acids Res.",
    .term_url     = "https://www.ncbi.nlm.nih.gov/medgen/%s",
    .files        = cv_files,
    .options      = cv_options,
    .api_url      = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils",
    .api_rate     = 3,
    .per_gene_api = 1,
    .max_term     = 1000,
    .load_offline = cv_offline,
    .load_online  = cv_online,
};
