/* CONT and CPY: element-by-element copies in logical order, converting the type on the way. */
#include <string.h>

#include "backends/cpu/ref/ref.h"

/* Copies src into dst element by element in flattened logical order (dim 0 fastest), so a
 * [6, 4] source fills a [4, 6] or [24] destination; the element counts must match. */
static void ref_copy_flat(struct sg_tensor *dst, const struct sg_tensor *src) {
    const int64_t n = sg_nelements(dst);
    if (n == 0 || n != sg_nelements(src)) return;
    const size_t esize = sg_type_size(src->type);

    int64_t id[SG_MAX_DIMS] = {0};
    int64_t is[SG_MAX_DIMS] = {0};
    do {
        const char *ps = (const char *)src->data + ref_offset(src, is);
        char *pd       = (char *)dst->data + ref_offset(dst, id);
        if (src->type == dst->type) {
            memcpy(pd, ps, esize); /* bit-exact, and the only path for I32 */
        } else {
            ref_store(dst->type, pd, ref_load(src->type, ps));
        }
        ref_next(is, src->ne);
    } while (ref_next(id, dst->ne));
}

void sg_ref_cont(struct sg_tensor *dst) { ref_copy_flat(dst, dst->src[0]); }

/* dst is a view of src[1] (the target), possibly strided: writing through dst's strides lands
 * every element in the target's storage. */
void sg_ref_cpy(struct sg_tensor *dst) { ref_copy_flat(dst, dst->src[0]); }
