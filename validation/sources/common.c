#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "validation/fsutil.h"
#include "validation/gmt.h"
#include "validation/sources/source.h"

char *sgv_src_file(struct sgv_source_ctx *c, const char *key) {
    char k[96];
    snprintf(k, sizeof k, "files.%s", key);
    const char *rel;
    if (sgv_cfg_str(c->cfg, k, NULL, &rel) != SG_OK) return NULL;
    if (!rel || !*rel) {
        sg_error(SG_ERR_NOT_FOUND, "%s.%s: not set (path of the %s file for offline use)", c->cfg.path, k, key);
        return NULL;
    }
    char *p = sgv_path_join(c->data_dir, rel);
    if (!p) sg_error(SG_ERR_NO_MEMORY, "out of memory");
    return p;
}

int sgv_src_offline_ready(struct sgv_source_ctx *c, char *why, size_t cap) {
    if (c->src->offline_ready) return c->src->offline_ready(c, why, cap);
    return sgv_src_files_exist(c, c->src->files, why, cap);
}

int sgv_src_files_exist(struct sgv_source_ctx *c, const char *const *keys, char *why, size_t cap) {
    for (const char *const *k = keys; k && *k; k++) {
        char *p = sgv_src_file(c, *k);
        if (!p) {
            snprintf(why, cap, "%s", sg_last_error());
            return 0;
        }
        int ok = sgv_file_exists(p);
        if (!ok) snprintf(why, cap, "%s.files.%s: %s does not exist", c->cfg.path, *k, p);
        free(p);
        if (!ok) return 0;
    }
    return 1;
}

sg_status sgv_src_set_rate(struct sgv_source_ctx *c, const char *url, double per_s) {
    /* the limiter is per host, so it also holds across this source's different endpoints */
    const char *h  = strstr(url, "://");
    char host[256] = "";
    if (h) {
        h += 3;
        size_t n = strcspn(h, ":/?#");
        snprintf(host, sizeof host, "%.*s", (int)(n < sizeof host ? n : sizeof host - 1), h);
    }
    return *host && c->net ? sg_http_set_rate(c->net->http, host, per_s) : SG_OK;
}

sg_status sgv_src_api(struct sgv_source_ctx *c, char **url) {
    *url = NULL;
    const char *u;
    double rate;
    sg_status st = sgv_cfg_str(c->cfg, "api.url", c->src->api_url, &u);
    if (st == SG_OK) st = sgv_cfg_num(c->cfg, "api.rate_per_s", c->src->api_rate > 0 ? c->src->api_rate : 5, &rate);
    if (st != SG_OK) return st;
    if (!u) return sg_error(SG_ERR_UNSUPPORTED, "%s has no online API; give files.* for offline use", c->src->name);
    if (rate <= 0) return sg_error(SG_ERR_INVALID_ARG, "%s.api.rate_per_s: must be > 0", c->cfg.path);
    if ((st = sgv_src_set_rate(c, u, rate)) != SG_OK) return st;
    *url = strdup(u);
    return *url ? SG_OK : sg_error(SG_ERR_NO_MEMORY, "out of memory");
}

struct sgv_endpoint sgv_src_endpoint(const struct sgv_source_ctx *c) {
    struct sgv_endpoint ep = {.source = c->src->name, .version = c->version, .restricted = c->src->restricted};
    return ep;
}

void sgv_src_set_version(struct sgv_source_ctx *c, struct sgv_library *lib, const char *found) {
    const char *v = NULL;
    sgv_cfg_str(c->cfg, "version", NULL, &v);
    sg_error_clear();
    if (!v) v = found;
    free(c->version);
    c->version = v ? strdup(v) : NULL;
    if (lib) sgv_library_set_version(lib, c->version);
}

char *sgv_url_escape(const char *s) {
    size_t n = strlen(s);
    char *o = malloc(3 * n + 1), *w = o;
    if (!o) return NULL;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~')
            *w++ = (char)ch;
        else
            w += sprintf(w, "%%%02X", ch);
    }
    *w = '\0';
    return o;
}

sg_status sgv_src_opt_str(struct sgv_source_ctx *c, const char *key, const char *def, const char **out) {
    return sgv_cfg_str(c->cfg, key, def, out);
}

sg_status sgv_src_opt_num(struct sgv_source_ctx *c, const char *key, double def, double *out) {
    return sgv_cfg_num(c->cfg, key, def, out);
}

void sgv_src_log_mapping(const struct sgv_source_ctx *c, const struct sgv_library *lib) {
    const struct sgv_map_stats *m = &lib->map;
    SG_LOGI("%s: %zu terms; gene identifiers: %u met, %u mapped, %u unmapped (%zu distinct), %u ambiguous",
            c->src->name, lib->n_terms, m->total, sgv_map_stats_mapped(m), m->by[SGV_MATCH_NONE], lib->unmapped.count,
            m->by[SGV_MATCH_AMBIGUOUS]);
}

int sgv_src_file_set(struct sgv_source_ctx *c, const char *key) {
    char k[96];
    snprintf(k, sizeof k, "files.%s", key);
    return sgv_cfg_present(sgv_cfg_child(c->cfg, k));
}

const char *sgv_gene_id_of(const struct sgv_genes *g, uint32_t gene, enum sgv_id_kind kind) {
    const struct sgv_gene *e = &g->genes[gene];
    switch (kind) {
    case SGV_ID_ENSEMBL: return e->ensembl;
    case SGV_ID_ENTREZ: return e->entrez;
    case SGV_ID_HGNC: return e->hgnc_id;
    default: return e->symbol;
    }
}

sg_status sgv_src_each_gene(struct sgv_source_ctx *c, enum sgv_id_kind kind, sgv_gene_fn fn, struct sgv_library *lib,
                            void *user) {
    size_t done = 0, skipped = 0;
    for (size_t i = 0; i < c->n_background; i++) {
        uint32_t g     = c->background[i];
        const char *id = sgv_gene_id_of(c->genes, g, kind);
        if (!id || !*id) {
            skipped++;
            continue;
        }
        sg_status st = fn(c, g, id, lib, user);
        if (st != SG_OK) return st;
        if (++done % 500 == 0) SG_LOGI("%s: %zu/%zu genes annotated online", c->src->name, done, c->n_background);
    }
    if (skipped)
        SG_LOGW("%s: %zu background genes have no identifier this API takes; not queried", c->src->name, skipped);
    return SG_OK;
}

sg_status sgv_src_annotate(struct sgv_source_ctx *c, enum sgv_id_kind kind, sgv_gene_fn fn, struct sgv_library *lib,
                           void *user) {
    sgv_src_set_version(c, lib, NULL);
    sg_status st = sgv_src_each_gene(c, kind, fn, lib, user);
    return st == SG_OK ? sgv_library_finish(lib) : st;
}

sg_status sgv_src_load_gmt(struct sgv_source_ctx *c, const char *key, enum sgv_gmt_id id_from,
                           struct sgv_library *lib) {
    char *path   = sgv_src_file(c, key);
    sg_status st = path ? sgv_gmt_load(path, c->genes, SGV_ID_ANY, id_from, lib) : SG_ERR_NOT_FOUND;
    if (st == SG_OK) sgv_src_set_version(c, lib, NULL);
    free(path);
    return st;
}
