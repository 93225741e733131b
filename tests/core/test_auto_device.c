/* --device auto never picks a backend whose registry answers the "unverified" proc (the CUDA
 * plugin does until its kernels pass tests/gpu/run.sh on hardware), even a GPU that runs every
 * op; named explicitly, it is still selected. A fake "cuda" registry stands in for the plugin
 * (this machine may have no driver, and on one with a driver the real plugin answers the same). */
#include <stdlib.h>
#include <string.h>

#include "core/backend_impl.h"
#include "tests/test_util.h"

static bool unverified = true;

static const char *reg_name(const struct sg_backend_reg *r) {
    (void)r;
    return "cuda";
}
static int reg_count(const struct sg_backend_reg *r) {
    (void)r;
    return 1;
}
static const char *dev_name(const struct sg_device *d) {
    (void)d;
    return "cuda:0";
}
static enum sg_device_type dev_type(const struct sg_device *d) {
    (void)d;
    return SG_DEVICE_GPU;
}
static bool dev_supports(const struct sg_device *d, const struct sg_tensor *t) {
    (void)d;
    (void)t;
    return true; /* a GPU worth choosing, but for the flag */
}
static const struct sg_device_i dev_i = {
    .name = dev_name, .description = dev_name, .type = dev_type, .supports_op = dev_supports};
static struct sg_backend_reg reg;
static struct sg_device dev = {.iface = &dev_i, .reg = &reg};
static struct sg_device *reg_device(const struct sg_backend_reg *r, int i) {
    (void)r;
    (void)i;
    return &dev;
}
static void *reg_proc(const struct sg_backend_reg *r, const char *name) {
    (void)r;
    return unverified && strcmp(name, "unverified") == 0 ? (void *)"not yet verified on hardware" : NULL;
}
static const struct sg_backend_reg_i reg_i = {
    .name = reg_name, .device_count = reg_count, .device = reg_device, .proc = reg_proc};

static void test_auto_skips_an_unverified_backend(void) {
    struct sg_device *d = NULL;
    CHECK(sg_device_select("auto", &d) == SG_OK && d && sg_device_type(d) != SG_DEVICE_GPU);
    CHECK(sg_device_select("cuda", &d) == SG_OK && d == &dev);
}

static void test_auto_picks_it_once_verified(void) {
    unverified          = false;
    struct sg_device *d = NULL;
    CHECK(sg_device_select("auto", &d) == SG_OK && d == &dev);
    unverified = true;
}

int main(void) {
    CHECK(sg_backends_load() == SG_OK);
    reg = (struct sg_backend_reg){.api_version = SG_BACKEND_API_VERSION, .iface = &reg_i};
    /* a real cuda plugin (a machine with a driver) answers "unverified" just the same */
    if (!sg_backend_reg_by_name("cuda")) sg_backend_register(&reg, "test");
    if (sg_backend_reg_by_name("cuda") != &reg) {
        printf("skip: a real CUDA plugin is loaded; only the first check applies\n");
        struct sg_device *d = NULL;
        CHECK(sg_device_select("auto", &d) == SG_OK && d && strncmp(sg_device_name(d), "cuda", 4) != 0);
        return test_exit_code();
    }
    RUN_TEST(test_auto_skips_an_unverified_backend);
    RUN_TEST(test_auto_picks_it_once_verified);
    return test_exit_code();
}
