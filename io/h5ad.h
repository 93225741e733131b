/* Reading AnnData .h5ad files with the HDF5 C library: X in row chunks, obs/var columns.
 *
 *     struct sg_h5ad *h;
 *     if (sg_h5ad_open("data.h5ad", &h) != SG_OK) die(sg_last_error());
 *     struct sg_h5ad_strings ids = {0};
 *     sg_h5ad_column_strings(h, SG_H5AD_VAR, "ensembl_id", &ids);   // NULL name: the index
 *     struct sg_h5ad_rows rows = {0};
 *     int64_t step = sg_h5ad_rows_per_chunk(h, 64 << 20);
 *     for (int64_t r = 0; r < sg_h5ad_n_obs(h); r += step) {
 *         sg_h5ad_read_rows(h, r, step, &rows);                      // CSR chunk, float values
 *         for (int64_t i = 0; i < rows.n_rows; i++)
 *             for (int64_t p = rows.indptr[i]; p < rows.indptr[i + 1]; p++)
 *                 use(r + i, rows.cols[p], rows.vals[p]);
 *     }
 *     sg_h5ad_rows_free(&rows); sg_h5ad_strings_free(&ids); sg_h5ad_close(h);
 *
 * X may be dense, CSR or CSC (data/indices/indptr) of any integer or float type; values are
 * converted to float32. A chunk holds the stored entries of each row (CSR: in stored order,
 * explicit zeros included, like scipy's row slices; dense: the nonzero entries; CSC: in column
 * order, like scipy's tocsr()). Dataframes are read in the encodings of anndata >= 0.8
 * (encoding-type attributes, categorical groups, nullable columns), 0.7 (h5sparse_format,
 * categories by object reference) and 0.6 (structured-array obs/var). Errors name the file and
 * the field.
 */
#ifndef SG_IO_H5AD_H
#define SG_IO_H5AD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sg_h5ad;

enum sg_h5ad_x_format { SG_H5AD_DENSE = 0, SG_H5AD_CSR, SG_H5AD_CSC };
enum sg_h5ad_frame_kind { SG_H5AD_OBS = 0, SG_H5AD_VAR = 1 };

sg_status sg_h5ad_open(const char *path, struct sg_h5ad **out);
/* Opens an in-memory copy of a file (fuzzing, tests); `what` names it in errors. */
sg_status sg_h5ad_open_memory(const void *bytes, size_t size, const char *what, struct sg_h5ad **out);
void sg_h5ad_close(struct sg_h5ad *h);

const char *sg_h5ad_path(const struct sg_h5ad *h);
int64_t sg_h5ad_n_obs(const struct sg_h5ad *h);
int64_t sg_h5ad_n_var(const struct sg_h5ad *h);
enum sg_h5ad_x_format sg_h5ad_x_format(const struct sg_h5ad *h);
const char *sg_h5ad_x_format_name(enum sg_h5ad_x_format f); /* "dense", "csr", "csc" */
const char *sg_h5ad_x_dtype(const struct sg_h5ad *h);       /* "float32", "int64", ... */
int64_t sg_h5ad_nnz(const struct sg_h5ad *h);               /* stored entries (dense: all) */

/* ---- obs / var -------------------------------------------------------------------------- */

struct sg_h5ad_strings {
    int64_t n;
    char **s; /* missing values (categorical code -1, masked nullable) are "" */
};
void sg_h5ad_strings_free(struct sg_h5ad_strings *s);

int sg_h5ad_n_columns(const struct sg_h5ad *h, enum sg_h5ad_frame_kind frame);
const char *sg_h5ad_column_name(const struct sg_h5ad *h, enum sg_h5ad_frame_kind frame, int i);
bool sg_h5ad_has_column(const struct sg_h5ad *h, enum sg_h5ad_frame_kind frame, const char *name);
/* Writes "a, b, c" (or "none") into buf, for error messages. */
void sg_h5ad_column_list(const struct sg_h5ad *h, enum sg_h5ad_frame_kind frame, char *buf, size_t cap);
/* Reads a column (NULL: the index) as strings. A missing column fails with SG_ERR_NOT_FOUND
 * and a message listing the columns that exist. */
sg_status sg_h5ad_column_strings(struct sg_h5ad *h, enum sg_h5ad_frame_kind frame, const char *name,
                                 struct sg_h5ad_strings *out);

/* ---- X ---------------------------------------------------------------------------------- */

/* A block of rows in CSR form. Buffers are reused between reads; free with sg_h5ad_rows_free. */
struct sg_h5ad_rows {
    int64_t row0, n_rows;
    int64_t *indptr; /* n_rows + 1 offsets into cols/vals, starting at 0 */
    int32_t *cols;   /* var index of each entry */
    float *vals;
    int64_t nnz;
    /* private: capacities */
    int64_t cap_rows, cap_nnz;
};
void sg_h5ad_rows_free(struct sg_h5ad_rows *r);

/* Reads rows [row0, row0 + n) (clipped to n_obs). */
sg_status sg_h5ad_read_rows(struct sg_h5ad *h, int64_t row0, int64_t n, struct sg_h5ad_rows *out);
/* How many rows a chunk of about `budget` bytes holds (at least 1). */
int64_t sg_h5ad_rows_per_chunk(const struct sg_h5ad *h, size_t budget);

#ifdef __cplusplus
}
#endif

#endif
