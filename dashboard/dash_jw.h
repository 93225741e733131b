/* A small JSON writer whose output is safe inside an HTML <script type="application/json"> block.
 *
 *     struct dash_jw w = {0};
 *     dash_jw_obj(&w);
 *     dash_jw_key(&w, "symbol"); dash_jw_str(&w, gene->symbol);   // "</script>" -> "\u003c/script\u003e"
 *     dash_jw_key(&w, "mean");   dash_jw_num(&w, 3.91, 4);
 *     dash_jw_obj_end(&w);
 *     if (w.oom) ...;  use w.buf, w.len;  dash_jw_free(&w);
 *
 * Strings escape '<', '>' and '&' (so no "</script>", "<!--" or "<script" can appear in the
 * output), U+2028/U+2029, control characters, and replace invalid UTF-8 with U+FFFD. Commas
 * are placed by the writer. Non-finite numbers are written as null.
 */
#ifndef SAEG_DASH_JW_H
#define SAEG_DASH_JW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define DASH_JW_MAX_DEPTH 64

struct dash_jw {
    char *buf;
    size_t len, cap;
    int depth;
    bool oom;  /* an allocation failed: the output is incomplete */
    bool deep; /* nesting went past DASH_JW_MAX_DEPTH: the output is incomplete */
    bool after_key;
    bool need_comma[DASH_JW_MAX_DEPTH + 1];
};

void dash_jw_free(struct dash_jw *w);
void dash_jw_obj(struct dash_jw *w);
void dash_jw_obj_end(struct dash_jw *w);
void dash_jw_arr(struct dash_jw *w);
void dash_jw_arr_end(struct dash_jw *w);
void dash_jw_key(struct dash_jw *w, const char *key);
void dash_jw_str(struct dash_jw *w, const char *s); /* NULL writes null */
void dash_jw_strn(struct dash_jw *w, const char *s, size_t n);
void dash_jw_num(struct dash_jw *w, double x, int digits); /* %.<digits>g */
void dash_jw_int(struct dash_jw *w, int64_t x);
void dash_jw_bool(struct dash_jw *w, bool v);
void dash_jw_null(struct dash_jw *w);
/* Writes any parsed JSON value (numbers with 10 significant digits). */
void dash_jw_cjson(struct dash_jw *w, const cJSON *v);
/* Appends raw bytes (no escaping, no commas): for the writer's own callers only. */
void dash_jw_raw(struct dash_jw *w, const char *s, size_t n);
/* Writes another writer's complete output as one value (a comma before it when needed). */
void dash_jw_value(struct dash_jw *w, const struct dash_jw *v);

#endif
