/* The interface backward rules (core/ops_*.c) use to read and accumulate gradients. */
#ifndef SG_AUTODIFF_H
#define SG_AUTODIFF_H

#include "core/context.h"
#include "core/tensor.h"

struct sg_autodiff;

/* The context new gradient nodes are created in. */
struct sg_ctx *sg_ad_ctx(struct sg_autodiff *ad);
/* Gradient of the loss with respect to node's output (never NULL inside a backward rule). */
struct sg_tensor *sg_ad_grad(struct sg_autodiff *ad, struct sg_tensor *node);
/* True when a gradient is wanted for `t` (it is a PARAM or leads to one). */
bool sg_ad_needs(struct sg_autodiff *ad, const struct sg_tensor *t);
/* Adds `grad` to t's gradient (creating it); grad must have t's shape. Ignored when t needs
 * no gradient. */
void sg_ad_accum(struct sg_autodiff *ad, struct sg_tensor *t, struct sg_tensor *grad);

#endif
