#include "core/fs.h"
#include "validation/online.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "validation/fsutil.h"

struct sgv_online_opts sgv_online_opts_default(void) {
    struct sgv_online_opts o = {.http = sg_http_opts_default()};
    return o;
}

static sg_status open_cache(const char *dir, const char *sub, struct sgv_cache **out) {
    char *path = NULL;
    if (dir)
        path = strdup(dir);
    else {
        char *base = sgv_user_cache_dir();
        if (!base)
            return sg_error(SG_ERR_NOT_FOUND,
                            "no cache directory: set HOME or XDG_CACHE_HOME, or cache_dir in the config");
        path = sgv_path_join(base, sub);
        free(base);
    }
    if (!path) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    sg_status st = sgv_cache_open(path, out);
    free(path);
    return st;
}

sg_status sgv_online_new(const struct sgv_online_opts *opts, struct sgv_online **out) {
    *out                 = NULL;
    struct sgv_online *o = calloc(1, sizeof *o);
    if (!o) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    sg_status st = sg_http_new(&opts->http, &o->http);
    if (st == SG_OK && !opts->no_cache) {
        st = open_cache(opts->cache_dir, "validation", &o->cache);
        if (st == SG_OK) st = open_cache(opts->user_cache_dir, "validation-restricted", &o->user_cache);
    }
    if (st != SG_OK) {
        sgv_online_free(o);
        return st;
    }
    *out = o;
    return SG_OK;
}

void sgv_online_free(struct sgv_online *o) {
    if (!o) return;
    sg_http_free(o->http);
    sgv_cache_close(o->cache);
    sgv_cache_close(o->user_cache);
    free(o);
}

static struct sgv_cache *cache_for(struct sgv_online *o, const struct sgv_endpoint *ep) {
    return ep->restricted ? o->user_cache : o->cache;
}

/* check: NULL, or a parser that says whether the body is complete and usable */
static sg_status fetch_checked(struct sgv_online *o, const struct sgv_endpoint *ep, const struct sg_http_request *req,
                               int json, char **body, size_t *len, long *status, cJSON **parsed) {
    *body = NULL;
    *len  = 0;
    if (status) *status = 0;
    const char *method = req->method ? req->method : "GET";
    char key[65];
    sg_status st = sgv_cache_key(method, req->url, req->body, req->body_len, key);
    if (st != SG_OK) return st;
    struct sgv_cache *c = cache_for(o, ep);
    /* an answer without a release stamp is trusted for the day it was fetched */
    char today[11], dated[32];
    sgv_today(today);
    snprintf(dated, sizeof dated, "unversioned-%s", today);
    const char *version = ep->version ? ep->version : dated;
    if (sgv_cache_get(c, ep->source, version, key, body, len)) {
        if (!json || (*parsed = cJSON_ParseWithLength(*body, *len))) {
            o->cache_hits++;
            if (status) *status = 200;
            return SG_OK;
        }
        sgv_cache_drop(c, ep->source, key); /* unreadable entry: fetch again */
        free(*body);
        *body = NULL;
    }
    struct sg_http_response r;
    o->requests++;
    st = sg_http_request(o->http, req, &r);
    if (status) *status = r.status;
    if (st != SG_OK) {
        sg_http_response_free(&r);
        return sg_error_wrap(st, "%s", ep->source);
    }
    int ok2xx = r.status >= 200 && r.status < 300;
    if (json && ok2xx && !(*parsed = cJSON_ParseWithLength(r.body, r.len))) {
        char shown[1024];
        sg_http_redact_url(req->url, shown, sizeof shown);
        sg_http_response_free(&r);
        return sg_error(SG_ERR_FORMAT, "%s: %s %s: the response is not valid JSON (truncated?)", ep->source, method,
                        shown);
    }
    if (ok2xx) sgv_cache_put(c, ep->source, version, key, req->url, r.body, r.len);
    *body = r.body;
    *len  = r.len;
    return SG_OK;
}

sg_status sgv_fetch(struct sgv_online *o, const struct sgv_endpoint *ep, const struct sg_http_request *req, char **body,
                    size_t *len, long *status) {
    return fetch_checked(o, ep, req, 0, body, len, status, NULL);
}

sg_status sgv_fetch_json(struct sgv_online *o, const struct sgv_endpoint *ep, const struct sg_http_request *req,
                         cJSON **out, long *status) {
    char *body;
    size_t len;
    *out         = NULL;
    sg_status st = fetch_checked(o, ep, req, 1, &body, &len, status, out);
    free(body);
    return st;
}

sg_status sgv_download(struct sgv_online *o, const struct sgv_endpoint *ep, const char *url, const char *name,
                       char **path) {
    *path               = NULL;
    struct sgv_cache *c = cache_for(o, ep);
    char *base          = c ? strdup(sgv_cache_dir(c)) : sgv_user_cache_dir();
    char sub[512], ver[128];
    /* one folder per version keeps releases apart; unversioned files are re-fetched by date */
    char today[11];
    sgv_today(today);
    snprintf(ver, sizeof ver, "%s", ep->version ? ep->version : today);
    for (char *p = ver; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_') *p = '_';
    snprintf(sub, sizeof sub, "%s/files/%s", ep->source, ver);
    char *dir  = base ? sgv_path_join(base, sub) : NULL;
    char *file = dir ? sgv_path_join(dir, name) : NULL;
    free(base);
    if (!file) {
        free(dir);
        return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    }
    sg_status st = SG_OK;
    if (!sgv_file_exists(file)) {
        st = sg_mkdir_p(dir);
        if (st == SG_OK) {
            SG_LOGI("%s: downloading %s", ep->source, name);
            o->requests++;
            st = sg_http_download(o->http, url, NULL, file, NULL, NULL);
            if (st != SG_OK) sg_error_wrap(st, "%s", ep->source);
        }
    } else {
        o->cache_hits++;
    }
    free(dir);
    if (st != SG_OK) {
        free(file);
        return st;
    }
    *path = file;
    return SG_OK;
}

static int env_file_lookup(const char *file, const char *name, char *buf, size_t cap) {
    FILE *f = fopen(file, "r");
    if (!f) return 0;
    char line[4096];
    int found = 0;
    size_t nl = strlen(name);
    while (!found && fgets(line, sizeof line, f)) {
        char *s = line;
        while (*s == ' ' || *s == '\t') s++;
        if (strncmp(s, "export ", 7) == 0) s += 7;
        if (strncmp(s, name, nl) != 0 || s[nl] != '=') continue;
        char *v               = s + nl + 1;
        v[strcspn(v, "\r\n")] = '\0';
        size_t vl             = strlen(v);
        if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
            v[vl - 1] = '\0';
            v++;
        }
        size_t len = strlen(v);
        if (len && len < cap) {
            memcpy(buf, v, len + 1);
            found = 1;
        }
    }
    fclose(f);
    return found;
}

sg_status sgv_api_key(const char *name, const char *env_file, char *buf, size_t cap) {
    const char *v = getenv(name);
    size_t len    = v ? strlen(v) : 0;
    if (len && len < cap) {
        memcpy(buf, v, len + 1);
        return SG_OK;
    }
    const char *file = env_file ? env_file : ".env";
    if (env_file_lookup(file, name, buf, cap)) return SG_OK;
    buf[0] = '\0';
    return sg_error(SG_ERR_NOT_FOUND, "%s is not set (export it, or add %s=... to %s)", name, name, file);
}
