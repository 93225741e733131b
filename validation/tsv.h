/* Header-addressed reading of the tab- (or space-) separated bulk files most sources publish.
 *
 *     struct sgv_tsv t;
 *     static const char *const cols[] = {"ncbi_gene_id", "hpo_id", "hpo_name", NULL};
 *     int c[3];
 *     if (sgv_tsv_open(&t, path, '\t', 0) != SG_OK || sgv_tsv_require(&t, cols, c) != SG_OK) ...
 *     while ((rc = sgv_tsv_next(&t)) > 0) use(t.f[c[0]], t.f[c[1]]);
 *     sgv_tsv_close(&t);
 *
 * The header is the first line containing the separator; '#'-lines before it are preamble
 * (a "#date:", "#version:" or "# Generated:" line there becomes t.version), '#'-lines after it
 * are skipped, and a leading '#' on the header itself ("#GeneID", "#string_protein_id") is
 * ignored when matching names. A row too short for a required column is an error naming the
 * file and line.
 */
#ifndef SGV_TSV_H
#define SGV_TSV_H

#include <stddef.h>

#include "core/status.h"
#include "validation/textfile.h"

#define SGV_TSV_MAX_FIELDS 256

struct sgv_tsv {
    struct sgv_lines lines;
    char *path;
    char sep;
    int quoted; /* fields may be "quoted" (and span lines) */
    char **header;
    size_t n_header;
    char *f[SGV_TSV_MAX_FIELDS]; /* current row */
    size_t nf;
    int need;      /* fields a row must have: 1 + highest required index */
    char *version; /* from the preamble, or NULL */
};

sg_status sgv_tsv_open(struct sgv_tsv *t, const char *path, char sep, int quoted);
/* Opens a file that has no header row (Reactome's *2Reactome files); columns are positional. */
sg_status sgv_tsv_open_headerless(struct sgv_tsv *t, const char *path, char sep);
int sgv_tsv_col(const struct sgv_tsv *t, const char *name);
/* Finds every name (NULL-terminated) or fails listing the columns present. */
sg_status sgv_tsv_require(struct sgv_tsv *t, const char *const *names, int *idx);
/* Marks positional column count (headerless files). */
void sgv_tsv_need(struct sgv_tsv *t, int n_fields);
/* 1: a row in t->f; 0: end of file; -1: error (message set). */
int sgv_tsv_next(struct sgv_tsv *t);
long sgv_tsv_line(const struct sgv_tsv *t);
void sgv_tsv_close(struct sgv_tsv *t);

#endif
