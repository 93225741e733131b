/* test-backend-ops cases: matmul, layer_norm and its gradient, softmax, fused attention and its
 * gradient. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tests/backends/tbo.h"

#define F32  SG_TYPE_F32
#define F16  SG_TYPE_F16
#define BF16 SG_TYPE_BF16
#define I32  SG_TYPE_I32

/* ---- matmul ------------------------------------------------------------------------------- */

struct p_matmul {
    int64_t m, n, k;
    int64_t ba[4], bb[4]; /* batch dims 2..5 of a and b (each 1 or the other's) */
    enum sg_type ta, tb;
    enum tbo_layout la, lb; /* TRANS: the operand is a transposed view (transA/transB) */
};

static struct sg_tensor *build_matmul(struct tbo_builder *b, const void *pp) {
    const struct p_matmul *p = pp;
    int64_t na[SG_MAX_DIMS]  = {p->k, p->m, p->ba[0], p->ba[1], p->ba[2], p->ba[3]};
    int64_t nb[SG_MAX_DIMS]  = {p->n, p->k, p->bb[0], p->bb[1], p->bb[2], p->bb[3]};
    struct sg_tensor *a      = tbo_input_view(b, p->ta, SG_MAX_DIMS, na, p->la, tbo_uniform(-1, 1), p->ta == F32);
    struct sg_tensor *x      = tbo_input_view(b, p->tb, SG_MAX_DIMS, nb, p->lb, tbo_uniform(-1, 1), p->tb == F32);
    return tbo_node(b, sg_matmul(b->ctx, a, x));
}

static bool batch_trivial(const int64_t *bd) { return bd[0] == 1 && bd[1] == 1 && bd[2] == 1 && bd[3] == 1; }

static struct tbo_case *add_matmul_types(struct tbo_case_list *l, unsigned modes, int64_t m, int64_t n, int64_t k,
                                         enum sg_type ta, enum sg_type tb, enum tbo_layout la, enum tbo_layout lb,
                                         const int64_t *ba, const int64_t *bb) {
    struct p_matmul p = {
        .m = m, .n = n, .k = k, .ta = ta, .tb = tb, .la = la, .lb = lb, .ba = {1, 1, 1, 1}, .bb = {1, 1, 1, 1}};
    if (ba) memcpy(p.ba, ba, sizeof p.ba);
    if (bb) memcpy(p.bb, bb, sizeof p.bb);
    char extra[160] = "";
    size_t e        = 0;
    if (ta != F32) e += (size_t)snprintf(extra + e, sizeof extra - e, ",a=%s", sg_type_name(ta));
    if (p.tb != F32) e += (size_t)snprintf(extra + e, sizeof extra - e, ",b=%s", sg_type_name(p.tb));
    if (la == TBO_TRANS) e += (size_t)snprintf(extra + e, sizeof extra - e, ",transA=1");
    if (lb == TBO_TRANS) e += (size_t)snprintf(extra + e, sizeof extra - e, ",transB=1");
    if (la > TBO_TRANS) e += (size_t)snprintf(extra + e, sizeof extra - e, ",a=%s", tbo_layout_names[la]);
    if (lb > TBO_TRANS) e += (size_t)snprintf(extra + e, sizeof extra - e, ",b=%s", tbo_layout_names[lb]);
    if (!batch_trivial(p.ba) || !batch_trivial(p.bb)) {
        char sa[48], sb[48];
        snprintf(extra + e, sizeof extra - e, ",batch=%sx%s", tbo_dims(sa, 48, tbo_rank(p.ba, 4), p.ba),
                 tbo_dims(sb, 48, tbo_rank(p.bb, 4), p.bb));
    }
    struct tbo_case *c = tbo_add(l, SG_OP_MATMUL, modes, build_matmul, &p, sizeof p, "matmul(m=%lld,n=%lld,k=%lld%s)",
                                 (long long)m, (long long)n, (long long)k, extra);
    if (ta == F16) {
        c->max_nmse = 1e-6;
        c->why      = "a tensor-core path may round b to f16 (2^-11 relative per element, nmse ~1e-7)";
    }
    /* A bf16 GEMM rounds both operands to bf16 on every backend, like the reference: the
     * products are then exact and only the fp32 summation order differs, so the default 1e-7
     * holds (a backend that skipped rounding the f32 operand would show nmse ~5e-6). */
    return c;
}

static struct tbo_case *add_matmul(struct tbo_case_list *l, unsigned modes, int64_t m, int64_t n, int64_t k,
                                   enum sg_type ta, enum tbo_layout la, enum tbo_layout lb, const int64_t *ba,
                                   const int64_t *bb) {
    return add_matmul_types(l, modes, m, n, k, ta, F32, la, lb, ba, bb);
}

/* A bf16 weight as b (the models' x @ W^T) with an f32 a. */
static void add_matmul_w16(struct tbo_case_list *l, unsigned modes, int64_t m, int64_t n, int64_t k, enum tbo_layout la,
                           enum tbo_layout lb, const int64_t *ba, const int64_t *bb) {
    add_matmul_types(l, modes, m, n, k, F32, BF16, la, lb, ba, bb);
}

static void cases_matmul_bf16(struct tbo_case_list *l) {
    /* bf16 weights: plain, as W^T (the model's layout), thin, batched with broadcast */
    add_matmul_w16(l, TBO_TEST, 64, 33, 17, 0, 0, NULL, NULL);
    add_matmul_w16(l, TBO_TEST, 64, 33, 17, 0, TBO_TRANS, NULL, NULL);
    add_matmul_w16(l, TBO_TEST, 129, 65, 70, 0, TBO_TRANS, NULL, NULL);
    add_matmul_w16(l, TBO_TEST, 200, 129, 300, TBO_TRANS, TBO_TRANS, NULL, NULL);
    add_matmul_w16(l, TBO_TEST, 1, 33, 129, 0, TBO_TRANS, NULL, NULL);
    add_matmul_w16(l, TBO_TEST, 17, 1, 129, 0, 0, NULL, NULL);
    add_matmul_w16(l, TBO_TEST, 17, 9, 13, 0, TBO_TRANS, (int64_t[]){3, 2, 1, 1}, (int64_t[]){1, 1, 1, 1});
    add_matmul_w16(l, TBO_TEST, 33, 17, 9, TBO_STRIDED, TBO_PERM, (int64_t[]){3, 1, 1, 1}, (int64_t[]){3, 1, 1, 1});
    /* the gradient w.r.t. the f32 input of a frozen bf16 weight is g @ W: also a bf16 GEMM */
    add_matmul_w16(l, TBO_TEST, 129, 70, 65, 0, 0, NULL, NULL);
    /* both operands bf16 */
    add_matmul_types(l, TBO_TEST, 64, 33, 17, BF16, BF16, 0, TBO_TRANS, NULL, NULL);
    add_matmul_types(l, TBO_TEST, 129, 65, 70, BF16, BF16, TBO_TRANS, 0, NULL, NULL);
    add_matmul_w16(l, TBO_PERF, 2048, 2048, 2048, 0, TBO_TRANS, NULL, NULL);
}

static void cases_matmul(struct tbo_case_list *l) {
    cases_matmul_bf16(l);
    static const int64_t small[][3] = {
        {1, 1, 1},     {64, 33, 17},    {33, 17, 3},     {17, 1, 129},
        {1, 33, 129},  {3, 17, 33},     {129, 129, 129}, {5, 7, 4099}, /* one long dot product per element */
        {129, 65, 70}, {200, 129, 300},                                /* big enough for a BLAS / tiled path */
        {64, 64, 64},  {16, 16, 1024},                                 /* at the CPU's BLAS threshold */
        {257, 3, 257}, {3, 257, 257},   {300, 300, 15},  {129, 65, 4099},
    };
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++)
        add_matmul(l, TBO_TEST, small[i][0], small[i][1], small[i][2], F32, 0, 0, NULL, NULL);
    static const int64_t tr[][3] = {{64, 33, 17}, {129, 65, 70}, {1, 33, 129}, {17, 1, 129}};
    for (size_t i = 0; i < sizeof tr / sizeof tr[0]; i++) {
        add_matmul(l, TBO_TEST, tr[i][0], tr[i][1], tr[i][2], F32, TBO_TRANS, 0, NULL, NULL);
        add_matmul(l, TBO_TEST, tr[i][0], tr[i][1], tr[i][2], F32, 0, TBO_TRANS, NULL, NULL);
        add_matmul(l, TBO_TEST, tr[i][0], tr[i][1], tr[i][2], F32, TBO_TRANS, TBO_TRANS, NULL, NULL);
    }
    static const enum sg_type half[] = {F16, BF16};
    for (size_t i = 0; i < 2; i++) {
        add_matmul(l, TBO_TEST, 64, 33, 17, half[i], 0, 0, NULL, NULL);
        add_matmul(l, TBO_TEST, 64, 33, 17, half[i], TBO_TRANS, 0, NULL, NULL);
        add_matmul(l, TBO_TEST, 129, 65, 70, half[i], 0, 0, NULL, NULL);
        add_matmul(l, TBO_TEST, 129, 65, 70, half[i], TBO_TRANS, TBO_TRANS, NULL, NULL);
        add_matmul(l, TBO_TEST, 1, 33, 129, half[i], 0, 0, NULL, NULL);
        add_matmul(l, TBO_TEST, 17, 9, 13, half[i], 0, 0, (int64_t[]){3, 2, 1, 1}, (int64_t[]){3, 1, 1, 1});
    }
    /* batches: equal, broadcast either way, rank 6 */
    add_matmul(l, TBO_TEST, 17, 9, 13, F32, 0, 0, (int64_t[]){3, 2, 1, 1}, (int64_t[]){3, 2, 1, 1});
    add_matmul(l, TBO_TEST, 17, 9, 13, F32, 0, 0, (int64_t[]){1, 2, 1, 1}, (int64_t[]){3, 1, 1, 1});
    add_matmul(l, TBO_TEST, 17, 9, 13, F32, 0, 0, (int64_t[]){3, 1, 1, 1}, (int64_t[]){1, 2, 1, 1});
    add_matmul(l, TBO_TEST, 5, 7, 3, F32, 0, 0, (int64_t[]){2, 1, 2, 3}, (int64_t[]){1, 3, 2, 1});
    add_matmul(l, TBO_TEST, 70, 65, 129, F32, TBO_TRANS, 0, (int64_t[]){2, 1, 1, 1}, (int64_t[]){2, 1, 1, 1});
    add_matmul(l, TBO_TEST, 33, 17, 9, F32, 0, TBO_TRANS, (int64_t[]){4, 1, 1, 1}, (int64_t[]){1, 1, 1, 1});
    /* permuted and strided operands (head-split activations, slices of a fused weight) */
    add_matmul(l, TBO_TEST, 17, 9, 13, F32, TBO_PERM, 0, (int64_t[]){3, 1, 1, 1}, (int64_t[]){3, 1, 1, 1});
    add_matmul(l, TBO_TEST, 17, 9, 13, F32, 0, TBO_PERM, (int64_t[]){3, 1, 1, 1}, (int64_t[]){3, 1, 1, 1});
    add_matmul(l, TBO_TEST, 33, 17, 9, F32, TBO_STRIDED, TBO_STRIDED, NULL, NULL);
    add_matmul(l, TBO_TEST, 129, 65, 70, F32, TBO_STRIDED, 0, NULL, NULL);
    add_matmul(l, TBO_TEST, 17, 9, 13, F16, TBO_STRIDED, TBO_PERM, (int64_t[]){3, 1, 1, 1}, (int64_t[]){3, 1, 1, 1});

    add_matmul(l, TBO_GRAD, 4, 3, 5, F32, 0, 0, NULL, NULL);
    add_matmul(l, TBO_GRAD, 4, 3, 5, F32, TBO_TRANS, TBO_TRANS, NULL, NULL);
    add_matmul(l, TBO_GRAD, 3, 2, 4, F32, 0, 0, (int64_t[]){1, 2, 1, 1}, (int64_t[]){3, 1, 1, 1});
    add_matmul(l, TBO_GRAD, 3, 4, 2, F32, 0, TBO_PERM, (int64_t[]){2, 1, 1, 1}, (int64_t[]){2, 1, 1, 1});
    add_matmul(l, TBO_GRAD, 17, 9, 13, F32, TBO_TRANS, 0, NULL, NULL);

    add_matmul(l, TBO_PERF, 2048, 2048, 2048, F32, 0, 0, NULL, NULL);
    add_matmul(l, TBO_PERF, 2048, 2048, 2048, BF16, 0, 0, NULL, NULL);
    add_matmul(l, TBO_PERF, 4096, 16384, 512, F32, 0, 0, NULL, NULL);         /* SAE encoder: x W_enc */
    add_matmul(l, TBO_PERF, 4096, 512, 16384, F32, 0, TBO_TRANS, NULL, NULL); /* dense decoder, W^T */
    add_matmul(l, TBO_PERF, 512, 16384, 4096, F32, 0, 0, NULL, NULL);
    add_matmul(l, TBO_PERF, 2048, 1536, 512, F32, 0, TBO_TRANS, NULL, NULL); /* fused QKV projection */
    add_matmul(l, TBO_PERF, 64, 64, 64, F32, 0, 0, NULL, NULL);
}

/* ---- layer_norm and layer_norm_back ------------------------------------------------------- */

struct p_norm {
    int op; /* LAYER_NORM or LAYER_NORM_BACK */
    int64_t ne[SG_MAX_DIMS];
    enum tbo_layout l;
    bool w, bias;
    double offset; /* added to the inputs: cancellation in the variance */
    bool constant; /* every x equal: zero variance, eps alone in the denominator */
};

static struct sg_tensor *build_norm(struct tbo_builder *b, const void *pp) {
    const struct p_norm *p = pp;
    struct tbo_fill fx  = p->constant ? tbo_fill_of(TBO_FILL_CONST, 0.3, 0) : tbo_uniform(p->offset - 1, p->offset + 1);
    struct sg_tensor *x = tbo_input_view(b, F32, SG_MAX_DIMS, p->ne, p->l, fx, true);
    struct sg_tensor *w = p->w ? tbo_param(b, F32, 1, p->ne, tbo_uniform(0.5, 1.5)) : NULL;
    if (p->op == SG_OP_LAYER_NORM_BACK) {
        struct sg_tensor *dy = tbo_input(b, F32, SG_MAX_DIMS, p->ne, tbo_uniform(-1, 1));
        return tbo_node(b, sg_layer_norm_back(b->ctx, x, dy, w, 1e-5f));
    }
    struct sg_tensor *bias = p->bias ? tbo_param(b, F32, 1, p->ne, tbo_uniform(-0.5, 0.5)) : NULL;
    return tbo_node(b, sg_layer_norm(b->ctx, x, w, bias, 1e-5f));
}

static struct tbo_case *add_norm(struct tbo_case_list *l, unsigned modes, int op, const int64_t ne[SG_MAX_DIMS],
                                 enum tbo_layout lay, bool w, bool bias, double offset) {
    struct p_norm p = {.op = op, .l = lay, .w = w, .bias = bias, .offset = offset};
    memcpy(p.ne, ne, sizeof p.ne);
    char s[64], off[32] = "";
    if (offset != 0) snprintf(off, sizeof off, ",offset=%g", offset);
    return tbo_add(l, op, modes, build_norm, &p, sizeof p, "%s(ne=%s%s%s%s%s%s)", sg_op_name(op),
                   tbo_dims(s, 64, tbo_rank(ne, SG_MAX_DIMS), ne), w ? ",w" : "", bias ? ",b" : "", lay ? ",x=" : "",
                   lay ? tbo_layout_names[lay] : "", off);
}

static void cases_norm(struct tbo_case_list *l) {
    static const struct {
        int64_t ne[SG_MAX_DIMS];
        enum tbo_layout l;
        bool w, b;
    } shapes[] = {
        {{17, 3, 1, 1, 1, 1}, 0, true, true},          {{1, 5, 1, 1, 1, 1}, 0, true, true}, /* rows of one: var 0 */
        {{129, 33, 1, 1, 1, 1}, 0, false, false},      {{129, 33, 1, 1, 1, 1}, 0, true, false},
        {{4099, 3, 1, 1, 1, 1}, 0, true, true},        {{512, 64, 1, 1, 1, 1}, 0, true, true},
        {{33, 17, 1, 1, 1, 1}, TBO_TRANS, true, true}, {{8, 5, 3, 1, 1, 1}, TBO_PERM, true, true},
        {{5, 2, 3, 1, 2, 2}, 0, true, true},           {{17, 5, 1, 1, 1, 1}, TBO_STRIDED, true, false},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        add_norm(l, TBO_TEST, SG_OP_LAYER_NORM, shapes[i].ne, shapes[i].l, shapes[i].w, shapes[i].b, 0);
        add_norm(l, TBO_TEST, SG_OP_LAYER_NORM_BACK, shapes[i].ne, shapes[i].l, shapes[i].w, false, 0);
    }
    struct tbo_case *c = add_norm(l, TBO_TEST, SG_OP_LAYER_NORM, (int64_t[]){257, 4, 1, 1, 1, 1}, 0, true, true, 100);
    c->max_nmse        = 1e-5;
    c->why             = "inputs offset by 100 (std 0.6): f32 rounding of the mean is amplified ~170x; a one-pass "
                         "E[x^2]-E[x]^2 variance fails by orders of magnitude";
    c           = add_norm(l, TBO_TEST, SG_OP_LAYER_NORM_BACK, (int64_t[]){257, 4, 1, 1, 1, 1}, 0, true, false, 100);
    c->max_nmse = 1e-5;
    c->why      = "inputs offset by 100: see layer_norm";
    for (int o = 0; o < 2; o++) {
        struct p_norm p = {.op       = o ? SG_OP_LAYER_NORM_BACK : SG_OP_LAYER_NORM,
                           .ne       = {4099, 3, 1, 1, 1, 1},
                           .w        = true,
                           .bias     = !o,
                           .constant = true};
        tbo_add(l, p.op, TBO_TEST, build_norm, &p, sizeof p, "%s(ne=4099x3,w%s,constant)", sg_op_name(p.op),
                o ? "" : ",b");
    }

    add_norm(l, TBO_GRAD, SG_OP_LAYER_NORM, (int64_t[]){7, 3, 1, 1, 1, 1}, 0, true, true, 0);
    add_norm(l, TBO_GRAD, SG_OP_LAYER_NORM, (int64_t[]){5, 4, 1, 1, 1, 1}, 0, false, false, 0);
    add_norm(l, TBO_GRAD, SG_OP_LAYER_NORM, (int64_t[]){6, 4, 1, 1, 1, 1}, TBO_TRANS, true, false, 0);
    add_norm(l, TBO_GRAD, SG_OP_LAYER_NORM, (int64_t[]){33, 5, 1, 1, 1, 1}, 0, true, true, 0);
    add_norm(l, TBO_GRAD, SG_OP_LAYER_NORM, (int64_t[]){4, 3, 2, 1, 1, 1}, TBO_PERM, false, true, 0);

    add_norm(l, TBO_PERF, SG_OP_LAYER_NORM, (int64_t[]){512, 65536, 1, 1, 1, 1}, 0, true, true, 0);
    add_norm(l, TBO_PERF, SG_OP_LAYER_NORM_BACK, (int64_t[]){512, 65536, 1, 1, 1, 1}, 0, true, false, 0);
}

/* ---- softmax ------------------------------------------------------------------------------ */

struct p_softmax {
    int64_t ne[SG_MAX_DIMS];
    enum tbo_layout l;
    int fill; /* 0: [-3, 3]; 1: [-100, 100] (needs the max subtracted); 2: some -inf */
};

static struct sg_tensor *build_softmax(struct tbo_builder *b, const void *pp) {
    const struct p_softmax *p = pp;
    struct tbo_fill f         = p->fill == 1   ? tbo_uniform(-100, 100)
                                : p->fill == 2 ? tbo_fill_of(TBO_FILL_NEG_INF, -3, 3)
                                               : tbo_uniform(-3, 3);
    struct sg_tensor *x       = tbo_input_view(b, F32, SG_MAX_DIMS, p->ne, p->l, f, true);
    return tbo_node(b, sg_softmax(b->ctx, x));
}

static void add_softmax(struct tbo_case_list *l, unsigned modes, const int64_t ne[SG_MAX_DIMS], enum tbo_layout lay,
                        int fill) {
    static const char *const fills[] = {"", ",range=-100..100", ",some=-inf"};
    struct p_softmax p               = {.l = lay, .fill = fill};
    memcpy(p.ne, ne, sizeof p.ne);
    char s[64];
    tbo_add(l, SG_OP_SOFTMAX, modes, build_softmax, &p, sizeof p, "softmax(ne=%s%s%s%s)",
            tbo_dims(s, 64, tbo_rank(ne, SG_MAX_DIMS), ne), lay ? ",x=" : "", lay ? tbo_layout_names[lay] : "",
            fills[fill]);
}

static void cases_softmax(struct tbo_case_list *l) {
    static const struct {
        int64_t ne[SG_MAX_DIMS];
        enum tbo_layout l;
        int fill;
    } shapes[] = {
        {{1, 3, 1, 1, 1, 1}, 0, 0},        {{17, 3, 1, 1, 1, 1}, 0, 0},    {{129, 33, 1, 1, 1, 1}, 0, 0},
        {{4099, 2, 1, 1, 1, 1}, 0, 0},     {{16384, 2, 1, 1, 1, 1}, 0, 0}, {{33, 17, 1, 1, 1, 1}, TBO_TRANS, 0},
        {{8, 5, 3, 1, 1, 1}, TBO_PERM, 0}, {{5, 2, 3, 1, 2, 2}, 0, 0},     {{17, 5, 1, 1, 1, 1}, TBO_STRIDED, 0},
        {{129, 5, 1, 1, 1, 1}, 0, 1},      {{33, 17, 1, 1, 1, 1}, 0, 2},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        add_softmax(l, TBO_TEST, shapes[i].ne, shapes[i].l, shapes[i].fill);
    add_softmax(l, TBO_GRAD, (int64_t[]){7, 3, 1, 1, 1, 1}, 0, 0);
    add_softmax(l, TBO_GRAD, (int64_t[]){5, 4, 1, 1, 1, 1}, TBO_TRANS, 0);
    add_softmax(l, TBO_GRAD, (int64_t[]){5, 4, 3, 1, 1, 1}, TBO_PERM, 0);
    add_softmax(l, TBO_GRAD, (int64_t[]){33, 2, 1, 1, 1, 1}, 0, 0);
    add_softmax(l, TBO_PERF, (int64_t[]){16384, 512, 1, 1, 1, 1}, 0, 0);
}

/* ---- attention and attention_back --------------------------------------------------------- */

enum attn_layout {
    ATTN_SEPARATE, /* q, k, v contiguous [D, H, S, B] */
    ATTN_FUSED,    /* q, k, v strided views of one fused QKV activation [3 D H, S, B] */
    ATTN_PERM,     /* q, k, v permuted views of [D, S, H, B] */
    ATTN_TRANS,    /* q, k, v transposed views of [H, D, S, B]: elements of a head are not adjacent */
};
static const char *const attn_layout_names[] = {"separate", "fused_qkv", "heads_perm", "head_dim_strided"};

struct p_attn {
    int op; /* ATTENTION or ATTENTION_BACK */
    int64_t D, Dv, H, Sq, Sk, B;
    enum attn_layout layout;
    bool mask;
    float scale; /* 0: 1/sqrt(D) */
};

/* q, k or v of shape [d, H, S, B] in the case's layout. */
static struct sg_tensor *attn_operand(struct tbo_builder *b, const struct p_attn *p, int64_t d, int64_t S) {
    if (p->layout == ATTN_PERM) {
        struct sg_tensor *base = tbo_param(b, F32, 4, (int64_t[]){d, S, p->H, p->B}, tbo_uniform(-1, 1));
        return sg_permute(b->ctx, base, (const int[SG_MAX_DIMS]){0, 2, 1, 3, 4, 5});
    }
    if (p->layout == ATTN_TRANS)
        return sg_transpose(b->ctx, tbo_param(b, F32, 4, (int64_t[]){p->H, d, S, p->B}, tbo_uniform(-1, 1)));
    return tbo_param(b, F32, 4, (int64_t[]){d, p->H, S, p->B}, tbo_uniform(-1, 1));
}

static struct sg_tensor *build_attention(struct tbo_builder *b, const void *pp) {
    const struct p_attn *p = pp;
    struct sg_ctx *ctx     = b->ctx;
    struct sg_tensor *q, *k, *v;
    if (p->layout == ATTN_FUSED) {
        /* as a transformer computes them: one projection, then q, k and v are views into it
         * (the fused layout needs Sq == Sk and D == Dv) */
        const int64_t D = p->D, H = p->H, S = p->Sq;
        struct sg_tensor *qkv = tbo_param(b, F32, 3, (int64_t[]){3 * D * H, S, p->B}, tbo_uniform(-1, 1));
        if (!qkv) return NULL;
        const size_t f      = sizeof(float);
        const size_t nb[4]  = {f, (size_t)D * f, (size_t)(3 * D * H) * f, (size_t)(3 * D * H * S) * f};
        const int64_t ne[4] = {D, H, S, p->B};
        q                   = sg_view(ctx, qkv, 4, ne, nb, 0);
        k                   = sg_view(ctx, qkv, 4, ne, nb, (size_t)(D * H) * f);
        v                   = sg_view(ctx, qkv, 4, ne, nb, (size_t)(2 * D * H) * f);
    } else {
        q = attn_operand(b, p, p->D, p->Sq);
        k = attn_operand(b, p, p->D, p->Sk);
        v = attn_operand(b, p, p->Dv, p->Sk);
    }
    struct sg_tensor *mask =
        p->mask ? tbo_input(b, I32, 2, (int64_t[]){p->Sk, p->B}, tbo_fill_of(TBO_FILL_MASK, 0, 0)) : NULL;
    float scale = p->scale != 0 ? p->scale : (float)(1.0 / sqrt((double)p->D));
    if (p->op == SG_OP_ATTENTION_BACK) {
        struct sg_tensor *dout = tbo_input(b, F32, 4, (int64_t[]){p->Dv, p->H, p->Sq, p->B}, tbo_uniform(-1, 1));
        return tbo_node(b, sg_attention_back(ctx, q, k, v, mask, dout, scale));
    }
    return tbo_node(b, sg_attention(ctx, q, k, v, mask, scale));
}

static struct tbo_case *add_attn(struct tbo_case_list *l, unsigned modes, int op, int64_t D, int64_t Dv, int64_t H,
                                 int64_t Sq, int64_t Sk, int64_t B, enum attn_layout lay, bool mask, float scale) {
    struct p_attn p = {
        .op = op, .D = D, .Dv = Dv, .H = H, .Sq = Sq, .Sk = Sk, .B = B, .layout = lay, .mask = mask, .scale = scale};
    char sc[32] = "";
    if (scale != 0) snprintf(sc, sizeof sc, ",scale=%g", scale);
    return tbo_add(l, op, modes, build_attention, &p, sizeof p,
                   "%s(D=%lld,Dv=%lld,H=%lld,Sq=%lld,Sk=%lld,B=%lld%s%s%s%s)", sg_op_name(op), (long long)D,
                   (long long)Dv, (long long)H, (long long)Sq, (long long)Sk, (long long)B, lay ? "," : "",
                   lay ? attn_layout_names[lay] : "", mask ? ",mask" : "", sc);
}

static void cases_attention(struct tbo_case_list *l) {
    for (int o = 0; o < 2; o++) {
        int op = o ? SG_OP_ATTENTION_BACK : SG_OP_ATTENTION;
        /* B = 4 with a mask gives every mask pattern: mixed codes, fully hidden, all SELF, padding */
        add_attn(l, TBO_TEST, op, 16, 16, 2, 17, 17, 2, ATTN_SEPARATE, false, 0);
        add_attn(l, TBO_TEST, op, 16, 16, 2, 17, 17, 4, ATTN_SEPARATE, true, 0);
        add_attn(l, TBO_TEST, op, 16, 16, 2, 5, 33, 4, ATTN_SEPARATE, true, 0); /* Sq < Sk */
        add_attn(l, TBO_TEST, op, 16, 16, 2, 33, 5, 4, ATTN_SEPARATE, true, 0); /* Sq > Sk: late queries see nothing */
        add_attn(l, TBO_TEST, op, 16, 8, 2, 17, 17, 4, ATTN_SEPARATE, true, 0); /* D != Dv */
        add_attn(l, TBO_TEST, op, 8, 32, 3, 9, 13, 2, ATTN_SEPARATE, true, 0);
        add_attn(l, TBO_TEST, op, 3, 5, 1, 1, 1, 1, ATTN_SEPARATE, false, 0);
        add_attn(l, TBO_TEST, op, 1, 1, 3, 7, 7, 4, ATTN_SEPARATE, true, 0.7f);
        add_attn(l, TBO_TEST, op, 16, 16, 4, 33, 33, 4, ATTN_FUSED, true, 0);
        add_attn(l, TBO_TEST, op, 16, 16, 3, 17, 17, 2, ATTN_PERM, true, 0);
        add_attn(l, TBO_TEST, op, 16, 8, 3, 17, 9, 2, ATTN_TRANS, true, 0);
        add_attn(l, TBO_TEST, op, 128, 128, 2, 65, 65, 2, ATTN_SEPARATE, true, 0);   /* a large head */
        add_attn(l, TBO_TEST, op, 65, 33, 2, 19, 23, 4, ATTN_SEPARATE, true, 0);     /* odd head sizes */
        add_attn(l, TBO_TEST, op, 16, 16, 2, 17, 17, 2, ATTN_SEPARATE, false, 3.0f); /* sharp softmax */
        add_attn(l, TBO_TEST, op, 64, 64, 8, 129, 129, 2, ATTN_FUSED, true, 0);      /* a transformer block */
    }
    /* long sequences cross every tile boundary of a flash-style kernel */
    add_attn(l, TBO_TEST, SG_OP_ATTENTION, 32, 32, 2, 520, 520, 2, ATTN_SEPARATE, true, 0);
    add_attn(l, TBO_TEST, SG_OP_ATTENTION, 64, 64, 1, 1, 1030, 1, ATTN_SEPARATE, true, 0);
    add_attn(l, TBO_TEST, SG_OP_ATTENTION, 16, 16, 1, 1030, 3, 1, ATTN_SEPARATE, false, 0);
    add_attn(l, TBO_TEST, SG_OP_ATTENTION_BACK, 32, 32, 1, 520, 520, 2, ATTN_SEPARATE, true, 0);

    add_attn(l, TBO_GRAD, SG_OP_ATTENTION, 4, 3, 2, 3, 5, 1, ATTN_SEPARATE, false, 0);
    add_attn(l, TBO_GRAD, SG_OP_ATTENTION, 4, 4, 1, 4, 4, 4, ATTN_SEPARATE, true, 0);
    add_attn(l, TBO_GRAD, SG_OP_ATTENTION, 3, 3, 2, 4, 3, 2, ATTN_PERM, true, 0);
    add_attn(l, TBO_GRAD, SG_OP_ATTENTION, 8, 6, 2, 9, 7, 4, ATTN_SEPARATE, true, 0);
    add_attn(l, TBO_GRAD, SG_OP_ATTENTION, 3, 2, 2, 3, 4, 1, ATTN_TRANS, false, 0.8f);

    add_attn(l, TBO_PERF, SG_OP_ATTENTION, 64, 64, 8, 1024, 1024, 1, ATTN_FUSED, true, 0);
    add_attn(l, TBO_PERF, SG_OP_ATTENTION, 64, 64, 8, 2048, 2048, 1, ATTN_FUSED, true, 0);
    add_attn(l, TBO_PERF, SG_OP_ATTENTION, 64, 64, 8, 1024, 1024, 1, ATTN_SEPARATE, false, 0);
    add_attn(l, TBO_PERF, SG_OP_ATTENTION_BACK, 64, 64, 8, 1024, 1024, 1, ATTN_SEPARATE, true, 0);
}

/* ---- a transformer block: views of computed tensors ---------------------------------------- */

/* Pre-LN attention as models/ builds it: x + proj(attention(views of qkv(layer_norm(x)))). q, k
 * and v are strided views of a computed tensor, and every intermediate is compared. */
struct p_block {
    int64_t d, H, S, B;
};

static struct sg_tensor *build_block(struct tbo_builder *b, const void *pp) {
    const struct p_block *p = pp;
    struct sg_ctx *ctx      = b->ctx;
    const int64_t d = p->d, D = d / p->H, S = p->S, B = p->B;
    const float wscale     = (float)(1.0 / sqrt((double)d));
    struct sg_tensor *x    = tbo_input(b, F32, 3, (int64_t[]){d, S, B}, tbo_uniform(-1, 1));
    struct sg_tensor *lw   = tbo_input(b, F32, 1, (int64_t[]){d}, tbo_uniform(0.5, 1.5));
    struct sg_tensor *lb   = tbo_input(b, F32, 1, (int64_t[]){d}, tbo_uniform(-0.5, 0.5));
    struct sg_tensor *wqkv = tbo_input(b, F32, 2, (int64_t[]){d, 3 * d}, tbo_uniform(-wscale, wscale));
    struct sg_tensor *wo   = tbo_input(b, F32, 2, (int64_t[]){d, d}, tbo_uniform(-wscale, wscale));
    struct sg_tensor *mask = tbo_input(b, I32, 2, (int64_t[]){S, B}, tbo_fill_of(TBO_FILL_MASK, 0, 0));
    struct sg_tensor *h    = tbo_node(b, sg_layer_norm(ctx, x, lw, lb, 1e-5f));
    struct sg_tensor *qkv  = tbo_node(b, sg_matmul(ctx, h, sg_transpose(ctx, wqkv))); /* [3d, S, B] */
    if (!qkv) return NULL;
    const size_t f           = sizeof(float);
    const size_t nb[4]       = {f, (size_t)D * f, qkv->nb[1], qkv->nb[2]};
    const int64_t ne[4]      = {D, p->H, S, B};
    struct sg_tensor *q      = sg_view(ctx, qkv, 4, ne, nb, 0);
    struct sg_tensor *k      = sg_view(ctx, qkv, 4, ne, nb, (size_t)d * f);
    struct sg_tensor *v      = sg_view(ctx, qkv, 4, ne, nb, (size_t)(2 * d) * f);
    struct sg_tensor *att    = tbo_node(b, sg_attention(ctx, q, k, v, mask, (float)(1.0 / sqrt((double)D))));
    struct sg_tensor *merged = sg_reshape(ctx, att, 3, (int64_t[]){d, S, B});
    struct sg_tensor *proj   = tbo_node(b, sg_matmul(ctx, merged, sg_transpose(ctx, wo)));
    return tbo_node(b, sg_add(ctx, x, proj));
}

static void cases_block(struct tbo_case_list *l) {
    static const struct p_block blocks[] = {{64, 4, 33, 4}, {128, 2, 129, 1}};
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
        const struct p_block *p = &blocks[i];
        tbo_add(l, SG_OP_ATTENTION, TBO_TEST, build_block, p, sizeof *p,
                "attention(block=ln+qkv+attention+proj+residual,d=%lld,H=%lld,S=%lld,B=%lld,mask)", (long long)p->d,
                (long long)p->H, (long long)p->S, (long long)p->B);
    }
    const struct p_block big = {512, 8, 1024, 1};
    tbo_add(l, SG_OP_ATTENTION, TBO_PERF, build_block, &big, sizeof big,
            "attention(block=ln+qkv+attention+proj+residual,d=512,H=8,S=1024,B=1,mask)");
}

void tbo_cases_nn(struct tbo_case_list *l) {
    cases_matmul(l);
    cases_norm(l);
    cases_softmax(l);
    cases_attention(l);
    cases_block(l);
}
