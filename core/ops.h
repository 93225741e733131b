/* Ops: constructors that record a node (nothing is computed when a graph is built).
 *
 * Shapes use ne[0] as the innermost dimension. "A matrix [C, R]" has ne = {C, R}: R rows of C.
 * Every constructor checks its inputs and returns NULL on a bad shape or type, recording the
 * reason in the context (see core/context.h); given a NULL source it returns NULL.
 *
 *     struct sg_tensor *a = sg_layer_norm(ctx, h, w, b, 1e-5f);
 *     struct sg_tensor *y = sg_add(ctx, sg_matmul(ctx, a, sg_transpose(ctx, W)), bias);
 *
 * Everything the engine knows about an op (name, sources, shape rule, backward rule, FLOP and
 * byte counts, in-place permission) is one row of the table in core/ops.c; sg_op_info() reads it.
 */
#ifndef SG_OPS_H
#define SG_OPS_H

#include <stdbool.h>

#include "core/context.h"
#include "core/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

enum sg_op {
    SG_OP_NONE = 0, /* a leaf: input, parameter or constant */

    /* layout: metadata only, no kernel runs */
    SG_OP_VIEW,
    SG_OP_RESHAPE,
    SG_OP_PERMUTE,
    SG_OP_TRANSPOSE,
    SG_OP_DETACH, /* src0's data, but no gradient flows back through it (stop-gradient) */

    /* copies and casts */
    SG_OP_CONT, /* contiguous copy of src0, converted to dst->type */
    SG_OP_CPY,  /* writes src0 (converted) into src1's storage; dst is a view of src1 */

    /* elementwise, numpy-style broadcasting: each dim of a source is 1 or the output's */
    SG_OP_ADD,
    SG_OP_SUB,
    SG_OP_MUL,
    SG_OP_DIV,

    /* unary, F32 */
    SG_OP_SCALE, /* s*x + b                      params: f32 s, f32 b */
    SG_OP_SQR,
    SG_OP_SQRT,
    SG_OP_RELU,
    SG_OP_GELU,       /* exact: 0.5 x (1 + erf(x/sqrt 2)) */
    SG_OP_LEAKY_RELU, /*                              params: f32 slope */
    SG_OP_SIGMOID,
    SG_OP_TANH,
    SG_OP_CLAMP, /*                              params: f32 min, f32 max */
    SG_OP_EXP,
    SG_OP_STEP,     /* 1 where x > 0, else 0; no gradient (straight-through estimators are built
                       explicitly with sg_detach) */
    SG_OP_ACT_BACK, /* dy * f'(x) for f in {relu, leaky_relu, gelu, clamp}; src0 x, src1 dy */

    /* reductions and broadcasts */
    SG_OP_SUM_TO, /* sums src0 over the dims where dst has 1 (dst dims are 1 or src's) */
    SG_OP_REPEAT, /* broadcasts src0 to dst's shape (src dims are 1 or dst's) */

    /* neural-network blocks */
    SG_OP_MATMUL,          /* batched a @ b, operands may be transposed views */
    SG_OP_LAYER_NORM,      /* along ne[0]; src1 weight, src2 bias optional   params: f32 eps */
    SG_OP_LAYER_NORM_BACK, /* dx; src0 x, src1 dy, src2 weight (optional)   params: f32 eps */
    SG_OP_ADD_LAYER_NORM,  /* [x + r | layer_norm(x + r)] packed along a new last dim  params: f32 eps */
    SG_OP_LINEAR,          /* act(a @ b + bias): matmul with a fused epilogue  params: i32 act, f32 slope */
    SG_OP_SOFTMAX,         /* along ne[0] */
    SG_OP_ATTENTION,       /* fused multi-head attention                     params: f32 scale */
    SG_OP_ATTENTION_BACK,  /* packed [dq | dk | dv]                          params: f32 scale */

    /* indexing and sparse codes */
    SG_OP_GET_ROWS,      /* embedding lookup */
    SG_OP_TOP_K,         /* I32 indices of the k largest per row           params: i32 k */
    SG_OP_GATHER,        /* out[j, r] = x[idx[j, r], r] */
    SG_OP_SCATTER,       /* out[n, r] = 0; out[idx[j, r], r] += v[j, r]    (n = dst->ne[0]) */
    SG_OP_EMBED_BAG,     /* y[:, b] = sum_j v[j, b] * W[:, idx[j, b]] */
    SG_OP_SPARSE_DOT,    /* out[j, b] = W[:, idx[j, b]] . x[:, b] */
    SG_OP_SCATTER_OUTER, /* out[:, r] = sum_{idx[j,b]=r} c[j, b] * x[:, b]  (n = dst->ne[1]) */

    /* optimizer */
    SG_OP_ADAM_STEP, /* in-place Adam/AdamW update of src0 (w), src2 (m), src3 (v) */

    SG_OP_COUNT
};

/* What sg_act_back differentiates. */
enum sg_act {
    SG_ACT_RELU = 0,
    SG_ACT_LEAKY_RELU,
    SG_ACT_GELU,
    SG_ACT_CLAMP,
};

/* The activation sg_linear applies in its epilogue. */
enum sg_linear_act {
    SG_LINEAR_NONE = 0,
    SG_LINEAR_RELU,
    SG_LINEAR_GELU,       /* exact: 0.5 x (1 + erf(x/sqrt 2)), torch.nn.GELU's default */
    SG_LINEAR_LEAKY_RELU, /* slope from the op's params */
    SG_LINEAR_N_ACTS
};

/* Entries of the Adam hyper-parameter tensor (F32 [SG_ADAM_N_PARAMS]). Keeping them in a tensor
 * means a new learning rate or step count never changes the graph. */
enum sg_adam_param {
    SG_ADAM_LR = 0,
    SG_ADAM_BETA1,
    SG_ADAM_BETA2,
    SG_ADAM_EPS,
    SG_ADAM_WEIGHT_DECAY, /* decoupled (AdamW); 0 gives Adam */
    SG_ADAM_BETA1H,       /* 1 / (1 - beta1^t): bias correction for step t */
    SG_ADAM_BETA2H,       /* 1 / (1 - beta2^t) */
    SG_ADAM_CLIP,         /* max global gradient norm; <= 0 disables clipping */
    SG_ADAM_N_PARAMS
};

/* ---- op metadata ------------------------------------------------------------------------ */

struct sg_autodiff;

/* Computes the result type and shape from the sources and op_params of `node` (whose src[] and
 * op_params are already set), or returns an error via sg_error naming the op and the shapes. */
typedef sg_status (*sg_shape_fn)(struct sg_tensor *node);
/* Adds gradient nodes for node's sources, reading the gradient of node from `ad`. */
typedef void (*sg_backward_fn)(struct sg_autodiff *ad, struct sg_tensor *node);
typedef double (*sg_cost_fn)(const struct sg_tensor *node);

struct sg_op_info {
    const char *name; /* "matmul" */
    int n_src;        /* maximum sources; trailing optional ones may be NULL */
    int n_src_min;    /* sources that must be present */
    bool inplace;     /* dst may share src0's memory (kernels tolerate aliasing) */
    sg_shape_fn shape;
    sg_backward_fn backward; /* NULL: no gradient flows through (indices, optimizer) */
    sg_cost_fn flops;        /* NULL: 0 */
    sg_cost_fn bytes;        /* NULL: bytes of the sources read plus the output written */
};

const struct sg_op_info *sg_op_info(int op);
const char *sg_op_name(int op);
/* Looks an op up by name ("layer_norm"); returns SG_OP_COUNT when there is none. */
int sg_op_from_name(const char *name);
double sg_op_flops(const struct sg_tensor *node);
double sg_op_bytes(const struct sg_tensor *node);

/* Scalar parameters are stored inline in node->op_params, by index:
 *   SCALE        [0] f32 s, [1] f32 b
 *   LEAKY_RELU   [0] f32 slope
 *   CLAMP        [0] f32 min, [1] f32 max
 *   ACT_BACK     [0] i32 enum sg_act, [1] f32 alpha, [2] f32 lo, [3] f32 hi
 *   LAYER_NORM, LAYER_NORM_BACK, ADD_LAYER_NORM   [0] f32 eps
 *   LINEAR       [0] i32 enum sg_linear_act, [1] f32 slope (leaky_relu)
 *   ATTENTION, ATTENTION_BACK     [0] f32 scale
 *   TOP_K        [0] i32 k
 * Sources, by index:
 *   CPY          a, target                (dst is a view of target; same element count)
 *   LAYER_NORM   x, weight?, bias?        LAYER_NORM_BACK  x, dy, weight?
 *   ADD_LAYER_NORM x, r, weight?, bias?   LINEAR  a, b, bias?
 *   ATTENTION    q, k, v, key_mask?       ATTENTION_BACK   q, k, v, key_mask?, dout
 *   GET_ROWS     w, ids                   TOP_K  x          GATHER  x, idx
 *   SCATTER      v, idx                   (n = dst->ne[0])
 *   EMBED_BAG    w, idx, v                SPARSE_DOT  w, idx, x
 *   SCATTER_OUTER idx, c?, x              (n = dst->ne[1])
 *   ADAM_STEP    w, g, m, v, hparams, grad_norm_sq?   (dst is a view of w)
 * Indices outside their table (get_rows, gather, scatter, embed_bag, sparse_dot, scatter_outer)
 * read as zero and write nowhere: kernels never touch memory out of bounds.
 * NaN inputs propagate through arithmetic; how relu, clamp, max-based kernels and top_k treat NaN
 * may differ between backends, so callers keep model inputs finite. */
static inline float sg_get_param_f32(const struct sg_tensor *t, int i) {
    union {
        int32_t i;
        float f;
    } u = {.i = t->op_params[i]};
    return u.f;
}
static inline int32_t sg_get_param_i32(const struct sg_tensor *t, int i) { return t->op_params[i]; }

/* ---- copies and casts ------------------------------------------------------------------- */

/* Contiguous copy of a (any layout) with the same type. */
struct sg_tensor *sg_cont(struct sg_ctx *ctx, struct sg_tensor *a);
/* Contiguous copy of a converted to `type` (F32, F16, BF16; I32 only from I32). */
struct sg_tensor *sg_cast(struct sg_ctx *ctx, struct sg_tensor *a, enum sg_type type);
/* Copies a into dst's storage (same element count, types may differ); returns a view of dst
 * that depends on the copy, so later readers see the new data. */
struct sg_tensor *sg_cpy(struct sg_ctx *ctx, struct sg_tensor *a, struct sg_tensor *dst);

/* Stop-gradient: a view of a (no copy, no kernel) that autodiff treats as a constant, so
 * nothing downstream of it sends a gradient into a. Used for targets that must not be trained
 * through (aux-k residuals) and for straight-through estimators. */
struct sg_tensor *sg_detach(struct sg_ctx *ctx, struct sg_tensor *a);

/* ---- elementwise ------------------------------------------------------------------------ */

/* Binary ops broadcast numpy-style: each dim of a and b is 1 or equal to the output's.
 * F32 only. */
struct sg_tensor *sg_add(struct sg_ctx *ctx, struct sg_tensor *a, struct sg_tensor *b);
struct sg_tensor *sg_sub(struct sg_ctx *ctx, struct sg_tensor *a, struct sg_tensor *b);
struct sg_tensor *sg_mul(struct sg_ctx *ctx, struct sg_tensor *a, struct sg_tensor *b);
struct sg_tensor *sg_div(struct sg_ctx *ctx, struct sg_tensor *a, struct sg_tensor *b);

struct sg_tensor *sg_scale(struct sg_ctx *ctx, struct sg_tensor *a, float s);               /* s*a */
struct sg_tensor *sg_scale_bias(struct sg_ctx *ctx, struct sg_tensor *a, float s, float b); /* s*a + b */
struct sg_tensor *sg_sqr(struct sg_ctx *ctx, struct sg_tensor *a);
struct sg_tensor *sg_sqrt(struct sg_ctx *ctx, struct sg_tensor *a);
struct sg_tensor *sg_relu(struct sg_ctx *ctx, struct sg_tensor *a);
struct sg_tensor *sg_gelu(struct sg_ctx *ctx, struct sg_tensor *a);
struct sg_tensor *sg_leaky_relu(struct sg_ctx *ctx, struct sg_tensor *a, float slope);
struct sg_tensor *sg_sigmoid(struct sg_ctx *ctx, struct sg_tensor *a);
struct sg_tensor *sg_tanh(struct sg_ctx *ctx, struct sg_tensor *a);
struct sg_tensor *sg_clamp(struct sg_ctx *ctx, struct sg_tensor *a, float min, float max);
struct sg_tensor *sg_exp(struct sg_ctx *ctx, struct sg_tensor *a);
/* Heaviside step 1[x > 0] (NaN gives 0). It has no backward rule: a gradient reaching it is an
 * error, so feed it detached values (sg_detach) and write the surrogate gradient explicitly. */
struct sg_tensor *sg_step(struct sg_ctx *ctx, struct sg_tensor *a);
/* dy * f'(x) for the activation `act` (alpha: leaky slope; lo/hi: clamp bounds). At the kinks
 * it follows PyTorch: relu'(0) = 0, leaky_relu'(0) = slope, clamp passes dy where lo <= x <= hi. */
struct sg_tensor *sg_act_back(struct sg_ctx *ctx, enum sg_act act, struct sg_tensor *x, struct sg_tensor *dy,
                              float alpha, float lo, float hi);

/* ---- reductions ------------------------------------------------------------------------- */

/* Sums a over every dim where `ne` is 1 (each ne[i] is 1 or a->ne[i]). F32. */
struct sg_tensor *sg_sum_to(struct sg_ctx *ctx, struct sg_tensor *a, const int64_t ne[SG_MAX_DIMS]);
/* Sums into the shape of `like` (reverses a broadcast). */
struct sg_tensor *sg_sum_like(struct sg_ctx *ctx, struct sg_tensor *a, const struct sg_tensor *like);
/* Broadcasts a to the shape of `like` (each dim of a is 1 or like's). */
struct sg_tensor *sg_repeat(struct sg_ctx *ctx, struct sg_tensor *a, const struct sg_tensor *like);
struct sg_tensor *sg_sum(struct sg_ctx *ctx, struct sg_tensor *a);       /* all elements -> [1] */
struct sg_tensor *sg_mean(struct sg_ctx *ctx, struct sg_tensor *a);      /* all elements -> [1] */
struct sg_tensor *sg_sum_rows(struct sg_ctx *ctx, struct sg_tensor *a);  /* along ne[0] -> [1, ...] */
struct sg_tensor *sg_mean_rows(struct sg_ctx *ctx, struct sg_tensor *a); /* along ne[0] -> [1, ...] */

/* ---- neural-network blocks -------------------------------------------------------------- */

/* Batched matrix product a @ b: a is [K, M] (M rows of K), b is [N, K], the result [N, M] F32.
 * Dims 2.. broadcast (each is 1 or the other's). Pass sg_transpose(ctx, w) for a @ w^T: kernels
 * read transposed views directly (no copy). a may be F32, F16 or BF16; b F32 or BF16.
 *
 * When either operand is BF16 the product is a bf16 GEMM on every backend: both operands are
 * rounded to bfloat16 (nearest even; exact for the BF16 one), the products (exact in fp32) are
 * accumulated in fp32, and the result is F32 -- what torch autocast and cuBLAS with bf16 inputs
 * and CUBLAS_COMPUTE_32F compute. Otherwise (F32, or F16 a with F32 b) it is an fp32 product. */
struct sg_tensor *sg_matmul(struct sg_ctx *ctx, struct sg_tensor *a, struct sg_tensor *b);
/* Whether a MATMUL node is a bf16 GEMM (see sg_matmul). */
bool sg_matmul_is_bf16(const struct sg_tensor *node);

/* (x - mean) / sqrt(var + eps) * w + b along ne[0]; w and b ([ne0] F32) may be NULL. */
struct sg_tensor *sg_layer_norm(struct sg_ctx *ctx, struct sg_tensor *x, struct sg_tensor *w, struct sg_tensor *b,
                                float eps);
/* Gradient of layer_norm with respect to x, given dy and the weight (NULL = 1). */
struct sg_tensor *sg_layer_norm_back(struct sg_ctx *ctx, struct sg_tensor *x, struct sg_tensor *dy, struct sg_tensor *w,
                                     float eps);

/* The pre-norm residual step in one pass: s = x + r and y = layer_norm(s, w, b, eps), returned
 * packed as one F32 tensor with a new last dim of 2 (x's shape + [2]): index 0 holds s, index 1
 * holds y, each a contiguous block. Take them apart with sg_add_layer_norm_part (views, no copy):
 *
 *     struct sg_tensor *p = sg_add_layer_norm(ctx, h, attn_out, norm_w, norm_b, 1e-5f);
 *     h = sg_add_layer_norm_part(ctx, p, 0);        the residual stream, for the next add
 *     a = sg_add_layer_norm_part(ctx, p, 1);        its LayerNorm, for the next block
 *
 * x and r: F32 of the same shape and rank <= 5 (any strides); w, b as sg_layer_norm. Autodiff
 * differentiates the packed tensor as a whole; a gradient reaching it through the part views
 * is refused (views have no backward rule), so training graphs use sg_add and sg_layer_norm. */
struct sg_tensor *sg_add_layer_norm(struct sg_ctx *ctx, struct sg_tensor *x, struct sg_tensor *r, struct sg_tensor *w,
                                    struct sg_tensor *b, float eps);
/* Part i (0: the sum, 1: the normalised sum) of an sg_add_layer_norm result, with x's shape. */
struct sg_tensor *sg_add_layer_norm_part(struct sg_ctx *ctx, struct sg_tensor *packed, int i);

/* act(a @ b + bias) as one op, so backends apply the bias and the activation to the product
 * while it is still in cache (a GEMM epilogue) instead of in two more passes over memory.
 * a and b as sg_matmul (transposed views read in place); bias F32 [N] (N = b->ne[0]) or NULL;
 * slope is leaky_relu's (ignored otherwise). A torch Linear with weight W [out, in]:
 *     y = sg_linear(ctx, x, sg_transpose(ctx, W), bias, SG_LINEAR_GELU, 0.0f); */
struct sg_tensor *sg_linear(struct sg_ctx *ctx, struct sg_tensor *a, struct sg_tensor *b, struct sg_tensor *bias,
                            enum sg_linear_act act, float slope);

struct sg_tensor *sg_softmax(struct sg_ctx *ctx, struct sg_tensor *a); /* along ne[0] */

/* Key mask codes for sg_attention. */
enum sg_attn_key {
    SG_ATTN_KEY_HIDDEN  = 0, /* no query sees this key (padding) */
    SG_ATTN_KEY_VISIBLE = 1, /* every query sees it */
    SG_ATTN_KEY_SELF    = 2, /* only the query at the same position sees it (a masked,
                                "generative" token in Tahoe X1: sees the rest and itself) */
};

/* Multi-head scaled dot-product attention, softmax(scale * q k^T) v per head, never forming the
 * full score matrix:
 *   q [D, H, Sq, B], k [D, H, Sk, B], v [Dv, H, Sk, B]  (any strides, e.g. views of a fused QKV)
 *   key_mask: NULL (all visible) or I32 [Sk, B] of enum sg_attn_key codes
 *   result [Dv, H, Sq, B] F32 contiguous. A query that sees no key gets zeros. */
struct sg_tensor *sg_attention(struct sg_ctx *ctx, struct sg_tensor *q, struct sg_tensor *k, struct sg_tensor *v,
                               struct sg_tensor *key_mask, float scale);
/* Gradients of sg_attention packed into one F32 vector [n(q) + n(k) + n(v)] laid out as
 * contiguous dq, dk, dv with the shapes of q, k, v. */
struct sg_tensor *sg_attention_back(struct sg_ctx *ctx, struct sg_tensor *q, struct sg_tensor *k, struct sg_tensor *v,
                                    struct sg_tensor *key_mask, struct sg_tensor *dout, float scale);

/* ---- indexing and sparse codes ---------------------------------------------------------- */

/* Rows of a table: w [D, N] (F32, F16 or BF16), ids I32 of any shape [T...] -> F32 [D, T...].
 * An id outside [0, N) gives a zero row (and is an input error the caller should have caught). */
struct sg_tensor *sg_get_rows(struct sg_ctx *ctx, struct sg_tensor *w, struct sg_tensor *ids);

/* Indices of the k largest values of each row of x [N, R...] -> I32 [k, R...], ordered by
 * decreasing value; ties go to the lower index, so results are deterministic. */
struct sg_tensor *sg_top_k(struct sg_ctx *ctx, struct sg_tensor *x, int k);

/* out[j, r] = x[idx[j, r], r];  x [N, R] F32, idx I32 [K, R] -> [K, R]. */
struct sg_tensor *sg_gather(struct sg_ctx *ctx, struct sg_tensor *x, struct sg_tensor *idx);
/* out = zeros [n, R]; out[idx[j, r], r] += v[j, r];  v [K, R], idx I32 [K, R]. */
struct sg_tensor *sg_scatter(struct sg_ctx *ctx, struct sg_tensor *v, struct sg_tensor *idx, int64_t n);

/* Sparse-dense decode (an embedding bag): y[:, b] = sum_j v[j, b] * w[:, idx[j, b]].
 * w [D, N] F32 (N rows of D: a decoder with one row per latent), idx I32 [K, B], v [K, B]
 * -> [D, B]. Touches only the K selected rows per column b. */
struct sg_tensor *sg_embed_bag(struct sg_ctx *ctx, struct sg_tensor *w, struct sg_tensor *idx, struct sg_tensor *v);
/* Selected dot products: out[j, b] = w[:, idx[j, b]] . x[:, b];  w [D, N], idx [K, B], x [D, B]
 * -> [K, B]. The dual of embed_bag (its gradient with respect to v). */
struct sg_tensor *sg_sparse_dot(struct sg_ctx *ctx, struct sg_tensor *w, struct sg_tensor *idx, struct sg_tensor *x);
/* Row-scattered outer products: out = zeros [D, n]; out[:, idx[j, b]] += c[j, b] * x[:, b].
 * idx [K, B], c [K, B] F32 or NULL (all ones), x [D, B]. The weight gradient of embed_bag,
 * sparse_dot and get_rows; rows no index selects stay zero. */
struct sg_tensor *sg_scatter_outer(struct sg_ctx *ctx, struct sg_tensor *idx, struct sg_tensor *c, struct sg_tensor *x,
                                   int64_t n);

/* ---- optimizer -------------------------------------------------------------------------- */

/* One Adam/AdamW step, in place on w, m and v (all F32, same shape as g):
 *   g' = g * min(1, clip / sqrt(grad_norm_sq))        (when clip > 0 and grad_norm_sq given)
 *   m  = beta1 m + (1 - beta1) g';  v = beta2 v + (1 - beta2) g'^2
 *   w  = w (1 - lr wd) - lr (m beta1h) / (sqrt(v beta2h) + eps)
 * hparams: F32 [SG_ADAM_N_PARAMS] indexed by enum sg_adam_param. grad_norm_sq: F32 [1] or NULL.
 * Returns a view of w that depends on the update. */
struct sg_tensor *sg_adam_step(struct sg_ctx *ctx, struct sg_tensor *w, struct sg_tensor *g, struct sg_tensor *m,
                               struct sg_tensor *v, struct sg_tensor *hparams, struct sg_tensor *grad_norm_sq);

#ifdef __cplusplus
}
#endif

#endif
