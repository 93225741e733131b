/* cuBLAS, loaded with dlopen the first time a stream wants it. The plugin itself links only the
 * static CUDA runtime, so on a machine without libcublas it still loads, lists the device and
 * runs matmul on its own (slower) kernel, saying once why. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cublas_v2.h>

#include "core/log.h"
#include "cuda_internal.h"
#include "cuda_ops.h"

struct sg_cuda_blas {
    cublasHandle_t handle;
};

static struct {
    void *lib;
    char error[256];
    __typeof__(&cublasCreate_v2) create;
    __typeof__(&cublasDestroy_v2) destroy;
    __typeof__(&cublasSetStream_v2) set_stream;
    __typeof__(&cublasSetMathMode) set_math_mode;
    __typeof__(&cublasSgemmStridedBatched) sgemm_strided_batched;
    __typeof__(&cublasGemmStridedBatchedEx) gemm_strided_batched_ex;
    __typeof__(&cublasGetStatusString) status_string;
} blas;

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

#define STR2(x) #x
#define STR(x)  STR2(x)

static void *sym(const char *name) {
    void *p = dlsym(blas.lib, name);
    if (!p && !blas.error[0]) snprintf(blas.error, sizeof blas.error, "libcublas has no symbol %s", name);
    return p;
}

static void blas_load(void) {
    /* the soname matching the headers we were built with, then whatever libcublas.so is */
    const char *names[] = {"libcublas.so." STR(CUBLAS_VER_MAJOR), "libcublas.so"};
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !blas.lib; i++)
        blas.lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!blas.lib) {
        snprintf(blas.error, sizeof blas.error, "libcublas.so.%d not found (%s)", CUBLAS_VER_MAJOR, dlerror());
        return;
    }
    blas.create                = (__typeof__(blas.create))sym("cublasCreate_v2");
    blas.destroy               = (__typeof__(blas.destroy))sym("cublasDestroy_v2");
    blas.set_stream            = (__typeof__(blas.set_stream))sym("cublasSetStream_v2");
    blas.set_math_mode         = (__typeof__(blas.set_math_mode))sym("cublasSetMathMode");
    blas.sgemm_strided_batched = (__typeof__(blas.sgemm_strided_batched))sym("cublasSgemmStridedBatched");
    blas.gemm_strided_batched_ex =
        (__typeof__(blas.gemm_strided_batched_ex))sym("cublasGemmStridedBatchedEx"); /* bf16 GEMMs */
    blas.status_string = (__typeof__(blas.status_string))sym("cublasGetStatusString");
    if (blas.error[0]) {
        dlclose(blas.lib);
        blas.lib = NULL;
    }
}

static sg_status blas_check(cublasStatus_t s, const char *what) {
    if (s == CUBLAS_STATUS_SUCCESS) return SG_OK;
    return sg_error(SG_ERR_BACKEND, "cuBLAS: %s failed: %s (%d)", what,
                    blas.status_string ? blas.status_string(s) : "error", (int)s);
}

sg_status sg_cuda_blas_open(cudaStream_t stream, struct sg_cuda_blas **out) {
    *out = NULL;
    pthread_once(&blas_once, blas_load);
    if (!blas.lib) return sg_error(SG_ERR_NOT_FOUND, "%s", blas.error);
    struct sg_cuda_blas *b = calloc(1, sizeof *b);
    if (!b) return sg_error(SG_ERR_NO_MEMORY, "CUDA: out of host memory");
    sg_status st = blas_check(blas.create(&b->handle), "cublasCreate");
    if (st == SG_OK) st = blas_check(blas.set_stream(b->handle, stream), "cublasSetStream");
    /* fp32 by default, like every other backend; SAEG_CUDA_TF32=1 trades precision for speed */
    const char *tf32 = getenv("SAEG_CUDA_TF32");
    if (st == SG_OK && tf32 && strcmp(tf32, "1") == 0)
        st = blas_check(blas.set_math_mode(b->handle, CUBLAS_TF32_TENSOR_OP_MATH), "cublasSetMathMode");
    if (st != SG_OK) {
        if (b->handle) blas.destroy(b->handle);
        free(b);
        return st;
    }
    *out = b;
    return SG_OK;
}

void sg_cuda_blas_close(struct sg_cuda_blas *b) {
    if (!b) return;
    blas.destroy(b->handle);
    free(b);
}

/* One strided-batched call: fp32 (tf32 when the handle's math mode allows it), or bf16 A and B
 * with fp32 accumulation and an f32 C (CUBLAS_COMPUTE_32F: the semantics of sg_matmul with a
 * BF16 operand; the math mode does not apply to it). */
static cublasStatus_t gemm_call(struct sg_cuda_blas *b, const struct sg_cuda_gemm *g, const char *A, const char *B,
                                char *C) {
    const float one = 1.0f, zero = 0.0f;
    const cublasOperation_t ta = g->trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t tb = g->trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    if (g->bf16)
        return blas.gemm_strided_batched_ex(b->handle, ta, tb, g->m, g->n, g->k, &one, A, CUDA_R_16BF, (int)g->lda,
                                            g->stride_a, B, CUDA_R_16BF, (int)g->ldb, g->stride_b, &zero, C, CUDA_R_32F,
                                            (int)g->ldc, g->stride_c, g->batch, CUBLAS_COMPUTE_32F,
                                            CUBLAS_GEMM_DEFAULT);
    return blas.sgemm_strided_batched(b->handle, ta, tb, g->m, g->n, g->k, &one, (const float *)A, (int)g->lda,
                                      g->stride_a, (const float *)B, (int)g->ldb, g->stride_b, &zero, (float *)C,
                                      (int)g->ldc, g->stride_c, g->batch);
}

/* C = op(A) op(B) for every batch: A is our b, B our a (see struct sg_cuda_gemm). */
sg_status sg_cuda_blas_gemm(struct sg_cuda_blas *b, const struct sg_cuda_gemm *g, const void *a_ours,
                            const void *b_ours, void *c) {
    for (int64_t i3 = 0; i3 < g->outer_ne[2]; i3++)
        for (int64_t i2 = 0; i2 < g->outer_ne[1]; i2++)
            for (int64_t i1 = 0; i1 < g->outer_ne[0]; i1++) {
                int64_t oa = i1 * g->outer_a[0] + i2 * g->outer_a[1] + i3 * g->outer_a[2];
                int64_t ob = i1 * g->outer_b[0] + i2 * g->outer_b[1] + i3 * g->outer_b[2];
                int64_t oc = i1 * g->outer_c[0] + i2 * g->outer_c[1] + i3 * g->outer_c[2];
                cublasStatus_t s =
                    gemm_call(b, g, (const char *)b_ours + oa, (const char *)a_ours + ob, (char *)c + oc);
                sg_status st = blas_check(s, g->bf16 ? "cublasGemmStridedBatchedEx" : "cublasSgemmStridedBatched");
                if (st != SG_OK) return st;
            }
    return SG_OK;
}

/* Row-major C (M x N) = op(A) op(B), as cblas_sgemm: for benchmarks, one call with nothing of
 * ours in between. Column-major that is C^T = op(B)^T op(A)^T, so the operands swap. */
sg_status sg_cuda_blas_sgemm_rowmajor(struct sg_cuda_blas *b, bool trans_a, bool trans_b, int M, int N, int K,
                                      const float *A, int lda, const float *B, int ldb, float *C, int ldc) {
    const float one = 1.0f, zero = 0.0f;
    return blas_check(blas.sgemm_strided_batched(b->handle, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                                 trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &one, B, ldb, 0, A, lda,
                                                 0, &zero, C, ldc, 0, 1),
                      "cublasSgemmStridedBatched");
}
