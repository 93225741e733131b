/* Indexing and sparse-code ops: embedding lookup, top-k, gather/scatter, and the embedding-bag
 * family that lets a TopK SAE touch only its k active latents per token. */
#include <string.h>

#include "ops_impl.h"

static sg_status mismatch(const struct sg_tensor *node, const struct sg_tensor *a, const char *wa,
                          const struct sg_tensor *b, const char *wb, const char *why) {
    char sa[96], sb[96];
    return sg_error(SG_ERR_INVALID_ARG, "%s: %s %s and %s %s %s", sg_op_name(node->op), wa,
                    sg_shape_str(a, sa, sizeof sa), wb, sg_shape_str(b, sb, sizeof sb), why);
}

/* The table operand of get_rows / embed_bag / sparse_dot: a matrix [D, N]. */
static sg_status check_table(const struct sg_tensor *node, const struct sg_tensor *w, bool allow_half) {
    if (!(w->type == SG_TYPE_F32 || (allow_half && (w->type == SG_TYPE_F16 || w->type == SG_TYPE_BF16)))) {
        char s[96];
        return sg_error(SG_ERR_INVALID_ARG, "%s: table '%s' %s must be f32%s", sg_op_name(node->op), w->name,
                        sg_shape_str(w, s, sizeof s), allow_half ? ", f16 or bf16" : "");
    }
    return sg_require_rank(node, w, "table", 2);
}

/* Index and value operands of the [K, B] family: idx I32 [K, B], values F32 [K, B]. */
static sg_status check_codes(const struct sg_tensor *node, const struct sg_tensor *idx, const struct sg_tensor *v) {
    sg_status st = sg_require_type(node, idx, "idx", SG_TYPE_I32);
    if (st == SG_OK) st = sg_require_rank(node, idx, "idx", 2);
    if (st != SG_OK || !v) return st;
    st = sg_require_type(node, v, "values", SG_TYPE_F32);
    if (st == SG_OK && !sg_same_shape(idx, v)) st = mismatch(node, idx, "idx", v, "values", "must have one shape");
    return st;
}

sg_status sg_shape_get_rows(struct sg_tensor *node) {
    const struct sg_tensor *w = node->src[0], *ids = node->src[1];
    sg_status st = check_table(node, w, true);
    if (st == SG_OK) st = sg_require_type(node, ids, "ids", SG_TYPE_I32);
    if (st == SG_OK) st = sg_require_rank(node, ids, "ids", SG_MAX_DIMS - 1);
    if (st != SG_OK) return st;
    int64_t ne[SG_MAX_DIMS] = {w->ne[0]};
    for (int d = 1; d < SG_MAX_DIMS; d++) ne[d] = ids->ne[d - 1];
    sg_tensor_set_shape(node, SG_TYPE_F32, SG_MAX_DIMS, ne);
    return SG_OK;
}

struct sg_tensor *sg_get_rows(struct sg_ctx *ctx, struct sg_tensor *w, struct sg_tensor *ids) {
    return sg_op_new(ctx, SG_OP_GET_ROWS, (struct sg_tensor *[]){w, ids}, 2, NULL, 0);
}

sg_status sg_shape_top_k(struct sg_tensor *node) {
    const struct sg_tensor *x = node->src[0];
    int32_t k                 = node->op_params[0];
    sg_status st              = sg_require_type(node, x, "input", SG_TYPE_F32);
    if (st != SG_OK) return st;
    if (k < 1 || k > x->ne[0])
        return sg_error(SG_ERR_INVALID_ARG, "top_k: k = %d must be between 1 and the row length %lld", k,
                        (long long)x->ne[0]);
    int64_t ne[SG_MAX_DIMS];
    for (int d = 0; d < SG_MAX_DIMS; d++) ne[d] = x->ne[d];
    ne[0] = k;
    sg_tensor_set_shape(node, SG_TYPE_I32, SG_MAX_DIMS, ne);
    return SG_OK;
}

struct sg_tensor *sg_top_k(struct sg_ctx *ctx, struct sg_tensor *x, int k) {
    return sg_op_new(ctx, SG_OP_TOP_K, (struct sg_tensor *[]){x}, 1, (int32_t[]){k}, 1);
}

/* gather and scatter: the row dims (1..) of all operands agree. */
static sg_status check_rows_agree(const struct sg_tensor *node, const struct sg_tensor *a, const char *wa,
                                  const struct sg_tensor *b, const char *wb) {
    for (int d = 1; d < SG_MAX_DIMS; d++)
        if (a->ne[d] != b->ne[d]) return mismatch(node, a, wa, b, wb, "must agree in every dimension but the first");
    return SG_OK;
}

sg_status sg_shape_gather(struct sg_tensor *node) {
    const struct sg_tensor *x = node->src[0], *idx = node->src[1];
    sg_status st = sg_require_type(node, x, "x", SG_TYPE_F32);
    if (st == SG_OK) st = sg_require_type(node, idx, "idx", SG_TYPE_I32);
    if (st == SG_OK) st = check_rows_agree(node, x, "x", idx, "idx");
    if (st != SG_OK) return st;
    sg_tensor_set_shape(node, SG_TYPE_F32, SG_MAX_DIMS, idx->ne);
    return SG_OK;
}

struct sg_tensor *sg_gather(struct sg_ctx *ctx, struct sg_tensor *x, struct sg_tensor *idx) {
    return sg_op_new(ctx, SG_OP_GATHER, (struct sg_tensor *[]){x, idx}, 2, NULL, 0);
}

sg_status sg_shape_scatter(struct sg_tensor *node) {
    const struct sg_tensor *v = node->src[0], *idx = node->src[1];
    int64_t n;
    memcpy(&n, node->op_params, sizeof n);
    sg_status st = sg_require_type(node, v, "values", SG_TYPE_F32);
    if (st == SG_OK) st = sg_require_type(node, idx, "idx", SG_TYPE_I32);
    if (st == SG_OK && !sg_same_shape(v, idx)) st = mismatch(node, v, "values", idx, "idx", "must have one shape");
    if (st != SG_OK) return st;
    if (n < 1) return sg_error(SG_ERR_INVALID_ARG, "scatter: output length %lld must be positive", (long long)n);
    int64_t ne[SG_MAX_DIMS];
    for (int d = 0; d < SG_MAX_DIMS; d++) ne[d] = v->ne[d];
    ne[0] = n;
    sg_tensor_set_shape(node, SG_TYPE_F32, SG_MAX_DIMS, ne);
    return SG_OK;
}

struct sg_tensor *sg_scatter(struct sg_ctx *ctx, struct sg_tensor *v, struct sg_tensor *idx, int64_t n) {
    int32_t params[2];
    memcpy(params, &n, sizeof n);
    return sg_op_new(ctx, SG_OP_SCATTER, (struct sg_tensor *[]){v, idx}, 2, params, 2);
}

sg_status sg_shape_embed_bag(struct sg_tensor *node) {
    const struct sg_tensor *w = node->src[0], *idx = node->src[1], *v = node->src[2];
    sg_status st = check_table(node, w, false);
    if (st == SG_OK) st = check_codes(node, idx, v);
    if (st != SG_OK) return st;
    sg_tensor_set_shape(node, SG_TYPE_F32, 2, (int64_t[]){w->ne[0], idx->ne[1]});
    return SG_OK;
}

struct sg_tensor *sg_embed_bag(struct sg_ctx *ctx, struct sg_tensor *w, struct sg_tensor *idx, struct sg_tensor *v) {
    return sg_op_new(ctx, SG_OP_EMBED_BAG, (struct sg_tensor *[]){w, idx, v}, 3, NULL, 0);
}

sg_status sg_shape_sparse_dot(struct sg_tensor *node) {
    const struct sg_tensor *w = node->src[0], *idx = node->src[1], *x = node->src[2];
    sg_status st = check_table(node, w, false);
    if (st == SG_OK) st = check_codes(node, idx, NULL);
    if (st == SG_OK) st = sg_require_type(node, x, "x", SG_TYPE_F32);
    if (st == SG_OK) st = sg_require_rank(node, x, "x", 2);
    if (st != SG_OK) return st;
    if (x->ne[0] != w->ne[0] || x->ne[1] != idx->ne[1])
        return mismatch(node, x, "x", w, "table", "need x [D, B] with the table's D and idx's B");
    sg_tensor_set_shape(node, SG_TYPE_F32, 2, idx->ne);
    return SG_OK;
}

struct sg_tensor *sg_sparse_dot(struct sg_ctx *ctx, struct sg_tensor *w, struct sg_tensor *idx, struct sg_tensor *x) {
    return sg_op_new(ctx, SG_OP_SPARSE_DOT, (struct sg_tensor *[]){w, idx, x}, 3, NULL, 0);
}

sg_status sg_shape_scatter_outer(struct sg_tensor *node) {
    const struct sg_tensor *idx = node->src[0], *c = node->src[1], *x = node->src[2];
    int64_t n;
    memcpy(&n, node->op_params, sizeof n);
    if (!x) return sg_error(SG_ERR_INVALID_ARG, "scatter_outer: x is missing");
    sg_status st = check_codes(node, idx, c);
    if (st == SG_OK) st = sg_require_type(node, x, "x", SG_TYPE_F32);
    if (st == SG_OK) st = sg_require_rank(node, x, "x", 2);
    if (st != SG_OK) return st;
    if (x->ne[1] != idx->ne[1]) return mismatch(node, x, "x", idx, "idx", "must have the same number of columns");
    if (n < 1) return sg_error(SG_ERR_INVALID_ARG, "scatter_outer: table rows %lld must be positive", (long long)n);
    sg_tensor_set_shape(node, SG_TYPE_F32, 2, (int64_t[]){x->ne[0], n});
    return SG_OK;
}

struct sg_tensor *sg_scatter_outer(struct sg_ctx *ctx, struct sg_tensor *idx, struct sg_tensor *c, struct sg_tensor *x,
                                   int64_t n) {
    if (!x) return NULL;
    int32_t params[2];
    memcpy(params, &n, sizeof n);
    return sg_op_new(ctx, SG_OP_SCATTER_OUTER, (struct sg_tensor *[]){idx, c, x}, 3, params, 2);
}

/* ---- backward rules --------------------------------------------------------------------- */

void sg_backward_get_rows(struct sg_autodiff *ad, struct sg_tensor *node) {
    /* every looked-up row receives the sum of its gradients: a scatter of outer products
     * with unit coefficients over the flattened ids */
    struct sg_ctx *ctx  = sg_ad_ctx(ad);
    struct sg_tensor *w = node->src[0], *ids = sg_cont_if_needed(ctx, node->src[1]);
    struct sg_tensor *g   = sg_cont_if_needed(ctx, sg_ad_grad(ad, node));
    int64_t t             = sg_nelements(node->src[1]);
    struct sg_tensor *idx = sg_reshape_2d(ctx, ids, 1, t);
    struct sg_tensor *g2  = sg_reshape_2d(ctx, g, w->ne[0], t);
    sg_ad_accum(ad, w, sg_scatter_outer(ctx, idx, NULL, g2, w->ne[1]));
}

void sg_backward_gather(struct sg_autodiff *ad, struct sg_tensor *node) {
    struct sg_tensor *x = node->src[0];
    sg_ad_accum(ad, x, sg_scatter(sg_ad_ctx(ad), sg_ad_grad(ad, node), node->src[1], x->ne[0]));
}

void sg_backward_scatter(struct sg_autodiff *ad, struct sg_tensor *node) {
    sg_ad_accum(ad, node->src[0], sg_gather(sg_ad_ctx(ad), sg_ad_grad(ad, node), node->src[1]));
}

void sg_backward_embed_bag(struct sg_autodiff *ad, struct sg_tensor *node) {
    /* y[:, b] = sum_j v[j,b] w[:, idx[j,b]]:  dv = sparse_dot(w, idx, g),  dw = scatter_outer(idx, v, g) */
    struct sg_ctx *ctx  = sg_ad_ctx(ad);
    struct sg_tensor *w = node->src[0], *idx = node->src[1], *v = node->src[2], *g = sg_ad_grad(ad, node);
    if (sg_ad_needs(ad, v)) sg_ad_accum(ad, v, sg_sparse_dot(ctx, w, idx, g));
    if (sg_ad_needs(ad, w)) sg_ad_accum(ad, w, sg_scatter_outer(ctx, idx, v, g, w->ne[1]));
}

void sg_backward_sparse_dot(struct sg_autodiff *ad, struct sg_tensor *node) {
    /* out[j,b] = w[:, idx[j,b]] . x[:, b]:  dx = embed_bag(w, idx, g),  dw = scatter_outer(idx, g, x) */
    struct sg_ctx *ctx  = sg_ad_ctx(ad);
    struct sg_tensor *w = node->src[0], *idx = node->src[1], *x = node->src[2], *g = sg_ad_grad(ad, node);
    if (sg_ad_needs(ad, x)) sg_ad_accum(ad, x, sg_embed_bag(ctx, w, idx, g));
    if (sg_ad_needs(ad, w)) sg_ad_accum(ad, w, sg_scatter_outer(ctx, idx, g, x, w->ne[1]));
}

void sg_backward_scatter_outer(struct sg_autodiff *ad, struct sg_tensor *node) {
    /* out[:, idx[j,b]] += c[j,b] x[:, b]:  dc = sparse_dot(g, idx, x),  dx = embed_bag(g, idx, c) */
    struct sg_ctx *ctx    = sg_ad_ctx(ad);
    struct sg_tensor *idx = node->src[0], *c = node->src[1], *x = node->src[2], *g = sg_ad_grad(ad, node);
    if (c && sg_ad_needs(ad, c)) sg_ad_accum(ad, c, sg_sparse_dot(ctx, g, idx, x));
    if (sg_ad_needs(ad, x)) {
        if (!c) {
            sg_ctx_fail(ctx, SG_ERR_UNSUPPORTED, "scatter_outer: no gradient for x without coefficients");
            return;
        }
        sg_ad_accum(ad, x, sg_embed_bag(ctx, g, idx, c));
    }
}

double sg_flops_sparse(const struct sg_tensor *node) {
    /* K multiply-adds of length D per column */
    const struct sg_tensor *idx = node->op == SG_OP_SCATTER_OUTER ? node->src[0] : node->src[1];
    const struct sg_tensor *w   = node->op == SG_OP_SCATTER_OUTER ? node : node->src[0];
    return 2.0 * (double)sg_nelements(idx) * (double)w->ne[0];
}

double sg_flops_top_k(const struct sg_tensor *node) { return (double)sg_nelements(node->src[0]); }

static double bytes_of(const struct sg_tensor *t) {
    return t ? (double)sg_nelements(t) * (double)sg_type_size(t->type) : 0.0;
}

/* Indexed ops read only the rows their indices select, not the whole table. */
double sg_bytes_indexed(const struct sg_tensor *node) {
    const struct sg_tensor *a = node->src[0], *b = node->src[1], *c = node->src[2];
    switch (node->op) {
    case SG_OP_GET_ROWS: /* rows read (in the table's type), ids, output */
        return bytes_of(node) / 4.0 * (double)sg_type_size(a->type) + bytes_of(b) + bytes_of(node);
    case SG_OP_GATHER: /* one element read per index */ return 2.0 * bytes_of(node) + bytes_of(b);
    case SG_OP_EMBED_BAG: /* K table rows of D per column, the indices, values or x, the output */
    case SG_OP_SPARSE_DOT:
        return (double)sg_nelements(b) * (double)a->ne[0] * 4.0 + bytes_of(b) + bytes_of(c) + bytes_of(node);
    case SG_OP_SCATTER_OUTER: /* the output is written whole (zeros included); K rows updated per column */
        return bytes_of(node) + 2.0 * (double)sg_nelements(a) * (double)node->ne[0] * 4.0 + bytes_of(a) + bytes_of(b) +
               bytes_of(c);
    default: return sg_cost_bytes_default(node);
    }
}
