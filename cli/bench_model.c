/* saeg bench model: the Tahoe X1 forward pass with random weights on full-context synthetic
 * cells: cells/s and peak memory, and, when python3 can import torch, the plain PyTorch
 * reference (scripts/python/tx1_reference.py) timed on the same tokens in the same run. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backends/cpu/cpu_backend.h"
#include "cli/cli_dtype.h"
#include "cli/commands.h"
#include "core/backend.h"
#include "core/ops.h"
#include "models/tahoe_x1.h"

/* scripts/python/{tx1_reference,tx1_bench}.py, embedded at build time */
extern const char saeg_py_tx1_reference[], saeg_py_tx1_bench[];
extern const unsigned long saeg_py_tx1_reference_len, saeg_py_tx1_bench_len;

struct bench_args {
    const char *size, *device;
    enum tx1_dtype dtype;
    int64_t context, batch, batches;
    int threads;
    bool torch;
};

static void print_help(FILE *out) {
    fprintf(out, "usage: saeg bench model [--size 70m] [--context 1024] [--batch 4] [options]\n"
                 "\n"
                 "Times the Tahoe X1 forward pass (random weights of a released size, fp32) on synthetic\n"
                 "cells that fill the context, and reports cells/s and peak memory. When python3 imports\n"
                 "torch, the plain PyTorch reference runs on the same tokens with the same thread count and\n"
                 "the ratio is printed.\n"
                 "\n"
                 "  --size SIZE      70m (default), 1.3b (1b) or 3b\n"
                 "  --context N      tokens per cell, CLS included (default 1024)\n"
                 "  --batch N        cells per forward pass (default 4)\n"
                 "  --batches N      timed passes after one warm-up pass (default 2)\n"
                 "  --device SPEC    auto (default), cpu, cuda[:N], vulkan[:N], opencl[:N]\n"
                 "  --dtype T        bf16 or f32 Linear weights and GEMMs (default: bf16 on CUDA, else f32)\n"
                 "  --threads N      CPU threads, also given to torch (default: SAEG_THREADS or physical cores)\n"
                 "  --no-torch       skip the PyTorch reference\n"
                 "  -h, --help       this help\n"
                 "Environment: SAEG_PYTHON names the python with torch (default: python3, then /usr/bin/python3).\n");
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double peak_rss_mib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* Linux reports KiB */
}

/* Full cells: CLS then context-1 distinct random genes with random bins 1..50. */
static void fill_batch(struct tx1_batch *b, const struct tx1_model *m, int64_t context) {
    uint64_t s      = 0x243f6a8885a308d3ull;
    const int64_t V = m->cfg.vocab_size, first_gene = 3;
    for (int64_t c = 0; c < b->cap_batch; c++) {
        int32_t *ids = b->ids + c * b->cap_seq;
        float *v     = b->values + c * b->cap_seq;
        ids[0]       = (int32_t)m->cls_id;
        v[0]         = m->cfg.pad_value;
        /* a stride walk over the vocabulary gives distinct genes without bookkeeping */
        int64_t start = (int64_t)(s % (uint64_t)(V - first_gene)), stride = 7919;
        for (int64_t t = 1; t < context; t++) {
            s      = s * 6364136223846793005ull + 1442695040888963407ull;
            ids[t] = (int32_t)(first_gene + (start + t * stride) % (V - first_gene));
            v[t]   = (float)(1 + (s >> 33) % 50);
        }
        for (int64_t t = 0; t < b->cap_seq; t++) {
            b->key_mask[c * b->cap_seq + t] = t < context ? SG_ATTN_KEY_VISIBLE : SG_ATTN_KEY_HIDDEN;
            b->gen[c * b->cap_seq + t]      = 0.0f;
        }
        b->cell[c] = c;
        b->len[c]  = context;
    }
    b->n_cells = b->cap_batch;
    b->seq     = context;
}

/* ---- the PyTorch reference --------------------------------------------------------------- */

static bool write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    bool ok = fwrite(data, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

static const char *find_torch_python(void) {
    static const char *candidates[3];
    candidates[0] = getenv("SAEG_PYTHON");
    candidates[1] = "python3";
    candidates[2] = "/usr/bin/python3";
    for (int i = 0; i < 3; i++) {
        if (!candidates[i] || !candidates[i][0]) continue;
        char cmd[600];
        snprintf(cmd, sizeof cmd, "'%s' -c 'import torch, numpy' >/dev/null 2>&1", candidates[i]);
        /* the shell runs the interpreter the user pointed SAEG_PYTHON at; nothing else is substituted */
        if (system(cmd) == 0) return candidates[i]; /* NOLINT(cert-env33-c) */
    }
    return NULL;
}

/* Runs tx1_bench.py on the batch's tokens; returns cells/s, or a negative value on failure. */
static double run_torch(const char *python, const struct tx1_model *m, const struct tx1_batch *b,
                        const struct bench_args *a, double *rss_mib) {
    char dir[] = "/tmp/saeg-bench-XXXXXX";
    if (!mkdtemp(dir)) return -1;
    char ref[64], drv[64], tok[64];
    snprintf(ref, sizeof ref, "%s/tx1_reference.py", dir);
    snprintf(drv, sizeof drv, "%s/tx1_bench.py", dir);
    snprintf(tok, sizeof tok, "%s/tokens.bin", dir);
    const int64_t S = a->context, B = a->batch;
    float *tokens = malloc((size_t)(2 * B * S) * sizeof(float));
    double rate   = -1;
    if (tokens) {
        for (int64_t c = 0; c < B; c++) {
            memcpy(tokens + c * S, b->ids + c * b->cap_seq, (size_t)S * sizeof(float)); /* int32 bits */
            memcpy(tokens + (B + c) * S, b->values + c * b->cap_seq, (size_t)S * sizeof(float));
        }
    }
    if (tokens && write_file(ref, saeg_py_tx1_reference, saeg_py_tx1_reference_len) &&
        write_file(drv, saeg_py_tx1_bench, saeg_py_tx1_bench_len) &&
        write_file(tok, tokens, (size_t)(2 * B * S) * sizeof(float))) {
        char cmd[2048];
        snprintf(cmd, sizeof cmd,
                 "cd '%s' && '%s' tx1_bench.py tokens.bin --batch %" PRId64 " --seq %" PRId64 " --d-model %" PRId64
                 " --layers %" PRId64 " --heads %" PRId64 " --vocab %" PRId64
                 " --act %s --threads %d --batches %" PRId64,
                 dir, python, B, S, m->cfg.d_model, m->cfg.n_layers, m->cfg.n_heads, m->cfg.vocab_size,
                 tx1_act_name(m->cfg.act_ffn), a->threads, a->batches);
        /* the command is that interpreter, our own temp folder and numbers */
        FILE *p = popen(cmd, "r"); /* NOLINT(cert-env33-c) */
        char line[256];
        while (p && fgets(line, sizeof line, p))
            /* our tx1_bench.py's own result line, not user input. NOLINTNEXTLINE(cert-err34-c) */
            if (sscanf(line, "torch_cells_per_s %lf torch_peak_rss_mib %lf", &rate, rss_mib) == 2) break;
        if (p) pclose(p);
    }
    free(tokens);
    unlink(ref);
    unlink(drv);
    unlink(tok);
    rmdir(dir);
    return rate;
}

/* ---- the benchmark ----------------------------------------------------------------------- */

static int parse_args(int argc, char **argv, struct bench_args *a) {
    static const struct option opts[] = {
        {"size", required_argument, NULL, 's'},    {"context", required_argument, NULL, 'c'},
        {"batch", required_argument, NULL, 'b'},   {"batches", required_argument, NULL, 'n'},
        {"device", required_argument, NULL, 'd'},  {"dtype", required_argument, NULL, 'y'},
        {"threads", required_argument, NULL, 't'}, {"no-torch", no_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    *a = (struct bench_args){.size = "70m", .device = "auto", .context = 1024, .batch = 4, .batches = 2, .torch = true};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end   = NULL;
        long long v = 0;
        if (c == 'c' || c == 'b' || c == 'n' || c == 't') {
            errno = 0;
            v     = strtoll(optarg, &end, 10);
            if (errno || *end || v < 1 || (c == 'c' && v < 2)) {
                fprintf(stderr, "saeg bench model: bad value '%s' for --%s\n", optarg,
                        c == 'c'   ? "context"
                        : c == 'b' ? "batch"
                        : c == 'n' ? "batches"
                                   : "threads");
                return 2;
            }
        }
        switch (c) {
        case 's': a->size = optarg; break;
        case 'c': a->context = v; break;
        case 'b': a->batch = v; break;
        case 'n': a->batches = v; break;
        case 'd': a->device = optarg; break;
        case 'y':
            if (cli_parse_dtype(optarg, &a->dtype)) return 2;
            break;
        case 't': a->threads = (int)v; break;
        case 'x': a->torch = false; break;
        case 'h': print_help(stdout); return -1;
        default: print_help(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "saeg bench model: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    return 0;
}

int saeg_bench_model(int argc, char **argv) {
    struct bench_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc;

    struct tx1_config cfg;
    struct sg_device *dev;
    struct tx1_model *m      = NULL;
    struct sg_stream *stream = NULL;
    struct tx1_runner *r     = NULL;
    struct tx1_batch *b      = tx1_batch_new(a.batch, a.context);
    sg_status st             = b ? tx1_config_preset(a.size, &cfg) : sg_error(SG_ERR_NO_MEMORY, "out of memory");
    if (st == SG_OK) st = sg_backends_load();
    if (st == SG_OK) st = sg_device_select(a.device, &dev);
    if (st == SG_OK) st = tx1_model_random_as(&cfg, 1, dev, a.dtype, &m);
    if (st == SG_OK) st = sg_device_open_stream(dev, a.threads, &stream);
    struct tx1_runner_opts ro = {.batch = a.batch, .context = a.context};
    if (st == SG_OK) st = tx1_runner_new(m, stream, &ro, &r);
    double t_warm = 0, t_run = 0;
    if (st == SG_OK) {
        fill_batch(b, m, a.context);
        printf("Tahoe X1 %s (random weights, %.1f M parameters, --dtype %s%s: %.1f MiB of weights) on %s: %" PRId64
               " cells x %" PRId64 " tokens per pass\n",
               a.size, (double)tx1_config_n_params(&cfg) / 1e6, tx1_dtype_name(m->dtype),
               a.dtype == TX1_DTYPE_AUTO ? " (default here)" : "", (double)m->weight_bytes / 1048576.0,
               sg_device_name(dev), a.batch, a.context);
        fflush(stdout);
        double t0 = now_s();
        st        = tx1_runner_run(r, b); /* warm-up: builds and plans the graph */
        t_warm    = now_s() - t0;
        t0        = now_s();
        for (int64_t i = 0; st == SG_OK && i < a.batches; i++) st = tx1_runner_run(r, b);
        t_run = now_s() - t0;
    }
    if (st != SG_OK) {
        fprintf(stderr, "saeg bench model: %s\n", sg_last_error());
        tx1_runner_free(r);
        sg_stream_free(stream);
        tx1_model_free(m);
        tx1_batch_free(b);
        return 1;
    }
    struct sg_sched_stats ss = {0};
    tx1_runner_stats(r, &ss);
    const double cells = (double)(a.batch * a.batches), rate = cells / t_run, rss = peak_rss_mib();
    printf("  saeg     %8.3f cells/s  (%.0f tokens/s; first pass %.2f s, then %.2f s per pass)\n", rate,
           rate * (double)a.context, t_warm, t_run / (double)a.batches);
    printf("           peak memory %.0f MiB (process RSS; weights %.0f MiB, activations %.0f MiB)\n", rss,
           (double)m->weight_bytes / 1048576.0, (double)ss.compute_bytes / 1048576.0);
    fflush(stdout);

    if (a.torch) {
        const char *py = find_torch_python();
        if (!py) {
            printf("  pytorch  skipped: no python3 that imports torch (set SAEG_PYTHON)\n");
        } else {
            if (a.threads == 0) a.threads = sg_cpu_default_threads(); /* the CPU stream's own default */
            double torch_rss = 0, trate = run_torch(py, m, b, &a, &torch_rss);
            if (trate > 0)
                printf("  pytorch  %8.3f cells/s  (plain fp32 reference, %d threads; peak %.0f MiB)\n"
                       "  ratio    %8.2fx  saeg / pytorch\n",
                       trate, a.threads, torch_rss, rate / trate);
            else
                printf("  pytorch  failed to run %s with the reference\n", py);
        }
    }
    tx1_runner_free(r);
    sg_stream_free(stream);
    tx1_model_free(m);
    tx1_batch_free(b);
    return 0;
}
