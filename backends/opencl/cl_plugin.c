/* Plugin entry points and the registry of the OpenCL backend. */
#include <stdio.h>

#include "cl_internal.h"

static const char *reg_name(const struct sg_backend_reg *reg) {
    (void)reg;
    return "opencl";
}

static int reg_device_count(const struct sg_backend_reg *reg) {
    (void)reg;
    return sg_cl_device_count();
}

static struct sg_device *reg_device(const struct sg_backend_reg *reg, int i) {
    (void)reg;
    struct sg_cl_device *d = sg_cl_device_get(i);
    return d ? &d->dev : NULL;
}

static const struct sg_backend_reg_i cl_reg_i = {
    .name         = reg_name,
    .device_count = reg_device_count,
    .device       = reg_device,
};

static struct sg_backend_reg cl_reg = {
    .api_version = SG_BACKEND_API_VERSION,
    .iface       = &cl_reg_i,
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static sg_status init_status;
static char init_error[512];

static void init_devices(void) {
    init_status = sg_cl_devices_init(&cl_reg);
    if (init_status != SG_OK) snprintf(init_error, sizeof init_error, "%s", sg_last_error());
}

SG_PLUGIN_EXPORT int sg_backend_plugin_api_version(void) { return SG_BACKEND_API_VERSION; }

/* NULL with sg_error set (e.g. "no OpenCL platform (...)") when there is nothing to run on. */
SG_PLUGIN_EXPORT struct sg_backend_reg *sg_backend_plugin_init(void) {
    pthread_once(&init_once, init_devices);
    if (init_status != SG_OK) {
        sg_error(init_status, "%s", init_error);
        return NULL;
    }
    return &cl_reg;
}
