/* Shared state of the Vulkan backend: devices, buffers, pipelines, recorders and plans.
 *
 * registry "vulkan" (vk_plugin.c, vk_instance.c)
 *   -> sg_vk_device per physical device (vk_device.c; the VkDevice is created on first use)
 *      -> buffer type / buffers (vk_memory.c): one VkBuffer per sg_buffer, never larger than a
 *         descriptor can address, so every tensor is reachable through one binding
 *      -> streams (vk_stream.c): node lists are recorded (vk_dispatch.c, vk_ops*.c) into a
 *         command buffer once per plan and replayed
 * Tensor data pointers are SG_VK_FAKE_BASE + byte offset inside the tensor's VkBuffer.
 *
 * Environment (for debugging and for testing the fallbacks on any device):
 *   SAEG_VK_VALIDATE=1           load VK_LAYER_KHRONOS_validation when it is installed
 *   SAEG_VK_STAGING=1            device-local memory and staging copies even where the device
 *                                could map host memory (lavapipe, integrated GPUs)
 *   SAEG_VK_DISABLE_STORAGE16=1  16-bit stores through 32-bit atomics instead of 16-bit storage
 *   SAEG_VK_DISABLE_SUBGROUP=1   shared-memory reductions instead of subgroup arithmetic
 *   SAEG_VK_PIPELINE_CACHE=0     neither read nor write the on-disk pipeline cache
 */
#ifndef SG_VK_INTERNAL_H
#define SG_VK_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "core/backend_impl.h"
#include "core/log.h"
#include "core/ops.h"
#include "vk_shaders.h"

#define SG_VK_MAX_BINDINGS 8
#define SG_VK_PUSH_SIZE    128 /* the minimum every device guarantees */
#define SG_VK_MAX_SPEC     12
/* Tensor data pointers are this base plus the byte offset in the buffer: never NULL, and
 * generic pointer arithmetic (views, the allocator) works unchanged. */
#define SG_VK_FAKE_BASE ((char *)0x1000)

/* ---- instance and devices ---------------------------------------------------------------- */

/* What the device offers beyond baseline Vulkan 1.2, each used only when reported. */
struct sg_vk_caps {
    bool storage16;      /* storageBuffer16BitAccess: 16-bit stores without atomics */
    bool subgroup_arith; /* subgroup arithmetic in compute shaders: subgroupAdd reductions */
    uint32_t subgroup_size;
    bool memory_budget;  /* VK_EXT_memory_budget */
    uint32_t max_shared; /* maxComputeSharedMemorySize */
    uint32_t max_wg_invocations;
    uint32_t max_groups[3];
};

struct sg_vk_pipeline;

struct sg_vk_device {
    struct sg_device base; /* handed out to the core; context = this */
    int index;
    char name[32];         /* "vulkan:0" */
    char description[800]; /* name + driver name + driver info */
    VkPhysicalDevice phys;
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties mem_props;
    struct sg_vk_caps caps;
    uint32_t queue_family;
    size_t max_buffer; /* bytes in one buffer (and one binding) */
    bool direct;       /* device memory is host-mapped (UMA) */
    uint32_t mem_type_device;
    uint32_t mem_type_staging;

    /* Created on first use (sg_vk_device_open). The lock guards everything below, the queue
     * (vkQueueSubmit needs external synchronisation) and the transfer resources. */
    pthread_mutex_t lock;
    bool opened;
    sg_status open_status;
    char open_error[512];
    VkDevice dev;
    VkQueue queue;
    VkCommandPool xfer_pool;
    VkCommandBuffer xfer_cb;
    VkFence xfer_fence;
    VkBuffer staging;
    VkDeviceMemory staging_mem;
    void *staging_map;
    size_t staging_size;
    size_t allocated; /* bytes of device memory we hold */

    VkPipelineCache cache;
    bool cache_dirty;
    VkDescriptorSetLayout dsl[SG_VK_MAX_BINDINGS + 1]; /* by binding count */
    VkPipelineLayout layout[SG_VK_MAX_BINDINGS + 1];
    struct sg_vk_pipeline *pipelines; /* created lazily, kept for the process */
    int n_pipelines;

    struct sg_buffer_type buft;
};

static inline struct sg_vk_device *sg_vk_dev(const struct sg_device *d) { return d->context; }

/* vk_instance.c: the process-wide instance and the devices found (once). */
sg_status sg_vk_instance_init(void);
int sg_vk_device_count(void);
struct sg_vk_device *sg_vk_device_get(int i);

/* vk_device.c */
sg_status sg_vk_device_probe(struct sg_vk_device *d, VkPhysicalDevice phys, int index);
sg_status sg_vk_device_open(struct sg_vk_device *d); /* creates the VkDevice on first call */
extern const struct sg_device_i sg_vk_device_i;

/* ---- memory (vk_memory.c) ---------------------------------------------------------------- */

struct sg_vk_mem {
    VkBuffer buf;
    VkDeviceMemory mem;
    void *map;   /* host address when the memory is mapped (direct devices) */
    size_t size; /* bytes of the buffer */
    size_t held; /* bytes of device memory behind it */
};

/* Device memory for tensors and kernel scratch (size <= d->max_buffer). */
sg_status sg_vk_mem_alloc(struct sg_vk_device *d, size_t size, struct sg_vk_mem *out);
void sg_vk_mem_free(struct sg_vk_device *d, struct sg_vk_mem *m);
void sg_vk_buffer_type_init(struct sg_vk_device *d);
/* The VkBuffer holding t, or VK_NULL_HANDLE when t is not in a buffer of this backend. */
VkBuffer sg_vk_tensor_buffer(const struct sg_tensor *t);
size_t sg_vk_tensor_offset(const struct sg_tensor *t); /* bytes from the buffer start */
/* Waits until the queue has no work in flight (before the host touches mapped memory). */
sg_status sg_vk_queue_idle(struct sg_vk_device *d);

/* ---- pipelines (vk_pipeline.c, vk_pipeline_cache.c) --------------------------------------- */

struct sg_vk_pipeline_key {
    enum sg_vk_shader shader;
    int n_spec;
    uint32_t spec[SG_VK_MAX_SPEC]; /* constant_id i = spec[i] */
};

struct sg_vk_pipeline {
    struct sg_vk_pipeline_key key;
    int n_bindings;
    VkPipeline pipeline;
    VkPipelineLayout layout;
};

/* Finds or creates (and caches) the pipeline for key with n_bindings storage buffers. */
sg_status sg_vk_pipeline_get(struct sg_vk_device *d, const struct sg_vk_pipeline_key *key, int n_bindings,
                             const struct sg_vk_pipeline **out);
sg_status sg_vk_layouts_create(struct sg_vk_device *d);
void sg_vk_pipeline_cache_load(struct sg_vk_device *d);
void sg_vk_pipeline_cache_save(struct sg_vk_device *d); /* caller holds d->lock */

/* ---- recording (vk_dispatch.c) ----------------------------------------------------------- */

/* Kernel scratch of a plan, one buffer per slot, sized for the largest user before recording. */
enum sg_vk_scratch_slot {
    SG_VK_SCRATCH_ATTN_OUT,   /* attention_back: the forward output */
    SG_VK_SCRATCH_ATTN_LSE,   /* attention_back: log-sum-exp per query */
    SG_VK_SCRATCH_ATTN_DELTA, /* attention_back: dout . out per query */
    SG_VK_SCRATCH_SO_COUNTS,  /* scatter_outer: row x block counters */
    SG_VK_SCRATCH_SO_PAIRS,   /* scatter_outer: pairs sorted by row */
    SG_VK_MAX_SCRATCH
};

/* What a kernel binding refers to: a whole buffer, with the bytes it touches for hazards. */
struct sg_vk_bind {
    VkBuffer buf;
    size_t lo, hi;
    bool write;
};

/* One command buffer being recorded: descriptor sets come from its own pools; ranges written
 * or read since the last barrier decide where the next barrier goes. */
struct sg_vk_rec {
    struct sg_vk_device *dev;
    VkCommandBuffer cb;
    VkDescriptorPool *pools;
    int n_pools;
    uint32_t sets_left;         /* in pools[n_pools - 1] */
    struct sg_vk_bind *pending; /* accesses since the last barrier */
    int n_pending, cap_pending;
    struct sg_vk_mem *scratch; /* SG_VK_MAX_SCRATCH slots, sized before recording */
    int n_dispatches, n_barriers;
};

struct sg_vk_bind sg_vk_bind_tensor(const struct sg_tensor *t, bool write);
struct sg_vk_bind sg_vk_bind_scratch(const struct sg_vk_rec *r, int slot, size_t lo, size_t hi, bool write);

/* Records one dispatch of the pipeline `key` with these bindings and push constants; inserts a
 * barrier first when a binding touches what an unsynchronised earlier dispatch wrote (or writes
 * what one read). Group counts must respect the device limits (sg_vk_groups helps). */
sg_status sg_vk_dispatch(struct sg_vk_rec *r, const struct sg_vk_pipeline_key *key, const struct sg_vk_bind *binds,
                         int n_binds, const void *push, size_t push_size, uint32_t gx, uint32_t gy, uint32_t gz);
void sg_vk_rec_release(struct sg_vk_rec *r); /* descriptor pools and bookkeeping */

/* ---- ops (vk_ops*.c) --------------------------------------------------------------------- */

/* Per op: whether the device can run the node as it is, the scratch it needs (bytes per slot,
 * optional), and how to record it. */
struct sg_vk_op {
    bool (*supports)(const struct sg_vk_device *d, const struct sg_tensor *node);
    void (*scratch)(const struct sg_vk_device *d, const struct sg_tensor *node, size_t sizes[SG_VK_MAX_SCRATCH]);
    sg_status (*record)(struct sg_vk_rec *r, const struct sg_tensor *node);
};

extern const struct sg_vk_op sg_vk_ops[SG_OP_COUNT];
bool sg_vk_supports_op(const struct sg_vk_device *d, const struct sg_tensor *node);

/* Families, each in its own file; table in vk_ops.c. */
bool sg_vk_copy_supports(const struct sg_vk_device *d, const struct sg_tensor *node);
sg_status sg_vk_copy_record(struct sg_vk_rec *r, const struct sg_tensor *node);
bool sg_vk_binary_supports(const struct sg_vk_device *d, const struct sg_tensor *node);
sg_status sg_vk_binary_record(struct sg_vk_rec *r, const struct sg_tensor *node);
bool sg_vk_unary_supports(const struct sg_vk_device *d, const struct sg_tensor *node);
sg_status sg_vk_unary_record(struct sg_vk_rec *r, const struct sg_tensor *node);
bool sg_vk_act_back_supports(const struct sg_vk_device *d, const struct sg_tensor *node);
sg_status sg_vk_act_back_record(struct sg_vk_rec *r, const struct sg_tensor *node);
bool sg_vk_sum_to_supports(const struct sg_vk_device *d, const struct sg_tensor *node);
sg_status sg_vk_sum_to_record(struct sg_vk_rec *r, const struct sg_tensor *node);
bool sg_vk_matmul_supports(const struct sg_vk_device *d, const struct sg_tensor *node);
sg_status sg_vk_matmul_record(struct sg_vk_rec *r, const struct sg_tensor *node);
bool sg_vk_norm_supports(const struct sg_vk_device *d, const struct sg_tensor *node);
sg_status sg_vk_layer_norm_record(struct sg_vk_rec *r, const struct sg_tensor *node);
sg_status sg_vk_layer_norm_back_record(struct sg_vk_rec *r, const struct sg_tensor *node);
sg_status sg_vk_add_layer_norm_record(struct sg_vk_rec *r, const struct sg_tensor *node);
sg_status sg_vk_softmax_record(struct sg_vk_rec *r, const struct sg_tensor *node);
bool sg_vk_attention_supports(const struct sg_vk_device *d, const struct sg_tensor *node);
sg_status sg_vk_attention_record(struct sg_vk_rec *r, const struct sg_tensor *node);
void sg_vk_attention_back_scratch(const struct sg_vk_device *d, const struct sg_tensor *node,
                                  size_t sizes[SG_VK_MAX_SCRATCH]);
sg_status sg_vk_attention_back_record(struct sg_vk_rec *r, const struct sg_tensor *node);
bool sg_vk_index_supports(const struct sg_vk_device *d, const struct sg_tensor *node);
sg_status sg_vk_get_rows_record(struct sg_vk_rec *r, const struct sg_tensor *node);
sg_status sg_vk_top_k_record(struct sg_vk_rec *r, const struct sg_tensor *node);
sg_status sg_vk_gather_record(struct sg_vk_rec *r, const struct sg_tensor *node);
sg_status sg_vk_scatter_record(struct sg_vk_rec *r, const struct sg_tensor *node);
bool sg_vk_sparse_supports(const struct sg_vk_device *d, const struct sg_tensor *node);
sg_status sg_vk_embed_bag_record(struct sg_vk_rec *r, const struct sg_tensor *node);
sg_status sg_vk_sparse_dot_record(struct sg_vk_rec *r, const struct sg_tensor *node);
void sg_vk_scatter_outer_scratch(const struct sg_vk_device *d, const struct sg_tensor *node,
                                 size_t sizes[SG_VK_MAX_SCRATCH]);
sg_status sg_vk_scatter_outer_record(struct sg_vk_rec *r, const struct sg_tensor *node);
bool sg_vk_adam_supports(const struct sg_vk_device *d, const struct sg_tensor *node);
sg_status sg_vk_adam_record(struct sg_vk_rec *r, const struct sg_tensor *node);

/* Fills `words` 32-bit words of a binding with `value` (zeroing outputs and scratch). */
sg_status sg_vk_fill(struct sg_vk_rec *r, struct sg_vk_bind b, uint32_t first_word, uint32_t words, uint32_t value);

/* ---- streams (vk_stream.c) --------------------------------------------------------------- */

sg_status sg_vk_stream_open(struct sg_device *dev, int n_threads, struct sg_stream **out);

/* ---- helpers (vk_util.c) ----------------------------------------------------------------- */

const char *sg_vk_result_str(VkResult r);
/* sg_error with "<device>: <what> failed: VK_ERROR_..." */
sg_status sg_vk_error(const struct sg_vk_device *d, VkResult r, const char *what);

/* Element strides and offsets of a tensor as kernels see them (units of its element type). */
bool sg_vk_layout_ok(const struct sg_tensor *t);         /* strides and offset divisible by the type size */
uint32_t sg_vk_elem_offset(const struct sg_tensor *t);   /* element offset in its buffer */
uint32_t sg_vk_stride(const struct sg_tensor *t, int d); /* nb[d] / type size */
bool sg_vk_fits_u32(const struct sg_tensor *t);          /* element counts and spans fit 32-bit indices */

/* Group counts for n items of `per_group` each: x up to the device limit, the kernel loops over
 * the rest (grid-stride). */
/* sg_collapse_dims on the shaders' uint32 shapes and element strides (n_ops operands, at most
 * SG_VK_MAX_COLLAPSE_OPS). Returns the rank left, or 0 when the walk is dense (one dim of stride 1
 * for all): offset = flat index. */
#define SG_VK_MAX_COLLAPSE_OPS 4
int sg_vk_collapse(uint32_t ne[SG_MAX_DIMS], uint32_t st[][SG_MAX_DIMS], int n_ops);
void sg_vk_shape(const struct sg_tensor *t, uint32_t ne[SG_MAX_DIMS], uint32_t st[SG_MAX_DIMS]);
/* Strides of t read broadcast to like's shape: 0 in dims where t has 1. */
void sg_vk_bcast_strides(const struct sg_tensor *t, const struct sg_tensor *like, uint32_t st[SG_MAX_DIMS]);

uint32_t sg_vk_groups(const struct sg_vk_device *d, uint64_t n, uint32_t per_group);
int sg_vk_env_flag(const char *name); /* 1 when the variable is set to a non-zero value */

#endif
