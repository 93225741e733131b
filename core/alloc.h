/* Liveness-based memory planning for a graph's intermediate tensors.
 *
 * Measure, then replay: sg_galloc_plan walks the nodes in order, giving each node memory when it
 * is produced and returning a source's memory after its last consumer ran, reusing a source's
 * memory in place for ops that allow it (when the source has no other consumer). The plan holds
 * an offset per tensor and the peak size per chunk; buffers are then allocated once and the same
 * offsets are used on every run.
 */
#ifndef SG_ALLOC_H
#define SG_ALLOC_H

#include <stddef.h>

#include "core/backend.h"
#include "core/graph.h"

struct sg_galloc;

/* `select` picks the tensors this allocator handles (e.g. nodes placed on one device); NULL
 * means every node without memory. Leafs are never handled here. */
typedef bool (*sg_galloc_filter)(const struct sg_tensor *t, void *user);

sg_status sg_galloc_new(struct sg_buffer_type *buft, struct sg_galloc **out);
void sg_galloc_free(struct sg_galloc *ga);

/* Plans memory for the nodes of g that `filter` accepts and that have no data yet (views get
 * their base's address), allocates the buffers and assigns tensor data. Tensors flagged OUTPUT
 * keep their memory for the whole run. */
sg_status sg_galloc_alloc_graph(struct sg_galloc *ga, struct sg_graph *g, sg_galloc_filter filter, void *user);

/* Bytes in use after planning (sum of chunk peaks). */
size_t sg_galloc_size(const struct sg_galloc *ga);

#endif
