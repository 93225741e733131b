/* Writing a copy of an h5ad with one more matrix in obsm, row by row, as anndata's CSR encoding
 * (a group with data, indices and indptr; encoding-type "csr_matrix", shape [n_obs, n_cols]).
 *
 *     struct sg_h5ad_obsm *w;
 *     sg_h5ad_obsm_begin("in.h5ad", "out.h5ad", "X_sae", n_obs, n_cols, &w);  // copies the file
 *     sg_h5ad_obsm_row(w, row, cols, vals, n);   // rows in increasing order; rows left out are empty
 *     sg_h5ad_obsm_end(w);                       // indptr and shape written, out.h5ad in place
 *     // on an error: sg_h5ad_obsm_abort(w) removes the unfinished copy
 *
 * The copy is byte for byte, so X, obs, var, layers and uns stay exactly as they were; an
 * existing obsm[key] is replaced. The file is built as out.h5ad.tmp and renamed at the end.
 */
#ifndef SG_IO_H5AD_WRITE_H
#define SG_IO_H5AD_WRITE_H

#include <stdint.h>

#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sg_h5ad_obsm;

sg_status sg_h5ad_obsm_begin(const char *src, const char *dst, const char *key, int64_t n_obs, int64_t n_cols,
                             struct sg_h5ad_obsm **out);
/* cols increasing, each < n_cols; row > every row given before. */
sg_status sg_h5ad_obsm_row(struct sg_h5ad_obsm *w, int64_t row, const int32_t *cols, const float *vals, int64_t n);
/* Finishes and closes (also on failure, which removes the copy). */
sg_status sg_h5ad_obsm_end(struct sg_h5ad_obsm *w);
void sg_h5ad_obsm_abort(struct sg_h5ad_obsm *w);

#ifdef __cplusplus
}
#endif

#endif
