/* A caching pool of device memory blocks: pure host bookkeeping, with the device allocator
 * behind two function pointers so that tests drive it with a fake one.
 *
 *     struct sg_cuda_pool *p;
 *     sg_cuda_pool_new(&(struct sg_cuda_pool_cfg){.name = "cuda:0", .alloc = my_alloc,
 *                                                 .release = my_free, .cache = true}, &p);
 *     void *ptr;
 *     sg_cuda_pool_alloc(p, 1000, &ptr);   // a 1024-byte block from the device
 *     sg_cuda_pool_free(p, ptr);           // cached, not returned
 *     sg_cuda_pool_alloc(p, 900, &ptr);    // the same block again, no device call
 *     sg_cuda_pool_delete(p);              // everything back to the device
 *
 * Sizes round up to classes (four per power of two, 512 B at least; 2 MiB steps above 64 MiB)
 * so that blocks freed by one graph fit the next one's requests. A request takes the smallest
 * cached block of its rounded size up to a quarter more; blocks are never split, so a huge
 * cached block never ends up pinned by a small request. When the device allocator fails, or the
 * cap would be passed, the pool returns its cached blocks to the device and tries once more.
 * Not thread-safe: the caller holds a lock (the CUDA device does).
 */
#ifndef SG_CUDA_POOL_H
#define SG_CUDA_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sg_cuda_pool_cfg {
    const char *name; /* for messages: "cuda:0" */
    /* The device allocator: returns SG_OK with *ptr set, or an error status (sg_error set). */
    sg_status (*alloc)(void *ctx, size_t size, void **ptr);
    void (*release)(void *ctx, void *ptr);
    void *ctx;
    size_t cap; /* most bytes held from the device (in use + cached); 0: no cap */
    bool cache; /* false: freed blocks go straight back to the device */
};

struct sg_cuda_pool_stats {
    size_t in_use;      /* bytes of blocks handed out (rounded sizes) */
    size_t cached;      /* bytes of free blocks kept for reuse */
    size_t peak_in_use; /* largest in_use so far */
    size_t peak_held;   /* largest in_use + cached so far */
    size_t n_device_allocs, n_device_frees;
    size_t n_reuses; /* requests served from the cache */
    size_t n_trims;  /* times the cache was emptied to make room */
};

struct sg_cuda_pool;

sg_status sg_cuda_pool_new(const struct sg_cuda_pool_cfg *cfg, struct sg_cuda_pool **out);
/* Returns every block to the device (blocks still in use too: the owner is gone). */
void sg_cuda_pool_delete(struct sg_cuda_pool *p);

/* The size a request of `size` bytes is rounded up to. */
size_t sg_cuda_pool_round(size_t size);

/* A block of at least size bytes (size 0 gives the smallest class). */
sg_status sg_cuda_pool_alloc(struct sg_cuda_pool *p, size_t size, void **ptr);
/* Gives a block back (cached, or released when caching is off). NULL is a no-op. */
void sg_cuda_pool_free(struct sg_cuda_pool *p, void *ptr);
/* Returns every cached block to the device. */
void sg_cuda_pool_trim(struct sg_cuda_pool *p);

void sg_cuda_pool_get_stats(const struct sg_cuda_pool *p, struct sg_cuda_pool_stats *out);
/* One debug-log line with the stats, prefixed with why. */
void sg_cuda_pool_log(const struct sg_cuda_pool *p, const char *why);

#ifdef __cplusplus
}
#endif

#endif
