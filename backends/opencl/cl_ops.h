/* The op table of the OpenCL backend and what op implementations share: the encoder that turns
 * a node into kernel launches, kernel-argument helpers and layout helpers.
 *
 *     cl_kernel k;
 *     sg_status st = sg_cl_enc_kernel(e, SG_CL_K_BINARY, &k);
 *     struct sg_cl_args a = sg_cl_args(k);
 *     sg_cl_arg_tensor(&a, dst);
 *     sg_cl_arg_long8(&a, ne);
 *     ...
 *     if (st == SG_OK) st = sg_cl_enc_launch(e, &a, 3, global, local);
 *
 * The encoder runs launches at once on a stream's queue, or records them into a plan that the
 * stream replays; op code does not care which.
 */
#ifndef SG_CL_OPS_H
#define SG_CL_OPS_H

#include "cl_internal.h"
#include "core/ops.h"

/* ---- encoder (cl_encode.c) -------------------------------------------------------------- */

struct sg_cl_launch {
    cl_kernel kernel;
    cl_uint dims;
    size_t offset[3], global[3], local[3];
};

struct sg_cl_plan {
    struct sg_cl_launch *launches;
    int n, cap;
    cl_mem scratch;
};

struct sg_cl_enc {
    struct sg_cl_device *dev;
    cl_command_queue queue;  /* direct mode: launches go here */
    cl_kernel *kernels;      /* direct mode: the stream's kernel objects, by id */
    struct sg_cl_plan *plan; /* record mode (kernels and queue unused) */
    cl_mem scratch;          /* per-node temporary memory, as large as any node asks (sg_cl_op.scratch) */
};

/* A kernel to set arguments on and launch once: the stream's object in direct mode, a new one
 * owned by the plan in record mode. */
sg_status sg_cl_enc_kernel(struct sg_cl_enc *e, enum sg_cl_kernel_id id, cl_kernel *out);

struct sg_cl_args {
    cl_kernel kernel;
    cl_uint n;
    cl_int err;
    cl_uint bad; /* index of the first argument that failed */
};

static inline struct sg_cl_args sg_cl_args(cl_kernel k) { return (struct sg_cl_args){.kernel = k}; }
void sg_cl_arg(struct sg_cl_args *a, size_t size, const void *value);
void sg_cl_arg_tensor(struct sg_cl_args *a, const struct sg_tensor *t); /* cl_mem, ulong offset */
void sg_cl_arg_mem(struct sg_cl_args *a, cl_mem mem, cl_ulong offset);  /* cl_mem, ulong offset */
void sg_cl_arg_i32(struct sg_cl_args *a, int32_t v);
void sg_cl_arg_u32(struct sg_cl_args *a, uint32_t v);
void sg_cl_arg_i64(struct sg_cl_args *a, int64_t v);
void sg_cl_arg_f32(struct sg_cl_args *a, float v);
void sg_cl_arg_long8(struct sg_cl_args *a, const int64_t v[SG_MAX_DIMS]);
void sg_cl_arg_local(struct sg_cl_args *a, size_t bytes);

/* Launches (or records) a kernel with the arguments set through a. Global sizes are rounded up
 * to whole work-groups (kernels bound-check); a launch with any zero size does nothing. Dims 1
 * and 2 are split into launches of at most 65535 work-groups (the CUDA grid limit that NVIDIA's
 * OpenCL inherits), with global offsets the kernels account for. */
sg_status sg_cl_enc_launch(struct sg_cl_enc *e, struct sg_cl_args *a, cl_uint dims, const size_t global[],
                           const size_t local[]);

/* Enqueues one recorded launch. */
sg_status sg_cl_plan_launch(cl_command_queue q, const struct sg_cl_launch *l);
void sg_cl_plan_free(struct sg_cl_plan *plan);

/* ---- op table (cl_ops_table.c) ---------------------------------------------------------- */

struct sg_cl_op {
    enum sg_cl_program_id program; /* the program holding the op's kernels */
    /* Can the kernels run this node (types, layouts, sizes, device limits)? Must be exact. */
    bool (*supports)(const struct sg_cl_device *d, const struct sg_tensor *node);
    /* Optional: bytes of scratch memory the node needs while it runs. */
    size_t (*scratch)(const struct sg_cl_device *d, const struct sg_tensor *node);
    sg_status (*encode)(struct sg_cl_enc *e, const struct sg_tensor *node);
};

extern const struct sg_cl_op sg_cl_ops[SG_OP_COUNT];

bool sg_cl_supports_op(const struct sg_cl_device *d, const struct sg_tensor *node);
size_t sg_cl_node_scratch(const struct sg_cl_device *d, const struct sg_tensor *node);
sg_status sg_cl_encode_node(struct sg_cl_enc *e, const struct sg_tensor *node);

/* ---- layout helpers (cl_layout.c) ------------------------------------------------------- */

#define SG_CL_EW_MAX_OPS 6

/* An elementwise iteration space: the shape ne with each operand's byte strides (0 where the
 * operand is broadcast), size-1 dims dropped and dims that are contiguous in every operand
 * merged, so most tensors become one or two dims. */
struct sg_cl_ew {
    int64_t ne[SG_MAX_DIMS];
    int64_t nb[SG_CL_EW_MAX_OPS][SG_MAX_DIMS];
};

/* Operands are read (or written) at the shape ne; each of their dims is 1 or ne's. */
void sg_cl_ew_init(struct sg_cl_ew *ew, const int64_t ne[SG_MAX_DIMS], const struct sg_tensor *const *ops, int n_ops);
/* Launch sizes for kernels opened with SG_EW_BEGIN (common.cl). */
void sg_cl_ew_range(const struct sg_cl_ew *ew, size_t global[3], size_t local[3]);

/* Strides of t as int64 (nb[] is size_t). */
void sg_cl_strides(const struct sg_tensor *t, int64_t nb[SG_MAX_DIMS]);

/* Largest power of two <= n (n >= 1). */
size_t sg_cl_pow2_floor(size_t n);
/* Smallest power of two >= n. */
size_t sg_cl_pow2_ceil(size_t n);

/* Work-group size for kernels that work with any power of two (reductions, sorts): at most
 * want, within what the device and the compiled kernel allow. */
size_t sg_cl_group(struct sg_cl_device *d, enum sg_cl_kernel_id id, size_t want);

/* Scratch sub-allocations: rounds a size up so the next piece stays aligned. */
static inline size_t sg_cl_align(size_t n) { return (n + 255) & ~(size_t)255; }

/* ---- op families (cl_ops_<family>.c) ----------------------------------------------------- */

bool sg_cl_supports_copy(const struct sg_cl_device *d, const struct sg_tensor *node);
sg_status sg_cl_encode_cont(struct sg_cl_enc *e, const struct sg_tensor *node);
sg_status sg_cl_encode_cpy(struct sg_cl_enc *e, const struct sg_tensor *node);
sg_status sg_cl_encode_repeat(struct sg_cl_enc *e, const struct sg_tensor *node);

sg_status sg_cl_encode_binary(struct sg_cl_enc *e, const struct sg_tensor *node);
sg_status sg_cl_encode_unary(struct sg_cl_enc *e, const struct sg_tensor *node);
sg_status sg_cl_encode_act_back(struct sg_cl_enc *e, const struct sg_tensor *node);
/* Writes value into every element of an f32 tensor (any strides). */
sg_status sg_cl_encode_fill(struct sg_cl_enc *e, const struct sg_tensor *t, float value);
/* Writes value into n uints at (mem, offset). */
sg_status sg_cl_encode_fill_u32(struct sg_cl_enc *e, cl_mem mem, cl_ulong offset, int64_t n, uint32_t value);

sg_status sg_cl_encode_sum_to(struct sg_cl_enc *e, const struct sg_tensor *node);

bool sg_cl_supports_matmul(const struct sg_cl_device *d, const struct sg_tensor *node);
sg_status sg_cl_encode_matmul(struct sg_cl_enc *e, const struct sg_tensor *node);

sg_status sg_cl_encode_layer_norm(struct sg_cl_enc *e, const struct sg_tensor *node);
sg_status sg_cl_encode_layer_norm_back(struct sg_cl_enc *e, const struct sg_tensor *node);
sg_status sg_cl_encode_add_layer_norm(struct sg_cl_enc *e, const struct sg_tensor *node);
sg_status sg_cl_encode_softmax(struct sg_cl_enc *e, const struct sg_tensor *node);

bool sg_cl_supports_attention(const struct sg_cl_device *d, const struct sg_tensor *node);
size_t sg_cl_scratch_attention(const struct sg_cl_device *d, const struct sg_tensor *node);
sg_status sg_cl_encode_attention(struct sg_cl_enc *e, const struct sg_tensor *node);
sg_status sg_cl_encode_attention_back(struct sg_cl_enc *e, const struct sg_tensor *node);

sg_status sg_cl_encode_get_rows(struct sg_cl_enc *e, const struct sg_tensor *node);
sg_status sg_cl_encode_gather(struct sg_cl_enc *e, const struct sg_tensor *node);
sg_status sg_cl_encode_scatter(struct sg_cl_enc *e, const struct sg_tensor *node);

bool sg_cl_supports_top_k(const struct sg_cl_device *d, const struct sg_tensor *node);
size_t sg_cl_scratch_top_k(const struct sg_cl_device *d, const struct sg_tensor *node);
sg_status sg_cl_encode_top_k(struct sg_cl_enc *e, const struct sg_tensor *node);

/* Sorts n_seg segments of seg pairs (seg a power of two) at (mem, koff) / (mem, voff). */
sg_status sg_cl_encode_sort_pairs(struct sg_cl_enc *e, cl_mem mem, cl_ulong koff, cl_ulong voff, size_t seg,
                                  size_t n_seg);

sg_status sg_cl_encode_embed_bag(struct sg_cl_enc *e, const struct sg_tensor *node);
sg_status sg_cl_encode_sparse_dot(struct sg_cl_enc *e, const struct sg_tensor *node);
bool sg_cl_supports_scatter_outer(const struct sg_cl_device *d, const struct sg_tensor *node);
size_t sg_cl_scratch_scatter_outer(const struct sg_cl_device *d, const struct sg_tensor *node);
sg_status sg_cl_encode_scatter_outer(struct sg_cl_enc *e, const struct sg_tensor *node);

sg_status sg_cl_encode_adam_step(struct sg_cl_enc *e, const struct sg_tensor *node);

#endif
