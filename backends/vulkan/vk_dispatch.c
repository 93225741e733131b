/* Recording dispatches into a command buffer: descriptor sets, push constants, and barriers
 * placed only where a dispatch touches what an earlier, not yet synchronised dispatch wrote
 * (or writes what one read). Buffers are bound whole; kernels get element offsets in push
 * constants, so binding never depends on alignment. */
#include <stdlib.h>
#include <string.h>

#include "vk_internal.h"

#define SETS_PER_POOL 256

struct sg_vk_bind sg_vk_bind_tensor(const struct sg_tensor *t, bool write) {
    size_t lo = sg_vk_tensor_offset(t);
    return (struct sg_vk_bind){.buf = sg_vk_tensor_buffer(t), .lo = lo, .hi = lo + sg_nbytes(t), .write = write};
}

struct sg_vk_bind sg_vk_bind_scratch(const struct sg_vk_rec *r, int slot, size_t lo, size_t hi, bool write) {
    return (struct sg_vk_bind){.buf = r->scratch[slot].buf, .lo = lo, .hi = hi, .write = write};
}

static sg_status new_pool(struct sg_vk_rec *r) {
    struct sg_vk_device *d  = r->dev;
    VkDescriptorPool *pools = realloc(r->pools, (size_t)(r->n_pools + 1) * sizeof *pools);
    if (!pools) return sg_error(SG_ERR_NO_MEMORY, "%s: out of host memory", d->name);
    r->pools                      = pools;
    VkDescriptorPoolSize size     = {.type            = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                     .descriptorCount = SETS_PER_POOL * SG_VK_MAX_BINDINGS};
    VkDescriptorPoolCreateInfo ci = {.sType         = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                     .maxSets       = SETS_PER_POOL,
                                     .poolSizeCount = 1,
                                     .pPoolSizes    = &size};
    VkResult res                  = vkCreateDescriptorPool(d->dev, &ci, NULL, &r->pools[r->n_pools]);
    if (res != VK_SUCCESS) return sg_vk_error(d, res, "vkCreateDescriptorPool");
    r->n_pools++;
    r->sets_left = SETS_PER_POOL;
    return SG_OK;
}

void sg_vk_rec_release(struct sg_vk_rec *r) {
    for (int i = 0; i < r->n_pools; i++) vkDestroyDescriptorPool(r->dev->dev, r->pools[i], NULL);
    free(r->pools);
    free(r->pending);
    r->pools     = NULL;
    r->n_pools   = 0;
    r->pending   = NULL;
    r->n_pending = r->cap_pending = 0;
}

static bool overlaps(const struct sg_vk_bind *a, const struct sg_vk_bind *b) {
    return a->buf == b->buf && a->lo < b->hi && b->lo < a->hi;
}

/* A read after an unsynchronised write, or a write after any unsynchronised access. */
static bool needs_barrier(const struct sg_vk_rec *r, const struct sg_vk_bind *binds, int n) {
    for (int i = 0; i < n; i++)
        for (int k = 0; k < r->n_pending; k++)
            if (overlaps(&r->pending[k], &binds[i]) && (binds[i].write || r->pending[k].write)) return true;
    return false;
}

static void barrier(struct sg_vk_rec *r) {
    VkMemoryBarrier mb = {.sType         = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_SHADER_READ_BIT,
                          .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT};
    vkCmdPipelineBarrier(r->cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb,
                         0, NULL, 0, NULL);
    r->n_pending = 0;
    r->n_barriers++;
}

static sg_status track(struct sg_vk_rec *r, const struct sg_vk_bind *binds, int n) {
    if (r->n_pending + n > r->cap_pending) {
        int cap              = (r->cap_pending ? 2 * r->cap_pending : 64) + n;
        struct sg_vk_bind *p = realloc(r->pending, (size_t)cap * sizeof *p);
        if (!p) return sg_error(SG_ERR_NO_MEMORY, "%s: out of host memory", r->dev->name);
        r->pending     = p;
        r->cap_pending = cap;
    }
    for (int i = 0; i < n; i++) r->pending[r->n_pending++] = binds[i];
    return SG_OK;
}

sg_status sg_vk_dispatch(struct sg_vk_rec *r, const struct sg_vk_pipeline_key *key, const struct sg_vk_bind *binds,
                         int n_binds, const void *push, size_t push_size, uint32_t gx, uint32_t gy, uint32_t gz) {
    struct sg_vk_device *d = r->dev;
    for (int i = 0; i < n_binds; i++)
        if (!binds[i].buf)
            return sg_error(SG_ERR_INVALID_ARG, "%s: %s: binding %d is not in device memory", d->name,
                            sg_vk_shader_blobs[key->shader].name, i);
    if (push_size > SG_VK_PUSH_SIZE || gx == 0 || gy == 0 || gz == 0 || gx > d->caps.max_groups[0] ||
        gy > d->caps.max_groups[1] || gz > d->caps.max_groups[2])
        return sg_error(SG_ERR_INVALID_ARG, "%s: %s: bad dispatch (%u x %u x %u groups, %zu bytes of constants)",
                        d->name, sg_vk_shader_blobs[key->shader].name, gx, gy, gz, push_size);
    const struct sg_vk_pipeline *p;
    sg_status st = sg_vk_pipeline_get(d, key, n_binds, &p);
    if (st != SG_OK) return st;

    if (r->sets_left == 0 || r->n_pools == 0) {
        st = new_pool(r);
        if (st != SG_OK) return st;
    }
    VkDescriptorSetAllocateInfo ai = {.sType              = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                      .descriptorPool     = r->pools[r->n_pools - 1],
                                      .descriptorSetCount = 1,
                                      .pSetLayouts        = &d->dsl[n_binds]};
    VkDescriptorSet set;
    VkResult res = vkAllocateDescriptorSets(d->dev, &ai, &set);
    if (res != VK_SUCCESS) return sg_vk_error(d, res, "vkAllocateDescriptorSets");
    r->sets_left--;
    VkDescriptorBufferInfo info[SG_VK_MAX_BINDINGS];
    VkWriteDescriptorSet w[SG_VK_MAX_BINDINGS];
    for (int i = 0; i < n_binds; i++) {
        info[i] = (VkDescriptorBufferInfo){.buffer = binds[i].buf, .offset = 0, .range = VK_WHOLE_SIZE};
        w[i]    = (VkWriteDescriptorSet){.sType           = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                                         .dstSet          = set,
                                         .dstBinding      = (uint32_t)i,
                                         .descriptorCount = 1,
                                         .descriptorType  = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                         .pBufferInfo     = &info[i]};
    }
    vkUpdateDescriptorSets(d->dev, (uint32_t)n_binds, w, 0, NULL);

    if (needs_barrier(r, binds, n_binds)) barrier(r);
    st = track(r, binds, n_binds);
    if (st != SG_OK) return st;

    uint8_t constants[SG_VK_PUSH_SIZE] = {0};
    memcpy(constants, push, push_size);
    vkCmdBindPipeline(r->cb, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
    vkCmdBindDescriptorSets(r->cb, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &set, 0, NULL);
    vkCmdPushConstants(r->cb, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, SG_VK_PUSH_SIZE, constants);
    vkCmdDispatch(r->cb, gx, gy, gz);
    r->n_dispatches++;
    return SG_OK;
}

sg_status sg_vk_fill(struct sg_vk_rec *r, struct sg_vk_bind b, uint32_t first_word, uint32_t words, uint32_t value) {
    if (words == 0) return SG_OK;
    struct {
        uint32_t first, n, value;
    } pc                          = {first_word, words, value};
    struct sg_vk_pipeline_key key = {.shader = SG_VK_SHADER_FILL, .n_spec = 1, .spec = {256}};
    b.write                       = true;
    return sg_vk_dispatch(r, &key, &b, 1, &pc, sizeof pc, sg_vk_groups(r->dev, words, 256), 1, 1);
}
