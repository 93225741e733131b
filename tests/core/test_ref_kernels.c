/* The CPU reference kernels (the oracle every backend is tested against) against PyTorch.
 *
 * Inputs and expected outputs come from tests/core/fixtures/ref_ops.bin, written by the
 * committed script tests/core/gen_ref_fixtures.py with PyTorch (float64 math on float32 inputs).
 * Each test builds one op with the public constructors, allocates on the CPU device and calls
 * the reference kernel directly (no scheduler), then compares element by element.
 *
 * Tolerances. Both sides compute in double from the same f32 inputs and round once to f32, but
 * with different libm functions and summation orders they may land on neighbouring f32 values:
 * TOL_RTOL allows a few f32 ulps (2^-23 = 1.2e-7), TOL_ATOL a tiny absolute slack for sums that
 * cancel to near zero. Copies, casts and index ops must be exact. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu_kernels.h"
#include "core/backend.h"
#include "core/context.h"
#include "core/ops.h"
#include "core/tensor.h"
#include "core/types.h"

#define FIXTURES "tests/core/fixtures/ref_ops.bin"

#define TOL_RTOL 4e-7
#define TOL_ATOL 1e-9

static int n_failed;
static int n_passed;

/* ---- fixtures ------------------------------------------------------------------------------ */

struct fixture {
    char name[64];
    int type; /* SG_TYPE_F32 or SG_TYPE_I32 */
    int64_t ne[SG_MAX_DIMS];
    int64_t n;
    void *data; /* n elements of 4 bytes, aligned */
};

static struct fixture *fixtures;
static int n_fixtures;

static bool read_exact(FILE *f, void *p, size_t n) { return fread(p, 1, n, f) == n; }

static bool fixtures_load(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s (run from the source tree)\n", path);
        return false;
    }
    char magic[4];
    uint32_t version, count;
    bool ok = read_exact(f, magic, 4) && memcmp(magic, "SGFX", 4) == 0 && read_exact(f, &version, 4) && version == 1 &&
              read_exact(f, &count, 4);
    if (ok) fixtures = calloc(count, sizeof *fixtures);
    for (uint32_t i = 0; ok && i < count; i++) {
        struct fixture *fx = &fixtures[i];
        uint32_t len, type, n_dims;
        ok = read_exact(f, &len, 4) && len < sizeof fx->name && read_exact(f, fx->name, len) &&
             read_exact(f, &type, 4) && read_exact(f, &n_dims, 4) && n_dims >= 1 && n_dims <= SG_MAX_DIMS;
        if (!ok) break;
        fx->type = (int)type;
        fx->n    = 1;
        for (int d = 0; d < SG_MAX_DIMS; d++) {
            fx->ne[d] = 1;
            if ((uint32_t)d < n_dims) ok = ok && read_exact(f, &fx->ne[d], 8);
            fx->n *= fx->ne[d];
        }
        fx->data   = malloc((size_t)fx->n * 4);
        ok         = ok && fx->data && read_exact(f, fx->data, (size_t)fx->n * 4);
        n_fixtures = (int)i + 1;
    }
    fclose(f);
    if (!ok) fprintf(stderr, "%s: truncated or not a fixture file (regenerate with gen_ref_fixtures.py)\n", path);
    return ok;
}

static const struct fixture *fixture(const char *name) {
    for (int i = 0; i < n_fixtures; i++)
        if (strcmp(fixtures[i].name, name) == 0) return &fixtures[i];
    fprintf(stderr, "fixture '%s' missing from %s: regenerate it with gen_ref_fixtures.py\n", name, FIXTURES);
    exit(1);
}

static float fixture_scalar(const char *name) { return ((const float *)fixture(name)->data)[0]; }

/* ---- one test case: context, inputs, allocation, comparison ------------------------------- */

#define MAX_INPUTS 16

struct tcase {
    const char *name;
    struct sg_ctx *ctx;
    struct sg_buffer_list bufs;
    int n_in;
    struct sg_tensor *in[MAX_INPUTS];
    const struct fixture *in_fx[MAX_INPUTS];
    bool failed;
};

static void tc_begin(struct tcase *tc, const char *name) {
    memset(tc, 0, sizeof *tc);
    tc->name = name;
    tc->ctx  = sg_ctx_new();
}

static void tc_fail(struct tcase *tc, const char *msg) {
    printf("FAIL %-34s %s\n", tc->name, msg);
    tc->failed = true;
}

/* A contiguous input tensor with the fixture's shape, stored as `type` (F32 fixtures may be
 * stored as F16 or BF16: the generator rounds those values so the conversion is exact). */
static struct sg_tensor *tc_input(struct tcase *tc, const char *fx_name, enum sg_type type) {
    const struct fixture *fx = fixture(fx_name);
    struct sg_tensor *t      = sg_new_tensor(tc->ctx, type, SG_MAX_DIMS, fx->ne);
    if (t && tc->n_in < MAX_INPUTS) {
        sg_set_name(t, "%s", fx_name);
        tc->in[tc->n_in]      = t;
        tc->in_fx[tc->n_in++] = fx;
    }
    return t;
}

/* An empty tensor (a copy target), zero-filled once allocated. */
static struct sg_tensor *tc_new(struct tcase *tc, enum sg_type type, int n_dims, const int64_t *ne) {
    return sg_new_tensor(tc->ctx, type, n_dims, ne);
}

/* Checks the graph was built, allocates every tensor of the context and uploads the inputs. */
static bool tc_ready(struct tcase *tc, const struct sg_tensor *node) {
    char msg[512];
    if (!node || sg_ctx_status(tc->ctx) != SG_OK) {
        snprintf(msg, sizeof msg, "building the op failed: %s", sg_ctx_error(tc->ctx));
        tc_fail(tc, msg);
        return false;
    }
    if (sg_alloc_ctx_tensors(tc->ctx, sg_device_buffer_type(sg_device_cpu()), &tc->bufs) != SG_OK) {
        snprintf(msg, sizeof msg, "allocation failed: %s", sg_last_error());
        tc_fail(tc, msg);
        return false;
    }
    for (int i = 0; i < sg_ctx_n_tensors(tc->ctx); i++) {
        struct sg_tensor *t = sg_ctx_tensor(tc->ctx, i);
        if (!t->data) {
            snprintf(msg, sizeof msg, "tensor %d '%s' has no data after sg_alloc_ctx_tensors", i, t->name);
            tc_fail(tc, msg);
            return false;
        }
        if (!t->view_src) sg_tensor_memset(t, 0);
    }
    for (int i = 0; i < tc->n_in; i++) {
        struct sg_tensor *t      = tc->in[i];
        const struct fixture *fx = tc->in_fx[i];
        size_t esize             = sg_type_size(t->type);
        unsigned char *buf       = malloc((size_t)fx->n * esize);
        for (int64_t j = 0; j < fx->n; j++) {
            const void *src = (const char *)fx->data + j * 4;
            float x;
            memcpy(&x, src, 4);
            switch (t->type) {
            case SG_TYPE_F16: {
                uint16_t h = sg_f32_to_f16(x);
                memcpy(buf + j * 2, &h, 2);
                break;
            }
            case SG_TYPE_BF16: {
                uint16_t h = sg_f32_to_bf16(x);
                memcpy(buf + j * 2, &h, 2);
                break;
            }
            default: memcpy(buf + j * 4, src, 4); break; /* F32 from f32, I32 from i32 */
            }
        }
        sg_status st = sg_tensor_set(t, buf, 0, (size_t)fx->n * esize);
        free(buf);
        if (st != SG_OK) {
            snprintf(msg, sizeof msg, "uploading '%s' failed: %s", t->name, sg_last_error());
            tc_fail(tc, msg);
            return false;
        }
    }
    return true;
}

static void tc_run(struct tcase *tc, struct sg_tensor *node) {
    sg_ref_kernel_fn fn = sg_ref_kernels[node->op];
    if (!fn) {
        tc_fail(tc, "no reference kernel for this op");
        return;
    }
    fn(node);
}

/* The elements of t in logical order (dim 0 fastest), read through its strides, as doubles. */
static double *tensor_values(const struct sg_tensor *t) {
    size_t nbytes      = sg_nbytes(t);
    unsigned char *raw = malloc(nbytes ? nbytes : 1);
    double *vals       = malloc((size_t)sg_nelements(t) * sizeof *vals);
    sg_tensor_get(t, raw, 0, nbytes);
    int64_t i[SG_MAX_DIMS] = {0};
    for (int64_t n = 0; n < sg_nelements(t); n++) {
        size_t off = 0;
        for (int d = 0; d < SG_MAX_DIMS; d++) off += (size_t)i[d] * t->nb[d];
        const unsigned char *p = raw + off;
        uint16_t h;
        float f;
        int32_t k;
        switch (t->type) {
        case SG_TYPE_F16:
            memcpy(&h, p, 2);
            vals[n] = sg_f16_to_f32(h);
            break;
        case SG_TYPE_BF16:
            memcpy(&h, p, 2);
            vals[n] = sg_bf16_to_f32(h);
            break;
        case SG_TYPE_I32:
            memcpy(&k, p, 4);
            vals[n] = k;
            break;
        default:
            memcpy(&f, p, 4);
            vals[n] = f;
            break;
        }
        for (int d = 0; d < SG_MAX_DIMS && ++i[d] == t->ne[d]; d++) i[d] = 0;
    }
    free(raw);
    return vals;
}

/* Compares t with a fixture in flattened logical order: |got - want| <= atol + rtol |want|. */
static void tc_expect(struct tcase *tc, const struct sg_tensor *t, const char *fx_name, double atol, double rtol) {
    if (tc->failed) return;
    const struct fixture *fx = fixture(fx_name);
    char msg[512];
    if (sg_nelements(t) != fx->n) {
        snprintf(msg, sizeof msg, "%s: %lld elements, expected %lld", fx_name, (long long)sg_nelements(t),
                 (long long)fx->n);
        tc_fail(tc, msg);
        return;
    }
    double *got    = tensor_values(t);
    double max_abs = 0.0, max_rel = 0.0;
    int64_t n_bad = 0, first_bad = -1;
    for (int64_t j = 0; j < fx->n; j++) {
        double want;
        if (fx->type == SG_TYPE_I32) {
            int32_t k;
            memcpy(&k, (const char *)fx->data + j * 4, 4);
            want = k;
        } else {
            float f;
            memcpy(&f, (const char *)fx->data + j * 4, 4);
            want = f;
        }
        double err = (got[j] == want || (isnan(got[j]) && isnan(want))) ? 0.0 : fabs(got[j] - want);
        if (isnan(err)) err = INFINITY; /* NaN on one side only, or infinities of opposite sign */
        if (err > max_abs) max_abs = err;
        if (want != 0.0 && err / fabs(want) > max_rel) max_rel = err / fabs(want);
        if (err > atol + rtol * fabs(want)) {
            if (first_bad < 0) first_bad = j;
            n_bad++;
        }
    }
    if (n_bad) {
        double want_bad;
        if (fx->type == SG_TYPE_I32) {
            int32_t k;
            memcpy(&k, (const char *)fx->data + first_bad * 4, 4);
            want_bad = k;
        } else {
            float f;
            memcpy(&f, (const char *)fx->data + first_bad * 4, 4);
            want_bad = f;
        }
        snprintf(msg, sizeof msg, "%s: %lld of %lld elements off (first at %lld: got %.9g, want %.9g); max abs %.3g",
                 fx_name, (long long)n_bad, (long long)fx->n, (long long)first_bad, got[first_bad], want_bad, max_abs);
        tc_fail(tc, msg);
    } else {
        printf("ok   %-34s %-26s n=%-5lld max abs %.2e  max rel %.2e\n", tc->name, fx_name, (long long)fx->n, max_abs,
               max_rel);
    }
    free(got);
}

static void tc_end(struct tcase *tc) {
    if (tc->failed)
        n_failed++;
    else
        n_passed++;
    sg_buffer_list_free(&tc->bufs);
    sg_ctx_free(tc->ctx);
}

/* ---- copies and casts ------------------------------------------------------------------- */

static void test_cont_reads_a_transposed_view(void) {
    struct tcase tc;
    tc_begin(&tc, "cont(transpose(x))");
    struct sg_tensor *x = tc_input(&tc, "copy.x", SG_TYPE_F32);
    struct sg_tensor *y = sg_cont(tc.ctx, sg_transpose(tc.ctx, x));
    if (tc_ready(&tc, y)) {
        tc_run(&tc, y);
        tc_expect(&tc, y, "copy.xt", 0, 0);
    }
    tc_end(&tc);
}

/* Casts round to nearest even like torch, including overflow to inf and subnormals. */
static void test_cast_rounds_like_torch(enum sg_type type, const char *want) {
    struct tcase tc;
    tc_begin(&tc, type == SG_TYPE_F16 ? "cast f32 -> f16" : "cast f32 -> bf16");
    struct sg_tensor *x = tc_input(&tc, "copy.x", SG_TYPE_F32);
    struct sg_tensor *y = sg_cast(tc.ctx, x, type);
    if (tc_ready(&tc, y)) {
        tc_run(&tc, y);
        tc_expect(&tc, y, want, 0, 0);
    }
    tc_end(&tc);
}

/* cpy flattens: a [6, 4] source fills a [24] target of another type. */
static void test_cpy_converts_into_a_flat_target(void) {
    struct tcase tc;
    tc_begin(&tc, "cpy f32 [6,4] -> f16 [24]");
    struct sg_tensor *x      = tc_input(&tc, "copy.x", SG_TYPE_F32);
    struct sg_tensor *target = tc_new(&tc, SG_TYPE_F16, 1, (int64_t[]){24});
    struct sg_tensor *y      = sg_cpy(tc.ctx, x, target);
    if (tc_ready(&tc, y)) {
        tc_run(&tc, y);
        tc_expect(&tc, target, "copy.x_f16", 0, 0);
    }
    tc_end(&tc);
}

/* Writing through a transposed view of the target lays the data out transposed. */
static void test_cpy_writes_through_a_strided_view(void) {
    struct tcase tc;
    tc_begin(&tc, "cpy into transpose(target)");
    struct sg_tensor *x      = tc_input(&tc, "copy.x_f16", SG_TYPE_F16);
    struct sg_tensor *target = tc_new(&tc, SG_TYPE_F32, 2, (int64_t[]){4, 6});
    struct sg_tensor *y      = sg_cpy(tc.ctx, x, sg_transpose(tc.ctx, target));
    if (tc_ready(&tc, y)) {
        tc_run(&tc, y);
        tc_expect(&tc, y, "copy.x_f16", 0, 0);
        tc_expect(&tc, target, "copy.xt_f16", 0, 0); /* in its own order the target holds x^T */
    }
    tc_end(&tc);
}

/* A target view with gaps between its rows: the gaps must keep their zeros. */
static void test_cpy_leaves_gaps_of_a_view_untouched(void) {
    struct tcase tc;
    tc_begin(&tc, "cpy into a [6,4] window of [8,4]");
    struct sg_tensor *x      = tc_input(&tc, "copy.x", SG_TYPE_F32);
    struct sg_tensor *target = tc_new(&tc, SG_TYPE_F32, 2, (int64_t[]){8, 4});
    struct sg_tensor *window = sg_view_2d(tc.ctx, target, 6, 4, target ? target->nb[1] : 0, sizeof(float));
    struct sg_tensor *y      = sg_cpy(tc.ctx, x, window);
    if (tc_ready(&tc, y)) {
        tc_run(&tc, y);
        tc_expect(&tc, target, "copy.x_framed", 0, 0);
    }
    tc_end(&tc);
}

static void test_cpy_copies_i32_exactly(void) {
    struct tcase tc;
    tc_begin(&tc, "cpy i32 [5,3] -> i32 [15]");
    struct sg_tensor *ids    = tc_input(&tc, "copy.ids", SG_TYPE_I32);
    struct sg_tensor *target = tc_new(&tc, SG_TYPE_I32, 1, (int64_t[]){15});
    struct sg_tensor *y      = sg_cpy(tc.ctx, ids, target);
    if (tc_ready(&tc, y)) {
        tc_run(&tc, y);
        tc_expect(&tc, target, "copy.ids", 0, 0);
    }
    tc_end(&tc);
}

/* ---- elementwise, unary, reductions ---------------------------------------------------- */

static void test_binary_ops_broadcast(void) {
    static const struct {
        const char *name, *b, *want;
        int op;
    } cases[] = {
        {"add [5,1,3] + [1,4,3]", "binary.b", "binary.add", SG_OP_ADD},
        {"sub [5,1,3] - [1,4,3]", "binary.b", "binary.sub", SG_OP_SUB},
        {"mul [5,1,3] * [1,4,3]", "binary.b", "binary.mul", SG_OP_MUL},
        {"div [5,1,3] / [1,4,3]", "binary.b_div", "binary.div", SG_OP_DIV},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct tcase tc;
        tc_begin(&tc, cases[c].name);
        struct sg_tensor *a = tc_input(&tc, "binary.a", SG_TYPE_F32);
        struct sg_tensor *b = tc_input(&tc, cases[c].b, SG_TYPE_F32);
        struct sg_tensor *y = cases[c].op == SG_OP_ADD   ? sg_add(tc.ctx, a, b)
                              : cases[c].op == SG_OP_SUB ? sg_sub(tc.ctx, a, b)
                              : cases[c].op == SG_OP_MUL ? sg_mul(tc.ctx, a, b)
                                                         : sg_div(tc.ctx, a, b);
        if (tc_ready(&tc, y)) {
            tc_run(&tc, y);
            tc_expect(&tc, y, cases[c].want, 0, 0); /* one correctly rounded f32 operation */
        }
        tc_end(&tc);
    }
}

static void test_sum_to_and_repeat(void) {
    static const struct {
        const char *name, *want;
        int64_t ne[SG_MAX_DIMS];
    } cases[] = {
        {"sum_to [6,5,4] -> [6,1,1]", "sum_to.rows", {6, 1, 1, 1, 1, 1}},
        {"sum_to [6,5,4] -> [6,1,4]", "sum_to.mid", {6, 1, 4, 1, 1, 1}},
        {"sum_to [6,5,4] -> [1]", "sum_to.all", {1, 1, 1, 1, 1, 1}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct tcase tc;
        tc_begin(&tc, cases[c].name);
        struct sg_tensor *x = tc_input(&tc, "sum_to.x", SG_TYPE_F32);
        struct sg_tensor *y = sg_sum_to(tc.ctx, x, cases[c].ne);
        if (tc_ready(&tc, y)) {
            tc_run(&tc, y);
            tc_expect(&tc, y, cases[c].want, TOL_ATOL, TOL_RTOL);
        }
        tc_end(&tc);
    }

    struct tcase tc;
    tc_begin(&tc, "repeat [1,5,1] -> [6,5,4]");
    struct sg_tensor *r    = tc_input(&tc, "repeat.x", SG_TYPE_F32);
    struct sg_tensor *like = tc_input(&tc, "sum_to.x", SG_TYPE_F32);
    struct sg_tensor *y    = sg_repeat(tc.ctx, r, like);
    if (tc_ready(&tc, y)) {
        tc_run(&tc, y);
        tc_expect(&tc, y, "repeat.out", 0, 0);
    }
    tc_end(&tc);
}

static void test_unary_ops_match_torch(void) {
    static const char *names[] = {"gelu", "sigmoid", "tanh", "relu", "leaky_relu", "clamp", "sqr", "sqrt", "scale"};
    for (size_t c = 0; c < sizeof names / sizeof names[0]; c++) {
        char name[64], want[64];
        snprintf(name, sizeof name, "unary %s", names[c]);
        snprintf(want, sizeof want, "unary.%s", names[c]);
        struct tcase tc;
        tc_begin(&tc, name);
        struct sg_tensor *x = tc_input(&tc, strcmp(names[c], "sqrt") == 0 ? "unary.x_abs" : "unary.x", SG_TYPE_F32);
        struct sg_tensor *y = NULL;
        switch (c) {
        case 0: y = sg_gelu(tc.ctx, x); break;
        case 1: y = sg_sigmoid(tc.ctx, x); break;
        case 2: y = sg_tanh(tc.ctx, x); break;
        case 3: y = sg_relu(tc.ctx, x); break;
        case 4: y = sg_leaky_relu(tc.ctx, x, 0.1f); break;
        case 5: y = sg_clamp(tc.ctx, x, -0.5f, 0.5f); break;
        case 6: y = sg_sqr(tc.ctx, x); break;
        case 7: y = sg_sqrt(tc.ctx, x); break;
        case 8: y = sg_scale_bias(tc.ctx, x, 1.75f, -0.3f); break;
        }
        if (tc_ready(&tc, y)) {
            tc_run(&tc, y);
            tc_expect(&tc, y, want, TOL_ATOL, TOL_RTOL);
        }
        tc_end(&tc);
    }
}

/* Gradients at the kinks (x = 0, x = clamp bounds) follow PyTorch's conventions. */
static void test_act_back_matches_autograd(void) {
    static const struct {
        const char *name;
        enum sg_act act;
    } cases[] = {
        {"relu", SG_ACT_RELU},
        {"leaky_relu", SG_ACT_LEAKY_RELU},
        {"gelu", SG_ACT_GELU},
        {"clamp", SG_ACT_CLAMP},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char name[64], want[64];
        snprintf(name, sizeof name, "act_back %s", cases[c].name);
        snprintf(want, sizeof want, "act_back.%s", cases[c].name);
        struct tcase tc;
        tc_begin(&tc, name);
        struct sg_tensor *x  = tc_input(&tc, "unary.x", SG_TYPE_F32);
        struct sg_tensor *dy = tc_input(&tc, "act_back.dy", SG_TYPE_F32);
        struct sg_tensor *y  = sg_act_back(tc.ctx, cases[c].act, x, dy, 0.1f, -0.5f, 0.5f);
        if (tc_ready(&tc, y)) {
            tc_run(&tc, y);
            tc_expect(&tc, y, want, TOL_ATOL, TOL_RTOL);
        }
        tc_end(&tc);
    }
}

/* ---- matmul ------------------------------------------------------------------------------- */

static void test_matmul_broadcasts_batch_dims(void) {
    struct tcase tc;
    tc_begin(&tc, "matmul [7,5,3,1] @ [6,7,1,2]");
    struct sg_tensor *a = tc_input(&tc, "matmul_bcast.a", SG_TYPE_F32);
    struct sg_tensor *b = tc_input(&tc, "matmul_bcast.b", SG_TYPE_F32);
    struct sg_tensor *y = sg_matmul(tc.ctx, a, b);
    if (tc_ready(&tc, y)) {
        tc_run(&tc, y);
        tc_expect(&tc, y, "matmul_bcast.out", TOL_ATOL, TOL_RTOL);
    }
    tc_end(&tc);
}

static void test_matmul_reads_transposed_operands(void) {
    struct tcase tc;
    tc_begin(&tc, "matmul at^T @ bt^T");
    struct sg_tensor *at = tc_input(&tc, "matmul_trans.at", SG_TYPE_F32);
    struct sg_tensor *bt = tc_input(&tc, "matmul_trans.bt", SG_TYPE_F32);
    struct sg_tensor *y  = sg_matmul(tc.ctx, sg_transpose(tc.ctx, at), sg_transpose(tc.ctx, bt));
    if (tc_ready(&tc, y)) {
        tc_run(&tc, y);
        tc_expect(&tc, y, "matmul_trans.out", TOL_ATOL, TOL_RTOL);
    }
    tc_end(&tc);
}

static void test_matmul_half_operand(enum sg_type type) {
    const bool f16 = type == SG_TYPE_F16;
    struct tcase tc;
    tc_begin(&tc, f16 ? "matmul f16 a" : "matmul bf16 a");
    struct sg_tensor *a = tc_input(&tc, f16 ? "matmul_half.a_f16" : "matmul_half.a_bf16", type);
    struct sg_tensor *b = tc_input(&tc, "matmul_half.b", SG_TYPE_F32);
    struct sg_tensor *y = sg_matmul(tc.ctx, a, b);
    if (tc_ready(&tc, y)) {
        tc_run(&tc, y);
        tc_expect(&tc, y, f16 ? "matmul_half.out_f16" : "matmul_half.out_bf16", TOL_ATOL, TOL_RTOL);
    }
    tc_end(&tc);
}

/* ---- normalisation, softmax -------------------------------------------------------------- */

static void test_layer_norm_strided_input_with_affine(void) {
    struct tcase tc;
    tc_begin(&tc, "layer_norm transpose(xt), w, b");
    struct sg_tensor *xt = tc_input(&tc, "layer_norm.xt", SG_TYPE_F32);
    struct sg_tensor *w  = tc_input(&tc, "layer_norm.w", SG_TYPE_F32);
    struct sg_tensor *b  = tc_input(&tc, "layer_norm.b", SG_TYPE_F32);
    struct sg_tensor *y  = sg_layer_norm(tc.ctx, sg_transpose(tc.ctx, xt), w, b, fixture_scalar("layer_norm.eps"));
    if (tc_ready(&tc, y)) {
        tc_run(&tc, y);
        tc_expect(&tc, y, "layer_norm.out", TOL_ATOL, TOL_RTOL);
    }
    tc_end(&tc);
}

static void test_layer_norm_without_affine(void) {
    struct tcase tc;
    tc_begin(&tc, "layer_norm [8,3,2], no w/b");
    struct sg_tensor *x = tc_input(&tc, "layer_norm.x3", SG_TYPE_F32);
    struct sg_tensor *y = sg_layer_norm(tc.ctx, x, NULL, NULL, fixture_scalar("layer_norm.eps"));
    if (tc_ready(&tc, y)) {
        tc_run(&tc, y);
        tc_expect(&tc, y, "layer_norm.out3", TOL_ATOL, TOL_RTOL);
    }
    tc_end(&tc);
}

static void test_layer_norm_back_matches_autograd(bool with_weight) {
    struct tcase tc;
    tc_begin(&tc, with_weight ? "layer_norm_back with w" : "layer_norm_back no w");
    struct sg_tensor *x  = tc_input(&tc, "layer_norm_back.x", SG_TYPE_F32);
    struct sg_tensor *dy = tc_input(&tc, "layer_norm_back.dy", SG_TYPE_F32);
    struct sg_tensor *w  = with_weight ? tc_input(&tc, "layer_norm_back.w", SG_TYPE_F32) : NULL;
    struct sg_tensor *y  = sg_layer_norm_back(tc.ctx, x, dy, w, fixture_scalar("layer_norm.eps"));
    if (tc_ready(&tc, y)) {
        tc_run(&tc, y);
        tc_expect(&tc, y, with_weight ? "layer_norm_back.dx" : "layer_norm_back.dx_noweight", TOL_ATOL, TOL_RTOL);
    }
    tc_end(&tc);
}

static void test_softmax_is_stable_for_large_logits(void) {
    struct tcase tc;
    tc_begin(&tc, "softmax [10,4]");
    struct sg_tensor *x = tc_input(&tc, "softmax.x", SG_TYPE_F32);
    struct sg_tensor *y = sg_softmax(tc.ctx, x);
    if (tc_ready(&tc, y)) {
        tc_run(&tc, y);
        tc_expect(&tc, y, "softmax.out", TOL_ATOL, TOL_RTOL);
    }
    tc_end(&tc);
}

/* ---- attention ---------------------------------------------------------------------------- */

/* q, k, v as strided views of one fused qkv [3*H*D, S, B] tensor, as a model builds them. */
static void fused_qkv_views(struct tcase *tc, struct sg_tensor *qkv, int64_t H, int64_t D, struct sg_tensor **q,
                            struct sg_tensor **k, struct sg_tensor **v) {
    const int64_t S = qkv->ne[1], B = qkv->ne[2];
    const int64_t ne[4] = {D, H, S, B};
    const size_t nb[4]  = {4, 4 * (size_t)D, qkv->nb[1], qkv->nb[2]};
    *q                  = sg_view(tc->ctx, qkv, 4, ne, nb, 0);
    *k                  = sg_view(tc->ctx, qkv, 4, ne, nb, 4 * (size_t)(H * D));
    *v                  = sg_view(tc->ctx, qkv, 4, ne, nb, 8 * (size_t)(H * D));
}

/* Key padding, SELF (generative) codes, and queries that see no key (zeros), on views. */
static void test_attention_with_key_mask(bool backward) {
    struct tcase tc;
    tc_begin(&tc, backward ? "attention_back, mask, fused qkv" : "attention, mask, fused qkv");
    struct sg_tensor *qkv  = tc_input(&tc, "attn_mask.qkv", SG_TYPE_F32);
    struct sg_tensor *mask = tc_input(&tc, "attn_mask.mask", SG_TYPE_I32);
    struct sg_tensor *dout = backward ? tc_input(&tc, "attn_mask.dout", SG_TYPE_F32) : NULL;
    struct sg_tensor *q, *k, *v;
    fused_qkv_views(&tc, qkv, 2, 8, &q, &k, &v);
    const float scale = fixture_scalar("attn_mask.scale");
    struct sg_tensor *y =
        backward ? sg_attention_back(tc.ctx, q, k, v, mask, dout, scale) : sg_attention(tc.ctx, q, k, v, mask, scale);
    if (tc_ready(&tc, y)) {
        tc_run(&tc, y);
        tc_expect(&tc, y, backward ? "attn_mask.grads" : "attn_mask.out", TOL_ATOL, TOL_RTOL);
    }
    tc_end(&tc);
}

/* No mask, Sk != Sq, Dv != D. */
static void test_attention_without_mask(bool backward) {
    struct tcase tc;
    tc_begin(&tc, backward ? "attention_back, no mask" : "attention, no mask");
    struct sg_tensor *q    = tc_input(&tc, "attn_plain.q", SG_TYPE_F32);
    struct sg_tensor *k    = tc_input(&tc, "attn_plain.k", SG_TYPE_F32);
    struct sg_tensor *v    = tc_input(&tc, "attn_plain.v", SG_TYPE_F32);
    struct sg_tensor *dout = backward ? tc_input(&tc, "attn_plain.dout", SG_TYPE_F32) : NULL;
    const float scale      = fixture_scalar("attn_plain.scale");
    struct sg_tensor *y =
        backward ? sg_attention_back(tc.ctx, q, k, v, NULL, dout, scale) : sg_attention(tc.ctx, q, k, v, NULL, scale);
    if (tc_ready(&tc, y)) {
        tc_run(&tc, y);
        tc_expect(&tc, y, backward ? "attn_plain.grads" : "attn_plain.out", TOL_ATOL, TOL_RTOL);
    }
    tc_end(&tc);
}

/* ---- indexing and sparse codes -------------------------------------------------------------- */

static void test_top_k_orders_ties_by_index(void) {
    struct tcase tc;
    tc_begin(&tc, "top_k k=5 with ties");
    struct sg_tensor *x = tc_input(&tc, "top_k.x", SG_TYPE_F32);
    struct sg_tensor *y = sg_top_k(tc.ctx, x, 5);
    if (tc_ready(&tc, y)) {
        tc_run(&tc, y);
        tc_expect(&tc, y, "top_k.out", 0, 0);
    }
    tc_end(&tc);
}

static void test_get_rows_zeroes_out_of_range(enum sg_type type) {
    const bool f16 = type == SG_TYPE_F16;
    struct tcase tc;
    tc_begin(&tc, f16 ? "get_rows f16 table" : "get_rows f32 table");
    struct sg_tensor *w   = tc_input(&tc, f16 ? "get_rows.w_f16" : "get_rows.w", type);
    struct sg_tensor *ids = tc_input(&tc, "get_rows.ids", SG_TYPE_I32);
    struct sg_tensor *y   = sg_get_rows(tc.ctx, w, ids);
    if (tc_ready(&tc, y)) {
        tc_run(&tc, y);
        tc_expect(&tc, y, f16 ? "get_rows.out_f16" : "get_rows.out", 0, 0);
    }
    tc_end(&tc);
}

static void test_gather_and_scatter(void) {
    struct tcase tc;
    tc_begin(&tc, "gather, out-of-range -> 0");
    struct sg_tensor *x   = tc_input(&tc, "gather.x", SG_TYPE_F32);
    struct sg_tensor *idx = tc_input(&tc, "gather.idx", SG_TYPE_I32);
    struct sg_tensor *y   = sg_gather(tc.ctx, x, idx);
    if (tc_ready(&tc, y)) {
        tc_run(&tc, y);
        tc_expect(&tc, y, "gather.out", 0, 0);
    }
    tc_end(&tc);

    tc_begin(&tc, "scatter, duplicates add");
    struct sg_tensor *v = tc_input(&tc, "scatter.v", SG_TYPE_F32);
    idx                 = tc_input(&tc, "scatter.idx", SG_TYPE_I32);
    y                   = sg_scatter(tc.ctx, v, idx, fixture("gather.x")->ne[0]);
    if (tc_ready(&tc, y)) {
        tc_run(&tc, y);
        tc_expect(&tc, y, "scatter.out", TOL_ATOL, TOL_RTOL);
    }
    tc_end(&tc);
}

/* embed_bag, sparse_dot and scatter_outer, with valid and with out-of-range indices. */
static void test_sparse_codes(bool oob) {
    const char *idx_name = oob ? "sparse.idx_oob" : "sparse.idx";
    const int64_t n      = fixture("sparse.w")->ne[1];
    for (int c = 0; c < 4; c++) {
        static const char *names[] = {"embed_bag", "sparse_dot", "scatter_outer", "scatter_outer c=NULL"};
        if (oob && c == 3) break;
        char name[64], want[64];
        snprintf(name, sizeof name, "%s%s", names[c], oob ? ", out-of-range ids" : "");
        snprintf(want, sizeof want, "%s.out%s",
                 c == 0   ? "embed_bag"
                 : c == 1 ? "sparse_dot"
                          : "scatter_outer",
                 oob      ? "_oob"
                 : c == 3 ? "_ones"
                          : "");
        struct tcase tc;
        tc_begin(&tc, name);
        struct sg_tensor *w   = tc_input(&tc, "sparse.w", SG_TYPE_F32);
        struct sg_tensor *idx = tc_input(&tc, idx_name, SG_TYPE_I32);
        struct sg_tensor *cf  = tc_input(&tc, "sparse.c", SG_TYPE_F32);
        struct sg_tensor *x   = tc_input(&tc, "sparse.x", SG_TYPE_F32);
        struct sg_tensor *y   = c == 0   ? sg_embed_bag(tc.ctx, w, idx, cf)
                                : c == 1 ? sg_sparse_dot(tc.ctx, w, idx, x)
                                : c == 2 ? sg_scatter_outer(tc.ctx, idx, cf, x, n)
                                         : sg_scatter_outer(tc.ctx, idx, NULL, x, n);
        if (tc_ready(&tc, y)) {
            tc_run(&tc, y);
            tc_expect(&tc, y, want, TOL_ATOL, TOL_RTOL);
        }
        tc_end(&tc);
    }
}

/* ---- optimizer --------------------------------------------------------------------------- */

/* One step (t = 3) of torch.optim.Adam / AdamW (+ clip_grad_norm_). Tolerance 1e-6: torch's
 * clipping divides by (norm + 1e-6), and beta1h, beta2h are f32 in the hparams tensor. */
static void test_adam_step_matches_torch(const char *prefix) {
    char n_w[64], n_g[64], n_m[64], n_v[64], n_hp[64], n_gn2[64], n_wo[64], n_mo[64], n_vo[64];
    snprintf(n_w, sizeof n_w, "%s.w", prefix);
    snprintf(n_g, sizeof n_g, "%s.g", prefix);
    snprintf(n_m, sizeof n_m, "%s.m", prefix);
    snprintf(n_v, sizeof n_v, "%s.v", prefix);
    snprintf(n_hp, sizeof n_hp, "%s.hparams", prefix);
    snprintf(n_gn2, sizeof n_gn2, "%s.gn2", prefix);
    snprintf(n_wo, sizeof n_wo, "%s.w_out", prefix);
    snprintf(n_mo, sizeof n_mo, "%s.m_out", prefix);
    snprintf(n_vo, sizeof n_vo, "%s.v_out", prefix);

    struct tcase tc;
    tc_begin(&tc, prefix);
    struct sg_tensor *w   = tc_input(&tc, n_w, SG_TYPE_F32);
    struct sg_tensor *g   = tc_input(&tc, n_g, SG_TYPE_F32);
    struct sg_tensor *m   = tc_input(&tc, n_m, SG_TYPE_F32);
    struct sg_tensor *v   = tc_input(&tc, n_v, SG_TYPE_F32);
    struct sg_tensor *hp  = tc_input(&tc, n_hp, SG_TYPE_F32);
    struct sg_tensor *gn2 = tc_input(&tc, n_gn2, SG_TYPE_F32);
    struct sg_tensor *y   = sg_adam_step(tc.ctx, w, g, m, v, hp, gn2);
    if (tc_ready(&tc, y)) {
        tc_run(&tc, y);
        tc_expect(&tc, w, n_wo, TOL_ATOL, 1e-6);
        tc_expect(&tc, m, n_mo, TOL_ATOL, 1e-6);
        tc_expect(&tc, v, n_vo, TOL_ATOL, 1e-6);
    }
    tc_end(&tc);
}

int main(void) {
    if (!fixtures_load(FIXTURES)) return 1;

    test_cont_reads_a_transposed_view();
    test_cast_rounds_like_torch(SG_TYPE_F16, "copy.x_f16");
    test_cast_rounds_like_torch(SG_TYPE_BF16, "copy.x_bf16");
    test_cpy_converts_into_a_flat_target();
    test_cpy_writes_through_a_strided_view();
    test_cpy_leaves_gaps_of_a_view_untouched();
    test_cpy_copies_i32_exactly();

    test_binary_ops_broadcast();
    test_sum_to_and_repeat();
    test_unary_ops_match_torch();
    test_act_back_matches_autograd();

    test_matmul_broadcasts_batch_dims();
    test_matmul_reads_transposed_operands();
    test_matmul_half_operand(SG_TYPE_F16);
    test_matmul_half_operand(SG_TYPE_BF16);

    test_layer_norm_strided_input_with_affine();
    test_layer_norm_without_affine();
    test_layer_norm_back_matches_autograd(true);
    test_layer_norm_back_matches_autograd(false);
    test_softmax_is_stable_for_large_logits();

    test_attention_with_key_mask(false);
    test_attention_with_key_mask(true);
    test_attention_without_mask(false);
    test_attention_without_mask(true);

    test_top_k_orders_ties_by_index();
    test_get_rows_zeroes_out_of_range(SG_TYPE_F32);
    test_get_rows_zeroes_out_of_range(SG_TYPE_F16);
    test_gather_and_scatter();
    test_sparse_codes(false);
    test_sparse_codes(true);

    test_adam_step_matches_torch("adam");
    test_adam_step_matches_torch("adamw_clip");

    for (int i = 0; i < n_fixtures; i++) free(fixtures[i].data);
    free(fixtures);
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
