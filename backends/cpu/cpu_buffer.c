/* Host memory of the CPU backend: the "cpu" buffer type. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu_internal.h"

/* A cache line, and the widest vector load (AVX-512) never splits one. */
#define SG_CPU_BUFFER_ALIGN 64

static void sg_cpu_buffer_free(struct sg_buffer *buf) {
    free(buf->context);
    free(buf);
}

static void *sg_cpu_buffer_base(struct sg_buffer *buf) { return buf->context; }

/* The core checks offset + size against the tensor's span before calling these. */
static sg_status sg_cpu_buffer_set_tensor(struct sg_buffer *buf, struct sg_tensor *t, const void *data, size_t offset,
                                          size_t size) {
    (void)buf;
    memcpy((char *)t->data + offset, data, size);
    return SG_OK;
}

static sg_status sg_cpu_buffer_get_tensor(struct sg_buffer *buf, const struct sg_tensor *t, void *data, size_t offset,
                                          size_t size) {
    (void)buf;
    memcpy(data, (const char *)t->data + offset, size);
    return SG_OK;
}

static sg_status sg_cpu_buffer_memset_tensor(struct sg_buffer *buf, struct sg_tensor *t, uint8_t value, size_t offset,
                                             size_t size) {
    (void)buf;
    memset((char *)t->data + offset, value, size);
    return SG_OK;
}

static sg_status sg_cpu_buffer_clear(struct sg_buffer *buf, uint8_t value) {
    memset(buf->context, value, buf->size);
    return SG_OK;
}

/* Any host-resident source can be copied straight in when both sides have the same layout. */
static bool sg_cpu_buffer_copy_tensor(struct sg_buffer *buf, const struct sg_tensor *src, struct sg_tensor *dst) {
    (void)buf;
    if (!src->buffer || !sg_buffer_type_is_host(sg_buffer_get_type(src->buffer))) return false;
    if (src->type != dst->type || !sg_same_shape(src, dst) || !sg_is_contiguous(src) || !sg_is_contiguous(dst))
        return false;
    memcpy(dst->data, src->data, sg_nbytes(src));
    return true;
}

static const struct sg_buffer_i sg_cpu_buffer_i = {
    .free_buffer   = sg_cpu_buffer_free,
    .base          = sg_cpu_buffer_base,
    .init_tensor   = NULL,
    .set_tensor    = sg_cpu_buffer_set_tensor,
    .get_tensor    = sg_cpu_buffer_get_tensor,
    .memset_tensor = sg_cpu_buffer_memset_tensor,
    .clear         = sg_cpu_buffer_clear,
    .copy_tensor   = sg_cpu_buffer_copy_tensor,
};

static const char *sg_cpu_buffer_type_name(const struct sg_buffer_type *buft) {
    (void)buft;
    return "cpu";
}

static sg_status sg_cpu_buffer_type_alloc(struct sg_buffer_type *buft, size_t size, struct sg_buffer **out) {
    *out = NULL;
    if (size > SIZE_MAX - SG_CPU_BUFFER_ALIGN)
        return sg_error(SG_ERR_NO_MEMORY, "cpu: cannot allocate a buffer of %zu bytes", size);
    /* aligned_alloc wants a multiple of the alignment; a zero-size buffer still gets a base */
    size_t padded         = (size + SG_CPU_BUFFER_ALIGN - 1) / SG_CPU_BUFFER_ALIGN * SG_CPU_BUFFER_ALIGN;
    struct sg_buffer *buf = calloc(1, sizeof *buf);
    void *data            = aligned_alloc(SG_CPU_BUFFER_ALIGN, padded ? padded : SG_CPU_BUFFER_ALIGN);
    if (!buf || !data) {
        free(buf);
        free(data);
        return sg_error(SG_ERR_NO_MEMORY, "cpu: out of memory allocating a buffer of %zu bytes (%.1f MiB)", size,
                        (double)size / (1 << 20));
    }
    *buf = (struct sg_buffer){.iface = &sg_cpu_buffer_i, .buft = buft, .context = data, .size = size};
    *out = buf;
    return SG_OK;
}

static size_t sg_cpu_buffer_type_alignment(const struct sg_buffer_type *buft) {
    (void)buft;
    return SG_CPU_BUFFER_ALIGN;
}

static bool sg_cpu_buffer_type_is_host(const struct sg_buffer_type *buft) {
    (void)buft;
    return true;
}

static const struct sg_buffer_type_i sg_cpu_buffer_type_i = {
    .name         = sg_cpu_buffer_type_name,
    .alloc_buffer = sg_cpu_buffer_type_alloc,
    .alignment    = sg_cpu_buffer_type_alignment,
    .max_size     = NULL,
    .alloc_size   = NULL,
    .is_host      = sg_cpu_buffer_type_is_host,
};

struct sg_buffer_type *sg_cpu_buffer_type(struct sg_device *dev) {
    static struct sg_buffer_type buft = {.iface = &sg_cpu_buffer_type_i};
    buft.device                       = dev; /* the device calls this once, when it is set up */
    return &buft;
}
