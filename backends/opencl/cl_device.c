/* The sg_device of an OpenCL device: identity, memory, streams, and which ops it runs. */
#include "core/log.h"
#include "cl_internal.h"
#include "cl_ops.h"

sg_status sg_cl_device_open(struct sg_cl_device *d) {
    pthread_mutex_lock(&d->lock);
    sg_status st = SG_OK;
    if (!d->context) {
        cl_int err;
        cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)d->platform, 0};
        cl_context ctx                = clCreateContext(props, 1, &d->id, NULL, NULL, &err);
        st                            = sg_cl_check(err, "clCreateContext");
        cl_command_queue q            = NULL;
        if (st == SG_OK) {
            q  = clCreateCommandQueue(ctx, d->id, 0, &err);
            st = sg_cl_check(err, "clCreateCommandQueue");
            if (st != SG_OK) clReleaseContext(ctx);
        }
        if (st == SG_OK) {
            d->context    = ctx;
            d->xfer_queue = q;
        } else {
            sg_error_wrap(st, "%s (%s)", d->name, d->device_name);
        }
    }
    pthread_mutex_unlock(&d->lock);
    return st;
}

static const char *dev_name(const struct sg_device *dev) { return sg_cl_dev(dev)->name; }

static const char *dev_description(const struct sg_device *dev) { return sg_cl_dev(dev)->description; }

/* A CPU seen through OpenCL (PoCL) is "other": --device auto never prefers it to the CPU backend. */
static enum sg_device_type dev_type(const struct sg_device *dev) {
    return (sg_cl_dev(dev)->cl_type & CL_DEVICE_TYPE_CPU) ? SG_DEVICE_OTHER : SG_DEVICE_GPU;
}

/* OpenCL has no portable free-memory query: report what our own buffers have not taken. */
static void dev_memory(const struct sg_device *dev, size_t *free_mem, size_t *total) {
    struct sg_cl_device *d = sg_cl_dev(dev);
    pthread_mutex_lock(&d->lock);
    size_t used = d->allocated;
    pthread_mutex_unlock(&d->lock);
    *total    = (size_t)d->global_mem_size;
    *free_mem = used < *total ? *total - used : 0;
}

static struct sg_buffer_type *dev_buffer_type(struct sg_device *dev) { return &sg_cl_dev(dev)->buft; }

static bool dev_supports_op(const struct sg_device *dev, const struct sg_tensor *node) {
    return sg_cl_supports_op(sg_cl_dev(dev), node);
}

const struct sg_device_i sg_cl_device_i = {
    .name        = dev_name,
    .description = dev_description,
    .type        = dev_type,
    .memory      = dev_memory,
    .open_stream = sg_cl_stream_open,
    .buffer_type = dev_buffer_type,
    .supports_op = dev_supports_op,
};
