/* Plugin entry points and the registry of the CUDA backend. */
#include <string.h>

#include "cuda_internal.h"

static const char *reg_name(const struct sg_backend_reg *reg) {
    (void)reg;
    return "cuda";
}

static int reg_device_count(const struct sg_backend_reg *reg) {
    (void)reg;
    return sg_cuda_device_count();
}

static struct sg_device *reg_device(const struct sg_backend_reg *reg, int i) {
    (void)reg;
    struct sg_cuda_device *d = sg_cuda_device_get(i);
    return d ? &d->dev : NULL;
}

/* "unverified": non-NULL while the kernels have not passed tests/gpu/run.sh on hardware, so
 * --device auto passes CUDA by (core/backend.c). */
static void *reg_proc(const struct sg_backend_reg *reg, const char *name) {
    (void)reg;
    static const char unverified[] = "the CUDA kernels are not yet verified on hardware";
    if (strcmp(name, "unverified") == 0 && !SG_CUDA_HARDWARE_VERIFIED) return (void *)unverified;
    if (strcmp(name, "sgemm") == 0) return (void *)sg_cuda_stream_sgemm;
    return NULL;
}

static const struct sg_backend_reg_i cuda_reg_i = {
    .name         = reg_name,
    .device_count = reg_device_count,
    .device       = reg_device,
    .proc         = reg_proc,
};

static struct sg_backend_reg cuda_reg = {
    .api_version = SG_BACKEND_API_VERSION,
    .iface       = &cuda_reg_i,
};

SG_PLUGIN_EXPORT int sg_backend_plugin_api_version(void) { return SG_BACKEND_API_VERSION; }

SG_PLUGIN_EXPORT struct sg_backend_reg *sg_backend_plugin_init(void) {
    if (sg_cuda_devices_init() != SG_OK) return NULL; /* the reason is in sg_last_error() */
    for (int i = 0; i < sg_cuda_device_count(); i++) sg_cuda_device_get(i)->dev.reg = &cuda_reg;
    return &cuda_reg;
}

sg_status sg_cuda_check(cudaError_t err, const char *what) {
    if (err == cudaSuccess) return SG_OK;
    return sg_error(SG_ERR_BACKEND, "CUDA: %s failed: %s (%s)", what, cudaGetErrorString(err), cudaGetErrorName(err));
}
