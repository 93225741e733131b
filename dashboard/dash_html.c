/* Fills the page template (dashboard/assets/dashboard.html, embedded at build time) with the
 * styles, the script and the data, and writes it atomically (temporary file, then rename). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/dash_html.h"

extern const char saeg_dash_html[], saeg_dash_css[], saeg_dash_js[];
extern const unsigned long saeg_dash_html_len, saeg_dash_css_len, saeg_dash_js_len;

/* Text for an HTML text node or attribute. */
static void html_text(struct dash_jw *out, const char *s) {
    for (; *s; s++) {
        const char *e = *s == '&'    ? "&amp;"
                        : *s == '<'  ? "&lt;"
                        : *s == '>'  ? "&gt;"
                        : *s == '"'  ? "&quot;"
                        : *s == '\'' ? "&#39;"
                                     : NULL;
        if (e)
            dash_jw_raw(out, e, strlen(e));
        else
            dash_jw_raw(out, s, 1);
    }
}

sg_status dash_html_build(const char *title, const struct dash_jw *data, struct dash_jw *out) {
    const char *t = saeg_dash_html, *end = saeg_dash_html + saeg_dash_html_len;
    while (t < end) {
        const char *m = strstr(t, "@@");
        if (!m) m = end;
        dash_jw_raw(out, t, (size_t)(m - t));
        if (m == end) break;
        const char *close = strstr(m + 2, "@@");
        if (!close) return sg_error(SG_ERR_FORMAT, "dashboard template: unterminated @@ marker");
        size_t n = (size_t)(close - m - 2);
        if (n == 5 && !memcmp(m + 2, "TITLE", 5))
            html_text(out, title);
        else if (n == 5 && !memcmp(m + 2, "STYLE", 5))
            dash_jw_raw(out, saeg_dash_css, saeg_dash_css_len);
        else if (n == 6 && !memcmp(m + 2, "SCRIPT", 6))
            dash_jw_raw(out, saeg_dash_js, saeg_dash_js_len);
        else if (n == 4 && !memcmp(m + 2, "DATA", 4))
            dash_jw_raw(out, data->buf, data->len);
        else
            return sg_error(SG_ERR_FORMAT, "dashboard template: unknown marker @@%.*s@@", (int)n, m + 2);
        t = close + 2;
    }
    return out->oom ? sg_error(SG_ERR_NO_MEMORY, "out of memory building the dashboard page") : SG_OK;
}

sg_status dash_html_save(const char *path, const struct dash_jw *page) {
    size_t n  = strlen(path);
    char *tmp = malloc(n + 16);
    if (!tmp) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    snprintf(tmp, n + 16, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        sg_status st = sg_error(SG_ERR_IO, "%s: cannot write (%s)", path, strerror(errno));
        free(tmp);
        return st;
    }
    size_t wrote = fwrite(page->buf, 1, page->len, f);
    int bad      = wrote != page->len || fflush(f) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        sg_status st = sg_error(SG_ERR_IO, "%s: write failed (%s)", path, strerror(errno));
        remove(tmp);
        free(tmp);
        return st;
    }
    free(tmp);
    return SG_OK;
}
