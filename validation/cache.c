#include "core/fs.h"
#include "validation/cache.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "io/http.h"
#include "validation/fsutil.h"

struct sgv_cache {
    char *dir;
};

sg_status sgv_cache_open(const char *dir, struct sgv_cache **out) {
    *out         = NULL;
    sg_status st = sg_mkdir_p(dir);
    if (st != SG_OK) return sg_error_wrap(st, "response cache");
    struct sgv_cache *c = calloc(1, sizeof *c);
    if (!c || !(c->dir = strdup(dir))) {
        free(c);
        return sg_error(SG_ERR_NO_MEMORY, "cache: out of memory");
    }
    *out = c;
    return SG_OK;
}

void sgv_cache_close(struct sgv_cache *c) {
    if (!c) return;
    free(c->dir);
    free(c);
}

const char *sgv_cache_dir(const struct sgv_cache *c) { return c->dir; }

static void to_hex(const unsigned char *d, unsigned n, char *hex) {
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        hex[2 * i]     = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[2 * n] = '\0';
}

sg_status sgv_sha256_hex(const void *data, size_t len, char hex[65]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != 32)
        return sg_error(SG_ERR_BACKEND, "libcrypto: SHA-256 failed");
    to_hex(md, n, hex);
    return SG_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

sg_status sgv_cache_key(const char *method, const char *url, const char *body, size_t body_len, char key[65]) {
    const char *q = strchr(url, '?');
    size_t base   = q ? (size_t)(q - url) : strlen(url);
    char *params  = q ? strdup(q + 1) : NULL;
    char **list   = NULL;
    size_t n      = 0;
    if (params) {
        char *frag = strchr(params, '#');
        if (frag) *frag = '\0';
        list       = calloc(strlen(params) / 2 + 2, sizeof *list);
        char *save = NULL;
        for (char *tok = list ? strtok_r(params, "&", &save) : NULL; tok; tok = strtok_r(NULL, "&", &save)) {
            char *eq  = strchr(tok, '=');
            size_t nl = eq ? (size_t)(eq - tok) : strlen(tok);
            if (!sg_http_param_is_secret(tok, nl)) list[n++] = tok; /* a new API key keeps the cache */
        }
        if (n > 1) qsort(list, n, sizeof *list, cmp_str);
    }
    size_t total = strlen(method) + base + body_len + 8;
    for (size_t i = 0; i < n; i++) total += strlen(list[i]) + 1;
    char *buf    = malloc(total);
    sg_status st = SG_OK;
    if (!buf || (params && !list))
        st = sg_error(SG_ERR_NO_MEMORY, "cache: out of memory");
    else {
        size_t o = (size_t)sprintf(buf, "%s\n%.*s\n", method, (int)base, url);
        for (size_t i = 0; i < n; i++) o += (size_t)sprintf(buf + o, "%s%s", i ? "&" : "", list[i]);
        buf[o++] = '\n';
        if (body_len) memcpy(buf + o, body, body_len);
        o += body_len;
        st = sgv_sha256_hex(buf, o, key);
    }
    free(buf);
    free(list);
    free(params);
    return st;
}

static char *entry_path(const struct sgv_cache *c, const char *source, const char *key, const char *ext) {
    size_t n = strlen(c->dir) + strlen(source) + strlen(key) + strlen(ext) + 4;
    char *p  = malloc(n);
    if (p) snprintf(p, n, "%s/%s/%s%s", c->dir, source, key, ext);
    return p;
}

int sgv_cache_get(struct sgv_cache *c, const char *source, const char *version, const char *key, char **body,
                  size_t *len) {
    *body = NULL;
    *len  = 0;
    if (!c) return 0;
    char *mp = entry_path(c, source, key, ".meta.json"), *bp = entry_path(c, source, key, ".body");
    char *meta = NULL, *data = NULL;
    size_t mlen, dlen;
    int hit  = 0;
    cJSON *m = NULL;
    if (mp && bp && sgv_read_file(mp, &meta, &mlen) == SG_OK && (m = cJSON_Parse(meta)) &&
        sgv_read_file(bp, &data, &dlen) == SG_OK) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, "source_version");
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(m, "bytes");
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(m, "body_sha256");
        char hex[65];
        hit = cJSON_IsString(v) && strcmp(v->valuestring, version ? version : "unversioned") == 0 &&
              cJSON_IsNumber(b) && (size_t)b->valuedouble == dlen && cJSON_IsString(d) &&
              sgv_sha256_hex(data, dlen, hex) == SG_OK && strcmp(hex, d->valuestring) == 0;
    }
    sg_error_clear();
    cJSON_Delete(m);
    free(meta);
    free(mp);
    free(bp);
    if (!hit) {
        free(data);
        return 0;
    }
    *body = data;
    *len  = dlen;
    return 1;
}

sg_status sgv_cache_put(struct sgv_cache *c, const char *source, const char *version, const char *key, const char *url,
                        const char *body, size_t len) {
    if (!c) return SG_OK;
    char *dir = sgv_path_join(c->dir, source);
    char *mp = entry_path(c, source, key, ".meta.json"), *bp = entry_path(c, source, key, ".body");
    cJSON *m     = cJSON_CreateObject();
    char *text   = NULL, hex[65], shown[1024], when[21];
    sg_status st = dir && mp && bp && m ? SG_OK : sg_error(SG_ERR_NO_MEMORY, "cache: out of memory");
    if (st == SG_OK) st = sg_mkdir_p(dir);
    if (st == SG_OK) st = sgv_sha256_hex(body, len, hex);
    if (st == SG_OK) {
        sg_http_redact_url(url, shown, sizeof shown);
        sgv_now_iso(when);
        cJSON_AddStringToObject(m, "url", shown);
        cJSON_AddStringToObject(m, "source", source);
        cJSON_AddStringToObject(m, "source_version", version ? version : "unversioned");
        cJSON_AddStringToObject(m, "fetched_at", when);
        cJSON_AddNumberToObject(m, "bytes", (double)len);
        cJSON_AddStringToObject(m, "body_sha256", hex);
        text = cJSON_Print(m);
        if (!text) st = sg_error(SG_ERR_NO_MEMORY, "cache: out of memory");
    }
    /* body first, meta last: a reader only trusts entries whose meta exists and matches */
    if (st == SG_OK) st = sgv_write_file_atomic(bp, body, len);
    if (st == SG_OK) st = sgv_write_file_atomic(mp, text, strlen(text));
    if (st != SG_OK) SG_LOGW("cache: %s (response not cached)", sg_last_error());
    cJSON_free(text);
    cJSON_Delete(m);
    free(dir);
    free(mp);
    free(bp);
    return st;
}

void sgv_cache_drop(struct sgv_cache *c, const char *source, const char *key) {
    if (!c) return;
    char *mp = entry_path(c, source, key, ".meta.json"), *bp = entry_path(c, source, key, ".body");
    if (mp) unlink(mp);
    if (bp) unlink(bp);
    free(mp);
    free(bp);
}
