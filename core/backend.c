/* The public face of backends: thin wrappers over the vtables, the registry, device selection
 * and buffer helpers. Plugin discovery is in plugin.c. */
#include "backend.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_impl.h"
#include "backend_priv.h"
#include "graph.h"
#include "log.h"
#include "context.h"
#include "ops.h"

/* ---- registry --------------------------------------------------------------------------- */

static struct sg_backend_status statuses[SG_MAX_BACKENDS];
static int n_statuses;

int sg_backend_status_add(const char *name, struct sg_backend_reg *reg, const char *path, const char *reason) {
    for (int i = 0; i < n_statuses; i++) {
        if (strcmp(statuses[i].name, name) != 0) continue;
        if (statuses[i].reg) return i;  /* first working plugin of a name wins */
        free((char *)statuses[i].name); /* strdup'd below */
        n_statuses--;                   /* replace the earlier failure with this attempt */
        memmove(&statuses[i], &statuses[i + 1], (size_t)(n_statuses - i) * sizeof statuses[0]);
        break;
    }
    if (n_statuses == SG_MAX_BACKENDS) return -1;
    struct sg_backend_status *s = &statuses[n_statuses];
    memset(s, 0, sizeof *s);
    s->name = strdup(name);
    s->reg  = reg;
    snprintf(s->path, sizeof s->path, "%s", path ? path : "");
    snprintf(s->reason, sizeof s->reason, "%s", reason ? reason : "");
    return n_statuses++;
}

int sg_backend_register(struct sg_backend_reg *reg, const char *path) {
    return sg_backend_status_add(reg->iface->name(reg), reg, path, NULL);
}

int sg_backend_status_count(void) {
    sg_backends_load();
    return n_statuses;
}

const struct sg_backend_status *sg_backend_status_get(int i) { return i >= 0 && i < n_statuses ? &statuses[i] : NULL; }

int sg_backend_reg_count(void) {
    sg_backends_load();
    int n = 0;
    for (int i = 0; i < n_statuses; i++) n += statuses[i].reg != NULL;
    return n;
}

struct sg_backend_reg *sg_backend_reg_get(int i) {
    for (int k = 0; k < n_statuses; k++) {
        if (!statuses[k].reg) continue;
        if (i-- == 0) return (struct sg_backend_reg *)statuses[k].reg;
    }
    return NULL;
}

struct sg_backend_reg *sg_backend_find_loaded(const char *name) {
    for (int k = 0; k < n_statuses; k++)
        if (statuses[k].reg && strcmp(statuses[k].name, name) == 0) return (struct sg_backend_reg *)statuses[k].reg;
    return NULL;
}

struct sg_backend_reg *sg_backend_reg_by_name(const char *name) {
    sg_backends_load();
    return sg_backend_find_loaded(name);
}

const char *sg_backend_reg_name(const struct sg_backend_reg *reg) { return reg->iface->name(reg); }

int sg_backend_reg_device_count(const struct sg_backend_reg *reg) { return reg->iface->device_count(reg); }

struct sg_device *sg_backend_reg_device(const struct sg_backend_reg *reg, int i) {
    if (i < 0 || i >= reg->iface->device_count(reg)) return NULL;
    return reg->iface->device(reg, i);
}

void *sg_backend_reg_proc(const struct sg_backend_reg *reg, const char *name) {
    return reg->iface->proc ? reg->iface->proc(reg, name) : NULL;
}

/* ---- devices ---------------------------------------------------------------------------- */

const char *sg_device_name(const struct sg_device *dev) { return dev->iface->name(dev); }
const char *sg_device_description(const struct sg_device *dev) { return dev->iface->description(dev); }
enum sg_device_type sg_device_type(const struct sg_device *dev) { return dev->iface->type(dev); }
struct sg_backend_reg *sg_device_reg(const struct sg_device *dev) {
    return dev->reg;
}

const char *sg_device_type_name(enum sg_device_type type) {
    switch (type) {
    case SG_DEVICE_CPU: return "cpu";
    case SG_DEVICE_GPU: return "gpu";
    case SG_DEVICE_IGPU: return "integrated gpu";
    case SG_DEVICE_OTHER: return "other";
    }
    return "?";
}

void sg_device_memory(const struct sg_device *dev, size_t *free, size_t *total) {
    *free = *total = 0;
    dev->iface->memory(dev, free, total);
}

bool sg_device_supports_op(const struct sg_device *dev, const struct sg_tensor *node) {
    if (node->op == SG_OP_NONE || sg_is_view_op(node->op)) return true;
    return dev->iface->supports_op(dev, node);
}

bool sg_device_supports_buft(const struct sg_device *dev, const struct sg_buffer_type *buft) {
    if (dev->iface->supports_buft) return dev->iface->supports_buft(dev, buft);
    return buft->device == dev;
}

struct sg_buffer_type *sg_device_buffer_type(const struct sg_device *dev) {
    return dev->iface->buffer_type((struct sg_device *)dev);
}

sg_status sg_device_open_stream(struct sg_device *dev, int n_threads, struct sg_stream **out) {
    *out = NULL;
    return dev->iface->open_stream(dev, n_threads, out);
}

struct sg_device *sg_device_cpu(void) {
    struct sg_backend_reg *reg = sg_backend_reg_by_name("cpu");
    return reg ? sg_backend_reg_device(reg, 0) : NULL;
}

/* Lists "name (description)" of every device into buf, for error messages. */
static void list_devices(char *buf, size_t size) {
    size_t n = 0;
    buf[0]   = '\0';
    for (int r = 0; r < sg_backend_reg_count(); r++) {
        struct sg_backend_reg *reg = sg_backend_reg_get(r);
        for (int d = 0; d < sg_backend_reg_device_count(reg) && n < size; d++) {
            struct sg_device *dev = sg_backend_reg_device(reg, d);
            n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", sg_device_name(dev));
        }
    }
}

/* The preference order of --device auto. */
static const char *const auto_order[] = {"cuda", "vulkan", "opencl", "cpu"};

/* --device auto wants a real accelerator that can run the model's core op; a CPU exposed through
 * Vulkan (lavapipe) or OpenCL (PoCL), or a backend still without kernels, would only be slower
 * than the CPU backend itself. */
static bool worth_choosing(struct sg_device *dev) {
    enum sg_device_type type = sg_device_type(dev);
    if (type == SG_DEVICE_CPU) return true;
    if (type != SG_DEVICE_GPU && type != SG_DEVICE_IGPU) return false;
    struct sg_ctx *ctx = sg_ctx_new();
    if (!ctx) return false;
    struct sg_tensor *a  = sg_new_tensor_2d(ctx, SG_TYPE_F32, 256, 256);
    struct sg_tensor *mm = sg_matmul(ctx, a, sg_new_tensor_2d(ctx, SG_TYPE_F32, 256, 256));
    bool ok              = mm && sg_device_supports_op(dev, mm);
    sg_ctx_free(ctx);
    return ok;
}

static int g_index_hint; /* sg_device_set_index_hint */

void sg_device_set_index_hint(int hint) { g_index_hint = hint < 0 ? 0 : hint; }

sg_status sg_device_select(const char *spec, struct sg_device **out) {
    *out         = NULL;
    sg_status st = sg_backends_load();
    if (st != SG_OK) return st;
    if (!spec || !*spec || strcmp(spec, "auto") == 0) {
        for (size_t i = 0; i < sizeof auto_order / sizeof auto_order[0]; i++) {
            struct sg_backend_reg *reg = sg_backend_reg_by_name(auto_order[i]);
            /* a backend whose kernels have not been verified on hardware yet is only used when
             * asked for by name (the CUDA plugin answers this until tests/gpu/run.sh passed) */
            const char *unverified = reg ? sg_backend_reg_proc(reg, "unverified") : NULL;
            if (unverified) {
                SG_LOGD("--device auto: skipping %s: %s", auto_order[i], unverified);
                continue;
            }
            const int n_dev = reg ? sg_backend_reg_device_count(reg) : 0;
            for (int j = 0; j < n_dev; j++) {
                /* ranks sharing a machine start at their own device (one GPU per rank) */
                struct sg_device *dev = sg_backend_reg_device(reg, (j + g_index_hint) % n_dev);
                if (!worth_choosing(dev)) continue;
                *out = dev;
                SG_LOGI("device: %s (%s), chosen by --device auto", sg_device_name(dev), sg_device_description(dev));
                return SG_OK;
            }
        }
        return sg_error(SG_ERR_NOT_FOUND, "--device auto: no device found, not even the CPU");
    }
    char name[64];
    const char *colon = strchr(spec, ':');
    size_t len        = colon ? (size_t)(colon - spec) : strlen(spec);
    if (len == 0 || len >= sizeof name)
        return sg_error(SG_ERR_INVALID_ARG, "--device '%s': expected NAME or NAME:INDEX", spec);
    memcpy(name, spec, len);
    name[len]  = '\0';
    long index = 0;
    if (colon) {
        char *end;
        index = strtol(colon + 1, &end, 10);
        if (colon[1] == '\0' || *end != '\0' || index < 0)
            return sg_error(SG_ERR_INVALID_ARG, "--device '%s': the index after ':' must be a number >= 0", spec);
    }
    char devices[512];
    list_devices(devices, sizeof devices);
    struct sg_backend_reg *reg = sg_backend_reg_by_name(name);
    if (!reg) {
        for (int i = 0; i < n_statuses; i++)
            if (strcmp(statuses[i].name, name) == 0)
                return sg_error(SG_ERR_NOT_FOUND, "--device %s: the %s backend is unavailable: %s (devices: %s)", spec,
                                name, statuses[i].reason, devices);
        return sg_error(SG_ERR_NOT_FOUND, "--device %s: unknown backend '%s' (devices: %s)", spec, name, devices);
    }
    int count = sg_backend_reg_device_count(reg);
    if (!colon && count > 0) index = g_index_hint % count; /* one device per rank, see above */
    if (index >= count)
        return sg_error(SG_ERR_NOT_FOUND, "--device %s: the %s backend has %d device%s (devices: %s)", spec, name,
                        count, count == 1 ? "" : "s", devices);
    *out = sg_backend_reg_device(reg, (int)index);
    if (!*out) return sg_error(SG_ERR_BACKEND, "--device %s: the %s backend did not return the device", spec, name);
    SG_LOGI("device: %s (%s)", sg_device_name(*out), sg_device_description(*out));
    return SG_OK;
}

/* ---- streams ---------------------------------------------------------------------------- */

void sg_stream_free(struct sg_stream *s) {
    if (s) s->iface->free_stream(s);
}

struct sg_device *sg_stream_device(const struct sg_stream *s) {
    return s->device;
}

sg_status sg_stream_compute(struct sg_stream *s, struct sg_graph *g) {
    for (int i = 0; i < g->n_nodes; i++) {
        const struct sg_tensor *t = g->nodes[i];
        if (!t->data)
            return sg_error(SG_ERR_INVALID_ARG, "compute: node %d '%s' (%s) has no memory; allocate the graph first", i,
                            t->name, sg_op_name(t->op));
        if (!sg_device_supports_op(s->device, t)) {
            char shape[96];
            return sg_error(SG_ERR_UNSUPPORTED, "compute: %s cannot run %s '%s' %s", sg_device_name(s->device),
                            sg_op_name(t->op), t->name, sg_shape_str(t, shape, sizeof shape));
        }
    }
    return s->iface->compute(s, g->nodes, g->n_nodes);
}

sg_status sg_stream_synchronize(struct sg_stream *s) {
    return s->iface->synchronize ? s->iface->synchronize(s) : SG_OK;
}

/* ---- memory ----------------------------------------------------------------------------- */

const char *sg_buffer_type_name(const struct sg_buffer_type *buft) { return buft->iface->name(buft); }
size_t sg_buffer_type_alignment(const struct sg_buffer_type *buft) { return buft->iface->alignment(buft); }
struct sg_device *sg_buffer_type_device(const struct sg_buffer_type *buft) {
    return buft->device;
}

size_t sg_buffer_type_max_size(const struct sg_buffer_type *buft) {
    return buft->iface->max_size ? buft->iface->max_size(buft) : SIZE_MAX;
}

bool sg_buffer_type_is_host(const struct sg_buffer_type *buft) {
    return buft->iface->is_host ? buft->iface->is_host(buft) : false;
}

sg_status sg_buffer_alloc(struct sg_buffer_type *buft, size_t size, struct sg_buffer **out) {
    *out = NULL;
    if (size == 0) size = sg_buffer_type_alignment(buft);
    sg_status st = buft->iface->alloc_buffer(buft, size, out);
    if (st != SG_OK) return sg_error_wrap(st, "allocating %zu bytes on %s", size, sg_buffer_type_name(buft));
    (*out)->buft = buft;
    (*out)->size = size;
    return SG_OK;
}

void sg_buffer_free(struct sg_buffer *buf) {
    if (buf) buf->iface->free_buffer(buf);
}

size_t sg_buffer_size(const struct sg_buffer *buf) { return buf->size; }
struct sg_buffer_type *sg_buffer_get_type(const struct sg_buffer *buf) {
    return buf->buft;
}

sg_status sg_buffer_clear(struct sg_buffer *buf, uint8_t value) { return buf->iface->clear(buf, value); }

sg_status sg_buffer_place_tensor(struct sg_buffer *buf, struct sg_tensor *t, size_t offset) {
    if (t->view_src) return sg_error(SG_ERR_INVALID_ARG, "place tensor: '%s' is a view", t->name);
    if (offset + sg_nbytes(t) > buf->size)
        return sg_error(SG_ERR_INVALID_ARG, "place tensor: '%s' at %zu + %zu bytes exceeds the buffer's %zu", t->name,
                        offset, sg_nbytes(t), buf->size);
    t->buffer = buf;
    t->data   = (char *)buf->iface->base(buf) + offset;
    return buf->iface->init_tensor ? buf->iface->init_tensor(buf, t) : SG_OK;
}

sg_status sg_tensor_init_view(struct sg_tensor *view) {
    struct sg_tensor *base = view->view_src;
    if (!base || !base->data) return sg_error(SG_ERR_INVALID_ARG, "view '%s': its base has no memory", view->name);
    view->buffer = base->buffer;
    view->data   = (char *)base->data + view->view_offs;
    return view->buffer->iface->init_tensor ? view->buffer->iface->init_tensor(view->buffer, view) : SG_OK;
}

void sg_buffer_list_free(struct sg_buffer_list *list) {
    for (int i = 0; i < list->n; i++) sg_buffer_free(list->bufs[i]);
    free(list->bufs);
    list->bufs = NULL;
    list->n    = 0;
}

static sg_status list_push(struct sg_buffer_list *list, struct sg_buffer *buf) {
    struct sg_buffer **b = realloc(list->bufs, (size_t)(list->n + 1) * sizeof *b);
    if (!b) {
        sg_buffer_free(buf);
        return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    }
    list->bufs            = b;
    list->bufs[list->n++] = buf;
    return SG_OK;
}

/* Tensors that need their own memory: not views, not yet placed. */
static bool wants_memory(const struct sg_tensor *t) { return !t->view_src && !t->data; }

static size_t padded_size(struct sg_buffer_type *buft, const struct sg_tensor *t, size_t align) {
    const struct sg_buffer_type_i *bi = buft->iface;
    size_t bytes                      = bi->alloc_size ? bi->alloc_size(buft, t) : sg_nbytes(t);
    return (bytes + align - 1) / align * align;
}

sg_status sg_alloc_tensors(struct sg_tensor *const *ts, int n, struct sg_buffer_type *buft,
                           struct sg_buffer_list *out) {
    size_t align = sg_buffer_type_alignment(buft), max = sg_buffer_type_max_size(buft);
    int first    = 0;
    sg_status st = SG_OK;
    /* greedy: fill a buffer up to the type's maximum size, then start the next one */
    while (st == SG_OK && first < n) {
        size_t size = 0;
        int last    = first;
        for (; last < n; last++) {
            const struct sg_tensor *t = ts[last];
            if (!wants_memory(t)) continue;
            size_t bytes = padded_size(buft, t, align);
            if (bytes > max) {
                char s[96];
                st = sg_error(SG_ERR_NO_MEMORY, "'%s' %s needs %zu bytes, more than one %s buffer can hold (%zu)",
                              t->name, sg_shape_str(t, s, sizeof s), bytes, sg_buffer_type_name(buft), max);
                break;
            }
            if (size + bytes > max) break;
            size += bytes;
        }
        if (st != SG_OK || size == 0) break;
        struct sg_buffer *buf;
        st = sg_buffer_alloc(buft, size, &buf);
        if (st == SG_OK) st = list_push(out, buf);
        size_t offset = 0;
        for (int i = first; st == SG_OK && i < last; i++) {
            if (!wants_memory(ts[i])) continue;
            st = sg_buffer_place_tensor(buf, ts[i], offset);
            offset += padded_size(buft, ts[i], align);
        }
        first = last;
    }
    for (int i = 0; st == SG_OK && i < n; i++) {
        struct sg_tensor *t = ts[i];
        if (t->view_src && t->view_src->data && !t->data) st = sg_tensor_init_view(t);
    }
    return st;
}

sg_status sg_alloc_ctx_tensors(struct sg_ctx *ctx, struct sg_buffer_type *buft, struct sg_buffer_list *out) {
    memset(out, 0, sizeof *out);
    int n                 = sg_ctx_n_tensors(ctx);
    struct sg_tensor **ts = malloc((size_t)(n ? n : 1) * sizeof *ts);
    if (!ts) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    for (int i = 0; i < n; i++) ts[i] = sg_ctx_tensor(ctx, i);
    sg_status st = sg_alloc_tensors(ts, n, buft, out);
    free(ts);
    if (st != SG_OK) sg_buffer_list_free(out);
    return st;
}
