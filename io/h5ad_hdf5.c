/* HDF5 helpers for the h5ad reader: attributes and whole 1-D datasets as strings or integers. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/h5ad_priv.h"

/* Guards against absurd sizes in a corrupt file before allocating. */
#define H5AD_MAX_STRLEN (1 << 20)
#define H5AD_MAX_ELEMS  (INT64_C(1) << 33)

bool h5ad_has_member(hid_t obj, const char *name) {
    if (!name[0] || strchr(name, '/') || strcmp(name, ".") == 0) return false;
    return H5Lexists(obj, name, H5P_DEFAULT) > 0 && H5Oexists_by_name(obj, name, H5P_DEFAULT) > 0;
}

bool h5ad_attr_string(hid_t obj, const char *name, char *buf, size_t cap) {
    buf[0] = '\0';
    if (H5Aexists(obj, name) <= 0) return false;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return false;
    hid_t ft = H5Aget_type(a), sp = H5Aget_space(a);
    bool ok = false;
    if (ft >= 0 && sp >= 0 && H5Tget_class(ft) == H5T_STRING && H5Sget_simple_extent_npoints(sp) == 1) {
        if (H5Tis_variable_str(ft) > 0) {
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            H5Tset_cset(mt, H5Tget_cset(ft));
            char *s = NULL;
            if (H5Aread(a, mt, &s) >= 0 && s) {
                snprintf(buf, cap, "%s", s);
                ok = true;
            }
            if (s) H5free_memory(s);
            H5Tclose(mt);
        } else {
            size_t len = H5Tget_size(ft);
            if (len > 0 && len < H5AD_MAX_STRLEN) {
                char *tmp = calloc(1, len + 1);
                hid_t mt  = H5Tcopy(H5T_C_S1);
                H5Tset_size(mt, len);
                H5Tset_strpad(mt, H5T_STR_NULLPAD);
                if (tmp && H5Aread(a, mt, tmp) >= 0) {
                    snprintf(buf, cap, "%s", tmp);
                    ok = true;
                }
                H5Tclose(mt);
                free(tmp);
            }
        }
    }
    if (ft >= 0) H5Tclose(ft);
    if (sp >= 0) H5Sclose(sp);
    H5Aclose(a);
    return ok;
}

sg_status h5ad_attr_strings(hid_t obj, const char *name, const char *what, char ***out, int *n_out) {
    *out   = NULL;
    *n_out = 0;
    if (H5Aexists(obj, name) <= 0) return SG_OK;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return sg_error(SG_ERR_FORMAT, "%s: cannot open attribute '%s'", what, name);
    hid_t ft = H5Aget_type(a), sp = H5Aget_space(a);
    sg_status st = SG_OK;
    hssize_t n   = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    if (ft < 0 || n < 0) {
        st = sg_error(SG_ERR_FORMAT, "%s: cannot read attribute '%s'", what, name);
    } else if (H5Tget_class(ft) == H5T_STRING && n > 0) {
        if (n > 1000000) {
            st = sg_error(SG_ERR_FORMAT, "%s: attribute '%s' has %lld entries", what, name, (long long)n);
        } else if (H5Tis_variable_str(ft) > 0) {
            char **v = calloc((size_t)n, sizeof(char *));
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            H5Tset_cset(mt, H5Tget_cset(ft));
            char **res = calloc((size_t)n + 1, sizeof(char *));
            if (!v || !res)
                st = sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
            else if (H5Aread(a, mt, v) < 0)
                st = sg_error(SG_ERR_FORMAT, "%s: cannot read attribute '%s'", what, name);
            for (hssize_t i = 0; st == SG_OK && i < n; i++)
                if (!(res[i] = strdup(v[i] ? v[i] : ""))) st = sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
            if (v) {
                for (hssize_t i = 0; i < n; i++)
                    if (v[i]) H5free_memory(v[i]);
            }
            free(v);
            H5Tclose(mt);
            if (st == SG_OK) {
                *out   = res;
                *n_out = (int)n;
            } else {
                for (hssize_t i = 0; res && i < n; i++) free(res[i]);
                free(res);
            }
        } else {
            size_t len = H5Tget_size(ft);
            char *buf  = len < H5AD_MAX_STRLEN ? calloc((size_t)n, len + 1) : NULL;
            char **res = calloc((size_t)n + 1, sizeof(char *));
            hid_t mt   = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, len);
            H5Tset_strpad(mt, H5T_STR_NULLPAD);
            if (!buf || !res)
                st = sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
            else if (H5Aread(a, mt, buf) < 0)
                st = sg_error(SG_ERR_FORMAT, "%s: cannot read attribute '%s'", what, name);
            for (hssize_t i = 0; st == SG_OK && i < n; i++) {
                res[i] = calloc(1, len + 1);
                if (!res[i])
                    st = sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
                else
                    memcpy(res[i], buf + (size_t)i * len, len);
            }
            H5Tclose(mt);
            free(buf);
            if (st == SG_OK) {
                *out   = res;
                *n_out = (int)n;
            } else {
                for (hssize_t i = 0; res && i < n; i++) free(res[i]);
                free(res);
            }
        }
    }
    if (ft >= 0) H5Tclose(ft);
    if (sp >= 0) H5Sclose(sp);
    H5Aclose(a);
    return st;
}

bool h5ad_attr_shape(hid_t obj, const char *name, int64_t shape[2]) {
    if (H5Aexists(obj, name) <= 0) return false;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return false;
    hid_t sp = H5Aget_space(a), ft = H5Aget_type(a);
    bool ok = false;
    if (sp >= 0 && ft >= 0 && H5Tget_class(ft) == H5T_INTEGER && H5Sget_simple_extent_npoints(sp) == 2) {
        long long v[2];
        if (H5Aread(a, H5T_NATIVE_LLONG, v) >= 0) {
            shape[0] = v[0];
            shape[1] = v[1];
            ok       = v[0] >= 0 && v[1] >= 0;
        }
    }
    if (sp >= 0) H5Sclose(sp);
    if (ft >= 0) H5Tclose(ft);
    H5Aclose(a);
    return ok;
}

void h5ad_type_name(hid_t type, char *buf, size_t cap) {
    size_t size = H5Tget_size(type);
    switch (H5Tget_class(type)) {
    case H5T_INTEGER: snprintf(buf, cap, "%sint%zu", H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "", size * 8); break;
    case H5T_FLOAT: snprintf(buf, cap, "float%zu", size * 8); break;
    case H5T_STRING: snprintf(buf, cap, "string"); break;
    case H5T_ENUM: snprintf(buf, cap, "enum"); break;
    case H5T_COMPOUND: snprintf(buf, cap, "compound"); break;
    default: snprintf(buf, cap, "unsupported"); break;
    }
}

void sg_h5ad_strings_free(struct sg_h5ad_strings *s) {
    if (!s) return;
    for (int64_t i = 0; s->s && i < s->n; i++) free(s->s[i]);
    free(s->s);
    s->s = NULL;
    s->n = 0;
}

/* Number of elements of a 1-D (or scalar-free) dataset, or -1 when it is not 1-D. */
static int64_t dset_len_1d(hid_t dset) {
    hid_t sp = H5Dget_space(dset);
    if (sp < 0) return -1;
    int nd          = H5Sget_simple_extent_ndims(sp);
    hsize_t dims[1] = {0};
    int64_t n       = -1;
    if (nd == 1 && H5Sget_simple_extent_dims(sp, dims, NULL) == 1) n = (int64_t)dims[0];
    H5Sclose(sp);
    return n;
}

static sg_status read_vlen_strings(hid_t dset, hid_t ft, const char *what, int64_t n, char **res) {
    char **v = calloc((size_t)n + 1, sizeof(char *));
    if (!v) return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5Tget_cset(ft));
    sg_status st = SG_OK;
    if (n > 0 && H5Dread(dset, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0)
        st = sg_error(SG_ERR_FORMAT, "%s: cannot read strings", what);
    for (int64_t i = 0; st == SG_OK && i < n; i++)
        if (!(res[i] = strdup(v[i] ? v[i] : ""))) st = sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
    if (n > 0) {
        for (int64_t i = 0; i < n; i++)
            if (v[i]) H5free_memory(v[i]);
    }
    H5Tclose(mt);
    free(v);
    return st;
}

static sg_status read_fixed_strings(hid_t dset, hid_t ft, const char *what, int64_t n, char **res) {
    size_t len = H5Tget_size(ft);
    if (len == 0 || len > H5AD_MAX_STRLEN) return sg_error(SG_ERR_FORMAT, "%s: strings of %zu bytes", what, len);
    char *buf = calloc((size_t)n + 1, len);
    if (!buf) return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, len);
    H5Tset_strpad(mt, H5T_STR_NULLPAD);
    H5Tset_cset(mt, H5Tget_cset(ft));
    sg_status st = SG_OK;
    if (n > 0 && H5Dread(dset, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
        st = sg_error(SG_ERR_FORMAT, "%s: cannot read strings", what);
    for (int64_t i = 0; st == SG_OK && i < n; i++) {
        res[i] = calloc(1, len + 1);
        if (!res[i])
            st = sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
        else
            memcpy(res[i], buf + (size_t)i * len, len);
    }
    H5Tclose(mt);
    free(buf);
    return st;
}

/* h5py stores booleans as an enum over int8 with members FALSE and TRUE. */
static sg_status read_enum_as_strings(hid_t dset, hid_t ft, const char *what, int64_t n, char **res) {
    size_t esz       = H5Tget_size(ft);
    unsigned char *b = malloc(((size_t)n + 1) * esz);
    sg_status st     = SG_OK;
    if (!b) return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
    if (n > 0 && H5Dread(dset, ft, H5S_ALL, H5S_ALL, H5P_DEFAULT, b) < 0)
        st = sg_error(SG_ERR_FORMAT, "%s: cannot read values", what);
    for (int64_t i = 0; st == SG_OK && i < n; i++) {
        char name[64];
        if (H5Tenum_nameof(ft, b + (size_t)i * esz, name, sizeof name) < 0) name[0] = '\0';
        const char *s = strcmp(name, "TRUE") == 0 ? "True" : strcmp(name, "FALSE") == 0 ? "False" : name;
        if (!(res[i] = strdup(s))) st = sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
    }
    free(b);
    return st;
}

static sg_status read_numbers_as_strings(hid_t dset, hid_t ft, const char *what, int64_t n, char **res) {
    sg_status st = SG_OK;
    char tmp[64];
    if (H5Tget_class(ft) == H5T_FLOAT) {
        double *v = malloc(((size_t)n + 1) * sizeof(double));
        if (!v) return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
        if (n > 0 && H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0)
            st = sg_error(SG_ERR_FORMAT, "%s: cannot read numbers", what);
        for (int64_t i = 0; st == SG_OK && i < n; i++) {
            if (v[i] != v[i])
                tmp[0] = '\0'; /* NaN is pandas' missing value */
            else
                snprintf(tmp, sizeof tmp, "%.17g", v[i]);
            if (!(res[i] = strdup(tmp))) st = sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
        }
        free(v);
        return st;
    }
    int64_t *v = malloc(((size_t)n + 1) * sizeof(int64_t));
    if (!v) return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
    if (n > 0 && H5Dread(dset, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0)
        st = sg_error(SG_ERR_FORMAT, "%s: cannot read numbers", what);
    for (int64_t i = 0; st == SG_OK && i < n; i++) {
        snprintf(tmp, sizeof tmp, "%" PRId64, v[i]);
        if (!(res[i] = strdup(tmp))) st = sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
    }
    free(v);
    return st;
}

sg_status h5ad_read_strings(hid_t dset, const char *what, struct sg_h5ad_strings *out) {
    out->n    = 0;
    out->s    = NULL;
    int64_t n = dset_len_1d(dset);
    if (n < 0) return sg_error(SG_ERR_FORMAT, "%s: expected a one-dimensional dataset", what);
    if (n > H5AD_MAX_ELEMS) return sg_error(SG_ERR_FORMAT, "%s: %lld entries is too many", what, (long long)n);
    hid_t ft = H5Dget_type(dset);
    if (ft < 0) return sg_error(SG_ERR_FORMAT, "%s: cannot read its type", what);
    char **res   = calloc((size_t)n + 1, sizeof(char *));
    sg_status st = SG_OK;
    if (!res) st = sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
    H5T_class_t cls = H5Tget_class(ft);
    if (st != SG_OK) {
    } else if (cls == H5T_STRING) {
        st = H5Tis_variable_str(ft) > 0 ? read_vlen_strings(dset, ft, what, n, res)
                                        : read_fixed_strings(dset, ft, what, n, res);
    } else if (cls == H5T_ENUM) {
        st = read_enum_as_strings(dset, ft, what, n, res);
    } else if (cls == H5T_INTEGER || cls == H5T_FLOAT) {
        st = read_numbers_as_strings(dset, ft, what, n, res);
    } else {
        char tn[32];
        h5ad_type_name(ft, tn, sizeof tn);
        st = sg_error(SG_ERR_FORMAT, "%s: cannot read a column of type %s", what, tn);
    }
    H5Tclose(ft);
    if (st != SG_OK) {
        for (int64_t i = 0; res && i < n; i++) free(res[i]);
        free(res);
        return st;
    }
    out->n = n;
    out->s = res;
    return SG_OK;
}

sg_status h5ad_read_int64(hid_t dset, const char *what, int64_t **out, int64_t *n_out) {
    *out      = NULL;
    *n_out    = 0;
    int64_t n = dset_len_1d(dset);
    if (n < 0) return sg_error(SG_ERR_FORMAT, "%s: expected a one-dimensional dataset", what);
    if (n > H5AD_MAX_ELEMS) return sg_error(SG_ERR_FORMAT, "%s: %lld entries is too many", what, (long long)n);
    hid_t ft        = H5Dget_type(dset);
    H5T_class_t cls = ft >= 0 ? H5Tget_class(ft) : H5T_NO_CLASS;
    if (ft >= 0) H5Tclose(ft);
    if (cls != H5T_INTEGER && cls != H5T_ENUM) return sg_error(SG_ERR_FORMAT, "%s: expected integers", what);
    int64_t *v = malloc(((size_t)n + 1) * sizeof(int64_t));
    if (!v) return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
    if (n > 0 && H5Dread(dset, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
        free(v);
        return sg_error(SG_ERR_FORMAT, "%s: cannot read integers", what);
    }
    *out   = v;
    *n_out = n;
    return SG_OK;
}
