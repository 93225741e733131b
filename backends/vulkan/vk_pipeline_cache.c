/* The VkPipelineCache persisted on disk, so later runs skip the driver's shader compiles:
 * $XDG_CACHE_HOME/saeg (or ~/.cache/saeg)/vulkan-<vendor>-<device>-<hash>.bin, where the hash
 * covers the embedded shaders and the driver, so a new build or driver starts afresh. Written
 * to a temporary file and renamed, so a crash never leaves a torn cache. SAEG_VK_PIPELINE_CACHE=0
 * turns it off. Files of earlier builds and drivers are removed, least recently used first, once
 * the vulkan-*.bin files pass SAEG_VULKAN_CACHE_MAX_MB (default 256; core/cache_dir.c). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cache_dir.h"
#include "core/fs.h"
#include "vk_internal.h"

static const struct sg_cache_policy cache_policy = {.what           = "vulkan: pipeline cache",
                                                    .prefix         = "vulkan-",
                                                    .suffix         = ".bin",
                                                    .temp_marker    = ".bin.",
                                                    .cap_env        = "SAEG_VULKAN_CACHE_MAX_MB",
                                                    .default_cap_mb = 256};

static uint64_t fnv1a(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static bool cache_enabled(void) {
    const char *v = getenv("SAEG_VK_PIPELINE_CACHE");
    return !(v && strcmp(v, "0") == 0);
}

static bool cache_path(const struct sg_vk_device *d, char *dir, size_t dir_size, char *file, size_t file_size) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
        snprintf(dir, dir_size, "%s/saeg", xdg);
    else if (home && *home)
        snprintf(dir, dir_size, "%s/.cache/saeg", home);
    else
        return false;
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < SG_VK_SHADER_COUNT; i++) h = fnv1a(h, sg_vk_shader_blobs[i].code, sg_vk_shader_blobs[i].size);
    h     = fnv1a(h, &d->props.driverVersion, sizeof d->props.driverVersion);
    h     = fnv1a(h, d->props.pipelineCacheUUID, VK_UUID_SIZE);
    int n = snprintf(file, file_size, "%s/vulkan-%04x-%04x-%016llx.bin", dir, d->props.vendorID, d->props.deviceID,
                     (unsigned long long)h);
    return n > 0 && (size_t)n < file_size;
}

/* The driver checks the header too, but a file from elsewhere should not even reach it. */
static bool header_matches(const struct sg_vk_device *d, const unsigned char *data, size_t n) {
    VkPipelineCacheHeaderVersionOne hdr;
    if (n < sizeof hdr) return false;
    memcpy(&hdr, data, sizeof hdr);
    return hdr.headerVersion == VK_PIPELINE_CACHE_HEADER_VERSION_ONE && hdr.vendorID == d->props.vendorID &&
           hdr.deviceID == d->props.deviceID &&
           memcmp(hdr.pipelineCacheUUID, d->props.pipelineCacheUUID, VK_UUID_SIZE) == 0;
}

static void *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    void *data = NULL;
    long n     = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n > 0 && fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)n)) &&
        fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *size = data ? (size_t)n : 0;
    return data;
}

void sg_vk_pipeline_cache_load(struct sg_vk_device *d) {
    char dir[PATH_MAX], file[PATH_MAX + 64];
    size_t size = 0;
    void *data  = NULL;
    if (cache_enabled() && cache_path(d, dir, sizeof dir, file, sizeof file)) {
        data = read_file(file, &size);
        if (data && !header_matches(d, data, size)) {
            SG_LOGD("%s: ignoring pipeline cache %s (another driver or device)", d->name, file);
            free(data);
            data = NULL;
            size = 0;
        }
    }
    VkPipelineCacheCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO, .initialDataSize = size, .pInitialData = data};
    VkResult r = vkCreatePipelineCache(d->dev, &ci, NULL, &d->cache);
    if (r != VK_SUCCESS && data) { /* a corrupt file: start empty */
        ci.initialDataSize = 0;
        ci.pInitialData    = NULL;
        r                  = vkCreatePipelineCache(d->dev, &ci, NULL, &d->cache);
    }
    if (r != VK_SUCCESS)
        d->cache = VK_NULL_HANDLE; /* pipelines still work, uncached */
    else if (data) {
        SG_LOGD("%s: loaded %zu bytes of pipeline cache from %s", d->name, size, file);
        sg_cache_touch(file); /* in use: the last to be pruned */
    }
    free(data);
}

void sg_vk_pipeline_cache_save(struct sg_vk_device *d) {
    if (!d->cache || !d->cache_dirty || !cache_enabled()) return;
    char dir[PATH_MAX], file[PATH_MAX + 64], tmp[PATH_MAX + 96];
    if (!cache_path(d, dir, sizeof dir, file, sizeof file)) return;
    size_t size = 0;
    if (vkGetPipelineCacheData(d->dev, d->cache, &size, NULL) != VK_SUCCESS || size == 0) return;
    void *data = malloc(size);
    if (!data) return;
    bool ok = vkGetPipelineCacheData(d->dev, d->cache, &size, data) == VK_SUCCESS && sg_mkdir_p(dir) == SG_OK;
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", file, (long)getpid());
    FILE *f = ok ? fopen(tmp, "wb") : NULL;
    if (f) {
        ok = fwrite(data, 1, size, f) == size;
        ok = fclose(f) == 0 && ok;
        ok = ok && rename(tmp, file) == 0;
        if (!ok) remove(tmp);
    } else {
        ok = false;
    }
    free(data);
    if (ok) {
        d->cache_dirty = false;
        SG_LOGD("%s: saved %zu bytes of pipeline cache to %s", d->name, size, file);
        sg_cache_prune(&cache_policy, dir, strrchr(file, '/') + 1);
    } else {
        SG_LOGD("%s: could not write the pipeline cache %s", d->name, file);
    }
}
