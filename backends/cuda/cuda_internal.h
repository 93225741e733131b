/* Internal declarations of the CUDA backend plugin. */
#ifndef SG_CUDA_INTERNAL_H
#define SG_CUDA_INTERNAL_H

#include <cuda_runtime_api.h>

#include "core/backend_impl.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Flip to 1 once tests/gpu/run.sh has passed on real hardware (see docs/cuda.md). While it is 0
 * the registry answers the "unverified" query, so --device auto never picks CUDA, and an explicit
 * --device cuda logs one warning when it opens a stream. */
#define SG_CUDA_HARDWARE_VERIFIED 0

struct sg_cuda_device {
    struct sg_device dev;
    struct sg_buffer_type buft;
    int index;     /* CUDA device ordinal */
    char name[32]; /* "cuda:0" */
    char description[320];
    size_t smem_optin; /* shared memory a block may opt in to (bytes) */
    int sm_count;
    struct sg_cuda_mem *mem; /* memory pool and transfer state (cuda_mem.h) */
};

struct sg_cuda_gemm;
struct sg_cuda_blas;

/* Turns a CUDA error into an sg_status with the call that failed and CUDA's own words. */
sg_status sg_cuda_check(cudaError_t err, const char *what);

int sg_cuda_device_count(void);
struct sg_cuda_device *sg_cuda_device_get(int i);
sg_status sg_cuda_devices_init(void);

extern const struct sg_device_i sg_cuda_device_i;
extern const struct sg_buffer_type_i sg_cuda_buffer_type_i;
sg_status sg_cuda_stream_open(struct sg_device *dev, int n_threads, struct sg_stream **out);

/* cuBLAS (cuda_blas.c): loaded on first use; open fails with the reason when it is missing. */
sg_status sg_cuda_blas_open(cudaStream_t stream, struct sg_cuda_blas **out);
void sg_cuda_blas_close(struct sg_cuda_blas *b);
sg_status sg_cuda_blas_gemm(struct sg_cuda_blas *b, const struct sg_cuda_gemm *g, const void *a_ours,
                            const void *b_ours, void *c);

sg_status sg_cuda_blas_sgemm_rowmajor(struct sg_cuda_blas *b, bool trans_a, bool trans_b, int M, int N, int K,
                                      const float *A, int lda, const float *B, int ldb, float *C, int ldc);

/* The "sgemm" proc of the registry (bench-ops' direct reference): cblas-like row-major GEMM on
 * device pointers through the stream's cuBLAS handle, synchronised. */
sg_status sg_cuda_stream_sgemm(struct sg_stream *s, bool trans_a, bool trans_b, int M, int N, int K, const float *A,
                               int lda, const float *B, int ldb, float *C, int ldc);

#ifdef __cplusplus
}
#endif

#endif
