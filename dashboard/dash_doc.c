#include "dashboard/dash_doc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_NESTING 512

bool dash_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static sg_status read_all(const char *path, char **text, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return sg_error(errno == ENOENT ? SG_ERR_NOT_FOUND : SG_ERR_IO, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0, got;
    char *b = malloc(cap);
    while (b && (got = fread(b + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = cap < SIZE_MAX / 2 ? realloc(b, cap * 2) : NULL;
            if (!nb) free(b);
            b = nb;
            cap *= 2;
        }
    }
    int err = ferror(f);
    fclose(f);
    if (!b) return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory reading the file", path);
    if (err) {
        free(b);
        return sg_error(SG_ERR_IO, "%s: read error", path);
    }
    b[n]  = '\0';
    *text = b;
    *len  = n;
    return SG_OK;
}

static const char *ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

static const char *skip_string(const char *p, const char *e) {
    for (p++; p < e; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* End of the JSON value starting at p, checking only brackets and strings (cJSON checks the rest
 * when the value is parsed), or NULL. */
static const char *skip_value(const char *p, const char *e) {
    if (p >= e) return NULL;
    if (*p == '"') return skip_string(p, e);
    if (*p == '{' || *p == '[') {
        char stack[MAX_NESTING];
        int depth = 0;
        while (p < e) {
            char c = *p;
            if (c == '"') {
                if (!(p = skip_string(p, e))) return NULL;
                continue;
            }
            if (c == '{' || c == '[') {
                if (depth == MAX_NESTING) return NULL;
                stack[depth++] = c;
            } else if (c == '}' || c == ']') {
                if (!depth || stack[depth - 1] != (c == '}' ? '{' : '[')) return NULL;
                if (--depth == 0) return p + 1;
            }
            p++;
        }
        return NULL;
    }
    const char *s = p;
    while (p < e && !strchr(",]} \t\r\n", *p)) p++;
    return p > s ? p : NULL;
}

static sg_status bad_json(const struct dash_doc *d, const char *at) {
    return sg_error(SG_ERR_FORMAT, "%s: not valid JSON (error near byte %ld)", d->path, (long)(at - d->text));
}

static cJSON *parse_span(const struct dash_doc *d, const char *p, size_t n, sg_status *st) {
    cJSON *v = cJSON_ParseWithLength(p, n);
    if (!v) {
        const char *at = cJSON_GetErrorPtr();
        *st            = bad_json(d, at && at >= p && at <= p + n ? at : p);
    }
    return v;
}

static int big_slot(const struct dash_doc *d, const char *key, size_t n) {
    for (int i = 0; i < DASH_DOC_MAX_BIG && d->big_key[i]; i++)
        if (strlen(d->big_key[i]) == n && memcmp(d->big_key[i], key, n) == 0) return i;
    return -1;
}

/* One top-level member: big arrays are remembered, the rest parsed into head. */
static sg_status member(struct dash_doc *d, const char *k0, const char *k1, const char *v0, const char *v1) {
    sg_status st = SG_OK;
    int slot     = memchr(k0, '\\', (size_t)(k1 - k0)) ? -1 : big_slot(d, k0 + 1, (size_t)(k1 - k0 - 2));
    if (slot >= 0) {
        if (*v0 == '[') {
            d->big_at[slot]  = v0;
            d->big_len[slot] = (size_t)(v1 - v0);
            return SG_OK;
        }
        if (strncmp(v0, "null", 4) != 0)
            return sg_error(SG_ERR_FORMAT, "%s: %s: expected a list", d->path, d->big_key[slot]);
    }
    cJSON *key = parse_span(d, k0, (size_t)(k1 - k0), &st);
    cJSON *val = key ? parse_span(d, v0, (size_t)(v1 - v0), &st) : NULL;
    if (val) cJSON_AddItemToObject(d->head, key->valuestring, val);
    cJSON_Delete(key);
    return st;
}

sg_status dash_doc_open(const char *path, const char *const *big, struct dash_doc *d) {
    memset(d, 0, sizeof *d);
    for (int i = 0; big && big[i] && i < DASH_DOC_MAX_BIG; i++) d->big_key[i] = big[i];
    sg_status st = read_all(path, &d->text, &d->len);
    d->path      = strdup(path);
    d->head      = cJSON_CreateObject();
    if (st == SG_OK && (!d->path || !d->head)) st = sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", path);
    if (st != SG_OK) {
        dash_doc_close(d);
        return st;
    }
    const char *e = d->text + d->len, *p = ws(d->text, e);
    if (p == e || *p != '{') {
        st = p == e ? sg_error(SG_ERR_FORMAT, "%s: empty file", path)
                    : sg_error(SG_ERR_FORMAT, "%s: not a JSON object (expected '{' at byte %ld)", path,
                               (long)(p - d->text));
        dash_doc_close(d);
        return st;
    }
    p = ws(p + 1, e);
    if (p < e && *p == '}')
        p = ws(p + 1, e);
    else {
        while (st == SG_OK) {
            const char *k0 = p, *k1 = p < e && *p == '"' ? skip_string(p, e) : NULL;
            const char *v0 = k1 ? ws(k1, e) : NULL;
            if (!v0 || v0 == e || *v0 != ':') {
                st = bad_json(d, k1 ? v0 : p);
                break;
            }
            v0             = ws(v0 + 1, e);
            const char *v1 = skip_value(v0, e);
            if (!v1) {
                st = bad_json(d, v0);
                break;
            }
            st = member(d, k0, k1, v0, v1);
            p  = ws(v1, e);
            if (st != SG_OK) break;
            if (p < e && *p == ',')
                p = ws(p + 1, e);
            else if (p < e && *p == '}') {
                p = ws(p + 1, e);
                break;
            } else
                st = bad_json(d, p);
        }
    }
    if (st == SG_OK && p != e)
        st = sg_error(SG_ERR_FORMAT, "%s: text after the JSON object at byte %ld", path, (long)(p - d->text));
    if (st != SG_OK) dash_doc_close(d);
    return st;
}

void dash_doc_close(struct dash_doc *d) {
    free(d->path);
    free(d->text);
    cJSON_Delete(d->head);
    memset(d, 0, sizeof *d);
}

bool dash_doc_has(const struct dash_doc *d, const char *key) {
    int slot = big_slot(d, key, strlen(key));
    return slot >= 0 && d->big_at[slot];
}

struct dash_iter dash_doc_iter(const struct dash_doc *d, const char *key) {
    struct dash_iter it = {.key = key};
    int slot            = big_slot(d, key, strlen(key));
    if (slot >= 0 && d->big_at[slot]) {
        it.at  = d->big_at[slot] + 1;
        it.end = d->big_at[slot] + d->big_len[slot] - 1; /* the closing ']' */
    }
    return it;
}

sg_status dash_iter_next(const struct dash_doc *d, struct dash_iter *it, cJSON **item, int *index) {
    *item = NULL;
    if (!it->at) return SG_OK;
    const char *p = ws(it->at, it->end);
    if (p == it->end) {
        if (it->index > 0) return bad_json(d, p); /* "[1,]" */
        it->at = NULL;
        return SG_OK;
    }
    const char *v1 = skip_value(p, it->end);
    if (!v1) return bad_json(d, p);
    sg_status st = SG_OK;
    cJSON *v     = parse_span(d, p, (size_t)(v1 - p), &st);
    if (!v) return st;
    p = ws(v1, it->end);
    if (p < it->end && *p != ',') {
        cJSON_Delete(v);
        return bad_json(d, p);
    }
    it->at = p < it->end ? p + 1 : NULL;
    *index = it->index++;
    *item  = v;
    return SG_OK;
}

static const char *kind(const cJSON *v) {
    return cJSON_IsString(v)   ? "a string"
           : cJSON_IsNumber(v) ? "a number"
           : cJSON_IsArray(v)  ? "a list"
           : cJSON_IsObject(v) ? "an object"
           : cJSON_IsBool(v)   ? "a boolean"
                               : "null";
}

sg_status dash_field_error(const struct dash_doc *d, const char *where, const char *key, const char *fmt, ...) {
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return sg_error(SG_ERR_FORMAT, "%s: %s%s%s: %s", d->path, where ? where : "", where && key ? "." : "",
                    key ? key : "", what);
}

/* The member, or NULL when absent or null (a missing required one is reported). */
static const cJSON *field(const struct dash_doc *d, const cJSON *obj, const char *where, const char *key, bool required,
                          sg_status *st) {
    const cJSON *v = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    *st            = SG_OK;
    if (!cJSON_IsObject(obj))
        *st = dash_field_error(d, where, NULL, "expected an object, found %s", kind(obj));
    else if ((!v || cJSON_IsNull(v)) && required)
        *st = dash_field_error(d, where, key, "missing");
    return v && !cJSON_IsNull(v) ? v : NULL;
}

sg_status dash_num(const struct dash_doc *d, const cJSON *obj, const char *where, const char *key, bool required,
                   double *out) {
    sg_status st;
    const cJSON *v = field(d, obj, where, key, required, &st);
    if (st != SG_OK || !v) return st;
    if (!cJSON_IsNumber(v)) return dash_field_error(d, where, key, "expected a number, found %s", kind(v));
    *out = v->valuedouble;
    return SG_OK;
}

sg_status dash_int(const struct dash_doc *d, const cJSON *obj, const char *where, const char *key, bool required,
                   int64_t min, int64_t *out) {
    sg_status st;
    const cJSON *v = field(d, obj, where, key, required, &st);
    if (st != SG_OK || !v) return st;
    double x = v->valuedouble;
    if (!cJSON_IsNumber(v) || x != floor(x) || x < (double)min || x > 9007199254740992.0)
        return cJSON_IsNumber(v)
                   ? dash_field_error(d, where, key, "expected an integer >= %lld, found %g", (long long)min, x)
                   : dash_field_error(d, where, key, "expected an integer, found %s", kind(v));
    *out = (int64_t)x;
    return SG_OK;
}

sg_status dash_str(const struct dash_doc *d, const cJSON *obj, const char *where, const char *key, bool required,
                   const char **out) {
    sg_status st;
    const cJSON *v = field(d, obj, where, key, required, &st);
    if (st != SG_OK || !v) return st;
    if (!cJSON_IsString(v)) return dash_field_error(d, where, key, "expected a string, found %s", kind(v));
    *out = v->valuestring;
    return SG_OK;
}

sg_status dash_arr(const struct dash_doc *d, const cJSON *obj, const char *where, const char *key, bool required,
                   const cJSON **out) {
    sg_status st;
    const cJSON *v = field(d, obj, where, key, required, &st);
    if (st != SG_OK || !v) return st;
    if (!cJSON_IsArray(v)) return dash_field_error(d, where, key, "expected a list, found %s", kind(v));
    *out = v;
    return SG_OK;
}

sg_status dash_feature_id(const struct dash_doc *d, const cJSON *obj, const char *where, int64_t *out) {
    sg_status st;
    const cJSON *v = field(d, obj, where, "id", true, &st);
    if (st != SG_OK) return st;
    if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        char *end;
        errno       = 0;
        long long x = strtoll(s, &end, 10);
        if (*s >= '0' && *s <= '9' && !*end && !errno) {
            *out = x;
            return SG_OK;
        }
        return dash_field_error(d, where, "id", "expected a feature index, found \"%.40s\"", s);
    }
    return dash_int(d, obj, where, "id", true, 0, out);
}

const char *dash_text(const cJSON *v, char *buf, size_t cap) {
    if (cJSON_IsString(v)) return v->valuestring;
    if (cJSON_IsNumber(v))
        snprintf(buf, cap, "%.10g", v->valuedouble);
    else if (cJSON_IsBool(v))
        snprintf(buf, cap, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cap)
        buf[0] = '\0';
    return buf;
}

sg_status dash_doc_schema(const struct dash_doc *d, const char *name) {
    const char *s = NULL;
    sg_status st  = dash_str(d, d->head, NULL, "schema", false, &s);
    if (st != SG_OK || !s) return st;
    size_t n = strlen(name);
    if (strncmp(s, name, n) == 0 && s[n] == '/') {
        char *end;
        long major = strtol(s + n + 1, &end, 10);
        if (end != s + n + 1 && !*end && major == 1) return SG_OK;
        if (end != s + n + 1 && !*end && major > 1)
            return sg_error(SG_ERR_UNSUPPORTED, "%s: schema \"%s\" is newer than this saeg reads (%s/1); update saeg",
                            d->path, s, name);
    }
    return dash_field_error(d, NULL, "schema", "expected \"%s/1\", found \"%.60s\"", name, s);
}
