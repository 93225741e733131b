/* test-backend-ops cases: the fused ops (add_layer_norm, linear) and, for perf, the sequences of
 * ordinary ops they replace, timed in the same run so their ratio can be read off. */
#include <stdio.h>
#include <string.h>

#include "tests/backends/tbo.h"

#define F32  SG_TYPE_F32
#define F16  SG_TYPE_F16
#define BF16 SG_TYPE_BF16

/* ---- add_layer_norm ------------------------------------------------------------------------ */

struct p_add_norm {
    int64_t ne[SG_MAX_DIMS];
    enum tbo_layout lx, lr;
    bool w, bias;
    bool unfused; /* perf: sg_add then sg_layer_norm, the sequence the op replaces */
};

static struct sg_tensor *build_add_norm(struct tbo_builder *b, const void *pp) {
    const struct p_add_norm *p = pp;
    struct sg_tensor *x        = tbo_input_view(b, F32, SG_MAX_DIMS, p->ne, p->lx, tbo_uniform(-1, 1), true);
    struct sg_tensor *r        = tbo_input_view(b, F32, SG_MAX_DIMS, p->ne, p->lr, tbo_uniform(-1, 1), true);
    struct sg_tensor *w        = p->w ? tbo_param(b, F32, 1, p->ne, tbo_uniform(0.5, 1.5)) : NULL;
    struct sg_tensor *bias     = p->bias ? tbo_param(b, F32, 1, p->ne, tbo_uniform(-0.5, 0.5)) : NULL;
    if (p->unfused) {
        struct sg_tensor *s = tbo_node(b, sg_add(b->ctx, x, r));
        return tbo_node(b, sg_layer_norm(b->ctx, s, w, bias, 1e-5f));
    }
    return tbo_node(b, sg_add_layer_norm(b->ctx, x, r, w, bias, 1e-5f));
}

static void add_add_norm(struct tbo_case_list *l, unsigned modes, const int64_t ne[SG_MAX_DIMS], enum tbo_layout lx,
                         enum tbo_layout lr, bool w, bool bias, bool unfused) {
    struct p_add_norm p = {.lx = lx, .lr = lr, .w = w, .bias = bias, .unfused = unfused};
    memcpy(p.ne, ne, sizeof p.ne);
    char s[64];
    tbo_add(l, SG_OP_ADD_LAYER_NORM, modes, build_add_norm, &p, sizeof p, "add_layer_norm(ne=%s%s%s%s%s%s%s%s)",
            tbo_dims(s, 64, tbo_rank(ne, SG_MAX_DIMS), ne), w ? ",w" : "", bias ? ",b" : "", lx ? ",x=" : "",
            lx ? tbo_layout_names[lx] : "", lr ? ",r=" : "", lr ? tbo_layout_names[lr] : "",
            unfused ? ",unfused=add+layer_norm" : "");
}

static void cases_add_norm(struct tbo_case_list *l) {
    static const struct {
        int64_t ne[SG_MAX_DIMS];
        enum tbo_layout lx, lr;
        bool w, b;
    } shapes[] = {
        {{17, 3, 1, 1, 1, 1}, 0, 0, true, true},
        {{1, 5, 1, 1, 1, 1}, 0, 0, true, true}, /* rows of one: variance 0 */
        {{129, 33, 1, 1, 1, 1}, 0, 0, false, false},
        {{512, 64, 1, 1, 1, 1}, 0, 0, true, true},
        {{4099, 3, 1, 1, 1, 1}, 0, 0, true, false},
        {{64, 1, 1, 1, 1, 1}, 0, 0, true, true}, /* one row: the packed result is [64, 2] */
        {{33, 17, 1, 1, 1, 1}, TBO_TRANS, 0, true, true},
        {{8, 5, 3, 1, 1, 1}, 0, TBO_PERM, true, true},
        {{17, 5, 1, 1, 1, 1}, TBO_STRIDED, TBO_STRIDED, true, false},
        {{5, 2, 3, 1, 2, 1}, 0, 0, true, true}, /* rank 5: the largest it takes */
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        add_add_norm(l, TBO_TEST, shapes[i].ne, shapes[i].lx, shapes[i].lr, shapes[i].w, shapes[i].b, false);

    add_add_norm(l, TBO_GRAD, (int64_t[]){7, 3, 1, 1, 1, 1}, 0, 0, true, true, false);
    add_add_norm(l, TBO_GRAD, (int64_t[]){5, 4, 1, 1, 1, 1}, 0, 0, false, false, false);
    add_add_norm(l, TBO_GRAD, (int64_t[]){6, 4, 1, 1, 1, 1}, TBO_TRANS, 0, true, false, false);
    add_add_norm(l, TBO_GRAD, (int64_t[]){4, 3, 2, 1, 1, 1}, 0, TBO_PERM, false, true, false);

    /* Tahoe X1 70m: d = 512, 4 cells of 1024 tokens (8 MiB a tensor: the CPU's caches hold the
     * unfused sum between its two ops), and 64 cells (128 MiB: they do not) */
    for (int64_t t = 4096; t <= 65536; t *= 16)
        for (int u = 0; u < 2; u++) add_add_norm(l, TBO_PERF, (int64_t[]){512, t, 1, 1, 1, 1}, 0, 0, true, true, u);
}

/* ---- linear ----------------------------------------------------------------------------------- */

struct p_linear {
    int64_t m, n, k;
    int64_t ba[4], bb[4]; /* batch dims 2..5 of a and b */
    enum sg_type ta, tb;  /* tb BF16: a --dtype bf16 weight (a bf16 GEMM, see sg_matmul) */
    enum tbo_layout la, lb;
    bool bias;
    enum sg_linear_act act;
    bool away;    /* grad across relu's kink: keep every pre-activation away from 0 (k = 1) */
    bool unfused; /* perf: matmul, add, activation */
};

static struct sg_tensor *build_linear(struct tbo_builder *b, const void *pp) {
    const struct p_linear *p = pp;
    int64_t na[SG_MAX_DIMS]  = {p->k, p->m, p->ba[0], p->ba[1], p->ba[2], p->ba[3]};
    int64_t nb[SG_MAX_DIMS]  = {p->n, p->k, p->bb[0], p->bb[1], p->bb[2], p->bb[3]};
    /* with k = 1, |a b| >= 0.25 and |bias| <= 0.1 keep |z| >= 0.15, beyond the FD step's reach */
    struct tbo_fill fa     = p->away ? tbo_away(-1, 1, 0, 0, 1, 0.5) : tbo_uniform(-1, 1);
    struct tbo_fill fb     = p->away ? tbo_uniform(0.5, 1) : tbo_uniform(-1, 1);
    struct sg_tensor *a    = tbo_input_view(b, p->ta, SG_MAX_DIMS, na, p->la, fa, p->ta == F32);
    struct sg_tensor *x    = tbo_input_view(b, p->tb, SG_MAX_DIMS, nb, p->lb, fb, p->tb == F32);
    struct sg_tensor *bias = p->bias ? tbo_param(b, F32, 1, (int64_t[]){p->n}, tbo_uniform(-0.1, 0.1)) : NULL;
    float slope            = p->act == SG_LINEAR_LEAKY_RELU ? 0.01f : 0.0f;
    if (!p->unfused) return tbo_node(b, sg_linear(b->ctx, a, x, bias, p->act, slope));
    struct sg_tensor *y = tbo_node(b, sg_matmul(b->ctx, a, x));
    if (bias) y = tbo_node(b, sg_add(b->ctx, y, bias));
    switch (p->act) {
    case SG_LINEAR_RELU: return tbo_node(b, sg_relu(b->ctx, y));
    case SG_LINEAR_GELU: return tbo_node(b, sg_gelu(b->ctx, y));
    case SG_LINEAR_LEAKY_RELU: return tbo_node(b, sg_leaky_relu(b->ctx, y, slope));
    default: return y;
    }
}

static const char *const act_names[SG_LINEAR_N_ACTS] = {"none", "relu", "gelu", "leaky_relu"};

static struct tbo_case *add_linear(struct tbo_case_list *l, unsigned modes, const struct p_linear *p) {
    char extra[160] = "";
    size_t e        = 0;
    if (p->ta != F32) e += (size_t)snprintf(extra + e, sizeof extra - e, ",a=%s", sg_type_name(p->ta));
    if (p->tb != F32) e += (size_t)snprintf(extra + e, sizeof extra - e, ",b=%s", sg_type_name(p->tb));
    if (p->la) e += (size_t)snprintf(extra + e, sizeof extra - e, ",a=%s", tbo_layout_names[p->la]);
    if (p->lb) e += (size_t)snprintf(extra + e, sizeof extra - e, ",b=%s", tbo_layout_names[p->lb]);
    if (p->ba[0] * p->ba[1] * p->ba[2] * p->ba[3] > 1 || p->bb[0] * p->bb[1] * p->bb[2] * p->bb[3] > 1) {
        char sa[48], sb[48];
        e += (size_t)snprintf(extra + e, sizeof extra - e, ",batch=%sx%s", tbo_dims(sa, 48, tbo_rank(p->ba, 4), p->ba),
                              tbo_dims(sb, 48, tbo_rank(p->bb, 4), p->bb));
    }
    if (p->unfused) snprintf(extra + e, sizeof extra - e, ",unfused=matmul+add+%s", act_names[p->act]);
    struct tbo_case *c =
        tbo_add(l, SG_OP_LINEAR, modes, build_linear, p, sizeof *p, "linear(m=%lld,n=%lld,k=%lld,act=%s%s%s)",
                (long long)p->m, (long long)p->n, (long long)p->k, act_names[p->act], p->bias ? ",bias" : "", extra);
    if (p->ta == BF16) {
        c->max_nmse = 2e-5;
        c->why      = "a tensor-core path may round b to bf16 (see matmul)";
    }
    return c;
}

/* m, n, k, act, bias, a layout, b layout */
static struct p_linear lin(int64_t m, int64_t n, int64_t k, enum sg_linear_act act, bool bias, enum tbo_layout la,
                           enum tbo_layout lb) {
    return (struct p_linear){.m    = m,
                             .n    = n,
                             .k    = k,
                             .ta   = F32,
                             .tb   = F32,
                             .la   = la,
                             .lb   = lb,
                             .bias = bias,
                             .act  = act,
                             .ba   = {1, 1, 1, 1},
                             .bb   = {1, 1, 1, 1}};
}

static void cases_linear(struct tbo_case_list *l) {
    /* small (own loops on the CPU) and large (BLAS, tiled shaders) products, every activation */
    static const int64_t shapes[][3] = {{1, 1, 1}, {33, 17, 3}, {1, 33, 129}, {129, 65, 70}, {200, 129, 300}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int act = 0; act < SG_LINEAR_N_ACTS; act++) {
            struct p_linear p = lin(shapes[i][0], shapes[i][1], shapes[i][2], act, true, 0, 0);
            add_linear(l, TBO_TEST, &p);
        }
    /* a torch Linear: the weight read transposed; no bias; strided and permuted operands */
    struct p_linear p = lin(129, 65, 70, SG_LINEAR_GELU, true, 0, TBO_TRANS);
    add_linear(l, TBO_TEST, &p);
    p = lin(64, 33, 17, SG_LINEAR_RELU, true, TBO_TRANS, TBO_TRANS);
    add_linear(l, TBO_TEST, &p);
    p = lin(129, 65, 70, SG_LINEAR_NONE, false, 0, TBO_TRANS);
    add_linear(l, TBO_TEST, &p);
    p = lin(33, 17, 9, SG_LINEAR_LEAKY_RELU, true, TBO_STRIDED, TBO_STRIDED);
    add_linear(l, TBO_TEST, &p);
    p = lin(17, 9, 13, SG_LINEAR_GELU, true, TBO_PERM, 0);
    memcpy(p.ba, (int64_t[]){3, 1, 1, 1}, sizeof p.ba);
    memcpy(p.bb, (int64_t[]){3, 1, 1, 1}, sizeof p.bb);
    add_linear(l, TBO_TEST, &p);
    p = lin(17, 9, 13, SG_LINEAR_RELU, true, 0, 0); /* batches broadcast both ways */
    memcpy(p.ba, (int64_t[]){1, 2, 1, 1}, sizeof p.ba);
    memcpy(p.bb, (int64_t[]){3, 1, 1, 1}, sizeof p.bb);
    add_linear(l, TBO_TEST, &p);
    static const enum sg_type half[] = {F16, BF16};
    for (size_t i = 0; i < 2; i++) {
        p    = lin(64, 33, 17, SG_LINEAR_GELU, true, 0, 0);
        p.ta = half[i];
        add_linear(l, TBO_TEST, &p);
    }
    /* --dtype bf16: Tahoe X1's Linear weight is b, BF16, read transposed (OpenCL leaves one with
     * a bias to the CPU); small and large products */
    static const int64_t bf16_shapes[][3] = {{33, 17, 3}, {129, 65, 70}};
    for (size_t i = 0; i < 2; i++)
        for (int bias = 0; bias < 2; bias++) {
            p    = lin(bf16_shapes[i][0], bf16_shapes[i][1], bf16_shapes[i][2], SG_LINEAR_GELU, bias, 0, TBO_TRANS);
            p.tb = BF16;
            add_linear(l, TBO_TEST, &p);
        }

    p = lin(4, 3, 5, SG_LINEAR_NONE, true, 0, 0);
    add_linear(l, TBO_GRAD, &p);
    p = lin(4, 3, 5, SG_LINEAR_GELU, true, 0, TBO_TRANS);
    add_linear(l, TBO_GRAD, &p);
    p = lin(17, 9, 13, SG_LINEAR_GELU, false, TBO_TRANS, 0);
    add_linear(l, TBO_GRAD, &p);
    for (int act = SG_LINEAR_RELU; act < SG_LINEAR_N_ACTS; act += 2) { /* relu, leaky_relu */
        p      = lin(6, 5, 1, act, true, 0, 0);
        p.away = true;
        add_linear(l, TBO_GRAD, &p);
    }

    /* Tahoe X1 70m's MLP up-projection (d 512 -> 2048, gelu) over 4 cells of 1024 tokens, and
     * an SAE encoder (512 -> 16384, relu) over 1024 activations; each next to its unfused form */
    for (int u = 0; u < 2; u++) {
        p         = lin(4096, 2048, 512, SG_LINEAR_GELU, true, 0, TBO_TRANS);
        p.unfused = u;
        add_linear(l, TBO_PERF, &p);
    }
    for (int u = 0; u < 2; u++) {
        p         = lin(1024, 16384, 512, SG_LINEAR_RELU, true, 0, 0);
        p.unfused = u;
        add_linear(l, TBO_PERF, &p);
    }
}

void tbo_cases_fused(struct tbo_case_list *l) {
    cases_add_norm(l);
    cases_linear(l);
}
