/* CPU streams: run a node list on the stream's thread pool, SPMD style.
 *
 * Every pool thread walks the same node list and calls each node's kernel with its own ith/nth;
 * the kernel does that thread's share, and a barrier separates consecutive nodes. In reference
 * mode the scalar reference kernels run on the calling thread instead. */
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/cpu_internal.h"
#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/cpu_threadpool.h"
#include "core/ops.h"

#define SG_CPU_SCRATCH_ALIGN 64

struct sg_cpu_stream_ctx {
    struct sg_cpu_pool *pool;
    bool reference;
    void *wdata; /* kernel scratch, grown to the largest node's need */
    size_t wsize;
    struct sg_tensor **run; /* the nodes of the current compute that need a kernel */
    int run_cap;
};

/* What the pool threads share during one compute. */
struct sg_cpu_job {
    struct sg_tensor *const *nodes;
    int n;
    void *wdata;
    size_t wsize;
    struct sg_cpu_pool *pool;
};

static const struct sg_stream_i sg_cpu_stream_i;

static struct sg_cpu_stream_ctx *sg_cpu_stream_ctx(const struct sg_stream *s) { return s->context; }

bool sg_cpu_stream_is_cpu(const struct sg_stream *s) { return s && s->iface == &sg_cpu_stream_i; }

void sg_cpu_stream_set_reference(struct sg_stream *s, bool reference) {
    if (sg_cpu_stream_is_cpu(s)) sg_cpu_stream_ctx(s)->reference = reference;
}

int sg_cpu_stream_threads(const struct sg_stream *s) {
    return sg_cpu_stream_is_cpu(s) ? sg_cpu_pool_threads(sg_cpu_stream_ctx(s)->pool) : 0;
}

static void sg_cpu_stream_free(struct sg_stream *s) {
    struct sg_cpu_stream_ctx *ctx = sg_cpu_stream_ctx(s);
    sg_cpu_pool_free(ctx->pool);
    free(ctx->wdata);
    free(ctx->run);
    free(ctx);
    free(s);
}

/* Does the node need a kernel at all? View ops are metadata, leafs hold data already. */
static bool sg_cpu_node_runs(const struct sg_tensor *node) {
    return node->op != SG_OP_NONE && !sg_is_view_op(node->op) && sg_nelements(node) > 0;
}

/* Checks what a kernel would otherwise trip over: an unknown op, an unsupported layout, a
 * tensor without memory. */
static sg_status sg_cpu_node_check(const struct sg_tensor *node, bool reference) {
    if (node->op < 0 || node->op >= SG_OP_COUNT)
        return sg_error(SG_ERR_INVALID_ARG, "cpu: node '%s' has an unknown op %d", node->name, node->op);
    bool has_kernel = reference ? sg_ref_kernels[node->op] != NULL : sg_cpu_kernels[node->op].run != NULL;
    if (!has_kernel || !sg_cpu_supports_op(node)) {
        char shape[96];
        return sg_error(SG_ERR_UNSUPPORTED, "cpu: %s '%s' %s is not supported by the %s kernels", sg_op_name(node->op),
                        node->name, sg_shape_str(node, shape, sizeof shape), reference ? "reference" : "cpu");
    }
    if (!node->data)
        return sg_error(SG_ERR_INVALID_ARG, "cpu: %s '%s' has no memory (allocate the graph first)",
                        sg_op_name(node->op), node->name);
    for (int i = 0; i < SG_MAX_SRC; i++)
        if (node->src[i] && !node->src[i]->data)
            return sg_error(SG_ERR_INVALID_ARG, "cpu: source %d ('%s') of %s '%s' has no memory", i, node->src[i]->name,
                            sg_op_name(node->op), node->name);
    return SG_OK;
}

static void sg_cpu_stream_worker(int ith, int nth, void *arg) {
    const struct sg_cpu_job *job = arg;
    const struct sg_cpu_params p = {
        .ith = ith, .nth = nth, .wdata = job->wdata, .wsize = job->wsize, .pool = job->pool};
    for (int i = 0; i < job->n; i++) {
        struct sg_tensor *node = job->nodes[i];
        sg_cpu_kernels[node->op].run(&p, node);
        /* the last node's barrier is the pool's end-of-run barrier */
        if (i + 1 < job->n) sg_cpu_pool_barrier(job->pool);
    }
}

static sg_status sg_cpu_stream_reserve(struct sg_cpu_stream_ctx *ctx, int n_run, size_t wsize) {
    if (n_run > ctx->run_cap) {
        struct sg_tensor **run = realloc(ctx->run, (size_t)n_run * sizeof *run);
        if (!run) return sg_error(SG_ERR_NO_MEMORY, "cpu: out of memory planning %d nodes", n_run);
        ctx->run     = run;
        ctx->run_cap = n_run;
    }
    if (wsize > ctx->wsize) {
        size_t padded = (wsize + SG_CPU_SCRATCH_ALIGN - 1) / SG_CPU_SCRATCH_ALIGN * SG_CPU_SCRATCH_ALIGN;
        void *w       = aligned_alloc(SG_CPU_SCRATCH_ALIGN, padded);
        if (!w)
            return sg_error(SG_ERR_NO_MEMORY, "cpu: out of memory allocating %.1f MiB of kernel scratch",
                            (double)wsize / (1 << 20));
        free(ctx->wdata);
        ctx->wdata = w;
        ctx->wsize = padded;
    }
    return SG_OK;
}

static sg_status sg_cpu_stream_compute(struct sg_stream *s, struct sg_tensor *const *nodes, int n) {
    struct sg_cpu_stream_ctx *ctx = sg_cpu_stream_ctx(s);
    int nth                       = sg_cpu_pool_threads(ctx->pool);

    sg_status st = sg_cpu_stream_reserve(ctx, n, 0);
    if (st != SG_OK) return st;
    int n_run    = 0;
    size_t wsize = 0;
    for (int i = 0; i < n; i++) {
        struct sg_tensor *node = nodes[i];
        if (!sg_cpu_node_runs(node)) continue;
        st = sg_cpu_node_check(node, ctx->reference);
        if (st != SG_OK) return st;
        ctx->run[n_run++]             = node;
        const struct sg_cpu_kernel *k = &sg_cpu_kernels[node->op];
        if (!ctx->reference && k->work_size) {
            size_t w = k->work_size(node, nth);
            if (w > wsize) wsize = w;
        }
    }
    if (n_run == 0) return SG_OK;

    if (ctx->reference) {
        for (int i = 0; i < n_run; i++) sg_ref_kernels[ctx->run[i]->op](ctx->run[i]);
        return SG_OK;
    }
    st = sg_cpu_stream_reserve(ctx, n_run, wsize);
    if (st != SG_OK) return st;
    struct sg_cpu_job job = {
        .nodes = ctx->run, .n = n_run, .wdata = ctx->wdata, .wsize = ctx->wsize, .pool = ctx->pool};
    sg_cpu_pool_run(ctx->pool, sg_cpu_stream_worker, &job);
    return SG_OK;
}

static const struct sg_stream_i sg_cpu_stream_i = {
    .free_stream  = sg_cpu_stream_free,
    .compute      = sg_cpu_stream_compute,
    .plan_create  = NULL,
    .plan_compute = NULL,
    .plan_free    = NULL,
    .synchronize  = NULL, /* compute returns when the work is done */
};

sg_status sg_cpu_stream_open(struct sg_device *dev, int n_threads, struct sg_stream **out) {
    *out = NULL;
    if (n_threads < 0) return sg_error(SG_ERR_INVALID_ARG, "cpu: %d threads requested", n_threads);
    if (n_threads == 0) n_threads = sg_cpu_default_threads();
    struct sg_stream *s           = calloc(1, sizeof *s);
    struct sg_cpu_stream_ctx *ctx = calloc(1, sizeof *ctx);
    if (!s || !ctx) {
        free(s);
        free(ctx);
        return sg_error(SG_ERR_NO_MEMORY, "cpu: out of memory opening a stream");
    }
    sg_status st = sg_cpu_pool_new(n_threads, &ctx->pool);
    if (st != SG_OK) {
        free(s);
        free(ctx);
        return st;
    }
    *s   = (struct sg_stream){.iface = &sg_cpu_stream_i, .device = dev, .context = ctx};
    *out = s;
    return SG_OK;
}
