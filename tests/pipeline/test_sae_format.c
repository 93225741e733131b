/* The SAE files match SAELens v6 (../shared/reference/sae.md §3) key by key: cfg.json's keys and
 * values, sae_weights.safetensors's tensor names, shapes and dtypes (and nothing else), and
 * sparsity.safetensors; the input scale is folded into the weights so the saved SAE reproduces
 * the trained one on raw activations; and sg_sae_load reads the files back unchanged. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/backend.h"
#include "core/context.h"
#include "core/sched.h"
#include "io/safetensors.h"
#include "models/sae.h"
#include "models/sae_rng.h"
#include "tests/test_util.h"

#define D 12
#define M 40
#define K 5
#define B 16

static struct sg_device *cpu;
static struct sg_stream *stream;

static float *get(const struct sg_tensor *t) {
    float *h = malloc((size_t)sg_nelements(t) * sizeof *h);
    sg_tensor_get(t, h, 0, (size_t)sg_nelements(t) * sizeof *h);
    return h;
}

static void set_random(struct sg_tensor *t, struct sg_rng *r, float scale) {
    int64_t n = sg_nelements(t);
    float *h  = malloc((size_t)n * sizeof *h);
    for (int64_t i = 0; i < n; i++) h[i] = scale * (float)sg_rng_normal(r);
    sg_tensor_set(t, h, 0, (size_t)n * sizeof *h);
    free(h);
}

/* A trained-looking SAE: random weights, thresholds and input scale. */
static struct sg_sae *make_sae(enum sg_sae_arch arch, float scale) {
    struct sg_sae_config c;
    sg_sae_config_default(&c, arch, D, M);
    c.k = K;
    struct sg_sae *s;
    CHECK(sg_sae_new(&c, cpu, &s) == SG_OK);
    struct sg_rng r;
    sg_rng_seed(&r, 5 + (uint64_t)arch);
    set_random(s->W_enc, &r, 0.5f);
    set_random(s->W_dec, &r, 0.5f);
    set_random(s->b_enc, &r, 0.1f);
    set_random(s->b_dec, &r, 0.1f);
    if (s->log_threshold) {
        float th[M];
        for (int i = 0; i < M; i++) th[i] = logf(0.05f + 0.01f * (float)(i % 7));
        sg_tensor_set(s->log_threshold, th, 0, sizeof th);
    }
    s->batch_threshold = 0.125;
    s->scale           = scale;
    return s;
}

/* Reconstruction of the encode graph on x [B][D]. */
static void encode(struct sg_sae *s, const float *x, float *recon, int32_t *idx) {
    struct sg_ctx *ctx = sg_ctx_new();
    struct sg_sae_enc e;
    CHECK(sg_sae_build_encode(s, ctx, B, K, true, &e) == SG_OK);
    struct sg_graph *g = sg_graph_new(ctx);
    sg_graph_expand(g, e.recon);
    sg_graph_expand(g, e.idx);
    struct sg_sched *sched;
    sg_sched_new(stream, 0, &sched);
    CHECK(sg_sched_prepare(sched, g) == SG_OK);
    sg_tensor_set(e.x, x, 0, sizeof(float) * B * D);
    CHECK(sg_sched_compute(sched, g) == SG_OK);
    sg_tensor_get(e.recon, recon, 0, sizeof(float) * B * D);
    sg_tensor_get(e.idx, idx, 0, sizeof(int32_t) * B * (size_t)e.k_codes);
    sg_sched_free(sched);
    sg_ctx_free(ctx);
}

/* The unfolded SAE on s·x, computed on the host: recon(s·x) / s. */
static void host_reference(enum sg_sae_arch arch, const float *we, const float *be, const float *wd, const float *bd,
                           const float *theta, float s, const float *x, float *recon) {
    for (int b = 0; b < B; b++) {
        float pre[M], f[M];
        for (int i = 0; i < M; i++) {
            double a = be[i];
            for (int j = 0; j < D; j++) a += (double)(s * x[b * D + j] - bd[j]) * we[i * D + j];
            pre[i] = (float)a;
        }
        for (int i = 0; i < M; i++) f[i] = 0;
        if (arch == SG_SAE_TOPK) {
            for (int q = 0; q < K; q++) {
                int best = -1;
                for (int i = 0; i < M; i++)
                    if (f[i] == 0 && pre[i] != -INFINITY && (best < 0 || pre[i] > pre[best])) best = i;
                f[best]   = pre[best] > 0 ? pre[best] : 0;
                pre[best] = -INFINITY;
            }
        } else {
            for (int i = 0; i < M; i++)
                f[i] = arch == SG_SAE_STANDARD ? (pre[i] > 0 ? pre[i] : 0) : (pre[i] > theta[i] ? pre[i] : 0);
        }
        for (int j = 0; j < D; j++) {
            double a = bd[j];
            for (int i = 0; i < M; i++) a += (double)f[i] * wd[i * D + j];
            recon[b * D + j] = (float)(a / s);
        }
    }
}

static const cJSON *item(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static void check_cfg(const char *dir, enum sg_sae_arch saved) {
    char path[256];
    snprintf(path, sizeof path, "%s/cfg.json", dir);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f) return;
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n]   = 0;
    fclose(f);
    cJSON *c = cJSON_Parse(buf);
    CHECK(cJSON_IsObject(c));
    CHECK(cJSON_IsString(item(c, "architecture")) &&
          !strcmp(item(c, "architecture")->valuestring, sg_sae_arch_name(saved)));
    CHECK(cJSON_IsNumber(item(c, "d_in")) && item(c, "d_in")->valuedouble == D);
    CHECK(cJSON_IsNumber(item(c, "d_sae")) && item(c, "d_sae")->valuedouble == M);
    CHECK(cJSON_IsString(item(c, "dtype")) && !strcmp(item(c, "dtype")->valuestring, "float32"));
    CHECK(cJSON_IsString(item(c, "device")) && !strcmp(item(c, "device")->valuestring, "cpu"));
    CHECK(cJSON_IsTrue(item(c, "apply_b_dec_to_input")));
    CHECK(cJSON_IsString(item(c, "normalize_activations")) &&
          !strcmp(item(c, "normalize_activations")->valuestring, "none"));
    CHECK(cJSON_IsString(item(c, "reshape_activations")) &&
          !strcmp(item(c, "reshape_activations")->valuestring, "none"));
    if (saved == SG_SAE_TOPK) {
        CHECK(cJSON_IsNumber(item(c, "k")) && item(c, "k")->valuedouble == K);
        CHECK(cJSON_IsFalse(item(c, "rescale_acts_by_decoder_norm")));
    } else {
        CHECK(item(c, "k") == NULL); /* JumpReLU and standard configs have no k */
    }
    const cJSON *m = item(c, "metadata");
    CHECK(cJSON_IsObject(m));
    const cJSON *v = item(m, "sae_lens_version");
    /* below 6.0.0 SAELens converts the file as the pre-6 flat layout */
    CHECK(cJSON_IsString(v) && atoi(v->valuestring) >= 6);
    CHECK(cJSON_IsString(item(m, "sae_lens_training_version")));
    CHECK(cJSON_IsString(item(m, "model_name")) && !strcmp(item(m, "model_name")->valuestring, "tahoe-x1-70m"));
    CHECK(cJSON_IsString(item(m, "hook_name")) &&
          !strcmp(item(m, "hook_name")->valuestring, "transformer_encoder.layers.6"));
    CHECK(cJSON_IsNull(item(m, "hook_head_index")));
    CHECK(cJSON_IsNumber(item(m, "context_size")) && item(m, "context_size")->valuedouble == 1024);
    CHECK(cJSON_IsNumber(item(m, "layer")) && item(m, "layer")->valuedouble == 6);
    CHECK(cJSON_IsString(item(m, "token_selection")) && !strcmp(item(m, "token_selection")->valuestring, "genes"));
    CHECK(cJSON_IsString(item(m, "model_size")) && !strcmp(item(m, "model_size")->valuestring, "70m"));
    CHECK(cJSON_IsString(item(m, "dataset_path")));
    cJSON_Delete(c);
}

static void check_weights(const char *dir, enum sg_sae_arch saved, const float *we, const float *be, const float *wd,
                          const float *bd, const float *theta, float s) {
    char path[256];
    snprintf(path, sizeof path, "%s/sae_weights.safetensors", dir);
    struct sg_st_file *f;
    CHECK(sg_st_open(path, &f) == SG_OK);
    struct {
        const char *name;
        int n_dims;
        int64_t shape[2];
    } want[] = {
        {"W_enc", 2, {D, M}}, {"b_enc", 1, {M}}, {"W_dec", 2, {M, D}}, {"b_dec", 1, {D}}, {"threshold", 1, {M}}};
    int n_want = saved == SG_SAE_JUMPRELU ? 5 : 4;
    CHECK(sg_st_count(f) == n_want); /* SAELens loads with strict=True: no extra keys */
    for (int i = 0; i < n_want; i++) {
        const struct sg_st_tensor *t = sg_st_find(f, want[i].name);
        CHECK_MSG(t != NULL, "%s missing", want[i].name);
        if (!t) continue;
        CHECK(t->dtype == SG_ST_F32);
        CHECK(t->n_dims == want[i].n_dims);
        for (int k = 0; k < want[i].n_dims; k++) CHECK(t->shape[k] == want[i].shape[k]);
    }
    /* values: W_enc [d_in, d_sae] = the latent rows transposed, times s; W_dec, b_dec divided by s */
    const float *W = sg_st_find(f, "W_enc")->data, *Wd = sg_st_find(f, "W_dec")->data;
    const float *bdec = sg_st_find(f, "b_dec")->data, *benc = sg_st_find(f, "b_enc")->data;
    double err = 0;
    for (int i = 0; i < D; i++)
        for (int j = 0; j < M; j++) err = fmax(err, fabs(W[i * M + j] - we[j * D + i] * s));
    for (int i = 0; i < M * D; i++) err = fmax(err, fabs(Wd[i] - wd[i] / s));
    for (int j = 0; j < D; j++) err = fmax(err, fabs(bdec[j] - bd[j] / s));
    for (int j = 0; j < M; j++) err = fmax(err, fabs(benc[j] - be[j]));
    CHECK_MSG(err < 1e-5, "folded weights off by %g", err);
    if (saved == SG_SAE_JUMPRELU) {
        const float *th = sg_st_find(f, "threshold")->data;
        for (int j = 0; j < M; j++) CHECK_CLOSE(th[j], theta[j], 1e-6);
    }
    sg_st_close(f);
}

static void run_arch(enum sg_sae_arch arch) {
    const float s       = 1.7f;
    enum sg_sae_arch sv = sg_sae_arch_saved(arch);
    struct sg_sae *sae  = make_sae(arch, s);
    float *we = get(sae->W_enc), *be = get(sae->b_enc), *wd = get(sae->W_dec), *bd = get(sae->b_dec);
    float theta[M];
    for (int i = 0; i < M; i++) theta[i] = (float)sae->batch_threshold;
    if (sae->log_threshold) {
        float *lt = get(sae->log_threshold);
        for (int i = 0; i < M; i++) theta[i] = expf(lt[i]);
        free(lt);
    }
    char dir[128];
    snprintf(dir, sizeof dir, "build-test-out/format-%s", sg_sae_arch_name(arch));
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p build-test-out", dir);
    CHECK(system(cmd) == 0);
    CHECK(sg_sae_fold_scale(sae) == SG_OK);
    CHECK(sae->scale == 1.0f);
    struct sg_sae_meta meta = {.model_name   = "tahoe-x1-70m",
                               .model_size   = "70m",
                               .layer        = 6,
                               .tokens       = "genes",
                               .dataset_path = "cells.h5ad",
                               .context_size = 1024};
    CHECK(sg_sae_save(sae, dir, &meta) == SG_OK);
    float freq[M];
    for (int i = 0; i < M; i++) freq[i] = i ? 1.0f / (float)(i + 1) : 0.0f;
    CHECK(sg_sae_save_sparsity(dir, freq, M) == SG_OK);
    check_cfg(dir, sv);
    check_weights(dir, sv, we, be, wd, bd, theta, s);

    char path[256];
    snprintf(path, sizeof path, "%s/sparsity.safetensors", dir);
    struct sg_st_file *f;
    CHECK(sg_st_open(path, &f) == SG_OK);
    CHECK(sg_st_count(f) == 1);
    const struct sg_st_tensor *sp = sg_st_find(f, "sparsity");
    CHECK(sp && sp->dtype == SG_ST_F32 && sp->n_dims == 1 && sp->shape[0] == M);
    if (sp) {
        CHECK_CLOSE(((const float *)sp->data)[0], -10.0, 1e-6); /* log10(0 + 1e-10) */
        CHECK_CLOSE(((const float *)sp->data)[3], log10(0.25 + 1e-10), 1e-6);
    }
    sg_st_close(f);

    /* the saved SAE on raw x equals the trained one on s·x, divided by s */
    struct sg_rng r;
    sg_rng_seed(&r, 99);
    float x[B * D], got[B * D], want[B * D];
    int32_t idx[B * M];
    for (int i = 0; i < B * D; i++) x[i] = (float)sg_rng_normal(&r);
    host_reference(sv == SG_SAE_JUMPRELU ? SG_SAE_JUMPRELU : arch, we, be, wd, bd, theta, s, x, want);
    struct sg_sae *loaded;
    CHECK(sg_sae_load(dir, cpu, &loaded) == SG_OK);
    CHECK(loaded->cfg.arch == sv && loaded->cfg.d_in == D && loaded->cfg.d_sae == M);
    encode(loaded, x, got, idx);
    double err = 0;
    for (int i = 0; i < B * D; i++) err = fmax(err, fabs(got[i] - want[i]));
    CHECK_MSG(err < 1e-4, "%s: the saved SAE's reconstruction differs by %g", sg_sae_arch_name(arch), err);
    float *lw = get(loaded->W_enc), *lwd = get(loaded->W_dec), *fw = get(sae->W_enc), *fwd = get(sae->W_dec);
    CHECK(memcmp(lw, fw, sizeof(float) * M * D) == 0);
    CHECK(memcmp(lwd, fwd, sizeof(float) * M * D) == 0);
    free(lw);
    free(lwd);
    free(fw);
    free(fwd);
    sg_sae_free(loaded);
    free(we);
    free(be);
    free(wd);
    free(bd);
    sg_sae_free(sae);
}

static void test_topk_files_match_saelens(void) { run_arch(SG_SAE_TOPK); }
static void test_batchtopk_is_saved_as_jumprelu(void) { run_arch(SG_SAE_BATCHTOPK); }
static void test_matryoshka_is_saved_as_jumprelu(void) { run_arch(SG_SAE_MATRYOSHKA); }
static void test_jumprelu_files_match_saelens(void) { run_arch(SG_SAE_JUMPRELU); }
static void test_standard_files_match_saelens(void) { run_arch(SG_SAE_STANDARD); }

/* Files SAELens would reject, or that are not SAEs, fail with the file and the key named. */
static void test_load_errors_name_the_problem(void) {
    CHECK(system("rm -rf build-test-out/format-bad && mkdir -p build-test-out/format-bad") == 0);
    struct sg_sae *s;
    CHECK(sg_sae_load("build-test-out/format-bad", cpu, &s) == SG_ERR_IO);
    CHECK_CONTAINS(sg_last_error(), "cfg.json");
    FILE *f = fopen("build-test-out/format-bad/cfg.json", "w");
    fputs("{\"architecture\": \"gated\", \"d_in\": 4, \"d_sae\": 8}", f);
    fclose(f);
    CHECK(sg_sae_load("build-test-out/format-bad", cpu, &s) == SG_ERR_UNSUPPORTED);
    CHECK_CONTAINS(sg_last_error(), "gated");
    /* topk cfg with the weights of another size */
    CHECK(system("cp build-test-out/format-topk/sae_weights.safetensors build-test-out/format-bad/") == 0);
    f = fopen("build-test-out/format-bad/cfg.json", "w");
    fputs("{\"architecture\": \"topk\", \"d_in\": 12, \"d_sae\": 48, \"k\": 5}", f);
    fclose(f);
    CHECK(sg_sae_load("build-test-out/format-bad", cpu, &s) == SG_ERR_FORMAT);
    CHECK_CONTAINS(sg_last_error(), "'W_enc' has shape [12, 40], cfg.json implies [12, 48]");
}

int main(void) {
    sg_backends_load();
    cpu = sg_device_cpu();
    if (sg_device_open_stream(cpu, 1, &stream) != SG_OK) return 1;
    RUN_TEST(test_topk_files_match_saelens);
    RUN_TEST(test_batchtopk_is_saved_as_jumprelu);
    RUN_TEST(test_matryoshka_is_saved_as_jumprelu);
    RUN_TEST(test_jumprelu_files_match_saelens);
    RUN_TEST(test_standard_files_match_saelens);
    RUN_TEST(test_load_errors_name_the_problem);
    sg_stream_free(stream);
    return test_exit_code();
}
