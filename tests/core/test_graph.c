/* The graph core: construction errors, views, topological order, autodiff and memory planning.
 * Numbers are checked against values worked out by hand in each test. */
#include <stdlib.h>

#include "core/backend.h"
#include "core/graph.h"
#include "core/ops.h"
#include "core/sched.h"
#include "core/types.h"
#include "tests/test_util.h"

static struct sg_stream *cpu_stream(void) {
    struct sg_stream *s = NULL;
    CHECK(sg_device_open_stream(sg_device_cpu(), 2, &s) == SG_OK);
    return s;
}

static void set_f32(struct sg_tensor *t, const float *v) { CHECK(sg_tensor_set(t, v, 0, sg_nbytes(t)) == SG_OK); }

static float get_scalar(const struct sg_tensor *t) {
    float v = NAN;
    CHECK(sg_tensor_get(t, &v, 0, sizeof v) == SG_OK);
    return v;
}

static void test_shape_errors_name_the_op_and_shapes(void) {
    struct sg_ctx *ctx  = sg_ctx_new();
    struct sg_tensor *a = sg_set_name(sg_new_tensor_2d(ctx, SG_TYPE_F32, 3, 4), "a");
    struct sg_tensor *b = sg_set_name(sg_new_tensor_2d(ctx, SG_TYPE_F32, 5, 6), "b");
    struct sg_tensor *y = sg_matmul(ctx, a, b);
    CHECK(y == NULL);
    CHECK(sg_ctx_status(ctx) == SG_ERR_INVALID_ARG);
    CHECK_CONTAINS(sg_ctx_error(ctx), "matmul");
    CHECK_CONTAINS(sg_ctx_error(ctx), "[3, 4]");
    CHECK_CONTAINS(sg_ctx_error(ctx), "[5, 6]");
    /* later constructors given the NULL pass it on and keep the first error */
    CHECK(sg_relu(ctx, y) == NULL);
    CHECK(sg_add(ctx, a, b) == NULL);
    CHECK_CONTAINS(sg_ctx_error(ctx), "matmul");
    struct sg_graph *g = sg_graph_new(ctx);
    CHECK(sg_graph_expand(g, sg_relu(ctx, y)) != SG_OK);
    CHECK_CONTAINS(sg_last_error(), "matmul");
    sg_ctx_free(ctx);
}

static void test_bad_arguments_never_abort(void) {
    struct sg_ctx *ctx = sg_ctx_new();
    CHECK(sg_new_tensor_2d(ctx, SG_TYPE_F32, 0, 3) == NULL);
    CHECK(sg_new_tensor(ctx, SG_TYPE_F32, 7, (int64_t[]){1, 1, 1, 1, 1, 1, 1}) == NULL);
    struct sg_tensor *x   = sg_new_tensor_2d(ctx, SG_TYPE_F32, 8, 2);
    struct sg_tensor *ids = sg_new_tensor_1d(ctx, SG_TYPE_F32, 2);
    CHECK(sg_get_rows(ctx, x, ids) == NULL);                        /* ids must be i32 */
    CHECK(sg_top_k(ctx, x, 9) == NULL);                             /* k beyond the row */
    CHECK(sg_reshape_2d(ctx, sg_transpose(ctx, x), 16, 1) == NULL); /* not contiguous */
    CHECK(sg_view_1d(ctx, x, 17, 0) == NULL);                       /* past the end */
    CHECK(sg_clamp(ctx, x, 2.0f, 1.0f) == NULL);
    CHECK(sg_set_loss(x) == NULL); /* not a scalar */
    sg_ctx_free(ctx);
}

static void test_views_are_metadata_only(void) {
    struct sg_ctx *ctx  = sg_ctx_new();
    struct sg_tensor *x = sg_new_tensor_3d(ctx, SG_TYPE_F32, 4, 3, 2);
    struct sg_tensor *t = sg_transpose(ctx, x);
    struct sg_tensor *p = sg_permute(ctx, x, (int[SG_MAX_DIMS]){2, 0, 1, 3, 4, 5});
    struct sg_tensor *r = sg_reshape_2d(ctx, x, 12, 2);
    struct sg_tensor *v = sg_view_2d(ctx, x, 2, 3, 16, 8);
    CHECK(t->ne[0] == 3 && t->ne[1] == 4 && t->nb[0] == 16 && t->nb[1] == 4);
    CHECK(p->ne[2] == 4 && p->ne[0] == 3 && p->ne[1] == 2 && p->nb[2] == 4);
    CHECK(r->ne[0] == 12 && sg_is_contiguous(r));
    CHECK(!sg_is_contiguous(t) && sg_is_transposed(t));
    struct sg_buffer_list bufs;
    CHECK(sg_alloc_ctx_tensors(ctx, sg_device_buffer_type(sg_device_cpu()), &bufs) == SG_OK);
    CHECK(t->data == x->data && r->data == x->data && p->data == x->data);
    CHECK((char *)v->data == (char *)x->data + 8);
    /* a view of a view points at the base */
    struct sg_tensor *vv = sg_view_1d(ctx, v, 2, 4);
    CHECK(vv->view_src == x && vv->view_offs == 12 && (char *)vv->data == (char *)x->data + 12);
    sg_buffer_list_free(&bufs);
    sg_ctx_free(ctx);
}

/* Offsets of every element, walked in ne order (dim 0 fastest), for operand k. */
static int64_t walk_offsets(const int64_t ne[SG_MAX_DIMS], const int64_t st[SG_MAX_DIMS], int64_t *out) {
    int64_t n = 1, idx[SG_MAX_DIMS] = {0};
    for (int d = 0; d < SG_MAX_DIMS; d++) n *= ne[d];
    for (int64_t i = 0; i < n; i++) {
        int64_t off = 0;
        for (int d = 0; d < SG_MAX_DIMS; d++) off += idx[d] * st[d];
        out[i] = off;
        for (int d = 0; d < SG_MAX_DIMS && ++idx[d] == ne[d]; d++) idx[d] = 0;
    }
    return n;
}

/* Collapsing must not change which element each iteration visits, for any operand, while
 * merging what it can: contiguous, permuted and broadcast operands of random shapes. */
static void test_collapse_dims_keeps_every_offset(void) {
    uint64_t rng = 12345;
    int merged   = 0;
    for (int trial = 0; trial < 300; trial++) {
        int64_t ne[SG_MAX_DIMS], st[3][SG_MAX_DIMS], ne0[SG_MAX_DIMS], st0[3][SG_MAX_DIMS];
        for (int d = 0; d < SG_MAX_DIMS; d++) {
            rng   = rng * 6364136223846793005ull + 1442695040888963407ull;
            ne[d] = 1 + (int64_t)((rng >> 33) % 3);
        }
        for (int k = 0; k < 3; k++) { /* k = 0 dense; 1 dims reversed; 2 broadcast over odd trials' dim 1 */
            int64_t s = 1;
            for (int j = 0; j < SG_MAX_DIMS; j++) {
                int d    = k == 1 ? SG_MAX_DIMS - 1 - j : j;
                st[k][d] = s;
                s *= ne[d];
            }
            if (k == 2 && trial % 2) st[k][1] = 0;
        }
        memcpy(ne0, ne, sizeof ne);
        memcpy(st0, st, sizeof st);
        const int n_ops = 1 + trial % 3;
        const int rank  = sg_collapse_dims(ne, st, n_ops);
        int64_t before[729], after[729];
        for (int k = 0; k < n_ops; k++) {
            int64_t n = walk_offsets(ne0, st0[k], before);
            CHECK(walk_offsets(ne, st[k], after) == n);
            CHECK_MSG(memcmp(before, after, (size_t)n * sizeof *before) == 0, "trial %d operand %d", trial, k);
        }
        int kept = 0;
        for (int d = 0; d < SG_MAX_DIMS; d++) kept += ne0[d] > 1;
        CHECK(rank <= kept);
        merged += rank < kept;
        if (n_ops == 1) CHECK(rank <= 1); /* one dense operand: always one loop */
    }
    CHECK(merged > 0);
}

static void test_graph_is_topological_and_deduplicated(void) {
    struct sg_ctx *ctx  = sg_ctx_new();
    struct sg_tensor *x = sg_new_tensor_1d(ctx, SG_TYPE_F32, 4);
    struct sg_tensor *a = sg_relu(ctx, x);
    struct sg_tensor *b = sg_sqr(ctx, a);
    struct sg_tensor *c = sg_add(ctx, a, b); /* diamond: a feeds b and c */
    struct sg_graph *g  = sg_graph_new(ctx);
    CHECK(sg_graph_expand(g, c) == SG_OK);
    CHECK(sg_graph_expand(g, c) == SG_OK);
    CHECK(g->n_nodes == 3 && g->n_leafs == 1);
    CHECK(g->nodes[0] == a && g->nodes[1] == b && g->nodes[2] == c);
    int v = g->version;
    CHECK(sg_graph_expand(g, b) == SG_OK && g->version == v); /* nothing new */
    sg_ctx_free(ctx);
}

/* loss = sum((w x + b)^2) for scalar-per-element w and b: dw = sum(2 (w x + b) x), db = sum(2 (w x + b)) */
static void test_backward_matches_hand_derivatives(void) {
    struct sg_ctx *ctx     = sg_ctx_new();
    struct sg_tensor *x    = sg_set_input(sg_new_tensor_1d(ctx, SG_TYPE_F32, 3));
    struct sg_tensor *w    = sg_set_param(sg_set_name(sg_new_tensor_1d(ctx, SG_TYPE_F32, 1), "w"));
    struct sg_tensor *b    = sg_set_param(sg_set_name(sg_new_tensor_1d(ctx, SG_TYPE_F32, 1), "b"));
    struct sg_tensor *loss = sg_sum(ctx, sg_sqr(ctx, sg_add(ctx, sg_mul(ctx, x, w), b)));
    struct sg_graph *g     = sg_graph_new(ctx);
    CHECK(sg_graph_expand(g, loss) == SG_OK);
    CHECK(sg_graph_backward(g, loss) == SG_OK);
    struct sg_tensor *dw = sg_graph_grad(g, w), *db = sg_graph_grad(g, b);
    CHECK(dw && db && sg_graph_grad(g, x) == NULL);
    sg_set_output(dw);
    sg_set_output(db);
    sg_set_output(loss);
    struct sg_stream *s = cpu_stream();
    struct sg_sched *sched;
    CHECK(sg_sched_new(s, 2, &sched) == SG_OK);
    CHECK(sg_sched_prepare(sched, g) == SG_OK);
    set_f32(x, (float[]){1, 2, 3});
    set_f32(w, (float[]){0.5f});
    set_f32(b, (float[]){-1});
    CHECK(sg_sched_compute(sched, g) == SG_OK);
    /* r = w x + b = {-0.5, 0, 0.5} */
    CHECK_CLOSE(get_scalar(loss), 0.5, 1e-6);
    CHECK_CLOSE(get_scalar(dw), 2 * (-0.5 * 1 + 0.5 * 3), 1e-6);
    CHECK_CLOSE(get_scalar(db), 2 * (-0.5 + 0 + 0.5), 1e-6);
    /* the same graph again with new data: no re-planning needed */
    struct sg_sched_stats st1, st2;
    CHECK(sg_sched_stats(sched, g, &st1) == SG_OK);
    set_f32(w, (float[]){2});
    CHECK(sg_sched_compute(sched, g) == SG_OK);
    CHECK(sg_sched_stats(sched, g, &st2) == SG_OK);
    CHECK(st1.compute_bytes == st2.compute_bytes && st1.n_splits == st2.n_splits);
    /* r = {1, 3, 5}: loss 35, dw = 2 (1 + 6 + 15) = 44, db = 18 */
    CHECK_CLOSE(get_scalar(loss), 35, 1e-6);
    CHECK_CLOSE(get_scalar(dw), 44, 1e-6);
    CHECK_CLOSE(get_scalar(db), 18, 1e-6);
    sg_sched_free(sched);
    sg_stream_free(s);
    sg_ctx_free(ctx);
}

/* x @ W^T with a frozen BF16 weight (a Tahoe X1 Linear with --dtype bf16): the forward rounds x
 * to bf16 (a bf16 GEMM), the gradient reaches x only and is g @ W. */
static void test_bf16_weight_gemm_rounds_x_and_grads_flow_to_x_only(void) {
    struct sg_ctx *ctx  = sg_ctx_new();
    struct sg_tensor *x = sg_set_param(sg_set_name(sg_new_tensor_2d(ctx, SG_TYPE_F32, 3, 2), "x"));
    struct sg_tensor *w = sg_set_input(sg_set_name(sg_new_tensor_2d(ctx, SG_TYPE_BF16, 3, 2), "w")); /* [out 2, in 3] */
    struct sg_tensor *y = sg_matmul(ctx, x, sg_transpose(ctx, w));
    struct sg_tensor *loss = sg_sum(ctx, y);
    struct sg_graph *g     = sg_graph_new(ctx);
    CHECK(y && sg_matmul_is_bf16(y));
    CHECK(sg_graph_expand(g, loss) == SG_OK);
    CHECK(sg_graph_backward(g, loss) == SG_OK);
    struct sg_tensor *dx = sg_graph_grad(g, x);
    CHECK(dx && sg_graph_grad(g, w) == NULL);
    sg_set_output(dx);
    sg_set_output(loss);
    struct sg_stream *s = cpu_stream();
    struct sg_sched *sched;
    CHECK(sg_sched_new(s, 2, &sched) == SG_OK);
    CHECK(sg_sched_prepare(sched, g) == SG_OK);
    /* 1 + 2^-10 is not a bf16 value: it rounds to 1 */
    set_f32(x, (float[]){1.0f + 1.0f / 1024, 1, 1, 2, 0, 1});
    const float wv[6] = {1, 2, 3, 0.5f, -1, 4};
    uint16_t wb[6];
    sg_convert_row(SG_TYPE_BF16, wb, SG_TYPE_F32, wv, 6);
    CHECK(sg_tensor_set(w, wb, 0, sizeof wb) == SG_OK);
    CHECK(sg_sched_compute(sched, g) == SG_OK);
    /* y = {1,1,1}.W^T = {6, 3.5}, {2,0,1}.W^T = {5, 5}: 19.5 (fp32 would give 19.5 + 3 2^-11) */
    CHECK_CLOSE(get_scalar(loss), 19.5, 1e-6);
    float d[6] = {0};
    CHECK(sg_tensor_get(dx, d, 0, sizeof d) == SG_OK);
    static const float colsum[3] = {1.5f, 1, 7}; /* column sums of W */
    for (int i = 0; i < 6; i++) CHECK_CLOSE(d[i], colsum[i % 3], 1e-6);
    sg_sched_free(sched);
    sg_stream_free(s);
    sg_ctx_free(ctx);
}

static void test_backward_reports_ops_without_rules(void) {
    struct sg_ctx *ctx  = sg_ctx_new();
    struct sg_tensor *w = sg_set_param(sg_new_tensor_2d(ctx, SG_TYPE_F32, 8, 2));
    struct sg_tensor *x = sg_new_tensor_2d(ctx, SG_TYPE_F32, 8, 2);
    /* a general view has no gradient rule: saying so beats a silently wrong gradient */
    struct sg_tensor *loss = sg_sum(ctx, sg_mul(ctx, sg_view_2d(ctx, w, 4, 2, 32, 0), sg_view_2d(ctx, x, 4, 2, 32, 0)));
    struct sg_graph *g     = sg_graph_new(ctx);
    CHECK(sg_graph_expand(g, loss) == SG_OK);
    CHECK(sg_graph_backward(g, loss) == SG_ERR_UNSUPPORTED);
    CHECK_CONTAINS(sg_last_error(), "'view'");
    struct sg_tensor *c = sg_sum(ctx, x);
    CHECK(sg_graph_expand(g, c) == SG_OK);
    CHECK(sg_graph_backward(g, c) == SG_ERR_INVALID_ARG);
    CHECK_CONTAINS(sg_last_error(), "does not depend on any parameter");
    sg_ctx_free(ctx);
}

/* A chain of 32 elementwise ops on a 1 MiB tensor needs two live tensors at a time (in place
 * where allowed), not 32. */
static void test_allocator_reuses_memory_by_liveness(void) {
    struct sg_ctx *ctx  = sg_ctx_new();
    const int64_t n     = 1 << 18;
    struct sg_tensor *x = sg_set_input(sg_new_tensor_1d(ctx, SG_TYPE_F32, n));
    struct sg_tensor *h = x;
    for (int i = 0; i < 32; i++) h = (i % 2) ? sg_scale_bias(ctx, h, 0.5f, 1.0f) : sg_mul(ctx, h, x);
    struct sg_graph *g = sg_graph_new(ctx);
    CHECK(sg_graph_expand(g, h) == SG_OK);
    struct sg_stream *s = cpu_stream();
    struct sg_sched *sched;
    CHECK(sg_sched_new(s, 2, &sched) == SG_OK);
    CHECK(sg_sched_prepare(sched, g) == SG_OK);
    float *in = malloc((size_t)n * sizeof *in);
    for (int64_t i = 0; i < n; i++) in[i] = 0.5f;
    set_f32(x, in);
    CHECK(sg_sched_compute(sched, g) == SG_OK);
    struct sg_sched_stats st;
    CHECK(sg_sched_stats(sched, g, &st) == SG_OK);
    CHECK_MSG(st.compute_bytes <= 2 * (size_t)n * sizeof(float), "compute bytes %zu", st.compute_bytes);
    /* y <- 0.5 (y x) + 1 with x = 0.5, 16 times from y = 0.5 */
    double y = 0.5;
    for (int i = 0; i < 32; i++) y = (i % 2) ? 0.5 * y + 1.0 : y * 0.5;
    float out[4];
    CHECK(sg_tensor_get(h, out, 0, sizeof out) == SG_OK);
    CHECK_CLOSE(out[0], y, 1e-6);
    CHECK_CLOSE(out[3], y, 1e-6);
    free(in);
    sg_sched_free(sched);
    sg_stream_free(s);
    sg_ctx_free(ctx);
}

/* Outputs stay readable after the run even when later nodes could have reused their memory. */
static void test_outputs_are_not_overwritten(void) {
    struct sg_ctx *ctx  = sg_ctx_new();
    struct sg_tensor *x = sg_set_input(sg_new_tensor_1d(ctx, SG_TYPE_F32, 4));
    struct sg_tensor *a = sg_set_output(sg_scale(ctx, x, 2.0f));
    struct sg_tensor *b = sg_scale(ctx, sg_scale(ctx, a, 3.0f), 5.0f);
    struct sg_graph *g  = sg_graph_new(ctx);
    CHECK(sg_graph_expand(g, b) == SG_OK);
    struct sg_stream *s = cpu_stream();
    struct sg_sched *sched;
    CHECK(sg_sched_new(s, 1, &sched) == SG_OK);
    CHECK(sg_sched_prepare(sched, g) == SG_OK);
    set_f32(x, (float[]){1, 2, 3, 4});
    CHECK(sg_sched_compute(sched, g) == SG_OK);
    float va[4], vb[4];
    CHECK(sg_tensor_get(a, va, 0, sizeof va) == SG_OK);
    CHECK(sg_tensor_get(b, vb, 0, sizeof vb) == SG_OK);
    CHECK(va[3] == 8.0f && vb[3] == 120.0f);
    CHECK(a->data != b->data);
    sg_sched_free(sched);
    sg_stream_free(s);
    sg_ctx_free(ctx);
}

/* An output that is a view (here a reshape) keeps the memory of the tensor it views, even when
 * the graph goes on to compute more. */
static void test_output_views_keep_their_base(void) {
    struct sg_ctx *ctx    = sg_ctx_new();
    struct sg_tensor *x   = sg_set_input(sg_new_tensor_2d(ctx, SG_TYPE_F32, 4, 2));
    struct sg_tensor *h   = sg_scale(ctx, x, 2.0f);
    struct sg_tensor *out = sg_set_output(sg_reshape_2d(ctx, h, 8, 1));
    /* sqr(x) is allocated after h's last reader: without the rule it would take h's memory */
    struct sg_tensor *more = sg_add(ctx, sg_sqr(ctx, h), sg_sqr(ctx, x));
    struct sg_graph *g     = sg_graph_new(ctx);
    CHECK(sg_graph_expand(g, out) == SG_OK);
    CHECK(sg_graph_expand(g, more) == SG_OK);
    struct sg_stream *s = cpu_stream();
    struct sg_sched *sched;
    CHECK(sg_sched_new(s, 1, &sched) == SG_OK);
    CHECK(sg_sched_prepare(sched, g) == SG_OK);
    set_f32(x, (float[]){1, 2, 3, 4, 5, 6, 7, 8});
    CHECK(sg_sched_compute(sched, g) == SG_OK);
    float v[8];
    CHECK(sg_tensor_get(out, v, 0, sizeof v) == SG_OK);
    for (int i = 0; i < 8; i++) CHECK_CLOSE(v[i], 2.0 * (i + 1), 0);
    sg_sched_free(sched);
    sg_stream_free(s);
    sg_ctx_free(ctx);
}

/* Adam with hyper-parameters in a tensor: the step count changes without rebuilding the graph. */
static void test_adam_step_updates_in_place(void) {
    struct sg_ctx *ctx  = sg_ctx_new();
    struct sg_tensor *w = sg_set_param(sg_new_tensor_1d(ctx, SG_TYPE_F32, 2));
    struct sg_tensor *m = sg_new_tensor_1d(ctx, SG_TYPE_F32, 2), *v = sg_new_tensor_1d(ctx, SG_TYPE_F32, 2);
    struct sg_tensor *hp   = sg_set_input(sg_new_tensor_1d(ctx, SG_TYPE_F32, SG_ADAM_N_PARAMS));
    struct sg_tensor *loss = sg_sum(ctx, sg_sqr(ctx, w));
    struct sg_graph *g     = sg_graph_new(ctx);
    CHECK(sg_graph_expand(g, loss) == SG_OK);
    CHECK(sg_graph_backward(g, loss) == SG_OK);
    CHECK(sg_graph_expand(g, sg_adam_step(ctx, w, sg_graph_grad(g, w), m, v, hp, NULL)) == SG_OK);
    struct sg_stream *s = cpu_stream();
    struct sg_sched *sched;
    CHECK(sg_sched_new(s, 1, &sched) == SG_OK);
    CHECK(sg_sched_prepare(sched, g) == SG_OK);
    set_f32(w, (float[]){1.0f, -2.0f});
    set_f32(m, (float[]){0, 0});
    set_f32(v, (float[]){0, 0});
    double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    double wr[2] = {1.0, -2.0}, mr[2] = {0, 0}, vr[2] = {0, 0};
    for (int t = 1; t <= 3; t++) {
        float hpv[SG_ADAM_N_PARAMS] = {[SG_ADAM_LR]     = (float)lr,
                                       [SG_ADAM_BETA1]  = (float)b1,
                                       [SG_ADAM_BETA2]  = (float)b2,
                                       [SG_ADAM_EPS]    = (float)eps,
                                       [SG_ADAM_BETA1H] = (float)(1 / (1 - pow(b1, t))),
                                       [SG_ADAM_BETA2H] = (float)(1 / (1 - pow(b2, t)))};
        set_f32(hp, hpv);
        CHECK(sg_sched_compute(sched, g) == SG_OK);
        for (int i = 0; i < 2; i++) {
            double gr = 2 * wr[i];
            mr[i]     = b1 * mr[i] + (1 - b1) * gr;
            vr[i]     = b2 * vr[i] + (1 - b2) * gr * gr;
            wr[i] -= lr * (mr[i] / (1 - pow(b1, t))) / (sqrt(vr[i] / (1 - pow(b2, t))) + eps);
        }
    }
    float out[2];
    CHECK(sg_tensor_get(w, out, 0, sizeof out) == SG_OK);
    CHECK_CLOSE(out[0], wr[0], 1e-5);
    CHECK_CLOSE(out[1], wr[1], 1e-5);
    sg_sched_free(sched);
    sg_stream_free(s);
    sg_ctx_free(ctx);
}

int main(void) {
    RUN_TEST(test_shape_errors_name_the_op_and_shapes);
    RUN_TEST(test_bad_arguments_never_abort);
    RUN_TEST(test_views_are_metadata_only);
    RUN_TEST(test_collapse_dims_keeps_every_offset);
    RUN_TEST(test_graph_is_topological_and_deduplicated);
    RUN_TEST(test_backward_matches_hand_derivatives);
    RUN_TEST(test_bf16_weight_gemm_rounds_x_and_grads_flow_to_x_only);
    RUN_TEST(test_backward_reports_ops_without_rules);
    RUN_TEST(test_allocator_reuses_memory_by_liveness);
    RUN_TEST(test_outputs_are_not_overwritten);
    RUN_TEST(test_output_views_keep_their_base);
    RUN_TEST(test_adam_step_updates_in_place);
    return test_exit_code();
}
