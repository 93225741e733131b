/* Physical device properties and capabilities, the logical device (created on first use), and
 * the sg_device vtable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_internal.h"

static bool device_has_extension(VkPhysicalDevice phys, const char *name) {
    uint32_t n = 0;
    if (vkEnumerateDeviceExtensionProperties(phys, NULL, &n, NULL) != VK_SUCCESS || n == 0) return false;
    VkExtensionProperties *exts = calloc(n, sizeof *exts);
    bool found                  = false;
    if (exts && vkEnumerateDeviceExtensionProperties(phys, NULL, &n, exts) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = strcmp(exts[i].extensionName, name) == 0;
    free(exts);
    return found;
}

static bool find_compute_queue(VkPhysicalDevice phys, uint32_t *family) {
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(phys, &n, NULL);
    VkQueueFamilyProperties *q = calloc(n ? n : 1, sizeof *q);
    if (!q) return false;
    vkGetPhysicalDeviceQueueFamilyProperties(phys, &n, q);
    bool found = false;
    /* a compute-only family first (async compute on discrete GPUs), else any with compute */
    for (int pass = 0; pass < 2 && !found; pass++) {
        for (uint32_t i = 0; i < n && !found; i++) {
            bool compute  = q[i].queueFlags & VK_QUEUE_COMPUTE_BIT;
            bool graphics = q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT;
            if (compute && (pass == 1 || !graphics)) {
                *family = i;
                found   = true;
            }
        }
    }
    free(q);
    return found;
}

static enum sg_device_type map_type(VkPhysicalDeviceType t) {
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return SG_DEVICE_GPU;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return SG_DEVICE_IGPU;
    default: return SG_DEVICE_OTHER; /* CPU implementations (lavapipe, SwiftShader) and others */
    }
}

sg_status sg_vk_device_probe(struct sg_vk_device *d, VkPhysicalDevice phys, int index) {
    d->phys  = phys;
    d->index = index;
    vkGetPhysicalDeviceProperties(phys, &d->props);
    vkGetPhysicalDeviceMemoryProperties(phys, &d->mem_props);
    if (d->props.apiVersion < VK_API_VERSION_1_2)
        return sg_error(SG_ERR_UNSUPPORTED, "%s supports Vulkan %u.%u; 1.2 is needed", d->props.deviceName,
                        VK_API_VERSION_MAJOR(d->props.apiVersion), VK_API_VERSION_MINOR(d->props.apiVersion));
    if (!find_compute_queue(phys, &d->queue_family))
        return sg_error(SG_ERR_UNSUPPORTED, "%s has no compute queue", d->props.deviceName);

    VkPhysicalDeviceDriverProperties driver       = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceSubgroupProperties subgroup   = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES,
                                                     .pNext = &driver};
    VkPhysicalDeviceMaintenance3Properties maint3 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES, .pNext = &subgroup};
    VkPhysicalDeviceProperties2 props2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &maint3};
    vkGetPhysicalDeviceProperties2(phys, &props2);

    VkPhysicalDeviceVulkan11Features f11 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
    VkPhysicalDeviceFeatures2 feats2     = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f11};
    vkGetPhysicalDeviceFeatures2(phys, &feats2);

    const VkPhysicalDeviceLimits *lim = &d->props.limits;
    struct sg_vk_caps *c              = &d->caps;
    /* SAEG_VK_DISABLE_* switch the optional paths off, to test the fallbacks on any device */
    c->storage16      = f11.storageBuffer16BitAccess && !sg_vk_env_flag("SAEG_VK_DISABLE_STORAGE16");
    c->subgroup_arith = (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                        (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) &&
                        (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_BASIC_BIT) &&
                        !sg_vk_env_flag("SAEG_VK_DISABLE_SUBGROUP");
    c->subgroup_size      = subgroup.subgroupSize;
    c->memory_budget      = device_has_extension(phys, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
    c->max_shared         = lim->maxComputeSharedMemorySize;
    c->max_wg_invocations = lim->maxComputeWorkGroupInvocations;
    for (int i = 0; i < 3; i++) c->max_groups[i] = lim->maxComputeWorkGroupCount[i];
    if (c->max_wg_invocations < 256)
        return sg_error(SG_ERR_UNSUPPORTED, "%s allows only %u invocations per workgroup; 256 are needed",
                        d->props.deviceName, c->max_wg_invocations);

    /* one buffer must stay addressable by one descriptor: lavapipe caps storage buffers at
     * 128 MiB, so bigger allocations are split by the allocator (max_size) */
    uint64_t max = lim->maxStorageBufferRange;
    if (maint3.maxMemoryAllocationSize && maint3.maxMemoryAllocationSize < max) max = maint3.maxMemoryAllocationSize;
    if (max > ((uint64_t)1 << 32) - 256) max = ((uint64_t)1 << 32) - 256; /* kernels index with 32 bits */
    d->max_buffer = (size_t)(max / 256 * 256);

    snprintf(d->name, sizeof d->name, "vulkan:%d", index);
    /* "NVIDIA H100 80GB HBM3, NVIDIA 580.82.07"; "llvmpipe (...), llvmpipe Mesa 22.3.6 (...)" */
    snprintf(d->description, sizeof d->description, "%s, %s %s", d->props.deviceName, driver.driverName,
             driver.driverInfo);
    enum sg_device_type type = map_type(d->props.deviceType);
    /* share host memory where the device does (CPU drivers, integrated GPUs): no staging copies */
    d->direct = type != SG_DEVICE_GPU && !sg_vk_env_flag("SAEG_VK_STAGING");
    if (d->direct) {
        VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                     VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
        bool found = false;
        for (uint32_t i = 0; i < d->mem_props.memoryTypeCount && !found; i++)
            found = (d->mem_props.memoryTypes[i].propertyFlags & want) == want;
        d->direct = found;
    }

    pthread_mutex_init(&d->lock, NULL);
    d->base = (struct sg_device){.iface = &sg_vk_device_i, .reg = NULL, .context = d};
    sg_vk_buffer_type_init(d);
    return SG_OK;
}

static sg_status create_device(struct sg_vk_device *d) {
    float priority              = 1.0f;
    VkDeviceQueueCreateInfo qci = {
        .sType            = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = d->queue_family,
        .queueCount       = 1,
        .pQueuePriorities = &priority,
    };
    VkPhysicalDeviceVulkan11Features f11 = {
        .sType                    = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
        .storageBuffer16BitAccess = d->caps.storage16,
    };
    VkPhysicalDeviceFeatures2 feats = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f11};
    const char *exts[2];
    uint32_t n_exts = 0;
    /* a portability driver (MoltenVK) must have its subset extension enabled */
    if (device_has_extension(d->phys, "VK_KHR_portability_subset")) exts[n_exts++] = "VK_KHR_portability_subset";
    VkDeviceCreateInfo ci = {
        .sType                   = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .pNext                   = &feats,
        .queueCreateInfoCount    = 1,
        .pQueueCreateInfos       = &qci,
        .enabledExtensionCount   = n_exts,
        .ppEnabledExtensionNames = exts,
    };
    VkResult r = vkCreateDevice(d->phys, &ci, NULL, &d->dev);
    if (r != VK_SUCCESS) return sg_vk_error(d, r, "vkCreateDevice");
    vkGetDeviceQueue(d->dev, d->queue_family, 0, &d->queue);

    VkCommandPoolCreateInfo pci = {
        .sType            = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags            = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = d->queue_family,
    };
    r = vkCreateCommandPool(d->dev, &pci, NULL, &d->xfer_pool);
    if (r != VK_SUCCESS) return sg_vk_error(d, r, "vkCreateCommandPool");
    VkCommandBufferAllocateInfo ai = {
        .sType              = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool        = d->xfer_pool,
        .level              = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    r = vkAllocateCommandBuffers(d->dev, &ai, &d->xfer_cb);
    if (r != VK_SUCCESS) return sg_vk_error(d, r, "vkAllocateCommandBuffers");
    VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    r                     = vkCreateFence(d->dev, &fci, NULL, &d->xfer_fence);
    if (r != VK_SUCCESS) return sg_vk_error(d, r, "vkCreateFence");
    sg_status st = sg_vk_layouts_create(d);
    if (st != SG_OK) return st;
    sg_vk_pipeline_cache_load(d);
    SG_LOGD("%s: %s; max buffer %zu MiB, shared memory %u KiB, subgroup %u%s%s%s", d->name, d->description,
            d->max_buffer >> 20, d->caps.max_shared >> 10, d->caps.subgroup_size,
            d->caps.subgroup_arith ? " (arithmetic)" : "", d->caps.storage16 ? ", 16-bit storage" : "",
            d->direct ? ", host-mapped memory" : ", staging copies");
    return SG_OK;
}

sg_status sg_vk_device_open(struct sg_vk_device *d) {
    pthread_mutex_lock(&d->lock);
    if (!d->opened) {
        d->opened      = true;
        d->open_status = create_device(d);
        if (d->open_status != SG_OK) snprintf(d->open_error, sizeof d->open_error, "%s", sg_last_error());
    }
    sg_status st = d->open_status;
    pthread_mutex_unlock(&d->lock);
    if (st != SG_OK) return sg_error(st, "%s", d->open_error);
    return SG_OK;
}

/* ---- the sg_device vtable --------------------------------------------------------------- */

static const char *vk_dev_name(const struct sg_device *dev) { return sg_vk_dev(dev)->name; }

static const char *vk_dev_description(const struct sg_device *dev) { return sg_vk_dev(dev)->description; }

static enum sg_device_type vk_dev_type(const struct sg_device *dev) {
    return map_type(sg_vk_dev(dev)->props.deviceType);
}

/* The device-local heaps: their budget when VK_EXT_memory_budget says it, else their sizes
 * less what this process allocated. */
static void vk_dev_memory(const struct sg_device *dev, size_t *free_mem, size_t *total) {
    struct sg_vk_device *d                           = sg_vk_dev(dev);
    VkPhysicalDeviceMemoryBudgetPropertiesEXT budget = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
    VkPhysicalDeviceMemoryProperties2 mp = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2,
                                            .pNext = d->caps.memory_budget ? &budget : NULL};
    vkGetPhysicalDeviceMemoryProperties2(d->phys, &mp);
    uint64_t tot = 0, avail = 0;
    for (uint32_t i = 0; i < mp.memoryProperties.memoryHeapCount; i++) {
        const VkMemoryHeap *h = &mp.memoryProperties.memoryHeaps[i];
        if (!(h->flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)) continue;
        tot += h->size;
        if (d->caps.memory_budget)
            avail += budget.heapBudget[i] > budget.heapUsage[i] ? budget.heapBudget[i] - budget.heapUsage[i] : 0;
    }
    if (!d->caps.memory_budget) avail = tot > d->allocated ? tot - d->allocated : 0;
    *free_mem = (size_t)avail;
    *total    = (size_t)tot;
}

static struct sg_buffer_type *vk_dev_buffer_type(struct sg_device *dev) { return &sg_vk_dev(dev)->buft; }

static bool vk_dev_supports_op(const struct sg_device *dev, const struct sg_tensor *node) {
    return sg_vk_supports_op(sg_vk_dev(dev), node);
}

const struct sg_device_i sg_vk_device_i = {
    .name          = vk_dev_name,
    .description   = vk_dev_description,
    .type          = vk_dev_type,
    .memory        = vk_dev_memory,
    .open_stream   = sg_vk_stream_open,
    .buffer_type   = vk_dev_buffer_type,
    .supports_op   = vk_dev_supports_op,
    .supports_buft = NULL, /* kernels read only this device's buffers */
};
