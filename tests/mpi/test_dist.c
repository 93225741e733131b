/* pipeline/dist.h, the collectives saeg's commands are built on. Run as one process (every build:
 * the identity) and under mpirun -n 2 (MPI builds): each check holds for any rank count. */
#include <stdint.h>
#include <stdlib.h>

#include "pipeline/dist.h"
#include "tests/test_util.h"

/* the shares of n items cover 0..n in rank order, without gaps or overlap, sizes within one */
static void test_share_partitions_in_rank_order(void) {
    const int64_t ns[] = {0, 1, 5, 7, 4096, 4097};
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++)
        for (int size = 1; size <= 5; size++) {
            int64_t next = 0, min = ns[k], max = 0;
            for (int r = 0; r < size; r++) {
                int64_t lo, hi;
                sg_dist_share(ns[k], r, size, &lo, &hi);
                CHECK(lo == next && hi >= lo);
                next = hi;
                if (hi - lo < min) min = hi - lo;
                if (hi - lo > max) max = hi - lo;
            }
            CHECK(next == ns[k]);
            CHECK(max - min <= 1);
        }
}

/* sums over ranks: rank r contributes r + 1 (and r + 1.5, 2^40 + r) */
static void test_allreduce_sums_every_rank(void) {
    const int n = sg_dist_size(), r = sg_dist_rank();
    float f[3]   = {(float)(r + 1), 0.5f, -1.0f};
    double d[2]  = {r + 1.5, 1e-300};
    int64_t i[2] = {((int64_t)1 << 40) + r, -1};
    int64_t m[1] = {r * 10};
    CHECK(sg_dist_allreduce_f32(f, 3) == SG_OK);
    CHECK(sg_dist_allreduce_f64(d, 2) == SG_OK);
    CHECK(sg_dist_allreduce_i64(i, 2) == SG_OK);
    CHECK(sg_dist_allreduce_max_i64(m, 1) == SG_OK);
    CHECK(f[0] == (float)(n * (n + 1) / 2) && f[1] == 0.5f * (float)n && f[2] == -(float)n);
    CHECK(d[0] == n * (n + 1) / 2.0 + n * 0.5 && d[1] == n * 1e-300);
    CHECK(i[0] == n * ((int64_t)1 << 40) + (int64_t)n * (n - 1) / 2 && i[1] == -n);
    CHECK(m[0] == (int64_t)(n - 1) * 10);
}

/* rank r sends r bytes of value r (rank 0 sends nothing): back to back in rank order */
static void test_gatherv_keeps_rank_order_and_empty_blobs(void) {
    const int n = sg_dist_size(), r = sg_dist_rank();
    unsigned char mine[64];
    for (int j = 0; j < r; j++) mine[j] = (unsigned char)r;
    for (int root = -1; root < (n > 1 ? 2 : 1); root++) {
        unsigned char *all = NULL;
        int64_t sizes[64]  = {0};
        sg_status st       = root < 0 ? sg_dist_allgatherv(mine, r, (void **)&all, sizes)
                                      : sg_dist_gatherv(mine, r, root, (void **)&all, sizes);
        CHECK(st == SG_OK);
        if (root >= 0 && r != root) {
            CHECK(all == NULL);
            continue;
        }
        CHECK(all != NULL);
        int64_t at = 0;
        for (int k = 0; k < n && all; k++) {
            CHECK(sizes[k] == k);
            for (int j = 0; j < k; j++) CHECK(all[at + j] == k);
            at += k;
        }
        free(all);
    }
}

static void test_bcast_and_barrier(void) {
    char buf[16] = "";
    if (sg_dist_rank() == 0) snprintf(buf, sizeof buf, "from rank 0");
    CHECK(sg_dist_bcast(buf, sizeof buf, 0) == SG_OK);
    CHECK_CONTAINS(buf, "from rank 0");
    CHECK(sg_dist_barrier() == SG_OK);
    CHECK(sg_dist_local_rank() >= 0 && sg_dist_local_rank() < sg_dist_local_size());
    CHECK(sg_dist_local_size() <= sg_dist_size());
}

int main(int argc, char **argv) {
    if (sg_dist_init(&argc, &argv) != SG_OK) {
        fprintf(stderr, "test-dist: %s\n", sg_last_error());
        return 1;
    }
    if (sg_dist_size() > 64) return 77;
    printf("rank %d of %d\n", sg_dist_rank(), sg_dist_size());
    RUN_TEST(test_share_partitions_in_rank_order);
    RUN_TEST(test_allreduce_sums_every_rank);
    RUN_TEST(test_gatherv_keeps_rank_order_and_empty_blobs);
    RUN_TEST(test_bcast_and_barrier);
    int rc = test_exit_code();
    sg_dist_finalize();
    return rc;
}
