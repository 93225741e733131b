/* safetensors files: a memory-mapped reader that validates the header, and a writer.
 *
 *     struct sg_st_file *f;
 *     if (sg_st_open("model.safetensors", &f) != SG_OK) die(sg_last_error());
 *     const struct sg_st_tensor *t = sg_st_find(f, "model.flag_encoder.weight");
 *     if (t && t->dtype == SG_ST_F32) use(t->data, t->shape[0], t->shape[1]);
 *     sg_st_close(f);                       // unmaps: t->data is gone
 *
 *     struct sg_st_decl d[] = {{"cell_emb", SG_ST_F32, 2, {n_cells, 512}}};
 *     struct sg_st_writer *w;
 *     sg_st_writer_open("out.safetensors", d, 1, NULL, &w);   // header written, file sized
 *     sg_st_writer_put(w, 0, 0, rows, n_bytes);                // at any byte offset, any order
 *     sg_st_writer_close(w);                                   // renames out.safetensors.tmp
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
 * then the data (offsets relative to its start), row-major. The reader rejects, with a message
 * naming the file and the tensor: a header running past the end of the file, offsets outside the
 * data or overlapping another tensor, an unknown dtype, and a byte size that does not match the
 * shape. It never reads outside the mapping.
 */
#ifndef SG_IO_SAFETENSORS_H
#define SG_IO_SAFETENSORS_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SG_ST_MAX_DIMS 8

enum sg_st_dtype {
    SG_ST_BOOL = 0,
    SG_ST_U8,
    SG_ST_I8,
    SG_ST_F8_E4M3,
    SG_ST_F8_E5M2,
    SG_ST_I16,
    SG_ST_U16,
    SG_ST_F16,
    SG_ST_BF16,
    SG_ST_I32,
    SG_ST_U32,
    SG_ST_F32,
    SG_ST_I64,
    SG_ST_U64,
    SG_ST_F64,
    SG_ST_DTYPE_COUNT
};

const char *sg_st_dtype_name(enum sg_st_dtype dtype); /* "F32" */
size_t sg_st_dtype_size(enum sg_st_dtype dtype);

struct sg_st_tensor {
    const char *name;
    enum sg_st_dtype dtype;
    int n_dims;                    /* 0 for a scalar */
    int64_t shape[SG_ST_MAX_DIMS]; /* outermost first, as written */
    int64_t n_elements;
    const void *data; /* inside the mapping; may be unaligned */
    size_t nbytes;
};

struct sg_st_file;

/* Maps and validates `path`. */
sg_status sg_st_open(const char *path, struct sg_st_file **out);
/* Validates a header held in memory (the whole file's bytes); `what` names it in errors. The
 * buffer must outlive the returned handle. Used by the fuzz target and by sg_st_open. */
sg_status sg_st_parse(const void *bytes, size_t size, const char *what, struct sg_st_file **out);
void sg_st_close(struct sg_st_file *f);

const char *sg_st_path(const struct sg_st_file *f);
int sg_st_count(const struct sg_st_file *f);
const struct sg_st_tensor *sg_st_get(const struct sg_st_file *f, int i); /* in header order */
const struct sg_st_tensor *sg_st_find(const struct sg_st_file *f, const char *name);
/* A string value of "__metadata__", or NULL. */
const char *sg_st_metadata(const struct sg_st_file *f, const char *key);

/* ---- writer ----------------------------------------------------------------------------- */

struct sg_st_decl {
    const char *name;
    enum sg_st_dtype dtype;
    int n_dims;
    int64_t shape[SG_ST_MAX_DIMS];
};

struct sg_st_writer;

/* Creates path.tmp holding the header for these tensors (data laid out in order, each tensor
 * 8-byte aligned) and sized to the full file. `metadata` is NULL or a NULL-terminated list of
 * key, value strings. */
sg_status sg_st_writer_open(const char *path, const struct sg_st_decl *decls, int n, const char *const *metadata,
                            struct sg_st_writer **out);
/* Another process's view of a file that sg_st_writer_open (same arguments) created: opens path.tmp
 * for sg_st_writer_put at the same offsets. Its sg_st_writer_close flushes and closes without
 * renaming (the creator renames, after every joined writer closed); abort leaves the file. */
sg_status sg_st_writer_join(const char *path, const struct sg_st_decl *decls, int n, const char *const *metadata,
                            struct sg_st_writer **out);
/* Continues path.tmp left by an interrupted run made with these same arguments: fails, leaving
 * the file as it is, when it is missing (SG_ERR_NOT_FOUND), has another header or the wrong
 * size (SG_ERR_INVALID_ARG). `owner`: this writer renames it on close (else as sg_st_writer_join). */
sg_status sg_st_writer_reuse(const char *path, const struct sg_st_decl *decls, int n, const char *const *metadata,
                             bool owner, struct sg_st_writer **out);
/* Writes `size` bytes at byte `offset` of tensor i's data; the range must lie inside it. */
sg_status sg_st_writer_put(struct sg_st_writer *w, int i, size_t offset, const void *data, size_t size);
/* Flushes, closes and renames path.tmp to path. */
sg_status sg_st_writer_close(struct sg_st_writer *w);
/* Makes what was put so far durable (before recording elsewhere that it was written). */
sg_status sg_st_writer_sync(struct sg_st_writer *w);
/* Abandons the file (path.tmp is removed); for error paths. NULL is ignored. */
void sg_st_writer_abort(struct sg_st_writer *w);
/* Closes without renaming or removing path.tmp, so a later run can continue it. NULL is ignored. */
void sg_st_writer_keep(struct sg_st_writer *w);

#ifdef __cplusplus
}
#endif

#endif
