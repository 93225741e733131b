/* Backends: where tensors live and graphs run.
 *
 * registry (one per backend: cpu, cuda, vulkan, opencl)
 *   -> device (a physical device)      -> stream (a queue that runs graphs)
 *                                      -> buffer type -> buffer (memory on that device)
 *
 * The CPU backend is built in; GPU backends are plugins (libsaeg-<name>.so) loaded at run time
 * from next to the executable or from SAEG_BACKEND_PATH. A plugin that is missing, or whose
 * driver is absent, is listed as unavailable with the reason and never stops the program.
 *
 *     sg_backends_load();
 *     struct sg_device *dev;
 *     if (sg_device_select("auto", &dev) != SG_OK) ...;   // cuda > vulkan > opencl > cpu
 *     struct sg_stream *s;
 *     sg_device_open_stream(dev, &s);
 */
#ifndef SG_BACKEND_H
#define SG_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "core/context.h"
#include "core/status.h"
#include "core/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sg_backend_reg;
struct sg_device;
struct sg_stream;
struct sg_buffer_type;
struct sg_buffer;
struct sg_graph;

enum sg_device_type {
    SG_DEVICE_CPU = 0,
    SG_DEVICE_GPU,   /* discrete GPU */
    SG_DEVICE_IGPU,  /* integrated GPU (shares host memory) */
    SG_DEVICE_OTHER, /* e.g. a CPU exposed through Vulkan (lavapipe) or OpenCL (PoCL) */
};

/* ---- registry --------------------------------------------------------------------------- */

/* Registers the CPU backend and loads every plugin it can find; later calls do nothing. */
sg_status sg_backends_load(void);

/* What happened to each backend the program knows (cpu, cuda, vulkan, opencl, and any extra
 * plugin named in SAEG_BACKEND_PATH), for `saeg devices`. */
struct sg_backend_status {
    const char *name;                 /* "vulkan" */
    const struct sg_backend_reg *reg; /* NULL when unavailable */
    char path[512];                   /* plugin file tried ("" for built-in) */
    char reason[512];                 /* why unavailable ("" when available) */
};
int sg_backend_status_count(void);
const struct sg_backend_status *sg_backend_status_get(int i);

int sg_backend_reg_count(void);
struct sg_backend_reg *sg_backend_reg_get(int i);
struct sg_backend_reg *sg_backend_reg_by_name(const char *name);
const char *sg_backend_reg_name(const struct sg_backend_reg *reg);
int sg_backend_reg_device_count(const struct sg_backend_reg *reg);
struct sg_device *sg_backend_reg_device(const struct sg_backend_reg *reg, int i);
/* A backend-specific function by name (e.g. "sg_cpu_stream_set_reference"), or NULL. */
void *sg_backend_reg_proc(const struct sg_backend_reg *reg, const char *name);

/* ---- devices ---------------------------------------------------------------------------- */

const char *sg_device_name(const struct sg_device *dev);        /* "vulkan:0" */
const char *sg_device_description(const struct sg_device *dev); /* "NVIDIA H100 80GB HBM3" */
enum sg_device_type sg_device_type(const struct sg_device *dev);
const char *sg_device_type_name(enum sg_device_type type);
void sg_device_memory(const struct sg_device *dev, size_t *free, size_t *total);
struct sg_backend_reg *sg_device_reg(const struct sg_device *dev);
/* Can this device run `node` as it is (types, strides, op_params, sizes)? */
bool sg_device_supports_op(const struct sg_device *dev, const struct sg_tensor *node);
struct sg_buffer_type *sg_device_buffer_type(const struct sg_device *dev);
/* Opens a stream. n_threads applies to CPU devices (0: SAEG_THREADS or the physical cores). */
sg_status sg_device_open_stream(struct sg_device *dev, int n_threads, struct sg_stream **out);

/* Parses a --device value: "auto", "cpu", "cuda", "vulkan:1", "opencl:0". auto takes the first
 * GPU that can run the model's matmuls from cuda, then vulkan, then opencl, else the CPU (a CPU
 * seen through Vulkan or OpenCL, like lavapipe or PoCL, is never auto-selected: it would only
 * be slower than the CPU backend); the choice is logged. Unknown names and out-of-range
 * indices fail with a message listing the devices that exist. */
sg_status sg_device_select(const char *spec, struct sg_device **out);
/* The device a spec without an index (and `auto`) starts from: hint mod the backend's device count.
 * Several processes on one machine (MPI ranks) pass their local rank so each gets its own GPU. */
void sg_device_set_index_hint(int hint);
struct sg_device *sg_device_cpu(void);

/* ---- streams ---------------------------------------------------------------------------- */

void sg_stream_free(struct sg_stream *s);
struct sg_device *sg_stream_device(const struct sg_stream *s);
/* Runs every node of g on this stream; all tensors must already live in buffers this device
 * can use. Use a scheduler (core/sched.h) to place a graph across devices. */
sg_status sg_stream_compute(struct sg_stream *s, struct sg_graph *g);
sg_status sg_stream_synchronize(struct sg_stream *s);

/* ---- memory ----------------------------------------------------------------------------- */

const char *sg_buffer_type_name(const struct sg_buffer_type *buft);
size_t sg_buffer_type_alignment(const struct sg_buffer_type *buft);
size_t sg_buffer_type_max_size(const struct sg_buffer_type *buft); /* largest single buffer */
bool sg_buffer_type_is_host(const struct sg_buffer_type *buft);    /* data is a host pointer */
struct sg_device *sg_buffer_type_device(const struct sg_buffer_type *buft);
sg_status sg_buffer_alloc(struct sg_buffer_type *buft, size_t size, struct sg_buffer **out);

void sg_buffer_free(struct sg_buffer *buf);
size_t sg_buffer_size(const struct sg_buffer *buf);
struct sg_buffer_type *sg_buffer_get_type(const struct sg_buffer *buf);
sg_status sg_buffer_clear(struct sg_buffer *buf, uint8_t value);

/* Gives every tensor of ctx that has no data yet (views excepted) its own place in buffers of
 * type buft, in creation order, splitting across several buffers when the total exceeds the
 * type's maximum buffer size. The buffers are returned (caller frees them with
 * sg_buffer_list_free). Used for weights, optimizer state and test tensors. */
struct sg_buffer_list {
    int n;
    struct sg_buffer **bufs;
};
sg_status sg_alloc_ctx_tensors(struct sg_ctx *ctx, struct sg_buffer_type *buft, struct sg_buffer_list *out);
void sg_buffer_list_free(struct sg_buffer_list *list);

/* Places one tensor at `offset` in buf (for loaders that lay tensors out themselves). */
sg_status sg_buffer_place_tensor(struct sg_buffer *buf, struct sg_tensor *t, size_t offset);

#ifdef __cplusplus
}
#endif

#endif
