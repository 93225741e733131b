/* Line-oriented reading of bulk annotation files, plain or gzip-compressed (zlib detects which).
 *
 *     struct sgv_lines r;
 *     if (sgv_lines_open(&r, "genes_to_phenotype.txt") != SG_OK) return SG_ERR_IO;
 *     char *line, *f[16];
 *     int rc;
 *     while ((rc = sgv_lines_next(&r, &line)) > 0) {
 *         size_t n = sgv_split(line, '\t', f, 16);
 *         ...
 *     }
 *     sgv_lines_close(&r);
 *     if (rc < 0) return SG_ERR_IO;      // sg_last_error() names the file and line
 *
 * Columns are found by header name (sgv_columns_find), never by position: published files
 * add and rename columns between releases.
 */
#ifndef SGV_TEXTFILE_H
#define SGV_TEXTFILE_H

#include <stddef.h>

#include "core/status.h"

struct sgv_lines {
    void *gz; /* gzFile */
    char *path;
    char *buf;
    size_t cap;
    long lineno; /* 1-based number of the last line returned */
};

sg_status sgv_lines_open(struct sgv_lines *r, const char *path);
/* 1: a line (without its newline) in *line, valid until the next call; 0: end; -1: error. */
int sgv_lines_next(struct sgv_lines *r, char **line);
/* Like sgv_lines_next, but a double-quoted field may span lines (GenCC exports). */
int sgv_lines_next_record(struct sgv_lines *r, char **line);
void sgv_lines_close(struct sgv_lines *r);

/* Splits in place on `sep`; returns the number of fields (at most max). */
size_t sgv_split(char *line, char sep, char **fields, size_t max);
/* Same, but a field that starts with '"' runs to its closing quote ("" is a literal quote),
 * and the quotes are removed. */
size_t sgv_split_quoted(char *line, char sep, char **fields, size_t max);

/* Index of column `name` in a header row, or -1. Leading '#' and spaces are ignored. */
int sgv_column(char *const *header, size_t n, const char *name);

/* Finds every name in `names` (NULL-terminated) and stores the indices in idx. A missing
 * column fails with "<path>: no column 'x' (columns: a, b, ...)". */
sg_status sgv_columns_find(const char *path, char *const *header, size_t n, const char *const *names, int *idx);

/* Copies s into buf uppercased (ASCII). */
void sgv_upper(const char *s, char *buf, size_t cap);

/* Strips leading/trailing spaces in place and returns the start. */
char *sgv_trim(char *s);

#endif
