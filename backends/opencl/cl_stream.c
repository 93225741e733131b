/* Streams: an in-order queue per stream. compute() encodes every node straight onto the queue
 * and waits once at the end; plan_create() records the launches once (with their own kernel
 * objects and scratch memory) and plan_compute() only enqueues them again. */
#include <stdlib.h>

#include "cl_ops.h"

struct cl_stream {
    struct sg_stream base;
    struct sg_cl_device *dev;
    cl_command_queue queue;
    cl_kernel kernels[SG_CL_K_COUNT];
    cl_mem scratch; /* grown on demand for direct compute */
    size_t scratch_size;
};

static struct cl_stream *cl_stream(struct sg_stream *s) { return s->context; }

static void stream_free(struct sg_stream *s) {
    struct cl_stream *cs = cl_stream(s);
    clFinish(cs->queue);
    for (int i = 0; i < SG_CL_K_COUNT; i++)
        if (cs->kernels[i]) clReleaseKernel(cs->kernels[i]);
    if (cs->scratch) clReleaseMemObject(cs->scratch);
    clReleaseCommandQueue(cs->queue);
    free(cs);
}

static size_t nodes_scratch(const struct sg_cl_device *d, struct sg_tensor *const *nodes, int n) {
    size_t max = 0;
    for (int i = 0; i < n; i++) {
        size_t s = sg_cl_node_scratch(d, nodes[i]);
        if (s > max) max = s;
    }
    return max;
}

static sg_status alloc_scratch(struct sg_cl_device *d, size_t size, cl_mem *out) {
    cl_int err;
    *out         = clCreateBuffer(d->context, CL_MEM_READ_WRITE, size, NULL, &err);
    sg_status st = sg_cl_check(err, "clCreateBuffer (scratch)");
    if (st != SG_OK) *out = NULL;
    return st;
}

static sg_status encode_all(struct sg_cl_enc *e, struct sg_tensor *const *nodes, int n) {
    sg_status st = SG_OK;
    for (int i = 0; i < n && st == SG_OK; i++) {
        const struct sg_tensor *t = nodes[i];
        if (t->op == SG_OP_NONE || sg_is_view_op(t->op)) continue;
        st = sg_cl_encode_node(e, t);
    }
    return st;
}

static sg_status stream_compute(struct sg_stream *s, struct sg_tensor *const *nodes, int n) {
    struct cl_stream *cs = cl_stream(s);
    size_t need          = nodes_scratch(cs->dev, nodes, n);
    sg_status st         = SG_OK;
    if (need > cs->scratch_size) {
        /* the old buffer is freed once queued work using it has finished (OpenCL defers it) */
        if (cs->scratch) clReleaseMemObject(cs->scratch);
        cs->scratch      = NULL;
        cs->scratch_size = 0;
        st               = alloc_scratch(cs->dev, need, &cs->scratch);
        if (st != SG_OK) return st;
        cs->scratch_size = need;
    }
    struct sg_cl_enc e = {.dev = cs->dev, .queue = cs->queue, .kernels = cs->kernels, .scratch = cs->scratch};
    st                 = encode_all(&e, nodes, n);
    sg_status fin      = sg_cl_check(clFinish(cs->queue), "clFinish");
    return st != SG_OK ? st : fin;
}

static sg_status plan_create(struct sg_stream *s, struct sg_tensor *const *nodes, int n, void **out) {
    struct cl_stream *cs    = cl_stream(s);
    struct sg_cl_plan *plan = calloc(1, sizeof *plan);
    if (!plan) return sg_error(SG_ERR_NO_MEMORY, "OpenCL: out of memory for a plan");
    size_t need        = nodes_scratch(cs->dev, nodes, n);
    sg_status st       = need ? alloc_scratch(cs->dev, need, &plan->scratch) : SG_OK;
    struct sg_cl_enc e = {.dev = cs->dev, .plan = plan, .scratch = plan->scratch};
    if (st == SG_OK) st = encode_all(&e, nodes, n);
    if (st != SG_OK) {
        sg_cl_plan_free(plan);
        return st;
    }
    *out = plan;
    return SG_OK;
}

static sg_status plan_compute(struct sg_stream *s, void *p) {
    struct cl_stream *cs    = cl_stream(s);
    struct sg_cl_plan *plan = p;
    sg_status st            = SG_OK;
    for (int i = 0; i < plan->n && st == SG_OK; i++) st = sg_cl_plan_launch(cs->queue, &plan->launches[i]);
    sg_status fin = sg_cl_check(clFinish(cs->queue), "clFinish");
    return st != SG_OK ? st : fin;
}

static void plan_free(struct sg_stream *s, void *p) {
    clFinish(cl_stream(s)->queue);
    sg_cl_plan_free(p);
}

static sg_status stream_synchronize(struct sg_stream *s) {
    return sg_cl_check(clFinish(cl_stream(s)->queue), "clFinish");
}

static const struct sg_stream_i cl_stream_i = {
    .free_stream  = stream_free,
    .compute      = stream_compute,
    .plan_create  = plan_create,
    .plan_compute = plan_compute,
    .plan_free    = plan_free,
    .synchronize  = stream_synchronize,
};

sg_status sg_cl_stream_open(struct sg_device *dev, int n_threads, struct sg_stream **out) {
    (void)n_threads;
    struct sg_cl_device *d = sg_cl_dev(dev);
    sg_status st           = sg_cl_device_open(d);
    if (st != SG_OK) return st;
    struct cl_stream *cs = calloc(1, sizeof *cs);
    if (!cs) return sg_error(SG_ERR_NO_MEMORY, "OpenCL: out of memory opening a stream");
    cl_int err;
    cs->queue = clCreateCommandQueue(d->context, d->id, 0, &err);
    st        = sg_cl_check(err, "clCreateCommandQueue");
    if (st != SG_OK) {
        free(cs);
        return st;
    }
    cs->dev  = d;
    cs->base = (struct sg_stream){.iface = &cl_stream_i, .device = dev, .context = cs};
    *out     = &cs->base;
    return SG_OK;
}
