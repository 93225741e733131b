/* The h5ad copy `saeg extract --write-h5ad` writes, checked with the HDF5 C library alone (so CI
 * needs no Python): the input's content is all there unchanged (X row by row, every obs and var
 * column), obsm['X_sae'] is an anndata CSR matrix (encoding attributes, shape, sorted indices,
 * positive values), and it agrees with feature_cell_associations.json (each feature's active-cell
 * count is its column's non-zero count; each top cell's activation is its entry).
 *
 *     test-extract-h5ad ORIGINAL.h5ad COPY.h5ad RUN_DIR
 */
#include <cjson/cJSON.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/h5ad.h"
#include "tests/test_util.h"

static void same_frames(struct sg_h5ad *a, struct sg_h5ad *b, enum sg_h5ad_frame_kind k) {
    CHECK(sg_h5ad_n_columns(a, k) == sg_h5ad_n_columns(b, k));
    for (int i = -1; i < sg_h5ad_n_columns(a, k); i++) {
        const char *name         = i < 0 ? NULL : sg_h5ad_column_name(a, k, i);
        struct sg_h5ad_strings x = {0}, y = {0};
        CHECK(sg_h5ad_column_strings(a, k, name, &x) == SG_OK);
        CHECK(sg_h5ad_column_strings(b, k, name, &y) == SG_OK);
        CHECK(x.n == y.n);
        for (int64_t r = 0; r < x.n && r < y.n; r++)
            CHECK_MSG(strcmp(x.s[r], y.s[r]) == 0, "%s column %s row %lld", k ? "var" : "obs", name ? name : "index",
                      (long long)r);
        sg_h5ad_strings_free(&x);
        sg_h5ad_strings_free(&y);
    }
}

static void test_input_content_is_preserved(const char *orig, const char *copy) {
    struct sg_h5ad *a = NULL, *b = NULL;
    CHECK(sg_h5ad_open(orig, &a) == SG_OK);
    CHECK(sg_h5ad_open(copy, &b) == SG_OK);
    if (!a || !b) return;
    CHECK(sg_h5ad_n_obs(a) == sg_h5ad_n_obs(b) && sg_h5ad_n_var(a) == sg_h5ad_n_var(b));
    CHECK(sg_h5ad_x_format(a) == sg_h5ad_x_format(b) && sg_h5ad_nnz(a) == sg_h5ad_nnz(b));
    struct sg_h5ad_rows x = {0}, y = {0};
    CHECK(sg_h5ad_read_rows(a, 0, sg_h5ad_n_obs(a), &x) == SG_OK);
    CHECK(sg_h5ad_read_rows(b, 0, sg_h5ad_n_obs(b), &y) == SG_OK);
    CHECK(x.nnz == y.nnz);
    for (int64_t r = 0; r <= x.n_rows && x.nnz == y.nnz; r++) CHECK(x.indptr[r] == y.indptr[r]);
    for (int64_t p = 0; p < x.nnz && x.nnz == y.nnz; p++) CHECK(x.cols[p] == y.cols[p] && x.vals[p] == y.vals[p]);
    same_frames(a, b, SG_H5AD_OBS);
    same_frames(a, b, SG_H5AD_VAR);
    sg_h5ad_rows_free(&x);
    sg_h5ad_rows_free(&y);
    sg_h5ad_close(a);
    sg_h5ad_close(b);
}

static int attr_is(hid_t obj, const char *name, const char *want) {
    char *v   = NULL;
    hid_t a   = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t t   = H5Tcopy(H5T_C_S1);
    int match = 0;
    H5Tset_size(t, H5T_VARIABLE);
    if (a >= 0 && H5Aread(a, t, &v) >= 0 && v) match = strcmp(v, want) == 0;
    if (v) H5free_memory(v);
    H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    return match;
}

struct csr {
    int64_t rows, cols, nnz;
    int64_t *indptr;
    int32_t *indices;
    float *data;
};

static float csr_get(const struct csr *m, int64_t r, int64_t c) {
    for (int64_t p = m->indptr[r]; p < m->indptr[r + 1]; p++)
        if (m->indices[p] == c) return m->data[p];
    return 0.0f;
}

static int read_csr(const char *copy, struct csr *m) {
    hid_t f = H5Fopen(copy, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return 0;
    hid_t obsm = H5Gopen2(f, "obsm", H5P_DEFAULT), g = H5Gopen2(f, "obsm/X_sae", H5P_DEFAULT);
    CHECK(obsm >= 0 && g >= 0);
    if (obsm < 0 || g < 0) return 0;
    CHECK(attr_is(obsm, "encoding-type", "dict"));
    CHECK(attr_is(g, "encoding-type", "csr_matrix"));
    CHECK(attr_is(g, "encoding-version", "0.1.0"));
    int64_t shape[2] = {0, 0};
    hid_t a          = H5Aopen(g, "shape", H5P_DEFAULT);
    CHECK(a >= 0 && H5Aread(a, H5T_NATIVE_INT64, shape) >= 0);
    H5Aclose(a);
    m->rows    = shape[0];
    m->cols    = shape[1];
    hid_t d    = H5Dopen2(g, "data", H5P_DEFAULT);
    hid_t sp   = H5Dget_space(d);
    m->nnz     = H5Sget_simple_extent_npoints(sp);
    m->data    = malloc((size_t)(m->nnz + 1) * sizeof *m->data);
    m->indices = malloc((size_t)(m->nnz + 1) * sizeof *m->indices);
    m->indptr  = malloc((size_t)(m->rows + 1) * sizeof *m->indptr);
    CHECK(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, m->data) >= 0);
    H5Sclose(sp);
    H5Dclose(d);
    d = H5Dopen2(g, "indices", H5P_DEFAULT);
    CHECK(H5Dread(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, m->indices) >= 0);
    H5Dclose(d);
    d  = H5Dopen2(g, "indptr", H5P_DEFAULT);
    sp = H5Dget_space(d);
    CHECK(H5Sget_simple_extent_npoints(sp) == m->rows + 1);
    CHECK(H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, m->indptr) >= 0);
    H5Sclose(sp);
    H5Dclose(d);
    H5Gclose(g);
    H5Gclose(obsm);
    H5Fclose(f);
    return 1;
}

static cJSON *load_json(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    size_t got = fread(text, 1, (size_t)n, f);
    text[got]  = '\0';
    fclose(f);
    cJSON *j = cJSON_Parse(text);
    free(text);
    return j;
}

static void test_x_sae_is_csr_and_matches_the_cell_file(const char *copy, const char *run, int64_t n_obs) {
    struct csr m = {0};
    CHECK(read_csr(copy, &m));
    if (!m.indptr) return;
    CHECK(m.rows == n_obs);
    CHECK(m.indptr[0] == 0 && m.indptr[m.rows] == m.nnz);
    for (int64_t r = 0; r < m.rows; r++) {
        CHECK(m.indptr[r] <= m.indptr[r + 1]);
        for (int64_t p = m.indptr[r]; p < m.indptr[r + 1]; p++) {
            CHECK(m.indices[p] >= 0 && m.indices[p] < m.cols && m.data[p] > 0);
            if (p > m.indptr[r]) CHECK(m.indices[p] > m.indices[p - 1]);
        }
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/feature_cell_associations.json", run);
    cJSON *cj = load_json(path);
    CHECK(cj != NULL);
    const cJSON *f;
    int n_features = 0;
    cJSON_ArrayForEach(f, cJSON_GetObjectItem(cj, "features")) {
        const int id = cJSON_GetObjectItem(f, "id")->valueint;
        int64_t nz   = 0;
        for (int64_t p = 0; p < m.nnz; p++) nz += m.indices[p] == id;
        CHECK_MSG(nz == (int64_t)cJSON_GetObjectItem(f, "n_active_cells")->valuedouble, "feature %d", id);
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItem(f, "top_cells")) {
            const int64_t row = (int64_t)cJSON_GetObjectItem(c, "row")->valuedouble;
            /* the file prints 9 significant digits of the same float */
            CHECK_CLOSE(csr_get(&m, row, id), cJSON_GetObjectItem(c, "activation")->valuedouble, 1e-8);
        }
        n_features++;
    }
    CHECK(n_features == m.cols);
    cJSON_Delete(cj);
    free(m.indptr);
    free(m.indices);
    free(m.data);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: test-extract-h5ad ORIGINAL.h5ad COPY.h5ad RUN_DIR\n");
        return 2;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    struct sg_h5ad *h = NULL;
    if (sg_h5ad_open(argv[1], &h) != SG_OK) {
        fprintf(stderr, "%s\n", sg_last_error());
        return 1;
    }
    int64_t n_obs = sg_h5ad_n_obs(h);
    sg_h5ad_close(h);
    test_input_content_is_preserved(argv[1], argv[2]);
    printf("%s test_input_content_is_preserved\n", test_failures ? "FAIL" : "ok  ");
    int before = test_failures;
    test_x_sae_is_csr_and_matches_the_cell_file(argv[2], argv[3], n_obs);
    printf("%s test_x_sae_is_csr_and_matches_the_cell_file\n", test_failures > before ? "FAIL" : "ok  ");
    return test_exit_code();
}
