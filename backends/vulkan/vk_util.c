/* Small helpers: VkResult names for messages, element strides, group counts. */
#include <assert.h>
#include <stdlib.h>

#include "vk_internal.h"

const char *sg_vk_result_str(VkResult r) {
    switch (r) {
#define CASE(x)                                                                                                        \
    case x: return #x
        CASE(VK_SUCCESS);
        CASE(VK_NOT_READY);
        CASE(VK_TIMEOUT);
        CASE(VK_INCOMPLETE);
        CASE(VK_ERROR_OUT_OF_HOST_MEMORY);
        CASE(VK_ERROR_OUT_OF_DEVICE_MEMORY);
        CASE(VK_ERROR_INITIALIZATION_FAILED);
        CASE(VK_ERROR_DEVICE_LOST);
        CASE(VK_ERROR_MEMORY_MAP_FAILED);
        CASE(VK_ERROR_LAYER_NOT_PRESENT);
        CASE(VK_ERROR_EXTENSION_NOT_PRESENT);
        CASE(VK_ERROR_FEATURE_NOT_PRESENT);
        CASE(VK_ERROR_INCOMPATIBLE_DRIVER);
        CASE(VK_ERROR_TOO_MANY_OBJECTS);
        CASE(VK_ERROR_FORMAT_NOT_SUPPORTED);
        CASE(VK_ERROR_FRAGMENTED_POOL);
        CASE(VK_ERROR_UNKNOWN);
        CASE(VK_ERROR_OUT_OF_POOL_MEMORY);
        CASE(VK_ERROR_INVALID_EXTERNAL_HANDLE);
        CASE(VK_ERROR_FRAGMENTATION);
        CASE(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS);
        CASE(VK_PIPELINE_COMPILE_REQUIRED);
#undef CASE
    default: return "VkResult(unknown)";
    }
}

sg_status sg_vk_error(const struct sg_vk_device *d, VkResult r, const char *what) {
    sg_status st =
        r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY ? SG_ERR_NO_MEMORY : SG_ERR_BACKEND;
    return sg_error(st, "%s: %s failed: %s", d ? d->name : "vulkan", what, sg_vk_result_str(r));
}

bool sg_vk_layout_ok(const struct sg_tensor *t) {
    size_t es = sg_type_size(t->type);
    if (es == 0 || t->view_offs % es) return false;
    /* a tensor a loader placed itself may sit anywhere in its buffer */
    if (t->data && sg_vk_tensor_buffer(t) && sg_vk_tensor_offset(t) % es) return false;
    for (int d = 0; d < SG_MAX_DIMS; d++)
        if (t->ne[d] > 1 && t->nb[d] % es) return false;
    return true;
}

uint32_t sg_vk_elem_offset(const struct sg_tensor *t) {
    return (uint32_t)(sg_vk_tensor_offset(t) / sg_type_size(t->type));
}

uint32_t sg_vk_stride(const struct sg_tensor *t, int d) {
    return t->ne[d] == 1 ? 0 : (uint32_t)(t->nb[d] / sg_type_size(t->type));
}

bool sg_vk_fits_u32(const struct sg_tensor *t) {
    /* indices are 32-bit in the kernels: element counts and the elements a view spans */
    return sg_nelements(t) < ((int64_t)1 << 31) && sg_nbytes(t) / sg_type_size(t->type) < ((size_t)1 << 31);
}

uint32_t sg_vk_groups(const struct sg_vk_device *d, uint64_t n, uint32_t per_group) {
    uint64_t g   = (n + per_group - 1) / per_group;
    uint64_t max = d->caps.max_groups[0] < 65535 ? d->caps.max_groups[0] : 65535;
    if (g > max) g = max;
    return g ? (uint32_t)g : 1;
}

int sg_vk_env_flag(const char *name) {
    const char *v = getenv(name);
    return v && *v && !(v[0] == '0' && v[1] == '\0');
}

int sg_vk_collapse(uint32_t ne[SG_MAX_DIMS], uint32_t st[][SG_MAX_DIMS], int n_ops) {
    int64_t shape[SG_MAX_DIMS], st64[SG_VK_MAX_COLLAPSE_OPS][SG_MAX_DIMS];
    assert(n_ops <= SG_VK_MAX_COLLAPSE_OPS);
    for (int d = 0; d < SG_MAX_DIMS; d++) {
        shape[d] = ne[d];
        for (int k = 0; k < n_ops; k++) st64[k][d] = st[k][d];
    }
    const int rank = sg_collapse_dims(shape, st64, n_ops);
    for (int d = 0; d < SG_MAX_DIMS; d++) { /* products of the uint32 sizes they came from */
        ne[d] = (uint32_t)shape[d];
        for (int k = 0; k < n_ops; k++) st[k][d] = (uint32_t)st64[k][d];
    }
    bool dense = rank <= 1;
    for (int k = 0; k < n_ops && dense; k++) dense = rank == 0 || st[k][0] == 1;
    return dense ? 0 : rank;
}

void sg_vk_shape(const struct sg_tensor *t, uint32_t ne[SG_MAX_DIMS], uint32_t st[SG_MAX_DIMS]) {
    for (int d = 0; d < SG_MAX_DIMS; d++) {
        ne[d] = (uint32_t)t->ne[d];
        st[d] = sg_vk_stride(t, d);
    }
}

void sg_vk_bcast_strides(const struct sg_tensor *t, const struct sg_tensor *like, uint32_t st[SG_MAX_DIMS]) {
    for (int d = 0; d < SG_MAX_DIMS; d++) st[d] = t->ne[d] == like->ne[d] ? sg_vk_stride(t, d) : 0;
}
