/* obs / var dataframes in the encodings of anndata 0.6 (structured arrays), 0.7 (categories by
 * object reference) and >= 0.8 (encoding-type attributes, categorical and nullable groups). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/h5ad_priv.h"

static sg_status add_column(struct h5ad_frame *f, const char *name) {
    char **nc = realloc(f->columns, ((size_t)f->n_columns + 1) * sizeof(char *));
    if (!nc) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    f->columns = nc;
    if (!(f->columns[f->n_columns] = strdup(name))) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    f->n_columns++;
    return SG_OK;
}

struct member_list {
    struct h5ad_frame *f;
    sg_status st;
};

static herr_t collect_member(hid_t group, const char *name, const H5L_info_t *info, void *user) {
    (void)group;
    (void)info;
    struct member_list *m = user;
    if (strcmp(name, m->f->index_name) == 0 || strcmp(name, "__categories") == 0) return 0;
    m->st = add_column(m->f, name);
    return m->st == SG_OK ? 0 : -1;
}

static int64_t dataset_rows(hid_t obj, const char *name) {
    hid_t d = H5Dopen2(obj, name, H5P_DEFAULT);
    if (d < 0) return -1;
    hid_t sp        = H5Dget_space(d);
    hsize_t dims[2] = {0, 0};
    int nd          = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    int64_t n       = -1;
    if (nd == 1 && H5Sget_simple_extent_dims(sp, dims, NULL) == 1) n = (int64_t)dims[0];
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(d);
    return n;
}

static sg_status open_compound(struct sg_h5ad *h, struct h5ad_frame *f, hid_t ft) {
    snprintf(f->index_name, sizeof f->index_name, "index");
    int nm             = H5Tget_nmembers(ft);
    sg_status st       = SG_OK;
    bool has_index     = false;
    const size_t total = H5Tget_size(ft);
    for (int i = 0; i < nm && st == SG_OK; i++) {
        /* HDF5 1.10 trusts member layouts when converting; refuse ones outside the record */
        hid_t mt     = H5Tget_member_type(ft, (unsigned)i);
        size_t msize = mt >= 0 ? H5Tget_size(mt) : 0, moff = H5Tget_member_offset(ft, (unsigned)i);
        if (mt >= 0) H5Tclose(mt);
        if (mt < 0 || msize == 0 || moff > total || msize > total - moff) {
            st = sg_error(SG_ERR_FORMAT, "%s: %s is a structured array with a corrupt field %d", h->path, f->label, i);
            break;
        }
        char *name = H5Tget_member_name(ft, (unsigned)i);
        if (!name) continue;
        if (strcmp(name, "index") == 0)
            has_index = true;
        else
            st = add_column(f, name);
        H5free_memory(name);
    }
    if (st == SG_OK && !has_index)
        st = sg_error(SG_ERR_FORMAT, "%s: %s is a structured array without an 'index' field", h->path, f->label);
    hid_t sp        = H5Dget_space(f->obj);
    hsize_t dims[1] = {0};
    if (st == SG_OK &&
        (sp < 0 || H5Sget_simple_extent_ndims(sp) != 1 || H5Sget_simple_extent_dims(sp, dims, NULL) != 1))
        st = sg_error(SG_ERR_FORMAT, "%s: %s is not a one-dimensional table", h->path, f->label);
    if (sp >= 0) H5Sclose(sp);
    f->n_rows = (int64_t)dims[0];
    return st;
}

static sg_status open_group(struct sg_h5ad *h, struct h5ad_frame *f) {
    if (!h5ad_attr_string(f->obj, "_index", f->index_name, sizeof f->index_name))
        snprintf(f->index_name, sizeof f->index_name, "_index");
    if (!h5ad_has_member(f->obj, f->index_name))
        return sg_error(SG_ERR_FORMAT, "%s: %s has no index dataset '%s'", h->path, f->label, f->index_name);
    f->n_rows = dataset_rows(f->obj, f->index_name);
    if (f->n_rows < 0)
        return sg_error(SG_ERR_FORMAT, "%s: %s/%s is not a one-dimensional dataset", h->path, f->label, f->index_name);

    char what[300];
    snprintf(what, sizeof what, "%s: %s", h->path, f->label);
    char **order = NULL;
    int n_order  = 0;
    sg_status st = h5ad_attr_strings(f->obj, "column-order", what, &order, &n_order);
    if (st != SG_OK) return st;
    if (H5Aexists(f->obj, "column-order") > 0) {
        for (int i = 0; i < n_order && st == SG_OK; i++) st = add_column(f, order[i]);
    } else {
        struct member_list m = {f, SG_OK};
        hsize_t idx          = 0;
        H5Literate(f->obj, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_member, &m);
        st = m.st;
    }
    for (int i = 0; i < n_order; i++) free(order[i]);
    free(order);
    return st;
}

sg_status h5ad_frame_open(struct sg_h5ad *h, struct h5ad_frame *f, const char *label) {
    memset(f, 0, sizeof *f);
    f->label = label;
    f->obj   = -1;
    if (!h5ad_has_member(h->file, label)) return SG_OK;
    f->obj = H5Oopen(h->file, label, H5P_DEFAULT);
    if (f->obj < 0) return sg_error(SG_ERR_FORMAT, "%s: cannot open %s", h->path, label);
    H5I_type_t kind = H5Iget_type(f->obj);
    if (kind == H5I_GROUP) return open_group(h, f);
    if (kind == H5I_DATASET) {
        hid_t ft     = H5Dget_type(f->obj);
        sg_status st = SG_OK;
        if (ft >= 0 && H5Tget_class(ft) == H5T_COMPOUND) {
            f->compound = true;
            st          = open_compound(h, f, ft);
        } else {
            st = sg_error(SG_ERR_FORMAT, "%s: %s is a dataset but not a structured array", h->path, label);
        }
        if (ft >= 0) H5Tclose(ft);
        return st;
    }
    return sg_error(SG_ERR_FORMAT, "%s: %s is neither a group nor a dataset", h->path, label);
}

void h5ad_frame_close(struct h5ad_frame *f) {
    if (f->obj >= 0) H5Oclose(f->obj);
    for (int i = 0; i < f->n_columns; i++) free(f->columns[i]);
    free(f->columns);
    f->columns   = NULL;
    f->n_columns = 0;
    f->obj       = -1;
}

/* Replaces codes by their category strings; -1 (pandas' missing value) becomes "". */
static sg_status decode_categorical(const int64_t *codes, int64_t n, const struct sg_h5ad_strings *cats,
                                    const char *what, struct sg_h5ad_strings *out) {
    char **res = calloc((size_t)n + 1, sizeof(char *));
    if (!res) return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
    for (int64_t i = 0; i < n; i++) {
        const char *s = "";
        if (codes[i] >= 0 && codes[i] < cats->n)
            s = cats->s[codes[i]];
        else if (codes[i] != -1) {
            for (int64_t j = 0; j < i; j++) free(res[j]);
            free(res);
            return sg_error(SG_ERR_FORMAT,
                            "%s: category code %" PRId64 " at row %" PRId64 " is outside its %" PRId64 " categories",
                            what, codes[i], i, cats->n);
        }
        if (!(res[i] = strdup(s))) {
            for (int64_t j = 0; j < i; j++) free(res[j]);
            free(res);
            return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
        }
    }
    out->n = n;
    out->s = res;
    return SG_OK;
}

static sg_status read_codes_with(hid_t codes_dset, hid_t cats_dset, const char *what, struct sg_h5ad_strings *out) {
    int64_t *codes = NULL, n = 0;
    struct sg_h5ad_strings cats = {0};
    sg_status st                = h5ad_read_int64(codes_dset, what, &codes, &n);
    if (st == SG_OK) st = h5ad_read_strings(cats_dset, what, &cats);
    if (st == SG_OK) st = decode_categorical(codes, n, &cats, what, out);
    free(codes);
    sg_h5ad_strings_free(&cats);
    return st;
}

/* anndata >= 0.8: a group with codes and categories. */
static sg_status read_categorical_group(hid_t g, const char *what, struct sg_h5ad_strings *out) {
    if (!h5ad_has_member(g, "codes") || !h5ad_has_member(g, "categories"))
        return sg_error(SG_ERR_FORMAT, "%s: categorical column lacks 'codes' or 'categories'", what);
    hid_t c = H5Dopen2(g, "codes", H5P_DEFAULT), k = H5Dopen2(g, "categories", H5P_DEFAULT);
    sg_status st = c >= 0 && k >= 0 ? read_codes_with(c, k, what, out)
                                    : sg_error(SG_ERR_FORMAT, "%s: cannot open codes/categories", what);
    if (c >= 0) H5Dclose(c);
    if (k >= 0) H5Dclose(k);
    return st;
}

/* anndata >= 0.8: nullable integer/boolean/string columns hold values plus a mask. */
static sg_status read_nullable_group(hid_t g, const char *what, struct sg_h5ad_strings *out) {
    if (!h5ad_has_member(g, "values") || !h5ad_has_member(g, "mask"))
        return sg_error(SG_ERR_FORMAT, "%s: nullable column lacks 'values' or 'mask'", what);
    hid_t v = H5Dopen2(g, "values", H5P_DEFAULT), m = H5Dopen2(g, "mask", H5P_DEFAULT);
    int64_t *mask = NULL, nm = 0;
    sg_status st = v >= 0 && m >= 0 ? h5ad_read_strings(v, what, out)
                                    : sg_error(SG_ERR_FORMAT, "%s: cannot open values/mask", what);
    if (st == SG_OK) st = h5ad_read_int64(m, what, &mask, &nm);
    if (st == SG_OK && nm != out->n) st = sg_error(SG_ERR_FORMAT, "%s: mask and values differ in length", what);
    for (int64_t i = 0; st == SG_OK && i < nm; i++) {
        if (mask[i]) out->s[i][0] = '\0';
    }
    if (st != SG_OK) sg_h5ad_strings_free(out);
    free(mask);
    if (v >= 0) H5Dclose(v);
    if (m >= 0) H5Dclose(m);
    return st;
}

/* anndata 0.7: a codes dataset whose "categories" attribute references the category values. */
static sg_status read_referenced_categorical(hid_t d, const char *what, struct sg_h5ad_strings *out) {
    hid_t a = H5Aopen(d, "categories", H5P_DEFAULT);
    if (a < 0) return sg_error(SG_ERR_FORMAT, "%s: cannot open the categories attribute", what);
    hid_t at = H5Aget_type(a);
    hobj_ref_t ref;
    sg_status st = SG_OK;
    if (at < 0 || H5Tget_class(at) != H5T_REFERENCE || H5Aread(a, H5T_STD_REF_OBJ, &ref) < 0)
        st = sg_error(SG_ERR_FORMAT, "%s: the categories attribute is not an object reference", what);
    if (at >= 0) H5Tclose(at);
    H5Aclose(a);
    if (st != SG_OK) return st;
    hid_t cats = H5Rdereference2(d, H5P_DEFAULT, H5R_OBJECT, &ref);
    if (cats < 0 || H5Iget_type(cats) != H5I_DATASET) {
        if (cats >= 0) H5Oclose(cats);
        return sg_error(SG_ERR_FORMAT, "%s: the categories reference does not lead to a dataset", what);
    }
    st = read_codes_with(d, cats, what, out);
    H5Oclose(cats);
    return st;
}

static sg_status read_group_column(struct sg_h5ad *h, struct h5ad_frame *f, const char *name, const char *what,
                                   struct sg_h5ad_strings *out) {
    if (!h5ad_has_member(f->obj, name)) return sg_error(SG_ERR_FORMAT, "%s: column is listed but not stored", what);
    hid_t obj = H5Oopen(f->obj, name, H5P_DEFAULT);
    if (obj < 0) return sg_error(SG_ERR_FORMAT, "%s: cannot open", what);
    sg_status st;
    if (H5Iget_type(obj) == H5I_GROUP) {
        char enc[64];
        h5ad_attr_string(obj, "encoding-type", enc, sizeof enc);
        if (strcmp(enc, "categorical") == 0)
            st = read_categorical_group(obj, what, out);
        else if (strncmp(enc, "nullable-", 9) == 0)
            st = read_nullable_group(obj, what, out);
        else
            st = sg_error(SG_ERR_UNSUPPORTED, "%s: column encoding '%s' is not supported", what, enc[0] ? enc : "none");
    } else if (H5Aexists(obj, "categories") > 0) {
        st = read_referenced_categorical(obj, what, out);
    } else {
        st = h5ad_read_strings(obj, what, out);
    }
    H5Oclose(obj);
    (void)h;
    return st;
}

/* anndata 0.6: one field of the structured array; categoricals keep their categories in
 * uns/<column>_categories. */
static sg_status read_compound_field(struct sg_h5ad *h, struct h5ad_frame *f, const char *field, const char *what,
                                     struct sg_h5ad_strings *out) {
    hid_t ft     = H5Dget_type(f->obj);
    int idx      = ft >= 0 ? H5Tget_member_index(ft, field) : -1;
    hid_t mft    = idx >= 0 ? H5Tget_member_type(ft, (unsigned)idx) : -1;
    sg_status st = SG_OK;
    if (mft < 0) {
        st = sg_error(SG_ERR_FORMAT, "%s: no such field", what);
    } else {
        H5T_class_t cls = H5Tget_class(mft);
        hid_t mem_member;
        size_t esz;
        if (cls == H5T_STRING) {
            mem_member = H5Tcopy(H5T_C_S1);
            if (H5Tis_variable_str(mft) > 0) {
                H5Tset_size(mem_member, H5T_VARIABLE);
                esz = sizeof(char *);
            } else {
                esz = H5Tget_size(mft);
                H5Tset_size(mem_member, esz);
                H5Tset_strpad(mem_member, H5T_STR_NULLPAD);
            }
        } else if (cls == H5T_FLOAT) {
            mem_member = H5Tcopy(H5T_NATIVE_DOUBLE);
            esz        = sizeof(double);
        } else if (cls == H5T_INTEGER || cls == H5T_ENUM) {
            mem_member = H5Tcopy(H5T_NATIVE_INT64);
            esz        = sizeof(int64_t);
        } else {
            mem_member = -1;
            esz        = 0;
            st         = sg_error(SG_ERR_UNSUPPORTED, "%s: unsupported field type", what);
        }
        int64_t n          = f->n_rows;
        unsigned char *buf = st == SG_OK && esz < (1u << 20) ? calloc((size_t)n + 1, esz) : NULL;
        if (st == SG_OK && !buf) st = sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
        hid_t mt = -1;
        if (st == SG_OK) {
            mt = H5Tcreate(H5T_COMPOUND, esz);
            H5Tinsert(mt, field, 0, mem_member);
            if (n > 0 && H5Dread(f->obj, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
                st = sg_error(SG_ERR_FORMAT, "%s: cannot read", what);
        }
        if (st == SG_OK && cls == H5T_STRING) {
            out->s = calloc((size_t)n + 1, sizeof(char *));
            out->n = out->s ? n : 0;
            for (int64_t i = 0; out->s && i < n; i++) {
                if (H5Tis_variable_str(mft) > 0) {
                    char *s   = ((char **)buf)[i];
                    out->s[i] = strdup(s ? s : "");
                } else {
                    out->s[i] = calloc(1, esz + 1);
                    if (out->s[i]) memcpy(out->s[i], buf + (size_t)i * esz, esz);
                }
                if (!out->s[i]) st = sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
            }
            if (!out->s) st = sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
            if (H5Tis_variable_str(mft) > 0 && n > 0) {
                hid_t sp = H5Dget_space(f->obj);
                H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, buf);
                H5Sclose(sp);
            }
        } else if (st == SG_OK) {
            char uns_path[600];
            snprintf(uns_path, sizeof uns_path, "uns/%s_categories", field);
            bool categorical = cls != H5T_FLOAT && H5Lexists(h->file, "uns", H5P_DEFAULT) > 0 &&
                               H5Lexists(h->file, uns_path, H5P_DEFAULT) > 0;
            if (categorical) {
                hid_t cd                    = H5Dopen2(h->file, uns_path, H5P_DEFAULT);
                struct sg_h5ad_strings cats = {0};
                st                          = cd >= 0 ? h5ad_read_strings(cd, what, &cats)
                                                      : sg_error(SG_ERR_FORMAT, "%s: cannot open %s", what, uns_path);
                if (st == SG_OK) st = decode_categorical((const int64_t *)buf, n, &cats, what, out);
                sg_h5ad_strings_free(&cats);
                if (cd >= 0) H5Dclose(cd);
            } else {
                out->s = calloc((size_t)n + 1, sizeof(char *));
                out->n = out->s ? n : 0;
                if (!out->s) st = sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
                for (int64_t i = 0; st == SG_OK && i < n; i++) {
                    char tmp[64];
                    if (cls == H5T_FLOAT) {
                        double v = ((const double *)buf)[i];
                        if (v != v)
                            tmp[0] = '\0';
                        else
                            snprintf(tmp, sizeof tmp, "%.17g", v);
                    } else {
                        snprintf(tmp, sizeof tmp, "%" PRId64, ((const int64_t *)buf)[i]);
                    }
                    if (!(out->s[i] = strdup(tmp))) st = sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
                }
            }
        }
        if (mt >= 0) H5Tclose(mt);
        if (mem_member >= 0) H5Tclose(mem_member);
        free(buf);
        H5Tclose(mft);
    }
    if (ft >= 0) H5Tclose(ft);
    if (st != SG_OK) sg_h5ad_strings_free(out);
    return st;
}

/* ---- public ----------------------------------------------------------------------------- */

int sg_h5ad_n_columns(const struct sg_h5ad *h, enum sg_h5ad_frame_kind frame) { return h->frames[frame].n_columns; }

const char *sg_h5ad_column_name(const struct sg_h5ad *h, enum sg_h5ad_frame_kind frame, int i) {
    const struct h5ad_frame *f = &h->frames[frame];
    return i >= 0 && i < f->n_columns ? f->columns[i] : NULL;
}

bool sg_h5ad_has_column(const struct sg_h5ad *h, enum sg_h5ad_frame_kind frame, const char *name) {
    const struct h5ad_frame *f = &h->frames[frame];
    for (int i = 0; i < f->n_columns; i++)
        if (strcmp(f->columns[i], name) == 0) return true;
    return false;
}

void sg_h5ad_column_list(const struct sg_h5ad *h, enum sg_h5ad_frame_kind frame, char *buf, size_t cap) {
    const struct h5ad_frame *f = &h->frames[frame];
    size_t len                 = 0;
    buf[0]                     = '\0';
    if (f->n_columns == 0) {
        snprintf(buf, cap, "none");
        return;
    }
    for (int i = 0; i < f->n_columns && len < cap; i++) {
        int k = snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", f->columns[i]);
        if (k < 0) break;
        len += (size_t)k;
    }
    if (len >= cap && cap > 4) snprintf(buf + cap - 4, 4, "...");
}

sg_status sg_h5ad_column_strings(struct sg_h5ad *h, enum sg_h5ad_frame_kind frame, const char *name,
                                 struct sg_h5ad_strings *out) {
    out->n               = 0;
    out->s               = NULL;
    struct h5ad_frame *f = &h->frames[frame];
    if (f->obj < 0) return sg_error(SG_ERR_FORMAT, "%s: the file has no %s table", h->path, f->label);
    if (name && !sg_h5ad_has_column(h, frame, name)) {
        char cols[1024];
        sg_h5ad_column_list(h, frame, cols, sizeof cols);
        return sg_error(SG_ERR_NOT_FOUND, "%s: %s has no column '%s' (columns: %s)", h->path, f->label, name, cols);
    }
    const char *field = name ? name : f->index_name;
    char what[700];
    snprintf(what, sizeof what, "%s: %s/%s", h->path, f->label, field);
    sg_status st =
        f->compound ? read_compound_field(h, f, field, what, out) : read_group_column(h, f, field, what, out);
    if (st == SG_OK && out->n != f->n_rows) {
        int64_t n = out->n;
        sg_h5ad_strings_free(out);
        st = sg_error(SG_ERR_FORMAT, "%s: %" PRId64 " values for %" PRId64 " rows", what, n, f->n_rows);
    }
    return st;
}
