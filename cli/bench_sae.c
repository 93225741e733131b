/* saeg bench sae: SAE training steps per second on random activations, per device, next to a
 * SAELens-style dense TopK step in PyTorch (scripts/python/sae_bench.py) on the same shapes in
 * the same run when python3 can import torch. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "backends/cpu/cpu_backend.h"
#include "cli/commands.h"
#include "core/backend.h"
#include "core/ops.h"
#include "models/sae.h"
#include "models/sae_rng.h"
#include "pipeline/train_priv.h"

/* scripts/python/sae_bench.py, embedded at build time */
extern const char saeg_py_sae_bench[];
extern const unsigned long saeg_py_sae_bench_len;

struct bench_args {
    const char *device, *arch;
    int64_t d_in, d_sae, batch, steps;
    int k, threads;
    bool torch;
};

static void print_help(FILE *out) {
    fprintf(out, "usage: saeg bench sae [--d-in 512] [--d-sae 16384] [-k 64] [--batch 4096] [options]\n"
                 "\n"
                 "Times SAE training steps (forward, backward, Adam) on random activations and reports\n"
                 "training tokens/s for each device asked for. When python3 imports torch, a SAELens-style\n"
                 "dense TopK step in PyTorch runs on the same shapes with the same thread count and the\n"
                 "ratio is printed.\n"
                 "\n"
                 "  --d-in N            activation width (default 512)\n"
                 "  --d-sae N           latents (default 16384)\n"
                 "  -k N                active latents per token (default 64)\n"
                 "  --batch N           tokens per step (default 4096)\n"
                 "  --steps N           timed steps after one warm-up step (default 5)\n"
                 "  --architecture A    topk (default), batchtopk, jumprelu, standard, matryoshka-batchtopk\n"
                 "  --device SPEC       auto (default), cpu, cuda[:N], vulkan[:N], opencl[:N], or 'all'\n"
                 "                      (every device of every available backend)\n"
                 "  --threads N         CPU threads, also given to torch (default: SAEG_THREADS or all cores)\n"
                 "  --no-torch          skip the PyTorch reference\n"
                 "  -h, --help          this help\n"
                 "Environment: SAEG_PYTHON names the python with torch (default: python3, then /usr/bin/python3).\n");
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int parse_args(int argc, char **argv, struct bench_args *a) {
    static const struct option opts[] = {
        {"d-in", required_argument, NULL, 'i'},
        {"d-sae", required_argument, NULL, 'm'},
        {"batch", required_argument, NULL, 'b'},
        {"steps", required_argument, NULL, 'n'},
        {"device", required_argument, NULL, 'd'},
        {"threads", required_argument, NULL, 't'},
        {"architecture", required_argument, NULL, 'a'},
        {"no-torch", no_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *a = (struct bench_args){.device = "auto",
                             .arch   = "topk",
                             .d_in   = 512,
                             .d_sae  = 16384,
                             .batch  = 4096,
                             .steps  = 5,
                             .k      = 64,
                             .torch  = true};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "k:h", opts, NULL)) != -1) {
        long long v = 0;
        if (strchr("imbntk", c)) {
            char *end;
            errno = 0;
            v     = strtoll(optarg, &end, 10);
            if (errno || *end || v < 1 || v > INT32_MAX) {
                fprintf(stderr, "saeg bench sae: bad value '%s' for %s (expected a positive integer)\n", optarg,
                        c == 'k' ? "-k" : argv[optind - 1]);
                return 2;
            }
        }
        switch (c) {
        case 'i': a->d_in = v; break;
        case 'm': a->d_sae = v; break;
        case 'b': a->batch = v; break;
        case 'n': a->steps = v; break;
        case 't': a->threads = (int)v; break;
        case 'k': a->k = (int)v; break;
        case 'd': a->device = optarg; break;
        case 'a': a->arch = optarg; break;
        case 'x': a->torch = false; break;
        case 'h': print_help(stdout); return -1;
        default: print_help(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "saeg bench sae: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (a->k > a->d_sae) {
        fprintf(stderr, "saeg bench sae: -k %d exceeds --d-sae %" PRId64 "\n", a->k, a->d_sae);
        return 2;
    }
    return 0;
}

/* ---- one device --------------------------------------------------------------------------- */

static sg_status bench_device(const struct bench_args *a, enum sg_sae_arch arch, struct sg_device *dev, const float *x,
                              double *tok_s, double *warm_s, double *mib) {
    struct sg_sae_config cfg;
    sg_sae_config_default(&cfg, arch, a->d_in, a->d_sae);
    cfg.k                     = a->k;
    struct sg_sae *sae        = NULL;
    struct sg_stream *stream  = NULL;
    struct sg_sched *sched    = NULL;
    struct sg_adam_state adam = {0};
    struct sg_step_graph g    = {0};
    sg_status st              = sg_sae_new(&cfg, dev, &sae);
    if (st == SG_OK) st = sg_sae_init(sae, 1, x, a->batch < 1024 ? a->batch : 1024);
    if (st == SG_OK) st = sg_adam_state_new(sae, dev, &adam);
    if (st == SG_OK) st = sg_device_open_stream(dev, a->threads, &stream);
    if (st == SG_OK) st = sg_sched_new(stream, a->threads, &sched);
    if (st == SG_OK) st = sg_step_graph_build(sae, &adam, a->batch, false, false, &g);
    if (st == SG_OK) st = sg_sched_prepare(sched, g.graph);
    if (st == SG_OK) st = sg_sae_fwd_upload(&g.fwd);
    float hp[SG_ADAM_N_PARAMS] = {[SG_ADAM_LR]    = 2e-4f,
                                  [SG_ADAM_BETA1] = 0.9f,
                                  [SG_ADAM_BETA2] = 0.999f,
                                  [SG_ADAM_EPS]   = 1e-8f,
                                  [SG_ADAM_CLIP]  = 1.0f};
    if (st == SG_OK) st = sg_tensor_set(g.fwd.x, x, 0, (size_t)(a->batch * a->d_in) * sizeof(float));
    double t0 = now_s();
    for (int64_t s = 0; st == SG_OK && s <= a->steps; s++) {
        if (s == 1) {
            *warm_s = now_s() - t0;
            t0      = now_s();
        }
        hp[SG_ADAM_BETA1H] = (float)(1.0 / (1.0 - pow(0.9, (double)(s + 1))));
        hp[SG_ADAM_BETA2H] = (float)(1.0 / (1.0 - pow(0.999, (double)(s + 1))));
        st                 = sg_tensor_set(g.hparams, hp, 0, sizeof hp);
        if (st == SG_OK) st = sg_sched_compute(sched, g.graph);
    }
    double dt                = now_s() - t0;
    struct sg_sched_stats ss = {0};
    if (st == SG_OK) sg_sched_stats(sched, g.graph, &ss);
    *tok_s = (double)(a->batch * a->steps) / dt;
    *mib   = (double)ss.compute_bytes / 1048576.0;
    sg_step_graph_free(&g);
    sg_sched_free(sched);
    sg_stream_free(stream);
    sg_adam_state_free(&adam);
    sg_sae_free(sae);
    return st;
}

/* ---- PyTorch ------------------------------------------------------------------------------ */

static const char *find_torch_python(void) {
    static const char *candidates[3];
    candidates[0] = getenv("SAEG_PYTHON");
    candidates[1] = "python3";
    candidates[2] = "/usr/bin/python3";
    for (int i = 0; i < 3; i++) {
        if (!candidates[i] || !candidates[i][0] || strchr(candidates[i], '\'')) continue;
        char cmd[600];
        snprintf(cmd, sizeof cmd, "'%s' -c 'import torch' >/dev/null 2>&1", candidates[i]);
        /* the shell runs the interpreter the user pointed SAEG_PYTHON at; nothing else is substituted */
        if (system(cmd) == 0) return candidates[i]; /* NOLINT(cert-env33-c) */
    }
    return NULL;
}

static double run_torch(const char *python, const struct bench_args *a, double *rss) {
    char dir[] = "/tmp/saeg-bench-sae-XXXXXX";
    if (!mkdtemp(dir)) return -1;
    char script[64];
    snprintf(script, sizeof script, "%s/sae_bench.py", dir);
    double rate = -1, step_s = 0;
    FILE *f = fopen(script, "wb");
    bool ok = f && fwrite(saeg_py_sae_bench, 1, saeg_py_sae_bench_len, f) == saeg_py_sae_bench_len;
    if (f) ok = fclose(f) == 0 && ok;
    if (ok) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd,
                 "'%s' '%s' --d-in %" PRId64 " --d-sae %" PRId64 " -k %d --batch %" PRId64 " --steps %" PRId64
                 " --threads %d",
                 python, script, a->d_in, a->d_sae, a->k, a->batch, a->steps < 3 ? a->steps : 3, a->threads);
        /* the command is that interpreter, our own temp folder and numbers */
        FILE *p = popen(cmd, "r"); /* NOLINT(cert-env33-c) */
        char line[256];
        while (p && fgets(line, sizeof line, p))
            /* our sae_bench.py's own result line, not user input. NOLINTNEXTLINE(cert-err34-c) */
            if (sscanf(line, "torch_tokens_per_s %lf torch_step_s %lf torch_peak_rss_mib %lf", &rate, &step_s, rss) ==
                3)
                break;
        if (p) pclose(p);
    }
    unlink(script);
    rmdir(dir);
    return rate;
}

int saeg_bench_sae(int argc, char **argv) {
    struct bench_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc;
    if (a.threads == 0) a.threads = sg_cpu_default_threads(); /* the CPU stream's own default */
    enum sg_sae_arch arch;
    sg_status st = sg_sae_arch_parse(a.arch, &arch);
    if (st != SG_OK) {
        fprintf(stderr, "saeg bench sae: --architecture: %s\n", sg_last_error());
        return 2;
    }
    if (sg_backends_load() != SG_OK) {
        fprintf(stderr, "saeg bench sae: %s\n", sg_last_error());
        return 1;
    }
    /* the devices to time */
    struct sg_device *devs[64];
    int n_dev = 0;
    if (strcmp(a.device, "all") == 0) {
        for (int r = 0; r < sg_backend_reg_count(); r++) {
            struct sg_backend_reg *reg = sg_backend_reg_get(r);
            for (int i = 0; i < sg_backend_reg_device_count(reg) && n_dev < 64; i++)
                devs[n_dev++] = sg_backend_reg_device(reg, i);
        }
    } else if (sg_device_select(a.device, &devs[0]) == SG_OK) {
        n_dev = 1;
    } else {
        fprintf(stderr, "saeg bench sae: %s\n", sg_last_error());
        return 2;
    }
    /* activations: standard normal, the same for every device */
    const size_t nx = (size_t)(a.batch * a.d_in);
    float *x        = nx ? malloc(nx * sizeof *x) : NULL;
    if (!x) {
        fprintf(stderr, "saeg bench sae: out of memory\n");
        return 1;
    }
    struct sg_rng r;
    sg_rng_seed(&r, 1);
    for (int64_t i = 0; i < a.batch * a.d_in; i++) x[i] = (float)sg_rng_normal(&r);

    printf("SAE training step, %s: d_in %" PRId64 ", d_sae %" PRId64 ", k %d, batch %" PRId64
           " tokens, fp32, %d CPU threads\n",
           sg_sae_arch_name(arch), a.d_in, a.d_sae, a.k, a.batch, a.threads);
    fflush(stdout);
    double best_cpu = 0;
    int failures    = 0;
    for (int i = 0; i < n_dev; i++) {
        double tok_s = 0, warm = 0, mib = 0;
        st = bench_device(&a, arch, devs[i], x, &tok_s, &warm, &mib);
        if (st != SG_OK) {
            printf("  %-10s failed: %s\n", sg_device_name(devs[i]), sg_last_error());
            failures++;
            continue;
        }
        printf("  %-10s %10.0f tokens/s  (%.3f s per step; first step %.2f s; %.0f MiB working memory)\n",
               sg_device_name(devs[i]), tok_s, (double)a.batch / tok_s, warm, mib);
        if (sg_device_type(devs[i]) == SG_DEVICE_CPU && tok_s > best_cpu) best_cpu = tok_s;
        fflush(stdout);
    }
    if (a.torch && arch == SG_SAE_TOPK) {
        const char *py = find_torch_python();
        if (!py) {
            printf("  pytorch    skipped: no python3 that imports torch (set SAEG_PYTHON)\n");
        } else {
            double rss = 0, trate = run_torch(py, &a, &rss);
            if (trate > 0) {
                printf(
                    "  pytorch    %10.0f tokens/s  (SAELens-style dense TopK step, fp32, %d threads; peak %.0f MiB)\n",
                    trate, a.threads, rss);
                if (best_cpu > 0) printf("  ratio      %10.2fx saeg cpu / pytorch cpu\n", best_cpu / trate);
            } else {
                printf("  pytorch    failed to run %s with the reference\n", py);
            }
        }
    } else if (a.torch) {
        printf("  pytorch    skipped: the reference step is TopK only\n");
    }
    free(x);
    return failures == n_dev ? 1 : 0;
}
