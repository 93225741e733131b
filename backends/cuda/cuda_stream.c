/* CUDA streams. With no kernels yet a stream has nothing to run: the scheduler sends every node
 * to the CPU, and compute is only reached by a direct sg_stream_compute, which checks
 * supports_op first and reports the op by name. */
#include <stdlib.h>

#include "core/ops.h"
#include "cuda_internal.h"

struct cuda_stream {
    cudaStream_t stream;
    int device;
};

static void stream_free(struct sg_stream *s) {
    struct cuda_stream *cs = s->context;
    cudaSetDevice(cs->device);
    cudaStreamDestroy(cs->stream);
    free(cs);
    free(s);
}

static sg_status stream_compute(struct sg_stream *s, struct sg_tensor *const *nodes, int n) {
    (void)s;
    for (int i = 0; i < n; i++)
        if (!sg_is_view_op(nodes[i]->op))
            return sg_error(SG_ERR_UNSUPPORTED, "cuda: no kernel for %s yet", sg_op_name(nodes[i]->op));
    return SG_OK;
}

static sg_status stream_synchronize(struct sg_stream *s) {
    struct cuda_stream *cs = s->context;
    return sg_cuda_check(cudaStreamSynchronize(cs->stream), "cudaStreamSynchronize");
}

static const struct sg_stream_i cuda_stream_i = {
    .free_stream = stream_free,
    .compute     = stream_compute,
    .synchronize = stream_synchronize,
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
    if (st != SG_OK) {
        free(s);
        free(cs);
        return st;
    }
    cs->device = d->index;
    *s         = (struct sg_stream){.iface = &cuda_stream_i, .device = dev, .context = cs};
    *out       = s;
    return SG_OK;
}
