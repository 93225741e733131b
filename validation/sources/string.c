/* STRING protein–protein interactions: network-level PPI enrichment of each gene set.
 * Offline: protein.links (space-separated, each edge listed both ways) at a score cut-off,
 * proteins mapped to genes through protein.info's preferred_name (or protein.aliases'
 * Ensembl_gene rows when given), the network restricted to the background before degrees are
 * counted. Online: the API's ppi_enrichment method, one request per gene set. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "validation/sources/source.h"
#include "validation/tsv.h"

static const char *const st_files[]   = {"links", "info", NULL};
static const char *const st_options[] = {"min_score", "species", "caller_identity", NULL};

static sg_status st_map_info(struct sgv_source_ctx *c, const char *path, struct sgv_strmap *prot) {
    struct sgv_tsv t;
    sg_status st = sgv_tsv_open(&t, path, '\t', 0);
    if (st != SG_OK) return st;
    static const char *const names[] = {"string_protein_id", "preferred_name", NULL};
    int col[2], rc = 0;
    st = sgv_tsv_require(&t, names, col);
    while (st == SG_OK && (rc = sgv_tsv_next(&t)) > 0) {
        int32_t g = sgv_genes_find(c->genes, t.f[col[1]], SGV_ID_SYMBOL, NULL);
        if (g >= 0) st = sgv_strmap_put(prot, t.f[col[0]], g);
    }
    if (st == SG_OK && rc < 0) st = SG_ERR_FORMAT;
    sgv_tsv_close(&t);
    return st;
}

static sg_status st_map_aliases(struct sgv_source_ctx *c, const char *path, struct sgv_strmap *prot) {
    struct sgv_tsv t;
    sg_status st = sgv_tsv_open(&t, path, '\t', 0);
    if (st != SG_OK) return st;
    static const char *const names[] = {"string_protein_id", "alias", "source", NULL};
    int col[3], rc = 0;
    st = sgv_tsv_require(&t, names, col);
    while (st == SG_OK && (rc = sgv_tsv_next(&t)) > 0) {
        if (!strstr(t.f[col[2]], "Ensembl_gene") || strncmp(t.f[col[1]], "ENSG", 4) != 0) continue;
        int32_t g = sgv_genes_find(c->genes, t.f[col[1]], SGV_ID_ENSEMBL, NULL);
        if (g >= 0) st = sgv_strmap_put(prot, t.f[col[0]], g); /* Ensembl beats the name */
    }
    if (st == SG_OK && rc < 0) st = SG_ERR_FORMAT;
    sgv_tsv_close(&t);
    return st;
}

static sg_status st_net_offline(struct sgv_source_ctx *c, const uint8_t *universe, struct sgv_ppi_net **out) {
    *out = NULL;
    double min_score;
    char *links = sgv_src_file(c, "links"), *info = sgv_src_file(c, "info");
    sg_status st           = links && info ? sgv_src_opt_num(c, "min_score", 400, &min_score) : SG_ERR_NOT_FOUND;
    struct sgv_strmap prot = {0};
    if (st == SG_OK) st = st_map_info(c, info, &prot);
    if (st == SG_OK && sgv_src_file_set(c, "aliases")) {
        char *al = sgv_src_file(c, "aliases");
        st       = al ? st_map_aliases(c, al, &prot) : SG_ERR_NOT_FOUND;
        free(al);
    }
    struct sgv_ppi_net *net = NULL;
    if (st == SG_OK) st = sgv_ppi_net_new(c->genes->n, &net);
    /* every mapped protein in the background is a node, linked or not */
    for (size_t i = 0; st == SG_OK && i < prot.cap; i++) {
        if (!prot.keys[i]) continue;
        uint32_t g = (uint32_t)prot.vals[i];
        if (!universe || universe[g]) sgv_ppi_net_add_node(net, g);
    }
    struct sgv_tsv t;
    if (st == SG_OK) st = sgv_tsv_open(&t, links, ' ', 0);
    if (st == SG_OK) {
        static const char *const names[] = {"protein1", "protein2", "combined_score", NULL};
        int col[3], rc = 0;
        st = sgv_tsv_require(&t, names, col);
        while (st == SG_OK && (rc = sgv_tsv_next(&t)) > 0) {
            char *end;
            double s = strtod(t.f[col[2]], &end);
            if (end == t.f[col[2]]) {
                st = sg_error(SG_ERR_FORMAT, "%s: line %ld: combined_score '%s' is not a number", links,
                              sgv_tsv_line(&t), t.f[col[2]]);
                break;
            }
            int32_t a, b;
            if (s < min_score || !sgv_strmap_get(&prot, t.f[col[0]], &a) || !sgv_strmap_get(&prot, t.f[col[1]], &b))
                continue;
            if (universe && (!universe[a] || !universe[b])) continue;
            st = sgv_ppi_net_add_edge(net, (uint32_t)a, (uint32_t)b);
        }
        if (st == SG_OK && rc < 0) st = SG_ERR_FORMAT;
        sgv_tsv_close(&t);
    }
    if (st == SG_OK) {
        SG_LOGI("string: %u proteins in the background, %llu edges with combined_score >= %.0f", net->n_nodes,
                (unsigned long long)net->n_edges, min_score);
        const char *slash = strrchr(links, '/');
        const char *v     = strstr(slash ? slash : links, ".v"); /* 9606.protein.links.v12.0.txt.gz */
        char ver[32]      = "";
        if (v) sscanf(v + 2, "%31[0-9.]", ver);
        size_t vl = strlen(ver);
        if (vl && ver[vl - 1] == '.') ver[vl - 1] = '\0';
        sgv_src_set_version(c, NULL, *ver ? ver : NULL);
        *out = net;
    } else {
        sgv_ppi_net_free(net);
    }
    sgv_strmap_free(&prot);
    free(links);
    free(info);
    return st;
}

static sg_status st_version(struct sgv_source_ctx *c, const char *base) {
    char url[1024];
    snprintf(url, sizeof url, "%s/json/version", base);
    struct sg_http_request rq = {.url = url};
    struct sgv_endpoint ep    = sgv_src_endpoint(c);
    ep.version                = NULL;
    cJSON *j;
    sg_status st = sgv_fetch_json(c->net, &ep, &rq, &j, NULL);
    if (st != SG_OK) return st;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(j, 0), "string_version");
    if (!cJSON_IsString(v))
        st = sg_error(SG_ERR_FORMAT, "string: %s: no string_version", url);
    else
        sgv_src_set_version(c, NULL, v->valuestring);
    cJSON_Delete(j);
    return st;
}

static sg_status st_ppi_online(struct sgv_source_ctx *c, const uint32_t *genes, size_t n, struct sgv_ppi_result *r) {
    memset(r, 0, sizeof *r);
    r->n_input = (uint32_t)n;
    char *base = NULL;
    const char *species, *caller;
    double min_score;
    sg_status st = sgv_src_api(c, &base);
    if (st == SG_OK) st = sgv_src_opt_str(c, "species", "9606", &species);
    if (st == SG_OK) st = sgv_src_opt_str(c, "caller_identity", "saeg", &caller);
    if (st == SG_OK) st = sgv_src_opt_num(c, "min_score", 400, &min_score);
    if (st == SG_OK && !c->version) st = st_version(c, base);
    size_t cap = 256 + n * 32, o = 0;
    char *body = st == SG_OK ? malloc(cap) : NULL;
    if (st == SG_OK && !body) st = sg_error(SG_ERR_NO_MEMORY, "out of memory");
    if (st == SG_OK) {
        o += (size_t)snprintf(body, cap, "identifiers=");
        for (size_t i = 0; i < n; i++) {
            char *e = sgv_url_escape(sgv_gene_label(c->genes, genes[i]));
            if (!e || o + strlen(e) + 4 >= cap) {
                free(e);
                st = sg_error(SG_ERR_NO_MEMORY, "string: identifier list too long");
                break;
            }
            o += (size_t)snprintf(body + o, cap - o, "%s%s", i ? "%0d" : "", e);
            free(e);
        }
        if (st == SG_OK)
            o += (size_t)snprintf(body + o, cap - o, "&species=%s&required_score=%.0f&caller_identity=%s", species,
                                  min_score, caller);
    }
    if (st == SG_OK) {
        char url[1024];
        snprintf(url, sizeof url, "%s/json/ppi_enrichment", base);
        static const char *const hdr[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
        struct sg_http_request rq      = {.method = "POST", .url = url, .headers = hdr, .body = body, .body_len = o};
        struct sgv_endpoint ep         = sgv_src_endpoint(c);
        cJSON *j;
        st                 = sgv_fetch_json(c->net, &ep, &rq, &j, NULL);
        const cJSON *e     = st == SG_OK ? cJSON_GetArrayItem(j, 0) : NULL;
        const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(e, "number_of_nodes");
        const cJSON *edges = cJSON_GetObjectItemCaseSensitive(e, "number_of_edges");
        const cJSON *exp   = cJSON_GetObjectItemCaseSensitive(e, "expected_number_of_edges");
        const cJSON *p     = cJSON_GetObjectItemCaseSensitive(e, "p_value");
        if (st == SG_OK &&
            !(cJSON_IsNumber(nodes) && cJSON_IsNumber(edges) && cJSON_IsNumber(exp) && cJSON_IsNumber(p)))
            st = sg_error(SG_ERR_FORMAT,
                          "string: %s: answer lacks number_of_nodes/number_of_edges/expected_number_of_edges/p_value",
                          url);
        if (st == SG_OK) {
            r->n_nodes  = (uint32_t)nodes->valuedouble;
            r->edges    = (uint64_t)edges->valuedouble;
            r->expected = exp->valuedouble;
            r->logp     = p->valuedouble > 0 ? log(p->valuedouble) : -745.0; /* the API rounds tiny p to 0 */
            if (r->logp > 0) r->logp = 0;
        }
        cJSON_Delete(j);
    }
    free(body);
    free(base);
    return st;
}

const struct sgv_source sgv_source_string = {
    .name        = "string",
    .title       = "STRING protein interactions",
    .tier        = 2,
    .licence     = "CC BY 4.0",
    .attribution = "STRING (https://string-db.org), Szklarczyk et al., Nucleic Acids Res. 2023",
    .term_url    = "https://string-db.org/network/%s",
    .files       = st_files,
    .options     = st_options,
    .api_url     = "https://version-12-0.string-db.org/api",
    .api_rate    = 1,
    .net_offline = st_net_offline,
    .ppi_online  = st_ppi_online,
};
