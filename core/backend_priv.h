/* Registry internals shared by backend.c and plugin.c. */
#ifndef SG_BACKEND_PRIV_H
#define SG_BACKEND_PRIV_H

#include "core/backend_impl.h"

#define SG_MAX_BACKENDS 16

/* Records what happened to a backend (reg NULL: unavailable, with a reason); returns its index
 * or -1 when the table is full. A later success replaces an earlier failure of the same name. */
int sg_backend_status_add(const char *name, struct sg_backend_reg *reg, const char *path, const char *reason);

/* A registered backend by name without triggering plugin loading (for the loader itself). */
struct sg_backend_reg *sg_backend_find_loaded(const char *name);

/* Places each tensor of ts that has no memory (views excepted) in new buffers of type buft,
 * appended to out; then gives views of placed tensors their addresses. */
sg_status sg_alloc_tensors(struct sg_tensor *const *ts, int n, struct sg_buffer_type *buft, struct sg_buffer_list *out);

#endif
