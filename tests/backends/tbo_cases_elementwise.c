/* test-backend-ops cases: broadcasting binary ops, unary functions, activation gradients,
 * reductions and broadcasts, contiguous copies, casts and copies into existing storage.
 *
 * Sizes avoid multiples of any tile (1, 3, 17, 33, 129, 4099); every family takes some inputs as
 * transposed, permuted or strided views, and broadcasting is tried on each dimension. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tests/backends/tbo.h"

#define F32        SG_TYPE_F32
#define F16        SG_TYPE_F16
#define BF16       SG_TYPE_BF16
#define I32        SG_TYPE_I32
#define NDIMS(...) ((int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))

/* ---- binary: add, sub, mul, div ----------------------------------------------------------- */

struct p_binary {
    int op;
    int64_t a[SG_MAX_DIMS], b[SG_MAX_DIMS];
    enum tbo_layout la, lb;
};

static struct sg_tensor *build_binary(struct tbo_builder *b, const void *pp) {
    const struct p_binary *p = pp;
    /* 1/b has a pole at 0: keep divisors at least 0.5 away */
    struct tbo_fill fb  = p->op == SG_OP_DIV ? tbo_away(-2.0, 2.0, 0.0, 0.0, 1, 0.5) : tbo_uniform(-1.0, 1.0);
    struct sg_tensor *x = tbo_input_view(b, F32, SG_MAX_DIMS, p->a, p->la, tbo_uniform(-1.0, 1.0), true);
    struct sg_tensor *y = tbo_input_view(b, F32, SG_MAX_DIMS, p->b, p->lb, fb, true);
    struct sg_tensor *(*fn)(struct sg_ctx *, struct sg_tensor *, struct sg_tensor *) = p->op == SG_OP_ADD   ? sg_add
                                                                                       : p->op == SG_OP_SUB ? sg_sub
                                                                                       : p->op == SG_OP_MUL ? sg_mul
                                                                                                            : sg_div;
    return tbo_node(b, fn(b->ctx, x, y));
}

static void add_binary(struct tbo_case_list *l, unsigned modes, int op, const int64_t a[SG_MAX_DIMS],
                       const int64_t bb[SG_MAX_DIMS], enum tbo_layout la, enum tbo_layout lb) {
    struct p_binary p = {.op = op, .la = la, .lb = lb};
    memcpy(p.a, a, sizeof p.a);
    memcpy(p.b, bb, sizeof p.b);
    char sa[64], sb[64];
    int r = tbo_rank(a, SG_MAX_DIMS) > tbo_rank(bb, SG_MAX_DIMS) ? tbo_rank(a, SG_MAX_DIMS) : tbo_rank(bb, SG_MAX_DIMS);
    tbo_add(l, op, modes, build_binary, &p, sizeof p, "%s(a=%s,b=%s%s%s%s%s)", sg_op_name(op), tbo_dims(sa, 64, r, a),
            tbo_dims(sb, 64, r, bb), la ? ",a=" : "", la ? tbo_layout_names[la] : "", lb ? ",b=" : "",
            lb ? tbo_layout_names[lb] : "");
}

static void cases_binary(struct tbo_case_list *l) {
    static const struct {
        int64_t a[SG_MAX_DIMS], b[SG_MAX_DIMS];
        enum tbo_layout la, lb;
    } shapes[] = {
        {{1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1}, 0, 0},
        {{17, 3, 1, 1, 1, 1}, {17, 3, 1, 1, 1, 1}, 0, 0},
        {{31, 1, 1, 1, 1, 1}, {31, 1, 1, 1, 1, 1}, 0, 0}, /* one short of 8-, 16-, 32-wide */
        {{65, 2, 1, 1, 1, 1}, {65, 2, 1, 1, 1, 1}, 0, 0},
        {{129, 33, 1, 1, 1, 1}, {129, 33, 1, 1, 1, 1}, 0, 0},
        {{4099, 3, 1, 1, 1, 1}, {4099, 1, 1, 1, 1, 1}, 0, 0}, /* bias row on a long row */
        {{10, 5, 4, 3, 1, 1}, {1, 5, 4, 3, 1, 1}, 0, 0},      /* broadcast on each dim */
        {{10, 5, 4, 3, 1, 1}, {10, 1, 4, 3, 1, 1}, 0, 0},
        {{10, 5, 4, 3, 1, 1}, {10, 5, 1, 3, 1, 1}, 0, 0},
        {{10, 5, 4, 3, 1, 1}, {10, 5, 4, 1, 1, 1}, 0, 0},
        {{10, 5, 4, 3, 1, 1}, {1, 1, 1, 1, 1, 1}, 0, 0},
        {{10, 1, 4, 1, 1, 1}, {1, 5, 1, 3, 1, 1}, 0, 0}, /* both sides broadcast */
        {{3, 2, 2, 2, 2, 3}, {3, 1, 2, 1, 2, 1}, 0, 0},  /* rank 6 */
        {{1, 2, 1, 2, 1, 3}, {3, 2, 2, 2, 2, 1}, 0, 0},
        {{33, 17, 1, 1, 1, 1}, {33, 17, 1, 1, 1, 1}, TBO_TRANS, 0},
        {{33, 17, 1, 1, 1, 1}, {33, 17, 1, 1, 1, 1}, 0, TBO_TRANS},
        {{5, 4, 3, 2, 1, 1}, {5, 4, 3, 2, 1, 1}, TBO_PERM, TBO_PERM},
        {{17, 5, 3, 1, 1, 1}, {17, 5, 3, 1, 1, 1}, TBO_STRIDED, 0},
        {{17, 5, 3, 1, 1, 1}, {17, 1, 3, 1, 1, 1}, 0, TBO_STRIDED},
    };
    static const int ops[] = {SG_OP_ADD, SG_OP_SUB, SG_OP_MUL, SG_OP_DIV};
    for (size_t o = 0; o < 4; o++)
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
            add_binary(l, TBO_TEST, ops[o], shapes[i].a, shapes[i].b, shapes[i].la, shapes[i].lb);
    /* gradients, including the sum over broadcast dims */
    for (size_t o = 0; o < 4; o++) {
        add_binary(l, TBO_GRAD, ops[o], (int64_t[]){5, 4, 3, 1, 1, 1}, (int64_t[]){5, 1, 3, 1, 1, 1}, 0, 0);
        add_binary(l, TBO_GRAD, ops[o], (int64_t[]){1, 4, 1, 1, 1, 1}, (int64_t[]){6, 4, 3, 1, 1, 1}, 0, TBO_TRANS);
    }
    add_binary(l, TBO_PERF, SG_OP_ADD, (int64_t[]){512, 65536, 1, 1, 1, 1}, (int64_t[]){512, 1, 1, 1, 1, 1}, 0, 0);
    add_binary(l, TBO_PERF, SG_OP_MUL, (int64_t[]){512, 65536, 1, 1, 1, 1}, (int64_t[]){512, 65536, 1, 1, 1, 1}, 0, 0);
}

/* ---- unary: scale, sqr, sqrt, relu, gelu, leaky_relu, sigmoid, tanh, clamp, exp, step -------- */

#define CLAMP_LO    -0.5
#define CLAMP_HI    0.75
#define LEAKY_SLOPE 0.1

struct p_unary {
    int op;
    int64_t ne[SG_MAX_DIMS];
    enum tbo_layout l;
    double lo, hi; /* input range; lo == hi: the op's default */
    bool bias;     /* scale: s*x + b rather than s*x */
};

/* The op's input: kinks are hit exactly in test mode (kernels must follow the documented
 * convention there) and avoided in grad mode (finite differences cannot see a kink). */
static struct tbo_fill unary_fill(const struct p_unary *p, bool grad) {
    double lo = p->lo, hi = p->hi;
    if (lo == hi) lo = -3.0, hi = 3.0;
    switch (p->op) {
    case SG_OP_SQRT: return tbo_uniform(grad ? 0.25 : 0.0, lo == -3.0 ? 4.0 : hi); /* sqrt' is infinite at 0 */
    case SG_OP_STEP: /* forward only: 0 itself must step to 0 */
    case SG_OP_RELU:
    case SG_OP_LEAKY_RELU: return grad ? tbo_away(lo, hi, 0.0, 0.0, 1, 0.125) : tbo_kinks(lo, hi, 0.0, 0.0, 0.0, 1);
    case SG_OP_CLAMP:
        return grad ? tbo_away(lo, hi, CLAMP_LO, CLAMP_HI, 2, 0.125) : tbo_kinks(lo, hi, CLAMP_LO, CLAMP_HI, 0.0, 2);
    default: return tbo_uniform(lo, hi);
    }
}

static struct sg_tensor *build_unary(struct tbo_builder *b, const void *pp) {
    const struct p_unary *p = pp;
    struct sg_ctx *ctx      = b->ctx;
    struct sg_tensor *x = tbo_input_view(b, F32, SG_MAX_DIMS, p->ne, p->l, unary_fill(p, b->mode == TBO_GRAD), true);
    struct sg_tensor *y = NULL;
    switch (p->op) {
    case SG_OP_SCALE: y = p->bias ? sg_scale_bias(ctx, x, 0.75f, 0.25f) : sg_scale(ctx, x, -1.5f); break;
    case SG_OP_SQR: y = sg_sqr(ctx, x); break;
    case SG_OP_SQRT: y = sg_sqrt(ctx, x); break;
    case SG_OP_RELU: y = sg_relu(ctx, x); break;
    case SG_OP_GELU: y = sg_gelu(ctx, x); break;
    case SG_OP_LEAKY_RELU: y = sg_leaky_relu(ctx, x, (float)LEAKY_SLOPE); break;
    case SG_OP_SIGMOID: y = sg_sigmoid(ctx, x); break;
    case SG_OP_TANH: y = sg_tanh(ctx, x); break;
    case SG_OP_CLAMP: y = sg_clamp(ctx, x, (float)CLAMP_LO, (float)CLAMP_HI); break;
    case SG_OP_EXP: y = sg_exp(ctx, x); break;
    case SG_OP_STEP: y = sg_step(ctx, x); break;
    default: break;
    }
    return tbo_node(b, y);
}

static void add_unary(struct tbo_case_list *l, unsigned modes, int op, const int64_t ne[SG_MAX_DIMS],
                      enum tbo_layout lay, double lo, double hi, bool bias) {
    struct p_unary p = {.op = op, .l = lay, .lo = lo, .hi = hi, .bias = bias};
    memcpy(p.ne, ne, sizeof p.ne);
    char s[64], range[64] = "";
    if (lo != hi) snprintf(range, sizeof range, ",range=%g..%g", lo, hi);
    tbo_add(l, op, modes, build_unary, &p, sizeof p, "%s(ne=%s%s%s%s%s)", sg_op_name(op),
            tbo_dims(s, 64, tbo_rank(ne, SG_MAX_DIMS), ne), lay ? ",x=" : "", lay ? tbo_layout_names[lay] : "", range,
            bias ? ",bias=1" : "");
}

static void cases_unary(struct tbo_case_list *l) {
    static const struct {
        int64_t ne[SG_MAX_DIMS];
        enum tbo_layout l;
    } shapes[] = {
        {{1, 1, 1, 1, 1, 1}, 0},        {{17, 1, 1, 1, 1, 1}, 0},
        {{129, 3, 1, 1, 1, 1}, 0},      {{4099, 3, 1, 1, 1, 1}, 0},
        {{3, 5, 2, 2, 1, 2}, 0},        {{33, 17, 1, 1, 1, 1}, TBO_TRANS},
        {{5, 4, 3, 1, 1, 1}, TBO_PERM}, {{17, 5, 1, 1, 1, 1}, TBO_STRIDED},
        {{31, 1, 1, 1, 1, 1}, 0},       {{65, 2, 1, 1, 1, 1}, 0},
        {{3, 5, 2, 2, 1, 2}, TBO_PERM},
    };
    static const int ops[] = {SG_OP_SCALE,      SG_OP_SQR,     SG_OP_SQRT, SG_OP_RELU,  SG_OP_GELU,
                              SG_OP_LEAKY_RELU, SG_OP_SIGMOID, SG_OP_TANH, SG_OP_CLAMP, SG_OP_EXP};
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
            add_unary(l, TBO_TEST, ops[o], shapes[i].ne, shapes[i].l, 0, 0, false);
        add_unary(l, TBO_GRAD, ops[o], (int64_t[]){7, 5, 1, 1, 1, 1}, 0, 0, 0, false);
        add_unary(l, TBO_GRAD, ops[o], (int64_t[]){4, 6, 1, 1, 1, 1}, TBO_TRANS, 0, 0, false);
    }
    add_unary(l, TBO_TEST | TBO_GRAD, SG_OP_SCALE, (int64_t[]){17, 3, 1, 1, 1, 1}, 0, 0, 0, true);
    /* step has no gradient: forward cases only */
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        add_unary(l, TBO_TEST, SG_OP_STEP, shapes[i].ne, shapes[i].l, 0, 0, false);
    /* exp overflows to +inf and underflows to 0 like the reference */
    add_unary(l, TBO_TEST, SG_OP_EXP, (int64_t[]){129, 3, 1, 1, 1, 1}, 0, -100, 100, false);
    /* saturation: a naive tanh (e^2x - 1)/(e^2x + 1) or sigmoid 1/(1 + e^-x) overflows to NaN */
    add_unary(l, TBO_TEST, SG_OP_TANH, (int64_t[]){129, 3, 1, 1, 1, 1}, 0, -100, 100, false);
    add_unary(l, TBO_TEST, SG_OP_SIGMOID, (int64_t[]){129, 3, 1, 1, 1, 1}, 0, -100, 100, false);
    add_unary(l, TBO_TEST, SG_OP_GELU, (int64_t[]){129, 3, 1, 1, 1, 1}, 0, -100, 100, false);
    add_unary(l, TBO_PERF, SG_OP_GELU, (int64_t[]){2048, 16384, 1, 1, 1, 1}, 0, 0, 0, false);
    add_unary(l, TBO_PERF, SG_OP_RELU, (int64_t[]){2048, 16384, 1, 1, 1, 1}, 0, 0, 0, false);
}

/* ---- act_back: dy * f'(x) ----------------------------------------------------------------- */

struct p_act {
    enum sg_act act;
    int64_t ne[2];
    enum tbo_layout lx;
};

static const char *const act_names[] = {"relu", "leaky_relu", "gelu", "clamp"};

static struct sg_tensor *build_act_back(struct tbo_builder *b, const void *pp) {
    const struct p_act *p = pp;
    /* x hits the kinks exactly: relu'(0) = 0, leaky'(0) = slope, clamp passes lo <= x <= hi */
    struct tbo_fill fx =
        p->act == SG_ACT_CLAMP ? tbo_kinks(-2, 2, CLAMP_LO, CLAMP_HI, 0, 2) : tbo_kinks(-3, 3, 0, 0, 0, 1);
    struct sg_tensor *x  = tbo_input_view(b, F32, 2, p->ne, p->lx, fx, false);
    struct sg_tensor *dy = tbo_input(b, F32, 2, p->ne, tbo_uniform(-1, 1));
    return tbo_node(b, sg_act_back(b->ctx, p->act, x, dy, (float)LEAKY_SLOPE, (float)CLAMP_LO, (float)CLAMP_HI));
}

static void cases_act_back(struct tbo_case_list *l) {
    static const struct {
        int64_t ne[2];
        enum tbo_layout lx;
    } shapes[] = {{{1, 1}, 0},    {{17, 3}, 0},          {{129, 33}, 0},
                  {{4099, 2}, 0}, {{33, 17}, TBO_TRANS}, {{17, 5}, TBO_STRIDED}};
    for (int a = SG_ACT_RELU; a <= SG_ACT_CLAMP; a++) {
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
            struct p_act p = {.act = (enum sg_act)a, .ne = {shapes[i].ne[0], shapes[i].ne[1]}, .lx = shapes[i].lx};
            char s[64];
            tbo_add(l, SG_OP_ACT_BACK, TBO_TEST, build_act_back, &p, sizeof p, "act_back(act=%s,ne=%s%s%s)",
                    act_names[a], tbo_dims(s, 64, 2, p.ne), p.lx ? ",x=" : "", p.lx ? tbo_layout_names[p.lx] : "");
        }
    }
    struct p_act p = {.act = SG_ACT_GELU, .ne = {2048, 16384}};
    tbo_add(l, SG_OP_ACT_BACK, TBO_PERF, build_act_back, &p, sizeof p, "act_back(act=gelu,ne=2048x16384)");
}

/* ---- sum_to and repeat -------------------------------------------------------------------- */

struct p_reduce {
    int op; /* SUM_TO or REPEAT */
    int64_t ne[SG_MAX_DIMS], to[SG_MAX_DIMS];
    enum tbo_layout l;
    bool mean; /* sum_to followed by a scale, as sg_mean builds it */
};

static struct sg_tensor *build_reduce(struct tbo_builder *b, const void *pp) {
    const struct p_reduce *p = pp;
    struct sg_tensor *x      = tbo_input_view(b, F32, SG_MAX_DIMS, p->ne, p->l, tbo_uniform(-1, 1), true);
    if (p->op == SG_OP_REPEAT) {
        struct sg_tensor like = {.type = F32};
        memcpy(like.ne, p->to, sizeof like.ne);
        return tbo_node(b, sg_repeat(b->ctx, x, &like));
    }
    if (p->mean) return tbo_node(b, sg_mean(b->ctx, x));
    return tbo_node(b, sg_sum_to(b->ctx, x, p->to));
}

static void add_reduce(struct tbo_case_list *l, unsigned modes, int op, const int64_t ne[SG_MAX_DIMS],
                       const int64_t to[SG_MAX_DIMS], enum tbo_layout lay, bool mean) {
    struct p_reduce p = {.op = op, .l = lay, .mean = mean};
    memcpy(p.ne, ne, sizeof p.ne);
    memcpy(p.to, to, sizeof p.to);
    char s[64], t[64];
    int r =
        tbo_rank(ne, SG_MAX_DIMS) > tbo_rank(to, SG_MAX_DIMS) ? tbo_rank(ne, SG_MAX_DIMS) : tbo_rank(to, SG_MAX_DIMS);
    tbo_add(l, op, modes, build_reduce, &p, sizeof p, "%s(ne=%s,to=%s%s%s)", mean ? "mean" : sg_op_name(op),
            tbo_dims(s, 64, r, ne), tbo_dims(t, 64, r, to), lay ? ",x=" : "", lay ? tbo_layout_names[lay] : "");
}

static void cases_reduce(struct tbo_case_list *l) {
    static const struct {
        int64_t ne[SG_MAX_DIMS], to[SG_MAX_DIMS];
        enum tbo_layout l;
    } sums[] = {
        {{17, 5, 3, 2, 1, 1}, {1, 5, 3, 2, 1, 1}, 0}, /* each dim, and combinations */
        {{17, 5, 3, 2, 1, 1}, {17, 1, 3, 2, 1, 1}, 0},
        {{17, 5, 3, 2, 1, 1}, {17, 5, 1, 2, 1, 1}, 0},
        {{17, 5, 3, 2, 1, 1}, {17, 5, 3, 1, 1, 1}, 0},
        {{17, 5, 3, 2, 1, 1}, {1, 5, 1, 2, 1, 1}, 0},
        {{17, 5, 3, 2, 1, 1}, {1, 1, 1, 1, 1, 1}, 0},
        {{17, 5, 3, 2, 1, 1}, {17, 5, 3, 2, 1, 1}, 0},    /* nothing to sum: a copy */
        {{65537, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1}, 0},  /* one long reduction */
        {{3, 100003, 1, 1, 1, 1}, {3, 1, 1, 1, 1, 1}, 0}, /* long and strided */
        {{4099, 3, 5, 1, 1, 1}, {4099, 1, 1, 1, 1, 1}, 0},
        {{4099, 33, 1, 1, 1, 1}, {1, 33, 1, 1, 1, 1}, 0},
        {{4099, 33, 1, 1, 1, 1}, {4099, 1, 1, 1, 1, 1}, 0}, /* bias gradient: sum over rows */
        {{3, 2, 2, 2, 2, 3}, {3, 1, 2, 1, 2, 1}, 0},
        {{33, 17, 1, 1, 1, 1}, {1, 17, 1, 1, 1, 1}, TBO_TRANS},
        {{33, 17, 1, 1, 1, 1}, {33, 1, 1, 1, 1, 1}, TBO_TRANS},
        {{5, 4, 3, 1, 1, 1}, {5, 1, 1, 1, 1, 1}, TBO_PERM},
        {{17, 5, 3, 1, 1, 1}, {1, 5, 3, 1, 1, 1}, TBO_STRIDED},
    };
    for (size_t i = 0; i < sizeof sums / sizeof sums[0]; i++)
        add_reduce(l, TBO_TEST, SG_OP_SUM_TO, sums[i].ne, sums[i].to, sums[i].l, false);
    add_reduce(l, TBO_TEST, SG_OP_SUM_TO, (int64_t[]){129, 7, 1, 1, 1, 1}, (int64_t[]){1, 1, 1, 1, 1, 1}, 0, true);

    static const struct {
        int64_t ne[SG_MAX_DIMS], to[SG_MAX_DIMS];
        enum tbo_layout l;
    } reps[] = {
        {{1, 5, 1, 2, 1, 1}, {17, 5, 3, 2, 1, 1}, 0},          {{17, 1, 3, 1, 1, 1}, {17, 5, 3, 2, 1, 1}, 0},
        {{1, 1, 1, 1, 1, 1}, {33, 17, 1, 1, 1, 1}, 0},         {{4099, 1, 1, 1, 1, 1}, {4099, 9, 1, 1, 1, 1}, 0},
        {{3, 1, 2, 1, 2, 1}, {3, 2, 2, 2, 2, 3}, 0},           {{17, 5, 1, 1, 1, 1}, {17, 5, 3, 1, 1, 1}, TBO_TRANS},
        {{5, 4, 1, 1, 1, 1}, {5, 4, 3, 2, 1, 1}, TBO_STRIDED},
    };
    for (size_t i = 0; i < sizeof reps / sizeof reps[0]; i++)
        add_reduce(l, TBO_TEST, SG_OP_REPEAT, reps[i].ne, reps[i].to, reps[i].l, false);

    add_reduce(l, TBO_GRAD, SG_OP_SUM_TO, (int64_t[]){5, 4, 3, 1, 1, 1}, (int64_t[]){1, 4, 1, 1, 1, 1}, 0, false);
    add_reduce(l, TBO_GRAD, SG_OP_SUM_TO, (int64_t[]){5, 4, 3, 1, 1, 1}, (int64_t[]){1, 1, 1, 1, 1, 1}, TBO_PERM,
               false);
    add_reduce(l, TBO_GRAD, SG_OP_REPEAT, (int64_t[]){1, 4, 1, 1, 1, 1}, (int64_t[]){5, 4, 3, 1, 1, 1}, 0, false);
    add_reduce(l, TBO_GRAD, SG_OP_REPEAT, (int64_t[]){4, 1, 1, 1, 1, 1}, (int64_t[]){4, 6, 1, 1, 1, 1}, TBO_TRANS,
               false);

    add_reduce(l, TBO_PERF, SG_OP_SUM_TO, (int64_t[]){512, 65536, 1, 1, 1, 1}, (int64_t[]){512, 1, 1, 1, 1, 1}, 0,
               false);
    add_reduce(l, TBO_PERF, SG_OP_SUM_TO, (int64_t[]){512, 65536, 1, 1, 1, 1}, (int64_t[]){1, 65536, 1, 1, 1, 1}, 0,
               false);
    add_reduce(l, TBO_PERF, SG_OP_REPEAT, (int64_t[]){512, 1, 1, 1, 1, 1}, (int64_t[]){512, 65536, 1, 1, 1, 1}, 0,
               false);
}

/* ---- cont (copies and casts) and cpy ------------------------------------------------------ */

struct p_copy {
    int op;                      /* CONT or CPY */
    int64_t ne[SG_MAX_DIMS];     /* source shape */
    int64_t dst_ne[SG_MAX_DIMS]; /* cpy: the target's shape (same element count) */
    enum sg_type src, dst;
    enum tbo_layout ls, ld; /* source layout; cpy: the layout of the view written */
    bool special;           /* f16/bf16 edge values */
};

static struct tbo_fill copy_fill(const struct p_copy *p) {
    if (p->src == I32) return tbo_index(-100000, 100000);
    return p->special ? tbo_fill_of(TBO_FILL_SPECIAL, -2, 2) : tbo_uniform(-2, 2);
}

static struct sg_tensor *build_copy(struct tbo_builder *b, const void *pp) {
    const struct p_copy *p = pp;
    struct sg_tensor *x    = tbo_input_view(b, p->src, SG_MAX_DIMS, p->ne, p->ls, copy_fill(p), true);
    if (p->op == SG_OP_CONT) return tbo_node(b, p->dst == p->src ? sg_cont(b->ctx, x) : sg_cast(b->ctx, x, p->dst));
    struct tbo_fill ft       = p->dst == I32 ? tbo_index(-5, 5) : tbo_uniform(-1, 1);
    struct sg_tensor *target = tbo_input_view(b, p->dst, SG_MAX_DIMS, p->dst_ne, p->ld, ft, false);
    if (!target) return NULL;
    sg_set_output(target->view_src ? target->view_src : target); /* written in place: compared */
    return tbo_node(b, sg_cpy(b->ctx, x, target));
}

static void add_copy(struct tbo_case_list *l, unsigned modes, int op, const int64_t ne[SG_MAX_DIMS],
                     const int64_t dst_ne[SG_MAX_DIMS], enum sg_type src, enum sg_type dst, enum tbo_layout ls,
                     enum tbo_layout ld, bool special) {
    struct p_copy p = {.op = op, .src = src, .dst = dst, .ls = ls, .ld = ld, .special = special};
    memcpy(p.ne, ne, sizeof p.ne);
    memcpy(p.dst_ne, dst_ne ? dst_ne : ne, sizeof p.dst_ne);
    char s[64], t[64] = "";
    if (op == SG_OP_CPY) {
        char d[48];
        snprintf(t, sizeof t, ",dst=%s", tbo_dims(d, sizeof d, tbo_rank(p.dst_ne, SG_MAX_DIMS), p.dst_ne));
    }
    struct tbo_case *c = tbo_add(l, op, modes, build_copy, &p, sizeof p, "%s(ne=%s%s,%s->%s%s%s%s%s%s)", sg_op_name(op),
                                 tbo_dims(s, 64, tbo_rank(ne, SG_MAX_DIMS), ne), t, sg_type_name(src),
                                 sg_type_name(dst), ls ? ",src=" : "", ls ? tbo_layout_names[ls] : "",
                                 ld ? ",dst_view=" : "", ld ? tbo_layout_names[ld] : "", special ? ",special" : "");
    c->cmp             = TBO_CMP_EXACT; /* conversions round to nearest even: every backend gets the same bits */
}

static void cases_copy(struct tbo_case_list *l) {
    const int64_t a[SG_MAX_DIMS] = {33, 17, 1, 1, 1, 1}, r4[SG_MAX_DIMS] = {5, 4, 3, 2, 1, 1};
    const int64_t r6[SG_MAX_DIMS] = {3, 2, 4, 1, 2, 2}, big[SG_MAX_DIMS] = {4099, 33, 1, 1, 1, 1};
    const int64_t one[SG_MAX_DIMS] = {1, 1, 1, 1, 1, 1};
    add_copy(l, TBO_TEST, SG_OP_CONT, one, NULL, F32, F32, 0, 0, false);
    add_copy(l, TBO_TEST, SG_OP_CONT, a, NULL, F32, F32, TBO_TRANS, 0, false);
    add_copy(l, TBO_TEST, SG_OP_CONT, r4, NULL, F32, F32, TBO_PERM, 0, false);
    add_copy(l, TBO_TEST, SG_OP_CONT, r6, NULL, F32, F32, TBO_PERM, 0, false);
    add_copy(l, TBO_TEST, SG_OP_CONT, a, NULL, F32, F32, TBO_STRIDED, 0, false);
    add_copy(l, TBO_TEST, SG_OP_CONT, big, NULL, F32, F32, TBO_TRANS, 0, false);
    add_copy(l, TBO_TEST, SG_OP_CONT, a, NULL, I32, I32, TBO_TRANS, 0, false);
    add_copy(l, TBO_TEST, SG_OP_CONT, a, NULL, F16, F16, TBO_TRANS, 0, false);
    static const enum sg_type casts[][2] = {{F32, F16}, {F32, BF16}, {F16, F32}, {BF16, F32}, {F16, BF16}, {BF16, F16}};
    for (size_t i = 0; i < sizeof casts / sizeof casts[0]; i++) {
        add_copy(l, TBO_TEST, SG_OP_CONT, (int64_t[]){129, 3, 1, 1, 1, 1}, NULL, casts[i][0], casts[i][1], 0, 0, false);
        add_copy(l, TBO_TEST, SG_OP_CONT, a, NULL, casts[i][0], casts[i][1], TBO_TRANS, 0, false);
        add_copy(l, TBO_TEST, SG_OP_CONT, r4, NULL, casts[i][0], casts[i][1], TBO_PERM, 0, false);
        add_copy(l, TBO_TEST, SG_OP_CONT, (int64_t[]){64, 1, 1, 1, 1, 1}, NULL, casts[i][0], casts[i][1], 0, 0, true);
    }

    const int64_t m[SG_MAX_DIMS] = {17, 5, 1, 1, 1, 1};
    add_copy(l, TBO_TEST, SG_OP_CPY, m, NULL, F32, F32, 0, 0, false);
    add_copy(l, TBO_TEST, SG_OP_CPY, a, NULL, F32, F32, TBO_TRANS, 0, false);
    add_copy(l, TBO_TEST, SG_OP_CPY, a, NULL, F32, F32, 0, TBO_TRANS, false); /* strided writes */
    add_copy(l, TBO_TEST, SG_OP_CPY, r4, NULL, F32, F32, 0, TBO_PERM, false);
    add_copy(l, TBO_TEST, SG_OP_CPY, m, NULL, F32, F32, 0, TBO_STRIDED, false); /* a slice: the rest stays */
    add_copy(l, TBO_TEST, SG_OP_CPY, (int64_t[]){6, 4, 1, 1, 1, 1}, (int64_t[]){24, 1, 1, 1, 1, 1}, F32, F32, 0, 0,
             false);
    add_copy(l, TBO_TEST, SG_OP_CPY, (int64_t[]){6, 4, 1, 1, 1, 1}, (int64_t[]){4, 3, 2, 1, 1, 1}, F32, F32, TBO_TRANS,
             0, false);
    add_copy(l, TBO_TEST, SG_OP_CPY, m, NULL, F32, F16, 0, 0, false);
    add_copy(l, TBO_TEST, SG_OP_CPY, a, NULL, F32, BF16, 0, TBO_TRANS, false);
    add_copy(l, TBO_TEST, SG_OP_CPY, m, NULL, F16, F32, TBO_TRANS, 0, false);
    add_copy(l, TBO_TEST, SG_OP_CPY, m, NULL, BF16, F32, 0, TBO_STRIDED, false);
    add_copy(l, TBO_TEST, SG_OP_CPY, m, NULL, I32, I32, TBO_TRANS, 0, false);
    add_copy(l, TBO_TEST, SG_OP_CPY, (int64_t[]){64, 1, 1, 1, 1, 1}, NULL, F32, F16, 0, 0, true);

    add_copy(l, TBO_GRAD, SG_OP_CONT, (int64_t[]){5, 4, 1, 1, 1, 1}, NULL, F32, F32, TBO_TRANS, 0, false);
    add_copy(l, TBO_GRAD, SG_OP_CONT, (int64_t[]){4, 3, 2, 1, 1, 1}, NULL, F32, F32, TBO_PERM, 0, false);
    add_copy(l, TBO_GRAD, SG_OP_CPY, (int64_t[]){5, 4, 1, 1, 1, 1}, NULL, F32, F32, TBO_TRANS, 0, false);
    add_copy(l, TBO_GRAD, SG_OP_CPY, (int64_t[]){5, 4, 1, 1, 1, 1}, (int64_t[]){20, 1, 1, 1, 1, 1}, F32, F32, 0, 0,
             false);

    add_copy(l, TBO_PERF, SG_OP_CONT, (int64_t[]){4096, 4096, 1, 1, 1, 1}, NULL, F32, F32, TBO_TRANS, 0, false);
    add_copy(l, TBO_PERF, SG_OP_CONT, (int64_t[]){512, 16384, 1, 1, 1, 1}, NULL, F32, BF16, 0, 0, false);
    add_copy(l, TBO_PERF, SG_OP_CONT, (int64_t[]){512, 16384, 1, 1, 1, 1}, NULL, BF16, F32, 0, 0, false);
    add_copy(l, TBO_PERF, SG_OP_CPY, (int64_t[]){512, 16384, 1, 1, 1, 1}, NULL, F32, F32, 0, 0, false);
}

void tbo_cases_elementwise(struct tbo_case_list *l) {
    cases_binary(l);
    cases_unary(l);
    cases_act_back(l);
    cases_reduce(l);
    cases_copy(l);
}
