#include "validation/textfile.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

sg_status sgv_lines_open(struct sgv_lines *r, const char *path) {
    memset(r, 0, sizeof *r);
    errno     = 0;
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return sg_error(errno == ENOENT ? SG_ERR_NOT_FOUND : SG_ERR_IO, "%s: cannot open: %s", path,
                        errno ? strerror(errno) : "out of memory");
    gzbuffer(gz, 1 << 17);
    r->gz   = gz;
    r->path = strdup(path);
    r->cap  = 4096;
    r->buf  = malloc(r->cap);
    if (!r->path || !r->buf) {
        sgv_lines_close(r);
        return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", path);
    }
    return SG_OK;
}

/* Appends one physical line at buf+off; returns its length, or -1 at EOF with nothing read. */
static long lines_read_physical(struct sgv_lines *r, size_t off, int *err) {
    size_t len = off;
    int got    = 0;
    for (;;) {
        if (r->cap - len < 2) {
            char *b = realloc(r->buf, r->cap * 2);
            if (!b) {
                *err = ENOMEM;
                return -1;
            }
            r->buf = b;
            r->cap *= 2;
        }
        if (!gzgets(r->gz, r->buf + len, (int)(r->cap - len > 1u << 30 ? 1u << 30 : r->cap - len))) {
            int zerr;
            const char *msg = gzerror(r->gz, &zerr);
            if (zerr != Z_OK && zerr != Z_BUF_ERROR) {
                *err = EIO;
                sg_error(SG_ERR_FORMAT, "%s: line %ld: %s (corrupt or truncated gzip?)", r->path, r->lineno + 1, msg);
                return -1;
            }
            if (zerr == Z_BUF_ERROR) { /* truncated gzip stream */
                *err = EIO;
                sg_error(SG_ERR_FORMAT, "%s: unexpected end of compressed data after line %ld", r->path, r->lineno);
                return -1;
            }
            break;
        }
        got = 1;
        len += strlen(r->buf + len);
        if (len > off && r->buf[len - 1] == '\n') break;
    }
    if (!got) return -1;
    while (len > off && (r->buf[len - 1] == '\n' || r->buf[len - 1] == '\r')) r->buf[--len] = '\0';
    r->lineno++;
    return (long)(len - off);
}

int sgv_lines_next(struct sgv_lines *r, char **line) {
    int err = 0;
    long n  = lines_read_physical(r, 0, &err);
    if (n < 0) {
        if (err == ENOMEM) sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", r->path);
        return err ? -1 : 0;
    }
    *line = r->buf;
    return 1;
}

static int quotes_open(const char *s) {
    int open = 0;
    for (; *s; s++)
        if (*s == '"') open = !open;
    return open;
}

int sgv_lines_next_record(struct sgv_lines *r, char **line) {
    int rc = sgv_lines_next(r, line);
    if (rc <= 0) return rc;
    size_t len = strlen(r->buf);
    long first = r->lineno;
    while (quotes_open(r->buf)) {
        if (r->cap - len < 2) {
            char *b = realloc(r->buf, r->cap * 2);
            if (!b) {
                sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", r->path);
                return -1;
            }
            r->buf = b;
            r->cap *= 2;
        }
        r->buf[len++] = '\n';
        r->buf[len]   = '\0';
        int err       = 0;
        long n        = lines_read_physical(r, len, &err);
        if (n < 0) {
            if (!err) sg_error(SG_ERR_FORMAT, "%s: line %ld: quoted field never closed", r->path, first);
            return -1;
        }
        len += (size_t)n;
    }
    *line = r->buf;
    return 1;
}

void sgv_lines_close(struct sgv_lines *r) {
    if (r->gz) gzclose(r->gz);
    free(r->path);
    free(r->buf);
    memset(r, 0, sizeof *r);
}

size_t sgv_split(char *line, char sep, char **fields, size_t max) {
    size_t n = 0;
    if (!max) return 0;
    fields[n++] = line;
    for (char *p = line; *p; p++) {
        if (*p != sep) continue;
        *p = '\0';
        if (n == max) break;
        fields[n++] = p + 1;
    }
    return n;
}

size_t sgv_split_quoted(char *line, char sep, char **fields, size_t max) {
    size_t n = 0;
    char *p  = line;
    while (n < max) {
        if (*p == '"') {
            char *w = p, *q = p + 1;
            fields[n++] = w;
            for (;;) {
                if (*q == '\0') break;
                if (*q == '"') {
                    if (q[1] == '"') {
                        *w++ = '"';
                        q += 2;
                        continue;
                    }
                    q++;
                    break;
                }
                *w++ = *q++;
            }
            /* anything between the closing quote and the separator is kept verbatim */
            while (*q && *q != sep) *w++ = *q++;
            *w = '\0';
            if (*q != sep) break;
            p = q + 1;
        } else {
            fields[n++] = p;
            char *s     = strchr(p, sep);
            if (!s) break;
            *s = '\0';
            p  = s + 1;
        }
    }
    return n;
}

int sgv_column(char *const *header, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++) {
        const char *h = header[i];
        while (*h == '#' || *h == ' ') h++;
        size_t len = strlen(h);
        while (len && (h[len - 1] == ' ' || h[len - 1] == '\r')) len--;
        if (strlen(name) == len && strncmp(h, name, len) == 0) return (int)i;
    }
    return -1;
}

sg_status sgv_columns_find(const char *path, char *const *header, size_t n, const char *const *names, int *idx) {
    for (size_t k = 0; names[k]; k++) {
        idx[k] = sgv_column(header, n, names[k]);
        if (idx[k] >= 0) continue;
        char list[1024];
        size_t o = 0;
        for (size_t i = 0; i < n && o + 4 < sizeof list; i++)
            o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", header[i]);
        return sg_error(SG_ERR_FORMAT, "%s: no column '%s' (columns: %s)", path, names[k], list);
    }
    return SG_OK;
}

void sgv_upper(const char *s, char *buf, size_t cap) {
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++) buf[i] = (char)toupper((unsigned char)s[i]);
    buf[i] = '\0';
}

char *sgv_trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = '\0';
    return s;
}
