/* Internal declarations of the OpenCL backend plugin (libsaeg-opencl.so).
 *
 * Objects: one sg_cl_device per usable OpenCL device over all platforms (cl_platform.c), each
 * with a lazily created context, a queue for buffer transfers (cl_memory.c) and lazily built
 * programs (cl_program.c, cached on disk by cl_cache.c). Streams (cl_stream.c) own an in-order
 * queue and run nodes through the op table (cl_ops_*.c) via an encoder (cl_encode.c) that either
 * enqueues launches at once or records them into a replayable plan.
 */
#ifndef SG_CL_INTERNAL_H
#define SG_CL_INTERNAL_H

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <pthread.h>
#include <stdbool.h>

#include "core/backend_impl.h"

/* ---- errors (cl_error.c) ---------------------------------------------------------------- */

/* "CL_OUT_OF_RESOURCES" for an error code; "CL error -9999" style for unknown codes. */
const char *sg_cl_error_name(cl_int err);
/* SG_OK, or SG_ERR_BACKEND with "OpenCL: <what> failed: <error name>". */
sg_status sg_cl_check(cl_int err, const char *what);

/* ---- programs and kernels (cl_program.c) ------------------------------------------------ */

/* Kernels are grouped into a few programs so PoCL and other slow compilers build few of them. */
enum sg_cl_program_id {
    SG_CL_PROG_BASIC = 0, /* copies, elementwise, reductions, optimizer */
    SG_CL_PROG_MATMUL,    /* tiled and simple matmul, per A type */
    SG_CL_PROG_NN,        /* layer norm, softmax, attention */
    SG_CL_PROG_SPARSE,    /* indexing, top-k, sorting, sparse SAE ops */
    SG_CL_PROG_COUNT
};

enum sg_cl_kernel_id {
    SG_CL_K_COPY_EW = 0,
    SG_CL_K_COPY_FLAT,
    SG_CL_K_BINARY,
    SG_CL_K_UNARY,
    SG_CL_K_ACT_BACK,
    SG_CL_K_SUM_TO_ITEM,
    SG_CL_K_SUM_TO_GROUP,
    SG_CL_K_ADAM,
    SG_CL_K_FILL_U32,

    SG_CL_K_MM_SIMPLE,
    SG_CL_K_MM_SMALL_F32,
    SG_CL_K_MM_SMALL_F16,
    SG_CL_K_MM_SMALL_BF16,
    SG_CL_K_MM_LARGE_F32,
    SG_CL_K_MM_LARGE_F16,
    SG_CL_K_MM_LARGE_BF16,

    SG_CL_K_LAYER_NORM,
    SG_CL_K_LAYER_NORM_BACK,
    SG_CL_K_ADD_LAYER_NORM,
    SG_CL_K_SOFTMAX,
    SG_CL_K_ATTN_FWD,
    SG_CL_K_ATTN_BWD_DQ,
    SG_CL_K_ATTN_BWD_DKDV,

    SG_CL_K_GET_ROWS,
    SG_CL_K_GATHER,
    SG_CL_K_SCATTER,
    SG_CL_K_TOPK_SELECT,
    SG_CL_K_TOPK_WRITE,
    SG_CL_K_SORT_LOCAL,
    SG_CL_K_SORT_STEP,
    SG_CL_K_SORT_MERGE,
    SG_CL_K_EMBED_BAG,
    SG_CL_K_SPARSE_DOT,
    SG_CL_K_SO_KEYS,
    SG_CL_K_SO_BOUNDS,
    SG_CL_K_SO_ACCUM,

    SG_CL_K_COUNT
};

enum sg_cl_program_id sg_cl_kernel_program(enum sg_cl_kernel_id id);
const char *sg_cl_kernel_name(enum sg_cl_kernel_id id);

/* ---- devices (cl_platform.c, cl_device.c) ----------------------------------------------- */

struct sg_cl_device {
    struct sg_device dev;
    struct sg_buffer_type buft;

    cl_platform_id platform;
    cl_device_id id;
    int index; /* global index over all platforms: "opencl:<index>" */
    char name[32];
    char description[512];
    char device_name[256]; /* CL_DEVICE_NAME */
    char driver_version[128];
    char platform_version[256];
    char device_version[128];
    cl_device_type cl_type;

    /* capabilities */
    int cl_c_major, cl_c_minor; /* OpenCL C version */
    bool has_fp16;              /* cl_khr_fp16 (reported in the log; kernels convert by bits) */
    bool has_subgroups;         /* cl_khr_subgroups or cl_intel_subgroups */
    cl_ulong local_mem_size;
    size_t max_wg_size;
    cl_ulong max_alloc_size;
    cl_ulong global_mem_size;
    cl_uint compute_units;
    cl_uint base_align; /* bytes */

    /* state created on first use */
    pthread_mutex_t lock;
    cl_context context;
    cl_command_queue xfer_queue; /* buffer transfers; blocking calls only */
    cl_program programs[SG_CL_PROG_COUNT];
    char *program_errors[SG_CL_PROG_COUNT]; /* why a program failed to build (kept) */
    size_t kernel_groups[SG_CL_K_COUNT];    /* CL_KERNEL_WORK_GROUP_SIZE, 0 until known */
    size_t allocated;                       /* bytes in live buffers, for memory() */
};

int sg_cl_device_count(void);
struct sg_cl_device *sg_cl_device_get(int i);
/* Finds every usable device on every platform; fails with the reason when there is none. */
sg_status sg_cl_devices_init(struct sg_backend_reg *reg);

/* Creates the context and transfer queue on first use (thread-safe). */
sg_status sg_cl_device_open(struct sg_cl_device *d);
/* The built program (building or loading it from the disk cache on first use). A program that
 * failed to build fails again at once with the same message. */
sg_status sg_cl_program_get(struct sg_cl_device *d, enum sg_cl_program_id id, cl_program *out);
/* Whether the program builds on this device; a failure is logged once as a warning. */
bool sg_cl_program_usable(struct sg_cl_device *d, enum sg_cl_program_id prog);
/* The most work-items a group of this kernel may have on this device (0 on failure). */
size_t sg_cl_kernel_group_limit(struct sg_cl_device *d, enum sg_cl_kernel_id id);
/* A new kernel object (the caller releases it). */
sg_status sg_cl_kernel_create(struct sg_cl_device *d, enum sg_cl_kernel_id id, cl_kernel *out);

extern const struct sg_device_i sg_cl_device_i;

static inline struct sg_cl_device *sg_cl_dev(const struct sg_device *dev) {
    return (struct sg_cl_device *)dev->context;
}

/* ---- program binary cache (cl_cache.c) -------------------------------------------------- */

/* Key: SHA-256 over the sources, build options, device name, driver and platform version;
 * false when hashing failed (then the cache is not used). */
bool sg_cl_cache_key(const struct sg_cl_device *d, const char *const *srcs, int n_srcs, const char *options,
                     unsigned char key[32]);
/* A cached binary for key (malloc'd into *bin), or false when there is none or it is corrupt. */
bool sg_cl_cache_load(const unsigned char key[32], unsigned char **bin, size_t *size);
/* Stores a binary atomically (temp file + rename); failures are logged, never fatal. */
void sg_cl_cache_store(const unsigned char key[32], const unsigned char *bin, size_t size);

/* ---- memory (cl_memory.c) --------------------------------------------------------------- */

extern const struct sg_buffer_type_i sg_cl_buffer_type_i;

/* The cl_mem holding t and t's byte offset in it. */
cl_mem sg_cl_tensor_mem(const struct sg_tensor *t);
cl_ulong sg_cl_tensor_offset(const struct sg_tensor *t);

/* ---- streams (cl_stream.c) -------------------------------------------------------------- */

sg_status sg_cl_stream_open(struct sg_device *dev, int n_threads, struct sg_stream **out);

#endif
