/* Device memory: the "vulkan" buffer type, one VkBuffer per sg_buffer, and host transfers.
 *
 * Devices that share host memory (lavapipe, integrated GPUs) get host-mapped device-local
 * memory and transfers are memcpy once the queue has drained. Discrete GPUs get device-local
 * memory and transfers go through one persistent staging buffer. Every buffer is at most
 * d->max_buffer bytes, so a tensor is always addressable through one descriptor. */
#include <stdlib.h>
#include <string.h>

#include "vk_internal.h"

#define SG_VK_ALIGN       256 /* >= minStorageBufferOffsetAlignment everywhere */
#define SG_VK_STAGING_MIN ((size_t)1 << 20)
#define SG_VK_STAGING_MAX ((size_t)64 << 20)

struct sg_vk_buffer_ctx {
    struct sg_vk_device *dev;
    struct sg_vk_mem mem;
};

static int find_mem_type(const struct sg_vk_device *d, uint32_t bits, VkMemoryPropertyFlags need,
                         VkMemoryPropertyFlags prefer) {
    int fallback = -1;
    for (uint32_t i = 0; i < d->mem_props.memoryTypeCount; i++) {
        VkMemoryPropertyFlags f = d->mem_props.memoryTypes[i].propertyFlags;
        if (!(bits & (1u << i)) || (f & need) != need) continue;
        if ((f & prefer) == prefer) return (int)i;
        if (fallback < 0) fallback = (int)i;
    }
    return fallback;
}

void sg_vk_mem_free(struct sg_vk_device *d, struct sg_vk_mem *m) {
    if (m->buf) vkDestroyBuffer(d->dev, m->buf, NULL);
    if (m->mem) {
        vkFreeMemory(d->dev, m->mem, NULL);
        __atomic_sub_fetch(&d->allocated, m->held, __ATOMIC_RELAXED);
    }
    memset(m, 0, sizeof *m);
}

/* A buffer with memory of the given properties, mapped when host-visible. */
static sg_status mem_create(struct sg_vk_device *d, size_t size, VkMemoryPropertyFlags need,
                            VkMemoryPropertyFlags prefer, struct sg_vk_mem *out) {
    memset(out, 0, sizeof *out);
    VkBufferCreateInfo bci = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size  = size,
        .usage =
            VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkResult r = vkCreateBuffer(d->dev, &bci, NULL, &out->buf);
    if (r != VK_SUCCESS) return sg_vk_error(d, r, "vkCreateBuffer");
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(d->dev, out->buf, &req);
    int type = find_mem_type(d, req.memoryTypeBits, need, prefer);
    if (type < 0) {
        sg_vk_mem_free(d, out);
        return sg_error(SG_ERR_UNSUPPORTED, "%s: no memory type with properties 0x%x for a buffer", d->name,
                        (unsigned)need);
    }
    VkMemoryAllocateInfo ai = {
        .sType           = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize  = req.size,
        .memoryTypeIndex = (uint32_t)type,
    };
    r = vkAllocateMemory(d->dev, &ai, NULL, &out->mem);
    if (r == VK_SUCCESS) {
        out->held = (size_t)req.size;
        __atomic_add_fetch(&d->allocated, out->held, __ATOMIC_RELAXED);
        r = vkBindBufferMemory(d->dev, out->buf, out->mem, 0);
    }
    if (r == VK_SUCCESS && (need & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))
        r = vkMapMemory(d->dev, out->mem, 0, VK_WHOLE_SIZE, 0, &out->map);
    if (r != VK_SUCCESS) {
        sg_vk_mem_free(d, out);
        sg_vk_error(d, r, "allocating device memory");
        return sg_error_wrap(r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY ? SG_ERR_NO_MEMORY
                                                                                                    : SG_ERR_BACKEND,
                             "%zu bytes (%.1f MiB)", size, (double)size / (1 << 20));
    }
    out->size = size;
    return SG_OK;
}

sg_status sg_vk_mem_alloc(struct sg_vk_device *d, size_t size, struct sg_vk_mem *out) {
    if (size > d->max_buffer)
        return sg_error(SG_ERR_NO_MEMORY, "%s: a buffer of %zu bytes exceeds the device's limit of %zu", d->name, size,
                        d->max_buffer);
    size = (size + SG_VK_ALIGN - 1) / SG_VK_ALIGN * SG_VK_ALIGN;
    if (size == 0) size = SG_VK_ALIGN;
    if (d->direct) {
        VkMemoryPropertyFlags f = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                  VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
        return mem_create(d, size, f, 0, out);
    }
    return mem_create(d, size, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0, out);
}

/* ---- transfers ---------------------------------------------------------------------------- */

sg_status sg_vk_queue_idle(struct sg_vk_device *d) {
    pthread_mutex_lock(&d->lock);
    VkResult r = vkQueueWaitIdle(d->queue);
    pthread_mutex_unlock(&d->lock);
    return r == VK_SUCCESS ? SG_OK : sg_vk_error(d, r, "vkQueueWaitIdle");
}

/* Caller holds d->lock. */
static sg_status staging_reserve(struct sg_vk_device *d, size_t size) {
    if (d->staging && d->staging_size >= size) return SG_OK;
    if (size < SG_VK_STAGING_MIN) size = SG_VK_STAGING_MIN;
    if (size > SG_VK_STAGING_MAX) size = SG_VK_STAGING_MAX;
    if (d->staging && d->staging_size >= size) return SG_OK;
    struct sg_vk_mem old = {.buf = d->staging, .mem = d->staging_mem, .held = d->staging_size};
    sg_vk_mem_free(d, &old);
    d->staging      = VK_NULL_HANDLE;
    d->staging_mem  = VK_NULL_HANDLE;
    d->staging_size = 0;
    struct sg_vk_mem m;
    sg_status st = mem_create(d, size, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                              VK_MEMORY_PROPERTY_HOST_CACHED_BIT, &m);
    if (st != SG_OK) return st;
    d->staging      = m.buf;
    d->staging_mem  = m.mem;
    d->staging_map  = m.map;
    d->staging_size = m.held;
    return SG_OK;
}

enum xfer_kind { XFER_UPLOAD, XFER_DOWNLOAD, XFER_FILL, XFER_COPY };

/* One transfer command, submitted after everything earlier on the queue and waited for.
 * Caller holds d->lock. */
static sg_status xfer_run(struct sg_vk_device *d, enum xfer_kind kind, VkBuffer a, size_t a_off, VkBuffer b,
                          size_t b_off, size_t size, uint32_t fill) {
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    VkResult r                  = vkBeginCommandBuffer(d->xfer_cb, &bi);
    if (r != VK_SUCCESS) return sg_vk_error(d, r, "vkBeginCommandBuffer");
    /* order after all earlier work on the queue (kernels that write what we copy) */
    VkMemoryBarrier mb = {.sType         = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT};
    vkCmdPipelineBarrier(d->xfer_cb, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0,
                         NULL, 0, NULL);
    switch (kind) {
    case XFER_UPLOAD:
    case XFER_DOWNLOAD:
    case XFER_COPY: {
        VkBufferCopy region = {.srcOffset = a_off, .dstOffset = b_off, .size = size};
        vkCmdCopyBuffer(d->xfer_cb, a, b, 1, &region);
        break;
    }
    case XFER_FILL: vkCmdFillBuffer(d->xfer_cb, b, b_off, size, fill); break;
    }
    /* make the writes visible to later kernels and to the host */
    VkMemoryBarrier after = {.sType         = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                             .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                             .dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_MEMORY_READ_BIT};
    vkCmdPipelineBarrier(d->xfer_cb, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 1, &after, 0, NULL, 0,
                         NULL);
    r = vkEndCommandBuffer(d->xfer_cb);
    if (r != VK_SUCCESS) return sg_vk_error(d, r, "vkEndCommandBuffer");
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &d->xfer_cb};
    r               = vkQueueSubmit(d->queue, 1, &si, d->xfer_fence);
    if (r != VK_SUCCESS) return sg_vk_error(d, r, "vkQueueSubmit");
    r = vkWaitForFences(d->dev, 1, &d->xfer_fence, VK_TRUE, UINT64_MAX);
    vkResetFences(d->dev, 1, &d->xfer_fence);
    return r == VK_SUCCESS ? SG_OK : sg_vk_error(d, r, "vkWaitForFences");
}

static sg_status upload(struct sg_vk_device *d, VkBuffer dst, size_t off, const void *src, size_t size) {
    pthread_mutex_lock(&d->lock);
    sg_status st = staging_reserve(d, size);
    for (size_t done = 0; st == SG_OK && done < size;) {
        size_t n = size - done < d->staging_size ? size - done : d->staging_size;
        memcpy(d->staging_map, (const char *)src + done, n);
        st = xfer_run(d, XFER_UPLOAD, d->staging, 0, dst, off + done, n, 0);
        done += n;
    }
    pthread_mutex_unlock(&d->lock);
    return st;
}

static sg_status download(struct sg_vk_device *d, VkBuffer src, size_t off, void *dst, size_t size) {
    pthread_mutex_lock(&d->lock);
    sg_status st = staging_reserve(d, size);
    for (size_t done = 0; st == SG_OK && done < size;) {
        size_t n = size - done < d->staging_size ? size - done : d->staging_size;
        st       = xfer_run(d, XFER_DOWNLOAD, src, off + done, d->staging, 0, n, 0);
        if (st == SG_OK) memcpy((char *)dst + done, d->staging_map, n);
        done += n;
    }
    pthread_mutex_unlock(&d->lock);
    return st;
}

/* vkCmdFillBuffer wants 4-byte alignment: fill the aligned middle, upload the odd ends. */
static sg_status fill(struct sg_vk_device *d, VkBuffer buf, size_t off, size_t size, uint8_t value) {
    size_t lo = (off + 3) / 4 * 4, hi = (off + size) / 4 * 4;
    uint8_t bytes[4] = {value, value, value, value};
    if (lo >= hi) {
        sg_status st = SG_OK;
        for (size_t i = 0; st == SG_OK && i < size; i++) st = upload(d, buf, off + i, bytes, 1);
        return st;
    }
    sg_status st = lo > off ? upload(d, buf, off, bytes, lo - off) : SG_OK;
    if (st == SG_OK && off + size > hi) st = upload(d, buf, hi, bytes, off + size - hi);
    if (st != SG_OK) return st;
    uint32_t word = value * 0x01010101u;
    pthread_mutex_lock(&d->lock);
    st = xfer_run(d, XFER_FILL, VK_NULL_HANDLE, 0, buf, lo, hi - lo, word);
    pthread_mutex_unlock(&d->lock);
    return st;
}

/* ---- sg_buffer ---------------------------------------------------------------------------- */

static struct sg_vk_buffer_ctx *buf_ctx(const struct sg_buffer *buf) { return buf->context; }

static const struct sg_buffer_i vk_buffer_i;

VkBuffer sg_vk_tensor_buffer(const struct sg_tensor *t) {
    if (!t->buffer || t->buffer->iface != &vk_buffer_i) return VK_NULL_HANDLE;
    return buf_ctx(t->buffer)->mem.buf;
}

size_t sg_vk_tensor_offset(const struct sg_tensor *t) { return (size_t)((const char *)t->data - SG_VK_FAKE_BASE); }

static void vk_buffer_free(struct sg_buffer *buf) {
    struct sg_vk_buffer_ctx *c = buf_ctx(buf);
    /* kernels still in flight may use it */
    sg_vk_queue_idle(c->dev);
    sg_vk_mem_free(c->dev, &c->mem);
    free(c);
    free(buf);
}

static void *vk_buffer_base(struct sg_buffer *buf) {
    (void)buf;
    return SG_VK_FAKE_BASE;
}

static sg_status vk_buffer_set_tensor(struct sg_buffer *buf, struct sg_tensor *t, const void *data, size_t offset,
                                      size_t size) {
    struct sg_vk_buffer_ctx *c = buf_ctx(buf);
    size_t at                  = sg_vk_tensor_offset(t) + offset;
    if (c->mem.map) {
        sg_status st = sg_vk_queue_idle(c->dev);
        if (st == SG_OK) memcpy((char *)c->mem.map + at, data, size);
        return st;
    }
    return upload(c->dev, c->mem.buf, at, data, size);
}

static sg_status vk_buffer_get_tensor(struct sg_buffer *buf, const struct sg_tensor *t, void *data, size_t offset,
                                      size_t size) {
    struct sg_vk_buffer_ctx *c = buf_ctx(buf);
    size_t at                  = sg_vk_tensor_offset(t) + offset;
    if (c->mem.map) {
        sg_status st = sg_vk_queue_idle(c->dev);
        if (st == SG_OK) memcpy(data, (const char *)c->mem.map + at, size);
        return st;
    }
    return download(c->dev, c->mem.buf, at, data, size);
}

static sg_status vk_buffer_memset_tensor(struct sg_buffer *buf, struct sg_tensor *t, uint8_t value, size_t offset,
                                         size_t size) {
    struct sg_vk_buffer_ctx *c = buf_ctx(buf);
    size_t at                  = sg_vk_tensor_offset(t) + offset;
    if (c->mem.map) {
        sg_status st = sg_vk_queue_idle(c->dev);
        if (st == SG_OK) memset((char *)c->mem.map + at, value, size);
        return st;
    }
    return fill(c->dev, c->mem.buf, at, size, value);
}

static sg_status vk_buffer_clear(struct sg_buffer *buf, uint8_t value) {
    struct sg_vk_buffer_ctx *c = buf_ctx(buf);
    if (c->mem.map) {
        sg_status st = sg_vk_queue_idle(c->dev);
        if (st == SG_OK) memset(c->mem.map, value, c->mem.size);
        return st;
    }
    return fill(c->dev, c->mem.buf, 0, c->mem.size, value);
}

/* Same bytes, same layout: a device-to-device copy, or an upload from host memory. */
static bool vk_buffer_copy_tensor(struct sg_buffer *buf, const struct sg_tensor *src, struct sg_tensor *dst) {
    struct sg_vk_buffer_ctx *c = buf_ctx(buf);
    if (!src->buffer || src->type != dst->type || !sg_same_shape(src, dst) || !sg_is_contiguous(src) ||
        !sg_is_contiguous(dst))
        return false;
    size_t n = sg_nbytes(src);
    if (sg_buffer_type_is_host(sg_buffer_get_type(src->buffer)))
        return vk_buffer_set_tensor(buf, dst, src->data, 0, n) == SG_OK;
    if (src->buffer->iface != &vk_buffer_i || buf_ctx(src->buffer)->dev != c->dev) return false;
    struct sg_vk_buffer_ctx *sc = buf_ctx(src->buffer);
    if (c->mem.map && sc->mem.map) {
        if (sg_vk_queue_idle(c->dev) != SG_OK) return false;
        memmove((char *)c->mem.map + sg_vk_tensor_offset(dst), (const char *)sc->mem.map + sg_vk_tensor_offset(src), n);
        return true;
    }
    pthread_mutex_lock(&c->dev->lock);
    sg_status st =
        xfer_run(c->dev, XFER_COPY, sc->mem.buf, sg_vk_tensor_offset(src), c->mem.buf, sg_vk_tensor_offset(dst), n, 0);
    pthread_mutex_unlock(&c->dev->lock);
    return st == SG_OK;
}

static const struct sg_buffer_i vk_buffer_i = {
    .free_buffer   = vk_buffer_free,
    .base          = vk_buffer_base,
    .init_tensor   = NULL,
    .set_tensor    = vk_buffer_set_tensor,
    .get_tensor    = vk_buffer_get_tensor,
    .memset_tensor = vk_buffer_memset_tensor,
    .clear         = vk_buffer_clear,
    .copy_tensor   = vk_buffer_copy_tensor,
};

/* ---- buffer type -------------------------------------------------------------------------- */

static const char *vk_buft_name(const struct sg_buffer_type *buft) { return sg_vk_dev(buft->device)->name; }

static sg_status vk_buft_alloc(struct sg_buffer_type *buft, size_t size, struct sg_buffer **out) {
    struct sg_vk_device *d = buft->context;
    *out                   = NULL;
    sg_status st           = sg_vk_device_open(d);
    if (st != SG_OK) return st;
    struct sg_buffer *buf      = calloc(1, sizeof *buf);
    struct sg_vk_buffer_ctx *c = calloc(1, sizeof *c);
    if (!buf || !c) {
        free(buf);
        free(c);
        return sg_error(SG_ERR_NO_MEMORY, "%s: out of host memory", d->name);
    }
    c->dev = d;
    st     = sg_vk_mem_alloc(d, size, &c->mem);
    if (st != SG_OK) {
        free(buf);
        free(c);
        return st;
    }
    *buf = (struct sg_buffer){.iface = &vk_buffer_i, .buft = buft, .context = c, .size = size};
    *out = buf;
    return SG_OK;
}

static size_t vk_buft_alignment(const struct sg_buffer_type *buft) {
    (void)buft;
    return SG_VK_ALIGN;
}

static size_t vk_buft_max_size(const struct sg_buffer_type *buft) {
    return ((struct sg_vk_device *)buft->context)->max_buffer;
}

static const struct sg_buffer_type_i vk_buft_i = {
    .name         = vk_buft_name,
    .alloc_buffer = vk_buft_alloc,
    .alignment    = vk_buft_alignment,
    .max_size     = vk_buft_max_size,
    .alloc_size   = NULL,
    .is_host      = NULL,
};

void sg_vk_buffer_type_init(struct sg_vk_device *d) {
    d->buft = (struct sg_buffer_type){.iface = &vk_buft_i, .device = &d->base, .context = d};
}
