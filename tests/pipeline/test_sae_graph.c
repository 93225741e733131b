/* The SAE training graphs: the TopK family's backward pass never forms a [d_sae, batch] tensor
 * (the sparse path), its gradients equal those of the dense formulation SAELens uses, and the
 * JumpReLU threshold gradient is SAELens's straight-through estimator. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/backend.h"
#include "core/context.h"
#include "core/ops.h"
#include "core/sched.h"
#include "models/sae.h"
#include "models/sae_rng.h"
#include "tests/test_util.h"

#define D 24
#define M 61 /* d_sae and the batch are distinct primes: a [d_sae, B] tensor cannot hide */
#define B 37
#define K 6

static struct sg_stream *stream;

static struct sg_sae *make_sae(enum sg_sae_arch arch) {
    struct sg_sae_config c;
    sg_sae_config_default(&c, arch, D, M);
    c.k = K;
    struct sg_sae *s;
    CHECK(sg_sae_new(&c, sg_device_cpu(), &s) == SG_OK);
    float x[64 * D];
    struct sg_rng r;
    sg_rng_seed(&r, 3);
    for (int i = 0; i < 64 * D; i++) x[i] = (float)sg_rng_normal(&r);
    CHECK(sg_sae_init(s, 1, x, 64) == SG_OK);
    /* biases away from zero so that their gradients are exercised */
    float be[M];
    for (int i = 0; i < M; i++) be[i] = 0.05f * (float)((i % 7) - 3);
    sg_tensor_set(s->b_enc, be, 0, sizeof be);
    return s;
}

static void fill_x(struct sg_tensor *x) {
    float h[B * D];
    struct sg_rng r;
    sg_rng_seed(&r, 17);
    for (int i = 0; i < B * D; i++) h[i] = (float)sg_rng_normal(&r);
    sg_tensor_set(x, h, 0, sizeof h);
}

static bool is_batch_by_latents(const struct sg_tensor *t) { return sg_nelements(t) % ((int64_t)M * B) == 0; }

static void check_sparse(enum sg_sae_arch arch, bool aux) {
    struct sg_sae *s   = make_sae(arch);
    struct sg_ctx *ctx = sg_ctx_new();
    struct sg_sae_fwd f;
    CHECK(sg_sae_build_train(s, ctx, B, aux, &f) == SG_OK);
    struct sg_graph *g = sg_graph_new(ctx);
    CHECK(sg_graph_expand(g, f.loss) == SG_OK);
    int n_forward = g->n_nodes;
    CHECK(sg_graph_backward(g, f.loss) == SG_OK);
    int dense_fwd = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const struct sg_tensor *t = g->nodes[i];
        if (!is_batch_by_latents(t)) continue;
        if (i >= n_forward) {
            CHECK_MSG(0, "%s: backward node %s '%s' is [d_sae, batch]", sg_sae_arch_name(arch), sg_op_name(t->op),
                      t->name);
            continue;
        }
        /* forward: only the encoder GEMM with its bias (one linear node, or matmul and add), and
         * what top_k reads */
        bool ok = t->op == SG_OP_LINEAR || t->op == SG_OP_MATMUL || t->op == SG_OP_ADD || t->op == SG_OP_DETACH;
        CHECK_MSG(ok, "%s: forward node %s is [d_sae, batch]", sg_sae_arch_name(arch), sg_op_name(t->op));
        dense_fwd++;
    }
    CHECK(dense_fwd >= 2);
    sg_sae_fwd_release(&f);
    sg_ctx_free(ctx);
    sg_sae_free(s);
}

static void test_topk_family_backward_is_sparse(void) {
    check_sparse(SG_SAE_TOPK, false);
    check_sparse(SG_SAE_TOPK, true);
    check_sparse(SG_SAE_BATCHTOPK, true);
    check_sparse(SG_SAE_MATRYOSHKA, true);
}

/* Gradients of every parameter after one backward pass, with x filled. */
static void grads_of(struct sg_sae *s, struct sg_ctx *ctx, struct sg_graph *g, struct sg_tensor *x,
                     struct sg_tensor *const *consts, float *const *const_data, int n_const, float *out[4]) {
    struct sg_tensor *p[4] = {s->W_enc, s->b_enc, s->W_dec, s->b_dec};
    struct sg_tensor *gr[4];
    for (int i = 0; i < 4; i++) {
        gr[i] = sg_graph_grad(g, p[i]);
        CHECK(gr[i] != NULL);
        /* a gradient may be a transposed view (through W_enc^T): read it as laid out for W */
        if (!sg_is_contiguous(gr[i])) {
            gr[i] = sg_cont(ctx, gr[i]);
            sg_graph_expand(g, gr[i]);
        }
        sg_set_output(gr[i]);
    }
    struct sg_sched *sched;
    sg_sched_new(stream, 0, &sched);
    CHECK(sg_sched_prepare(sched, g) == SG_OK);
    for (int i = 0; i < n_const; i++) sg_tensor_set(consts[i], const_data[i], 0, (size_t)sg_nelements(consts[i]) * 4);
    fill_x(x);
    CHECK(sg_sched_compute(sched, g) == SG_OK);
    for (int i = 0; i < 4; i++) {
        out[i] = malloc((size_t)sg_nelements(p[i]) * sizeof(float));
        sg_tensor_get(gr[i], out[i], 0, (size_t)sg_nelements(p[i]) * sizeof(float));
    }
    sg_sched_free(sched);
}

/* SAELens's TopK forward written densely: the code scattered into [d_sae, B], a decoder GEMM. */
static struct sg_tensor *dense_topk_loss(struct sg_ctx *ctx, struct sg_sae *s, struct sg_tensor *x) {
    struct sg_tensor *xc  = sg_sub(ctx, x, s->b_dec);
    struct sg_tensor *pre = sg_add(ctx, sg_matmul(ctx, xc, sg_transpose(ctx, s->W_enc)), s->b_enc);
    struct sg_tensor *idx = sg_top_k(ctx, sg_detach(ctx, pre), K);
    struct sg_tensor *f   = sg_scatter(ctx, sg_relu(ctx, sg_gather(ctx, pre, idx)), idx, M);
    struct sg_tensor *rec = sg_add(ctx, sg_matmul(ctx, f, s->W_dec), s->b_dec);
    return sg_scale(ctx, sg_sum(ctx, sg_sqr(ctx, sg_sub(ctx, rec, x))), 1.0f / B);
}

static void test_sparse_topk_gradients_equal_the_dense_ones(void) {
    struct sg_sae *s = make_sae(SG_SAE_TOPK);
    float *sparse[4], *dense[4];

    struct sg_ctx *c1 = sg_ctx_new();
    struct sg_sae_fwd f;
    CHECK(sg_sae_build_train(s, c1, B, false, &f) == SG_OK);
    struct sg_graph *g1 = sg_graph_new(c1);
    sg_graph_expand(g1, f.loss);
    CHECK(sg_graph_backward(g1, f.loss) == SG_OK);
    grads_of(s, c1, g1, f.x, f.consts, f.const_data, f.n_const, sparse);

    struct sg_ctx *c2    = sg_ctx_new();
    struct sg_tensor *x2 = sg_set_input(sg_new_tensor_2d(c2, SG_TYPE_F32, D, B));
    struct sg_tensor *l2 = dense_topk_loss(c2, s, x2);
    struct sg_graph *g2  = sg_graph_new(c2);
    sg_graph_expand(g2, l2);
    CHECK(sg_graph_backward(g2, l2) == SG_OK);
    grads_of(s, c2, g2, x2, NULL, NULL, 0, dense);

    const char *names[4] = {"W_enc", "b_enc", "W_dec", "b_dec"};
    const int64_t n[4]   = {M * D, M, M * D, D};
    for (int i = 0; i < 4; i++) {
        double err = 0, scale = 0;
        for (int64_t j = 0; j < n[i]; j++) {
            err   = fmax(err, fabs(sparse[i][j] - dense[i][j]));
            scale = fmax(scale, fabs(dense[i][j]));
        }
        /* fp32 sums in another order (sparse_dot against the GEMM): 1e-5 relative */
        CHECK_MSG(scale > 0 && err <= 1e-5 * scale, "%s: sparse and dense gradients differ by %g (scale %g)", names[i],
                  err, scale);
        free(sparse[i]);
        free(dense[i]);
    }
    sg_sae_fwd_release(&f);
    sg_ctx_free(c1);
    sg_ctx_free(c2);
    sg_sae_free(s);
}

/* d loss / d log θ_i = θ_i Σ_b [ g_bi (-θ_i/ε) K((π_bi - θ_i)/ε) + (λ/B) (-1/ε) K((π_bi - θ_i)/ε) ],
 * g = d MSE / d f, K the rectangle 1[|u| < 1/2], computed on the host. */
static void test_jumprelu_threshold_gradient_is_the_ste(void) {
    struct sg_sae *s = make_sae(SG_SAE_JUMPRELU);
    const float eps = s->cfg.bandwidth, lam = s->cfg.l0_coef;
    /* thresholds near the pre-activations, so many fall inside the kernel */
    float lt[M];
    for (int i = 0; i < M; i++) lt[i] = logf(0.1f + 0.02f * (float)(i % 5));
    sg_tensor_set(s->log_threshold, lt, 0, sizeof lt);

    struct sg_ctx *ctx = sg_ctx_new();
    struct sg_sae_fwd f;
    CHECK(sg_sae_build_train(s, ctx, B, false, &f) == SG_OK);
    struct sg_graph *g = sg_graph_new(ctx);
    sg_graph_expand(g, f.loss);
    CHECK(sg_graph_backward(g, f.loss) == SG_OK);
    struct sg_tensor *gt = sg_set_output(sg_graph_grad(g, s->log_threshold));
    struct sg_sched *sched;
    sg_sched_new(stream, 0, &sched);
    CHECK(sg_sched_prepare(sched, g) == SG_OK);
    CHECK(sg_sae_fwd_upload(&f) == SG_OK); /* the penalty input: λ/B */
    fill_x(f.x);
    CHECK(sg_sched_compute(sched, g) == SG_OK);
    float got[M];
    sg_tensor_get(gt, got, 0, sizeof got);

    float x[B * D], we[M * D], be[M], wd[M * D], bd[D];
    sg_tensor_get(f.x, x, 0, sizeof x);
    sg_tensor_get(s->W_enc, we, 0, sizeof we);
    sg_tensor_get(s->b_enc, be, 0, sizeof be);
    sg_tensor_get(s->W_dec, wd, 0, sizeof wd);
    sg_tensor_get(s->b_dec, bd, 0, sizeof bd);
    double want[M] = {0};
    int in_window  = 0;
    for (int b = 0; b < B; b++) {
        double pre[M], fa[M], rec[D];
        for (int i = 0; i < M; i++) {
            pre[i] = be[i];
            for (int j = 0; j < D; j++) pre[i] += (double)(x[b * D + j] - bd[j]) * we[i * D + j];
            double th = exp(lt[i]);
            fa[i]     = pre[i] > th ? pre[i] : 0;
        }
        for (int j = 0; j < D; j++) {
            rec[j] = bd[j];
            for (int i = 0; i < M; i++) rec[j] += fa[i] * wd[i * D + j];
        }
        for (int i = 0; i < M; i++) {
            double th = exp(lt[i]), u = (pre[i] - th) / eps;
            if (!(fabs(u) < 0.5)) continue;
            in_window++;
            double gi = 0;
            for (int j = 0; j < D; j++) gi += 2.0 / B * (rec[j] - x[b * D + j]) * wd[i * D + j];
            want[i] += th * (gi * (-th / eps) + lam / B * (-1.0 / eps));
        }
    }
    CHECK(in_window > 20);
    double err = 0, scale = 0;
    for (int i = 0; i < M; i++) {
        err   = fmax(err, fabs(got[i] - want[i]));
        scale = fmax(scale, fabs(want[i]));
    }
    CHECK_MSG(scale > 0 && err <= 1e-4 * scale, "threshold gradient off by %g (scale %g)", err, scale);
    sg_sched_free(sched);
    sg_sae_fwd_release(&f);
    sg_ctx_free(ctx);
    sg_sae_free(s);
}

int main(void) {
    sg_backends_load();
    if (sg_device_open_stream(sg_device_cpu(), 1, &stream) != SG_OK) return 1;
    RUN_TEST(test_topk_family_backward_is_sparse);
    RUN_TEST(test_sparse_topk_gradients_equal_the_dense_ones);
    RUN_TEST(test_jumprelu_threshold_gradient_is_the_ste);
    sg_stream_free(stream);
    return test_exit_code();
}
