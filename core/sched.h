/* The scheduler runs a graph on one chosen device, with the CPU as the explicit fallback for
 * nodes that device cannot run.
 *
 *     struct sg_sched *sched;
 *     sg_sched_new(stream, &sched);           // stream on the chosen device
 *     sg_sched_compute(sched, g);             // first run: place, split, allocate, run
 *     sg_tensor_set(x, next_batch, 0, n);
 *     sg_sched_compute(sched, g);             // later runs replay the same plan
 *
 * Placement: a node runs on the chosen device when sg_device_supports_op says so, otherwise on
 * the CPU (logged once per op with SAEG_LOG=debug). Leafs without memory (inputs, parameters)
 * are allocated on the chosen device and keep their contents between runs. Consecutive nodes on
 * one device form a split; a source that lives where a split's device cannot read it is copied
 * in before the split runs. Intermediate results share memory by liveness (core/alloc.h);
 * tensors flagged OUTPUT, INPUT or PARAM are never overwritten.
 */
#ifndef SG_SCHED_H
#define SG_SCHED_H

#include "core/backend.h"
#include "core/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sg_sched;

/* `primary` is borrowed (the caller frees it after the scheduler). A CPU stream for fallback is
 * opened with `cpu_threads` threads (0: default) when primary is not already a CPU stream. */
sg_status sg_sched_new(struct sg_stream *primary, int cpu_threads, struct sg_sched **out);
void sg_sched_free(struct sg_sched *sched);

/* Plans g on first use (and again if nodes were added since), then runs it. */
sg_status sg_sched_compute(struct sg_sched *sched, struct sg_graph *g);

/* Only plans and allocates (e.g. to fill inputs and parameters before the first run). */
sg_status sg_sched_prepare(struct sg_sched *sched, struct sg_graph *g);

/* What the last plan of g looks like: splits, fallback nodes and bytes of compute memory. */
struct sg_sched_stats {
    int n_splits;
    int n_fallback_nodes; /* nodes placed on the CPU because the device lacks the op */
    int n_copies;         /* tensors copied between devices per run */
    size_t compute_bytes; /* intermediate memory (liveness-shared), all devices */
    size_t leaf_bytes;    /* memory the scheduler allocated for leafs */
};
sg_status sg_sched_stats(const struct sg_sched *sched, const struct sg_graph *g, struct sg_sched_stats *out);

/* The device a node of a planned graph runs on. */
struct sg_device *sg_sched_node_device(const struct sg_sched *sched, const struct sg_graph *g,
                                       const struct sg_tensor *node);

#ifdef __cplusplus
}
#endif

#endif
