/* A copy of an h5ad with a CSR matrix added to obsm (io/h5ad_write.h). data and indices grow as
 * rows arrive (chunked, extendible datasets); indptr is kept in memory and written at the end. */
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/h5ad_write.h"

#define BUF_ENTRIES 65536

struct sg_h5ad_obsm {
    char dst[4096], tmp[4200], key[256];
    hid_t file, group, data, indices;
    int64_t n_obs, n_cols, nnz, next_row;
    int64_t *indptr; /* [n_obs + 1] */
    float *buf_vals;
    int32_t *buf_cols;
    int64_t n_buf;
};

static sg_status copy_file(const char *src, const char *dst) {
    FILE *in = fopen(src, "rb");
    if (!in) return sg_error(SG_ERR_IO, "cannot read %s: %s", src, strerror(errno));
    FILE *out = fopen(dst, "wb");
    if (!out) {
        fclose(in);
        return sg_error(SG_ERR_IO, "cannot create %s: %s", dst, strerror(errno));
    }
    char *buf    = malloc(1 << 20);
    sg_status st = buf ? SG_OK : sg_error(SG_ERR_NO_MEMORY, "out of memory");
    size_t n;
    while (st == SG_OK && (n = fread(buf, 1, 1 << 20, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) st = sg_error(SG_ERR_IO, "%s: write failed (disk full?)", dst);
    if (st == SG_OK && ferror(in)) st = sg_error(SG_ERR_IO, "%s: read failed", src);
    free(buf);
    fclose(in);
    if (fclose(out) != 0 && st == SG_OK) st = sg_error(SG_ERR_IO, "%s: write failed (disk full?)", dst);
    return st;
}

/* a scalar variable-length UTF-8 string attribute, as h5py and anndata write them */
static bool set_attr_string(hid_t obj, const char *name, const char *value) {
    hid_t type = H5Tcopy(H5T_C_S1), space = H5Screate(H5S_SCALAR);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
    hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    bool ok = a >= 0 && H5Awrite(a, type, &value) >= 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
    return ok;
}

static bool set_attr_shape(hid_t obj, int64_t rows, int64_t cols) {
    hsize_t dim       = 2;
    const int64_t v[] = {rows, cols};
    hid_t space       = H5Screate_simple(1, &dim, NULL);
    hid_t a           = H5Acreate2(obj, "shape", H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    bool ok           = a >= 0 && H5Awrite(a, H5T_NATIVE_INT64, v) >= 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    return ok;
}

static hid_t growing_dataset(hid_t group, const char *name, hid_t type) {
    hsize_t dim = 0, max = H5S_UNLIMITED, chunk = BUF_ENTRIES;
    hid_t space = H5Screate_simple(1, &dim, &max), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, &chunk);
    hid_t d = H5Dcreate2(group, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(space);
    return d;
}

static void close_all(struct sg_h5ad_obsm *w) {
    if (w->data >= 0) H5Dclose(w->data);
    if (w->indices >= 0) H5Dclose(w->indices);
    if (w->group >= 0) H5Gclose(w->group);
    if (w->file >= 0) H5Fclose(w->file);
    w->data = w->indices = w->group = w->file = -1;
}

void sg_h5ad_obsm_abort(struct sg_h5ad_obsm *w) {
    if (!w) return;
    close_all(w);
    remove(w->tmp);
    free(w->indptr);
    free(w->buf_vals);
    free(w->buf_cols);
    free(w);
}

static sg_status open_group(struct sg_h5ad_obsm *w) {
    const char *what = w->dst;
    w->file          = H5Fopen(w->tmp, H5F_ACC_RDWR, H5P_DEFAULT);
    if (w->file < 0) return sg_error(SG_ERR_FORMAT, "%s: not an HDF5 file", what);
    if (H5Lexists(w->file, "obsm", H5P_DEFAULT) <= 0) {
        hid_t g = H5Gcreate2(w->file, "obsm", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        bool ok =
            g >= 0 && set_attr_string(g, "encoding-type", "dict") && set_attr_string(g, "encoding-version", "0.1.0");
        if (g >= 0) H5Gclose(g);
        if (!ok) return sg_error(SG_ERR_IO, "%s: cannot create obsm", what);
    }
    char path[300];
    snprintf(path, sizeof path, "obsm/%s", w->key);
    if (H5Lexists(w->file, path, H5P_DEFAULT) > 0 && H5Ldelete(w->file, path, H5P_DEFAULT) < 0)
        return sg_error(SG_ERR_IO, "%s: cannot replace %s", what, path);
    w->group = H5Gcreate2(w->file, path, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (w->group < 0 || !set_attr_string(w->group, "encoding-type", "csr_matrix") ||
        !set_attr_string(w->group, "encoding-version", "0.1.0") || !set_attr_shape(w->group, w->n_obs, w->n_cols))
        return sg_error(SG_ERR_IO, "%s: cannot create %s", what, path);
    w->data    = growing_dataset(w->group, "data", H5T_IEEE_F32LE);
    w->indices = growing_dataset(w->group, "indices", H5T_STD_I32LE);
    if (w->data < 0 || w->indices < 0) return sg_error(SG_ERR_IO, "%s: cannot create %s/data", what, path);
    return SG_OK;
}

sg_status sg_h5ad_obsm_begin(const char *src, const char *dst, const char *key, int64_t n_obs, int64_t n_cols,
                             struct sg_h5ad_obsm **out) {
    *out = NULL;
    if (n_obs < 0 || n_cols < 1 || n_cols > INT32_MAX || strlen(key) > 200 || strchr(key, '/'))
        return sg_error(SG_ERR_INVALID_ARG, "obsm['%s']: bad key or shape", key);
    struct sg_h5ad_obsm *w = calloc(1, sizeof *w);
    if (!w) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    w->file = w->group = w->data = w->indices = -1;
    snprintf(w->dst, sizeof w->dst, "%s", dst);
    snprintf(w->tmp, sizeof w->tmp, "%s.tmp", dst);
    snprintf(w->key, sizeof w->key, "%s", key);
    w->n_obs    = n_obs;
    w->n_cols   = n_cols;
    w->indptr   = calloc((size_t)n_obs + 1, sizeof *w->indptr);
    w->buf_vals = malloc(BUF_ENTRIES * sizeof *w->buf_vals);
    w->buf_cols = malloc(BUF_ENTRIES * sizeof *w->buf_cols);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors become our messages, not HDF5 stack dumps */
    sg_status st = w->indptr && w->buf_vals && w->buf_cols ? SG_OK : sg_error(SG_ERR_NO_MEMORY, "out of memory");
    if (st == SG_OK) st = copy_file(src, w->tmp);
    if (st == SG_OK) st = open_group(w);
    if (st != SG_OK) {
        sg_h5ad_obsm_abort(w);
        return st;
    }
    *out = w;
    return SG_OK;
}

static bool append(hid_t d, hid_t type, const void *buf, int64_t at, int64_t n) {
    hsize_t start = (hsize_t)at, count = (hsize_t)n, size = start + count;
    if (H5Dset_extent(d, &size) < 0) return false;
    hid_t fs = H5Dget_space(d), ms = H5Screate_simple(1, &count, NULL);
    bool ok = H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL) >= 0 &&
              H5Dwrite(d, type, ms, fs, H5P_DEFAULT, buf) >= 0;
    H5Sclose(ms);
    H5Sclose(fs);
    return ok;
}

static sg_status flush(struct sg_h5ad_obsm *w) {
    if (w->n_buf == 0) return SG_OK;
    int64_t at = w->nnz - w->n_buf;
    if (!append(w->data, H5T_NATIVE_FLOAT, w->buf_vals, at, w->n_buf) ||
        !append(w->indices, H5T_NATIVE_INT32, w->buf_cols, at, w->n_buf))
        return sg_error(SG_ERR_IO, "%s: cannot write obsm['%s'] (disk full?)", w->dst, w->key);
    w->n_buf = 0;
    return SG_OK;
}

sg_status sg_h5ad_obsm_row(struct sg_h5ad_obsm *w, int64_t row, const int32_t *cols, const float *vals, int64_t n) {
    if (row < w->next_row || row >= w->n_obs)
        return sg_error(SG_ERR_INVALID_ARG, "obsm['%s']: row %lld out of order or range", w->key, (long long)row);
    for (int64_t r = w->next_row; r <= row; r++) w->indptr[r] = w->nnz; /* rows skipped stay empty */
    for (int64_t i = 0; i < n; i++) {
        if (cols[i] < 0 || cols[i] >= w->n_cols || (i > 0 && cols[i] <= cols[i - 1]))
            return sg_error(SG_ERR_INVALID_ARG, "obsm['%s']: row %lld: column %d out of order or range", w->key,
                            (long long)row, cols[i]);
        w->buf_cols[w->n_buf] = cols[i];
        w->buf_vals[w->n_buf] = vals[i];
        w->n_buf++;
        w->nnz++;
        if (w->n_buf == BUF_ENTRIES) {
            sg_status st = flush(w);
            if (st != SG_OK) return st;
        }
    }
    w->next_row = row + 1;
    return SG_OK;
}

sg_status sg_h5ad_obsm_end(struct sg_h5ad_obsm *w) {
    sg_status st = flush(w);
    for (int64_t r = w->next_row; r <= w->n_obs; r++) w->indptr[r] = w->nnz;
    if (st == SG_OK) {
        hsize_t dim = (hsize_t)w->n_obs + 1;
        hid_t space = H5Screate_simple(1, &dim, NULL);
        hid_t d     = H5Dcreate2(w->group, "indptr", H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (d < 0 || H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, w->indptr) < 0)
            st = sg_error(SG_ERR_IO, "%s: cannot write obsm['%s']/indptr", w->dst, w->key);
        if (d >= 0) H5Dclose(d);
        H5Sclose(space);
    }
    hid_t file = w->file;
    w->file    = -1;
    close_all(w);
    if (file >= 0 && H5Fclose(file) < 0 && st == SG_OK) st = sg_error(SG_ERR_IO, "%s: cannot close", w->dst);
    if (st == SG_OK && rename(w->tmp, w->dst) != 0)
        st = sg_error(SG_ERR_IO, "cannot write %s: %s", w->dst, strerror(errno));
    if (st != SG_OK) remove(w->tmp);
    free(w->indptr);
    free(w->buf_vals);
    free(w->buf_cols);
    free(w);
    return st;
}
