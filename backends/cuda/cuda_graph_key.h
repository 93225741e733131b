/* What a captured CUDA graph depends on (cuda_graph_key.c, host code tested on the CPU): a
 * CUDA graph bakes in every kernel argument, so it must be captured again when any node's op,
 * type, shape, strides, parameters or addresses (its own or its sources') change.
 *
 *     uint64_t key = sg_cuda_graph_key(nodes, n);   // at capture
 *     if (sg_cuda_graph_key(nodes, n) != key) ...   // before each replay: capture again
 */
#ifndef SG_CUDA_GRAPH_KEY_H
#define SG_CUDA_GRAPH_KEY_H

#include <stdint.h>

#include "core/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

uint64_t sg_cuda_graph_key(struct sg_tensor *const *nodes, int n);

#ifdef __cplusplus
}
#endif

#endif
