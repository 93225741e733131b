/* For backend implementers: the vtables behind core/backend.h.
 *
 * A backend fills these structs with designated initializers; optional slots stay NULL and the
 * core supplies the fallback noted beside them. A plugin exports
 *
 *     SG_PLUGIN_EXPORT int sg_backend_plugin_api_version(void) { return SG_BACKEND_API_VERSION; }
 *     SG_PLUGIN_EXPORT struct sg_backend_reg *sg_backend_plugin_init(void);
 *
 * and init returns NULL (with sg_error set to the reason, e.g. "no Vulkan driver") when it cannot
 * run on this machine.
 */
#ifndef SG_BACKEND_IMPL_H
#define SG_BACKEND_IMPL_H

#include "core/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SG_BACKEND_API_VERSION 1
#define SG_PLUGIN_EXPORT       __attribute__((visibility("default")))

typedef int (*sg_backend_plugin_api_version_fn)(void);
typedef struct sg_backend_reg *(*sg_backend_plugin_init_fn)(void);

/* ---- buffers ---------------------------------------------------------------------------- */

struct sg_buffer_i {
    void (*free_buffer)(struct sg_buffer *buf);
    /* Base address of the buffer: a host pointer, or for device memory a fake non-NULL base so
     * that generic code can do pointer arithmetic (data - base is the offset). */
    void *(*base)(struct sg_buffer *buf);
    /* Optional: per-tensor setup when a tensor is placed in the buffer (views included). */
    sg_status (*init_tensor)(struct sg_buffer *buf, struct sg_tensor *t);
    sg_status (*set_tensor)(struct sg_buffer *buf, struct sg_tensor *t, const void *data, size_t offset, size_t size);
    sg_status (*get_tensor)(struct sg_buffer *buf, const struct sg_tensor *t, void *data, size_t offset, size_t size);
    sg_status (*memset_tensor)(struct sg_buffer *buf, struct sg_tensor *t, uint8_t value, size_t offset, size_t size);
    sg_status (*clear)(struct sg_buffer *buf, uint8_t value);
    /* Optional: copy src (in any buffer) to dst (in this buffer) without a host round trip;
     * return false to make the caller go through host memory. */
    bool (*copy_tensor)(struct sg_buffer *buf, const struct sg_tensor *src, struct sg_tensor *dst);
};

struct sg_buffer {
    const struct sg_buffer_i *iface;
    struct sg_buffer_type *buft;
    void *context;
    size_t size;
};

struct sg_buffer_type_i {
    const char *(*name)(const struct sg_buffer_type *buft);
    sg_status (*alloc_buffer)(struct sg_buffer_type *buft, size_t size, struct sg_buffer **out);
    size_t (*alignment)(const struct sg_buffer_type *buft);
    size_t (*max_size)(const struct sg_buffer_type *buft);                              /* optional: SIZE_MAX */
    size_t (*alloc_size)(const struct sg_buffer_type *buft, const struct sg_tensor *t); /* optional: nbytes */
    bool (*is_host)(const struct sg_buffer_type *buft);                                 /* optional: false */
};

struct sg_buffer_type {
    const struct sg_buffer_type_i *iface;
    struct sg_device *device;
    void *context;
};

/* ---- streams ---------------------------------------------------------------------------- */

struct sg_stream_i {
    void (*free_stream)(struct sg_stream *s);
    /* Runs nodes[0..n) in order (view ops included: they need no work). */
    sg_status (*compute)(struct sg_stream *s, struct sg_tensor *const *nodes, int n);
    /* Optional: record the nodes once (command buffers, CUDA graphs) and replay them later.
     * The scheduler calls plan_create the first time it runs a split and plan_compute after;
     * tensor addresses do not change between runs of one plan. */
    sg_status (*plan_create)(struct sg_stream *s, struct sg_tensor *const *nodes, int n, void **plan);
    sg_status (*plan_compute)(struct sg_stream *s, void *plan);
    void (*plan_free)(struct sg_stream *s, void *plan);
    sg_status (*synchronize)(struct sg_stream *s); /* optional */
};

struct sg_stream {
    const struct sg_stream_i *iface;
    struct sg_device *device;
    void *context;
};

/* ---- devices and registries ------------------------------------------------------------- */

struct sg_device_i {
    const char *(*name)(const struct sg_device *dev);
    const char *(*description)(const struct sg_device *dev);
    enum sg_device_type (*type)(const struct sg_device *dev);
    void (*memory)(const struct sg_device *dev, size_t *free, size_t *total);
    sg_status (*open_stream)(struct sg_device *dev, int n_threads, struct sg_stream **out);
    struct sg_buffer_type *(*buffer_type)(struct sg_device *dev);
    bool (*supports_op)(const struct sg_device *dev, const struct sg_tensor *node);
    /* Optional: can kernels on this device read tensors in buffers of type buft directly?
     * Default: only its own buffer type. */
    bool (*supports_buft)(const struct sg_device *dev, const struct sg_buffer_type *buft);
};

struct sg_device {
    const struct sg_device_i *iface;
    struct sg_backend_reg *reg;
    void *context;
};

struct sg_backend_reg_i {
    const char *(*name)(const struct sg_backend_reg *reg);
    int (*device_count)(const struct sg_backend_reg *reg);
    struct sg_device *(*device)(const struct sg_backend_reg *reg, int i);
    void *(*proc)(const struct sg_backend_reg *reg, const char *name); /* optional */
};

struct sg_backend_reg {
    int api_version; /* SG_BACKEND_API_VERSION */
    const struct sg_backend_reg_i *iface;
    void *context;
};

/* Can kernels on dev read tensors living in buffers of type buft? */
bool sg_device_supports_buft(const struct sg_device *dev, const struct sg_buffer_type *buft);

/* Gives a view the address of its base (which must have memory). */
sg_status sg_tensor_init_view(struct sg_tensor *view);

/* The built-in CPU backend's registry (backends/cpu). */
struct sg_backend_reg *sg_cpu_backend_reg(void);

/* Adds a registry by hand (tests use it for a mock device); returns its index. */
int sg_backend_register(struct sg_backend_reg *reg, const char *path);

#ifdef __cplusplus
}
#endif

#endif
