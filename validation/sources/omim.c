/* OMIM: phenotype gene sets from genemap2.txt (registration required), keeping phenotypes of
 * mapping key 3 (molecular basis known) and leaving out {susceptibility}, [non-disease] and
 * ?provisional entries. Alternative offline input: org.Hs.eg.db's gene -> MIM table.
 * Online: api.omim.org /entry with include=geneMap (OMIM_API_KEY), 20 gene MIMs per request.
 * OMIM's licence forbids redistribution: files stay outside the repository and responses are
 * cached only under the user's cache directory. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validation/orgdb.h"
#include "validation/sources/source.h"
#include "validation/tsv.h"

static const char *const om_files[]   = {"genemap2", NULL};
static const char *const om_options[] = {"mapping_keys", NULL};

static int om_ready(struct sgv_source_ctx *c, char *why, size_t cap) {
    static const char *const k[] = {"orgdb", NULL};
    if (sgv_src_file_set(c, "orgdb")) return sgv_src_files_exist(c, k, why, cap);
    return sgv_src_files_exist(c, om_files, why, cap);
}

/* mapping_keys: OMIM phenotype mapping keys 1..4, checked here so a typo is an error, not a
 * key that silently never matches. */
static sg_status om_keys(struct sgv_source_ctx *c, const char ***keys) {
    size_t n;
    sg_status st = sgv_cfg_str_list(c->cfg, "mapping_keys", keys, &n);
    for (size_t i = 0; st == SG_OK && i < n; i++) {
        const char *k = (*keys)[i];
        if (k[0] < '1' || k[0] > '4' || k[1])
            st = sg_error(SG_ERR_INVALID_ARG, "%s.mapping_keys: '%s' is not a phenotype mapping key (1, 2, 3 or 4)",
                          c->cfg.path, k);
    }
    return st;
}

static int key_wanted(const char *const *keys, int key) {
    if (!keys || !*keys) return key == 3;
    for (; *keys; keys++)
        if ((*keys)[0] - '0' == key) return 1;
    return 0;
}

/* One "Name, 123456 (3), Autosomal dominant" entry of the Phenotypes column. */
static sg_status om_phenotype(struct sgv_library *lib, char *entry, uint32_t gene, const char *const *keys) {
    entry = sgv_trim(entry);
    if (!*entry || entry[0] == '{' || entry[0] == '[' || entry[0] == '?') return SG_OK;
    char *paren = NULL; /* the mapping key is the last "(d)" */
    for (char *p = strchr(entry, '('); p; p = strchr(p + 1, '('))
        if (isdigit((unsigned char)p[1]) && p[2] == ')') paren = p;
    if (!paren || !key_wanted(keys, paren[1] - '0')) return SG_OK;
    /* the phenotype MIM is the 6-digit number right before the key; entries without one have
     * no phenotype entry of their own and are skipped */
    char *q = paren;
    while (q > entry && q[-1] == ' ') q--;
    char *digits_end = q;
    while (q > entry && isdigit((unsigned char)q[-1])) q--;
    if (digits_end - q != 6) return SG_OK;
    char mim[16];
    snprintf(mim, sizeof mim, "OMIM:%.6s", q);
    char *name_end = q;
    while (name_end > entry && (name_end[-1] == ' ' || name_end[-1] == ',')) name_end--;
    *name_end = '\0';
    return sgv_library_add(lib, mim, entry, gene);
}

static sg_status om_genemap2(struct sgv_source_ctx *c, const char *path, const char *const *keys,
                             struct sgv_library *lib) {
    struct sgv_tsv t;
    sg_status st = sgv_tsv_open(&t, path, '\t', 0);
    if (st != SG_OK) return st;
    static const char *const names[] = {"Entrez Gene ID", "Ensembl Gene ID", "Approved Gene Symbol", "Phenotypes",
                                        NULL};
    int col[4], rc = 0;
    st = sgv_tsv_require(&t, names, col);
    while (st == SG_OK && (rc = sgv_tsv_next(&t)) > 0) {
        if (!*t.f[col[3]]) continue;
        enum sgv_match how = SGV_MATCH_NONE;
        int32_t g          = -1;
        for (int k = 0; k < 3 && g < 0; k++) /* Entrez, then Ensembl, then the approved symbol */
            if (*t.f[col[k]])
                g = sgv_genes_find(c->genes, t.f[col[k]],
                                   k == 0   ? SGV_ID_ENTREZ
                                   : k == 1 ? SGV_ID_ENSEMBL
                                            : SGV_ID_SYMBOL,
                                   &how);
        sgv_map_stats_add(&lib->map, how);
        if (g < 0) continue;
        char *save = NULL;
        for (char *e = strtok_r(t.f[col[3]], ";", &save); e && st == SG_OK; e = strtok_r(NULL, ";", &save))
            st = om_phenotype(lib, e, (uint32_t)g, keys);
    }
    if (st == SG_OK && rc < 0) st = SG_ERR_FORMAT;
    if (st == SG_OK) sgv_src_set_version(c, lib, t.version);
    sgv_tsv_close(&t);
    return st == SG_OK ? sgv_library_finish(lib) : st;
}

static sg_status om_offline(struct sgv_source_ctx *c, struct sgv_library *lib) {
    int orgdb         = sgv_src_file_set(c, "orgdb");
    char *path        = sgv_src_file(c, orgdb ? "orgdb" : "genemap2");
    const char **keys = NULL;
    sg_status st      = path ? om_keys(c, &keys) : SG_ERR_NOT_FOUND;
    if (st == SG_OK && orgdb) {
        st = sgv_orgdb_load_omim(path, c->genes, lib);
        if (st == SG_OK) sgv_src_set_version(c, lib, lib->version);
    } else if (st == SG_OK) {
        st = om_genemap2(c, path, keys, lib);
    }
    free(keys);
    free(path);
    return st;
}

static sg_status om_batch(struct sgv_source_ctx *c, const char *base, const char *key, const char **mims,
                          const uint32_t *genes, size_t n, const char *const *keys, struct sgv_library *lib) {
    char url[2048];
    size_t o = (size_t)snprintf(url, sizeof url, "%s/entry?format=json&include=geneMap&mimNumber=", base);
    for (size_t i = 0; i < n && o < sizeof url; i++)
        o += (size_t)snprintf(url + o, sizeof url - o, "%s%s", i ? "," : "", mims[i]);
    if (o < sizeof url) o += (size_t)snprintf(url + o, sizeof url - o, "&apiKey=%s", key);
    if (o >= sizeof url) {
        memset(url, 0, sizeof url); /* held the key */
        return sg_error(SG_ERR_INVALID_ARG, "omim: the request URL is longer than %zu bytes (check api.url)",
                        sizeof url - 1);
    }
    struct sg_http_request rq = {.url = url};
    struct sgv_endpoint ep    = sgv_src_endpoint(c);
    cJSON *j;
    sg_status st = sgv_fetch_json(c->net, &ep, &rq, &j, NULL);
    memset(url, 0, sizeof url); /* held the key */
    if (st != SG_OK) return st;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "omim"), "entryList"), *e;
    if (!cJSON_IsArray(list)) st = sg_error(SG_ERR_FORMAT, "omim: /entry answer has no omim.entryList");
    const cJSON *elist = st == SG_OK ? list : NULL;
    cJSON_ArrayForEach(e, elist) {
        const cJSON *entry = cJSON_GetObjectItemCaseSensitive(e, "entry");
        const cJSON *num   = cJSON_GetObjectItemCaseSensitive(entry, "mimNumber");
        char mim[16];
        if (cJSON_IsNumber(num))
            snprintf(mim, sizeof mim, "%d", num->valueint);
        else if (cJSON_IsString(num))
            snprintf(mim, sizeof mim, "%s", num->valuestring);
        else
            continue;
        int32_t gene = -1;
        for (size_t i = 0; i < n; i++)
            if (strcmp(mims[i], mim) == 0) gene = (int32_t)genes[i];
        if (gene < 0) continue;
        const cJSON *pl = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(entry, "geneMap"),
                                                           "phenotypeMapList"),
                    *p;
        cJSON_ArrayForEach(p, pl) {
            const cJSON *pm = cJSON_GetObjectItemCaseSensitive(p, "phenotypeMap");
            const cJSON *ph = cJSON_GetObjectItemCaseSensitive(pm, "phenotype");
            const cJSON *pn = cJSON_GetObjectItemCaseSensitive(pm, "phenotypeMimNumber");
            const cJSON *mk = cJSON_GetObjectItemCaseSensitive(pm, "phenotypeMappingKey");
            if (!cJSON_IsString(ph) || !cJSON_IsNumber(pn) || !cJSON_IsNumber(mk) || st != SG_OK) continue;
            const char *name = ph->valuestring;
            if (name[0] == '{' || name[0] == '[' || name[0] == '?' || !key_wanted(keys, mk->valueint)) continue;
            char term[24];
            snprintf(term, sizeof term, "OMIM:%d", pn->valueint);
            st = sgv_library_add(lib, term, name, (uint32_t)gene);
        }
    }
    cJSON_Delete(j);
    return st;
}

static sg_status om_online(struct sgv_source_ctx *c, struct sgv_library *lib) {
    char key[256], *base = NULL;
    const char **keys = NULL;
    sg_status st      = sgv_api_key(c->src->key_env, c->env_file, key, sizeof key);
    if (st == SG_OK) st = sgv_src_api(c, &base);
    if (st == SG_OK) st = om_keys(c, &keys);
    if (st == SG_OK) sgv_src_set_version(c, lib, NULL);
    /* gene MIM numbers come from the hub (HGNC's omim_id column); 20 entries per request */
    const char *mims[20];
    uint32_t genes[20];
    char store[20][16];
    size_t n = 0, no_mim = 0;
    for (size_t i = 0; st == SG_OK && i <= c->n_background; i++) {
        if (i < c->n_background) {
            const char *m = c->genes->genes[c->background[i]].omim;
            if (!m)
                no_mim++;
            else {
                snprintf(store[n], sizeof store[n], "%.*s", (int)strcspn(m, "|"), m);
                mims[n]    = store[n];
                genes[n++] = c->background[i];
            }
        }
        if (n == 20 || (i == c->n_background && n)) {
            st = om_batch(c, base, key, mims, genes, n, keys, lib);
            n  = 0;
        }
    }
    if (st == SG_OK && no_mim == c->n_background && c->n_background)
        st = sg_error(SG_ERR_NOT_FOUND,
                      "omim: no background gene has a gene MIM number (the gene table needs HGNC's omim_id column)");
    if (st == SG_OK) st = sgv_library_finish(lib);
    memset(key, 0, sizeof key);
    free(keys);
    free(base);
    return st;
}

const struct sgv_source sgv_source_omim = {
    .name         = "omim",
    .title        = "OMIM",
    .tier         = 3,
    .licence      = "Johns Hopkins University copyright; no redistribution or derived databases without a licence. Not "
                    "redistributed.",
    .attribution  = "Online Mendelian Inheritance in Man, OMIM® (https://omim.org), Johns Hopkins University",
    .term_url     = "https://omim.org/entry/%s",
    .url_local_id = 1,
    .restricted   = 1,
    .key_env      = "OMIM_API_KEY",
    .files        = om_files,
    .options      = om_options,
    .offline_ready = om_ready,
    .api_url       = "https://api.omim.org/api",
    .api_rate      = 2,
    .per_gene_api  = 1,
    .max_term      = 1000,
    .load_offline  = om_offline,
    .load_online   = om_online,
};
