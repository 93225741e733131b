/* Device memory: buffers and scratch from a per-device caching pool (cuda_pool.c), transfers on
 * a non-blocking transfer stream through pinned staging. The ordering argument is in cuda_mem.h;
 * every function here holds the device's lock, so streams on several threads share it safely. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "cuda_internal.h"
#include "cuda_mem.h"
#include "cuda_pool.h"

#define STAGE_SLOTS 2                 /* double buffering: fill one while the other is in flight */
#define STAGE_BYTES ((size_t)8 << 20) /* per slot */

struct sg_cuda_mem {
    pthread_mutex_t lock;
    int device;
    struct sg_cuda_pool *pool;
    bool ready; /* the CUDA objects below exist */
    cudaStream_t xfer;
    cudaEvent_t uploaded;
    bool any_upload;
    void *stage[STAGE_SLOTS]; /* pinned; NULL when cudaHostAlloc failed: plain copies then */
    cudaEvent_t stage_done[STAGE_SLOTS];
    cudaEvent_t *streams; /* done events of the open compute streams */
    int n_streams, cap_streams;
};

/* ---- the pool's device calls ---------------------------------------------------------------- */

static sg_status pool_device_alloc(void *ctx, size_t size, void **ptr) {
    const struct sg_cuda_mem *m = ctx;
    sg_status st                = sg_cuda_check(cudaSetDevice(m->device), "cudaSetDevice");
    if (st == SG_OK) st = sg_cuda_check(cudaMalloc(ptr, size), "cudaMalloc");
    if (st != SG_OK) cudaGetLastError(); /* an out-of-memory error is not sticky: clear it for the retry */
    return st;
}

static void pool_device_free(void *ctx, void *ptr) {
    const struct sg_cuda_mem *m = ctx;
    cudaSetDevice(m->device);
    cudaFree(ptr);
}

static size_t env_size(const char *name, size_t unit, size_t fallback) {
    const char *v = getenv(name);
    if (!v || !*v) return fallback;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (*end) {
        SG_LOGW("cuda: %s='%s' is not a number; ignored", name, v);
        return fallback;
    }
    return (size_t)n * unit;
}

sg_status sg_cuda_mem_init(struct sg_cuda_device *d) {
    struct sg_cuda_mem *m = calloc(1, sizeof *m);
    if (!m) return sg_error(SG_ERR_NO_MEMORY, "CUDA: out of host memory");
    m->device = d->index;
    pthread_mutex_init(&m->lock, NULL);
    /* SAEG_CUDA_POOL=0: no caching (every free is a cudaFree); SAEG_CUDA_POOL_MIB caps the bytes
     * the pool holds (in use + cached) */
    struct sg_cuda_pool_cfg cfg = {.name    = d->name,
                                   .alloc   = pool_device_alloc,
                                   .release = pool_device_free,
                                   .ctx     = m,
                                   .cap     = env_size("SAEG_CUDA_POOL_MIB", (size_t)1 << 20, 0),
                                   .cache   = env_size("SAEG_CUDA_POOL", 1, 1) != 0};
    sg_status st                = sg_cuda_pool_new(&cfg, &m->pool);
    if (st != SG_OK) {
        pthread_mutex_destroy(&m->lock);
        free(m);
        return st;
    }
    d->mem = m;
    return SG_OK;
}

/* Creates the transfer stream, events and staging on first use (with m->lock held). */
static sg_status mem_ready(struct sg_cuda_mem *m) {
    sg_status st = sg_cuda_check(cudaSetDevice(m->device), "cudaSetDevice");
    if (st != SG_OK || m->ready) return st;
    st = sg_cuda_check(cudaStreamCreateWithFlags(&m->xfer, cudaStreamNonBlocking), "cudaStreamCreate (transfers)");
    if (st == SG_OK)
        st = sg_cuda_check(cudaEventCreateWithFlags(&m->uploaded, cudaEventDisableTiming), "cudaEventCreate");
    for (int i = 0; st == SG_OK && i < STAGE_SLOTS; i++) {
        st = sg_cuda_check(cudaEventCreateWithFlags(&m->stage_done[i], cudaEventDisableTiming), "cudaEventCreate");
        if (st == SG_OK && cudaHostAlloc(&m->stage[i], STAGE_BYTES, cudaHostAllocDefault) != cudaSuccess) {
            cudaGetLastError();
            m->stage[i] = NULL;
            SG_LOGD("cuda: no pinned staging memory (cudaHostAlloc failed); transfers are synchronous");
        }
    }
    if (st == SG_OK) m->ready = true; /* on failure the objects made so far stay, unused: the device is broken */
    return st;
}

static struct sg_cuda_mem *lock_mem(const struct sg_cuda_device *d) {
    pthread_mutex_lock(&d->mem->lock);
    return d->mem;
}

static void unlock_mem(struct sg_cuda_mem *m) { pthread_mutex_unlock(&m->lock); }

/* The transfer stream waits for everything the compute streams have enqueued so far. */
static sg_status xfer_after_compute(struct sg_cuda_mem *m) {
    for (int i = 0; i < m->n_streams; i++) {
        sg_status st = sg_cuda_check(cudaStreamWaitEvent(m->xfer, m->streams[i], 0), "cudaStreamWaitEvent");
        if (st != SG_OK) return st;
    }
    return SG_OK;
}

/* The host waits until no queued work (transfers or compute) can touch device memory. */
static sg_status quiesce(struct sg_cuda_mem *m) {
    sg_status st = SG_OK;
    for (int i = 0; st == SG_OK && i < m->n_streams; i++)
        st = sg_cuda_check(cudaEventSynchronize(m->streams[i]), "cudaEventSynchronize");
    if (st == SG_OK && m->ready)
        st = sg_cuda_check(cudaStreamSynchronize(m->xfer), "cudaStreamSynchronize (transfers)");
    return st;
}

/* ---- pool -------------------------------------------------------------------------------------- */

sg_status sg_cuda_mem_alloc(const struct sg_cuda_device *d, size_t size, void **ptr) {
    struct sg_cuda_mem *m = lock_mem(d);
    sg_status st          = sg_cuda_pool_alloc(m->pool, size, ptr);
    unlock_mem(m);
    return st;
}

void sg_cuda_mem_free(const struct sg_cuda_device *d, void *ptr) {
    if (!ptr) return;
    struct sg_cuda_mem *m = lock_mem(d);
    /* cudaFree would have waited for the device too; the pool must, before reissuing the block */
    if (quiesce(m) != SG_OK) {
        SG_LOGW("cuda: %s; freeing device memory anyway", sg_last_error());
        sg_error_clear();
    }
    sg_cuda_pool_free(m->pool, ptr);
    unlock_mem(m);
}

void sg_cuda_mem_log(const struct sg_cuda_device *d, const char *why) {
    struct sg_cuda_mem *m = lock_mem(d);
    sg_cuda_pool_log(m->pool, why);
    unlock_mem(m);
}

/* ---- compute streams ---------------------------------------------------------------------------- */

sg_status sg_cuda_mem_add_stream(const struct sg_cuda_device *d, cudaEvent_t done) {
    struct sg_cuda_mem *m = lock_mem(d);
    sg_status st          = SG_OK;
    if (m->n_streams == m->cap_streams) {
        int nc          = m->cap_streams ? 2 * m->cap_streams : 4;
        cudaEvent_t *ns = realloc(m->streams, (size_t)nc * sizeof *ns);
        if (ns) {
            m->streams     = ns;
            m->cap_streams = nc;
        } else {
            st = sg_error(SG_ERR_NO_MEMORY, "CUDA: out of host memory");
        }
    }
    if (st == SG_OK) m->streams[m->n_streams++] = done;
    unlock_mem(m);
    return st;
}

void sg_cuda_mem_remove_stream(const struct sg_cuda_device *d, cudaEvent_t done) {
    struct sg_cuda_mem *m = lock_mem(d);
    for (int i = 0; i < m->n_streams; i++)
        if (m->streams[i] == done) {
            m->streams[i] = m->streams[--m->n_streams];
            break;
        }
    unlock_mem(m);
}

sg_status sg_cuda_mem_wait_uploads(const struct sg_cuda_device *d, cudaStream_t stream) {
    struct sg_cuda_mem *m = lock_mem(d);
    /* the wait captures the event's latest record: every upload enqueued before this call */
    sg_status st =
        m->any_upload ? sg_cuda_check(cudaStreamWaitEvent(stream, m->uploaded, 0), "cudaStreamWaitEvent") : SG_OK;
    unlock_mem(m);
    return st;
}

/* ---- transfers ------------------------------------------------------------------------------------ */

static sg_status upload_locked(struct sg_cuda_mem *m, char *dev, const char *host, size_t size) {
    sg_status st = mem_ready(m);
    if (st == SG_OK) st = xfer_after_compute(m);
    if (st != SG_OK) return st;
    if (!m->stage[0] || !m->stage[1]) { /* pageable: the copy must finish before the caller may reuse host */
        st = sg_cuda_check(cudaMemcpyAsync(dev, host, size, cudaMemcpyHostToDevice, m->xfer), "cudaMemcpyAsync");
        if (st == SG_OK) st = sg_cuda_check(cudaStreamSynchronize(m->xfer), "cudaStreamSynchronize (transfers)");
    }
    for (size_t off = 0, k = 0; m->stage[0] && m->stage[1] && st == SG_OK && off < size; off += STAGE_BYTES, k++) {
        size_t n = size - off < STAGE_BYTES ? size - off : STAGE_BYTES;
        int slot = (int)(k % STAGE_SLOTS);
        /* the slot's previous DMA must have read it before the host refills it */
        st = sg_cuda_check(cudaEventSynchronize(m->stage_done[slot]), "cudaEventSynchronize (staging)");
        if (st != SG_OK) break;
        memcpy(m->stage[slot], host + off, n);
        st = sg_cuda_check(cudaMemcpyAsync(dev + off, m->stage[slot], n, cudaMemcpyHostToDevice, m->xfer),
                           "cudaMemcpyAsync to device");
        if (st == SG_OK) st = sg_cuda_check(cudaEventRecord(m->stage_done[slot], m->xfer), "cudaEventRecord");
    }
    if (st == SG_OK) st = sg_cuda_check(cudaEventRecord(m->uploaded, m->xfer), "cudaEventRecord");
    if (st == SG_OK) m->any_upload = true;
    return st;
}

sg_status sg_cuda_mem_upload(const struct sg_cuda_device *d, void *dev, const void *host, size_t size) {
    struct sg_cuda_mem *m = lock_mem(d);
    sg_status st          = upload_locked(m, dev, host, size);
    unlock_mem(m);
    return st;
}

static sg_status download_chunk(struct sg_cuda_mem *m, int slot, const char *dev, size_t n) {
    sg_status st = sg_cuda_check(cudaMemcpyAsync(m->stage[slot], dev, n, cudaMemcpyDeviceToHost, m->xfer),
                                 "cudaMemcpyAsync to host");
    return st == SG_OK ? sg_cuda_check(cudaEventRecord(m->stage_done[slot], m->xfer), "cudaEventRecord") : st;
}

static sg_status download_locked(struct sg_cuda_mem *m, char *host, const char *dev, size_t size) {
    sg_status st = mem_ready(m);
    if (st == SG_OK) st = xfer_after_compute(m);
    if (st != SG_OK) return st;
    if (!m->stage[0] || !m->stage[1]) {
        st = sg_cuda_check(cudaMemcpyAsync(host, dev, size, cudaMemcpyDeviceToHost, m->xfer), "cudaMemcpyAsync");
        return st == SG_OK ? sg_cuda_check(cudaStreamSynchronize(m->xfer), "cudaStreamSynchronize (transfers)") : st;
    }
    /* chunk k+1 is in flight while the host copies chunk k out of staging */
    size_t n_chunks = (size + STAGE_BYTES - 1) / STAGE_BYTES;
    for (size_t k = 0; st == SG_OK && k < n_chunks; k++) {
        if (k == 0) st = download_chunk(m, 0, dev, size < STAGE_BYTES ? size : STAGE_BYTES);
        size_t next = (k + 1) * STAGE_BYTES;
        if (st == SG_OK && next < size)
            st = download_chunk(m, (int)((k + 1) % STAGE_SLOTS), dev + next,
                                size - next < STAGE_BYTES ? size - next : STAGE_BYTES);
        int slot = (int)(k % STAGE_SLOTS);
        if (st == SG_OK) st = sg_cuda_check(cudaEventSynchronize(m->stage_done[slot]), "cudaEventSynchronize");
        size_t off = k * STAGE_BYTES;
        if (st == SG_OK) memcpy(host + off, m->stage[slot], size - off < STAGE_BYTES ? size - off : STAGE_BYTES);
    }
    return st;
}

sg_status sg_cuda_mem_download(const struct sg_cuda_device *d, void *host, const void *dev, size_t size) {
    struct sg_cuda_mem *m = lock_mem(d);
    sg_status st          = download_locked(m, host, dev, size);
    unlock_mem(m);
    return st;
}

sg_status sg_cuda_mem_memset(const struct sg_cuda_device *d, void *dev, int value, size_t size) {
    struct sg_cuda_mem *m = lock_mem(d);
    sg_status st          = mem_ready(m);
    if (st == SG_OK) st = xfer_after_compute(m);
    if (st == SG_OK) st = sg_cuda_check(cudaMemsetAsync(dev, value, size, m->xfer), "cudaMemsetAsync");
    if (st == SG_OK) st = sg_cuda_check(cudaEventRecord(m->uploaded, m->xfer), "cudaEventRecord");
    if (st == SG_OK) m->any_upload = true;
    unlock_mem(m);
    return st;
}

/* ---- buffers --------------------------------------------------------------------------------------- */

struct cuda_buffer {
    void *dev_ptr;
    const struct sg_cuda_device *dev;
};

/* Tensor data pointers are real device addresses, so offsets need no translation. */
static void *buf_base(struct sg_buffer *buf) { return ((struct cuda_buffer *)buf->context)->dev_ptr; }

static void buf_free(struct sg_buffer *buf) {
    struct cuda_buffer *cb = buf->context;
    sg_cuda_mem_free(cb->dev, cb->dev_ptr);
    free(cb);
    free(buf);
}

static sg_status buf_set(struct sg_buffer *buf, struct sg_tensor *t, const void *data, size_t off, size_t size) {
    struct cuda_buffer *cb = buf->context;
    return sg_cuda_mem_upload(cb->dev, (char *)t->data + off, data, size);
}

static sg_status buf_get(struct sg_buffer *buf, const struct sg_tensor *t, void *data, size_t off, size_t size) {
    struct cuda_buffer *cb = buf->context;
    return sg_cuda_mem_download(cb->dev, data, (const char *)t->data + off, size);
}

static sg_status buf_memset(struct sg_buffer *buf, struct sg_tensor *t, uint8_t value, size_t off, size_t size) {
    struct cuda_buffer *cb = buf->context;
    return sg_cuda_mem_memset(cb->dev, (char *)t->data + off, value, size);
}

static sg_status buf_clear(struct sg_buffer *buf, uint8_t value) {
    struct cuda_buffer *cb = buf->context;
    return sg_cuda_mem_memset(cb->dev, cb->dev_ptr, value, buf->size);
}

static const struct sg_buffer_i cuda_buffer_i = {
    .free_buffer   = buf_free,
    .base          = buf_base,
    .set_tensor    = buf_set,
    .get_tensor    = buf_get,
    .memset_tensor = buf_memset,
    .clear         = buf_clear,
};

static const char *buft_name(const struct sg_buffer_type *buft) {
    return ((const struct sg_cuda_device *)buft->context)->name;
}

static size_t buft_alignment(const struct sg_buffer_type *buft) {
    (void)buft;
    return 256; /* cudaMalloc's guarantee (pool blocks are whole cudaMalloc blocks); vectorised loads want it */
}

static sg_status buft_alloc(struct sg_buffer_type *buft, size_t size, struct sg_buffer **out) {
    const struct sg_cuda_device *d = buft->context;
    struct sg_buffer *buf          = calloc(1, sizeof *buf);
    struct cuda_buffer *cb         = calloc(1, sizeof *cb);
    if (!buf || !cb) {
        free(buf);
        free(cb);
        return sg_error(SG_ERR_NO_MEMORY, "CUDA: out of host memory");
    }
    sg_status st = sg_cuda_mem_alloc(d, size, &cb->dev_ptr);
    if (st != SG_OK) {
        free(buf);
        free(cb);
        return st;
    }
    cb->dev = d;
    *buf    = (struct sg_buffer){.iface = &cuda_buffer_i, .buft = buft, .context = cb, .size = size};
    *out    = buf;
    return SG_OK;
}

const struct sg_buffer_type_i sg_cuda_buffer_type_i = {
    .name         = buft_name,
    .alloc_buffer = buft_alloc,
    .alignment    = buft_alignment,
};
