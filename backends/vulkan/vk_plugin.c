/* Entry points of libsaeg-vulkan.so and the "vulkan" registry. */
#include <string.h>

#include "vk_internal.h"

static const char *vk_reg_name(const struct sg_backend_reg *reg) {
    (void)reg;
    return "vulkan";
}

static int vk_reg_device_count(const struct sg_backend_reg *reg) {
    (void)reg;
    return sg_vk_device_count();
}

static struct sg_device *vk_reg_device(const struct sg_backend_reg *reg, int i) {
    (void)reg;
    struct sg_vk_device *d = sg_vk_device_get(i);
    return d ? &d->base : NULL;
}

static const struct sg_backend_reg_i vk_reg_i = {
    .name         = vk_reg_name,
    .device_count = vk_reg_device_count,
    .device       = vk_reg_device,
    .proc         = NULL,
};

static struct sg_backend_reg vk_reg = {
    .api_version = SG_BACKEND_API_VERSION,
    .iface       = &vk_reg_i,
    .context     = NULL,
};

SG_PLUGIN_EXPORT int sg_backend_plugin_api_version(void) { return SG_BACKEND_API_VERSION; }

/* NULL (with the reason in sg_last_error) when there is no driver or no usable device. */
SG_PLUGIN_EXPORT struct sg_backend_reg *sg_backend_plugin_init(void) {
    if (sg_vk_instance_init() != SG_OK) return NULL;
    for (int i = 0; i < sg_vk_device_count(); i++) sg_vk_device_get(i)->base.reg = &vk_reg;
    return &vk_reg;
}
