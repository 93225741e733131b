/* CUDA streams: compute() launches every node's kernels on the stream in order and waits once at
 * the end. A stream owns its cuBLAS handle and a scratch buffer that grows to what the largest
 * node asks for (top-k sort keys, attention statistics, widened bf16 weights). */
#include <stdlib.h>

#include "core/log.h"
#include "core/ops.h"
#include "cuda_internal.h"
#include "cuda_ops.h"

struct cuda_stream {
    cudaStream_t stream;
    const struct sg_cuda_device *dev;
    struct sg_cuda_blas *blas;
    char *scratch;
    size_t scratch_size;
};

static void stream_free(struct sg_stream *s) {
    struct cuda_stream *cs = s->context;
    cudaSetDevice(cs->dev->index);
    cudaStreamSynchronize(cs->stream);
    sg_cuda_blas_close(cs->blas);
    cudaFree(cs->scratch);
    cudaStreamDestroy(cs->stream);
    free(cs);
    free(s);
}

/* Grows the scratch buffer; the old one may still be in use by queued work, so wait first. */
static sg_status ensure_scratch(struct cuda_stream *cs, size_t need) {
    if (need <= cs->scratch_size) return SG_OK;
    sg_status st = sg_cuda_check(cudaStreamSynchronize(cs->stream), "cudaStreamSynchronize");
    if (st != SG_OK) return st;
    cudaFree(cs->scratch);
    cs->scratch      = NULL;
    cs->scratch_size = 0;
    st               = sg_cuda_check(cudaMalloc((void **)&cs->scratch, need), "cudaMalloc (scratch)");
    if (st == SG_OK) cs->scratch_size = need;
    return st;
}

static sg_status stream_compute(struct sg_stream *s, struct sg_tensor *const *nodes, int n) {
    struct cuda_stream *cs = s->context;
    sg_status st           = sg_cuda_check(cudaSetDevice(cs->dev->index), "cudaSetDevice");
    size_t need            = 0;
    for (int i = 0; i < n; i++) {
        size_t sz = sg_cuda_node_scratch(cs->dev, nodes[i]);
        if (sz > need) need = sz;
    }
    if (st == SG_OK) st = ensure_scratch(cs, need);
    struct sg_cuda_enc e = {.dev          = cs->dev,
                            .stream       = cs->stream,
                            .blas         = cs->blas,
                            .scratch      = cs->scratch,
                            .scratch_size = cs->scratch_size};
    for (int i = 0; i < n && st == SG_OK; i++) {
        const struct sg_tensor *t = nodes[i];
        if (t->op == SG_OP_NONE || sg_is_view_op(t->op)) continue;
        if (!sg_cuda_supports_op(cs->dev, t))
            return sg_error(SG_ERR_UNSUPPORTED, "cuda: no kernel for %s '%s'", sg_op_name(t->op), t->name);
        st = sg_cuda_encode_node(&e, t);
    }
    sg_status fin = sg_cuda_check(cudaStreamSynchronize(cs->stream), "cudaStreamSynchronize");
    return st != SG_OK ? st : fin;
}

static sg_status stream_synchronize(struct sg_stream *s) {
    struct cuda_stream *cs = s->context;
    return sg_cuda_check(cudaStreamSynchronize(cs->stream), "cudaStreamSynchronize");
}

sg_status sg_cuda_stream_sgemm(struct sg_stream *s, bool trans_a, bool trans_b, int M, int N, int K, const float *A,
                               int lda, const float *B, int ldb, float *C, int ldc) {
    struct cuda_stream *cs = s->context;
    if (!cs->blas) return sg_error(SG_ERR_UNSUPPORTED, "cuda: cuBLAS is not loaded");
    sg_status st  = sg_cuda_blas_sgemm_rowmajor(cs->blas, trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc);
    sg_status fin = sg_cuda_check(cudaStreamSynchronize(cs->stream), "cudaStreamSynchronize");
    return st != SG_OK ? st : fin;
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
    if (st == SG_OK) st = sg_cuda_check(cudaStreamCreate(&cs->stream), "cudaStreamCreate");
    if (st != SG_OK) {
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
