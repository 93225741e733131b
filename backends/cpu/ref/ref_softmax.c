/* SOFTMAX along ne[0], shifted by the row maximum so exp never overflows; the denominator is
 * summed in double. */
#include <math.h>

#include "backends/cpu/ref/ref.h"

void sg_ref_softmax(struct sg_tensor *dst) {
    const struct sg_tensor *x = dst->src[0];
    const int64_t C           = x->ne[0];
    if (C == 0) return;

    for (int64_t r = 0; r < sg_nrows(x); r++) {
        const size_t xrow = ref_row_offset(x, r);
        const size_t yrow = ref_row_offset(dst, r);

        double max = -INFINITY;
        for (int64_t c = 0; c < C; c++) max = fmax(max, ref_at(x, xrow + (size_t)c * x->nb[0]));
        double sum = 0.0;
        for (int64_t c = 0; c < C; c++) sum += exp(ref_at(x, xrow + (size_t)c * x->nb[0]) - max);
        for (int64_t c = 0; c < C; c++) {
            const double e = exp(ref_at(x, xrow + (size_t)c * x->nb[0]) - max);
            ref_put(dst, yrow + (size_t)c * dst->nb[0], (float)(e / sum));
        }
    }
}
