/* Monarch Initiative knowledge graph: gene -> disease associations (causal file, optionally
 * the non-causal one too). Rows kept: subject_category biolink:Gene, human taxon, not negated;
 * the files repeat rows, which the library merges. Online: the v3 API's /association endpoint,
 * many genes per request (repeated subject=). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "validation/sources/source.h"
#include "validation/tsv.h"

static const char *const mo_files[]   = {"associations", NULL};
static const char *const mo_options[] = {"categories", "batch", NULL};

static int truthy(const char *s) { return strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0; }

static sg_status mo_read(struct sgv_source_ctx *c, const char *path, struct sgv_library *lib) {
    struct sgv_tsv t;
    sg_status st = sgv_tsv_open(&t, path, '\t', 0);
    if (st != SG_OK) return st;
    static const char *const names[] = {
        "subject", "subject_category", "subject_taxon", "negated", "object", "object_label", NULL};
    int col[6], rc = 0;
    st = sgv_tsv_require(&t, names, col);
    while (st == SG_OK && (rc = sgv_tsv_next(&t)) > 0) {
        if (strcmp(t.f[col[1]], "biolink:Gene") != 0 || strcmp(t.f[col[2]], "NCBITaxon:9606") != 0 ||
            truthy(t.f[col[3]]))
            continue;
        st = sgv_library_add_id(lib, c->genes, t.f[col[4]], t.f[col[5]], t.f[col[0]], SGV_ID_ANY);
    }
    if (st == SG_OK && rc < 0) st = SG_ERR_FORMAT;
    sgv_tsv_close(&t);
    return st;
}

static sg_status mo_offline(struct sgv_source_ctx *c, struct sgv_library *lib) {
    char *path   = sgv_src_file(c, "associations");
    sg_status st = path ? mo_read(c, path, lib) : SG_ERR_NOT_FOUND;
    free(path);
    if (st == SG_OK && sgv_src_file_set(c, "associations_noncausal")) {
        path = sgv_src_file(c, "associations_noncausal");
        st   = path ? mo_read(c, path, lib) : SG_ERR_NOT_FOUND;
        free(path);
    }
    if (st == SG_OK) st = sgv_library_finish(lib);
    if (st == SG_OK) sgv_src_set_version(c, lib, NULL);
    return st;
}

static sg_status mo_batch(struct sgv_source_ctx *c, const char *base, const char **cats, size_t n_cats,
                          const char **ids, size_t n, struct sgv_library *lib) {
    sg_status st = SG_OK;
    for (long offset = 0, total = 1; st == SG_OK && offset < total;) {
        /* sized from the parts: gene IDs come from the gene table and categories from the config */
        size_t cap = strlen(base) + 64, o;
        for (size_t i = 0; i < n; i++) cap += strlen("&subject=") + strlen(ids[i]);
        for (size_t i = 0; i < n_cats; i++) cap += strlen("&category=") + strlen(cats[i]);
        char *url = malloc(cap);
        if (!url) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
        o = (size_t)snprintf(url, cap, "%s/association?limit=500&offset=%ld", base, offset);
        for (size_t i = 0; i < n; i++) o += (size_t)snprintf(url + o, cap - o, "&subject=%s", ids[i]);
        for (size_t i = 0; i < n_cats; i++) o += (size_t)snprintf(url + o, cap - o, "&category=%s", cats[i]);
        struct sg_http_request rq = {.url = url, .headers = (const char *const[]){"Accept: application/json", NULL}};
        struct sgv_endpoint ep    = sgv_src_endpoint(c);
        cJSON *j;
        st = sgv_fetch_json(c->net, &ep, &rq, &j, NULL);
        free(url);
        if (st != SG_OK) break;
        const cJSON *tot   = cJSON_GetObjectItemCaseSensitive(j, "total");
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(j, "items"), *a;
        if (!cJSON_IsNumber(tot) || !cJSON_IsArray(items)) {
            cJSON_Delete(j);
            return sg_error(SG_ERR_FORMAT, "monarch: /association answer lacks 'total' or 'items'");
        }
        total = (long)tot->valuedouble;
        offset += 500;
        cJSON_ArrayForEach(a, items) {
            const cJSON *s     = cJSON_GetObjectItemCaseSensitive(a, "subject");
            const cJSON *obj   = cJSON_GetObjectItemCaseSensitive(a, "object");
            const cJSON *label = cJSON_GetObjectItemCaseSensitive(a, "object_label");
            const cJSON *neg   = cJSON_GetObjectItemCaseSensitive(a, "negated");
            if (!cJSON_IsString(s) || !cJSON_IsString(obj) || cJSON_IsTrue(neg) || st != SG_OK) continue;
            st = sgv_library_add_id(lib, c->genes, obj->valuestring, cJSON_IsString(label) ? label->valuestring : NULL,
                                    s->valuestring, SGV_ID_ANY);
        }
        cJSON_Delete(j);
    }
    return st;
}

static sg_status mo_online(struct sgv_source_ctx *c, struct sgv_library *lib) {
    char *base        = NULL;
    const char **cats = NULL;
    size_t n_cats     = 0;
    double batch_d    = 50;
    sg_status st      = sgv_src_api(c, &base);
    if (st == SG_OK) st = sgv_cfg_str_list(c->cfg, "categories", &cats, &n_cats);
    if (st == SG_OK && n_cats == 0) {
        free(cats);
        static const char *const def[] = {"biolink:CausalGeneToDiseaseAssociation",
                                          "biolink:CorrelatedGeneToDiseaseAssociation", NULL};
        cats                           = malloc(sizeof def);
        if (cats) memcpy(cats, def, sizeof def);
        n_cats = 2;
    }
    if (st == SG_OK) st = sgv_src_opt_num(c, "batch", 50, &batch_d);
    size_t batch = batch_d >= 1 && batch_d < 1e6 ? (size_t)batch_d : 50, n = 0;
    const char **ids = calloc(batch, sizeof *ids);
    if (st == SG_OK && (!ids || !cats)) st = sg_error(SG_ERR_NO_MEMORY, "out of memory");
    if (st == SG_OK) sgv_src_set_version(c, lib, NULL);
    for (size_t i = 0; st == SG_OK && i <= c->n_background; i++) {
        const char *h = i < c->n_background ? sgv_gene_id_of(c->genes, c->background[i], SGV_ID_HGNC) : NULL;
        if (h) ids[n++] = h;
        if (n == batch || (i == c->n_background && n)) {
            st = mo_batch(c, base, cats, n_cats, ids, n, lib);
            n  = 0;
        }
    }
    if (st == SG_OK) st = sgv_library_finish(lib);
    free(ids);
    free(cats);
    free(base);
    return st;
}

const struct sgv_source sgv_source_monarch = {
    .name    = "monarch",
    .title   = "Monarch Initiative",
    .tier    = 2,
    .licence = "aggregated knowledge graph: each association keeps its primary_knowledge_source's licence; code BSD-3",
    .attribution  = "Monarch Initiative (https://monarchinitiative.org), Putman et al., Nucleic Acids Res. 2024",
    .term_url     = "https://monarchinitiative.org/%s",
    .files        = mo_files,
    .options      = mo_options,
    .api_url      = "https://api-v3.monarchinitiative.org/v3/api",
    .api_rate     = 5,
    .per_gene_api = 1,
    .max_term     = 1000,
    .load_offline = mo_offline,
    .load_online  = mo_online,
};
