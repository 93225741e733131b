/* `saeg embed` end to end on the fixtures: the file it writes holds the reference's cell
 * embeddings and residual streams (tokens in the order fed, CLS first per cell), with token and
 * cell-type indices; bad inputs exit 1 with the error on stderr. argv[1] is the saeg binary. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "io/safetensors.h"
#include "tests/test_util.h"

#define FIX "tests/models/fixtures/"
/* see test_tx1_parity.c: fp32 with another summation order than PyTorch */
#define TOL 1e-5

static const char *saeg;
static char out_dir[] = "/tmp/saeg-test-embed-XXXXXX";

static int run(const char *args, char *err, size_t cap) {
    char cmd[2048], errf[600];
    snprintf(errf, sizeof errf, "%s/stderr.txt", out_dir);
    snprintf(cmd, sizeof cmd, "'%s' embed %s 2>'%s' >/dev/null", saeg, args, errf);
    int rc   = system(cmd);
    FILE *f  = fopen(errf, "r");
    size_t n = f ? fread(err, 1, cap - 1, f) : 0;
    err[n]   = '\0';
    if (f) fclose(f);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static const struct sg_st_tensor *get(struct sg_st_file *f, const char *name) {
    const struct sg_st_tensor *t = sg_st_find(f, name);
    CHECK_MSG(t != NULL, "output lacks %s", name);
    return t;
}

static void test_output_matches_reference(void) {
    char args[1024], err[8192];
    snprintf(args, sizeof args,
             "--model " FIX "tiny_relu --data " FIX "cells.h5ad --output %s/out --layer 0,2 --context 64 --batch 5 "
             "--device cpu",
             out_dir);
    int rc = run(args, err, sizeof err);
    CHECK_MSG(rc == 0, "saeg embed exited %d: %s", rc, err);
    if (rc != 0) return;
    char path[700];
    snprintf(path, sizeof path, "%s/out/embeddings.safetensors", out_dir);
    struct sg_st_file *f, *ref;
    CHECK(sg_st_open(path, &f) == SG_OK);
    CHECK(sg_st_open(FIX "ref_tiny_relu.safetensors", &ref) == SG_OK);
    const struct sg_st_tensor *ce = get(f, "cell_emb"), *tc = get(f, "token_cell"), *tg = get(f, "token_gene");
    const struct sg_st_tensor *r0 = get(f, "resid.0"), *r2 = get(f, "resid.2"), *ct = get(f, "cell_type");
    if (!ce || !tc || !tg || !r0 || !r2 || !ct) return;
    const struct sg_st_tensor *rids = sg_st_find(ref, "ids");
    const int64_t n = rids->shape[0], S = rids->shape[1], d = 32;
    const int32_t *ids = rids->data, *len = sg_st_find(ref, "len")->data;
    CHECK(ce->shape[0] == n && ce->shape[1] == d && sg_st_find(f, "resid.1") == NULL);

    int bad           = 0;
    const float *want = sg_st_find(ref, "inf.cell_emb")->data, *got = ce->data;
    for (int64_t i = 0; i < n * d; i++) bad += !(fabs(got[i] - want[i]) <= TOL * (1 + fabs(want[i])));
    CHECK_MSG(bad == 0, "%d cell_emb values differ from the reference", bad);

    /* tokens: the reference's, cell by cell, CLS first; residuals of layers 0 and 2 alike */
    int64_t tok     = 0;
    const float *w0 = sg_st_find(ref, "inf.resid.0")->data, *w2 = sg_st_find(ref, "inf.resid.2")->data;
    const float *g0 = r0->data, *g2 = r2->data;
    int bad_tok = 0;
    bad         = 0;
    for (int64_t c = 0; c < n; c++)
        for (int64_t t = 0; t < len[c]; t++, tok++) {
            bad_tok += ((const int32_t *)tc->data)[tok] != c || ((const int32_t *)tg->data)[tok] != ids[c * S + t];
            for (int64_t k = 0; k < d; k++) {
                float a = w0[(c * S + t) * d + k], b = w2[(c * S + t) * d + k];
                bad += !(fabs(g0[tok * d + k] - a) <= TOL * (1 + fabs(a)));
                bad += !(fabs(g2[tok * d + k] - b) <= TOL * (1 + fabs(b)));
            }
        }
    CHECK(tc->shape[0] == tok && r0->shape[0] == tok && r0->shape[1] == d);
    CHECK_MSG(bad_tok == 0, "%d token_cell/token_gene entries differ", bad_tok);
    CHECK_MSG(bad == 0, "%d residual values differ from the reference", bad);

    /* cell types: codes into the sorted labels in the metadata */
    CHECK(sg_st_metadata(f, "cell_type_categories") &&
          strcmp(sg_st_metadata(f, "cell_type_categories"), "[\"B cell\",\"NK cell\",\"T cell\"]") == 0);
    for (int64_t c = 0; c < n; c++) CHECK(((const int32_t *)ct->data)[c] >= 0 && ((const int32_t *)ct->data)[c] < 3);
    CHECK(strcmp(sg_st_metadata(f, "format"), "saeg.embeddings.v1") == 0);
    CHECK(strcmp(sg_st_metadata(f, "layers"), "0,2") == 0);
    CHECK(strcmp(sg_st_metadata(f, "gene_id_key"), "ensembl_id") == 0);
    sg_st_close(f);
    sg_st_close(ref);
}

static void test_max_cells_and_cell_type_key(void) {
    char args[1024], err[8192], path[700];
    snprintf(args, sizeof args,
             "--model " FIX "tiny_gelu_bf16 --data " FIX "cells_csc.h5ad --output %s/few --max-cells 3 "
             "--cell-type-key batch --device cpu",
             out_dir);
    int rc = run(args, err, sizeof err);
    CHECK_MSG(rc == 0, "saeg embed exited %d: %s", rc, err);
    snprintf(path, sizeof path, "%s/few/embeddings.safetensors", out_dir);
    struct sg_st_file *f;
    if (rc != 0 || sg_st_open(path, &f) != SG_OK) return;
    CHECK(sg_st_find(f, "cell_emb")->shape[0] == 3 && sg_st_find(f, "token_cell") == NULL);
    CHECK(strcmp(sg_st_metadata(f, "cell_type_categories"), "[\"b0\",\"b1\"]") == 0);
    const int32_t *ct = sg_st_find(f, "cell_type")->data;
    CHECK(ct[0] == 0 && ct[1] == 1 && ct[2] == 0);
    sg_st_close(f);
}

static void test_bad_inputs_exit_1_with_the_reason(void) {
    char args[1024], err[8192];
    snprintf(args, sizeof args,
             "--model " FIX "tiny_relu --data " FIX "cells.h5ad --output %s/x --gene-id-key gene_ids", out_dir);
    CHECK(run(args, err, sizeof err) == 1);
    CHECK_CONTAINS(err, "var has no column 'gene_ids' (columns: ensembl_id, feature_name)");
    snprintf(args, sizeof args, "--model " FIX "tiny_relu --data " FIX "cells.h5ad --output %s/x --layer 3", out_dir);
    CHECK(run(args, err, sizeof err) == 1);
    CHECK_CONTAINS(err, "--layer 3: the model has blocks 0..2");
    snprintf(args, sizeof args, "--model " FIX "tiny_relu --data " FIX "cells.h5ad --output %s/x --cell-type-key ct",
             out_dir);
    CHECK(run(args, err, sizeof err) == 1);
    CHECK_CONTAINS(err, "obs has no column 'ct' (columns: cell_type, batch, n_genes, nullable, flag)");
    CHECK(run("--data x.h5ad", err, sizeof err) == 2);
    CHECK_CONTAINS(err, "--data and --output are required");
    CHECK(run("--data x.h5ad --output y --dtype fp16", err, sizeof err) == 2);
    CHECK_CONTAINS(err, "--dtype: 'fp16' is not a weight type (bf16, f32 or auto)");
}

/* --dtype reaches the loader, and the log line says what was used and whether it was the default */
static void test_dtype_is_logged_with_the_weight_bytes(void) {
    char args[1024], err[8192];
    snprintf(args, sizeof args,
             "--model " FIX "tiny_relu --data " FIX
             "cells.h5ad --output %s/bf16 --max-cells 2 --device cpu --dtype bf16",
             out_dir);
    int rc = run(args, err, sizeof err);
    CHECK_MSG(rc == 0, "saeg embed exited %d: %s", rc, err);
    CHECK_CONTAINS(err, "--dtype bf16: 0.1 MB of weights on cpu:0");
    snprintf(args, sizeof args,
             "--model " FIX "tiny_relu --data " FIX "cells.h5ad --output %s/auto --max-cells 2 --device cpu", out_dir);
    rc = run(args, err, sizeof err);
    CHECK_MSG(rc == 0, "saeg embed exited %d: %s", rc, err);
    CHECK_CONTAINS(err, "--dtype f32 (the default here): 0.2 MB of weights on cpu:0");
}

int main(int argc, char **argv) {
    if (argc < 2 || !mkdtemp(out_dir)) {
        fprintf(stderr, "usage: test-embed-cli /path/to/saeg\n");
        return 1;
    }
    saeg = argv[1];
    RUN_TEST(test_output_matches_reference);
    RUN_TEST(test_max_cells_and_cell_type_key);
    RUN_TEST(test_bad_inputs_exit_1_with_the_reason);
    RUN_TEST(test_dtype_is_logged_with_the_weight_bytes);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", out_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", out_dir);
    return test_exit_code();
}
