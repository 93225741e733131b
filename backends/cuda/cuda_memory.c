/* Device memory: one cudaMalloc per buffer, synchronous copies to and from the host. */
#include <stdint.h>
#include <stdlib.h>

#include "cuda_internal.h"

struct cuda_buffer {
    void *dev_ptr;
    int device;
};

/* Tensor data pointers are real device addresses, so offsets need no translation. */
static void *buf_base(struct sg_buffer *buf) { return ((struct cuda_buffer *)buf->context)->dev_ptr; }

static void buf_free(struct sg_buffer *buf) {
    struct cuda_buffer *cb = buf->context;
    cudaSetDevice(cb->device);
    cudaFree(cb->dev_ptr);
    free(cb);
    free(buf);
}

static sg_status buf_set(struct sg_buffer *buf, struct sg_tensor *t, const void *data, size_t off, size_t size) {
    struct cuda_buffer *cb = buf->context;
    sg_status st           = sg_cuda_check(cudaSetDevice(cb->device), "cudaSetDevice");
    if (st != SG_OK) return st;
    return sg_cuda_check(cudaMemcpy((char *)t->data + off, data, size, cudaMemcpyHostToDevice), "cudaMemcpy to device");
}

static sg_status buf_get(struct sg_buffer *buf, const struct sg_tensor *t, void *data, size_t off, size_t size) {
    struct cuda_buffer *cb = buf->context;
    sg_status st           = sg_cuda_check(cudaSetDevice(cb->device), "cudaSetDevice");
    if (st != SG_OK) return st;
    return sg_cuda_check(cudaMemcpy(data, (const char *)t->data + off, size, cudaMemcpyDeviceToHost),
                         "cudaMemcpy to host");
}

static sg_status buf_memset(struct sg_buffer *buf, struct sg_tensor *t, uint8_t value, size_t off, size_t size) {
    struct cuda_buffer *cb = buf->context;
    sg_status st           = sg_cuda_check(cudaSetDevice(cb->device), "cudaSetDevice");
    if (st != SG_OK) return st;
    return sg_cuda_check(cudaMemset((char *)t->data + off, value, size), "cudaMemset");
}

static sg_status buf_clear(struct sg_buffer *buf, uint8_t value) {
    struct cuda_buffer *cb = buf->context;
    sg_status st           = sg_cuda_check(cudaSetDevice(cb->device), "cudaSetDevice");
    if (st != SG_OK) return st;
    return sg_cuda_check(cudaMemset(cb->dev_ptr, value, buf->size), "cudaMemset");
}

static const struct sg_buffer_i cuda_buffer_i = {
    .free_buffer   = buf_free,
    .base          = buf_base,
    .set_tensor    = buf_set,
    .get_tensor    = buf_get,
    .memset_tensor = buf_memset,
    .clear         = buf_clear,
};

static const char *buft_name(const struct sg_buffer_type *buft) {
    return ((const struct sg_cuda_device *)buft->context)->name;
}

static size_t buft_alignment(const struct sg_buffer_type *buft) {
    (void)buft;
    return 256; /* cudaMalloc's guarantee; also what vectorised loads want */
}

static sg_status buft_alloc(struct sg_buffer_type *buft, size_t size, struct sg_buffer **out) {
    const struct sg_cuda_device *d = buft->context;
    struct sg_buffer *buf          = calloc(1, sizeof *buf);
    struct cuda_buffer *cb         = calloc(1, sizeof *cb);
    if (!buf || !cb) {
        free(buf);
        free(cb);
        return sg_error(SG_ERR_NO_MEMORY, "CUDA: out of host memory");
    }
    sg_status st = sg_cuda_check(cudaSetDevice(d->index), "cudaSetDevice");
    if (st == SG_OK) st = sg_cuda_check(cudaMalloc(&cb->dev_ptr, size), "cudaMalloc");
    if (st != SG_OK) {
        free(buf);
        free(cb);
        return st;
    }
    cb->device = d->index;
    *buf       = (struct sg_buffer){.iface = &cuda_buffer_i, .buft = buft, .context = cb, .size = size};
    *out       = buf;
    return SG_OK;
}

const struct sg_buffer_type_i sg_cuda_buffer_type_i = {
    .name         = buft_name,
    .alloc_buffer = buft_alloc,
    .alignment    = buft_alignment,
};
