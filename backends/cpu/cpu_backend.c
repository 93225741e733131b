/* The built-in CPU backend: registry "cpu" with one device, "cpu:0" like every backend's. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/cpu_internal.h"
#include "backends/cpu/cpu_kernels.h"

struct sg_cpu_device_ctx {
    char description[256];
    struct sg_buffer_type *buft;
};

static struct sg_cpu_device_ctx sg_cpu_dev_ctx;
static pthread_once_t sg_cpu_dev_once = PTHREAD_ONCE_INIT;

/* "AMD EPYC 9R45, 16 threads, OpenBLAS SkylakeX kernels": the model name from /proc/cpuinfo ("model name" on x86,
 * "Model"/"Hardware" on some ARM kernels) and the threads a stream uses by default. */
static void sg_cpu_describe(char *out, size_t size) {
    char model[160] = "";
    FILE *f         = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            const char *keys[] = {"model name", "Model", "Hardware"};
            for (size_t k = 0; k < sizeof keys / sizeof keys[0] && !model[0]; k++) {
                size_t n = strlen(keys[k]);
                if (strncmp(line, keys[k], n) != 0 || (line[n] != ' ' && line[n] != '\t' && line[n] != ':')) continue;
                const char *v = strchr(line, ':');
                if (!v) continue;
                v++;
                while (*v == ' ' || *v == '\t') v++;
                snprintf(model, sizeof model, "%s", v);
                model[strcspn(model, "\n")] = '\0';
            }
            if (model[0]) break;
        }
        fclose(f);
    }
    if (!model[0]) snprintf(model, sizeof model, "CPU");
    int n = sg_cpu_default_threads();
    snprintf(out, size, "%s, %d thread%s, OpenBLAS %s kernels", model, n, n == 1 ? "" : "s", sg_cpu_blas_corename());
}

static struct sg_device sg_cpu_device;

static void sg_cpu_device_init(void) {
    sg_cpu_describe(sg_cpu_dev_ctx.description, sizeof sg_cpu_dev_ctx.description);
    sg_cpu_dev_ctx.buft = sg_cpu_buffer_type(&sg_cpu_device);
}

static struct sg_cpu_device_ctx *sg_cpu_device_ctx(void) {
    pthread_once(&sg_cpu_dev_once, sg_cpu_device_init);
    return &sg_cpu_dev_ctx;
}

static const char *sg_cpu_device_name(const struct sg_device *dev) {
    (void)dev;
    return "cpu:0";
}

static const char *sg_cpu_device_description(const struct sg_device *dev) {
    (void)dev;
    return sg_cpu_device_ctx()->description;
}

static enum sg_device_type sg_cpu_device_type(const struct sg_device *dev) {
    (void)dev;
    return SG_DEVICE_CPU;
}

/* Free memory is MemAvailable (what can be allocated without swapping), not MemFree. */
static void sg_cpu_device_memory(const struct sg_device *dev, size_t *free_mem, size_t *total) {
    (void)dev;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    size_t tot   = pages > 0 && page > 0 ? (size_t)pages * (size_t)page : 0;
    size_t avail = 0;
    FILE *f      = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "MemAvailable:", 13) == 0) {
                avail = (size_t)strtoull(line + 13, NULL, 10) * 1024; /* "MemAvailable:  123456 kB" */
                break;
            }
        fclose(f);
    }
#ifdef _SC_AVPHYS_PAGES
    if (!avail) {
        long av = sysconf(_SC_AVPHYS_PAGES);
        if (av > 0 && page > 0) avail = (size_t)av * (size_t)page;
    }
#endif
    if (free_mem) *free_mem = avail;
    if (total) *total = tot;
}

static struct sg_buffer_type *sg_cpu_device_buffer_type(struct sg_device *dev) {
    (void)dev;
    return sg_cpu_device_ctx()->buft;
}

static bool sg_cpu_device_supports_op(const struct sg_device *dev, const struct sg_tensor *node) {
    (void)dev;
    return sg_cpu_supports_op(node);
}

/* Kernels read plain host pointers, so any host-resident memory will do (e.g. pinned memory
 * a GPU backend hands out). */
static bool sg_cpu_device_supports_buft(const struct sg_device *dev, const struct sg_buffer_type *buft) {
    (void)dev;
    return sg_buffer_type_is_host(buft);
}

static const struct sg_device_i sg_cpu_device_i = {
    .name          = sg_cpu_device_name,
    .description   = sg_cpu_device_description,
    .type          = sg_cpu_device_type,
    .memory        = sg_cpu_device_memory,
    .open_stream   = sg_cpu_stream_open,
    .buffer_type   = sg_cpu_device_buffer_type,
    .supports_op   = sg_cpu_device_supports_op,
    .supports_buft = sg_cpu_device_supports_buft,
};

static const char *sg_cpu_reg_name(const struct sg_backend_reg *reg) {
    (void)reg;
    return "cpu";
}

static int sg_cpu_reg_device_count(const struct sg_backend_reg *reg) {
    (void)reg;
    return 1;
}

static struct sg_device *sg_cpu_reg_device(const struct sg_backend_reg *reg, int i) {
    (void)reg;
    return i == 0 ? &sg_cpu_device : NULL;
}

static void *sg_cpu_reg_proc(const struct sg_backend_reg *reg, const char *name) {
    (void)reg;
    if (name && strcmp(name, "sg_cpu_stream_set_reference") == 0) return (void *)sg_cpu_stream_set_reference;
    return NULL;
}

static const struct sg_backend_reg_i sg_cpu_reg_i = {
    .name         = sg_cpu_reg_name,
    .device_count = sg_cpu_reg_device_count,
    .device       = sg_cpu_reg_device,
    .proc         = sg_cpu_reg_proc,
};

static struct sg_backend_reg sg_cpu_reg = {
    .api_version = SG_BACKEND_API_VERSION,
    .iface       = &sg_cpu_reg_i,
    .context     = NULL,
};

static struct sg_device sg_cpu_device = {
    .iface   = &sg_cpu_device_i,
    .reg     = &sg_cpu_reg,
    .context = &sg_cpu_dev_ctx,
};

struct sg_backend_reg *sg_cpu_backend_reg(void) {
    return &sg_cpu_reg;
}
