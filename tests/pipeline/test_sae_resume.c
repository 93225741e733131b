/* Resume after SIGKILL gives the same SAE as an uninterrupted run (CPU backend): N steps straight
 * against N/2 steps with a checkpoint, a SIGKILL a few steps later, --resume, and the rest. The
 * weights must match bit for bit, and the training log must continue the same curve. Runs on the
 * tiny test model streaming the test cells (several epochs, so the data position, the shuffle
 * pool and the generator states all have to come back), and again through an activation cache. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/safetensors.h"
#include "pipeline/train.h"
#include "tests/test_util.h"

#define FIX   "tests/models/fixtures/"
#define STEPS 40

static int64_t kill_at = -1;

static void maybe_die(int64_t step, void *user) {
    (void)user;
    if (step == kill_at) kill(getpid(), SIGKILL);
}

static void opts_for(struct sg_train_opts *o, enum sg_sae_arch arch, const char *out, const char *cache) {
    sg_train_opts_default(o);
    sg_sae_config_default(&o->sae, arch, 0, 64);
    o->sae.k            = 4;
    o->model            = FIX "tiny_relu";
    o->data             = FIX "cells.h5ad";
    o->output           = out;
    o->cache_dir        = cache;
    o->device           = "cpu";
    o->threads          = 2;
    o->layer            = 1;
    o->steps            = STEPS;
    o->batch            = 64;
    o->pool_tokens      = 256;
    o->cells_per_pass   = 5;
    o->dead_tokens      = 64 * 5; /* aux-k starts within the run */
    o->checkpoint_every = STEPS / 2;
    o->log_every        = 2;
    o->progress         = 0;
    o->eval             = false;
    o->seed             = 3;
    o->on_step          = maybe_die;
}

static unsigned char *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len + 1);
    *n               = fread(b, 1, (size_t)len, f);
    b[*n]            = 0;
    fclose(f);
    return b;
}

/* The log without the timing field, which differs between runs. */
static char *log_curve(const char *dir) {
    char path[256];
    snprintf(path, sizeof path, "%s/training_log.jsonl", dir);
    size_t n;
    char *b = (char *)read_all(path, &n);
    if (!b) return NULL;
    char *out = malloc(n + 1), *o = out;
    for (char *p = b; *p;) {
        char *t = strstr(p, ",\"tokens_per_s\":");
        if (!t) {
            strcpy(o, p);
            break;
        }
        memcpy(o, p, (size_t)(t - p));
        o += t - p;
        p = t + 1;
        while (*p && *p != ',' && *p != '}') p++;
        *o = '\0';
    }
    free(b);
    return out;
}

static void run_case(enum sg_sae_arch arch, const char *cache) {
    char straight[256], killed[256], cache_a[256] = "", cache_b[256] = "";
    snprintf(straight, sizeof straight, "build-test-out/resume-%s%s-straight", sg_sae_arch_name(arch),
             cache ? "-cache" : "");
    snprintf(killed, sizeof killed, "build-test-out/resume-%s%s-killed", sg_sae_arch_name(arch), cache ? "-cache" : "");
    if (cache) {
        snprintf(cache_a, sizeof cache_a, "%s-a", cache);
        snprintf(cache_b, sizeof cache_b, "%s-b", cache);
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s %s %s && mkdir -p build-test-out", straight, killed, cache ? cache_a : "",
             cache ? cache_b : "");
    CHECK(system(cmd) == 0);

    struct sg_train_opts o;
    opts_for(&o, arch, straight, cache ? cache_a : NULL);
    sg_status st = sg_train_run(&o, NULL);
    CHECK_MSG(st == SG_OK, "straight run: %s", sg_last_error());

    pid_t pid = fork();
    if (pid == 0) {
        kill_at = STEPS / 2 + 3; /* three steps past the checkpoint: those are lost and redone */
        opts_for(&o, arch, killed, cache ? cache_b : NULL);
        sg_train_run(&o, NULL);
        _exit(0); /* not reached */
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the child was not killed (status %d)", status);

    opts_for(&o, arch, killed, cache ? cache_b : NULL);
    o.resume = true;
    st       = sg_train_run(&o, NULL);
    CHECK_MSG(st == SG_OK, "resumed run: %s", sg_last_error());

    char pa[300], pb[300];
    snprintf(pa, sizeof pa, "%s/sae/sae_weights.safetensors", straight);
    snprintf(pb, sizeof pb, "%s/sae/sae_weights.safetensors", killed);
    size_t na = 0, nb = 0;
    unsigned char *a = read_all(pa, &na), *b = read_all(pb, &nb);
    CHECK_MSG(a && b && na == nb && memcmp(a, b, na) == 0, "%s: final weights differ after resume",
              sg_sae_arch_name(arch));
    free(a);
    free(b);
    char *ca = log_curve(straight), *cb = log_curve(killed);
    CHECK_MSG(ca && cb && strcmp(ca, cb) == 0, "%s: the loss curve differs after resume:\n%s\nvs\n%s",
              sg_sae_arch_name(arch), ca ? ca : "", cb ? cb : "");
    free(ca);
    free(cb);
}

static void test_resume_after_sigkill_gives_the_same_topk_sae(void) { run_case(SG_SAE_TOPK, NULL); }
static void test_resume_after_sigkill_gives_the_same_batchtopk_sae(void) { run_case(SG_SAE_BATCHTOPK, NULL); }
static void test_resume_after_sigkill_gives_the_same_jumprelu_sae(void) { run_case(SG_SAE_JUMPRELU, NULL); }
static void test_resume_from_an_activation_cache(void) { run_case(SG_SAE_TOPK, "build-test-out/resume-cache"); }

/* A checkpoint of another SAE is refused, naming what differs. */
static void test_resume_refuses_a_different_run(void) {
    struct sg_train_opts o;
    opts_for(&o, SG_SAE_TOPK, "build-test-out/resume-topk-straight", NULL);
    o.resume     = true;
    o.sae.d_sae  = 96;
    o.on_step    = NULL;
    sg_status st = sg_train_run(&o, NULL);
    CHECK(st == SG_ERR_INVALID_ARG);
    CHECK_CONTAINS(sg_last_error(), "d_sae (checkpoint: 64, this run: 96)");
    opts_for(&o, SG_SAE_TOPK, "build-test-out/resume-nothing-here", NULL);
    o.resume = true;
    st       = sg_train_run(&o, NULL);
    CHECK(st == SG_ERR_NOT_FOUND);
    CHECK_CONTAINS(sg_last_error(), "nothing to resume");
}

int main(void) {
    RUN_TEST(test_resume_after_sigkill_gives_the_same_topk_sae);
    RUN_TEST(test_resume_after_sigkill_gives_the_same_batchtopk_sae);
    RUN_TEST(test_resume_after_sigkill_gives_the_same_jumprelu_sae);
    RUN_TEST(test_resume_from_an_activation_cache);
    RUN_TEST(test_resume_refuses_a_different_run);
    return test_exit_code();
}
