/* KEGG pathways. KEGG has no free bulk files, so offline means a GMT the user supplies (e.g.
 * MSigDB's KEGG_MEDICUS sets). Online: the KEGG REST API's link/pathway/hsa and list/pathway/hsa
 * dumps (academic use only; KEGG-derived tables must not be redistributed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validation/gmt.h"
#include "validation/sources/source.h"

static const char *const kegg_files[]   = {"gmt", NULL};
static const char *const kegg_options[] = {"organism", NULL};

static sg_status kegg_offline(struct sgv_source_ctx *c, struct sgv_library *lib) {
    return sgv_src_load_gmt(c, "gmt", SGV_GMT_ID_NAME, lib);
}

/* Every non-empty line of a KEGG dump is "a<TAB>b". */
static sg_status kegg_get(struct sgv_source_ctx *c, const char *url, char **body) {
    struct sg_http_request rq = {.url = url};
    struct sgv_endpoint ep    = sgv_src_endpoint(c);
    size_t len;
    sg_status st = sgv_fetch(c->net, &ep, &rq, body, &len, NULL);
    if (st != SG_OK) return st;
    long lineno = 0;
    for (char *p = *body; *p;) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        if (n && !memchr(p, '\t', n))
            return sg_error(SG_ERR_FORMAT, "kegg: %s: line %ld has no tab (not a KEGG list?)", url, lineno);
        p += n + (nl != NULL);
    }
    return SG_OK;
}

static sg_status kegg_online(struct sgv_source_ctx *c, struct sgv_library *lib) {
    const char *org;
    char *base = NULL, *info = NULL, *names = NULL, *links = NULL, url[1024];
    sg_status st = sgv_src_opt_str(c, "organism", "hsa", &org);
    if (st == SG_OK) st = sgv_src_api(c, &base);
    if (st == SG_OK) {
        /* "info" carries the release: "kegg  Release 110.0+/05-14, May 24" */
        snprintf(url, sizeof url, "%s/info/kegg", base);
        struct sg_http_request rq = {.url = url};
        struct sgv_endpoint ep    = sgv_src_endpoint(c);
        ep.version                = NULL; /* unversioned answers are cached for the day only */
        size_t len;
        st            = sgv_fetch(c->net, &ep, &rq, &info, &len, NULL);
        char rel[64]  = "";
        const char *r = st == SG_OK ? strstr(info, "Release ") : NULL;
        if (r) sscanf(r + 8, "%63[^ ,\r\n]", rel);
        if (st == SG_OK && !*rel) st = sg_error(SG_ERR_FORMAT, "kegg: %s: no 'Release' line", url);
        if (st == SG_OK) sgv_src_set_version(c, lib, rel);
    }
    if (st == SG_OK) {
        snprintf(url, sizeof url, "%s/list/pathway/%s", base, org);
        st = kegg_get(c, url, &names);
    }
    if (st == SG_OK) {
        snprintf(url, sizeof url, "%s/link/pathway/%s", base, org);
        st = kegg_get(c, url, &links);
    }
    /* names first, so terms carry them: "path:hsa04110<TAB>Cell cycle - Homo sapiens (human)" */
    char *save = NULL;
    for (char *l = st == SG_OK ? strtok_r(names, "\n", &save) : NULL; l && st == SG_OK;
         l       = strtok_r(NULL, "\n", &save)) {
        char *tab      = strchr(l, '\t');
        *tab           = '\0';
        const char *id = strncmp(l, "path:", 5) == 0 ? l + 5 : l;
        char *suffix   = strstr(tab + 1, " - Homo sapiens");
        if (suffix) *suffix = '\0';
        if (sgv_library_term(lib, id, tab + 1) < 0) st = SG_ERR_NO_MEMORY;
    }
    /* "hsa:7157<TAB>path:hsa04110": human KEGG gene IDs are Entrez IDs */
    for (char *l = st == SG_OK ? strtok_r(links, "\n", &save) : NULL; l && st == SG_OK;
         l       = strtok_r(NULL, "\n", &save)) {
        char *tab        = strchr(l, '\t');
        *tab             = '\0';
        const char *gene = strchr(l, ':') ? strchr(l, ':') + 1 : l;
        const char *path = strncmp(tab + 1, "path:", 5) == 0 ? tab + 6 : tab + 1;
        st               = sgv_library_add_id(lib, c->genes, path, NULL, gene, SGV_ID_ENTREZ);
    }
    if (st == SG_OK) st = sgv_library_finish(lib);
    free(info);
    free(names);
    free(links);
    free(base);
    return st;
}

const struct sgv_source sgv_source_kegg = {
    .name  = "kegg",
    .title = "KEGG pathways",
    .tier  = 0,
    .licence =
        "KEGG: academic use of the website and API only; no redistribution (KEGG_MEDICUS via MSigDB: CC BY-SA 4.0)",
    .attribution  = "KEGG (https://www.kegg.jp), Kanehisa Laboratories",
    .term_url     = "https://www.kegg.jp/pathway/%s",
    .files        = kegg_files,
    .options      = kegg_options,
    .api_url      = "https://rest.kegg.jp",
    .api_rate     = 3,
    .max_term     = 500,
    .load_offline = kegg_offline,
    .load_online  = kegg_online,
};
