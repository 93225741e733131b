/* Internals of the h5ad reader shared by its files: the handle and HDF5 helpers. */
#ifndef SG_IO_H5AD_PRIV_H
#define SG_IO_H5AD_PRIV_H

#include <hdf5.h>
#include <stdbool.h>

#include "io/h5ad.h"

/* One obs/var dataframe: a group (anndata >= 0.7) or a compound dataset (anndata 0.6). */
struct h5ad_frame {
    const char *label; /* "obs" or "var" */
    hid_t obj;         /* the group or dataset, or -1 when the file has none */
    bool compound;     /* legacy structured array with an "index" field */
    char index_name[256];
    int n_columns;
    char **columns;
    int64_t n_rows;
};

struct sg_h5ad {
    char *path;
    hid_t file;
    hid_t fapl;
    int64_t n_obs, n_var;
    enum sg_h5ad_x_format format;
    char x_dtype[16];
    hid_t x; /* dense dataset, or the sparse group */
    hid_t x_data, x_indices, x_indptr;
    int64_t nnz;
    int64_t *csc_indptr; /* CSC: all n_var + 1 column pointers */
    struct h5ad_frame frames[2];
};

/* Reads a scalar string attribute (fixed or variable length) into buf; false when absent or
 * not a string. */
bool h5ad_attr_string(hid_t obj, const char *name, char *buf, size_t cap);
/* Reads a string-array attribute ("column-order"); an absent or non-string attribute gives 0
 * entries. Caller frees each string and the array. */
sg_status h5ad_attr_strings(hid_t obj, const char *name, const char *what, char ***out, int *n_out);
/* Reads up to 2 integers of an attribute ("shape", "h5sparse_shape"); false when absent. */
bool h5ad_attr_shape(hid_t obj, const char *name, int64_t shape[2]);
/* Whether obj has a direct member `name` (no path walking). */
bool h5ad_has_member(hid_t obj, const char *name);
/* A short name for an HDF5 numeric/string type ("float32", "int64", "string"). */
void h5ad_type_name(hid_t type, char *buf, size_t cap);

/* Reads a whole 1-D dataset as strings: strings as stored, integers and floats formatted, enums
 * (h5py booleans) by member name. `what` names the dataset in errors. */
sg_status h5ad_read_strings(hid_t dset, const char *what, struct sg_h5ad_strings *out);
/* Reads a whole 1-D dataset as int64 (codes, masks). */
sg_status h5ad_read_int64(hid_t dset, const char *what, int64_t **out, int64_t *n);

/* Opens the dataframes at open time (column lists, index name). */
sg_status h5ad_frame_open(struct sg_h5ad *h, struct h5ad_frame *f, const char *label);
void h5ad_frame_close(struct h5ad_frame *f);

#endif
