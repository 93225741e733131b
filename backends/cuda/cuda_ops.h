/* The op table of the CUDA backend and what op implementations share: the encoder that turns a
 * node into kernel launches on a stream, the scratch memory a node may ask for, and layout
 * helpers. Op families live in cuda_ops_<family>.cu (kernels and their launches) and are
 * declared here with C linkage; the table itself is cuda_ops_table.c.
 *
 *     sg_status st = sg_cuda_encode_node(&enc, node);   // launches the node's kernels on enc.stream
 *
 * Every kernel reads its operands through byte strides, as the OpenCL and Vulkan kernels do, so
 * views (transposes, slices of a fused QKV) cost no copy.
 */
#ifndef SG_CUDA_OPS_H
#define SG_CUDA_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime_api.h>

#include "core/ops.h"
#include "core/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sg_cuda_device;
struct sg_cuda_blas;

/* ---- encoder ------------------------------------------------------------------------------ */

struct sg_cuda_enc {
    const struct sg_cuda_device *dev;
    cudaStream_t stream;
    struct sg_cuda_blas *blas; /* cuBLAS on this stream, or NULL when libcublas could not be loaded */
    char *scratch;             /* per-node temporary device memory, as large as any node asks */
    size_t scratch_size;
};

/* ---- op table (cuda_ops_table.c) ----------------------------------------------------------- */

struct sg_cuda_op {
    /* Can the kernels run this node (types, layouts, sizes)? Must be exact. */
    bool (*supports)(const struct sg_cuda_device *d, const struct sg_tensor *node);
    /* Optional: bytes of scratch memory the node needs while it runs. */
    size_t (*scratch)(const struct sg_cuda_device *d, const struct sg_tensor *node);
    sg_status (*encode)(struct sg_cuda_enc *e, const struct sg_tensor *node);
};

extern const struct sg_cuda_op sg_cuda_ops[SG_OP_COUNT];

bool sg_cuda_supports_op(const struct sg_cuda_device *d, const struct sg_tensor *node);
size_t sg_cuda_node_scratch(const struct sg_cuda_device *d, const struct sg_tensor *node);
sg_status sg_cuda_encode_node(struct sg_cuda_enc *e, const struct sg_tensor *node);

/* Turns the last launch error (cudaGetLastError) into a status naming the kernel. */
sg_status sg_cuda_launch_check(const char *kernel);

/* ---- layout helpers (cuda_layout.c, pure host code) --------------------------------------- */

#define SG_CUDA_EW_MAX_OPS 6

/* Shapes and strides travel to kernels by value in this struct. */
struct sg_cu_dims {
    int64_t v[SG_MAX_DIMS];
};

/* An elementwise iteration space: the shape ne with each operand's byte strides (0 where the
 * operand is broadcast), size-1 dims dropped and dims that are contiguous in every operand
 * merged, so most tensors become one or two dims. */
struct sg_cuda_ew {
    struct sg_cu_dims ne;
    struct sg_cu_dims nb[SG_CUDA_EW_MAX_OPS];
};

/* Operands are read (or written) at the shape ne; each of their dims is 1 or ne's. */
void sg_cuda_ew_init(struct sg_cuda_ew *ew, const int64_t ne[SG_MAX_DIMS], const struct sg_tensor *const *ops,
                     int n_ops);
struct sg_cu_dims sg_cuda_ne(const struct sg_tensor *t);
struct sg_cu_dims sg_cuda_nb(const struct sg_tensor *t);
size_t sg_cuda_pow2_ceil(size_t n);
/* Scratch sub-allocations: rounds a size up so the next piece stays aligned. */
static inline size_t sg_cuda_align(size_t n) { return (n + 255) & ~(size_t)255; }
/* Blocks for a grid-stride loop over n items with `threads` per block (at least 1 block). */
unsigned sg_cuda_blocks(int64_t n, unsigned threads);

/* ---- GEMM planning (cuda_gemm_plan.c, pure host code, unit-tested on the CPU) -------------- */

/* matmul(a, b) as column-major cuBLAS calls. Our c[n, m] = sum_k a[k, m] b[n, k]; read
 * column-major, C (N x M, ldc) = op(B) (N x K) * op(A) (K x M): cuBLAS's "A" is our b and its
 * "B" is our a. Batch dims 2..5 become one strided batch (the innermost batch dims that merge)
 * times an outer loop over the rest. */
struct sg_cuda_gemm {
    bool bf16;                                  /* A and B bf16 (CUBLAS_COMPUTE_32F), else both f32 */
    bool trans_a, trans_b;                      /* cuBLAS op of its A (our b) and its B (our a) */
    int m, n, k;                                /* cuBLAS sizes: m = N, n = M, k = K */
    int64_t lda, ldb, ldc;                      /* in elements */
    int batch;                                  /* strided batch count */
    int64_t stride_a, stride_b, stride_c;       /* in elements, 0 broadcasts */
    int64_t outer_ne[4];                        /* outer loop over the remaining batch dims */
    int64_t outer_a[4], outer_b[4], outer_c[4]; /* byte strides of the outer loop */
};

/* Fills g for node (MATMUL with operands given here as a, b: both F32, or both BF16 for a bf16
 * GEMM; the caller may pass converted copies). Returns false when the layout does not map onto
 * cuBLAS (overlapping or non-unit strides on both dims, sizes above INT_MAX, mixed types); the
 * caller then uses the plain kernel. */
bool sg_cuda_gemm_plan(const struct sg_tensor *node, const struct sg_tensor *a, const struct sg_tensor *b,
                       struct sg_cuda_gemm *g);

/* ---- op families (cuda_ops_<family>.cu) ---------------------------------------------------- */

bool sg_cuda_supports_copy(const struct sg_cuda_device *d, const struct sg_tensor *node);
sg_status sg_cuda_encode_cont(struct sg_cuda_enc *e, const struct sg_tensor *node);
sg_status sg_cuda_encode_cpy(struct sg_cuda_enc *e, const struct sg_tensor *node);
sg_status sg_cuda_encode_repeat(struct sg_cuda_enc *e, const struct sg_tensor *node);
/* Copies src into dst (same element count, any layouts and float types). */
sg_status sg_cuda_copy_any(struct sg_cuda_enc *e, const struct sg_tensor *dst, const struct sg_tensor *src);

sg_status sg_cuda_encode_binary(struct sg_cuda_enc *e, const struct sg_tensor *node);
sg_status sg_cuda_encode_unary(struct sg_cuda_enc *e, const struct sg_tensor *node);
sg_status sg_cuda_encode_act_back(struct sg_cuda_enc *e, const struct sg_tensor *node);
/* Writes value into every element of an f32 tensor (any strides). */
sg_status sg_cuda_encode_fill(struct sg_cuda_enc *e, const struct sg_tensor *t, float value);

sg_status sg_cuda_encode_sum_to(struct sg_cuda_enc *e, const struct sg_tensor *node);

bool sg_cuda_supports_matmul(const struct sg_cuda_device *d, const struct sg_tensor *node);
size_t sg_cuda_scratch_matmul(const struct sg_cuda_device *d, const struct sg_tensor *node);
sg_status sg_cuda_encode_matmul(struct sg_cuda_enc *e, const struct sg_tensor *node);
/* LINEAR (cuda_ops_epilogue.cu): MATMUL's product, then bias + activation in one pass */
bool sg_cuda_supports_linear(const struct sg_cuda_device *d, const struct sg_tensor *node);
sg_status sg_cuda_encode_linear(struct sg_cuda_enc *e, const struct sg_tensor *node);

sg_status sg_cuda_encode_layer_norm(struct sg_cuda_enc *e, const struct sg_tensor *node);
sg_status sg_cuda_encode_layer_norm_back(struct sg_cuda_enc *e, const struct sg_tensor *node);
sg_status sg_cuda_encode_add_layer_norm(struct sg_cuda_enc *e, const struct sg_tensor *node);
sg_status sg_cuda_encode_softmax(struct sg_cuda_enc *e, const struct sg_tensor *node);

bool sg_cuda_supports_attention(const struct sg_cuda_device *d, const struct sg_tensor *node);
size_t sg_cuda_scratch_attention(const struct sg_cuda_device *d, const struct sg_tensor *node);
sg_status sg_cuda_encode_attention(struct sg_cuda_enc *e, const struct sg_tensor *node);
sg_status sg_cuda_encode_attention_back(struct sg_cuda_enc *e, const struct sg_tensor *node);

sg_status sg_cuda_encode_get_rows(struct sg_cuda_enc *e, const struct sg_tensor *node);
sg_status sg_cuda_encode_gather(struct sg_cuda_enc *e, const struct sg_tensor *node);
sg_status sg_cuda_encode_scatter(struct sg_cuda_enc *e, const struct sg_tensor *node);

bool sg_cuda_supports_top_k(const struct sg_cuda_device *d, const struct sg_tensor *node);
size_t sg_cuda_scratch_top_k(const struct sg_cuda_device *d, const struct sg_tensor *node);
sg_status sg_cuda_encode_top_k(struct sg_cuda_enc *e, const struct sg_tensor *node);
/* Sorts n_seg segments of seg (key, value) pairs (seg a power of two), ascending by key then
 * value, in place. */
sg_status sg_cuda_sort_pairs(struct sg_cuda_enc *e, uint32_t *keys, uint32_t *vals, size_t seg, size_t n_seg);

sg_status sg_cuda_encode_embed_bag(struct sg_cuda_enc *e, const struct sg_tensor *node);
sg_status sg_cuda_encode_sparse_dot(struct sg_cuda_enc *e, const struct sg_tensor *node);
bool sg_cuda_supports_scatter_outer(const struct sg_cuda_device *d, const struct sg_tensor *node);
size_t sg_cuda_scratch_scatter_outer(const struct sg_cuda_device *d, const struct sg_tensor *node);
sg_status sg_cuda_encode_scatter_outer(struct sg_cuda_enc *e, const struct sg_tensor *node);

sg_status sg_cuda_encode_adam_step(struct sg_cuda_enc *e, const struct sg_tensor *node);

#ifdef __cplusplus
}
#endif

#endif
