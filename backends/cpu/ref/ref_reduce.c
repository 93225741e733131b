/* SUM_TO sums src0 over every dim where dst has 1; REPEAT broadcasts src0 to dst's shape.
 * Each is the other's gradient. */
#include <stdlib.h>

#include "backends/cpu/ref/ref.h"

void sg_ref_sum_to(struct sg_tensor *dst) {
    const struct sg_tensor *a = dst->src[0];
    const int64_t n           = sg_nelements(dst);
    if (n == 0) return;

    /* Double accumulators, one per dst element in contiguous order: the sums may run over
     * many elements (a whole batch). */
    double *acc = sg_ref_calloc((size_t)n, sizeof(double));
    if (sg_nelements(a) > 0) {
        int64_t i[SG_MAX_DIMS] = {0};
        do {
            int64_t flat = 0;
            for (int d = SG_MAX_DIMS - 1; d >= 0; d--) flat = flat * dst->ne[d] + (dst->ne[d] == 1 ? 0 : i[d]);
            acc[flat] += ref_get(a, i);
        } while (ref_next(i, a->ne));
    }

    int64_t i[SG_MAX_DIMS] = {0};
    int64_t flat           = 0;
    do {
        ref_set(dst, i, (float)acc[flat++]);
    } while (ref_next(i, dst->ne));
    free(acc);
}

void sg_ref_repeat(struct sg_tensor *dst) {
    const struct sg_tensor *a = dst->src[0];
    if (sg_nelements(dst) == 0) return;

    int64_t i[SG_MAX_DIMS] = {0};
    do {
        ref_set(dst, i, ref_at(a, ref_bcast_offset(a, i)));
    } while (ref_next(i, dst->ne));
}
