/* The process-wide VkInstance and the physical devices the backend offers (found once). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_internal.h"

#define SG_VK_MAX_DEVICES 16

static struct {
    pthread_once_t once;
    sg_status status;
    char error[512];
    VkInstance instance;
    struct sg_vk_device *devices[SG_VK_MAX_DEVICES];
    int n_devices;
} vk = {.once = PTHREAD_ONCE_INIT};

static bool instance_has_extension(const VkExtensionProperties *exts, uint32_t n, const char *name) {
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(exts[i].extensionName, name) == 0) return true;
    return false;
}

static bool instance_has_layer(const char *name) {
    uint32_t n = 0;
    if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0) return false;
    VkLayerProperties *layers = calloc(n, sizeof *layers);
    bool found                = false;
    if (layers && vkEnumerateInstanceLayerProperties(&n, layers) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = strcmp(layers[i].layerName, name) == 0;
    free(layers);
    return found;
}

static sg_status create_instance(void) {
    uint32_t version = VK_API_VERSION_1_0;
    if (vkEnumerateInstanceVersion(&version) != VK_SUCCESS || version < VK_API_VERSION_1_1)
        return sg_error(SG_ERR_UNSUPPORTED, "the Vulkan loader supports only Vulkan %u.%u; 1.2 is needed",
                        VK_API_VERSION_MAJOR(version), VK_API_VERSION_MINOR(version));

    uint32_t n_ext = 0;
    vkEnumerateInstanceExtensionProperties(NULL, &n_ext, NULL);
    VkExtensionProperties *exts = calloc(n_ext ? n_ext : 1, sizeof *exts);
    if (!exts) return sg_error(SG_ERR_NO_MEMORY, "vulkan: out of memory");
    vkEnumerateInstanceExtensionProperties(NULL, &n_ext, exts);

    const char *enabled[4];
    uint32_t n_enabled          = 0;
    VkInstanceCreateFlags flags = 0;
    /* MoltenVK is a "portability" driver: listed only when we ask for it */
    if (instance_has_extension(exts, n_ext, VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME)) {
        enabled[n_enabled++] = VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME;
        flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
    }
    free(exts);

    const char *layers[1];
    uint32_t n_layers = 0;
    if (sg_vk_env_flag("SAEG_VK_VALIDATE")) {
        if (instance_has_layer("VK_LAYER_KHRONOS_validation"))
            layers[n_layers++] = "VK_LAYER_KHRONOS_validation";
        else
            SG_LOGW("vulkan: SAEG_VK_VALIDATE is set but VK_LAYER_KHRONOS_validation is not installed");
    }

    VkApplicationInfo app = {
        .sType            = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "saeg",
        .pEngineName      = "saeg",
        .apiVersion       = VK_API_VERSION_1_2,
    };
    VkInstanceCreateInfo ci = {
        .sType                   = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .flags                   = flags,
        .pApplicationInfo        = &app,
        .enabledLayerCount       = n_layers,
        .ppEnabledLayerNames     = layers,
        .enabledExtensionCount   = n_enabled,
        .ppEnabledExtensionNames = enabled,
    };
    VkResult r = vkCreateInstance(&ci, NULL, &vk.instance);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
        return sg_error(SG_ERR_UNSUPPORTED, "no Vulkan driver (vkCreateInstance: VK_ERROR_INCOMPATIBLE_DRIVER)");
    if (r != VK_SUCCESS) return sg_vk_error(NULL, r, "vkCreateInstance");
    return SG_OK;
}

static sg_status find_devices(void) {
    uint32_t n = 0;
    VkResult r = vkEnumeratePhysicalDevices(vk.instance, &n, NULL);
    if (r != VK_SUCCESS) return sg_vk_error(NULL, r, "vkEnumeratePhysicalDevices");
    if (n == 0) return sg_error(SG_ERR_NOT_FOUND, "the Vulkan driver reports no device");
    VkPhysicalDevice *phys = calloc(n, sizeof *phys);
    if (!phys) return sg_error(SG_ERR_NO_MEMORY, "vulkan: out of memory");
    r                 = vkEnumeratePhysicalDevices(vk.instance, &n, phys);
    char skipped[256] = "";
    for (uint32_t i = 0; r == VK_SUCCESS && i < n && vk.n_devices < SG_VK_MAX_DEVICES; i++) {
        struct sg_vk_device *d = calloc(1, sizeof *d);
        if (!d) break;
        if (sg_vk_device_probe(d, phys[i], vk.n_devices) == SG_OK) {
            vk.devices[vk.n_devices++] = d;
        } else {
            SG_LOGD("vulkan: skipping a device: %s", sg_last_error());
            snprintf(skipped, sizeof skipped, "%s", sg_last_error());
            free(d);
        }
    }
    free(phys);
    if (r != VK_SUCCESS) return sg_vk_error(NULL, r, "vkEnumeratePhysicalDevices");
    if (vk.n_devices == 0) return sg_error(SG_ERR_NOT_FOUND, "no usable Vulkan device (%s)", skipped);
    return SG_OK;
}

static void init_once(void) {
    sg_error_clear();
    vk.status = create_instance();
    if (vk.status == SG_OK) vk.status = find_devices();
    if (vk.status != SG_OK) snprintf(vk.error, sizeof vk.error, "%s", sg_last_error());
}

sg_status sg_vk_instance_init(void) {
    pthread_once(&vk.once, init_once);
    if (vk.status != SG_OK) return sg_error(vk.status, "%s", vk.error);
    return SG_OK;
}

int sg_vk_device_count(void) { return vk.n_devices; }

struct sg_vk_device *sg_vk_device_get(int i) {
    return i >= 0 && i < vk.n_devices ? vk.devices[i] : NULL;
}
