/* TopK training recovers a known sparse dictionary: on tokens that are sums of 3 of 48 random
 * unit atoms in 32 dimensions, at least 90% of the atoms must have a decoder row at cosine
 * >= 0.9 (the acceptance test), and the other architectures must learn too. */
#include <stdio.h>
#include <stdlib.h>

#include "io/safetensors.h"
#include "pipeline/train.h"
#include "synth.h"
#include "tests/test_util.h"

#define D      32
#define ATOMS  48
#define K_TRUE 3

/* Fraction of atoms whose best-matching decoder row (read back from sae_weights.safetensors,
 * rows [d_sae, d_in]) has cosine >= 0.9. */
static double recovered(const char *dir, const struct synth_source *s) {
    char path[512];
    snprintf(path, sizeof path, "%s/sae/sae_weights.safetensors", dir);
    struct sg_st_file *f;
    if (sg_st_open(path, &f) != SG_OK) return -1;
    const struct sg_st_tensor *w = sg_st_find(f, "W_dec");
    int64_t M                    = w->shape[0];
    const float *wd              = w->data;
    int hit                      = 0;
    for (int64_t a = 0; a < ATOMS; a++) {
        double best = -1;
        for (int64_t r = 0; r < M; r++) {
            double dot = 0, nn = 0;
            for (int i = 0; i < D; i++) {
                dot += (double)wd[r * D + i] * s->atoms[a * D + i];
                nn += (double)wd[r * D + i] * wd[r * D + i];
            }
            double c = dot / sqrt(nn > 0 ? nn : 1);
            if (c > best) best = c;
        }
        hit += best >= 0.9;
    }
    sg_st_close(f);
    return (double)hit / ATOMS;
}

static struct sg_train_result train_on(enum sg_sae_arch arch, const char *out, struct synth_source *s, int64_t steps) {
    struct sg_train_opts o;
    sg_train_opts_default(&o);
    sg_sae_config_default(&o.sae, arch, 0, 96);
    o.sae.k = K_TRUE;
    if (arch == SG_SAE_STANDARD) o.sae.l1_coef = 0.3f;
    o.source               = &s->base;
    o.output               = out;
    o.overwrite            = true; /* the folder holds the previous test run's output */
    o.device               = "cpu";
    o.steps                = steps;
    o.batch                = 256;
    o.lr                   = 3e-3;
    o.dead_tokens          = 256 * 100;
    o.checkpoint_every     = 0;
    o.progress             = 0;
    o.log_every            = 50;
    o.seed                 = 7;
    o.eval_opts.max_tokens = 8192;
    o.eval_opts.batch      = 1024;
    struct sg_train_result r;
    sg_status st = sg_train_run(&o, &r);
    CHECK_MSG(st == SG_OK, "%s: %s", sg_sae_arch_name(arch), sg_last_error());
    return r;
}

static void test_topk_recovers_the_dictionary(void) {
    struct synth_source *s = synth_new(D, ATOMS, K_TRUE, 0.0f, 11);
    const char *out        = "build-test-out/recovery-topk";
    system("mkdir -p build-test-out");
    struct sg_train_result r = train_on(SG_SAE_TOPK, out, s, 1500);
    double frac              = recovered(out, s);
    printf("topk: %.0f%% of %d atoms at cosine >= 0.9, explained variance %.4f, L0 %.2f\n", 100 * frac, ATOMS,
           r.have_eval ? r.eval.explained_variance : -1, r.have_eval ? r.eval.l0 : -1);
    CHECK_MSG(frac >= 0.9, "recovered %.3f", frac);
    CHECK(r.have_eval && r.eval.explained_variance > 0.9);
    CHECK(r.have_eval && fabs(r.eval.l0 - K_TRUE) < 0.5);
    sg_eval_result_free(&r.eval);
    s->base.free(&s->base);
}

/* Every architecture trains to a useful reconstruction on the same data. */
static void test_every_architecture_learns(void) {
    const enum sg_sae_arch archs[] = {SG_SAE_BATCHTOPK, SG_SAE_MATRYOSHKA, SG_SAE_JUMPRELU, SG_SAE_STANDARD};
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++) {
        struct synth_source *s = synth_new(D, ATOMS, K_TRUE, 0.0f, 11);
        char out[128];
        snprintf(out, sizeof out, "build-test-out/recovery-%s", sg_sae_arch_name(archs[i]));
        struct sg_train_result r = train_on(archs[i], out, s, 600);
        double frac              = recovered(out, s);
        printf("%s: explained variance %.4f, L0 %.2f, %.0f%% of atoms recovered\n", sg_sae_arch_name(archs[i]),
               r.have_eval ? r.eval.explained_variance : -1, r.have_eval ? r.eval.l0 : -1, 100 * frac);
        CHECK_MSG(r.have_eval && r.eval.explained_variance > 0.7, "%s", sg_sae_arch_name(archs[i]));
        sg_eval_result_free(&r.eval);
        s->base.free(&s->base);
    }
}

int main(void) {
    RUN_TEST(test_topk_recovers_the_dictionary);
    RUN_TEST(test_every_architecture_learns);
    return test_exit_code();
}
