/* The plugin loader, run with SAEG_BACKEND_PATH naming a working plugin, a plugin built for
 * another API version, and a path that does not exist (see tests/core/CMakeLists.txt). Every
 * failure must become a reason, never a crash; the CPU is always there. */
#include <stdlib.h>

#include "core/backend.h"
#include "tests/test_util.h"

static const struct sg_backend_status *status_of(const char *name) {
    for (int i = 0; i < sg_backend_status_count(); i++)
        if (strcmp(sg_backend_status_get(i)->name, name) == 0) return sg_backend_status_get(i);
    return NULL;
}

static void test_working_plugin_is_registered(void) {
    const struct sg_backend_status *s = status_of("mockplugin");
    CHECK(s && s->reg);
    struct sg_backend_reg *reg = sg_backend_reg_by_name("mockplugin");
    CHECK(reg && sg_backend_reg_device_count(reg) == 1);
    struct sg_device *dev;
    CHECK(sg_device_select("mockplugin:0", &dev) == SG_OK && dev && strcmp(sg_device_name(dev), "mockplugin:0") == 0);
    CHECK(sg_device_select("mockplugin:1", &dev) == SG_ERR_NOT_FOUND);
    CHECK_CONTAINS(sg_last_error(), "has 1 device");
    CHECK_CONTAINS(sg_last_error(), "cpu:0");
}

static void test_wrong_api_version_is_refused_with_a_reason(void) {
    int found = 0;
    for (int i = 0; i < sg_backend_status_count(); i++) {
        const struct sg_backend_status *s = sg_backend_status_get(i);
        if (strstr(s->path, "libsaeg-badapi.so")) {
            found = 1;
            CHECK(s->reg == NULL);
            CHECK_CONTAINS(s->reason, "backend API");
        }
    }
    CHECK(found);
}

static void test_known_backends_always_have_a_status(void) {
    const char *names[] = {"cpu", "cuda", "vulkan", "opencl"};
    for (int i = 0; i < 4; i++) {
        const struct sg_backend_status *s = status_of(names[i]);
        CHECK_MSG(s != NULL, "%s has no status", names[i]);
        if (s && !s->reg) CHECK_MSG(s->reason[0] != '\0', "%s unavailable without a reason", names[i]);
    }
    CHECK(status_of("cpu")->reg != NULL);
    struct sg_device *dev;
    CHECK(sg_device_select("auto", &dev) == SG_OK && dev);
    CHECK(sg_device_select("tpu", &dev) == SG_ERR_NOT_FOUND);
    CHECK_CONTAINS(sg_last_error(), "unknown backend 'tpu'");
    CHECK(sg_device_select("cpu:x", &dev) == SG_ERR_INVALID_ARG);
}

int main(void) {
    sg_backends_load();
    RUN_TEST(test_working_plugin_is_registered);
    RUN_TEST(test_wrong_api_version_is_refused_with_a_reason);
    RUN_TEST(test_known_backends_always_have_a_status);
    return test_exit_code();
}
