/* ADD, SUB, MUL, DIV with numpy-style broadcasting: each source dim is 1 or dst's. */
#include "backends/cpu/ref/ref.h"

enum ref_binop { REF_ADD, REF_SUB, REF_MUL, REF_DIV };

/* Computed in double and rounded once: for F32 inputs that is exactly the F32 result. */
static double ref_binop_apply(enum ref_binop op, double a, double b) {
    switch (op) {
    case REF_ADD: return a + b;
    case REF_SUB: return a - b;
    case REF_MUL: return a * b;
    case REF_DIV: return a / b;
    }
    return 0.0;
}

static void ref_binary(struct sg_tensor *dst, enum ref_binop op) {
    const struct sg_tensor *a = dst->src[0];
    const struct sg_tensor *b = dst->src[1];
    if (sg_nelements(dst) == 0) return;

    int64_t i[SG_MAX_DIMS] = {0};
    do {
        const double x = ref_at(a, ref_bcast_offset(a, i));
        const double y = ref_at(b, ref_bcast_offset(b, i));
        ref_set(dst, i, (float)ref_binop_apply(op, x, y));
    } while (ref_next(i, dst->ne));
}

void sg_ref_add(struct sg_tensor *dst) { ref_binary(dst, REF_ADD); }
void sg_ref_sub(struct sg_tensor *dst) { ref_binary(dst, REF_SUB); }
void sg_ref_mul(struct sg_tensor *dst) { ref_binary(dst, REF_MUL); }
void sg_ref_div(struct sg_tensor *dst) { ref_binary(dst, REF_DIV); }
