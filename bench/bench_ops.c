/* bench-ops: the CPU backend's matmul against a direct cblas_sgemm call, and flash-style
 * attention throughput and memory, measured in the same run.
 *
 *     bench-ops [--threads N] [--reps N] [--quick]
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

struct bench {
    struct sg_stream *stream;
    int threads;
    int reps;
    bool quick;
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
        sg_alloc_ctx_tensors(ctx, sg_device_buffer_type(sg_device_cpu()), &bufs) != SG_OK) {
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
        openblas_set_num_threads(b->threads);
        for (int r = 0; r <= b->reps; r++) {
            double t0 = bench_now();
            cblas_sgemm(CblasRowMajor, c->layout == BENCH_TN ? CblasTrans : CblasNoTrans,
                        c->layout == BENCH_NT ? CblasTrans : CblasNoTrans, (int)c->M, (int)c->N, (int)c->K, 1.0f, A,
                        c->layout == BENCH_TN ? (int)c->M : (int)c->K, B, c->layout == BENCH_NT ? (int)c->K : (int)c->N,
                        0.0f, C, (int)c->N);
            double dt = bench_now() - t0;
            if (r > 0) direct = fmin(direct, dt);
        }
    }
    if (ours < INFINITY) {
        double maxdiff = 0.0;
        for (int64_t i = 0; i < c->M * c->N; i++) maxdiff = fmax(maxdiff, fabs((double)mine[i] - (double)C[i]));
        printf("  %-22s %5lld %5lld %5lld  %4s  %8.1f %9.1f     %5.2f     %.1e\n", c->name, (long long)c->M,
               (long long)c->N, (long long)c->K,
               c->layout == BENCH_NN   ? "NN"
               : c->layout == BENCH_NT ? "NT"
                                       : "TN",
               flops / ours * 1e-9, flops / direct * 1e-9, direct / ours, maxdiff);
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
        sg_alloc_ctx_tensors(ctx, sg_device_buffer_type(sg_device_cpu()), &bufs) != SG_OK) {
        fprintf(stderr, "bench-ops: attention: %s %s\n", sg_ctx_error(ctx), sg_last_error());
        sg_ctx_free(ctx);
        return;
    }
    for (int i = 0; i < g->n_leafs; i++) bench_fill(g->leafs[i], 7 + (unsigned)i);
    double t     = bench_graph(b, g);
    double flops = sg_op_flops(out);
    size_t work  = sg_cpu_kernels[out->op].work_size(out, b->threads);
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
    fprintf(stderr, "usage: %s [--threads N] [--reps N] [--quick]\n", argv0);
    return 2;
}

int main(int argc, char **argv) {
    struct bench b = {.threads = 0, .reps = 5};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            b.threads = atoi(argv[++i]);
            if (b.threads < 1) return bench_usage(argv[0]);
        } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            b.reps = atoi(argv[++i]);
            if (b.reps < 1) return bench_usage(argv[0]);
        } else if (strcmp(argv[i], "--quick") == 0) {
            b.quick = true;
        } else {
            return bench_usage(argv[0]);
        }
    }
    if (sg_backends_load() != SG_OK || sg_device_open_stream(sg_device_cpu(), b.threads, &b.stream) != SG_OK) {
        fprintf(stderr, "bench-ops: %s\n", sg_last_error());
        return 1;
    }
    b.threads = sg_cpu_stream_threads(b.stream);
    printf("bench-ops: %s; %d threads (--threads N to change), best of %d after a warm-up\n",
           sg_device_description(sg_device_cpu()), b.threads, b.reps);
    printf("OpenBLAS: %s\n\n", openblas_get_config());

    const struct bench_mm_case mm[] = {
        {"square", 2048, 2048, 2048, BENCH_NN},
        {"square, b transposed", 2048, 2048, 2048, BENCH_NT},
        {"SAE encode x W^T", 4096, 16384, 512, BENCH_NT},
        {"SAE decode z W", 4096, 512, 16384, BENCH_NN},
        {"SAE weight grad x^T dz", 512, 16384, 4096, BENCH_TN},
        {"small", 64, 64, 64, BENCH_NN},
    };
    printf("matmul (F32)                   M     N     K   layout  ours GF/s cblas GF/s  ours/cblas  max|diff|\n");
    for (size_t i = 0; i < sizeof mm / sizeof mm[0]; i++)
        if (!b.quick || i == 0) bench_matmul(&b, &mm[i]);

    printf("\nattention (B=1, no mask)  S   H   D      ms   GFLOP/s   kernel scratch + output    S x S scores\n");
    int64_t seqs[] = {1024, 2048};
    for (int bw = 0; bw < 2; bw++)
        for (size_t i = 0; i < 2; i++)
            if (!b.quick || (i == 0 && !bw)) bench_attention(&b, seqs[i], 8, 64, bw);

    sg_stream_free(b.stream);
    return 0;
}
