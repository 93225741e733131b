/* Opening an h5ad file and reading X in row chunks (dense, CSR or CSC). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/h5ad_priv.h"

/* CSC chunks are gathered by scanning every column in slabs of this many entries. */
#define CSC_SLAB (INT64_C(1) << 20)

const char *sg_h5ad_path(const struct sg_h5ad *h) { return h->path; }
int64_t sg_h5ad_n_obs(const struct sg_h5ad *h) { return h->n_obs; }
int64_t sg_h5ad_n_var(const struct sg_h5ad *h) { return h->n_var; }
enum sg_h5ad_x_format sg_h5ad_x_format(const struct sg_h5ad *h) { return h->format; }
const char *sg_h5ad_x_dtype(const struct sg_h5ad *h) { return h->x_dtype; }
int64_t sg_h5ad_nnz(const struct sg_h5ad *h) { return h->nnz; }

const char *sg_h5ad_x_format_name(enum sg_h5ad_x_format f) {
    switch (f) {
    case SG_H5AD_DENSE: return "dense";
    case SG_H5AD_CSR: return "csr";
    case SG_H5AD_CSC: return "csc";
    }
    return "?";
}

void sg_h5ad_close(struct sg_h5ad *h) {
    if (!h) return;
    for (int i = 0; i < 2; i++) h5ad_frame_close(&h->frames[i]);
    if (h->x_data >= 0) H5Dclose(h->x_data);
    if (h->x_indices >= 0) H5Dclose(h->x_indices);
    if (h->x_indptr >= 0) H5Dclose(h->x_indptr);
    if (h->x >= 0) H5Oclose(h->x);
    if (h->file >= 0) H5Fclose(h->file);
    if (h->fapl >= 0) H5Pclose(h->fapl);
    free(h->csc_indptr);
    free(h->path);
    free(h);
}

static int64_t dset_len(hid_t d) {
    hid_t sp        = H5Dget_space(d);
    hsize_t dims[1] = {0};
    int64_t n       = -1;
    if (sp >= 0 && H5Sget_simple_extent_ndims(sp) == 1 && H5Sget_simple_extent_dims(sp, dims, NULL) == 1)
        n = (int64_t)dims[0];
    if (sp >= 0) H5Sclose(sp);
    return n;
}

static bool is_numeric(hid_t d) {
    hid_t t = H5Dget_type(d);
    if (t < 0) return false;
    H5T_class_t c = H5Tget_class(t);
    H5Tclose(t);
    return c == H5T_INTEGER || c == H5T_FLOAT;
}

static void dtype_of(hid_t d, char *buf, size_t cap) {
    hid_t t = H5Dget_type(d);
    if (t < 0) {
        snprintf(buf, cap, "?");
        return;
    }
    h5ad_type_name(t, buf, cap);
    H5Tclose(t);
}

static sg_status open_dense(struct sg_h5ad *h) {
    hid_t sp        = H5Dget_space(h->x);
    hsize_t dims[2] = {0, 0};
    int nd          = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    if (nd == 2) H5Sget_simple_extent_dims(sp, dims, NULL);
    if (sp >= 0) H5Sclose(sp);
    if (nd != 2) return sg_error(SG_ERR_FORMAT, "%s: X is a dataset with %d dimensions, expected 2", h->path, nd);
    if (!is_numeric(h->x)) {
        dtype_of(h->x, h->x_dtype, sizeof h->x_dtype);
        return sg_error(SG_ERR_FORMAT, "%s: X holds %s values, expected numbers", h->path, h->x_dtype);
    }
    /* a corrupt header may declare any size: the cell count must not overflow (found by fuzzing) */
    if (dims[0] > (hsize_t)INT64_MAX || dims[1] > (hsize_t)INT64_MAX ||
        (dims[1] > 0 && dims[0] > (hsize_t)INT64_MAX / dims[1]))
        return sg_error(SG_ERR_FORMAT, "%s: X declares %llu x %llu values, more than can be addressed", h->path,
                        (unsigned long long)dims[0], (unsigned long long)dims[1]);
    h->format = SG_H5AD_DENSE;
    h->n_obs  = (int64_t)dims[0];
    h->n_var  = (int64_t)dims[1];
    h->nnz    = h->n_obs * h->n_var;
    dtype_of(h->x, h->x_dtype, sizeof h->x_dtype);
    return SG_OK;
}

static sg_status open_sparse(struct sg_h5ad *h) {
    char enc[64]     = "";
    int64_t shape[2] = {-1, -1};
    if (h5ad_attr_string(h->x, "encoding-type", enc, sizeof enc)) {
        if (strcmp(enc, "csr_matrix") == 0)
            h->format = SG_H5AD_CSR;
        else if (strcmp(enc, "csc_matrix") == 0)
            h->format = SG_H5AD_CSC;
        else
            return sg_error(SG_ERR_UNSUPPORTED, "%s: X has encoding-type '%s' (expected csr_matrix or csc_matrix)",
                            h->path, enc);
        if (!h5ad_attr_shape(h->x, "shape", shape))
            return sg_error(SG_ERR_FORMAT, "%s: sparse X has no 'shape' attribute", h->path);
    } else if (h5ad_attr_string(h->x, "h5sparse_format", enc, sizeof enc)) {
        /* anndata <= 0.7 */
        if (strcmp(enc, "csr") == 0)
            h->format = SG_H5AD_CSR;
        else if (strcmp(enc, "csc") == 0)
            h->format = SG_H5AD_CSC;
        else
            return sg_error(SG_ERR_UNSUPPORTED, "%s: X has h5sparse_format '%s' (expected csr or csc)", h->path, enc);
        if (!h5ad_attr_shape(h->x, "h5sparse_shape", shape))
            return sg_error(SG_ERR_FORMAT, "%s: sparse X has no 'h5sparse_shape' attribute", h->path);
    } else {
        return sg_error(SG_ERR_FORMAT, "%s: X is a group without an encoding-type or h5sparse_format attribute",
                        h->path);
    }
    static const char *const parts[3] = {"data", "indices", "indptr"};
    hid_t *ds[3]                      = {&h->x_data, &h->x_indices, &h->x_indptr};
    for (int i = 0; i < 3; i++) {
        if (!h5ad_has_member(h->x, parts[i]))
            return sg_error(SG_ERR_FORMAT, "%s: sparse X has no '%s' dataset", h->path, parts[i]);
        *ds[i] = H5Dopen2(h->x, parts[i], H5P_DEFAULT);
        if (*ds[i] < 0 || !is_numeric(*ds[i]))
            return sg_error(SG_ERR_FORMAT, "%s: X/%s is not a numeric dataset", h->path, parts[i]);
        if (dset_len(*ds[i]) < 0) return sg_error(SG_ERR_FORMAT, "%s: X/%s is not one-dimensional", h->path, parts[i]);
    }
    dtype_of(h->x_data, h->x_dtype, sizeof h->x_dtype);
    h->n_obs = shape[0];
    h->n_var = shape[1];
    h->nnz   = dset_len(h->x_data);
    if (dset_len(h->x_indices) != h->nnz)
        return sg_error(SG_ERR_FORMAT, "%s: X/indices has %" PRId64 " entries but X/data has %" PRId64, h->path,
                        dset_len(h->x_indices), h->nnz);
    int64_t major = h->format == SG_H5AD_CSR ? h->n_obs : h->n_var;
    if (dset_len(h->x_indptr) != major + 1)
        return sg_error(SG_ERR_FORMAT,
                        "%s: X/indptr has %" PRId64 " entries, expected %" PRId64 " for shape (%" PRId64 ", %" PRId64
                        ")",
                        h->path, dset_len(h->x_indptr), major + 1, h->n_obs, h->n_var);
    if (h->format == SG_H5AD_CSC) {
        int64_t n = 0;
        char what[600];
        snprintf(what, sizeof what, "%s: X/indptr", h->path);
        sg_status st = h5ad_read_int64(h->x_indptr, what, &h->csc_indptr, &n);
        if (st != SG_OK) return st;
        for (int64_t c = 0; c < h->n_var; c++)
            if (h->csc_indptr[c] < 0 || h->csc_indptr[c] > h->csc_indptr[c + 1] || h->csc_indptr[c + 1] > h->nnz)
                return sg_error(SG_ERR_FORMAT,
                                "%s: X/indptr is not non-decreasing within [0, %" PRId64 "] at column %" PRId64,
                                h->path, h->nnz, c);
    }
    return SG_OK;
}

static sg_status check_frames(struct sg_h5ad *h) {
    static const char *const labels[2] = {"obs", "var"};
    for (int i = 0; i < 2; i++) {
        sg_status st = h5ad_frame_open(h, &h->frames[i], labels[i]);
        if (st != SG_OK) return st;
    }
    if (h->frames[0].obj >= 0 && h->frames[0].n_rows != h->n_obs)
        return sg_error(SG_ERR_FORMAT, "%s: obs has %" PRId64 " rows but X has %" PRId64, h->path, h->frames[0].n_rows,
                        h->n_obs);
    if (h->frames[1].obj >= 0 && h->frames[1].n_rows != h->n_var)
        return sg_error(SG_ERR_FORMAT, "%s: var has %" PRId64 " rows but X has %" PRId64 " columns", h->path,
                        h->frames[1].n_rows, h->n_var);
    return SG_OK;
}

static sg_status open_with(const char *path, hid_t fapl, struct sg_h5ad **out) {
    *out              = NULL;
    struct sg_h5ad *h = calloc(1, sizeof *h);
    if (!h || !(h->path = strdup(path))) {
        free(h);
        if (fapl >= 0) H5Pclose(fapl);
        return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", path);
    }
    h->fapl = fapl;
    h->x = h->x_data = h->x_indices = h->x_indptr = -1;
    h->frames[0].obj = h->frames[1].obj = -1;
    h->file                             = H5Fopen(path, H5F_ACC_RDONLY, fapl >= 0 ? fapl : H5P_DEFAULT);
    sg_status st                        = SG_OK;
    if (h->file < 0)
        st = sg_error(SG_ERR_FORMAT, "%s: not a readable HDF5 (.h5ad) file", path);
    else if (!h5ad_has_member(h->file, "X"))
        st = sg_error(SG_ERR_FORMAT, "%s: has no X matrix (expression values are read from adata.X)", path);
    if (st == SG_OK) {
        h->x            = H5Oopen(h->file, "X", H5P_DEFAULT);
        H5I_type_t kind = h->x >= 0 ? H5Iget_type(h->x) : H5I_BADID;
        if (kind == H5I_DATASET)
            st = open_dense(h);
        else if (kind == H5I_GROUP)
            st = open_sparse(h);
        else
            st = sg_error(SG_ERR_FORMAT, "%s: cannot open X", path);
    }
    if (st == SG_OK && (h->n_obs < 0 || h->n_var < 0 || h->n_var > INT32_MAX))
        st =
            sg_error(SG_ERR_FORMAT, "%s: X has an unusable shape (%" PRId64 ", %" PRId64 ")", path, h->n_obs, h->n_var);
    if (st == SG_OK) st = check_frames(h);
    if (st != SG_OK) {
        sg_h5ad_close(h);
        return st;
    }
    *out = h;
    return SG_OK;
}

sg_status sg_h5ad_open(const char *path, struct sg_h5ad **out) {
    *out = NULL;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors become our messages, not HDF5 stack dumps */
    FILE *fp = fopen(path, "rb");
    if (!fp) return sg_error(SG_ERR_NOT_FOUND, "%s: cannot open: no such file or not readable", path);
    fclose(fp);
    if (H5Fis_hdf5(path) <= 0) return sg_error(SG_ERR_FORMAT, "%s: not an HDF5 (.h5ad) file", path);
    return open_with(path, -1, out);
}

sg_status sg_h5ad_open_memory(const void *bytes, size_t size, const char *what, struct sg_h5ad **out) {
    *out = NULL;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fapl_core(fapl, 1 << 20, 0) < 0 || H5Pset_file_image(fapl, (void *)bytes, size) < 0) {
        if (fapl >= 0) H5Pclose(fapl);
        return sg_error(SG_ERR_FORMAT, "%s: cannot open an in-memory HDF5 image", what);
    }
    return open_with(what, fapl, out);
}

/* ---- rows ------------------------------------------------------------------------------- */

void sg_h5ad_rows_free(struct sg_h5ad_rows *r) {
    free(r->indptr);
    free(r->cols);
    free(r->vals);
    memset(r, 0, sizeof *r);
}

static sg_status rows_reserve(struct sg_h5ad_rows *r, int64_t n_rows, int64_t nnz) {
    if (n_rows + 1 > r->cap_rows) {
        int64_t *p = realloc(r->indptr, (size_t)(n_rows + 1) * sizeof *p);
        if (!p) return sg_error(SG_ERR_NO_MEMORY, "out of memory for %" PRId64 " rows", n_rows);
        r->indptr   = p;
        r->cap_rows = n_rows + 1;
    }
    if (nnz > 0 && nnz > r->cap_nnz) {
        int64_t cap = nnz > 2 * r->cap_nnz ? nnz : 2 * r->cap_nnz;
        int32_t *c  = realloc(r->cols, (size_t)cap * sizeof *c);
        if (c) r->cols = c;
        float *v = realloc(r->vals, (size_t)cap * sizeof *v);
        if (v) r->vals = v;
        if (!c || !v) return sg_error(SG_ERR_NO_MEMORY, "out of memory for %" PRId64 " entries", nnz);
        r->cap_nnz = cap;
    }
    return SG_OK;
}

/* Reads elements [off, off + n) of a 1-D dataset converted to mem_type. */
static bool read_slab(hid_t d, hid_t mem_type, int64_t off, int64_t n, void *buf) {
    if (n == 0) return true;
    hid_t fs         = H5Dget_space(d);
    hsize_t start[1] = {(hsize_t)off}, count[1] = {(hsize_t)n};
    hid_t ms = H5Screate_simple(1, count, NULL);
    bool ok  = fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
              H5Dread(d, mem_type, ms, fs, H5P_DEFAULT, buf) >= 0;
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    return ok;
}

static sg_status read_dense(struct sg_h5ad *h, int64_t r0, int64_t n, struct sg_h5ad_rows *out) {
    if (h->n_var > 0 && (size_t)n > SIZE_MAX / sizeof(float) / (size_t)h->n_var)
        return sg_error(SG_ERR_NO_MEMORY, "%s: %" PRId64 " dense rows of %" PRId64 " columns do not fit in memory",
                        h->path, n, h->n_var);
    size_t cells = (size_t)n * (size_t)h->n_var;
    float *buf   = malloc(cells ? cells * sizeof(float) : 1);
    if (!buf) return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory reading %" PRId64 " dense rows", h->path, n);
    hid_t fs         = H5Dget_space(h->x);
    hsize_t start[2] = {(hsize_t)r0, 0}, count[2] = {(hsize_t)n, (hsize_t)h->n_var};
    hid_t ms = H5Screate_simple(2, count, NULL);
    bool ok =
        cells == 0 || (fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
                       H5Dread(h->x, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, buf) >= 0);
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    if (!ok) {
        free(buf);
        return sg_error(SG_ERR_IO, "%s: cannot read X rows %" PRId64 "..%" PRId64, h->path, r0, r0 + n - 1);
    }
    int64_t nnz = 0;
    for (size_t i = 0; i < cells; i++) nnz += buf[i] != 0.0f;
    sg_status st = rows_reserve(out, n, nnz);
    if (st == SG_OK) {
        int64_t p = 0;
        for (int64_t i = 0; i < n; i++) {
            out->indptr[i]   = p;
            const float *row = buf + (size_t)i * (size_t)h->n_var;
            for (int64_t j = 0; j < h->n_var; j++) {
                /* row lies inside buf: cells = n * n_var, checked above not to overflow */
                if (row[j] == 0.0f) continue; /* NOLINT(clang-analyzer-core.UndefinedBinaryOperatorResult) */
                out->cols[p] = (int32_t)j;
                out->vals[p] = row[j];
                p++;
            }
        }
        out->indptr[n] = p;
        out->nnz       = p;
    }
    free(buf);
    return st;
}

static sg_status read_csr(struct sg_h5ad *h, int64_t r0, int64_t n, struct sg_h5ad_rows *out) {
    sg_status st = rows_reserve(out, n, 0);
    if (st != SG_OK) return st;
    if (!read_slab(h->x_indptr, H5T_NATIVE_INT64, r0, n + 1, out->indptr))
        return sg_error(SG_ERR_IO, "%s: cannot read X/indptr", h->path);
    const int64_t p0 = out->indptr[0];
    for (int64_t i = 0; i <= n; i++) {
        if (out->indptr[i] < p0 || (i > 0 && out->indptr[i] < out->indptr[i - 1]) || out->indptr[i] > h->nnz)
            return sg_error(SG_ERR_FORMAT, "%s: X/indptr is not non-decreasing within [0, %" PRId64 "] at row %" PRId64,
                            h->path, h->nnz, r0 + i);
        out->indptr[i] -= p0;
    }
    const int64_t nnz = out->indptr[n];
    st                = rows_reserve(out, n, nnz);
    if (st != SG_OK) return st;
    if (!read_slab(h->x_indices, H5T_NATIVE_INT32, p0, nnz, out->cols))
        return sg_error(SG_ERR_IO, "%s: cannot read X/indices", h->path);
    if (!read_slab(h->x_data, H5T_NATIVE_FLOAT, p0, nnz, out->vals))
        return sg_error(SG_ERR_IO, "%s: cannot read X/data", h->path);
    for (int64_t i = 0; i < n; i++)
        for (int64_t p = out->indptr[i]; p < out->indptr[i + 1]; p++)
            if (out->cols[p] < 0 || out->cols[p] >= h->n_var)
                return sg_error(SG_ERR_FORMAT,
                                "%s: X/indices holds column %d in row %" PRId64 " (X has %" PRId64 " columns)", h->path,
                                out->cols[p], r0 + i, h->n_var);
    out->nnz = nnz;
    return SG_OK;
}

struct csc_hit {
    int32_t row; /* relative to the chunk */
    int32_t col;
    float val;
};

/* Scans every column once, keeping the entries of rows [r0, r0 + n); a counting sort by row
 * then gives CSR with columns ascending within each row. */
static sg_status read_csc(struct sg_h5ad *h, int64_t r0, int64_t n, struct sg_h5ad_rows *out) {
    int64_t slab         = h->nnz < CSC_SLAB ? h->nnz : CSC_SLAB;
    int64_t *rows        = malloc((size_t)(slab + 1) * sizeof *rows);
    float *vals          = malloc((size_t)(slab + 1) * sizeof *vals);
    struct csc_hit *hits = NULL;
    int64_t n_hits = 0, cap_hits = 0, col = 0;
    sg_status st = rows && vals ? SG_OK : sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", h->path);
    for (int64_t s = 0; st == SG_OK && s < h->nnz; s += slab) {
        int64_t len = h->nnz - s < slab ? h->nnz - s : slab;
        if (!read_slab(h->x_indices, H5T_NATIVE_INT64, s, len, rows) ||
            !read_slab(h->x_data, H5T_NATIVE_FLOAT, s, len, vals)) {
            st = sg_error(SG_ERR_IO, "%s: cannot read X/indices or X/data", h->path);
            break;
        }
        for (int64_t i = 0; i < len; i++) {
            while (col < h->n_var && h->csc_indptr[col + 1] <= s + i) col++;
            int64_t r = rows[i];
            if (r < 0 || r >= h->n_obs) {
                st = sg_error(SG_ERR_FORMAT, "%s: X/indices holds row %" PRId64 " (X has %" PRId64 " rows)", h->path, r,
                              h->n_obs);
                break;
            }
            if (r < r0 || r >= r0 + n) continue;
            if (n_hits == cap_hits) {
                cap_hits           = cap_hits ? 2 * cap_hits : 4096;
                struct csc_hit *nh = realloc(hits, (size_t)cap_hits * sizeof *nh);
                if (!nh) {
                    st = sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", h->path);
                    break;
                }
                hits = nh;
            }
            hits[n_hits++] = (struct csc_hit){(int32_t)(r - r0), (int32_t)col, vals[i]};
        }
    }
    free(rows);
    free(vals);
    if (st == SG_OK) st = rows_reserve(out, n, n_hits);
    if (st == SG_OK) {
        memset(out->indptr, 0, (size_t)(n + 1) * sizeof *out->indptr);
        for (int64_t i = 0; i < n_hits; i++) out->indptr[hits[i].row + 1]++;
        for (int64_t i = 0; i < n; i++) out->indptr[i + 1] += out->indptr[i];
        int64_t *fill = malloc((size_t)(n + 1) * sizeof *fill);
        if (!fill)
            st = sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", h->path);
        else {
            memcpy(fill, out->indptr, (size_t)(n + 1) * sizeof *fill);
            for (int64_t i = 0; i < n_hits; i++) {
                int64_t p    = fill[hits[i].row]++;
                out->cols[p] = hits[i].col;
                out->vals[p] = hits[i].val;
            }
            free(fill);
            out->nnz = n_hits;
        }
    }
    free(hits);
    return st;
}

sg_status sg_h5ad_read_rows(struct sg_h5ad *h, int64_t row0, int64_t n, struct sg_h5ad_rows *out) {
    if (row0 < 0 || row0 > h->n_obs || n < 0)
        return sg_error(SG_ERR_INVALID_ARG, "%s: rows %" PRId64 "+%" PRId64 " are outside 0..%" PRId64, h->path, row0,
                        n, h->n_obs);
    if (n > h->n_obs - row0) n = h->n_obs - row0;
    if (n > INT32_MAX) n = INT32_MAX;
    out->row0   = row0;
    out->n_rows = 0;
    out->nnz    = 0;
    sg_status st;
    switch (h->format) {
    case SG_H5AD_DENSE: st = read_dense(h, row0, n, out); break;
    case SG_H5AD_CSR: st = read_csr(h, row0, n, out); break;
    default: st = read_csc(h, row0, n, out); break;
    }
    if (st == SG_OK) out->n_rows = n;
    return st;
}

int64_t sg_h5ad_rows_per_chunk(const struct sg_h5ad *h, size_t budget) {
    double per_row;
    if (h->format == SG_H5AD_DENSE)
        per_row = (double)h->n_var * 4.0 + 8.0;
    else
        per_row = (h->n_obs > 0 ? (double)h->nnz / (double)h->n_obs : 0.0) * 8.0 + 8.0;
    double rows = (double)budget / per_row;
    if (rows < 1.0) rows = 1.0;
    if (rows > (double)h->n_obs) rows = (double)(h->n_obs > 0 ? h->n_obs : 1);
    return (int64_t)rows;
}
