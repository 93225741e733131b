/* A small streaming JSON writer for the extraction files: they can hold millions of values, so
 * they are printed as they are produced rather than built as a tree first. Containers down to
 * line_depth start each element on a new line (one feature per line). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pipeline/extract_priv.h"

void sg_jw_begin(struct sg_jw *w, FILE *f, int line_depth) {
    memset(w, 0, sizeof *w);
    w->f          = f;
    w->line_depth = line_depth;
    w->first[0]   = true;
}

static void put_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* the separator and key before a value */
static void lead(struct sg_jw *w, const char *key) {
    if (w->depth > 0 && !w->first[w->depth]) fputc(',', w->f);
    if (w->depth > 0 && w->depth <= w->line_depth) fputs("\n ", w->f);
    w->first[w->depth] = false;
    if (key) {
        put_string(w->f, key);
        fputc(':', w->f);
    }
}

static void open_container(struct sg_jw *w, const char *key, char c) {
    lead(w, key);
    fputc(c, w->f);
    if (w->depth < (int)(sizeof w->first / sizeof w->first[0]) - 1) w->depth++;
    w->first[w->depth] = true;
}

static void close_container(struct sg_jw *w, char c) {
    if (w->depth <= w->line_depth && !w->first[w->depth]) fputc('\n', w->f);
    if (w->depth > 0) w->depth--;
    fputc(c, w->f);
}

void sg_jw_obj(struct sg_jw *w, const char *key) { open_container(w, key, '{'); }
void sg_jw_arr(struct sg_jw *w, const char *key) { open_container(w, key, '['); }
void sg_jw_end_obj(struct sg_jw *w) { close_container(w, '}'); }
void sg_jw_end_arr(struct sg_jw *w) { close_container(w, ']'); }

void sg_jw_str(struct sg_jw *w, const char *key, const char *s) {
    lead(w, key);
    if (s)
        put_string(w->f, s);
    else
        fputs("null", w->f);
}

void sg_jw_num(struct sg_jw *w, const char *key, double v) {
    lead(w, key);
    if (isfinite(v))
        fprintf(w->f, "%.9g", v);
    else
        fputs("null", w->f);
}

void sg_jw_num17(struct sg_jw *w, const char *key, double v) {
    lead(w, key);
    if (isfinite(v))
        fprintf(w->f, "%.17g", v);
    else
        fputs("null", w->f);
}

void sg_jw_int(struct sg_jw *w, const char *key, int64_t v) {
    lead(w, key);
    fprintf(w->f, "%lld", (long long)v);
}

void sg_jw_bool(struct sg_jw *w, const char *key, bool v) {
    lead(w, key);
    fputs(v ? "true" : "false", w->f);
}

void sg_jw_null(struct sg_jw *w, const char *key) {
    lead(w, key);
    fputs("null", w->f);
}

sg_status sg_jw_open(const char *path, FILE **f) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    *f = fopen(tmp, "wb");
    if (!*f) return sg_error(SG_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    return SG_OK;
}

sg_status sg_jw_close(FILE *f, const char *path) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fputc('\n', f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        remove(tmp);
        return sg_error(SG_ERR_IO, "cannot write %s (disk full?)", path);
    }
    if (rename(tmp, path) != 0) return sg_error(SG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return SG_OK;
}
