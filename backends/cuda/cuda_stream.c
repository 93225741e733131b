/* CUDA streams. A plan (plan_create) captures the split's node list into a CUDA graph once and
 * replays it with one cudaGraphLaunch per run; compute() without a plan launches every node's
 * kernels and waits. A stream owns its cuBLAS handle; kernel scratch belongs to the plan (eager
 * runs use the stream's), so replaying a graph never finds its scratch reallocated under it.
 *
 * Why stream capture of our own node list rather than building graph nodes by hand: the
 * sequence is ours, known and static (the same encoders the eager path runs), and capture also
 * records cuBLAS's kernels, which we cannot build as explicit nodes. The graph is captured
 * again when anything its launches baked in changes (cuda_graph_key.h). A capture that fails
 * (an encoder or library call that cannot be captured) leaves that plan eager, with a debug
 * line; it is tried once more after the first eager run, which has done any first-use set-up.
 * SAEG_CUDA_GRAPHS=0 makes every plan eager.
 *
 * Streams are non-blocking: ordering against transfers is explicit (cuda_mem.h). A run waits
 * for earlier uploads before it launches and records `done` after, which later transfers wait
 * for; plan_compute returns without waiting (the scheduler calls synchronize at the end). */
#include <stdlib.h>

#include "core/log.h"
#include "core/ops.h"
#include "cuda_graph_key.h"
#include "cuda_internal.h"
#include "cuda_mem.h"
#include "cuda_ops.h"

/* kernel scratch memory, as large as the largest node asks for */
struct cuda_scratch {
    char *ptr;
    size_t size;
};

struct cuda_stream {
    cudaStream_t stream;
    cudaEvent_t done; /* recorded after the last work enqueued */
    const struct sg_cuda_device *dev;
    struct sg_cuda_blas *blas;
    struct cuda_scratch scratch; /* for eager runs */
};

struct cuda_plan {
    struct sg_tensor **nodes;
    int n;
    uint64_t key; /* of the nodes when the graph was captured */
    struct cuda_scratch scratch;
    cudaGraphExec_t exec; /* NULL: eager */
    int n_kernels;        /* nodes of the captured graph */
    int failed;           /* captures that failed */
    int runs;
};

static bool graphs_enabled(void) {
    const char *v = getenv("SAEG_CUDA_GRAPHS");
    return !(v && v[0] == '0' && v[1] == '\0');
}

static bool node_runs(const struct sg_tensor *t) { return t->op != SG_OP_NONE && !sg_is_view_op(t->op); }

static size_t scratch_need(const struct sg_cuda_device *d, struct sg_tensor *const *nodes, int n) {
    size_t need = 0;
    for (int i = 0; i < n; i++) {
        size_t sz = node_runs(nodes[i]) ? sg_cuda_node_scratch(d, nodes[i]) : 0;
        if (sz > need) need = sz;
    }
    return need;
}

/* Makes sc at least need bytes; the old block may still be in use by queued work, which
 * sg_cuda_mem_free waits for. */
static sg_status grow_scratch(const struct sg_cuda_device *d, struct cuda_scratch *sc, size_t need) {
    if (need <= sc->size) return SG_OK;
    sg_cuda_mem_free(d, sc->ptr);
    sc->ptr      = NULL;
    sc->size     = 0;
    void *ptr    = NULL;
    sg_status st = sg_cuda_mem_alloc(d, need, &ptr);
    if (st == SG_OK) *sc = (struct cuda_scratch){.ptr = ptr, .size = need};
    return st;
}

static sg_status check_nodes(const struct sg_cuda_device *d, struct sg_tensor *const *nodes, int n) {
    for (int i = 0; i < n; i++) {
        const struct sg_tensor *t = nodes[i];
        if (node_runs(t) && !sg_cuda_supports_op(d, t))
            return sg_error(SG_ERR_UNSUPPORTED, "cuda: no kernel for %s '%s'", sg_op_name(t->op), t->name);
    }
    return SG_OK;
}

static sg_status encode_all(struct cuda_stream *cs, struct sg_tensor *const *nodes, int n,
                            const struct cuda_scratch *sc) {
    struct sg_cuda_enc e = {
        .dev = cs->dev, .stream = cs->stream, .blas = cs->blas, .scratch = sc->ptr, .scratch_size = sc->size};
    sg_status st = SG_OK;
    for (int i = 0; i < n && st == SG_OK; i++)
        if (node_runs(nodes[i])) st = sg_cuda_encode_node(&e, nodes[i]);
    return st;
}

/* Every launch on the stream comes after earlier uploads (cuda_mem.h) ... */
static sg_status before_launch(struct cuda_stream *cs) {
    sg_status st = sg_cuda_check(cudaSetDevice(cs->dev->index), "cudaSetDevice");
    return st == SG_OK ? sg_cuda_mem_wait_uploads(cs->dev, cs->stream) : st;
}

/* ... and is followed by the stream's `done` event, which later transfers wait for. */
static sg_status after_launch(struct cuda_stream *cs, sg_status st) {
    sg_status rec = sg_cuda_check(cudaEventRecord(cs->done, cs->stream), "cudaEventRecord");
    return st != SG_OK ? st : rec;
}

static void stream_free(struct sg_stream *s) {
    struct cuda_stream *cs = s->context;
    cudaSetDevice(cs->dev->index);
    cudaStreamSynchronize(cs->stream);
    sg_cuda_mem_free(cs->dev, cs->scratch.ptr);
    sg_cuda_mem_remove_stream(cs->dev, cs->done);
    sg_cuda_blas_close(cs->blas);
    cudaEventDestroy(cs->done);
    cudaStreamDestroy(cs->stream);
    sg_cuda_mem_log(cs->dev, "after a stream closed");
    free(cs);
    free(s);
}

static sg_status stream_compute(struct sg_stream *s, struct sg_tensor *const *nodes, int n) {
    struct cuda_stream *cs = s->context;
    sg_status st           = check_nodes(cs->dev, nodes, n);
    if (st == SG_OK) st = grow_scratch(cs->dev, &cs->scratch, scratch_need(cs->dev, nodes, n));
    if (st == SG_OK) st = before_launch(cs);
    if (st != SG_OK) return st;
    st            = after_launch(cs, encode_all(cs, nodes, n, &cs->scratch));
    sg_status fin = sg_cuda_check(cudaStreamSynchronize(cs->stream), "cudaStreamSynchronize");
    return st != SG_OK ? st : fin;
}

/* ---- plans: CUDA graphs ----------------------------------------------------------------------- */

/* Captures the plan's nodes into p->exec; on failure p->exec stays NULL (eager) and the reason
 * goes to the debug log. Only a failure outside the capture itself is returned. */
static sg_status capture(struct cuda_stream *cs, struct cuda_plan *p) {
    p->key       = sg_cuda_graph_key(p->nodes, p->n);
    sg_status st = grow_scratch(cs->dev, &p->scratch, scratch_need(cs->dev, p->nodes, p->n));
    int n_run    = 0;
    for (int i = 0; i < p->n; i++) n_run += node_runs(p->nodes[i]);
    if (st != SG_OK || !graphs_enabled() || n_run == 0) return st;
    st = sg_cuda_check(cudaSetDevice(cs->dev->index), "cudaSetDevice");
    if (st != SG_OK) return st;
    /* thread-local mode: an unsafe call (a synchronous copy, cudaMalloc) in an encoder fails the
     * capture instead of silently running outside the graph */
    cudaGraph_t graph = NULL;
    st = sg_cuda_check(cudaStreamBeginCapture(cs->stream, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
    if (st == SG_OK) {
        sg_status enc = encode_all(cs, p->nodes, p->n, &p->scratch);
        st            = sg_cuda_check(cudaStreamEndCapture(cs->stream, &graph), "cudaStreamEndCapture");
        if (enc != SG_OK) st = enc;
    }
    size_t n_kernels = 0;
    if (st == SG_OK) st = sg_cuda_check(cudaGraphGetNodes(graph, NULL, &n_kernels), "cudaGraphGetNodes");
    if (st == SG_OK) st = sg_cuda_check(cudaGraphInstantiate(&p->exec, graph, 0), "cudaGraphInstantiate");
    if (graph) cudaGraphDestroy(graph);
    if (st != SG_OK) {
        cudaGetLastError(); /* capture errors are not sticky: clear them so eager launches start clean */
        p->exec = NULL;
        p->failed++;
        SG_LOGD("cuda: %d nodes run eagerly: CUDA graph capture failed%s: %s", p->n,
                p->failed == 1 ? " (trying again after one eager run)" : "", sg_last_error());
        sg_error_clear();
        return SG_OK;
    }
    p->n_kernels = (int)n_kernels;
    SG_LOGD("%s: captured %d nodes into a CUDA graph of %d launches", cs->dev->name, p->n, p->n_kernels);
    return SG_OK;
}

static void plan_free(struct sg_stream *s, void *plan) {
    struct cuda_stream *cs = s->context;
    struct cuda_plan *p    = plan;
    if (!p) return;
    cudaSetDevice(cs->dev->index);
    if (p->exec) {
        cudaStreamSynchronize(cs->stream); /* a launch of it may still be queued */
        cudaGraphExecDestroy(p->exec);
    }
    sg_cuda_mem_free(cs->dev, p->scratch.ptr);
    free(p->nodes);
    free(p);
}

static sg_status plan_create(struct sg_stream *s, struct sg_tensor *const *nodes, int n, void **out) {
    struct cuda_stream *cs = s->context;
    *out                   = NULL;
    sg_status st           = check_nodes(cs->dev, nodes, n);
    if (st != SG_OK) return st;
    struct cuda_plan *p = calloc(1, sizeof *p);
    if (p) p->nodes = malloc((size_t)(n > 0 ? n : 1) * sizeof *p->nodes);
    if (!p || !p->nodes) {
        free(p);
        return sg_error(SG_ERR_NO_MEMORY, "cuda: out of host memory for a plan of %d nodes", n);
    }
    for (int i = 0; i < n; i++) p->nodes[i] = nodes[i];
    p->n = n;
    st   = capture(cs, p);
    if (st != SG_OK) {
        plan_free(s, p);
        return st;
    }
    *out = p;
    return SG_OK;
}

static sg_status plan_compute(struct sg_stream *s, void *plan) {
    struct cuda_stream *cs = s->context;
    struct cuda_plan *p    = plan;
    sg_status st           = SG_OK;
    /* the scheduler keeps addresses fixed for a plan's life; if anything changed anyway, a
     * replay would touch stale memory: capture again */
    if (sg_cuda_graph_key(p->nodes, p->n) != p->key) {
        SG_LOGD("%s: the nodes of a CUDA graph changed (addresses, shapes or parameters); capturing again",
                cs->dev->name);
        if (p->exec) {
            st = sg_cuda_check(cudaStreamSynchronize(cs->stream), "cudaStreamSynchronize");
            cudaGraphExecDestroy(p->exec);
            p->exec = NULL;
        }
        if (st == SG_OK) st = capture(cs, p);
    } else if (!p->exec && p->failed == 1 && p->runs == 1) {
        /* first-use work (lazy module loading, library set-up) may be what broke the capture:
         * the eager run has done it, so try once more */
        st = capture(cs, p);
    }
    p->runs++;
    if (st == SG_OK) st = before_launch(cs);
    if (st != SG_OK) return st;
    if (p->exec)
        st = sg_cuda_check(cudaGraphLaunch(p->exec, cs->stream), "cudaGraphLaunch");
    else
        st = encode_all(cs, p->nodes, p->n, &p->scratch);
    return after_launch(cs, st);
}

static sg_status stream_synchronize(struct sg_stream *s) {
    struct cuda_stream *cs = s->context;
    return sg_cuda_check(cudaStreamSynchronize(cs->stream), "cudaStreamSynchronize");
}

sg_status sg_cuda_stream_sgemm(struct sg_stream *s, bool trans_a, bool trans_b, int M, int N, int K, const float *A,
                               int lda, const float *B, int ldb, float *C, int ldc) {
    struct cuda_stream *cs = s->context;
    if (!cs->blas) return sg_error(SG_ERR_UNSUPPORTED, "cuda: cuBLAS is not loaded");
    sg_status st = before_launch(cs);
    if (st != SG_OK) return st;
    st = after_launch(cs, sg_cuda_blas_sgemm_rowmajor(cs->blas, trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc));
    sg_status fin = sg_cuda_check(cudaStreamSynchronize(cs->stream), "cudaStreamSynchronize");
    return st != SG_OK ? st : fin;
}

static const struct sg_stream_i cuda_stream_i = {
    .free_stream  = stream_free,
    .compute      = stream_compute,
    .plan_create  = plan_create,
    .plan_compute = plan_compute,
    .plan_free    = plan_free,
    .synchronize  = stream_synchronize,
};

sg_status sg_cuda_stream_open(struct sg_device *dev, int n_threads, struct sg_stream **out) {
    (void)n_threads;
    const struct sg_cuda_device *d = dev->context;
    struct sg_stream *s            = calloc(1, sizeof *s);
    struct cuda_stream *cs         = calloc(1, sizeof *cs);
    if (!s || !cs) {
        free(s);
        free(cs);
        return sg_error(SG_ERR_NO_MEMORY, "CUDA: out of host memory");
    }
    sg_status st = sg_cuda_check(cudaSetDevice(d->index), "cudaSetDevice");
    if (st == SG_OK)
        st = sg_cuda_check(cudaStreamCreateWithFlags(&cs->stream, cudaStreamNonBlocking), "cudaStreamCreate");
    if (st == SG_OK) st = sg_cuda_check(cudaEventCreateWithFlags(&cs->done, cudaEventDisableTiming), "cudaEventCreate");
    if (st == SG_OK) st = sg_cuda_mem_add_stream(d, cs->done);
    if (st != SG_OK) {
        if (cs->done) cudaEventDestroy(cs->done);
        if (cs->stream) cudaStreamDestroy(cs->stream);
        free(s);
        free(cs);
        return st;
    }
    cs->dev = d;
    if (!SG_CUDA_HARDWARE_VERIFIED) {
        static int warned;
        if (!warned++)
            SG_LOGW("cuda: the CUDA kernels are not yet verified on hardware (run tests/gpu/run.sh; see docs/cuda.md)");
    }
    /* without cuBLAS matmul still runs, on the plain kernel */
    if (sg_cuda_blas_open(cs->stream, &cs->blas) != SG_OK) {
        static int warned_blas;
        if (!warned_blas++) SG_LOGW("cuda: %s; matmul uses the plain CUDA kernel (slow)", sg_last_error());
        sg_error_clear();
    }
    *s   = (struct sg_stream){.iface = &cuda_stream_i, .device = dev, .context = cs};
    *out = s;
    return SG_OK;
}
