/* Loading released-layout folders: every problem with a checkpoint is reported by name (missing,
 * unexpected and misshapen tensors together), bad configs name the file and key, 3B's chemical
 * encoder is accepted and ignored, sizes resolve through $SAEG_MODEL_DIR and the Hugging Face
 * cache, and the gene-ID errors of `saeg embed` list what exists on both sides. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/backend.h"
#include "core/types.h"
#include "io/h5ad.h"
#include "io/safetensors.h"
#include "models/tahoe_x1.h"
#include "tests/test_util.h"

#define FIX "tests/models/fixtures/"

static char tmp_root[] = "/tmp/saeg-test-loader-XXXXXX";

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = calloc(1, (size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) s[0] = '\0';
    fclose(f);
    return s;
}

static void write_text(const char *path, const char *s) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs(s, f);
    fclose(f);
}

/* A copy of tiny_relu in tmp_root/name, with `find` replaced by `repl` in model_config.yml. */
static void make_folder(const char *name, char *dir, const char *find, const char *repl) {
    static const char *const files[] = {"model.safetensors", "model_config.yml", "collator_config.yml", "vocab.json"};
    snprintf(dir, 512, "%s/%s", tmp_root, name);
    mkdir(dir, 0755);
    for (int i = 0; i < 4; i++) {
        char src[512], dst[600];
        snprintf(src, sizeof src, FIX "tiny_relu/%s", files[i]);
        snprintf(dst, sizeof dst, "%s/%s", dir, files[i]);
        if (i == 0) { /* binary: copy through the safetensors reader */
            FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
            char buf[65536];
            size_t n;
            while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, out);
            if (in) fclose(in);
            if (out) fclose(out);
            continue;
        }
        char *s = read_text(src);
        if (!s) continue;
        char *hit = i == 1 && find ? strstr(s, find) : NULL;
        if (hit) {
            char *t = malloc(strlen(s) + strlen(repl) + 1);
            sprintf(t, "%.*s%s%s", (int)(hit - s), s, repl, hit + strlen(find));
            free(s);
            s = t;
        }
        write_text(dst, s);
        free(s);
    }
}

/* Rewrites dir/model.safetensors from tiny_relu's without `drop`, with `reshape` declared as
 * [rows, cols] (data truncated), and with extra tensors named in `extra` ([4] F32 each). */
static void rewrite_checkpoint(const char *dir, const char *drop, const char *reshape, int64_t rows, int64_t cols,
                               const char *const *extra, int n_extra) {
    struct sg_st_file *f;
    if (sg_st_open(FIX "tiny_relu/model.safetensors", &f) != SG_OK) return;
    int n                      = sg_st_count(f);
    struct sg_st_decl *d       = calloc((size_t)(n + n_extra), sizeof *d);
    const void **data          = calloc((size_t)(n + n_extra), sizeof *data);
    int k                      = 0;
    static const float four[4] = {1, 2, 3, 4};
    for (int i = 0; i < n; i++) {
        const struct sg_st_tensor *t = sg_st_get(f, i);
        if (drop && strcmp(t->name, drop) == 0) continue;
        d[k] = (struct sg_st_decl){t->name, t->dtype, t->n_dims, {t->shape[0], t->shape[1]}};
        if (reshape && strcmp(t->name, reshape) == 0) {
            d[k].shape[0] = rows;
            d[k].shape[1] = cols;
        }
        data[k++] = t->data;
    }
    for (int i = 0; i < n_extra; i++) {
        d[k]      = (struct sg_st_decl){extra[i], SG_ST_F32, 1, {4}};
        data[k++] = four;
    }
    char path[600];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    struct sg_st_writer *w;
    if (sg_st_writer_open(path, d, k, NULL, &w) == SG_OK) {
        for (int i = 0; i < k; i++) {
            size_t bytes = sg_st_dtype_size(d[i].dtype);
            for (int j = 0; j < d[i].n_dims; j++) bytes *= (size_t)d[i].shape[j];
            sg_st_writer_put(w, i, 0, data[i], bytes);
        }
        sg_st_writer_close(w);
    }
    free(d);
    free(data);
    sg_st_close(f);
}

static sg_status load(const char *dir) {
    struct tx1_model *m = NULL;
    sg_status st        = tx1_model_load(dir, sg_device_cpu(), &m);
    tx1_model_free(m);
    return st;
}

static void test_released_sizes_have_the_published_parameter_counts(void) {
    static const struct {
        const char *size;
        int64_t n;
    } cases[] = {{"70m", 70996993}, {"1.3b", 1353854977}, {"1b", 1353854977}, {"3b", 2704460801}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tx1_config c;
        CHECK(tx1_config_preset(cases[i].size, &c) == SG_OK);
        CHECK_MSG(tx1_config_n_params(&c) == cases[i].n, "%s: %lld parameters", cases[i].size,
                  (long long)tx1_config_n_params(&c));
    }
    struct tx1_config c;
    CHECK(tx1_config_preset("7b", &c) == SG_ERR_INVALID_ARG);
}

static void test_folder_missing_files_names_them(void) {
    char dir[512];
    make_folder("nofile", dir, NULL, NULL);
    char p[600];
    snprintf(p, sizeof p, "%s/vocab.json", dir);
    unlink(p);
    CHECK(load(dir) == SG_ERR_NOT_FOUND);
    CHECK_CONTAINS(sg_last_error(), "missing vocab.json");
    CHECK(load("/nonexistent/70m-model") == SG_ERR_NOT_FOUND);
    CHECK_CONTAINS(sg_last_error(), "/nonexistent/70m-model");
}

static void test_checkpoint_problems_are_all_named(void) {
    char dir[512];
    make_folder("badkeys", dir, NULL, NULL);
    const char *extra[] = {"model.gene_encoder.project.weight", "optimizer.state"};
    rewrite_checkpoint(dir, "model.flag_encoder.weight", "model.mvc_decoder.W.weight", 32, 16, extra, 2);
    CHECK(load(dir) == SG_ERR_FORMAT);
    const char *e = sg_last_error();
    CHECK_CONTAINS(e, "missing model.flag_encoder.weight");
    CHECK_CONTAINS(e, "model.mvc_decoder.W.weight has shape [32, 16], expected [32, 32]");
    CHECK_CONTAINS(e, "unexpected model.gene_encoder.project.weight");
    CHECK_CONTAINS(e, "unexpected optimizer.state");
}

static void test_config_errors_name_file_and_key(void) {
    char dir[512];
    make_folder("badyaml", dir, "d_model: 32", "d_model: thirty-two");
    CHECK(load(dir) == SG_ERR_FORMAT);
    CHECK_CONTAINS(sg_last_error(), "model_config.yml: d_model: expected an integer, got 'thirty-two'");
    make_folder("glu", dir, "use_glu: False", "use_glu: True");
    CHECK(load(dir) == SG_ERR_UNSUPPORTED);
    CHECK_CONTAINS(sg_last_error(), "use_glu");
    make_folder("heads", dir, "n_heads: 4", "n_heads: 5");
    CHECK(load(dir) == SG_ERR_FORMAT);
    CHECK_CONTAINS(sg_last_error(), "not a multiple of n_heads 5");
    make_folder("act", dir, "transformer_activation: relu", "transformer_activation: swiglu");
    CHECK(load(dir) == SG_ERR_UNSUPPORTED);
    CHECK_CONTAINS(sg_last_error(), "transformer_activation: activation 'swiglu'");
}

static void test_chemical_encoder_of_3b_is_accepted_and_ignored(void) {
    char dir[512];
    make_folder("chem", dir, "vocab_size:", "chemical_encoder:\n  activation: gelu\n  padding_idx: 0\nvocab_size:");
    const char *extra[] = {"model.chem_encoder.embedding.weight", "model.chem_encoder.fc.weight"};
    rewrite_checkpoint(dir, NULL, NULL, 0, 0, extra, 2);
    sg_status st = load(dir);
    CHECK_MSG(st == SG_OK, "%s", sg_last_error());
}

static void test_model_size_resolves_through_env_and_hf_cache(void) {
    char root[600], dir[700], out[1024];
    /* $SAEG_MODEL_DIR/<size>-model */
    snprintf(root, sizeof root, "%s/models", tmp_root);
    mkdir(root, 0755);
    make_folder("models/70m-model", dir, NULL, NULL);
    setenv("SAEG_MODEL_DIR", root, 1);
    CHECK(tx1_resolve_model(NULL, "70m", out, sizeof out) == SG_OK);
    CHECK(strcmp(out, dir) == 0);
    /* the Hugging Face cache: snapshots/<rev>/<size>-model named by refs/main */
    unsetenv("SAEG_MODEL_DIR");
    char hub[700], p[900];
    snprintf(hub, sizeof hub, "%s/hf", tmp_root);
    setenv("HF_HUB_CACHE", hub, 1);
    setenv("HOME", tmp_root, 1);
    unsetenv("XDG_CACHE_HOME");
    const char *parts[] = {"", "/models--tahoebio--Tahoe-x1", "/models--tahoebio--Tahoe-x1/refs",
                           "/models--tahoebio--Tahoe-x1/snapshots", "/models--tahoebio--Tahoe-x1/snapshots/abc123"};
    for (int i = 0; i < 5; i++) {
        snprintf(p, sizeof p, "%s%s", hub, parts[i]);
        mkdir(p, 0755);
    }
    snprintf(p, sizeof p, "%s/models--tahoebio--Tahoe-x1/refs/main", hub);
    write_text(p, "abc123\n");
    make_folder("hf/models--tahoebio--Tahoe-x1/snapshots/abc123/1b-model", dir, NULL, NULL);
    CHECK(tx1_resolve_model(NULL, "1.3b", out, sizeof out) == SG_OK);
    CHECK_CONTAINS(out, "snapshots/abc123/1b-model");
    CHECK(tx1_resolve_model(NULL, "3b", out, sizeof out) == SG_ERR_NOT_FOUND);
    CHECK_CONTAINS(sg_last_error(), "saeg fetch-model 3b");
    CHECK_CONTAINS(sg_last_error(), "models--tahoebio--Tahoe-x1/snapshots/*/3b-model");
    CHECK(tx1_resolve_model(NULL, "2b", out, sizeof out) == SG_ERR_INVALID_ARG);
    CHECK(tx1_resolve_model("given/dir", "70m", out, sizeof out) == SG_OK && strcmp(out, "given/dir") == 0);
}

static void test_gene_id_errors_list_both_sides(void) {
    struct tx1_model *m;
    CHECK(tx1_model_load(FIX "tiny_relu", sg_device_cpu(), &m) == SG_OK);
    struct sg_h5ad *h;
    CHECK(sg_h5ad_open(FIX "cells.h5ad", &h) == SG_OK);
    struct tx1_gene_map g;
    /* the column is missing: say which ones exist */
    CHECK(tx1_gene_map_build(m->vocab, h, "gene_ids", &g) == SG_ERR_NOT_FOUND);
    CHECK_CONTAINS(sg_last_error(), "cells.h5ad: var has no column 'gene_ids' (columns: ensembl_id, feature_name)");
    CHECK_CONTAINS(sg_last_error(), "--gene-id-key");
    /* the column holds symbols: examples from the data and from the vocabulary */
    CHECK(tx1_gene_map_build(m->vocab, h, "feature_name", &g) == SG_ERR_NOT_FOUND);
    CHECK_CONTAINS(sg_last_error(), "none of the 60 genes in var column 'feature_name' (e.g. SYM0, SYM1, SYM2)");
    CHECK_CONTAINS(sg_last_error(), "vocabulary (e.g. ENSG10000000000, ENSG10000000007, ENSG10000000014)");
    /* the default finds 'ensembl_id' and strips version suffixes */
    CHECK(tx1_gene_map_build(m->vocab, h, NULL, &g) == SG_OK);
    CHECK(g.n_var == 60 && g.n_matched == 52 && strcmp(g.key, "ensembl_id") == 0);
    CHECK(g.ids[0] == tx1_vocab_lookup(m->vocab, "ENSG10000000000"));
    tx1_gene_map_free(&g);
    sg_h5ad_close(h);
    tx1_model_free(m);
}

static void count_bf16(const char *key, int nd, const int64_t *shape, struct sg_tensor **slot, void *user) {
    (void)key;
    (void)nd;
    (void)shape;
    if ((*slot)->type == SG_TYPE_BF16) *(int64_t *)user += sg_nelements(*slot);
}

/* --dtype bf16: Linear weights BF16 (the F32 file's values rounded to nearest even), the rest
 * F32, 2 bytes saved per Linear weight element; auto is f32 on the CPU; bad values are named. */
static void test_dtype_bf16_holds_linear_weights_in_bf16(void) {
    struct tx1_model *f, *h, *a;
    CHECK(tx1_model_load_as(FIX "tiny_relu", sg_device_cpu(), TX1_DTYPE_F32, &f) == SG_OK);
    CHECK(tx1_model_load_as(FIX "tiny_relu", sg_device_cpu(), TX1_DTYPE_BF16, &h) == SG_OK);
    CHECK(tx1_model_load(FIX "tiny_relu", sg_device_cpu(), &a) == SG_OK);
    CHECK(f->dtype == TX1_DTYPE_F32 && h->dtype == TX1_DTYPE_BF16 && a->dtype == TX1_DTYPE_F32);
    int64_t n16 = 0;
    tx1_weights_each(&h->cfg, &h->w, count_bf16, &n16);
    /* Wqkv, out_proj, up, down per layer; encoder linear1/2; decoder; out_proj; gene2query; W */
    const int64_t d = 32, L = 3;
    CHECK(n16 == L * (3 * d * d + d * d + 2 * 4 * d * d) + d + d * d + d * d + d + d * d + d * d);
    CHECK(f->weight_bytes == h->weight_bytes + 2 * (size_t)n16 && a->weight_bytes == f->weight_bytes);
    CHECK(h->w.gene_emb->type == SG_TYPE_F32 && h->w.layers[1].norm2_w->type == SG_TYPE_F32);
    const int64_t n = sg_nelements(f->w.layers[1].up_w);
    float *w32      = malloc((size_t)n * sizeof *w32);
    uint16_t *w16   = malloc((size_t)n * sizeof *w16);
    CHECK(sg_tensor_get(f->w.layers[1].up_w, w32, 0, (size_t)n * 4) == SG_OK);
    CHECK(sg_tensor_get(h->w.layers[1].up_w, w16, 0, (size_t)n * 2) == SG_OK);
    int bad = 0;
    for (int64_t i = 0; i < n; i++) bad += w16[i] != sg_f32_to_bf16(w32[i]);
    CHECK_MSG(bad == 0, "%d of %lld bf16 weights differ from the rounded f32 ones", bad, (long long)n);
    free(w32);
    free(w16);
    tx1_model_free(f);
    tx1_model_free(h);
    tx1_model_free(a);
    enum tx1_dtype dt;
    CHECK(tx1_dtype_parse("fp16", "--dtype", &dt) == SG_ERR_INVALID_ARG);
    CHECK_CONTAINS(sg_last_error(), "--dtype: 'fp16' is not a weight type (bf16, f32 or auto)");
    CHECK(tx1_dtype_parse("bf16", "--dtype", &dt) == SG_OK && dt == TX1_DTYPE_BF16);
}

int main(void) {
    if (!mkdtemp(tmp_root) || sg_backends_load() != SG_OK) return 1;
    RUN_TEST(test_released_sizes_have_the_published_parameter_counts);
    RUN_TEST(test_folder_missing_files_names_them);
    RUN_TEST(test_checkpoint_problems_are_all_named);
    RUN_TEST(test_config_errors_name_file_and_key);
    RUN_TEST(test_chemical_encoder_of_3b_is_accepted_and_ignored);
    RUN_TEST(test_model_size_resolves_through_env_and_hf_cache);
    RUN_TEST(test_gene_id_errors_list_both_sides);
    RUN_TEST(test_dtype_bf16_holds_linear_weights_in_bf16);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp_root);
    return test_exit_code();
}
