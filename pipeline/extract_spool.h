/* The rows of obsm['X_sae'] on their way to the h5ad copy: appended to a plain file while cells
 * stream (cheap to make durable at a checkpoint and to cut back to it on resume, which an HDF5
 * file being written is not), and copied into the h5ad once every cell is done.
 *
 *     struct sg_spool *s;
 *     sg_spool_open("run/X_sae.spool", -1, &s);      // -1: a new file; else resume at that length
 *     sg_spool_row(s, row, cols, vals, n);           // rows in increasing order
 *     sg_spool_sync(s, &bytes);                      // durable; bytes goes into the checkpoint
 *     sg_spool_replay(s, obsm);                      // every row into sg_h5ad_obsm_row
 *     sg_spool_close(s, true);                       // true: remove the file
 */
#ifndef SG_PIPELINE_EXTRACT_SPOOL_H
#define SG_PIPELINE_EXTRACT_SPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "io/h5ad_write.h"

struct sg_spool;

sg_status sg_spool_open(const char *path, int64_t resume_bytes, struct sg_spool **out);
sg_status sg_spool_row(struct sg_spool *s, int64_t row, const int32_t *cols, const float *vals, int64_t n);
sg_status sg_spool_sync(struct sg_spool *s, int64_t *bytes);
sg_status sg_spool_replay(struct sg_spool *s, struct sg_h5ad_obsm *w);
void sg_spool_close(struct sg_spool *s, bool remove);

#endif
