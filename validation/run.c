#include "core/fs.h"
#include "validation/run.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "validation/config.h"
#include "validation/evaluate.h"
#include "validation/features.h"
#include "validation/fsutil.h"
#include "validation/gmt.h"
#include "validation/online.h"
#include "validation/orgdb.h"
#include "validation/sources/source.h"

#ifndef SAEG_VERSION
#define SAEG_VERSION "0.1.0"
#endif

#define SGV_SCHEMA_SOURCE  "saeg.validation.source/1"
#define SGV_SCHEMA_SUMMARY "saeg.validation.summary/1"

struct sgv_run_opts sgv_run_opts_default(void) {
    struct sgv_run_opts o = {
        .top_n = -1, .min_term = -1, .max_term = -1, .min_overlap = -1, .null_repeats = -1, .seed = -1, .fdr = -1};
    return o;
}

/* Everything a run needs besides the sources themselves. */
struct run {
    const struct sgv_run_opts *o;
    struct sgv_config *cfg;
    struct sgv_cfg root;
    const char *data_dir, *env_file;
    char *cache_dir;
    struct sgv_stats_opts so;
    unsigned top_n;
    unsigned online_max_genes; /* per-gene APIs refuse larger backgrounds (hours of requests) */
    struct sgv_online_opts net_opts;
    struct sgv_online *net; /* created on first online use; never when offline */
    struct sgv_genes *genes;
    struct sgv_features fs;
};

static const char *const top_keys[]  = {"version",    "data_dir", "cache_dir", "env_file",         "gene_ids",  "query",
                                        "statistics", "null",     "http",      "online_max_genes", "databases", NULL};
static const char *const stat_keys[] = {"min_term_size", "max_term_size",         "min_overlap",     "fdr",
                                        "report_p",      "max_terms_per_feature", "min_query_genes", NULL};
static const char *const db_common[] = {"enabled", "mode",          "files",         "api",
                                        "version", "min_term_size", "max_term_size", NULL};

/* Rejects unknown settings in databases.<name> before anything runs: typos must not pass. */
static sg_status check_source_keys(const struct sgv_source *src, struct sgv_cfg db) {
    const char *allowed[32];
    size_t na = 0;
    for (const char *const *k = db_common; *k; k++) allowed[na++] = *k;
    for (const char *const *k = src->options; k && *k && na < 31; k++) allowed[na++] = *k;
    allowed[na] = NULL;
    return sgv_cfg_check_keys(db, allowed);
}

static sg_status read_settings(struct run *r) {
    const struct sgv_run_opts *o = r->o;
    r->so                        = sgv_stats_opts_default();
    r->top_n                     = 100;
    r->online_max_genes          = 2000;
    r->net_opts                  = sgv_online_opts_default();
    r->net_opts.http.user_agent  = "saeg/" SAEG_VERSION " (sae-genomics biological validation)";
    sg_status st                 = SG_OK;
    if (r->cfg) {
        struct sgv_cfg root = r->root;
        unsigned u;
        int b;
        st = sgv_cfg_check_keys(root, top_keys);
        if (st == SG_OK) st = sgv_cfg_check_keys(sgv_cfg_child(root, "statistics"), stat_keys);
        if (st == SG_OK) st = sgv_cfg_str(root, "data_dir", NULL, &r->data_dir);
        const char *cd = NULL;
        if (st == SG_OK) st = sgv_cfg_str(root, "cache_dir", NULL, &cd);
        if (st == SG_OK && cd && *cd) r->cache_dir = strdup(cd);
        if (st == SG_OK) st = sgv_cfg_str(root, "env_file", NULL, &r->env_file);
        struct sgv_cfg s = sgv_cfg_child(root, "statistics");
        if (st == SG_OK) st = sgv_cfg_uint(s, "min_term_size", r->so.enrich.min_term, &r->so.enrich.min_term);
        if (st == SG_OK) st = sgv_cfg_uint(s, "max_term_size", r->so.enrich.max_term, &r->so.enrich.max_term);
        if (st == SG_OK) st = sgv_cfg_uint(s, "min_overlap", r->so.enrich.min_overlap, &r->so.enrich.min_overlap);
        if (st == SG_OK) st = sgv_cfg_num(s, "fdr", r->so.fdr, &r->so.fdr);
        if (st == SG_OK) st = sgv_cfg_num(s, "report_p", r->so.report_p, &r->so.report_p);
        if (st == SG_OK) st = sgv_cfg_uint(s, "max_terms_per_feature", r->so.max_terms, &r->so.max_terms);
        if (st == SG_OK) st = sgv_cfg_uint(s, "min_query_genes", r->so.min_query, &r->so.min_query);
        if (st == SG_OK) st = sgv_cfg_uint(sgv_cfg_child(root, "query"), "top_n", r->top_n, &r->top_n);
        if (st == SG_OK) st = sgv_cfg_uint(root, "online_max_genes", r->online_max_genes, &r->online_max_genes);
        if (st == SG_OK)
            st = sgv_cfg_uint(sgv_cfg_child(root, "null"), "repeats", r->so.null_repeats, &r->so.null_repeats);
        if (st == SG_OK) st = sgv_cfg_uint(sgv_cfg_child(root, "null"), "seed", (unsigned)r->so.seed, &u);
        if (st == SG_OK) r->so.seed = u;
        struct sgv_cfg h        = sgv_cfg_child(root, "http");
        struct sg_http_opts *ho = &r->net_opts.http;
        if (st == SG_OK) st = sgv_cfg_str(h, "user_agent", ho->user_agent, &ho->user_agent);
        if (st == SG_OK) st = sgv_cfg_num(h, "connect_timeout_s", ho->connect_timeout_s, &ho->connect_timeout_s);
        if (st == SG_OK) st = sgv_cfg_num(h, "timeout_s", ho->timeout_s, &ho->timeout_s);
        if (st == SG_OK) st = sgv_cfg_uint(h, "max_tries", (unsigned)ho->max_tries, &u);
        if (st == SG_OK) ho->max_tries = (int)u;
        if (st == SG_OK) st = sgv_cfg_num(h, "backoff_s", ho->backoff_s, &ho->backoff_s);
        if (st == SG_OK) st = sgv_cfg_num(h, "retry_after_max_s", ho->retry_after_max_s, &ho->retry_after_max_s);
        if (st == SG_OK) st = sgv_cfg_bool(h, "cache", 1, &b);
        if (st == SG_OK) r->net_opts.no_cache = !b;
    }
    if (o->data_dir) r->data_dir = o->data_dir;
    if (o->cache_dir) {
        free(r->cache_dir);
        r->cache_dir = strdup(o->cache_dir);
    }
    if (o->no_cache) r->net_opts.no_cache = 1;
    if (o->top_n >= 0) r->top_n = (unsigned)o->top_n;
    if (o->min_term >= 0) r->so.enrich.min_term = (uint32_t)o->min_term;
    if (o->max_term >= 0) r->so.enrich.max_term = (uint32_t)o->max_term;
    if (o->min_overlap >= 0) r->so.enrich.min_overlap = (uint32_t)o->min_overlap;
    if (o->null_repeats >= 0) r->so.null_repeats = (unsigned)o->null_repeats;
    if (o->seed >= 0) r->so.seed = (uint64_t)o->seed;
    if (o->fdr >= 0) r->so.fdr = o->fdr;
    if (st == SG_OK && (r->so.fdr <= 0 || r->so.fdr >= 1))
        st = sg_error(SG_ERR_INVALID_ARG, "statistics.fdr: %g is not in (0, 1)", r->so.fdr);
    if (st == SG_OK && r->so.enrich.min_term > r->so.enrich.max_term)
        st = sg_error(SG_ERR_INVALID_ARG, "statistics: min_term_size %u > max_term_size %u", r->so.enrich.min_term,
                      r->so.enrich.max_term);
    r->net_opts.cache_dir = r->cache_dir;
    return st;
}

static sg_status run_net(struct run *r) {
    if (r->o->offline)
        return sg_error(SG_ERR_INVALID_ARG, "internal: a network client was requested in an offline run");
    if (r->net) return SG_OK;
    return sgv_online_new(&r->net_opts, &r->net);
}

/* The gene table: --gene-table, else gene_ids.hgnc / gene_ids.orgdb, else (online) HGNC's file. */
static sg_status load_gene_table(struct run *r, int raw_ok) {
    const char *given = r->o->gene_table, *hgnc = NULL, *orgdb = NULL, *url = NULL;
    sg_status st = SG_OK;
    if (r->cfg) {
        struct sgv_cfg gi               = sgv_cfg_child(r->root, "gene_ids");
        static const char *const keys[] = {"hgnc", "orgdb", "hgnc_url", NULL};
        st                              = sgv_cfg_check_keys(gi, keys);
        if (st == SG_OK) st = sgv_cfg_str(gi, "hgnc", NULL, &hgnc);
        if (st == SG_OK) st = sgv_cfg_str(gi, "orgdb", NULL, &orgdb);
        if (st == SG_OK)
            st = sgv_cfg_str(gi, "hgnc_url",
                             "https://storage.googleapis.com/public-download-files/hgnc/tsv/tsv/hgnc_complete_set.txt",
                             &url);
        if (st != SG_OK) return st;
    }
    char *path   = NULL;
    int is_orgdb = 0;
    if (given) {
        path     = strdup(given);
        size_t n = strlen(given);
        is_orgdb = n > 7 && strcasecmp(given + n - 7, ".sqlite") == 0;
    } else if (hgnc || orgdb) {
        path     = sgv_path_join(r->data_dir, hgnc ? hgnc : orgdb);
        is_orgdb = !hgnc;
    } else if (raw_ok) {
        return sgv_genes_new_raw(&r->genes);
    } else {
        return sg_error(SG_ERR_INVALID_ARG,
                        "%s: gene_ids.hgnc is not set (path of hgnc_complete_set.txt), and --gene-table was not given",
                        r->cfg ? sgv_config_path(r->cfg) : "config");
    }
    if (!path) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    if (!is_orgdb && !sgv_file_exists(path) && !r->o->offline && !given) {
        SG_LOGI("gene table %s not found: downloading HGNC's complete set", path);
        struct sgv_endpoint ep = {.source = "hgnc"};
        char *dl               = NULL;
        st                     = run_net(r);
        if (st == SG_OK) st = sgv_download(r->net, &ep, url, "hgnc_complete_set.txt", &dl);
        if (st == SG_OK) {
            free(path);
            path = dl;
        }
    }
    if (st == SG_OK) st = is_orgdb ? sgv_orgdb_load_genes(path, &r->genes) : sgv_genes_load_hgnc(path, &r->genes);
    if (st == SG_OK) SG_LOGI("gene table: %u genes from %s", r->genes->n, r->genes->origin);
    free(path);
    return st;
}

static cJSON *map_stats_json(const struct sgv_map_stats *m) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "total", m->total);
    cJSON_AddNumberToObject(o, "mapped", sgv_map_stats_mapped(m));
    cJSON_AddNumberToObject(o, "unmapped", m->by[SGV_MATCH_NONE]);
    cJSON_AddNumberToObject(o, "ambiguous", m->by[SGV_MATCH_AMBIGUOUS]);
    cJSON *by = cJSON_AddObjectToObject(o, "by");
    for (int k = SGV_MATCH_ENSEMBL; k < SGV_MATCH_AMBIGUOUS; k++)
        if (m->by[k]) cJSON_AddNumberToObject(by, sgv_match_name((enum sgv_match)k), m->by[k]);
    return o;
}

static cJSON *stats_json(const struct sgv_stats_opts *so, int ppi) {
    cJSON *s = cJSON_CreateObject();
    if (ppi) {
        cJSON_AddStringToObject(
            s, "test",
            "PPI enrichment: observed edges among the set vs a degree-preserving Poisson null (STRING method)");
        cJSON_AddStringToObject(s, "correction", "Benjamini-Hochberg across features");
    } else {
        cJSON_AddStringToObject(s, "test", "one-sided hypergeometric (Fisher's exact test, alternative greater)");
        cJSON_AddStringToObject(s, "correction", "Benjamini-Hochberg");
        cJSON *sc = cJSON_AddArrayToObject(s, "scopes");
        cJSON_AddItemToArray(sc, cJSON_CreateString("per_feature: q_bh over the source's testable terms"));
        cJSON_AddItemToArray(sc, cJSON_CreateString("global: q_bh_global over all features x testable terms"));
        cJSON_AddNumberToObject(s, "min_term_size", so->enrich.min_term);
        cJSON_AddNumberToObject(s, "max_term_size", so->enrich.max_term);
        cJSON_AddNumberToObject(s, "min_overlap", so->enrich.min_overlap);
        cJSON_AddNumberToObject(s, "report_p", so->report_p);
        cJSON_AddNumberToObject(s, "max_terms_per_feature", so->max_terms);
        cJSON_AddStringToObject(s, "odds_ratio", "Haldane-Anscombe: +0.5 on every cell");
    }
    cJSON_AddNumberToObject(s, "fdr", so->fdr);
    cJSON_AddNumberToObject(s, "min_query_genes", so->min_query);
    return s;
}

/* Per-source files can hold 16k features: written compact; summary.json is printed for people. */
static sg_status write_json(const char *path, cJSON *doc, int pretty) {
    char *text = pretty ? cJSON_Print(doc) : cJSON_PrintUnformatted(doc);
    if (!text) return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory writing JSON", path);
    size_t n     = strlen(text);
    text[n]      = '\n';
    sg_status st = sgv_write_file_atomic(path, text, n + 1);
    cJSON_free(text);
    return st;
}

static int source_selected(const char *list, const char *name) {
    if (!list) return 1;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, name, n) == 0) return 1;
        p += len + (p[len] == ',');
    }
    return 0;
}

static sg_status ppi_offline_fn(void *net, const uint32_t *genes, size_t n, struct sgv_ppi_result *r) {
    return sgv_ppi_enrich(net, genes, n, r);
}

static sg_status ppi_online_fn(void *ctx, const uint32_t *genes, size_t n, struct sgv_ppi_result *r) {
    struct sgv_source_ctx *c = ctx;
    return c->src->ppi_online(c, genes, n, r);
}

/* Loads one source and evaluates it; *why explains a skip. Returns SG_OK for done or skipped. */
static sg_status run_source(struct run *r, const struct sgv_source *src, cJSON *doc, struct sgv_eval_summary *sum,
                            char *why, size_t cap, const char **mode_out) {
    struct sgv_source_ctx c = {.cfg          = sgv_cfg_child(sgv_cfg_child(r->root, "databases"), src->name),
                               .data_dir     = r->data_dir,
                               .env_file     = r->env_file,
                               .genes        = r->genes,
                               .background   = r->fs.background,
                               .n_background = r->fs.n_background,
                               .src          = src};
    why[0]                  = '\0';
    const char *mode;
    sg_status st = sgv_cfg_str(c.cfg, "mode", "auto", &mode);
    if (st != SG_OK) return st;
    if (strcmp(mode, "auto") != 0 && strcmp(mode, "offline") != 0 && strcmp(mode, "online") != 0)
        return sg_error(SG_ERR_INVALID_ARG, "%s.mode: '%s' (expected auto, offline or online)", c.cfg.path, mode);
    char not_ready[512];
    int ready = sgv_src_offline_ready(&c, not_ready, sizeof not_ready);
    sg_error_clear();
    int online = 0;
    if (strcmp(mode, "online") == 0 || (strcmp(mode, "auto") == 0 && !ready)) {
        if (r->o->offline) {
            snprintf(why, cap, "offline run and no offline files (%s)", not_ready);
            return SG_OK;
        }
        if (!src->load_online && !src->ppi_online) {
            snprintf(why, cap, "no offline files (%s) and %s has no online API", not_ready, src->name);
            return SG_OK;
        }
        char key[512];
        if (src->key_env && sgv_api_key(src->key_env, r->env_file, key, sizeof key) != SG_OK) {
            snprintf(why, cap, "online use needs an API key: %s", sg_last_error());
            sg_error_clear();
            return SG_OK;
        }
        memset(key, 0, sizeof key);
        if (src->per_gene_api && r->fs.n_background > r->online_max_genes) {
            snprintf(why, cap,
                     "no offline files (%s); annotating %zu background genes through the API means about "
                     "that many requests: give the bulk files, or raise online_max_genes (now %u) to accept the cost",
                     not_ready, r->fs.n_background, r->online_max_genes);
            return SG_OK;
        }
        online = 1;
    } else if (!ready) {
        return sg_error(SG_ERR_NOT_FOUND, "%s: mode is offline but %s", src->name, not_ready);
    }
    *mode_out = online ? "online" : "offline";
    if (online && (st = run_net(r)) != SG_OK) return st;
    c.net                    = online ? r->net : NULL;
    struct sgv_stats_opts so = r->so;
    unsigned u;
    if ((st = sgv_cfg_uint(c.cfg, "min_term_size", so.enrich.min_term, &u)) != SG_OK) return st;
    so.enrich.min_term = u;
    if (r->o->max_term >= 0)
        u = (unsigned)r->o->max_term;
    else if ((st = sgv_cfg_uint(c.cfg, "max_term_size", src->max_term ? src->max_term : so.enrich.max_term, &u)) !=
             SG_OK)
        return st;
    so.enrich.max_term = u;
    SG_LOGI("%s: loading (%s)", src->name, *mode_out);
    if (src->net_offline || src->ppi_online) {
        cJSON_AddItemToObject(doc, "statistics", stats_json(&so, 1));
        uint8_t *in_v = calloc(r->genes->n + 1, 1);
        if (!in_v) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
        for (size_t i = 0; i < r->fs.n_background; i++) in_v[r->fs.background[i]] = 1;
        if (!online) {
            struct sgv_ppi_net *net = NULL;
            if (src->net_offline)
                st = src->net_offline(&c, in_v, &net);
            else
                st = sg_error(SG_ERR_UNSUPPORTED, "%s: no offline network loader", src->name);
            uint32_t *pool = NULL;
            size_t np      = 0;
            if (st == SG_OK && !(pool = malloc((net->n_nodes + 1) * sizeof *pool)))
                st = sg_error(SG_ERR_NO_MEMORY, "out of memory");
            for (uint32_t g = 0; st == SG_OK && g < net->n_hub; g++)
                if (net->node[g]) pool[np++] = g;
            if (st == SG_OK)
                st = sgv_eval_ppi(ppi_offline_fn, net, &r->fs, net->node, pool, np, r->genes, &so, src->name, doc, sum);
            free(pool);
            sgv_ppi_net_free(net);
        } else {
            st = sgv_eval_ppi(ppi_online_fn, &c, &r->fs, in_v, r->fs.background, r->fs.n_background, r->genes, &so,
                              src->name, doc, sum);
        }
        free(in_v);
    } else {
        struct sgv_library lib;
        sgv_library_init(&lib, src->name);
        st = online ? src->load_online(&c, &lib) : src->load_offline(&c, &lib);
        if (st == SG_OK) {
            sgv_src_log_mapping(&c, &lib);
            cJSON *gm = map_stats_json(&lib.map);
            cJSON_AddNumberToObject(gm, "distinct_unmapped", (double)lib.unmapped.count);
            cJSON_AddItemToObject(doc, "source_gene_ids", gm);
            cJSON_AddItemToObject(doc, "statistics", stats_json(&so, 0));
            st = sgv_eval_terms(&lib, &r->fs, r->fs.background, r->fs.n_background, r->genes, &so, src, doc, sum);
        }
        sgv_library_free(&lib);
    }
    if (c.version)
        cJSON_AddStringToObject(doc, "version", c.version);
    else
        cJSON_AddNullToObject(doc, "version");
    free(c.version);
    return st;
}

static cJSON *doc_header(const struct sgv_source *src, const char *mode) {
    cJSON *doc = cJSON_CreateObject();
    char when[21];
    sgv_now_iso(when);
    cJSON_AddStringToObject(doc, "schema", SGV_SCHEMA_SOURCE);
    cJSON_AddStringToObject(doc, "source", src ? src->name : "gene_sets");
    cJSON_AddStringToObject(doc, "title", src ? src->title : "user gene sets");
    cJSON_AddNumberToObject(doc, "tier", src ? src->tier : 0);
    cJSON_AddStringToObject(doc, "kind",
                            src && (src->net_offline || src->ppi_online) ? "ppi_network" : "term_enrichment");
    cJSON_AddStringToObject(doc, "mode", mode);
    if (src) {
        cJSON_AddStringToObject(doc, "licence", src->licence);
        cJSON_AddStringToObject(doc, "attribution", src->attribution);
    }
    cJSON_AddStringToObject(doc, "generated_at", when);
    cJSON_AddStringToObject(doc, "saeg_version", SAEG_VERSION);
    return doc;
}

static void add_fraction(cJSON *o, const char *key, size_t num, size_t den) {
    if (den)
        cJSON_AddNumberToObject(o, key, (double)num / (double)den);
    else
        cJSON_AddNullToObject(o, key);
}

static sg_status run_results(struct run *r, int *failed) {
    const struct sgv_run_opts *o = r->o;
    char *fga                    = sgv_path_join(o->results_dir, "feature_gene_associations.json");
    char *outdir                 = sgv_path_join(o->results_dir, "validation");
    sg_status st                 = fga && outdir ? SG_OK : sg_error(SG_ERR_NO_MEMORY, "out of memory");
    if (st == SG_OK) st = load_gene_table(r, 0);
    if (st == SG_OK) st = sgv_features_load_json(fga, r->genes, r->top_n, &r->fs);
    if (st == SG_OK && o->background) st = sgv_background_load(o->background, r->genes, &r->fs);
    if (st == SG_OK && !r->fs.background)
        st = sg_error(SG_ERR_FORMAT,
                      "%s: no \"background_genes\" (the genes the model can see); add them or pass --background FILE",
                      fga);
    if (st == SG_OK) {
        SG_LOGI("features: %zu (%zu without positive-score genes); query genes: %u listed, %u mapped, %u unmapped, %u "
                "ambiguous",
                r->fs.n, r->fs.n_empty, r->fs.map.total, sgv_map_stats_mapped(&r->fs.map), r->fs.map.by[SGV_MATCH_NONE],
                r->fs.map.by[SGV_MATCH_AMBIGUOUS]);
        SG_LOGI("background: %u identifiers, %zu genes mapped", r->fs.bg_map.total, r->fs.n_background);
        st = sg_mkdir_p(outdir);
    }
    cJSON *summary = cJSON_CreateObject(), *srcs = NULL;
    uint8_t *any = calloc(r->fs.n + 1, 1), *any_null = calloc(r->fs.n + 1, 1);
    size_t ran = 0;
    if (st == SG_OK && (!any || !any_null)) st = sg_error(SG_ERR_NO_MEMORY, "out of memory");
    if (st == SG_OK) {
        char when[21];
        sgv_now_iso(when);
        cJSON_AddStringToObject(summary, "schema", SGV_SCHEMA_SUMMARY);
        cJSON_AddStringToObject(summary, "generated_at", when);
        cJSON_AddStringToObject(summary, "saeg_version", SAEG_VERSION);
        cJSON *in = cJSON_AddObjectToObject(summary, "input");
        cJSON_AddStringToObject(in, "feature_file", fga);
        cJSON_AddNumberToObject(in, "features", (double)r->fs.n);
        cJSON_AddNumberToObject(in, "features_without_genes", (double)r->fs.n_empty);
        cJSON_AddStringToObject(in, "rank_by", r->fs.rank_by ? r->fs.rank_by : "mean");
        cJSON_AddNumberToObject(in, "top_n", r->top_n);
        cJSON_AddBoolToObject(in, "offline", o->offline);
        cJSON *gi = cJSON_AddObjectToObject(summary, "gene_ids");
        cJSON_AddStringToObject(gi, "table", r->genes->origin);
        cJSON_AddItemToObject(gi, "query_genes", map_stats_json(&r->fs.map));
        cJSON *bg = map_stats_json(&r->fs.bg_map);
        cJSON_AddStringToObject(bg, "definition",
                                o->background ? "genes listed in --background"
                                              : "background_genes of the feature file (model vocabulary ∩ data)");
        cJSON_AddItemToObject(gi, "background_genes", bg);
        cJSON_AddItemToObject(summary, "statistics", stats_json(&r->so, 0));
        srcs = cJSON_AddArrayToObject(summary, "sources");
    }
    for (const struct sgv_source *const *sp = sgv_sources; st == SG_OK && *sp; sp++) {
        const struct sgv_source *src = *sp;
        struct sgv_cfg db            = sgv_cfg_child(sgv_cfg_child(r->root, "databases"), src->name);
        int enabled                  = 0;
        cJSON *row                   = cJSON_CreateObject();
        cJSON_AddItemToArray(srcs, row);
        cJSON_AddStringToObject(row, "source", src->name);
        cJSON_AddStringToObject(row, "title", src->title);
        cJSON_AddNumberToObject(row, "tier", src->tier);
        st = sgv_cfg_present(db) ? sgv_cfg_bool(db, "enabled", 1, &enabled) : SG_OK;
        if (st != SG_OK) break;
        if (!enabled || !source_selected(o->sources, src->name)) {
            cJSON_AddStringToObject(row, "status", "skipped");
            cJSON_AddStringToObject(row, "reason",
                                    !sgv_cfg_present(db) ? "not in the config"
                                    : !enabled           ? "disabled in the config"
                                                         : "not selected with --sources");
            continue;
        }
        char why[1024];
        const char *mode            = "offline";
        struct sgv_eval_summary sum = {0};
        cJSON *doc                  = doc_header(src, "offline");
        sg_status sst               = run_source(r, src, doc, &sum, why, sizeof why, &mode);
        cJSON_ReplaceItemInObject(doc, "mode", cJSON_CreateString(mode));
        if (sst == SG_OK && *why) {
            SG_LOGW("%s: skipped: %s", src->name, why);
            cJSON_AddStringToObject(row, "status", "skipped");
            cJSON_AddStringToObject(row, "reason", why);
        } else if (sst != SG_OK) {
            SG_LOGE("%s: failed: %s", src->name, sg_last_error());
            cJSON_AddStringToObject(row, "status", "failed");
            cJSON_AddStringToObject(row, "reason", sg_last_error());
            (*failed)++;
        } else {
            char name[160], *path;
            snprintf(name, sizeof name, "%s.json", src->name);
            path = sgv_path_join(outdir, name);
            sst  = path ? write_json(path, doc, 0) : sg_error(SG_ERR_NO_MEMORY, "out of memory");
            if (sst != SG_OK) {
                cJSON_AddStringToObject(row, "status", "failed");
                cJSON_AddStringToObject(row, "reason", sg_last_error());
                (*failed)++;
            } else {
                ran++;
                cJSON_AddStringToObject(row, "status", "ok");
                cJSON_AddStringToObject(row, "mode", mode);
                cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "version");
                cJSON_AddItemToObject(row, "version", v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
                char rel[200];
                snprintf(rel, sizeof rel, "validation/%s", name);
                cJSON_AddStringToObject(row, "file", rel);
                cJSON_AddStringToObject(row, "kind", src->net_offline ? "ppi_network" : "term_enrichment");
                cJSON_AddNumberToObject(row, "N", sum.N);
                cJSON_AddNumberToObject(row, "features_tested", (double)sum.tested);
                add_fraction(row, "fraction_enriched", sum.enriched, sum.tested);
                add_fraction(row, "fraction_enriched_global", sum.enriched_global, sum.tested);
                add_fraction(row, "null_fraction_enriched", sum.null_enriched, sum.null_sets);
                add_fraction(row, "null_fraction_enriched_global", sum.null_enriched_global, sum.null_sets);
                if (sum.tested && sum.null_sets && sum.null_enriched)
                    cJSON_AddNumberToObject(row, "enrichment_over_null",
                                            ((double)sum.enriched / (double)sum.tested) /
                                                ((double)sum.null_enriched / (double)sum.null_sets));
                else
                    cJSON_AddNullToObject(row, "enrichment_over_null");
                cJSON_AddStringToObject(row, "licence", src->licence);
                for (size_t i = 0; sum.hit && sum.null_hit && i < r->fs.n; i++) {
                    any[i] |= sum.hit[i];
                    any_null[i] |= sum.null_hit[i];
                }
                SG_LOGI("%s: %zu/%zu features enriched at q < %g (null %zu/%zu)", src->name, sum.enriched, sum.tested,
                        r->so.fdr, sum.null_enriched, sum.null_sets);
            }
            free(path);
        }
        sgv_eval_summary_free(&sum);
        cJSON_Delete(doc);
    }
    if (st == SG_OK) {
        size_t a = 0, an = 0, live = r->fs.n - r->fs.n_empty;
        for (size_t i = 0; i < r->fs.n; i++) {
            a += any[i];
            an += any_null[i];
        }
        cJSON *as = cJSON_AddObjectToObject(summary, "any_source");
        cJSON_AddNumberToObject(as, "features_with_genes", (double)live);
        add_fraction(as, "fraction_enriched", a, live);
        add_fraction(as, "null_fraction_enriched", an, live);
        cJSON_AddNumberToObject(summary, "sources_run", (double)ran);
        cJSON_AddNumberToObject(summary, "sources_failed", (double)*failed);
        char *path = sgv_path_join(outdir, "summary.json");
        st         = path ? write_json(path, summary, 1) : sg_error(SG_ERR_NO_MEMORY, "out of memory");
        if (st == SG_OK) SG_LOGI("wrote %s (%zu sources run, %d failed)", path, ran, *failed);
        free(path);
    }
    if (st == SG_OK && ran == 0 && *failed == 0)
        st = sg_error(SG_ERR_NOT_FOUND, "no source could run (all skipped; see %s/summary.json)", outdir);
    cJSON_Delete(summary);
    free(any);
    free(any_null);
    free(fga);
    free(outdir);
    return st;
}

static sg_status run_query(struct run *r) {
    const struct sgv_run_opts *o = r->o;
    sg_status st                 = load_gene_table(r, 1);
    struct sgv_library lib;
    sgv_library_init(&lib, "gene_sets");
    if (st == SG_OK) st = sgv_gmt_load(o->gene_sets, r->genes, SGV_ID_ANY, SGV_GMT_ID_NAME, &lib);
    if (st == SG_OK) st = sgv_features_load_gmt(o->query_gmt, r->genes, &r->fs);
    if (st == SG_OK && o->background) st = sgv_background_load(o->background, r->genes, &r->fs);
    cJSON *doc                  = NULL;
    struct sgv_eval_summary sum = {0};
    if (st == SG_OK) {
        doc       = doc_header(NULL, "offline");
        cJSON *in = cJSON_AddObjectToObject(doc, "input");
        cJSON_AddStringToObject(in, "query", o->query_gmt);
        cJSON_AddStringToObject(in, "gene_sets", o->gene_sets);
        if (o->background)
            cJSON_AddStringToObject(in, "background", o->background);
        else
            cJSON_AddNullToObject(in, "background");
        cJSON_AddStringToObject(in, "gene_table", r->genes->origin);
        cJSON_AddItemToObject(in, "query_genes", map_stats_json(&r->fs.map));
        cJSON_AddItemToObject(in, "gene_set_genes", map_stats_json(&lib.map));
        if (o->background) cJSON_AddItemToObject(in, "background_genes", map_stats_json(&r->fs.bg_map));
        cJSON_AddItemToObject(doc, "statistics", stats_json(&r->so, 0));
        st = sgv_eval_terms(&lib, &r->fs, r->fs.background, r->fs.n_background, r->genes, &r->so, NULL, doc, &sum);
    }
    if (st == SG_OK) st = write_json(o->output, doc, 0);
    if (st == SG_OK)
        SG_LOGI("%zu/%zu query sets enriched at q < %g (null %zu/%zu); wrote %s", sum.enriched, sum.tested, r->so.fdr,
                sum.null_enriched, sum.null_sets, o->output);
    sgv_eval_summary_free(&sum);
    cJSON_Delete(doc);
    sgv_library_free(&lib);
    return st;
}

sg_status sgv_run(const struct sgv_run_opts *o, int *failed) {
    *failed      = 0;
    struct run r = {.o = o};
    sg_status st = SG_OK;
    if (o->config_path) {
        st = sgv_config_load(o->config_path, &r.cfg);
        if (st == SG_OK) r.root = sgv_cfg_root(r.cfg);
    }
    if (st == SG_OK) st = read_settings(&r);
    if (st == SG_OK) {
        const char *key;
        struct sgv_cfg v;
        struct sgv_cfg dbs = sgv_cfg_child(r.root, "databases");
        for (size_t i = 0; r.cfg && st == SG_OK && sgv_cfg_entry(dbs, i, &key, &v); i++)
            if (sgv_source_find(key)) {
                st = check_source_keys(sgv_source_find(key), v);
            } else {
                char known[512];
                size_t n = 0;
                for (const struct sgv_source *const *s = sgv_sources; *s && n + 20 < sizeof known; s++)
                    n += (size_t)snprintf(known + n, sizeof known - n, "%s%s", n ? ", " : "", (*s)->name);
                st = sg_error(SG_ERR_INVALID_ARG, "%s: databases.%s: unknown source (known: %s)",
                              sgv_config_path(r.cfg), key, known);
            }
    }
    if (st == SG_OK && o->sources) {
        for (const char *p = o->sources; *p && st == SG_OK;) {
            size_t len = strcspn(p, ",");
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(len < 63 ? len : 63), p);
            if (!sgv_source_find(name)) st = sg_error(SG_ERR_INVALID_ARG, "--sources: unknown source '%s'", name);
            p += len + (p[len] == ',');
        }
    }
    if (st == SG_OK) st = o->results_dir ? run_results(&r, failed) : run_query(&r);
    if (r.net) SG_LOGI("network: %lu requests, %lu cache hits", r.net->requests, r.net->cache_hits);
    sgv_online_free(r.net);
    sgv_features_free(&r.fs);
    sgv_genes_free(r.genes);
    sgv_config_free(r.cfg);
    free(r.cache_dir);
    return st;
}
