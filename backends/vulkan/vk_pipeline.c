/* Compute pipelines, created on first use from the embedded SPIR-V and kept for the life of the
 * process; one descriptor-set layout per binding count, all bindings storage buffers, and one
 * 128-byte push-constant range. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vk_internal.h"

#define SG_VK_MAX_PIPELINES 1024

sg_status sg_vk_layouts_create(struct sg_vk_device *d) {
    VkDescriptorSetLayoutBinding b[SG_VK_MAX_BINDINGS];
    for (int i = 0; i < SG_VK_MAX_BINDINGS; i++)
        b[i] = (VkDescriptorSetLayoutBinding){.binding         = (uint32_t)i,
                                              .descriptorType  = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                              .descriptorCount = 1,
                                              .stageFlags      = VK_SHADER_STAGE_COMPUTE_BIT};
    VkPushConstantRange pc = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = SG_VK_PUSH_SIZE};
    for (int n = 1; n <= SG_VK_MAX_BINDINGS; n++) {
        VkDescriptorSetLayoutCreateInfo dci = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO, .bindingCount = (uint32_t)n, .pBindings = b};
        VkResult r = vkCreateDescriptorSetLayout(d->dev, &dci, NULL, &d->dsl[n]);
        if (r != VK_SUCCESS) return sg_vk_error(d, r, "vkCreateDescriptorSetLayout");
        VkPipelineLayoutCreateInfo lci = {.sType                  = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                          .setLayoutCount         = 1,
                                          .pSetLayouts            = &d->dsl[n],
                                          .pushConstantRangeCount = 1,
                                          .pPushConstantRanges    = &pc};
        r                              = vkCreatePipelineLayout(d->dev, &lci, NULL, &d->layout[n]);
        if (r != VK_SUCCESS) return sg_vk_error(d, r, "vkCreatePipelineLayout");
    }
    return SG_OK;
}

static bool key_equal(const struct sg_vk_pipeline_key *a, const struct sg_vk_pipeline_key *b) {
    return a->shader == b->shader && a->n_spec == b->n_spec &&
           memcmp(a->spec, b->spec, (size_t)a->n_spec * sizeof a->spec[0]) == 0;
}

/* Caller holds d->lock. */
static sg_status pipeline_create(struct sg_vk_device *d, const struct sg_vk_pipeline_key *key, int n_bindings,
                                 struct sg_vk_pipeline *out) {
    const struct sg_vk_shader_blob *blob = &sg_vk_shader_blobs[key->shader];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    VkShaderModuleCreateInfo mci = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, .codeSize = blob->size, .pCode = blob->code};
    VkShaderModule module;
    VkResult r = vkCreateShaderModule(d->dev, &mci, NULL, &module);
    if (r != VK_SUCCESS) return sg_vk_error(d, r, "vkCreateShaderModule");
    VkSpecializationMapEntry entries[SG_VK_MAX_SPEC];
    for (int i = 0; i < key->n_spec; i++)
        entries[i] = (VkSpecializationMapEntry){
            .constantID = (uint32_t)i, .offset = (uint32_t)(i * sizeof(uint32_t)), .size = sizeof(uint32_t)};
    VkSpecializationInfo spec      = {.mapEntryCount = (uint32_t)key->n_spec,
                                      .pMapEntries   = entries,
                                      .dataSize      = (size_t)key->n_spec * sizeof(uint32_t),
                                      .pData         = key->spec};
    VkComputePipelineCreateInfo ci = {
        .sType  = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage  = {.sType               = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                   .stage               = VK_SHADER_STAGE_COMPUTE_BIT,
                   .module              = module,
                   .pName               = "main",
                   .pSpecializationInfo = key->n_spec ? &spec : NULL},
        .layout = d->layout[n_bindings],
    };
    r = vkCreateComputePipelines(d->dev, d->cache, 1, &ci, NULL, &out->pipeline);
    vkDestroyShaderModule(d->dev, module, NULL);
    if (r != VK_SUCCESS) return sg_vk_error(d, r, blob->name);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    SG_LOGD("%s: pipeline %s compiled in %.0f ms", d->name, blob->name,
            (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-6);
    out->key        = *key;
    out->n_bindings = n_bindings;
    out->layout     = d->layout[n_bindings];
    d->cache_dirty  = true;
    return SG_OK;
}

sg_status sg_vk_pipeline_get(struct sg_vk_device *d, const struct sg_vk_pipeline_key *key, int n_bindings,
                             const struct sg_vk_pipeline **out) {
    if (n_bindings < 1 || n_bindings > SG_VK_MAX_BINDINGS || key->n_spec > SG_VK_MAX_SPEC)
        return sg_error(SG_ERR_INVALID_ARG, "%s: bad pipeline request for %s", d->name,
                        sg_vk_shader_blobs[key->shader].name);
    pthread_mutex_lock(&d->lock);
    sg_status st             = SG_OK;
    struct sg_vk_pipeline *p = NULL;
    for (int i = 0; i < d->n_pipelines && !p; i++)
        if (key_equal(&d->pipelines[i].key, key)) p = &d->pipelines[i];
    if (!p) {
        /* a fixed array: callers use the returned address after the lock is released */
        if (!d->pipelines) d->pipelines = calloc(SG_VK_MAX_PIPELINES, sizeof *d->pipelines);
        if (!d->pipelines || d->n_pipelines == SG_VK_MAX_PIPELINES) {
            st = sg_error(SG_ERR_NO_MEMORY, "%s: more than %d pipelines", d->name, SG_VK_MAX_PIPELINES);
        } else {
            st = pipeline_create(d, key, n_bindings, &d->pipelines[d->n_pipelines]);
            if (st == SG_OK) p = &d->pipelines[d->n_pipelines++];
        }
    }
    pthread_mutex_unlock(&d->lock);
    *out = p;
    return st;
}
