/* The caching device-memory pool (cuda_pool.h): a flat list of blocks, searched linearly (a
 * model run holds a few hundred at most). */
#include <stdint.h>
#include <stdlib.h>

#include "core/log.h"
#include "cuda_pool.h"

#define POOL_MIN_BLOCK  ((size_t)512)
#define POOL_LARGE      ((size_t)64 << 20) /* above: 2 MiB steps instead of quarter powers of two */
#define POOL_LARGE_STEP ((size_t)2 << 20)

struct pool_block {
    void *ptr;
    size_t size; /* rounded */
    bool used;
};

struct sg_cuda_pool {
    struct sg_cuda_pool_cfg cfg;
    struct pool_block *blocks;
    int n, cap_blocks;
    struct sg_cuda_pool_stats st;
};

static size_t round_up(size_t n, size_t step) {
    return n > SIZE_MAX - (step - 1) ? SIZE_MAX : (n + step - 1) / step * step;
}

size_t sg_cuda_pool_round(size_t size) {
    if (size <= POOL_MIN_BLOCK) return POOL_MIN_BLOCK;
    if (size > POOL_LARGE) return round_up(size, POOL_LARGE_STEP);
    size_t pow2 = POOL_MIN_BLOCK;
    while (pow2 * 2 <= size) pow2 *= 2; /* pow2 <= size < 2 pow2 */
    size_t step = pow2 / 4 > POOL_MIN_BLOCK / 4 ? pow2 / 4 : POOL_MIN_BLOCK / 4;
    return round_up(size, step);
}

sg_status sg_cuda_pool_new(const struct sg_cuda_pool_cfg *cfg, struct sg_cuda_pool **out) {
    *out                   = NULL;
    struct sg_cuda_pool *p = calloc(1, sizeof *p);
    if (!p) return sg_error(SG_ERR_NO_MEMORY, "%s: out of host memory for the memory pool", cfg->name);
    p->cfg = *cfg;
    *out   = p;
    return SG_OK;
}

static void release_block(struct sg_cuda_pool *p, int i) {
    struct pool_block *b = &p->blocks[i];
    p->cfg.release(p->cfg.ctx, b->ptr);
    p->st.n_device_frees++;
    if (b->used)
        p->st.in_use -= b->size;
    else
        p->st.cached -= b->size;
    p->blocks[i] = p->blocks[--p->n];
}

void sg_cuda_pool_delete(struct sg_cuda_pool *p) {
    if (!p) return;
    sg_cuda_pool_log(p, "released");
    while (p->n) release_block(p, p->n - 1);
    free(p->blocks);
    free(p);
}

void sg_cuda_pool_trim(struct sg_cuda_pool *p) {
    for (int i = p->n - 1; i >= 0; i--)
        if (!p->blocks[i].used) release_block(p, i);
}

static void note_peaks(struct sg_cuda_pool *p) {
    if (p->st.in_use > p->st.peak_in_use) p->st.peak_in_use = p->st.in_use;
    if (p->st.in_use + p->st.cached > p->st.peak_held) p->st.peak_held = p->st.in_use + p->st.cached;
}

/* The smallest cached block of size [want, want + want/4]. */
static int find_cached(const struct sg_cuda_pool *p, size_t want) {
    int best = -1;
    for (int i = 0; i < p->n; i++) {
        const struct pool_block *b = &p->blocks[i];
        if (b->used || b->size < want || b->size - want > want / 4) continue;
        if (best < 0 || b->size < p->blocks[best].size) best = i;
    }
    return best;
}

static bool over_cap(const struct sg_cuda_pool *p, size_t want) {
    size_t held = p->st.in_use + p->st.cached;
    return p->cfg.cap && (want > p->cfg.cap || held > p->cfg.cap - want);
}

/* Makes room for, then gets, a new device block of `want` bytes. */
static sg_status device_alloc(struct sg_cuda_pool *p, size_t want, void **ptr) {
    if (over_cap(p, want) && p->st.cached) {
        sg_cuda_pool_trim(p);
        p->st.n_trims++;
    }
    if (over_cap(p, want))
        return sg_error(SG_ERR_NO_MEMORY,
                        "%s: %zu more bytes would pass the memory pool's cap of %zu (%zu in use; SAEG_CUDA_POOL_MIB)",
                        p->cfg.name, want, p->cfg.cap, p->st.in_use);
    sg_status st = p->cfg.alloc(p->cfg.ctx, want, ptr);
    if (st != SG_OK && p->st.cached) { /* cached blocks may be what the device is missing */
        sg_error_clear();
        sg_cuda_pool_trim(p);
        p->st.n_trims++;
        SG_LOGD("%s: allocation of %zu bytes failed; released the memory pool's cache and retrying", p->cfg.name, want);
        st = p->cfg.alloc(p->cfg.ctx, want, ptr);
    }
    if (st == SG_OK) p->st.n_device_allocs++;
    return st;
}

sg_status sg_cuda_pool_alloc(struct sg_cuda_pool *p, size_t size, void **ptr) {
    *ptr        = NULL;
    size_t want = sg_cuda_pool_round(size);
    int i       = find_cached(p, want);
    if (i >= 0) {
        p->blocks[i].used = true;
        p->st.cached -= p->blocks[i].size;
        p->st.in_use += p->blocks[i].size;
        p->st.n_reuses++;
        note_peaks(p);
        *ptr = p->blocks[i].ptr;
        return SG_OK;
    }
    if (p->n == p->cap_blocks) {
        int nc                = p->cap_blocks ? 2 * p->cap_blocks : 16;
        struct pool_block *nb = realloc(p->blocks, (size_t)nc * sizeof *nb);
        if (!nb) return sg_error(SG_ERR_NO_MEMORY, "%s: out of host memory for the memory pool", p->cfg.name);
        p->blocks     = nb;
        p->cap_blocks = nc;
    }
    void *dev    = NULL;
    sg_status st = device_alloc(p, want, &dev);
    if (st != SG_OK) return st;
    p->blocks[p->n++] = (struct pool_block){.ptr = dev, .size = want, .used = true};
    p->st.in_use += want;
    note_peaks(p);
    *ptr = dev;
    return SG_OK;
}

void sg_cuda_pool_free(struct sg_cuda_pool *p, void *ptr) {
    if (!ptr) return;
    int i = 0;
    while (i < p->n && p->blocks[i].ptr != ptr) i++;
    if (i == p->n || !p->blocks[i].used) { /* a bug: a pointer this pool never handed out, or a double free */
        SG_LOGE("%s: memory pool: freeing %p, which is not in use", p->cfg.name, ptr);
        return;
    }
    if (!p->cfg.cache) {
        release_block(p, i);
        return;
    }
    p->blocks[i].used = false;
    p->st.in_use -= p->blocks[i].size;
    p->st.cached += p->blocks[i].size;
}

void sg_cuda_pool_get_stats(const struct sg_cuda_pool *p, struct sg_cuda_pool_stats *out) { *out = p->st; }

void sg_cuda_pool_log(const struct sg_cuda_pool *p, const char *why) {
    const double mib = 1024.0 * 1024.0;
    SG_LOGD("%s: memory pool %s: %.1f MiB in use, %.1f MiB cached, peak %.1f MiB in use / %.1f MiB held; "
            "%zu device allocations, %zu reuses, %zu trims",
            p->cfg.name, why, (double)p->st.in_use / mib, (double)p->st.cached / mib, (double)p->st.peak_in_use / mib,
            (double)p->st.peak_held / mib, p->st.n_device_allocs, p->st.n_reuses, p->st.n_trims);
}
