/* MATMUL: batched a @ b. a [K, M] (F32, F16 or BF16), b [N, K] (F32 or BF16), dst [N, M] F32;
 * batch dims 2.. broadcast (each source dim is 1 or dst's). Either operand may be a
 * transposed or permuted view: everything is read through strides. With a BF16 operand both
 * are rounded to bf16 first (a bf16 GEMM, see sg_matmul). */
#include <math.h>

#include "backends/cpu/ref/ref.h"

void sg_ref_matmul(struct sg_tensor *dst) {
    const struct sg_tensor *a = dst->src[0];
    const struct sg_tensor *b = dst->src[1];
    const int64_t K           = a->ne[0];
    const bool bf16           = sg_matmul_is_bf16(dst);
    if (sg_nelements(dst) == 0) return;

    int64_t i[SG_MAX_DIMS] = {0}; /* i[0] = n, i[1] = m, i[2..] = batch */
    do {
        size_t oa = 0, ob = 0;
        for (int d = 2; d < SG_MAX_DIMS; d++) {
            oa += (size_t)(a->ne[d] == 1 ? 0 : i[d]) * a->nb[d];
            ob += (size_t)(b->ne[d] == 1 ? 0 : i[d]) * b->nb[d];
        }
        double acc = 0.0; /* double: the oracle's sum must not depend on K's size */
        for (int64_t k = 0; k < K; k++) {
            float x = ref_at(a, oa + (size_t)k * a->nb[0] + (size_t)i[1] * a->nb[1]);
            float y = ref_at(b, ob + (size_t)i[0] * b->nb[0] + (size_t)k * b->nb[1]);
            if (bf16) {
                x = sg_round_bf16(x);
                y = sg_round_bf16(y);
            }
            acc += (double)x * y;
        }
        ref_set(dst, i, (float)acc);
    } while (ref_next(i, dst->ne));
}

/* LINEAR: MATMUL, then bias (broadcast over rows) and the activation, element by element. */
void sg_ref_linear(struct sg_tensor *dst) {
    sg_ref_matmul(dst); /* reads only src0 and src1 */
    const struct sg_tensor *bias = dst->src[2];
    const int32_t act            = sg_get_param_i32(dst, 0);
    const double slope           = sg_get_param_f32(dst, 1);
    if (sg_nelements(dst) == 0) return;
    int64_t i[SG_MAX_DIMS] = {0};
    do {
        double z = ref_get(dst, i) + (bias ? ref_at(bias, (size_t)i[0] * bias->nb[0]) : 0.0);
        switch (act) {
        case SG_LINEAR_RELU: z = z < 0.0 ? 0.0 : z; break;
        case SG_LINEAR_GELU: z = z * 0.5 * (1.0 + erf(z / sqrt(2.0))); break;
        case SG_LINEAR_LEAKY_RELU: z = z > 0.0 ? z : slope * z; break;
        default: break;
        }
        ref_set(dst, i, (float)z);
    } while (ref_next(i, dst->ne));
}
