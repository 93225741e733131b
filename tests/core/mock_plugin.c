/* A backend plugin for the loader test: one device that supports no ops. Built twice: as a
 * working plugin and (with MOCK_BAD_API) as one built for another backend API version. */
#include <stdlib.h>

#include "core/backend_impl.h"

static const char *reg_name(const struct sg_backend_reg *r) {
    (void)r;
    return "mockplugin";
}
static int reg_count(const struct sg_backend_reg *r) {
    (void)r;
    return 1;
}

static const char *dev_name(const struct sg_device *d) {
    (void)d;
    return "mockplugin:0";
}
static const char *dev_desc(const struct sg_device *d) {
    (void)d;
    return "loader test device";
}
static enum sg_device_type dev_type(const struct sg_device *d) {
    (void)d;
    return SG_DEVICE_OTHER;
}
static void dev_memory(const struct sg_device *d, size_t *f, size_t *t) {
    (void)d;
    *f = 1;
    *t = 2;
}
static sg_status dev_open(struct sg_device *d, int n, struct sg_stream **out) {
    (void)d;
    (void)n;
    *out = NULL;
    return sg_error(SG_ERR_UNSUPPORTED, "mockplugin: no streams");
}
static struct sg_buffer_type *dev_buft(struct sg_device *d) {
    (void)d;
    return NULL;
}
static bool dev_supports(const struct sg_device *d, const struct sg_tensor *t) {
    (void)d;
    (void)t;
    return false;
}

static const struct sg_device_i dev_i = {
    .name        = dev_name,
    .description = dev_desc,
    .type        = dev_type,
    .memory      = dev_memory,
    .open_stream = dev_open,
    .buffer_type = dev_buft,
    .supports_op = dev_supports,
};

static struct sg_backend_reg reg;
static struct sg_device dev = {.iface = &dev_i, .reg = &reg};

static struct sg_device *reg_device(const struct sg_backend_reg *r, int i) {
    (void)r;
    (void)i;
    return &dev;
}

static const struct sg_backend_reg_i reg_i = {.name = reg_name, .device_count = reg_count, .device = reg_device};

SG_PLUGIN_EXPORT int sg_backend_plugin_api_version(void) {
#ifdef MOCK_BAD_API
    return SG_BACKEND_API_VERSION + 100;
#else
    return SG_BACKEND_API_VERSION;
#endif
}

SG_PLUGIN_EXPORT struct sg_backend_reg *sg_backend_plugin_init(void) {
    if (getenv("MOCKPLUGIN_FAIL")) {
        sg_error(SG_ERR_BACKEND, "mockplugin: no driver (MOCKPLUGIN_FAIL is set)");
        return NULL;
    }
    reg = (struct sg_backend_reg){.api_version = SG_BACKEND_API_VERSION, .iface = &reg_i};
    return &reg;
}
