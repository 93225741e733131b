/* The CUDA backend's caching memory pool (backends/cuda/cuda_pool.c) is host bookkeeping around
 * two device calls; here a fake device with a fixed capacity stands in for cudaMalloc/cudaFree
 * and records every live block, so the tests see what a GPU would: which blocks are reused,
 * what the cap and a full device do, and that nothing leaks. */
#include <stdint.h>
#include <stdlib.h>

#include "backends/cuda/cuda_pool.h"
#include "tests/test_util.h"

#define FAKE_MAX_LIVE 256

/* A fake device: addresses from a counter, a byte capacity, the live blocks. */
struct fake_dev {
    size_t capacity, used;
    uintptr_t next;
    void *live[FAKE_MAX_LIVE];
    size_t live_size[FAKE_MAX_LIVE];
    int n_live, n_allocs, n_frees, n_failed;
};

static sg_status fake_alloc(void *ctx, size_t size, void **ptr) {
    struct fake_dev *d = ctx;
    if (d->used + size > d->capacity || d->n_live == FAKE_MAX_LIVE) {
        d->n_failed++;
        return sg_error(SG_ERR_NO_MEMORY, "fake device: out of memory");
    }
    d->next += 1u << 20; /* distinct, never reused addresses */
    d->live[d->n_live]        = (void *)d->next;
    d->live_size[d->n_live++] = size;
    d->used += size;
    d->n_allocs++;
    *ptr = (void *)d->next;
    return SG_OK;
}

static void fake_release(void *ctx, void *ptr) {
    struct fake_dev *d = ctx;
    for (int i = 0; i < d->n_live; i++)
        if (d->live[i] == ptr) {
            d->used -= d->live_size[i];
            d->live[i]      = d->live[--d->n_live];
            d->live_size[i] = d->live_size[d->n_live];
            d->n_frees++;
            return;
        }
    CHECK_MSG(0, "released %p, which the fake device never handed out", ptr);
}

static struct sg_cuda_pool *new_pool(struct fake_dev *d, size_t capacity, size_t cap, bool cache) {
    *d                          = (struct fake_dev){.capacity = capacity};
    struct sg_cuda_pool_cfg cfg = {
        .name = "fake:0", .alloc = fake_alloc, .release = fake_release, .ctx = d, .cap = cap, .cache = cache};
    struct sg_cuda_pool *p = NULL;
    CHECK(sg_cuda_pool_new(&cfg, &p) == SG_OK);
    return p;
}

static struct sg_cuda_pool_stats stats_of(const struct sg_cuda_pool *p) {
    struct sg_cuda_pool_stats s;
    sg_cuda_pool_get_stats(p, &s);
    return s;
}

/* Rounded sizes cover the request, waste at most a quarter (2 MiB above 64 MiB), and grow with it. */
static void test_rounding_covers_request_with_bounded_waste(void) {
    CHECK(sg_cuda_pool_round(0) == 512);
    CHECK(sg_cuda_pool_round(1) == 512);
    CHECK(sg_cuda_pool_round(513) == 640);
    CHECK(sg_cuda_pool_round(1000) == 1024);
    CHECK(sg_cuda_pool_round(1025) == 1280);
    CHECK(sg_cuda_pool_round((size_t)64 << 20) == (size_t)64 << 20);
    CHECK(sg_cuda_pool_round(((size_t)64 << 20) + 1) == (size_t)66 << 20);
    size_t prev = 0;
    for (size_t s = 1; s < ((size_t)200 << 20); s = s * 9 / 8 + 7) {
        size_t r = sg_cuda_pool_round(s);
        CHECK_MSG(r >= s, "round(%zu) = %zu", s, r);
        CHECK_MSG(r <= 512 || r - s <= s / 4 || r - s < ((size_t)2 << 20), "round(%zu) = %zu wastes too much", s, r);
        CHECK_MSG(r >= prev, "round(%zu) = %zu is below the previous size's %zu", s, r, prev);
        prev = r;
    }
}

/* A freed block serves the next request of its class without a device call. */
static void test_freed_block_is_reused(void) {
    struct fake_dev d;
    struct sg_cuda_pool *p = new_pool(&d, (size_t)1 << 30, 0, true);
    void *a = NULL, *b = NULL;
    CHECK(sg_cuda_pool_alloc(p, 1000, &a) == SG_OK);
    sg_cuda_pool_free(p, a);
    CHECK(d.n_live == 1); /* cached, not released */
    CHECK(sg_cuda_pool_alloc(p, 900, &b) == SG_OK);
    CHECK(a == b);
    CHECK(d.n_allocs == 1);
    struct sg_cuda_pool_stats s = stats_of(p);
    CHECK(s.n_reuses == 1 && s.in_use == 1024 && s.cached == 0);
    sg_cuda_pool_free(p, b);
    s = stats_of(p);
    CHECK(s.in_use == 0 && s.cached == 1024 && s.peak_in_use == 1024);
    sg_cuda_pool_delete(p);
    CHECK(d.n_live == 0 && d.used == 0);
}

/* A cached block more than a quarter larger than the request is left for a request its size. */
static void test_large_cached_block_not_pinned_by_small_request(void) {
    struct fake_dev d;
    struct sg_cuda_pool *p = new_pool(&d, (size_t)1 << 30, 0, true);
    void *big = NULL, *small = NULL, *big2 = NULL;
    CHECK(sg_cuda_pool_alloc(p, (size_t)1 << 20, &big) == SG_OK);
    sg_cuda_pool_free(p, big);
    CHECK(sg_cuda_pool_alloc(p, 4096, &small) == SG_OK);
    CHECK(small != big);
    CHECK(sg_cuda_pool_alloc(p, ((size_t)1 << 20) - 100, &big2) == SG_OK);
    CHECK(big2 == big);
    CHECK(d.n_allocs == 2);
    sg_cuda_pool_delete(p);
    CHECK(d.n_live == 0);
}

/* The smallest fitting cached block wins. */
static void test_best_fit_among_cached_blocks(void) {
    struct fake_dev d;
    struct sg_cuda_pool *p = new_pool(&d, (size_t)1 << 30, 0, true);
    void *b1280 = NULL, *b1024 = NULL, *got = NULL;
    CHECK(sg_cuda_pool_alloc(p, 1280, &b1280) == SG_OK);
    CHECK(sg_cuda_pool_alloc(p, 1024, &b1024) == SG_OK);
    sg_cuda_pool_free(p, b1280);
    sg_cuda_pool_free(p, b1024);
    CHECK(sg_cuda_pool_alloc(p, 1000, &got) == SG_OK);
    CHECK(got == b1024);
    CHECK(sg_cuda_pool_alloc(p, 1000, &got) == SG_OK); /* 1280 is within a quarter of 1024 */
    CHECK(got == b1280);
    CHECK(d.n_allocs == 2);
    sg_cuda_pool_delete(p);
    CHECK(d.n_live == 0);
}

/* Past the cap, cached blocks go back to the device first; in-use bytes alone past it fail. */
static void test_cap_trims_cache_then_refuses(void) {
    struct fake_dev d;
    struct sg_cuda_pool *p = new_pool(&d, (size_t)1 << 30, 4096, true);
    void *a = NULL, *b = NULL, *c = NULL;
    CHECK(sg_cuda_pool_alloc(p, 2048, &a) == SG_OK);
    CHECK(sg_cuda_pool_alloc(p, 2048, &b) == SG_OK);
    CHECK(sg_cuda_pool_alloc(p, 512, &c) == SG_ERR_NO_MEMORY);
    CHECK_CONTAINS(sg_last_error(), "cap");
    sg_error_clear();
    sg_cuda_pool_free(p, b); /* cached: 2048 in use + 2048 cached = the cap */
    CHECK(sg_cuda_pool_alloc(p, 1024, &c) == SG_OK);
    struct sg_cuda_pool_stats s = stats_of(p);
    CHECK(s.n_trims == 1 && s.cached == 0 && s.in_use == 2048 + 1024);
    CHECK(d.n_frees == 1 && d.n_live == 2);
    CHECK(s.peak_held <= 4096);
    sg_cuda_pool_free(p, a);
    sg_cuda_pool_free(p, c);
    sg_cuda_pool_delete(p);
    CHECK(d.n_live == 0);
}

/* A full device: the pool releases its cache and the retry succeeds. */
static void test_device_failure_trims_and_retries(void) {
    struct fake_dev d;
    struct sg_cuda_pool *p = new_pool(&d, 3000, 0, true);
    void *a = NULL, *b = NULL;
    CHECK(sg_cuda_pool_alloc(p, 2048, &a) == SG_OK);
    sg_cuda_pool_free(p, a);
    CHECK(sg_cuda_pool_alloc(p, 1024, &b) == SG_OK); /* 2048 cached + 1024 > 3000: first try fails */
    CHECK(d.n_failed == 1 && d.n_frees == 1);
    CHECK(stats_of(p).n_trims == 1);
    CHECK(sg_last_error() == NULL || sg_last_error()[0] == '\0');
    /* a request the device cannot hold even empty fails with the device's reason */
    void *c = NULL;
    CHECK(sg_cuda_pool_alloc(p, 4096, &c) == SG_ERR_NO_MEMORY);
    CHECK(c == NULL);
    CHECK_CONTAINS(sg_last_error(), "fake device");
    sg_error_clear();
    sg_cuda_pool_free(p, b);
    sg_cuda_pool_delete(p);
    CHECK(d.n_live == 0 && d.used == 0);
}

/* With caching off every free goes straight back to the device. */
static void test_cache_off_releases_at_once(void) {
    struct fake_dev d;
    struct sg_cuda_pool *p = new_pool(&d, (size_t)1 << 30, 0, false);
    void *a                = NULL;
    CHECK(sg_cuda_pool_alloc(p, 5000, &a) == SG_OK);
    sg_cuda_pool_free(p, a);
    CHECK(d.n_live == 0 && stats_of(p).cached == 0);
    sg_cuda_pool_free(p, NULL);
    sg_cuda_pool_delete(p);
}

/* Deleting the pool returns blocks still in use too, and trim only the cached ones. */
static void test_no_leak_on_delete_and_trim(void) {
    struct fake_dev d;
    struct sg_cuda_pool *p = new_pool(&d, (size_t)1 << 30, 0, true);
    void *a = NULL, *b = NULL;
    CHECK(sg_cuda_pool_alloc(p, 100, &a) == SG_OK);
    CHECK(sg_cuda_pool_alloc(p, 100000, &b) == SG_OK);
    sg_cuda_pool_free(p, b);
    sg_cuda_pool_trim(p);
    CHECK(d.n_live == 1 && stats_of(p).cached == 0 && stats_of(p).in_use == 512);
    sg_cuda_pool_delete(p);
    CHECK(d.n_live == 0 && d.n_allocs == d.n_frees);
}

/* Repeated runs of one graph's allocation pattern reach a steady state: after the first run no
 * device call, and the memory held is what one run needs. */
static void test_repeated_pattern_reaches_steady_state(void) {
    struct fake_dev d;
    struct sg_cuda_pool *p      = new_pool(&d, (size_t)1 << 30, 0, true);
    static const size_t sizes[] = {4096, 100, 1 << 20, 3000, 777777, 4096, 65536, 12345678, 512, 2049};
    enum { N = sizeof sizes / sizeof sizes[0] };
    void *ptrs[N];
    size_t need = 0;
    for (int i = 0; i < N; i++) need += sg_cuda_pool_round(sizes[i]);
    int allocs_after_first = 0;
    for (int run = 0; run < 5; run++) {
        for (int i = 0; i < N; i++) CHECK(sg_cuda_pool_alloc(p, sizes[i], &ptrs[i]) == SG_OK);
        if (run == 0) allocs_after_first = d.n_allocs;
        for (int i = N - 1; i >= 0; i -= 2) sg_cuda_pool_free(p, ptrs[i]); /* out of order */
        for (int i = N - 2; i >= 0; i -= 2) sg_cuda_pool_free(p, ptrs[i]);
    }
    CHECK(d.n_allocs == allocs_after_first);
    struct sg_cuda_pool_stats s = stats_of(p);
    CHECK(s.peak_held == need && s.cached == need && s.n_reuses == 4 * N);
    sg_cuda_pool_delete(p);
    CHECK(d.n_live == 0);
}

/* Freeing a pointer twice is reported and changes nothing. */
static void test_double_free_is_ignored(void) {
    struct fake_dev d;
    struct sg_cuda_pool *p = new_pool(&d, (size_t)1 << 30, 0, true);
    void *a                = NULL;
    CHECK(sg_cuda_pool_alloc(p, 100, &a) == SG_OK);
    sg_cuda_pool_free(p, a);
    sg_cuda_pool_free(p, a);
    CHECK(stats_of(p).cached == 512 && stats_of(p).in_use == 0);
    sg_cuda_pool_delete(p);
    CHECK(d.n_live == 0);
}

int main(void) {
    test_rounding_covers_request_with_bounded_waste();
    test_freed_block_is_reused();
    test_large_cached_block_not_pinned_by_small_request();
    test_best_fit_among_cached_blocks();
    test_cap_trims_cache_then_refuses();
    test_device_failure_trims_and_retries();
    test_cache_off_releases_at_once();
    test_no_leak_on_delete_and_trim();
    test_repeated_pattern_reaches_steady_state();
    test_double_free_is_ignored();
    return test_failures ? 1 : 0;
}
