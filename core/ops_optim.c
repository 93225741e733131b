/* The Adam/AdamW step: an in-place update whose hyper-parameters are a tensor input, so a new
 * learning rate or step count never changes the graph. */
#include <string.h>

#include "ops_impl.h"

sg_status sg_shape_adam_step(struct sg_tensor *node) {
    struct sg_tensor *w  = node->src[0];
    struct sg_tensor *hp = node->src[4], *gn2 = node->src[5];
    const char *names[] = {"w", "g", "m", "v"};
    for (int i = 0; i < 4; i++) {
        sg_status st = sg_require_type(node, node->src[i], names[i], SG_TYPE_F32);
        if (st != SG_OK) return st;
        if (!sg_same_shape(node->src[i], w)) {
            char s0[96], s1[96];
            return sg_error(SG_ERR_INVALID_ARG, "adam_step: %s %s differs from w '%s' %s", names[i],
                            sg_shape_str(node->src[i], s0, sizeof s0), w->name, sg_shape_str(w, s1, sizeof s1));
        }
        if (i != 1 && !sg_is_contiguous(node->src[i]))
            return sg_error(SG_ERR_INVALID_ARG, "adam_step: %s of '%s' must be contiguous", names[i], w->name);
    }
    sg_status st = sg_require_type(node, hp, "hparams", SG_TYPE_F32);
    if (st != SG_OK) return st;
    if (sg_nelements(hp) != SG_ADAM_N_PARAMS)
        return sg_error(SG_ERR_INVALID_ARG, "adam_step: hparams must hold %d values, not %lld", SG_ADAM_N_PARAMS,
                        (long long)sg_nelements(hp));
    if (gn2 && (gn2->type != SG_TYPE_F32 || sg_nelements(gn2) != 1))
        return sg_error(SG_ERR_INVALID_ARG, "adam_step: grad_norm_sq must be a scalar f32");
    node->type = w->type;
    memcpy(node->ne, w->ne, sizeof node->ne);
    memcpy(node->nb, w->nb, sizeof node->nb);
    sg_tensor_make_view(node, w, 0);
    return SG_OK;
}

struct sg_tensor *sg_adam_step(struct sg_ctx *ctx, struct sg_tensor *w, struct sg_tensor *g, struct sg_tensor *m,
                               struct sg_tensor *v, struct sg_tensor *hparams, struct sg_tensor *grad_norm_sq) {
    return sg_op_new(ctx, SG_OP_ADAM_STEP, (struct sg_tensor *[]){w, g, m, v, hparams, grad_norm_sq}, 6, NULL, 0);
}

double sg_flops_adam_step(const struct sg_tensor *node) { return 12.0 * (double)sg_nelements(node); }
