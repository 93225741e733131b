/* MATMUL: batched a @ b. a [K, M] (F32, F16 or BF16), b [N, K] (F32 or BF16), dst [N, M] F32;
 * batch dims 2.. broadcast (each source dim is 1 or dst's). Either operand may be a
 * transposed or permuted view: everything is read through strides. With a BF16 operand both
 * are rounded to bf16 first (a bf16 GEMM, see sg_matmul). */
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
