/* Shape rules, backward rules and cost functions of each op family (core/ops_<family>.c),
 * gathered into the one op table in core/ops.c. Internal to core/. */
#ifndef SG_OPS_IMPL_H
#define SG_OPS_IMPL_H

#include "core/autodiff.h"
#include "core/core_impl.h"
#include "core/ops.h"

/* ---- shared helpers (ops.c) ------------------------------------------------------------- */

/* Result: src0's type and shape, contiguous. */
sg_status sg_shape_like_src0(struct sg_tensor *node);
/* "<op>: <what> '<name>' [shape] type must be f32" style checks. */
sg_status sg_require_type(const struct sg_tensor *node, const struct sg_tensor *t, const char *what, enum sg_type type);
sg_status sg_require_rank(const struct sg_tensor *node, const struct sg_tensor *t, const char *what, int max_rank);
/* Bytes read from all sources plus bytes written. */
double sg_cost_bytes_default(const struct sg_tensor *node);
/* One FLOP per output element. */
double sg_cost_per_element(const struct sg_tensor *node);
/* The gradient `g` reduced to t's shape when t was broadcast. */
struct sg_tensor *sg_unbroadcast(struct sg_ctx *ctx, struct sg_tensor *g, const struct sg_tensor *t);
/* Makes t contiguous unless it already is. */
struct sg_tensor *sg_cont_if_needed(struct sg_ctx *ctx, struct sg_tensor *t);

/* ---- layout: view, reshape, permute, transpose, cont, cpy (ops_layout.c) ------------------ */
sg_status sg_shape_view(struct sg_tensor *node);
sg_status sg_shape_cont(struct sg_tensor *node);
sg_status sg_shape_cpy(struct sg_tensor *node);
void sg_backward_reshape(struct sg_autodiff *ad, struct sg_tensor *node);
void sg_backward_permute(struct sg_autodiff *ad, struct sg_tensor *node);
void sg_backward_transpose(struct sg_autodiff *ad, struct sg_tensor *node);
void sg_backward_cont(struct sg_autodiff *ad, struct sg_tensor *node);
void sg_backward_cpy(struct sg_autodiff *ad, struct sg_tensor *node);

/* ---- elementwise (ops_elementwise.c) ---------------------------------------------------- */
sg_status sg_shape_binary(struct sg_tensor *node);
sg_status sg_shape_unary(struct sg_tensor *node);
sg_status sg_shape_act_back(struct sg_tensor *node);
void sg_backward_add(struct sg_autodiff *ad, struct sg_tensor *node);
void sg_backward_sub(struct sg_autodiff *ad, struct sg_tensor *node);
void sg_backward_mul(struct sg_autodiff *ad, struct sg_tensor *node);
void sg_backward_div(struct sg_autodiff *ad, struct sg_tensor *node);
void sg_backward_scale(struct sg_autodiff *ad, struct sg_tensor *node);
void sg_backward_sqr(struct sg_autodiff *ad, struct sg_tensor *node);
void sg_backward_sqrt(struct sg_autodiff *ad, struct sg_tensor *node);
void sg_backward_activation(struct sg_autodiff *ad, struct sg_tensor *node); /* relu, leaky, gelu, clamp */
void sg_backward_sigmoid(struct sg_autodiff *ad, struct sg_tensor *node);
void sg_backward_tanh(struct sg_autodiff *ad, struct sg_tensor *node);
void sg_backward_exp(struct sg_autodiff *ad, struct sg_tensor *node);
double sg_flops_gelu(const struct sg_tensor *node);

/* ---- reductions and broadcasts (ops_reduce.c) ------------------------------------------- */
sg_status sg_shape_sum_to(struct sg_tensor *node);
sg_status sg_shape_repeat(struct sg_tensor *node);
void sg_backward_sum_to(struct sg_autodiff *ad, struct sg_tensor *node);
void sg_backward_repeat(struct sg_autodiff *ad, struct sg_tensor *node);
double sg_flops_sum_to(const struct sg_tensor *node);

/* ---- matmul (ops_matmul.c) -------------------------------------------------------------- */
sg_status sg_shape_matmul(struct sg_tensor *node);
void sg_backward_matmul(struct sg_autodiff *ad, struct sg_tensor *node);
double sg_flops_matmul(const struct sg_tensor *node);
/* Accumulates the gradients of a @ b into a and b, given the product's gradient g. */
void sg_matmul_accum_grads(struct sg_autodiff *ad, struct sg_tensor *a, struct sg_tensor *b, struct sg_tensor *g);

/* ---- normalisation (ops_norm.c) --------------------------------------------------------- */
sg_status sg_shape_layer_norm(struct sg_tensor *node);
/* OK when v is NULL or an F32 vector of x's ne[0] elements (x = node->src[0]). */
sg_status sg_check_row_vector(const struct sg_tensor *node, const struct sg_tensor *v, const char *what);
sg_status sg_shape_layer_norm_back(struct sg_tensor *node);
sg_status sg_shape_softmax(struct sg_tensor *node);
void sg_backward_layer_norm(struct sg_autodiff *ad, struct sg_tensor *node);
void sg_backward_softmax(struct sg_autodiff *ad, struct sg_tensor *node);
double sg_flops_layer_norm(const struct sg_tensor *node);
double sg_flops_softmax(const struct sg_tensor *node);

/* ---- fused ops: add + layer_norm, matmul + bias + activation (ops_fused.c) --------------- */
sg_status sg_shape_add_layer_norm(struct sg_tensor *node);
sg_status sg_shape_linear(struct sg_tensor *node);
void sg_backward_add_layer_norm(struct sg_autodiff *ad, struct sg_tensor *node);
void sg_backward_linear(struct sg_autodiff *ad, struct sg_tensor *node);
double sg_flops_add_layer_norm(const struct sg_tensor *node);
double sg_flops_linear(const struct sg_tensor *node);

/* ---- attention (ops_attention.c) -------------------------------------------------------- */
sg_status sg_shape_attention(struct sg_tensor *node);
sg_status sg_shape_attention_back(struct sg_tensor *node);
void sg_backward_attention(struct sg_autodiff *ad, struct sg_tensor *node);
double sg_flops_attention(const struct sg_tensor *node);
double sg_flops_attention_back(const struct sg_tensor *node);

/* ---- indexing and sparse codes (ops_sparse.c) ------------------------------------------- */
sg_status sg_shape_get_rows(struct sg_tensor *node);
sg_status sg_shape_top_k(struct sg_tensor *node);
sg_status sg_shape_gather(struct sg_tensor *node);
sg_status sg_shape_scatter(struct sg_tensor *node);
sg_status sg_shape_embed_bag(struct sg_tensor *node);
sg_status sg_shape_sparse_dot(struct sg_tensor *node);
sg_status sg_shape_scatter_outer(struct sg_tensor *node);
void sg_backward_get_rows(struct sg_autodiff *ad, struct sg_tensor *node);
void sg_backward_gather(struct sg_autodiff *ad, struct sg_tensor *node);
void sg_backward_scatter(struct sg_autodiff *ad, struct sg_tensor *node);
void sg_backward_embed_bag(struct sg_autodiff *ad, struct sg_tensor *node);
void sg_backward_sparse_dot(struct sg_autodiff *ad, struct sg_tensor *node);
void sg_backward_scatter_outer(struct sg_autodiff *ad, struct sg_tensor *node);
double sg_flops_sparse(const struct sg_tensor *node);
double sg_flops_top_k(const struct sg_tensor *node);
double sg_bytes_indexed(const struct sg_tensor *node);

/* ---- optimizer (ops_optim.c) ------------------------------------------------------------ */
sg_status sg_shape_adam_step(struct sg_tensor *node);
double sg_flops_adam_step(const struct sg_tensor *node);

#endif
