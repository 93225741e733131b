#include "dashboard/dash_jw.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dash_jw_free(struct dash_jw *w) {
    free(w->buf);
    memset(w, 0, sizeof *w);
}

void dash_jw_raw(struct dash_jw *w, const char *s, size_t n) {
    if (w->oom) return;
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap < w->len + n + 1) cap *= 2;
        char *b = realloc(w->buf, cap);
        if (!b) {
            w->oom = true;
            return;
        }
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

static void put(struct dash_jw *w, const char *s) { dash_jw_raw(w, s, strlen(s)); }

/* Called before every value and key: the comma between siblings. */
static void before_value(struct dash_jw *w) {
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->need_comma[w->depth]) put(w, ",");
    w->need_comma[w->depth] = true;
}

static void jw_open(struct dash_jw *w, const char *c) {
    before_value(w);
    put(w, c);
    if (w->depth == DASH_JW_MAX_DEPTH) {
        w->deep = true;
        return;
    }
    w->need_comma[++w->depth] = false;
}

static void jw_close(struct dash_jw *w, const char *c) {
    put(w, c);
    if (w->depth > 0) w->depth--;
}

void dash_jw_obj(struct dash_jw *w) { jw_open(w, "{"); }
void dash_jw_obj_end(struct dash_jw *w) { jw_close(w, "}"); }
void dash_jw_arr(struct dash_jw *w) { jw_open(w, "["); }
void dash_jw_arr_end(struct dash_jw *w) { jw_close(w, "]"); }

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when it is not valid. */
static size_t utf8_len(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (!len || len > n) return 0;
    uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0; /* overlong, surrogate */
    return len;
}

void dash_jw_strn(struct dash_jw *w, const char *s, size_t n) {
    before_value(w);
    put(w, "\"");
    const unsigned char *p = (const unsigned char *)s;
    size_t run             = 0; /* bytes copied as they are, flushed before each escape */
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        char esc[8];
        const char *e = NULL;
        size_t step   = 1;
        if (c == '"')
            e = "\\\"";
        else if (c == '\\')
            e = "\\\\";
        else if (c == '\n')
            e = "\\n";
        else if (c == '\t')
            e = "\\t";
        else if (c == '\r')
            e = "\\r";
        else if (c < 0x20 || c == 0x7F || c == '<' || c == '>' || c == '&') {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            e = esc;
        } else if (c >= 0x80) {
            step = utf8_len(p + i, n - i);
            if (!step) {
                e    = "\\ufffd";
                step = 1;
            } else if (step == 3 && c == 0xE2 && p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9)) {
                e = p[i + 2] == 0xA8 ? "\\u2028" : "\\u2029"; /* line terminators in old JS parsers */
            }
        }
        if (e) {
            dash_jw_raw(w, s + i - run, run);
            run = 0;
            put(w, e);
        } else {
            run += step;
        }
        i += step;
    }
    dash_jw_raw(w, s + n - run, run);
    put(w, "\"");
}

void dash_jw_str(struct dash_jw *w, const char *s) {
    if (!s)
        dash_jw_null(w);
    else
        dash_jw_strn(w, s, strlen(s));
}

void dash_jw_key(struct dash_jw *w, const char *key) {
    dash_jw_str(w, key);
    put(w, ":");
    w->after_key = true;
}

void dash_jw_num(struct dash_jw *w, double x, int digits) {
    if (!isfinite(x)) {
        dash_jw_null(w);
        return;
    }
    char b[40];
    if (x == floor(x) && fabs(x) < 1e15)
        snprintf(b, sizeof b, "%.0f", x);
    else
        snprintf(b, sizeof b, "%.*g", digits, x);
    before_value(w);
    put(w, b);
}

void dash_jw_int(struct dash_jw *w, int64_t x) {
    char b[32];
    snprintf(b, sizeof b, "%" PRId64, x);
    before_value(w);
    put(w, b);
}

void dash_jw_bool(struct dash_jw *w, bool v) {
    before_value(w);
    put(w, v ? "true" : "false");
}

void dash_jw_null(struct dash_jw *w) {
    before_value(w);
    put(w, "null");
}

void dash_jw_value(struct dash_jw *w, const struct dash_jw *v) {
    before_value(w);
    dash_jw_raw(w, v->buf ? v->buf : "null", v->buf ? v->len : 4);
    if (v->oom) w->oom = true;
}

void dash_jw_cjson(struct dash_jw *w, const cJSON *v) {
    const cJSON *e;
    if (cJSON_IsObject(v)) {
        dash_jw_obj(w);
        cJSON_ArrayForEach(e, v) {
            dash_jw_key(w, e->string ? e->string : "");
            dash_jw_cjson(w, e);
        }
        dash_jw_obj_end(w);
    } else if (cJSON_IsArray(v)) {
        dash_jw_arr(w);
        cJSON_ArrayForEach(e, v) { dash_jw_cjson(w, e); }
        dash_jw_arr_end(w);
    } else if (cJSON_IsString(v)) {
        dash_jw_str(w, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        dash_jw_num(w, v->valuedouble, 10);
    } else if (cJSON_IsBool(v)) {
        dash_jw_bool(w, cJSON_IsTrue(v));
    } else {
        dash_jw_null(w);
    }
}
