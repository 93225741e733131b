/* --dtype: how the Tahoe X1 Linear weights are held on the device, and its default per device. */
#include <string.h>

#include "models/tahoe_x1.h"

sg_status tx1_dtype_parse(const char *s, const char *option, enum tx1_dtype *out) {
    static const char *const names[] = {[TX1_DTYPE_AUTO] = "auto", [TX1_DTYPE_F32] = "f32", [TX1_DTYPE_BF16] = "bf16"};
    for (int i = 0; i < 3; i++)
        if (s && strcmp(s, names[i]) == 0) {
            *out = (enum tx1_dtype)i;
            return SG_OK;
        }
    return sg_error(SG_ERR_INVALID_ARG, "%s: '%s' is not a weight type (bf16, f32 or auto)", option, s ? s : "");
}

const char *tx1_dtype_name(enum tx1_dtype d) {
    return d == TX1_DTYPE_BF16 ? "bf16" : d == TX1_DTYPE_F32 ? "f32" : "auto";
}

/* bf16 GEMMs pay off where tensor cores run them (cuBLAS); elsewhere they only cost rounding,
 * and the CPU, Vulkan and OpenCL kernels compute in fp32 anyway, so f32 stays their default. */
enum tx1_dtype tx1_dtype_for_device(enum tx1_dtype d, const struct sg_device *dev) {
    if (d != TX1_DTYPE_AUTO) return d;
    return strcmp(sg_backend_reg_name(sg_device_reg(dev)), "cuda") == 0 ? TX1_DTYPE_BF16 : TX1_DTYPE_F32;
}
