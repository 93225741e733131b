/* A context owns tensor metadata (and graphs built from it). It grows in chunks, so there is no
 * size to guess; tensor pointers stay valid until sg_ctx_free. Tensor *data* lives in backend
 * buffers (core/backend.h), not here.
 *
 * Op constructors never abort: a bad shape makes them return NULL and record the first error in
 * the context, and every constructor given a NULL source returns NULL. So a model can be built
 * straight through and checked once:
 *
 *     struct sg_tensor *y = sg_matmul(ctx, x, w);
 *     ...
 *     if (sg_ctx_status(ctx) != SG_OK) fprintf(stderr, "%s\n", sg_ctx_error(ctx));
 */
#ifndef SG_CONTEXT_H
#define SG_CONTEXT_H

#include <stddef.h>

#include "core/status.h"
#include "core/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sg_ctx *sg_ctx_new(void);
void sg_ctx_free(struct sg_ctx *ctx);

/* Number of tensors created so far, and the i-th in creation order. */
int sg_ctx_n_tensors(const struct sg_ctx *ctx);
struct sg_tensor *sg_ctx_tensor(const struct sg_ctx *ctx, int i);
/* First tensor with this name, or NULL. */
struct sg_tensor *sg_ctx_find(const struct sg_ctx *ctx, const char *name);

/* SG_OK, or the status of the first failed construction; the message says which op and why. */
sg_status sg_ctx_status(const struct sg_ctx *ctx);
const char *sg_ctx_error(const struct sg_ctx *ctx);
/* Records an error (first one wins) and returns NULL, for use by constructors. */
struct sg_tensor *sg_ctx_fail(struct sg_ctx *ctx, sg_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Raw arena allocation (zeroed, 16-byte aligned), freed with the context. */
void *sg_ctx_alloc(struct sg_ctx *ctx, size_t size);

#ifdef __cplusplus
}
#endif

#endif
