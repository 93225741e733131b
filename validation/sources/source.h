/* The interface every database implements: one file per source under validation/sources/.
 *
 *     const struct sgv_source *s = sgv_source_find("hpo");
 *     struct sgv_library lib;
 *     sgv_library_init(&lib, s->name);
 *     s->load_offline(&ctx, &lib);                        // parse the official bulk file(s)
 *     // or, online: s->load_online(&ctx, &lib)          // annotate ctx.background via the API
 *
 * A term source fills a library (term -> genes) from either path, so enrichment is the same
 * code whichever way the data arrived. STRING is a network source: it builds a PPI network
 * offline, or asks the API for each gene set's PPI enrichment online.
 *
 * Config: databases.<name>.{enabled, mode, files.<key>, api.{url, rate_per_s}, version,
 * min_term_size, max_term_size} plus the source's own `options`.
 */
#ifndef SGV_SOURCE_H
#define SGV_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "validation/config.h"
#include "validation/geneid.h"
#include "validation/gmt.h"
#include "validation/library.h"
#include "validation/online.h"
#include "validation/ppi.h"

struct sgv_source_ctx {
    struct sgv_cfg cfg;   /* databases.<name> */
    const char *data_dir; /* base for relative files.<key> paths */
    const char *env_file; /* .env for API keys */
    struct sgv_genes *genes;
    struct sgv_online *net;     /* NULL when offline */
    const uint32_t *background; /* genes to annotate online (hub indices) */
    size_t n_background;
    char *version; /* set by the loader: release / file date */
    const struct sgv_source *src;
};

struct sgv_source {
    const char *name; /* config key and output file name */
    const char *title;
    int tier; /* 1-3 as in the user's README; 0 = pathway/gene-set */
    const char *licence;
    const char *attribution;
    const char *term_url;       /* printf pattern for a term's page, %s = term id */
    int url_local_id;           /* put only the part after "PREFIX:" into term_url */
    int restricted;             /* licence forbids redistribution: user cache only */
    const char *key_env;        /* API key variable, or NULL */
    const char *const *files;   /* files.<key> the offline loader needs (NULL-terminated) */
    const char *const *options; /* source-specific settings (NULL-terminated) */
    const char *api_url;        /* default base URL of the online client, or NULL */
    double api_rate;            /* default requests per second */
    int per_gene_api;           /* online = one or a few requests per background gene */
    uint32_t max_term;          /* default largest testable term */
    /* offline files present? NULL: every files.<key> in `files` must exist */
    int (*offline_ready)(struct sgv_source_ctx *c, char *why, size_t cap);
    sg_status (*load_offline)(struct sgv_source_ctx *c, struct sgv_library *lib);
    sg_status (*load_online)(struct sgv_source_ctx *c, struct sgv_library *lib);
    /* network sources (STRING) */
    sg_status (*net_offline)(struct sgv_source_ctx *c, const uint8_t *universe, struct sgv_ppi_net **net);
    sg_status (*ppi_online)(struct sgv_source_ctx *c, const uint32_t *genes, size_t n, struct sgv_ppi_result *r);
};

/* All sources, in report order; NULL-terminated. */
extern const struct sgv_source *const sgv_sources[];
const struct sgv_source *sgv_source_find(const char *name);

/* --- helpers shared by the source files (validation/sources/common.c) --- */

/* Path of files.<key>, joined to data_dir. NULL (and an error naming the setting) when unset. */
char *sgv_src_file(struct sgv_source_ctx *c, const char *key);
/* Whether the source's offline files are set and exist; why says what is missing. */
int sgv_src_offline_ready(struct sgv_source_ctx *c, char *why, size_t cap);
/* Whether every files.<key> in keys (NULL-terminated) is set and exists. */
int sgv_src_files_exist(struct sgv_source_ctx *c, const char *const *keys, char *why, size_t cap);
/* Whether files.<key> is set at all (an alternative input the user chose). */
int sgv_src_file_set(struct sgv_source_ctx *c, const char *key);
/* Limits requests to url's host to per_s (no-op offline). */
sg_status sgv_src_set_rate(struct sgv_source_ctx *c, const char *url, double per_s);
/* api.url (or the default) with the per-host rate limit applied. Caller frees. */
sg_status sgv_src_api(struct sgv_source_ctx *c, char **url);
struct sgv_endpoint sgv_src_endpoint(const struct sgv_source_ctx *c);
/* Records the version: config `version` wins, then `found`, else NULL. */
void sgv_src_set_version(struct sgv_source_ctx *c, struct sgv_library *lib, const char *found);
/* Percent-encodes s for a URL path or query. Caller frees. */
char *sgv_url_escape(const char *s);
/* An option string / list, with the config path in error messages. */
sg_status sgv_src_opt_str(struct sgv_source_ctx *c, const char *key, const char *def, const char **out);
sg_status sgv_src_opt_num(struct sgv_source_ctx *c, const char *key, double def, double *out);
/* The identifier of `kind` a hub gene carries (symbol, Ensembl, Entrez, HGNC ID), or NULL. */
const char *sgv_gene_id_of(const struct sgv_genes *g, uint32_t gene, enum sgv_id_kind kind);
/* Calls fn for every background gene that has an identifier of `kind`, logging progress;
 * the first error stops the loop. */
typedef sg_status (*sgv_gene_fn)(struct sgv_source_ctx *c, uint32_t gene, const char *id, struct sgv_library *lib,
                                 void *user);
sg_status sgv_src_each_gene(struct sgv_source_ctx *c, enum sgv_id_kind kind, sgv_gene_fn fn, struct sgv_library *lib,
                            void *user);
/* The per-gene online pattern: version from the config (or none), fn for every background gene
 * carrying an identifier of `kind`, then the library finished. */
sg_status sgv_src_annotate(struct sgv_source_ctx *c, enum sgv_id_kind kind, sgv_gene_fn fn, struct sgv_library *lib,
                           void *user);
/* files.<key> read as a GMT (IDs from the name or description column), version from the config. */
sg_status sgv_src_load_gmt(struct sgv_source_ctx *c, const char *key, enum sgv_gmt_id id_from, struct sgv_library *lib);
/* Logs how a loader's identifiers mapped (once per source). */
void sgv_src_log_mapping(const struct sgv_source_ctx *c, const struct sgv_library *lib);

#endif
