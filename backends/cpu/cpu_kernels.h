/* Kernel tables of the CPU backend.
 *
 * Two implementations of every op:
 *  - reference kernels (ref/): single-threaded, obvious, read every tensor through its strides.
 *    They are the oracle test-backend-ops compares every backend (this one included) against.
 *  - fast kernels (cpu_*.c): threaded over the stream's pool, contiguous fast paths, OpenBLAS
 *    for large matmuls, flash-style attention.
 * A CPU stream in reference mode (sg_cpu_stream_set_reference) runs the reference table.
 */
#ifndef SG_CPU_KERNELS_H
#define SG_CPU_KERNELS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/ops.h"
#include "core/tensor.h"

struct sg_cpu_pool;

/* What a fast kernel gets: its thread index ith of nth, the shared scratch (sized by the
 * kernel's work_size, the same pointer for all threads), and the pool for barriers inside a
 * kernel. Every thread calls the kernel for every node; each does its share and returns. */
struct sg_cpu_params {
    int ith;
    int nth;
    void *wdata;
    size_t wsize;
    struct sg_cpu_pool *pool;
};

typedef void (*sg_cpu_kernel_fn)(const struct sg_cpu_params *p, struct sg_tensor *dst);
/* Scratch bytes a kernel needs for `node` with nth threads (shared by all threads). */
typedef size_t (*sg_cpu_work_size_fn)(const struct sg_tensor *node, int nth);

struct sg_cpu_kernel {
    sg_cpu_kernel_fn run;          /* NULL: op unsupported (view ops need none) */
    sg_cpu_work_size_fn work_size; /* NULL: no scratch */
};

/* Reference kernels run on one thread with no scratch. */
typedef void (*sg_ref_kernel_fn)(struct sg_tensor *dst);

extern const struct sg_cpu_kernel sg_cpu_kernels[SG_OP_COUNT];
extern const sg_ref_kernel_fn sg_ref_kernels[SG_OP_COUNT];

/* Whether the CPU kernels accept this node (types and layouts); both tables accept the same. */
bool sg_cpu_supports_op(const struct sg_tensor *node);

#endif
