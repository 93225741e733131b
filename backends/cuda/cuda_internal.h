/* Internal declarations of the CUDA backend plugin. */
#ifndef SG_CUDA_INTERNAL_H
#define SG_CUDA_INTERNAL_H

#include <cuda_runtime_api.h>

#include "core/backend_impl.h"

struct sg_cuda_device {
    struct sg_device dev;
    struct sg_buffer_type buft;
    int index;     /* CUDA device ordinal */
    char name[32]; /* "cuda:0" */
    char description[320];
};

/* Turns a CUDA error into an sg_status with the call that failed and CUDA's own words. */
sg_status sg_cuda_check(cudaError_t err, const char *what);

int sg_cuda_device_count(void);
struct sg_cuda_device *sg_cuda_device_get(int i);
sg_status sg_cuda_devices_init(void);

extern const struct sg_device_i sg_cuda_device_i;
extern const struct sg_buffer_type_i sg_cuda_buffer_type_i;
sg_status sg_cuda_stream_open(struct sg_device *dev, int n_threads, struct sg_stream **out);

#endif
