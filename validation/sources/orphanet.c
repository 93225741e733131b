/* Orphanet rare-disease genes: en_product6.xml read with libxml2. Kept: associations whose
 * status is "Assessed" and whose type starts with "Disease-causing"; genes by their HGNC
 * reference, else Ensembl, else symbol. Online: the Orphadata API's
 * /rd-associated-genes/genes/symbols/{symbol} (it only matches lower-case symbols). */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "validation/sources/source.h"

static const char *const or_files[]   = {"product6", NULL};
static const char *const or_options[] = {"association_prefix", "statuses", NULL};

static xmlNode *child(xmlNode *n, const char *name) {
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0) return c;
    return NULL;
}

/* Text of a child element (or of its <Name> child, for the "…Type/Name" pattern); caller frees. */
static char *child_text(xmlNode *n, const char *name, int via_name) {
    xmlNode *c = child(n, name);
    if (c && via_name) c = child(c, "Name");
    return c ? (char *)xmlNodeGetContent(c) : NULL;
}

struct or_filter {
    const char *prefix;
    const char **statuses;
};

static int or_keep(const struct or_filter *f, const char *type, const char *status) {
    if (!type || strncmp(type, f->prefix, strlen(f->prefix)) != 0) return 0;
    if (!f->statuses || !*f->statuses) return status && strcmp(status, "Assessed") == 0;
    for (const char **s = f->statuses; *s; s++)
        if (status && strcmp(status, *s) == 0) return 1;
    return 0;
}

/* The gene's best identifier: HGNC reference, then Ensembl, then symbol. */
static int32_t or_gene(struct sgv_source_ctx *c, xmlNode *gene, enum sgv_match *how, char *shown, size_t cap) {
    char *hgnc = NULL, *ens = NULL;
    for (xmlNode *r = child(child(gene, "ExternalReferenceList"), "ExternalReference"); r; r = r->next) {
        if (r->type != XML_ELEMENT_NODE) continue;
        char *src = child_text(r, "Source", 0), *ref = child_text(r, "Reference", 0);
        if (src && ref && strcmp(src, "HGNC") == 0 && !hgnc) {
            hgnc = ref;
            ref  = NULL;
        } else if (src && ref && strcmp(src, "Ensembl") == 0 && !ens) {
            ens = ref;
            ref = NULL;
        }
        xmlFree(src);
        xmlFree(ref);
    }
    char *sym = child_text(gene, "Symbol", 0);
    int32_t g = -1;
    *how      = SGV_MATCH_NONE;
    if (hgnc) g = sgv_genes_find(c->genes, hgnc, SGV_ID_HGNC, how);
    if (g < 0 && ens) g = sgv_genes_find(c->genes, ens, SGV_ID_ENSEMBL, how);
    if (g < 0 && sym) g = sgv_genes_find(c->genes, sym, SGV_ID_SYMBOL, how);
    snprintf(shown, cap, "%s", sym ? sym : hgnc ? hgnc : ens ? ens : "?");
    xmlFree(hgnc);
    xmlFree(ens);
    xmlFree(sym);
    return g;
}

static sg_status or_disorder(struct sgv_source_ctx *c, xmlNode *d, const struct or_filter *f, struct sgv_library *lib) {
    char *code = child_text(d, "OrphaCode", 0);
    if (!code) code = child_text(d, "OrphaNumber", 0); /* files before 2020 */
    char *name   = child_text(d, "Name", 0);
    sg_status st = SG_OK;
    char term[64];
    snprintf(term, sizeof term, "ORPHA:%s", code ? code : "");
    for (xmlNode *a                  = child(child(d, "DisorderGeneAssociationList"), "DisorderGeneAssociation");
         a && code && st == SG_OK; a = a->next) {
        if (a->type != XML_ELEMENT_NODE) continue;
        char *type    = child_text(a, "DisorderGeneAssociationType", 1);
        char *status  = child_text(a, "DisorderGeneAssociationStatus", 1);
        xmlNode *gene = child(a, "Gene");
        if (gene && or_keep(f, type, status)) {
            enum sgv_match how;
            char shown[128];
            int32_t g = or_gene(c, gene, &how, shown, sizeof shown);
            sgv_map_stats_add(&lib->map, how);
            st = g >= 0 ? sgv_library_add(lib, term, name, (uint32_t)g) : sgv_strmap_put(&lib->unmapped, shown, 1);
        }
        xmlFree(type);
        xmlFree(status);
    }
    xmlFree(code);
    xmlFree(name);
    return st;
}

static sg_status or_filter_opts(struct sgv_source_ctx *c, struct or_filter *f) {
    size_t n;
    sg_status st = sgv_src_opt_str(c, "association_prefix", "Disease-causing", &f->prefix);
    if (st == SG_OK) st = sgv_cfg_str_list(c->cfg, "statuses", &f->statuses, &n);
    return st;
}

static sg_status or_offline(struct sgv_source_ctx *c, struct sgv_library *lib) {
    char *path = sgv_src_file(c, "product6");
    if (!path) return SG_ERR_NOT_FOUND;
    struct or_filter f = {0};
    sg_status st       = or_filter_opts(c, &f);
    xmlDoc *doc        = st == SG_OK ? xmlReadFile(path, NULL,
                                                   XML_PARSE_NONET | XML_PARSE_HUGE | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
                                     : NULL;
    if (st == SG_OK && !doc) {
        const xmlError *e = xmlGetLastError();
        st                = sg_error(SG_ERR_FORMAT, "%s: not well-formed XML%s%s (line %d)", path, e ? ": " : "",
                      e && e->message ? e->message : "", e ? e->line : 0);
    }
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (st == SG_OK && (!root || strcmp((const char *)root->name, "JDBOR") != 0))
        st = sg_error(SG_ERR_FORMAT, "%s: root element is <%s>, expected <JDBOR> (Orphadata product 6)", path,
                      root ? (const char *)root->name : "none");
    xmlNode *list = root ? child(root, "DisorderList") : NULL;
    if (st == SG_OK && !list) st = sg_error(SG_ERR_FORMAT, "%s: no <DisorderList>", path);
    for (xmlNode *d = list ? list->children : NULL; d && st == SG_OK; d = d->next)
        if (d->type == XML_ELEMENT_NODE && strcmp((const char *)d->name, "Disorder") == 0)
            st = or_disorder(c, d, &f, lib);
    if (st == SG_OK) {
        xmlChar *date = xmlGetProp(root, (const xmlChar *)"date");
        sgv_src_set_version(c, lib, (const char *)date);
        xmlFree(date);
        st = sgv_library_finish(lib);
    }
    if (doc) xmlFreeDoc(doc);
    free(f.statuses);
    free(path);
    return st;
}

struct or_online {
    char *base;
    struct or_filter f;
};

static const char *jstr(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static sg_status or_gene_online(struct sgv_source_ctx *c, uint32_t gene, const char *symbol, struct sgv_library *lib,
                                void *user) {
    struct or_online *o = user;
    char low[128], url[1024];
    size_t i = 0;
    for (; symbol[i] && i + 1 < sizeof low; i++)
        low[i] = (char)(symbol[i] >= 'A' && symbol[i] <= 'Z' ? symbol[i] + 32 : symbol[i]);
    low[i]    = '\0';
    char *esc = sgv_url_escape(low);
    if (!esc) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    snprintf(url, sizeof url, "%s/rd-associated-genes/genes/symbols/%s", o->base, esc);
    free(esc);
    struct sg_http_request rq = {.url = url, .accept_status = 404};
    struct sgv_endpoint ep    = sgv_src_endpoint(c);
    cJSON *j;
    sg_status st = sgv_fetch_json(c->net, &ep, &rq, &j, NULL);
    if (st != SG_OK || !j) return st;
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "data"), "results"), *d;
    if (!res) st = sg_error(SG_ERR_FORMAT, "orphanet: %s: answer has no data.results", url);
    /* one disorder comes back as an object, several as a list */
    cJSON *one         = cJSON_IsObject(res) ? cJSON_CreateArrayReference(res) : NULL;
    const cJSON *dlist = st != SG_OK ? NULL : one ? one : res;
    cJSON_ArrayForEach(d, dlist) {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(d, "ORPHAcode");
        const char *name  = jstr(d, "Preferred term");
        char term[64];
        if (cJSON_IsNumber(code))
            snprintf(term, sizeof term, "ORPHA:%d", code->valueint);
        else if (cJSON_IsString(code))
            snprintf(term, sizeof term, "ORPHA:%s", code->valuestring);
        else
            continue;
        const cJSON *assocs = cJSON_GetObjectItemCaseSensitive(d, "DisorderGeneAssociation"), *a;
        cJSON_ArrayForEach(a, assocs) {
            const cJSON *g = cJSON_GetObjectItemCaseSensitive(a, "Gene");
            const char *gs = jstr(g, "Symbol");
            if (gs && strcasecmp(gs, symbol) != 0) continue; /* the answer lists other genes of the disorder too */
            if (!or_keep(&o->f, jstr(a, "DisorderGeneAssociationType"), jstr(a, "DisorderGeneAssociationStatus")))
                continue;
            if (st == SG_OK) st = sgv_library_add(lib, term, name, gene);
        }
    }
    cJSON_Delete(one);
    cJSON_Delete(j);
    return st;
}

static sg_status or_online(struct sgv_source_ctx *c, struct sgv_library *lib) {
    struct or_online o = {0};
    sg_status st       = or_filter_opts(c, &o.f);
    if (st == SG_OK) st = sgv_src_api(c, &o.base);
    if (st == SG_OK) st = sgv_src_annotate(c, SGV_ID_SYMBOL, or_gene_online, lib, &o);
    free(o.f.statuses);
    free(o.base);
    return st;
}

const struct sgv_source sgv_source_orphanet = {
    .name         = "orphanet",
    .title        = "Orphanet",
    .tier         = 3,
    .licence      = "CC BY 4.0",
    .attribution  = "Orphanet / Orphadata (https://www.orphadata.com), INSERM",
    .term_url     = "https://www.orpha.net/en/disease/detail/%s",
    .url_local_id = 1,
    .files        = or_files,
    .options      = or_options,
    .api_url      = "https://api.orphadata.com",
    .api_rate     = 5,
    .per_gene_api = 1,
    .max_term     = 1000,
    .load_offline = or_offline,
    .load_online  = or_online,
};
