/* h5ad reader against files written by the real anndata (0.8: CSR float32, dense float64, CSC
 * int64) and by h5py in the layouts of anndata 0.7 (h5sparse_format, categories by object
 * reference, uint16 data) and 0.6 (structured-array obs/var): X must come back exactly as scipy
 * sees it (tests/models/fixtures/expected_x.safetensors), in any chunking; obs/var columns
 * decode to the same strings in every encoding; broken files fail with messages that name the
 * file and field. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/h5ad.h"
#include "io/safetensors.h"
#include "tests/test_util.h"

#define FIX "tests/models/fixtures/"

struct expected {
    int64_t n_rows;
    const int64_t *indptr;
    const int32_t *cols;
    const float *vals;
};

static struct sg_st_file *exp_file;

static struct expected expected_of(const char *kind) {
    char name[32];
    struct expected e;
    snprintf(name, sizeof name, "%s_indptr", kind);
    const struct sg_st_tensor *t = sg_st_find(exp_file, name);
    e.n_rows                     = t->shape[0] - 1;
    e.indptr                     = t->data;
    snprintf(name, sizeof name, "%s_cols", kind);
    e.cols = sg_st_find(exp_file, name)->data;
    snprintf(name, sizeof name, "%s_vals", kind);
    e.vals = sg_st_find(exp_file, name)->data;
    return e;
}

static struct sg_h5ad *open_ok(const char *path) {
    struct sg_h5ad *h = NULL;
    sg_status st      = sg_h5ad_open(path, &h);
    CHECK_MSG(st == SG_OK, "%s", sg_last_error());
    return h;
}

/* Reads X in chunks of `step` rows and compares every entry; `truncate` mimics uint16 storage. */
static void check_x(const char *path, const char *kind, int64_t step, bool truncate) {
    struct sg_h5ad *h = open_ok(path);
    if (!h) return;
    struct expected e = expected_of(kind);
    CHECK(sg_h5ad_n_obs(h) == e.n_rows && sg_h5ad_n_var(h) == 60);
    struct sg_h5ad_rows r = {0};
    int bad               = 0;
    for (int64_t r0 = 0; r0 < e.n_rows; r0 += step) {
        CHECK(sg_h5ad_read_rows(h, r0, step, &r) == SG_OK);
        for (int64_t i = 0; i < r.n_rows; i++) {
            const int64_t row = r0 + i, n = r.indptr[i + 1] - r.indptr[i];
            if (n != e.indptr[row + 1] - e.indptr[row]) {
                bad++;
                continue;
            }
            for (int64_t k = 0; k < n; k++) {
                const int64_t p = r.indptr[i] + k, q = e.indptr[row] + k;
                float want = truncate ? (float)(uint16_t)e.vals[q] : e.vals[q];
                bad += r.cols[p] != e.cols[q] || r.vals[p] != want;
            }
        }
    }
    CHECK_MSG(bad == 0, "%s (chunks of %lld): %d rows or entries differ from scipy's", path, (long long)step, bad);
    sg_h5ad_rows_free(&r);
    sg_h5ad_close(h);
}

static void test_x_csr_float32_keeps_stored_order_and_explicit_zeros(void) {
    for (int64_t step = 1; step <= 12; step += 4) check_x(FIX "cells.h5ad", "csr", step, false);
}

static void test_x_dense_float64_gives_nonzero_entries(void) {
    check_x(FIX "cells_dense.h5ad", "nz", 5, false);
    check_x(FIX "cells_dense.h5ad", "nz", 12, false);
}

static void test_x_csc_int64_gives_rows_with_columns_ascending(void) {
    check_x(FIX "cells_csc.h5ad", "csc", 1, false);
    check_x(FIX "cells_csc.h5ad", "csc", 7, false);
}

static void test_x_anndata07_h5sparse_uint16(void) { check_x(FIX "cells_v07.h5ad", "csr", 3, true); }

static void test_x_anndata06_dense_float32(void) { check_x(FIX "cells_v06.h5ad", "nz", 4, false); }

static void test_format_and_dtype_are_reported(void) {
    static const struct {
        const char *file, *dtype;
        enum sg_h5ad_x_format format;
    } cases[] = {{"cells.h5ad", "float32", SG_H5AD_CSR},
                 {"cells_dense.h5ad", "float64", SG_H5AD_DENSE},
                 {"cells_csc.h5ad", "int64", SG_H5AD_CSC},
                 {"cells_v07.h5ad", "uint16", SG_H5AD_CSR},
                 {"cells_v06.h5ad", "float32", SG_H5AD_DENSE}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, FIX "%s", cases[i].file);
        struct sg_h5ad *h = open_ok(path);
        if (!h) continue;
        CHECK_MSG(sg_h5ad_x_format(h) == cases[i].format && strcmp(sg_h5ad_x_dtype(h), cases[i].dtype) == 0,
                  "%s: %s %s", cases[i].file, sg_h5ad_x_format_name(sg_h5ad_x_format(h)), sg_h5ad_x_dtype(h));
        CHECK(sg_h5ad_rows_per_chunk(h, 1) == 1 && sg_h5ad_rows_per_chunk(h, 1u << 30) == 12);
        sg_h5ad_close(h);
    }
}

static void column(struct sg_h5ad *h, enum sg_h5ad_frame_kind k, const char *name, struct sg_h5ad_strings *out) {
    sg_status st = sg_h5ad_column_strings(h, k, name, out);
    CHECK_MSG(st == SG_OK, "%s", sg_last_error());
}

static void test_columns_decode_alike_in_every_encoding(void) {
    struct sg_h5ad *ref = open_ok(FIX "cells.h5ad");
    if (!ref) return;
    struct sg_h5ad_strings ct = {0}, idx = {0}, ens = {0}, feat = {0}, ng = {0};
    column(ref, SG_H5AD_OBS, "cell_type", &ct);
    column(ref, SG_H5AD_OBS, NULL, &idx);
    column(ref, SG_H5AD_VAR, "ensembl_id", &ens);
    column(ref, SG_H5AD_VAR, "feature_name", &feat);
    column(ref, SG_H5AD_OBS, "n_genes", &ng);
    CHECK(ct.n == 12 && strcmp(idx.s[3], "cell3") == 0 && strcmp(feat.s[7], "SYM7") == 0);
    for (int64_t i = 0; i < ct.n; i++)
        CHECK(!strcmp(ct.s[i], "T cell") || !strcmp(ct.s[i], "B cell") || !strcmp(ct.s[i], "NK cell"));
    CHECK(strcmp(ens.s[0], "ENSG10000000000.1") == 0 && strcmp(ens.s[1], "ENSG10000000007") == 0);

    static const char *const others[] = {FIX "cells_dense.h5ad", FIX "cells_csc.h5ad", FIX "cells_v07.h5ad",
                                         FIX "cells_v06.h5ad"};
    for (size_t f = 0; f < sizeof others / sizeof others[0]; f++) {
        struct sg_h5ad *h = open_ok(others[f]);
        if (!h) continue;
        struct sg_h5ad_strings a = {0}, b = {0}, c = {0}, d = {0}, e = {0};
        column(h, SG_H5AD_OBS, "cell_type", &a);
        column(h, SG_H5AD_OBS, NULL, &b);
        column(h, SG_H5AD_VAR, "ensembl_id", &c);
        column(h, SG_H5AD_VAR, "feature_name", &d);
        column(h, SG_H5AD_OBS, "n_genes", &e);
        int bad = 0;
        for (int64_t i = 0; i < 12 && a.n == 12 && b.n == 12 && e.n == 12; i++)
            bad += strcmp(a.s[i], ct.s[i]) != 0 || strcmp(b.s[i], idx.s[i]) != 0 || strcmp(e.s[i], ng.s[i]) != 0;
        for (int64_t j = 0; j < 60 && c.n == 60 && d.n == 60; j++)
            bad += strcmp(c.s[j], ens.s[j]) != 0 || strcmp(d.s[j], feat.s[j]) != 0;
        CHECK_MSG(bad == 0 && a.n == 12 && c.n == 60, "%s: %d values differ from cells.h5ad", others[f], bad);
        sg_h5ad_strings_free(&a);
        sg_h5ad_strings_free(&b);
        sg_h5ad_strings_free(&c);
        sg_h5ad_strings_free(&d);
        sg_h5ad_strings_free(&e);
        sg_h5ad_close(h);
    }
    sg_h5ad_strings_free(&ct);
    sg_h5ad_strings_free(&idx);
    sg_h5ad_strings_free(&ens);
    sg_h5ad_strings_free(&feat);
    sg_h5ad_strings_free(&ng);
    sg_h5ad_close(ref);
}

static void test_nullable_and_boolean_columns(void) {
    struct sg_h5ad *h = open_ok(FIX "cells.h5ad");
    if (!h) return;
    struct sg_h5ad_strings nul = {0}, flag = {0}, batch = {0};
    column(h, SG_H5AD_OBS, "nullable", &nul);
    column(h, SG_H5AD_OBS, "flag", &flag);
    column(h, SG_H5AD_OBS, "batch", &batch);
    for (int64_t c = 0; c < 12 && nul.n == 12 && flag.n == 12 && batch.n == 12; c++) {
        char want[16];
        snprintf(want, sizeof want, "%lld", (long long)c);
        CHECK_MSG(strcmp(nul.s[c], c % 4 ? want : "") == 0, "nullable[%lld] = '%s'", (long long)c, nul.s[c]);
        CHECK(strcmp(flag.s[c], c % 3 == 0 ? "True" : "False") == 0);
        CHECK(strcmp(batch.s[c], c % 2 ? "b1" : "b0") == 0);
    }
    sg_h5ad_strings_free(&nul);
    sg_h5ad_strings_free(&flag);
    sg_h5ad_strings_free(&batch);
    sg_h5ad_close(h);
}

static void test_missing_column_lists_the_columns(void) {
    struct sg_h5ad *h = open_ok(FIX "cells.h5ad");
    if (!h) return;
    struct sg_h5ad_strings s = {0};
    CHECK(sg_h5ad_column_strings(h, SG_H5AD_VAR, "gene_ids", &s) == SG_ERR_NOT_FOUND);
    CHECK_CONTAINS(sg_last_error(), "cells.h5ad: var has no column 'gene_ids' (columns: ensembl_id, feature_name)");
    CHECK(sg_h5ad_column_strings(h, SG_H5AD_OBS, "celltype", &s) == SG_ERR_NOT_FOUND);
    CHECK_CONTAINS(sg_last_error(), "columns: cell_type, batch, n_genes, nullable, flag");
    sg_h5ad_close(h);
}

static void test_broken_files_fail_with_clear_messages(void) {
    struct sg_h5ad *h = NULL;
    CHECK(sg_h5ad_open("/nonexistent/data.h5ad", &h) == SG_ERR_NOT_FOUND);
    CHECK_CONTAINS(sg_last_error(), "/nonexistent/data.h5ad");
    CHECK(sg_h5ad_open(FIX "tiny_relu/vocab.json", &h) == SG_ERR_FORMAT);
    CHECK_CONTAINS(sg_last_error(), "vocab.json: not an HDF5");
    CHECK(sg_h5ad_open(FIX "broken_no_x.h5ad", &h) == SG_ERR_FORMAT);
    CHECK_CONTAINS(sg_last_error(), "broken_no_x.h5ad: has no X");
    h = open_ok(FIX "broken_indices.h5ad");
    if (h) {
        struct sg_h5ad_rows r = {0};
        CHECK(sg_h5ad_read_rows(h, 0, 12, &r) == SG_ERR_FORMAT);
        CHECK_CONTAINS(sg_last_error(), "X/indices holds column 999");
        sg_h5ad_rows_free(&r);
        sg_h5ad_close(h);
    }
}

int main(void) {
    if (sg_st_open(FIX "expected_x.safetensors", &exp_file) != SG_OK) {
        fprintf(stderr, "%s\n", sg_last_error());
        return 1;
    }
    RUN_TEST(test_x_csr_float32_keeps_stored_order_and_explicit_zeros);
    RUN_TEST(test_x_dense_float64_gives_nonzero_entries);
    RUN_TEST(test_x_csc_int64_gives_rows_with_columns_ascending);
    RUN_TEST(test_x_anndata07_h5sparse_uint16);
    RUN_TEST(test_x_anndata06_dense_float32);
    RUN_TEST(test_format_and_dtype_are_reported);
    RUN_TEST(test_columns_decode_alike_in_every_encoding);
    RUN_TEST(test_nullable_and_boolean_columns);
    RUN_TEST(test_missing_column_lists_the_columns);
    RUN_TEST(test_broken_files_fail_with_clear_messages);
    sg_st_close(exp_file);
    return test_exit_code();
}
