/* Discovery: every device of every OpenCL platform that can run our OpenCL C 1.2 kernels, with
 * the capabilities the kernels and the buffer type depend on. Devices are accepted by what
 * they report (version, compiler, availability), never by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "cl_internal.h"

static struct sg_cl_device *devices;
static int n_devices;

int sg_cl_device_count(void) { return n_devices; }

struct sg_cl_device *sg_cl_device_get(int i) {
    return i >= 0 && i < n_devices ? &devices[i] : NULL;
}

static void query_str(cl_device_id dev, cl_device_info what, char *out, size_t size) {
    out[0] = '\0';
    if (clGetDeviceInfo(dev, what, size, out, NULL) != CL_SUCCESS) out[0] = '\0';
    out[size - 1] = '\0';
}

/* "OpenCL C 1.2 PoCL" / "OpenCL 3.0 CUDA" -> major, minor after the given prefix. */
static void parse_version(const char *s, const char *prefix, int *major, int *minor) {
    *major = *minor = 0;
    const char *p   = strstr(s, prefix);
    if (!p) return;
    char *end;
    *major = (int)strtol(p + strlen(prefix), &end, 10);
    if (*end == '.') *minor = (int)strtol(end + 1, NULL, 10);
}

/* Whether ext (a whole word) is in the space-separated extension list. */
static bool has_extension(const char *list, const char *ext) {
    size_t n = strlen(ext);
    for (const char *p = strstr(list, ext); p; p = strstr(p + 1, ext))
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return true;
    return false;
}

/* Fills d from the device's reports; returns NULL when usable, else why not. */
static const char *describe_device(struct sg_cl_device *d, cl_platform_id platform, cl_device_id id,
                                   const char *platform_name) {
    d->platform = platform;
    d->id       = id;
    query_str(id, CL_DEVICE_NAME, d->device_name, sizeof d->device_name);
    query_str(id, CL_DRIVER_VERSION, d->driver_version, sizeof d->driver_version);
    query_str(id, CL_DEVICE_VERSION, d->device_version, sizeof d->device_version);
    clGetPlatformInfo(platform, CL_PLATFORM_VERSION, sizeof d->platform_version, d->platform_version, NULL);
    d->platform_version[sizeof d->platform_version - 1] = '\0';

    char c_version[128], *exts = NULL;
    query_str(id, CL_DEVICE_OPENCL_C_VERSION, c_version, sizeof c_version);
    parse_version(c_version, "OpenCL C ", &d->cl_c_major, &d->cl_c_minor);
    size_t ext_size = 0;
    if (clGetDeviceInfo(id, CL_DEVICE_EXTENSIONS, 0, NULL, &ext_size) == CL_SUCCESS && (exts = malloc(ext_size + 1))) {
        if (clGetDeviceInfo(id, CL_DEVICE_EXTENSIONS, ext_size, exts, NULL) != CL_SUCCESS) exts[0] = '\0';
        exts[ext_size]   = '\0';
        d->has_fp16      = has_extension(exts, "cl_khr_fp16");
        d->has_subgroups = has_extension(exts, "cl_khr_subgroups") || has_extension(exts, "cl_intel_subgroups");
        free(exts);
    }

    cl_bool available = CL_FALSE, compiler = CL_FALSE;
    cl_uint align_bits = 0;
    clGetDeviceInfo(id, CL_DEVICE_TYPE, sizeof d->cl_type, &d->cl_type, NULL);
    clGetDeviceInfo(id, CL_DEVICE_AVAILABLE, sizeof available, &available, NULL);
    clGetDeviceInfo(id, CL_DEVICE_COMPILER_AVAILABLE, sizeof compiler, &compiler, NULL);
    clGetDeviceInfo(id, CL_DEVICE_LOCAL_MEM_SIZE, sizeof d->local_mem_size, &d->local_mem_size, NULL);
    clGetDeviceInfo(id, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof d->max_wg_size, &d->max_wg_size, NULL);
    clGetDeviceInfo(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof d->max_alloc_size, &d->max_alloc_size, NULL);
    clGetDeviceInfo(id, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof d->global_mem_size, &d->global_mem_size, NULL);
    clGetDeviceInfo(id, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof d->compute_units, &d->compute_units, NULL);
    clGetDeviceInfo(id, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits, &align_bits, NULL);
    d->base_align = align_bits / 8 > 256 ? align_bits / 8 : 256;

    int major, minor;
    parse_version(d->device_version, "OpenCL ", &major, &minor);
    snprintf(d->description, sizeof d->description, "%s (%s, OpenCL %d.%d)", d->device_name, platform_name, major,
             minor);

    if (!available) return "not available";
    if (!compiler) return "has no OpenCL C compiler";
    if (d->cl_c_major * 10 + d->cl_c_minor < 12) return "supports only OpenCL C < 1.2";
    if (d->max_wg_size < 64) return "allows fewer than 64 work-items per group";
    if (d->local_mem_size < 16 * 1024) return "has less than 16 KiB of local memory";
    return NULL;
}

static sg_status add_device(const struct sg_cl_device *d) {
    struct sg_cl_device *grown = realloc(devices, (size_t)(n_devices + 1) * sizeof *grown);
    if (!grown) return sg_error(SG_ERR_NO_MEMORY, "OpenCL: out of memory listing devices");
    devices              = grown;
    devices[n_devices++] = *d;
    return SG_OK;
}

sg_status sg_cl_devices_init(struct sg_backend_reg *reg) {
    cl_uint n_platforms = 0;
    cl_int err          = clGetPlatformIDs(0, NULL, &n_platforms);
    if (err != CL_SUCCESS)
        return sg_error(SG_ERR_NOT_FOUND, "no OpenCL platform (clGetPlatformIDs: %s)", sg_cl_error_name(err));
    if (n_platforms == 0) return sg_error(SG_ERR_NOT_FOUND, "no OpenCL platform (clGetPlatformIDs found none)");
    cl_platform_id *platforms = calloc(n_platforms, sizeof *platforms);
    if (!platforms) return sg_error(SG_ERR_NO_MEMORY, "OpenCL: out of memory listing platforms");
    err = clGetPlatformIDs(n_platforms, platforms, NULL);
    if (err != CL_SUCCESS) {
        free(platforms);
        return sg_error(SG_ERR_NOT_FOUND, "no OpenCL platform (clGetPlatformIDs: %s)", sg_cl_error_name(err));
    }

    char rejected[512] = "";
    size_t rej_len     = 0;
    sg_status st       = SG_OK;
    for (cl_uint p = 0; p < n_platforms && st == SG_OK; p++) {
        char pname[256] = "";
        clGetPlatformInfo(platforms[p], CL_PLATFORM_NAME, sizeof pname, pname, NULL);
        pname[sizeof pname - 1] = '\0';
        cl_uint n               = 0;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &n) != CL_SUCCESS || n == 0) continue;
        cl_device_id *ids = calloc(n, sizeof *ids);
        if (!ids || clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, n, ids, NULL) != CL_SUCCESS) {
            free(ids);
            continue;
        }
        for (cl_uint i = 0; i < n && st == SG_OK; i++) {
            struct sg_cl_device d = {0};
            const char *why       = describe_device(&d, platforms[p], ids[i], pname);
            if (why) {
                SG_LOGD("opencl: skipping %s: %s", d.description, why);
                if (rej_len < sizeof rejected)
                    rej_len += (size_t)snprintf(rejected + rej_len, sizeof rejected - rej_len, "%s%s %s",
                                                rej_len ? "; " : "", d.device_name, why);
                continue;
            }
            d.index = n_devices;
            snprintf(d.name, sizeof d.name, "opencl:%d", d.index);
            st = add_device(&d);
        }
        free(ids);
    }
    free(platforms);
    if (st != SG_OK) return st;
    if (n_devices == 0)
        return sg_error(SG_ERR_NOT_FOUND, "no usable OpenCL device%s%s",
                        rejected[0] ? ": " : " (no platform has devices)", rejected);

    for (int i = 0; i < n_devices; i++) {
        struct sg_cl_device *d = &devices[i];
        pthread_mutex_init(&d->lock, NULL);
        d->dev  = (struct sg_device){.iface = &sg_cl_device_i, .reg = reg, .context = d};
        d->buft = (struct sg_buffer_type){.iface = &sg_cl_buffer_type_i, .device = &d->dev, .context = d};
        SG_LOGD("opencl: %s = %s; OpenCL C %d.%d, %u compute units, %llu KiB local memory, work-groups up to %zu, "
                "buffers up to %llu MiB%s%s",
                d->name, d->description, d->cl_c_major, d->cl_c_minor, d->compute_units,
                (unsigned long long)d->local_mem_size / 1024, d->max_wg_size,
                (unsigned long long)d->max_alloc_size >> 20, d->has_fp16 ? ", cl_khr_fp16" : "",
                d->has_subgroups ? ", subgroups" : "");
    }
    return SG_OK;
}
