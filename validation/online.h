/* The network side of validation: one HTTP client, the response caches and API keys.
 * It exists only when a run is allowed to go online; offline runs never create one, so no
 * source can open a connection by accident.
 *
 *     struct sgv_online_opts oo = sgv_online_opts_default();
 *     struct sgv_online *net;
 *     sgv_online_new(&oo, &net);
 *     struct sgv_endpoint ep = {.source = "reactome", .version = "86"};
 *     struct sg_http_request rq = {.url = "https://reactome.org/ContentService/data/database/version"};
 *     char *body; size_t len;
 *     sgv_fetch(net, &ep, &rq, &body, &len);     // cache first, then HTTP; caches complete 2xx only
 *     sgv_online_free(net);
 *
 * Restricted sources (OMIM, DisGeNET: licences forbid redistribution) are cached only under the
 * user cache directory, never under a configured shared cache_dir.
 */
#ifndef SGV_ONLINE_H
#define SGV_ONLINE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "core/status.h"
#include "io/http.h"
#include "validation/cache.h"

struct sgv_online_opts {
    struct sg_http_opts http;
    const char *cache_dir;      /* shared response cache; NULL: <user cache>/validation */
    const char *user_cache_dir; /* restricted sources; NULL: <user cache>/validation-restricted */
    int no_cache;
};

struct sgv_online {
    struct sg_http *http;
    struct sgv_cache *cache;
    struct sgv_cache *user_cache;
    unsigned long requests; /* network round trips made */
    unsigned long cache_hits;
};

struct sgv_endpoint {
    const char *source;  /* cache folder and log prefix */
    const char *version; /* cache stamp: the release; NULL = valid for today only */
    int restricted;
};

struct sgv_online_opts sgv_online_opts_default(void);
sg_status sgv_online_new(const struct sgv_online_opts *opts, struct sgv_online **out);
void sgv_online_free(struct sgv_online *o);

/* Body of a 2xx (or req->accept_status) answer; only 2xx bodies are cached. *status may be NULL. */
sg_status sgv_fetch(struct sgv_online *o, const struct sgv_endpoint *ep, const struct sg_http_request *req, char **body,
                    size_t *len, long *status);
/* Same, parsed as JSON. A body that does not parse is an error and never cached; an accepted
 * non-2xx status gives *out = NULL. */
sg_status sgv_fetch_json(struct sgv_online *o, const struct sgv_endpoint *ep, const struct sg_http_request *req,
                         cJSON **out, long *status);
/* Downloads a bulk file into <cache>/<source>/files/<name> unless a copy of this version is
 * there; *path (caller frees) names it. */
sg_status sgv_download(struct sgv_online *o, const struct sgv_endpoint *ep, const char *url, const char *name,
                       char **path);

/* An API key from the environment, else from the .env file (KEY=value lines). The key is
 * copied to buf and never logged. SG_ERR_NOT_FOUND when neither has it. */
sg_status sgv_api_key(const char *name, const char *env_file, char *buf, size_t cap);

#endif
