/* Streams: a node list is recorded once into a command buffer (a plan) and replayed; compute
 * without a plan records, runs and drops one. Kernel scratch belongs to its plan, so replaying
 * an old plan never finds its scratch reallocated under it. */
#include <stdlib.h>
#include <string.h>

#include "vk_internal.h"

struct sg_vk_plan {
    VkCommandPool pool;
    VkCommandBuffer cb;
    VkFence fence;
    bool pending;         /* submitted, fence not yet waited for */
    struct sg_vk_rec rec; /* owns the descriptor sets the command buffer uses */
    struct sg_vk_mem scratch[SG_VK_MAX_SCRATCH];
};

struct sg_vk_stream {
    struct sg_vk_device *dev;
    struct sg_vk_plan *inflight;
};

static struct sg_vk_stream *stream_ctx(const struct sg_stream *s) { return s->context; }

static bool node_runs(const struct sg_tensor *t) {
    return t->op != SG_OP_NONE && !sg_is_view_op(t->op) && sg_nelements(t) > 0;
}

static sg_status plan_wait(struct sg_vk_device *d, struct sg_vk_plan *p) {
    if (!p->pending) return SG_OK;
    VkResult r = vkWaitForFences(d->dev, 1, &p->fence, VK_TRUE, UINT64_MAX);
    if (r != VK_SUCCESS) return sg_vk_error(d, r, "vkWaitForFences");
    vkResetFences(d->dev, 1, &p->fence);
    p->pending = false;
    return SG_OK;
}

static void vk_plan_free(struct sg_stream *s, void *plan) {
    struct sg_vk_stream *vs = stream_ctx(s);
    struct sg_vk_device *d  = vs->dev;
    struct sg_vk_plan *p    = plan;
    if (!p) return;
    plan_wait(d, p);
    if (vs->inflight == p) vs->inflight = NULL;
    if (p->pool) vkDestroyCommandPool(d->dev, p->pool, NULL);
    if (p->fence) vkDestroyFence(d->dev, p->fence, NULL);
    sg_vk_rec_release(&p->rec);
    for (int i = 0; i < SG_VK_MAX_SCRATCH; i++) sg_vk_mem_free(d, &p->scratch[i]);
    free(p);
}

static sg_status check_node(const struct sg_vk_device *d, const struct sg_tensor *t) {
    if (t->op < 0 || t->op >= SG_OP_COUNT || !sg_vk_ops[t->op].record || !sg_vk_supports_op(d, t)) {
        char shape[96];
        return sg_error(SG_ERR_UNSUPPORTED, "%s: cannot run %s '%s' %s", d->name, sg_op_name(t->op), t->name,
                        sg_shape_str(t, shape, sizeof shape));
    }
    if (!t->data) return sg_error(SG_ERR_INVALID_ARG, "%s: %s '%s' has no memory", d->name, sg_op_name(t->op), t->name);
    for (int i = 0; i < SG_MAX_SRC; i++)
        if (t->src[i] && !t->src[i]->data)
            return sg_error(SG_ERR_INVALID_ARG, "%s: source %d ('%s') of %s '%s' has no memory", d->name, i,
                            t->src[i]->name, sg_op_name(t->op), t->name);
    return SG_OK;
}

static sg_status alloc_scratch(struct sg_vk_device *d, struct sg_vk_plan *p, struct sg_tensor *const *nodes, int n) {
    size_t need[SG_VK_MAX_SCRATCH] = {0};
    for (int i = 0; i < n; i++) {
        const struct sg_tensor *t = nodes[i];
        if (!node_runs(t) || !sg_vk_ops[t->op].scratch) continue;
        size_t sizes[SG_VK_MAX_SCRATCH] = {0};
        sg_vk_ops[t->op].scratch(d, t, sizes);
        for (int k = 0; k < SG_VK_MAX_SCRATCH; k++)
            if (sizes[k] > need[k]) need[k] = sizes[k];
    }
    for (int k = 0; k < SG_VK_MAX_SCRATCH; k++) {
        if (!need[k]) continue;
        sg_status st = sg_vk_mem_alloc(d, need[k], &p->scratch[k]);
        if (st != SG_OK) return sg_error_wrap(st, "kernel scratch");
    }
    return SG_OK;
}

static void full_barrier(VkCommandBuffer cb, VkPipelineStageFlags src, VkAccessFlags src_access,
                         VkPipelineStageFlags dst, VkAccessFlags dst_access) {
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = src_access, .dstAccessMask = dst_access};
    vkCmdPipelineBarrier(cb, src, dst, 0, 1, &mb, 0, NULL, 0, NULL);
}

static sg_status record(struct sg_vk_device *d, struct sg_vk_plan *p, struct sg_tensor *const *nodes, int n) {
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    VkResult r                  = vkBeginCommandBuffer(p->cb, &bi);
    if (r != VK_SUCCESS) return sg_vk_error(d, r, "vkBeginCommandBuffer");
    /* after whatever ran before on the queue (transfers, other plans) */
    full_barrier(p->cb, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_ACCESS_MEMORY_WRITE_BIT,
                 VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
    p->rec       = (struct sg_vk_rec){.dev = d, .cb = p->cb, .scratch = p->scratch};
    sg_status st = SG_OK;
    for (int i = 0; st == SG_OK && i < n; i++) {
        const struct sg_tensor *t = nodes[i];
        if (!node_runs(t)) continue;
        st = sg_vk_ops[t->op].record(&p->rec, t);
        if (st != SG_OK) sg_error_wrap(st, "%s '%s'", sg_op_name(t->op), t->name);
    }
    /* results visible to the host and to whatever runs next */
    full_barrier(p->cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                 VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                 VK_ACCESS_HOST_READ_BIT | VK_ACCESS_MEMORY_READ_BIT);
    r = vkEndCommandBuffer(p->cb);
    if (st == SG_OK && r != VK_SUCCESS) st = sg_vk_error(d, r, "vkEndCommandBuffer");
    if (st == SG_OK)
        SG_LOGD("%s: recorded %d nodes: %d dispatches, %d barriers", d->name, n, p->rec.n_dispatches,
                p->rec.n_barriers);
    return st;
}

static sg_status vk_plan_create(struct sg_stream *s, struct sg_tensor *const *nodes, int n, void **out) {
    struct sg_vk_device *d = stream_ctx(s)->dev;
    *out                   = NULL;
    for (int i = 0; i < n; i++) {
        if (!node_runs(nodes[i])) continue;
        sg_status st = check_node(d, nodes[i]);
        if (st != SG_OK) return st;
    }
    struct sg_vk_plan *p = calloc(1, sizeof *p);
    if (!p) return sg_error(SG_ERR_NO_MEMORY, "%s: out of host memory", d->name);
    sg_status st = alloc_scratch(d, p, nodes, n);
    if (st == SG_OK) {
        VkCommandPoolCreateInfo pci = {.sType            = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                       .queueFamilyIndex = d->queue_family};
        VkResult r                  = vkCreateCommandPool(d->dev, &pci, NULL, &p->pool);
        if (r == VK_SUCCESS) {
            VkCommandBufferAllocateInfo ai = {.sType              = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                              .commandPool        = p->pool,
                                              .level              = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                              .commandBufferCount = 1};
            r                              = vkAllocateCommandBuffers(d->dev, &ai, &p->cb);
        }
        if (r == VK_SUCCESS) {
            VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
            r                     = vkCreateFence(d->dev, &fci, NULL, &p->fence);
        }
        if (r != VK_SUCCESS) st = sg_vk_error(d, r, "creating a command buffer");
    }
    if (st == SG_OK) st = record(d, p, nodes, n);
    if (st != SG_OK) {
        vk_plan_free(s, p);
        return st;
    }
    pthread_mutex_lock(&d->lock);
    sg_vk_pipeline_cache_save(d); /* new pipelines were compiled: keep them for the next run */
    pthread_mutex_unlock(&d->lock);
    *out = p;
    return SG_OK;
}

static sg_status vk_plan_compute(struct sg_stream *s, void *plan) {
    struct sg_vk_stream *vs = stream_ctx(s);
    struct sg_vk_device *d  = vs->dev;
    struct sg_vk_plan *p    = plan;
    sg_status st            = plan_wait(d, p);
    if (st != SG_OK) return st;
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &p->cb};
    pthread_mutex_lock(&d->lock);
    VkResult r = vkQueueSubmit(d->queue, 1, &si, p->fence);
    pthread_mutex_unlock(&d->lock);
    if (r != VK_SUCCESS) return sg_vk_error(d, r, "vkQueueSubmit");
    p->pending   = true;
    vs->inflight = p;
    return SG_OK;
}

static sg_status vk_stream_synchronize(struct sg_stream *s) {
    struct sg_vk_stream *vs = stream_ctx(s);
    if (!vs->inflight) return SG_OK;
    sg_status st = plan_wait(vs->dev, vs->inflight);
    vs->inflight = NULL;
    return st;
}

static sg_status vk_stream_compute(struct sg_stream *s, struct sg_tensor *const *nodes, int n) {
    void *plan;
    sg_status st = vk_plan_create(s, nodes, n, &plan);
    if (st != SG_OK) return st;
    st = vk_plan_compute(s, plan);
    if (st == SG_OK) st = vk_stream_synchronize(s);
    vk_plan_free(s, plan);
    return st;
}

static void vk_stream_free(struct sg_stream *s) {
    struct sg_vk_stream *vs = stream_ctx(s);
    vk_stream_synchronize(s);
    pthread_mutex_lock(&vs->dev->lock);
    sg_vk_pipeline_cache_save(vs->dev);
    pthread_mutex_unlock(&vs->dev->lock);
    free(vs);
    free(s);
}

static const struct sg_stream_i vk_stream_i = {
    .free_stream  = vk_stream_free,
    .compute      = vk_stream_compute,
    .plan_create  = vk_plan_create,
    .plan_compute = vk_plan_compute,
    .plan_free    = vk_plan_free,
    .synchronize  = vk_stream_synchronize,
};

sg_status sg_vk_stream_open(struct sg_device *dev, int n_threads, struct sg_stream **out) {
    (void)n_threads;
    struct sg_vk_device *d = sg_vk_dev(dev);
    *out                   = NULL;
    sg_status st           = sg_vk_device_open(d);
    if (st != SG_OK) return st;
    struct sg_stream *s     = calloc(1, sizeof *s);
    struct sg_vk_stream *vs = calloc(1, sizeof *vs);
    if (!s || !vs) {
        free(s);
        free(vs);
        return sg_error(SG_ERR_NO_MEMORY, "%s: out of host memory", d->name);
    }
    vs->dev = d;
    *s      = (struct sg_stream){.iface = &vk_stream_i, .device = dev, .context = vs};
    *out    = s;
    return SG_OK;
}
