#include "validation/tsv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void preamble_version(struct sgv_tsv *t, const char *line) {
    static const char *const tags[] = {"#date:", "#version:", "# Generated:", "#data-version:"};
    if (t->version) return;
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
        size_t n = strlen(tags[i]);
        if (strncmp(line, tags[i], n) != 0) continue;
        const char *v = line + n;
        while (*v == ' ') v++;
        if (*v) t->version = strdup(v);
        return;
    }
}

static sg_status tsv_begin(struct sgv_tsv *t, const char *path, char sep, int quoted) {
    memset(t, 0, sizeof *t);
    t->sep    = sep;
    t->quoted = quoted;
    t->path   = strdup(path);
    if (!t->path) return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", path);
    sg_status st = sgv_lines_open(&t->lines, path);
    if (st != SG_OK) {
        free(t->path);
        t->path = NULL;
    }
    return st;
}

sg_status sgv_tsv_open(struct sgv_tsv *t, const char *path, char sep, int quoted) {
    sg_status st = tsv_begin(t, path, sep, quoted);
    if (st != SG_OK) return st;
    char *line;
    int rc;
    while ((rc = sgv_lines_next(&t->lines, &line)) > 0) {
        if (!*line) continue;
        if (line[0] == '#' && !strchr(line, sep)) {
            preamble_version(t, line);
            continue;
        }
        break;
    }
    if (rc <= 0) {
        st = rc < 0 ? SG_ERR_IO : sg_error(SG_ERR_FORMAT, "%s: no header row (empty file?)", path);
        sgv_tsv_close(t);
        return st;
    }
    char *f[SGV_TSV_MAX_FIELDS];
    size_t n =
        quoted ? sgv_split_quoted(line, sep, f, SGV_TSV_MAX_FIELDS) : sgv_split(line, sep, f, SGV_TSV_MAX_FIELDS);
    t->header = calloc(n, sizeof *t->header);
    if (!t->header) {
        sgv_tsv_close(t);
        return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", path);
    }
    for (size_t i = 0; i < n; i++) {
        const char *h = f[i];
        while (*h == '#' || *h == ' ') h++;
        t->header[i] = strdup(h);
        char *e      = t->header[i] + strlen(t->header[i]);
        while (e > t->header[i] && (e[-1] == ' ' || e[-1] == '\r')) *--e = '\0';
    }
    t->n_header = n;
    return SG_OK;
}

sg_status sgv_tsv_open_headerless(struct sgv_tsv *t, const char *path, char sep) { return tsv_begin(t, path, sep, 0); }

int sgv_tsv_col(const struct sgv_tsv *t, const char *name) {
    for (size_t i = 0; i < t->n_header; i++)
        if (strcmp(t->header[i], name) == 0) return (int)i;
    return -1;
}

sg_status sgv_tsv_require(struct sgv_tsv *t, const char *const *names, int *idx) {
    sg_status st = sgv_columns_find(t->path, t->header, t->n_header, names, idx);
    if (st != SG_OK) return st;
    for (size_t k = 0; names[k]; k++)
        if (idx[k] + 1 > t->need) t->need = idx[k] + 1;
    return SG_OK;
}

void sgv_tsv_need(struct sgv_tsv *t, int n_fields) {
    if (n_fields > t->need) t->need = n_fields;
}

int sgv_tsv_next(struct sgv_tsv *t) {
    char *line;
    int rc;
    for (;;) {
        rc = t->quoted ? sgv_lines_next_record(&t->lines, &line) : sgv_lines_next(&t->lines, &line);
        if (rc <= 0) return rc;
        if (!*line || line[0] == '#' || line[0] == '!') continue; /* '!': GAF comments */
        break;
    }
    t->nf = t->quoted ? sgv_split_quoted(line, t->sep, t->f, SGV_TSV_MAX_FIELDS)
                      : sgv_split(line, t->sep, t->f, SGV_TSV_MAX_FIELDS);
    if ((int)t->nf < t->need) {
        sg_error(SG_ERR_FORMAT, "%s: line %ld has %zu fields, expected at least %d", t->path, t->lines.lineno, t->nf,
                 t->need);
        return -1;
    }
    return 1;
}

long sgv_tsv_line(const struct sgv_tsv *t) { return t->lines.lineno; }

void sgv_tsv_close(struct sgv_tsv *t) {
    sgv_lines_close(&t->lines);
    for (size_t i = 0; i < t->n_header; i++) free(t->header[i]);
    free(t->header);
    free(t->path);
    free(t->version);
    memset(t, 0, sizeof *t);
}
