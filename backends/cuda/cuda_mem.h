/* A CUDA device's memory and transfer state (cuda_memory.c): the caching pool every device
 * allocation goes through, and the transfer stream with pinned staging that carries
 * set/get/memset asynchronously.
 *
 * Ordering between transfers (on the device's one transfer stream) and compute (on any number
 * of compute streams) rests on two kinds of events:
 *   - `uploaded`, recorded on the transfer stream after every upload or memset: a compute
 *     stream waits for it (sg_cuda_mem_wait_uploads) before it launches work, so kernels see
 *     every byte set before the launch;
 *   - each compute stream's `done` event, recorded after the last work it enqueued (registered
 *     with sg_cuda_mem_add_stream): the transfer stream waits for all of them before a transfer,
 *     so an upload never overwrites memory a queued kernel still reads and a download sees what
 *     the kernels wrote.
 * Downloads are synchronous (the host waits for the bytes, as the interface requires); uploads
 * return once the caller's bytes are in pinned staging, and the DMA overlaps whatever comes next.
 */
#ifndef SG_CUDA_MEM_H
#define SG_CUDA_MEM_H

#include <cuda_runtime_api.h>

#include "cuda_internal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Creates the (host-side) state of device d; CUDA objects are made on first use. */
sg_status sg_cuda_mem_init(struct sg_cuda_device *d);

/* Device memory from the device's caching pool. Free waits until no queued work on the device
 * can still touch the block, so the pool may hand it out again at once. */
sg_status sg_cuda_mem_alloc(const struct sg_cuda_device *d, size_t size, void **ptr);
void sg_cuda_mem_free(const struct sg_cuda_device *d, void *ptr);
/* One debug-log line with the pool's stats. */
void sg_cuda_mem_log(const struct sg_cuda_device *d, const char *why);

/* Compute streams: register the event the stream records after its work, wait for uploads. */
sg_status sg_cuda_mem_add_stream(const struct sg_cuda_device *d, cudaEvent_t done);
void sg_cuda_mem_remove_stream(const struct sg_cuda_device *d, cudaEvent_t done);
sg_status sg_cuda_mem_wait_uploads(const struct sg_cuda_device *d, cudaStream_t stream);

/* Transfers between host memory and device address dev. */
sg_status sg_cuda_mem_upload(const struct sg_cuda_device *d, void *dev, const void *host, size_t size);
sg_status sg_cuda_mem_download(const struct sg_cuda_device *d, void *host, const void *dev, size_t size);
sg_status sg_cuda_mem_memset(const struct sg_cuda_device *d, void *dev, int value, size_t size);

#ifdef __cplusplus
}
#endif

#endif
