/* CUDA device discovery and the device vtable. */
#include <stdio.h>
#include <stdlib.h>

#include "cuda_internal.h"
#include "cuda_mem.h"
#include "cuda_ops.h"

static struct sg_cuda_device *devices;
static int n_devices;

int sg_cuda_device_count(void) { return n_devices; }

struct sg_cuda_device *sg_cuda_device_get(int i) {
    return i >= 0 && i < n_devices ? &devices[i] : NULL;
}

sg_status sg_cuda_devices_init(void) {
    int count       = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err == cudaErrorInsufficientDriver || err == cudaErrorNoDevice)
        return sg_error(SG_ERR_NOT_FOUND, "no CUDA driver or device (%s)", cudaGetErrorString(err));
    if (err != cudaSuccess) return sg_cuda_check(err, "cudaGetDeviceCount");
    if (count == 0) return sg_error(SG_ERR_NOT_FOUND, "the CUDA driver reports no device");
    devices = calloc((size_t)count, sizeof *devices);
    if (!devices) return sg_error(SG_ERR_NO_MEMORY, "CUDA: out of memory");
    for (int i = 0; i < count; i++) {
        struct sg_cuda_device *d = &devices[i];
        struct cudaDeviceProp prop;
        sg_status st = sg_cuda_check(cudaGetDeviceProperties(&prop, i), "cudaGetDeviceProperties");
        if (st != SG_OK) return st;
        d->index      = i;
        d->smem_optin = prop.sharedMemPerBlockOptin ? prop.sharedMemPerBlockOptin : prop.sharedMemPerBlock;
        d->sm_count   = prop.multiProcessorCount;
        snprintf(d->name, sizeof d->name, "cuda:%d", i);
        snprintf(d->description, sizeof d->description, "%s (compute capability %d.%d)", prop.name, prop.major,
                 prop.minor);
        d->dev  = (struct sg_device){.iface = &sg_cuda_device_i, .context = d};
        d->buft = (struct sg_buffer_type){.iface = &sg_cuda_buffer_type_i, .device = &d->dev, .context = d};
        st      = sg_cuda_mem_init(d);
        if (st != SG_OK) return st;
    }
    n_devices = count;
    return SG_OK;
}

static const struct sg_cuda_device *ctx_of(const struct sg_device *dev) { return dev->context; }

static const char *dev_name(const struct sg_device *dev) { return ctx_of(dev)->name; }
static const char *dev_description(const struct sg_device *dev) { return ctx_of(dev)->description; }
static enum sg_device_type dev_type(const struct sg_device *dev) {
    (void)dev;
    return SG_DEVICE_GPU;
}

static void dev_memory(const struct sg_device *dev, size_t *free_bytes, size_t *total_bytes) {
    if (cudaSetDevice(ctx_of(dev)->index) != cudaSuccess || cudaMemGetInfo(free_bytes, total_bytes) != cudaSuccess)
        *free_bytes = *total_bytes = 0;
}

static struct sg_buffer_type *dev_buffer_type(struct sg_device *dev) {
    return &((struct sg_cuda_device *)dev->context)->buft;
}

static bool dev_supports_op(const struct sg_device *dev, const struct sg_tensor *node) {
    return sg_cuda_supports_op(ctx_of(dev), node);
}

const struct sg_device_i sg_cuda_device_i = {
    .name        = dev_name,
    .description = dev_description,
    .type        = dev_type,
    .memory      = dev_memory,
    .open_stream = sg_cuda_stream_open,
    .buffer_type = dev_buffer_type,
    .supports_op = dev_supports_op,
};
