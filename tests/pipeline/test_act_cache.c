/* The activation sources: the cache holds exactly what the model streams (F32 bit for bit, BF16
 * to its rounding), is reused when it matches and refused, with what differs named, when it does
 * not; sources stop at epoch ends when asked; the shuffle pool serves half the pool per refill
 * and every token it was given. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/types.h"
#include "pipeline/act_cache.h"
#include "pipeline/pool.h"
#include "tests/test_util.h"

#define FIX "tests/models/fixtures/"

static struct sg_stream *stream;
static struct sg_cells *cells, *cells_csc;

static struct sg_cells *open_cells(const char *data) {
    struct sg_cells_opts o = {.model = FIX "tiny_relu", .data = data, .device = sg_device_cpu()};
    struct sg_cells *c     = NULL;
    CHECK_MSG(sg_cells_open(&o, &c) == SG_OK, "%s", sg_last_error());
    return c;
}

/* One epoch of a source into a new array; returns the row count. */
static int64_t read_epoch(struct sg_act_source *s, float **out) {
    int64_t cap = 4096, n = 0, got;
    float *rows = malloc((size_t)(cap * s->d) * sizeof *rows);
    CHECK(s->read(s, rows, cap, &got) == SG_OK);
    n    = got;
    *out = rows;
    return n;
}

static struct sg_act_source *cache_source(const char *dir, int layer, enum sg_tokens tokens, bool bf16,
                                          struct sg_cells *c, sg_status *st) {
    struct sg_act_cache_opts o = {
        .dir = dir, .cells = c, .layer = layer, .tokens = tokens, .batch_cells = 5, .stream = stream, .bf16 = bf16};
    struct sg_act_source *s = NULL;
    *st                     = sg_act_cache_source(&o, &s);
    return s;
}

static void test_cache_holds_what_the_model_streams(void) {
    struct sg_act_model_opts mo = {
        .cells = cells, .layer = 0, .tokens = SG_TOKENS_GENES, .batch_cells = 5, .stream = stream};
    struct sg_act_source *model = NULL;
    CHECK(sg_act_source_model(&mo, &model) == SG_OK);
    float *a = NULL, *b = NULL, *c = NULL;
    int64_t na = read_epoch(model, &a);
    CHECK(na == 303); /* 315 tokens of the 12 cells minus their CLS tokens */
    sg_status st;
    CHECK(system("rm -rf build-test-out/cache-f32 build-test-out/cache-bf16 && mkdir -p build-test-out") == 0);
    struct sg_act_source *f32 = cache_source("build-test-out/cache-f32", 0, SG_TOKENS_GENES, false, cells, &st);
    CHECK_MSG(st == SG_OK, "%s", sg_last_error());
    struct sg_act_source *bf = cache_source("build-test-out/cache-bf16", 0, SG_TOKENS_GENES, true, cells, &st);
    CHECK_MSG(st == SG_OK, "%s", sg_last_error());
    if (!f32 || !bf) return;
    CHECK(f32->n_tokens == na && bf->n_tokens == na);
    int64_t nb = read_epoch(f32, &b), nc = read_epoch(bf, &c);
    CHECK(nb == na && nc == na);
    CHECK(memcmp(a, b, (size_t)(na * 32) * sizeof(float)) == 0);
    double worst = 0;
    for (int64_t i = 0; i < na * 32; i++) worst = fmax(worst, fabs(c[i] - sg_bf16_to_f32(sg_f32_to_bf16(a[i]))));
    CHECK(worst == 0);
    /* the epoch ended: the next read starts epoch 1 at the first token */
    int64_t got;
    float row[32];
    CHECK(f32->read(f32, row, 1, &got) == SG_OK && got == 1);
    CHECK(memcmp(row, a, sizeof row) == 0);
    CHECK(f32->tell(f32).epoch == 1);
    free(a);
    free(b);
    free(c);
    model->free(model);
    f32->free(f32);
    bf->free(bf);
}

static void test_matching_cache_is_reused(void) {
    struct stat before, after;
    CHECK(stat("build-test-out/cache-f32/shard_00000.safetensors", &before) == 0);
    sg_status st;
    struct sg_act_source *s = cache_source("build-test-out/cache-f32", 0, SG_TOKENS_GENES, true, cells, &st);
    CHECK_MSG(st == SG_OK, "%s", sg_last_error());
    CHECK(stat("build-test-out/cache-f32/shard_00000.safetensors", &after) == 0);
    CHECK(before.st_mtim.tv_sec == after.st_mtim.tv_sec && before.st_mtim.tv_nsec == after.st_mtim.tv_nsec);
    if (s) s->free(s);
}

static void test_mismatched_cache_is_refused(void) {
    sg_status st;
    struct sg_act_source *s = cache_source("build-test-out/cache-f32", 1, SG_TOKENS_ALL, false, cells, &st);
    CHECK(s == NULL && st == SG_ERR_INVALID_ARG);
    CHECK_CONTAINS(sg_last_error(), "--cache-activations build-test-out/cache-f32 holds activations made differently");
    CHECK_CONTAINS(sg_last_error(), "layer (cache: 0, this run: 1)");
    CHECK_CONTAINS(sg_last_error(), "tokens (cache: genes, this run: all)");
    CHECK_CONTAINS(sg_last_error(), "delete this one to rebuild it");
    /* the same cells stored as CSC are another file */
    s = cache_source("build-test-out/cache-f32", 0, SG_TOKENS_GENES, false, cells_csc, &st);
    CHECK(s == NULL && st == SG_ERR_INVALID_ARG);
    CHECK_CONTAINS(sg_last_error(), "data file (cache: ");
}

static void test_unfinished_cache_is_rebuilt(void) {
    CHECK(system("rm -rf build-test-out/cache-cut && mkdir -p build-test-out/cache-cut && "
                 "echo junk > build-test-out/cache-cut/shard_00000.safetensors") == 0);
    sg_status st;
    struct sg_act_source *s = cache_source("build-test-out/cache-cut", 0, SG_TOKENS_CLS, false, cells, &st);
    CHECK_MSG(st == SG_OK, "%s", sg_last_error());
    CHECK(s && s->n_tokens == 12); /* one CLS per cell */
    if (s) s->free(s);
}

/* A source counting up: row i is filled with i. */
static int64_t counter_reads;
static sg_status count_read(struct sg_act_source *s, float *dst, int64_t n, int64_t *got) {
    static int64_t next;
    for (int64_t r = 0; r < n; r++)
        for (int64_t j = 0; j < s->d; j++) dst[r * s->d + j] = (float)(next + r);
    next += n, counter_reads += n;
    if (got) *got = n;
    return SG_OK;
}

static void test_pool_serves_half_per_refill(void) {
    struct sg_act_source src = {.d = 2, .n_tokens = -1, .read = count_read};
    struct sg_pool *p;
    CHECK(sg_pool_new(&src, 64, 8, 1, &p) == SG_OK);
    CHECK(p->serve == 32);
    float batch[16];
    bool seen[64 + 32 * 4] = {false};
    int64_t reads_before   = 0;
    for (int r = 0; r < 5; r++) {
        for (int b = 0; b < 4; b++) {
            CHECK(sg_pool_next(p, batch) == SG_OK);
            for (int i = 0; i < 8; i++) {
                int v = (int)batch[2 * i];
                CHECK(v >= 0 && v < 64 + 32 * 4 && !seen[v]); /* no token served twice */
                if (v >= 0 && v < 64 + 32 * 4) seen[v] = true;
            }
        }
        /* the first fill reads the whole pool, each later refill the half that was served */
        CHECK(counter_reads - reads_before == (r == 0 ? 64 : 32));
        reads_before = counter_reads;
    }
    /* 160 served of the 64 + 4*32 = 192 read: the 32 still in the pool are the only ones unseen */
    int unseen = 0;
    for (int i = 0; i < 64 + 32 * 4; i++) unseen += !seen[i];
    CHECK(unseen == 32);
    sg_pool_free(p);
}

int main(void) {
    sg_backends_load();
    if (sg_device_open_stream(sg_device_cpu(), 1, &stream) != SG_OK) return 1;
    cells     = open_cells(FIX "cells.h5ad");
    cells_csc = open_cells(FIX "cells_csc.h5ad");
    if (!cells || !cells_csc) return 1;
    RUN_TEST(test_cache_holds_what_the_model_streams);
    RUN_TEST(test_matching_cache_is_reused);
    RUN_TEST(test_mismatched_cache_is_refused);
    RUN_TEST(test_unfinished_cache_is_rebuilt);
    RUN_TEST(test_pool_serves_half_per_refill);
    sg_cells_close(cells);
    sg_cells_close(cells_csc);
    sg_stream_free(stream);
    return test_exit_code();
}
