/* The CUDA backend's GEMM planning (backends/cuda/cuda_gemm_plan.c) turns matmul views into
 * column-major cuBLAS calls. It is pure host code, so this test runs each plan here with a naive
 * column-major GEMM that follows cuBLAS's documented semantics (op, ld, strided batch) and
 * compares with the product computed straight from the tensors' strides. Layouts cuBLAS cannot
 * express must be refused (the backend then uses its plain kernel). Exact comparison within
 * 1e-5 relative: both sides sum the same products in different orders. Every case runs twice:
 * with F32 operands, and with BF16 ones (what a bf16 GEMM hands cuBLAS: strides in 2-byte
 * elements for A and B, 4-byte ones for C). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cuda/cuda_ops.h"
#include "core/context.h"
#include "core/ops.h"
#include "core/tensor.h"
#include "core/types.h"
#include "tests/test_util.h"

/* Type of the operands the tests make (F32, then BF16). */
static enum sg_type g_type = SG_TYPE_F32;

static float load(enum sg_type type, const void *p, int64_t i) {
    return type == SG_TYPE_BF16 ? sg_bf16_to_f32(((const uint16_t *)p)[i]) : ((const float *)p)[i];
}

/* Storage for a base tensor, filled with small distinct values. */
static void give_data(struct sg_tensor *t, unsigned seed) {
    size_t n = (size_t)sg_nelements(t);
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) {
        float v = (float)((i * 37 + seed * 11) % 23) / 7.0f - 1.5f;
        if (t->type == SG_TYPE_BF16)
            ((uint16_t *)p)[i] = sg_f32_to_bf16(v);
        else
            p[i] = v;
    }
    t->data = p;
}

/* Views point into their base's storage. */
static void place_view(struct sg_tensor *v) { v->data = (char *)v->view_src->data + v->view_offs; }

static float at(const struct sg_tensor *t, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    int64_t i[SG_MAX_DIMS] = {i0, i1, i2, i3, 0, 0};
    for (int d = 2; d < 4; d++)
        if (t->ne[d] == 1) i[d] = 0; /* broadcast */
    return load(t->type, sg_elem_ptr(t, i), 0);
}

/* cuBLAS sgemm (or GemmEx with bf16 A and B, f32 C) for one batch, column-major, alpha 1,
 * beta 0. */
static void naive_gemm(enum sg_type t, bool ta, bool tb, int m, int n, int k, const char *A, int64_t lda, const char *B,
                       int64_t ldb, float *C, int64_t ldc) {
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++) {
            double s = 0;
            for (int l = 0; l < k; l++) {
                float a = load(t, A, ta ? l + i * lda : i + l * lda);
                float b = load(t, B, tb ? j + l * ldb : l + j * ldb);
                s += (double)a * b;
            }
            C[i + j * ldc] = (float)s;
        }
}

static void run_plan(const struct sg_cuda_gemm *g, const void *a, const void *b, void *c) {
    for (int64_t i3 = 0; i3 < g->outer_ne[2]; i3++)
        for (int64_t i2 = 0; i2 < g->outer_ne[1]; i2++)
            for (int64_t i1 = 0; i1 < g->outer_ne[0]; i1++) {
                int64_t oa           = i1 * g->outer_a[0] + i2 * g->outer_a[1] + i3 * g->outer_a[2];
                int64_t ob           = i1 * g->outer_b[0] + i2 * g->outer_b[1] + i3 * g->outer_b[2];
                int64_t oc           = i1 * g->outer_c[0] + i2 * g->outer_c[1] + i3 * g->outer_c[2];
                const enum sg_type t = g->bf16 ? SG_TYPE_BF16 : SG_TYPE_F32;
                const int64_t es     = (int64_t)sg_type_size(t);
                for (int z = 0; z < g->batch; z++)
                    naive_gemm(t, g->trans_a, g->trans_b, g->m, g->n, g->k, (const char *)b + oa + z * g->stride_a * es,
                               g->lda, (const char *)a + ob + z * g->stride_b * es, g->ldb,
                               (float *)((char *)c + oc) + z * g->stride_c, g->ldc);
            }
}

/* Plans a @ b, runs the plan and checks every element against the strided definition. */
static void check_product(const char *what, struct sg_ctx *ctx, struct sg_tensor *a, struct sg_tensor *b,
                          bool expect_plan) {
    struct sg_tensor *c = sg_matmul(ctx, a, b);
    CHECK_MSG(c != NULL, "%s: %s", what, sg_ctx_error(ctx));
    if (!c) return;
    give_data(c, 0);
    memset(c->data, 0, (size_t)sg_nelements(c) * sizeof(float));
    struct sg_cuda_gemm g;
    bool planned = sg_cuda_gemm_plan(c, a, b, &g);
    CHECK_MSG(planned == expect_plan, "%s (%s): planned %d, expected %d", what, sg_type_name(g_type), planned,
              expect_plan);
    CHECK_MSG(!planned || g.bf16 == (g_type == SG_TYPE_BF16), "%s: plan's bf16 flag", what);
    if (planned) {
        run_plan(&g, a->data, b->data, c->data);
        int bad = 0;
        for (int64_t i3 = 0; i3 < c->ne[3]; i3++)
            for (int64_t i2 = 0; i2 < c->ne[2]; i2++)
                for (int64_t m = 0; m < c->ne[1]; m++)
                    for (int64_t n = 0; n < c->ne[0]; n++) {
                        double s = 0;
                        for (int64_t k = 0; k < a->ne[0]; k++) s += (double)at(a, k, m, i2, i3) * at(b, n, k, i2, i3);
                        float got = at(c, n, m, i2, i3);
                        if (fabs(got - s) > 1e-5 * (1 + fabs(s)) && bad++ < 3)
                            CHECK_MSG(0, "%s: c[%lld, %lld, %lld, %lld] = %g, expected %g", what, (long long)n,
                                      (long long)m, (long long)i2, (long long)i3, got, s);
                    }
    }
    free(c->data);
}

static struct sg_tensor *mat(struct sg_ctx *ctx, unsigned seed, int n_dims, const int64_t *ne) {
    struct sg_tensor *t = sg_new_tensor(ctx, g_type, n_dims, ne);
    give_data(t, seed);
    return t;
}

static void test_plain_and_transposed_operands(void) {
    struct sg_ctx *ctx  = sg_ctx_new();
    struct sg_tensor *a = mat(ctx, 1, 2, (int64_t[]){7, 5}); /* K 7, M 5 */
    struct sg_tensor *b = mat(ctx, 2, 2, (int64_t[]){6, 7}); /* N 6, K 7 */
    check_product("a @ b", ctx, a, b, true);
    struct sg_tensor *w  = mat(ctx, 3, 2, (int64_t[]){7, 6}); /* x @ w^T: w [K, N] */
    struct sg_tensor *wt = sg_transpose(ctx, w);
    place_view(wt);
    check_product("a @ w^T", ctx, a, wt, true);
    struct sg_tensor *a2  = mat(ctx, 4, 2, (int64_t[]){5, 7}); /* a = a2^T: [K 7, M 5] */
    struct sg_tensor *at2 = sg_transpose(ctx, a2);
    place_view(at2);
    check_product("a^T @ b", ctx, at2, b, true);
    check_product("a^T @ w^T", ctx, at2, wt, true);
    for (int i = 0; i < 4; i++) free(((struct sg_tensor *[]){a, b, w, a2})[i]->data);
    sg_ctx_free(ctx);
}

static void test_degenerate_sizes(void) {
    struct sg_ctx *ctx   = sg_ctx_new();
    struct sg_tensor *r1 = mat(ctx, 1, 2, (int64_t[]){7, 1}); /* K 7, M 1 */
    struct sg_tensor *b  = mat(ctx, 2, 2, (int64_t[]){6, 7});
    check_product("one row (M = 1)", ctx, r1, b, true);
    struct sg_tensor *c1 = mat(ctx, 3, 2, (int64_t[]){1, 7}); /* N 1 */
    check_product("one column (N = 1)", ctx, r1, c1, true);
    struct sg_tensor *k1a = mat(ctx, 4, 2, (int64_t[]){1, 5});
    struct sg_tensor *k1b = mat(ctx, 5, 2, (int64_t[]){6, 1});
    check_product("outer product (K = 1)", ctx, k1a, k1b, true);
    struct sg_tensor *c1t = sg_transpose(ctx, mat(ctx, 6, 2, (int64_t[]){7, 1})); /* [1, 7] view of [7, 1] */
    place_view(c1t);
    check_product("transposed column (N = 1)", ctx, r1, c1t, true);
    free(r1->data);
    free(b->data);
    free(c1->data);
    free(k1a->data);
    free(k1b->data);
    free(c1t->view_src->data);
    sg_ctx_free(ctx);
}

/* Rows of a fused projection: a view whose row stride is larger than its row. */
static void test_strided_row_views(void) {
    struct sg_ctx *ctx    = sg_ctx_new();
    struct sg_tensor *qkv = mat(ctx, 1, 2, (int64_t[]){24, 5});
    struct sg_tensor *q   = sg_view_2d(ctx, qkv, 8, 5, qkv->nb[1], 8 * sg_type_size(g_type));
    place_view(q);
    struct sg_tensor *b = mat(ctx, 2, 2, (int64_t[]){6, 8});
    check_product("slice of a fused projection @ b", ctx, q, b, true);
    free(qkv->data);
    free(b->data);
    sg_ctx_free(ctx);
}

static void test_batched_and_broadcast(void) {
    struct sg_ctx *ctx  = sg_ctx_new();
    struct sg_tensor *a = mat(ctx, 1, 4, (int64_t[]){7, 5, 3, 2});
    struct sg_tensor *b = mat(ctx, 2, 4, (int64_t[]){6, 7, 3, 2});
    check_product("batch [3, 2] (merges into one strided batch)", ctx, a, b, true);
    struct sg_tensor *b1 = mat(ctx, 3, 4, (int64_t[]){6, 7, 1, 2});
    check_product("b broadcast over dim 2", ctx, a, b1, true);
    struct sg_tensor *a1 = mat(ctx, 4, 4, (int64_t[]){7, 5, 3, 1});
    check_product("a broadcast over dim 3", ctx, a1, b, true);
    /* dims 2 and 3 swapped: no single stride, so an outer loop */
    struct sg_tensor *ap = sg_permute(ctx, mat(ctx, 5, 4, (int64_t[]){7, 5, 2, 3}), (int[]){0, 1, 3, 2, 4, 5});
    place_view(ap);
    check_product("permuted batch dims (outer loop)", ctx, ap, b, true);
    free(a->data);
    free(b->data);
    free(b1->data);
    free(a1->data);
    free(ap->view_src->data);
    sg_ctx_free(ctx);
}

/* A stride of 0 along a row (a broadcast view) has no cuBLAS layout. */
static void test_refuses_overlapping_rows(void) {
    struct sg_ctx *ctx  = sg_ctx_new();
    struct sg_tensor *r = mat(ctx, 1, 1, (int64_t[]){7});
    struct sg_tensor *a = sg_view(ctx, r, 2, (int64_t[]){7, 5}, (size_t[]){sg_type_size(g_type), 0}, 0);
    place_view(a);
    struct sg_tensor *b = mat(ctx, 2, 2, (int64_t[]){6, 7});
    check_product("rows repeated by a zero stride", ctx, a, b, false);
    free(r->data);
    free(b->data);
    sg_ctx_free(ctx);
}

/* cuBLAS takes A and B of one type: a bf16 GEMM converts the f32 operand first. */
static void test_refuses_mixed_types(void) {
    struct sg_ctx *ctx  = sg_ctx_new();
    struct sg_tensor *a = sg_new_tensor_2d(ctx, SG_TYPE_F32, 7, 5);
    struct sg_tensor *b = sg_new_tensor_2d(ctx, SG_TYPE_BF16, 6, 7);
    struct sg_tensor *c = sg_matmul(ctx, a, b);
    struct sg_cuda_gemm g;
    CHECK(c != NULL && !sg_cuda_gemm_plan(c, a, b, &g));
    sg_ctx_free(ctx);
}

int main(void) {
    for (int t = 0; t < 2; t++) {
        g_type = t ? SG_TYPE_BF16 : SG_TYPE_F32;
        RUN_TEST(test_plain_and_transposed_operands);
        RUN_TEST(test_degenerate_sizes);
        RUN_TEST(test_strided_row_views);
        RUN_TEST(test_batched_and_broadcast);
        RUN_TEST(test_refuses_overlapping_rows);
    }
    RUN_TEST(test_refuses_mixed_types);
    return test_exit_code();
}
