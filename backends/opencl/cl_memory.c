/* Device memory: one cl_mem per buffer. Tensor data pointers are a fake non-NULL base plus the
 * byte offset in the cl_mem, so the core's allocator can do pointer arithmetic; kernels get
 * (cl_mem, offset) pairs. Transfers are blocking, so a stream's kernels always see them. */
#include <stdint.h>
#include <stdlib.h>

#include "cl_internal.h"

#define FAKE_BASE ((char *)(uintptr_t)0x1000)

struct cl_buffer {
    cl_mem mem;
    struct sg_cl_device *dev;
};

static struct cl_buffer *cl_buf(const struct sg_buffer *buf) { return buf->context; }

cl_mem sg_cl_tensor_mem(const struct sg_tensor *t) { return cl_buf(t->buffer)->mem; }

cl_ulong sg_cl_tensor_offset(const struct sg_tensor *t) { return (cl_ulong)((const char *)t->data - FAKE_BASE); }

static void *buf_base(struct sg_buffer *buf) {
    (void)buf;
    return FAKE_BASE;
}

static void buf_free(struct sg_buffer *buf) {
    struct cl_buffer *cb = cl_buf(buf);
    clReleaseMemObject(cb->mem);
    pthread_mutex_lock(&cb->dev->lock);
    cb->dev->allocated -= buf->size;
    pthread_mutex_unlock(&cb->dev->lock);
    free(cb);
    free(buf);
}

static sg_status buf_set(struct sg_buffer *buf, struct sg_tensor *t, const void *data, size_t off, size_t size) {
    struct cl_buffer *cb = cl_buf(buf);
    if (size == 0) return SG_OK;
    return sg_cl_check(clEnqueueWriteBuffer(cb->dev->xfer_queue, cb->mem, CL_TRUE, sg_cl_tensor_offset(t) + off, size,
                                            data, 0, NULL, NULL),
                       "clEnqueueWriteBuffer");
}

static sg_status buf_get(struct sg_buffer *buf, const struct sg_tensor *t, void *data, size_t off, size_t size) {
    struct cl_buffer *cb = cl_buf(buf);
    if (size == 0) return SG_OK;
    return sg_cl_check(clEnqueueReadBuffer(cb->dev->xfer_queue, cb->mem, CL_TRUE, sg_cl_tensor_offset(t) + off, size,
                                           data, 0, NULL, NULL),
                       "clEnqueueReadBuffer");
}

static sg_status fill(struct cl_buffer *cb, uint8_t value, size_t offset, size_t size) {
    if (size == 0) return SG_OK;
    cl_int err   = clEnqueueFillBuffer(cb->dev->xfer_queue, cb->mem, &value, 1, offset, size, 0, NULL, NULL);
    sg_status st = sg_cl_check(err, "clEnqueueFillBuffer");
    return st == SG_OK ? sg_cl_check(clFinish(cb->dev->xfer_queue), "clFinish") : st;
}

static sg_status buf_memset(struct sg_buffer *buf, struct sg_tensor *t, uint8_t value, size_t off, size_t size) {
    return fill(cl_buf(buf), value, sg_cl_tensor_offset(t) + off, size);
}

static sg_status buf_clear(struct sg_buffer *buf, uint8_t value) { return fill(cl_buf(buf), value, 0, buf->size); }

/* Device-to-device within one context, or straight from host memory; anything else goes
 * through the caller's host round trip. */
static bool buf_copy(struct sg_buffer *buf, const struct sg_tensor *src, struct sg_tensor *dst) {
    struct cl_buffer *cb = cl_buf(buf);
    size_t size          = sg_nbytes(src);
    if (!src->buffer || size != sg_nbytes(dst)) return false;
    if (src->buffer->buft->iface == &sg_cl_buffer_type_i) {
        struct cl_buffer *sb = cl_buf(src->buffer);
        if (sb->dev->context != cb->dev->context) return false;
        cl_int err = clEnqueueCopyBuffer(cb->dev->xfer_queue, sb->mem, cb->mem, sg_cl_tensor_offset(src),
                                         sg_cl_tensor_offset(dst), size, 0, NULL, NULL);
        return err == CL_SUCCESS && clFinish(cb->dev->xfer_queue) == CL_SUCCESS;
    }
    if (sg_buffer_type_is_host(src->buffer->buft)) return buf_set(buf, dst, src->data, 0, size) == SG_OK;
    return false;
}

static const struct sg_buffer_i cl_buffer_i = {
    .free_buffer   = buf_free,
    .base          = buf_base,
    .set_tensor    = buf_set,
    .get_tensor    = buf_get,
    .memset_tensor = buf_memset,
    .clear         = buf_clear,
    .copy_tensor   = buf_copy,
};

static const char *buft_name(const struct sg_buffer_type *buft) { return sg_cl_dev(buft->device)->name; }

static size_t buft_alignment(const struct sg_buffer_type *buft) { return sg_cl_dev(buft->device)->base_align; }

/* CL_DEVICE_MAX_MEM_ALLOC_SIZE: larger tensor sets are split over several buffers by the core. */
static size_t buft_max_size(const struct sg_buffer_type *buft) {
    return (size_t)sg_cl_dev(buft->device)->max_alloc_size;
}

static sg_status buft_alloc(struct sg_buffer_type *buft, size_t size, struct sg_buffer **out) {
    struct sg_cl_device *d = sg_cl_dev(buft->device);
    sg_status st           = sg_cl_device_open(d);
    if (st != SG_OK) return st;
    if (size > d->max_alloc_size)
        return sg_error(SG_ERR_NO_MEMORY, "OpenCL: %zu bytes exceed %s's largest buffer (%llu bytes)", size, d->name,
                        (unsigned long long)d->max_alloc_size);
    struct sg_buffer *buf = calloc(1, sizeof *buf);
    struct cl_buffer *cb  = calloc(1, sizeof *cb);
    if (!buf || !cb) {
        free(buf);
        free(cb);
        return sg_error(SG_ERR_NO_MEMORY, "OpenCL: out of host memory");
    }
    cl_int err;
    cb->mem = clCreateBuffer(d->context, CL_MEM_READ_WRITE, size, NULL, &err);
    st      = sg_cl_check(err, "clCreateBuffer");
    if (st != SG_OK) {
        free(buf);
        free(cb);
        return st;
    }
    cb->dev = d;
    pthread_mutex_lock(&d->lock);
    d->allocated += size;
    pthread_mutex_unlock(&d->lock);
    *buf = (struct sg_buffer){.iface = &cl_buffer_i, .buft = buft, .context = cb, .size = size};
    *out = buf;
    return SG_OK;
}

const struct sg_buffer_type_i sg_cl_buffer_type_i = {
    .name         = buft_name,
    .alloc_buffer = buft_alloc,
    .alignment    = buft_alignment,
    .max_size     = buft_max_size,
};
