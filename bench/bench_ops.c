/* bench-ops: the CPU backend's matmul against a direct cblas_sgemm call, and flash-style
 * attention throughput and memory, measured in the same run.
 *
 *     bench-ops [--threads N] [--reps N] [--quick] [--device SPEC]
 *
 * With --device (cuda, vulkan, opencl) our side runs on that device instead, and where the
 * backend offers a direct GEMM (the CUDA plugin's "sgemm" proc: one cuBLAS call on the same
 * device buffers, no graph) it is the reference; elsewhere only our side is printed.
 *
 * Every number is the best of --reps timed runs after one warm-up run (for matmul, of two such
 * blocks per side, alternating, since the machine may be shared). Our side is a one-node
 * graph run through a CPU stream (sg_stream_compute), so it includes the engine's dispatch,
 * thread pool and barriers; the direct side is one cblas_sgemm call with OpenBLAS's own
 * threads set to the same count, on the same buffers. Not a test: nothing is asserted. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/cpu_kernels.h"
#include "core/backend.h"
#include "core/context.h"
#include "core/graph.h"
#include "core/ops.h"

/* A backend's direct row-major C = op(A) op(B) on device pointers, synchronised (cblas-like). */
typedef sg_status (*bench_sgemm_fn)(struct sg_stream *s, bool trans_a, bool trans_b, int M, int N, int K,
                                    const float *A, int lda, const float *B, int ldb, float *C, int ldc);

struct bench {
    struct sg_device *dev;
    struct sg_stream *stream;
    int threads;
    int reps;
    bool quick;
    bool on_cpu;
    bench_sgemm_fn device_sgemm; /* NULL: no direct reference on this device */
};

static double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void bench_fill(struct sg_tensor *t, unsigned seed) {
    size_t n   = sg_nbytes(t) / sizeof(float);
    float *buf = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        seed   = seed * 1664525u + 1013904223u;
        buf[i] = (float)(seed >> 8) / 16777216.0f - 0.5f;
    }
    sg_tensor_set(t, buf, 0, n * sizeof(float));
    free(buf);
}

/* Best time of b->reps runs of the graph after a warm-up; 0 on failure (the error is printed). */
static double bench_graph(const struct bench *b, struct sg_graph *g) {
    double best = INFINITY;
    for (int r = 0; r <= b->reps; r++) {
        double t0 = bench_now();
        if (sg_stream_compute(b->stream, g) != SG_OK) {
            fprintf(stderr, "bench-ops: %s\n", sg_last_error());
            return 0.0;
        }
        double t = bench_now() - t0;
        if (r > 0 && t < best) best = t;
    }
    return best;
}

/* ---- matmul ---------------------------------------------------------------------------- */

enum bench_layout { BENCH_NN, BENCH_NT, BENCH_TN };

struct bench_mm_case {
    const char *name;
    int64_t M, N, K;
    enum bench_layout layout; /* NT: b is a transposed view (x @ W^T); TN: a is (x^T @ dy) */
};

static void bench_matmul(const struct bench *b, const struct bench_mm_case *c) {
    struct sg_ctx *ctx    = sg_ctx_new();
    struct sg_tensor *a   = c->layout == BENCH_TN ? sg_transpose(ctx, sg_new_tensor_2d(ctx, SG_TYPE_F32, c->M, c->K))
                                                  : sg_new_tensor_2d(ctx, SG_TYPE_F32, c->K, c->M);
    struct sg_tensor *bb  = c->layout == BENCH_NT ? sg_transpose(ctx, sg_new_tensor_2d(ctx, SG_TYPE_F32, c->K, c->N))
                                                  : sg_new_tensor_2d(ctx, SG_TYPE_F32, c->N, c->K);
    struct sg_tensor *out = sg_matmul(ctx, a, bb);
    struct sg_graph *g    = sg_graph_new(ctx);
    struct sg_buffer_list bufs = {0};
    if (!out || sg_graph_expand(g, out) != SG_OK ||
        sg_alloc_ctx_tensors(ctx, sg_device_buffer_type(b->dev), &bufs) != SG_OK) {
        fprintf(stderr, "bench-ops: %s: %s %s\n", c->name, sg_ctx_error(ctx), sg_last_error());
        sg_ctx_free(ctx);
        return;
    }
    bench_fill(a, 1);
    bench_fill(bb, 2);
    double flops = 2.0 * (double)c->M * (double)c->N * (double)c->K;

    /* the same product straight through OpenBLAS, multi-threaded by OpenBLAS itself */
    const float *A = a->data, *B = bb->data; /* a transposed view starts where its base does */
    float *C    = out->data;
    float *mine = malloc((size_t)(c->M * c->N) * sizeof(float));
    double ours = INFINITY, direct = INFINITY;
    /* alternate blocks of runs, so that both sides see the same machine (this one may be shared) */
    for (int round = 0; round < 2; round++) {
        /* OpenBLAS's workers spin for about 0.1 s after a multi-threaded call (the direct side
         * of the previous round or case); let them fall asleep so they do not slow ours */
        usleep(200000);
        double t = bench_graph(b, g);
        if (t <= 0.0) break;
        ours = fmin(ours, t);
        sg_tensor_get(out, mine, 0, (size_t)(c->M * c->N) * sizeof(float));
        if (b->on_cpu) openblas_set_num_threads(b->threads);
        for (int r = 0; r <= b->reps && (b->on_cpu || b->device_sgemm); r++) {
            const bool ta = c->layout == BENCH_TN, tb = c->layout == BENCH_NT;
            const int lda = ta ? (int)c->M : (int)c->K, ldb = tb ? (int)c->K : (int)c->N;
            double t0 = bench_now();
            if (b->on_cpu) {
                cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)c->M,
                            (int)c->N, (int)c->K, 1.0f, A, lda, B, ldb, 0.0f, C, (int)c->N);
            } else if (b->device_sgemm(b->stream, ta, tb, (int)c->M, (int)c->N, (int)c->K, A, lda, B, ldb, C,
                                       (int)c->N) != SG_OK) {
                fprintf(stderr, "bench-ops: direct GEMM: %s\n", sg_last_error());
                break;
            }
            double dt = bench_now() - t0;
            if (r > 0) direct = fmin(direct, dt);
        }
    }
    if (ours < INFINITY) {
        double maxdiff = 0.0;
        float *ref     = C;
        if (!b->on_cpu) { /* the direct result lives on the device */
            ref = malloc((size_t)(c->M * c->N) * sizeof(float));
            if (ref && sg_tensor_get(out, ref, 0, (size_t)(c->M * c->N) * sizeof(float)) != SG_OK) direct = INFINITY;
        }
        for (int64_t i = 0; ref && direct < INFINITY && i < c->M * c->N; i++)
            maxdiff = fmax(maxdiff, fabs((double)mine[i] - (double)ref[i]));
        if (ref != C) free(ref);
        const char *layout = c->layout == BENCH_NN ? "NN" : c->layout == BENCH_NT ? "NT" : "TN";
        if (direct < INFINITY)
            printf("  %-22s %5lld %5lld %5lld  %4s  %8.1f %9.1f     %5.2f     %.1e\n", c->name, (long long)c->M,
                   (long long)c->N, (long long)c->K, layout, flops / ours * 1e-9, flops / direct * 1e-9, direct / ours,
                   maxdiff);
        else /* no reference on this device */
            printf("  %-22s %5lld %5lld %5lld  %4s  %8.1f         -         -           -\n", c->name, (long long)c->M,
                   (long long)c->N, (long long)c->K, layout, flops / ours * 1e-9);
    }
    free(mine);
    sg_buffer_list_free(&bufs);
    sg_ctx_free(ctx);
}

/* ---- attention ------------------------------------------------------------------------- */

static void bench_attention(const struct bench *b, int64_t S, int64_t H, int64_t D, bool backward) {
    struct sg_ctx *ctx = sg_ctx_new();
    /* q, k, v as views of one fused QKV projection [3 H D, S], as a transformer block has them */
    struct sg_tensor *qkv = sg_new_tensor_2d(ctx, SG_TYPE_F32, 3 * H * D, S);
    size_t e              = sizeof(float);
    int64_t ne[4]         = {D, H, S, 1};
    size_t nb[4]          = {e, (size_t)D * e, qkv->nb[1], qkv->nb[1] * (size_t)S};
    struct sg_tensor *q   = sg_view(ctx, qkv, 4, ne, nb, 0);
    struct sg_tensor *k   = sg_view(ctx, qkv, 4, ne, nb, (size_t)(H * D) * e);
    struct sg_tensor *v   = sg_view(ctx, qkv, 4, ne, nb, (size_t)(2 * H * D) * e);
    float scale           = 1.0f / sqrtf((float)D);
    struct sg_tensor *out =
        backward ? sg_attention_back(ctx, q, k, v, NULL, sg_new_tensor_4d(ctx, SG_TYPE_F32, D, H, S, 1), scale)
                 : sg_attention(ctx, q, k, v, NULL, scale);
    struct sg_graph *g         = sg_graph_new(ctx);
    struct sg_buffer_list bufs = {0};
    if (!out || sg_graph_expand(g, out) != SG_OK ||
        sg_alloc_ctx_tensors(ctx, sg_device_buffer_type(b->dev), &bufs) != SG_OK) {
        fprintf(stderr, "bench-ops: attention: %s %s\n", sg_ctx_error(ctx), sg_last_error());
        sg_ctx_free(ctx);
        return;
    }
    for (int i = 0; i < g->n_leafs; i++) bench_fill(g->leafs[i], 7 + (unsigned)i);
    double t     = bench_graph(b, g);
    double flops = sg_op_flops(out);
    size_t work  = b->on_cpu ? sg_cpu_kernels[out->op].work_size(out, b->threads) : 0; /* CPU scratch only */
    double kib   = 1.0 / 1024.0;
    double full  = (double)S * (double)S * (double)H * sizeof(float);
    if (t > 0.0)
        printf("  %-8s %5lld %3lld %3lld  %8.1f %8.1f   %9.0f + %7.0f KiB   %9.0f KiB\n",
               backward ? "backward" : "forward", (long long)S, (long long)H, (long long)D, t * 1e3, flops / t * 1e-9,
               (double)work * kib, (double)sg_nbytes(out) * kib, full * kib);
    sg_buffer_list_free(&bufs);
    sg_ctx_free(ctx);
}

static int bench_usage(const char *argv0) {
    fprintf(stderr, "usage: %s [--threads N] [--reps N] [--quick] [--device SPEC]\n", argv0);
    return 2;
}

int main(int argc, char **argv) {
    struct bench b     = {.threads = 0, .reps = 5};
    const char *device = "cpu";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            b.threads = atoi(argv[++i]);
            if (b.threads < 1) return bench_usage(argv[0]);
        } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            b.reps = atoi(argv[++i]);
            if (b.reps < 1) return bench_usage(argv[0]);
        } else if (strcmp(argv[i], "--quick") == 0) {
            b.quick = true;
        } else if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) {
            device = argv[++i];
        } else {
            return bench_usage(argv[0]);
        }
    }
    if (sg_device_select(device, &b.dev) != SG_OK || sg_device_open_stream(b.dev, b.threads, &b.stream) != SG_OK) {
        fprintf(stderr, "bench-ops: %s\n", sg_last_error());
        return 1;
    }
    b.on_cpu = b.dev == sg_device_cpu();
    if (b.on_cpu) {
        b.threads = sg_cpu_stream_threads(b.stream);
        printf("bench-ops: %s; %d threads (--threads N to change), best of %d after a warm-up\n",
               sg_device_description(b.dev), b.threads, b.reps);
        printf("OpenBLAS: %s\n\n", openblas_get_config());
    } else {
        struct sg_backend_reg *reg = sg_device_reg(b.dev);
        b.device_sgemm             = reg ? (bench_sgemm_fn)sg_backend_reg_proc(reg, "sgemm") : NULL;
        printf("bench-ops: %s (%s), best of %d after a warm-up; reference: %s\n\n", sg_device_name(b.dev),
               sg_device_description(b.dev), b.reps,
               b.device_sgemm ? "the backend's direct GEMM (one library call)" : "none on this backend");
    }

    const struct bench_mm_case mm[] = {
        {"square", 2048, 2048, 2048, BENCH_NN},
        {"square, b transposed", 2048, 2048, 2048, BENCH_NT},
        {"SAE encode x W^T", 4096, 16384, 512, BENCH_NT},
        {"SAE decode z W", 4096, 512, 16384, BENCH_NN},
        {"SAE weight grad x^T dz", 512, 16384, 4096, BENCH_TN},
        {"small", 64, 64, 64, BENCH_NN},
        {"square 4096", 4096, 4096, 4096, BENCH_NN},
        {"square 4096, b transposed", 4096, 4096, 4096, BENCH_NT},
    };
    printf("matmul (F32)                   M     N     K   layout  ours GF/s %s GF/s  ours/%s  max|diff|\n",
           b.on_cpu ? "cblas" : "direct", b.on_cpu ? "cblas" : "direct");
    /* the 4096 squares only where a GPU makes them quick */
    const size_t n_mm = sizeof mm / sizeof mm[0] - (b.on_cpu ? 2 : 0);
    for (size_t i = 0; i < n_mm; i++)
        if (!b.quick || i == 0 || i >= 6) bench_matmul(&b, &mm[i]);

    printf("\nattention (B=1, no mask)  S   H   D      ms   GFLOP/s   kernel scratch + output    S x S scores\n");
    int64_t seqs[] = {1024, 2048};
    for (int bw = 0; bw < 2; bw++)
        for (size_t i = 0; i < 2; i++)
            if (!b.quick || (i == 0 && !bw)) bench_attention(&b, seqs[i], 8, 64, bw);

    sg_stream_free(b.stream);
    return 0;
}
