/* The fast CPU kernels, one family per file; cpu_kernels.c puts them in sg_cpu_kernels.
 * Each compute function is called by every pool thread (p->ith of p->nth) for the same node. */
#ifndef SG_CPU_OPS_H
#define SG_CPU_OPS_H

#include "backends/cpu/cpu_kernels.h"

/* cpu_copy.c: CONT, CPY */
void sg_cpu_copy_compute(const struct sg_cpu_params *p, struct sg_tensor *dst);
size_t sg_cpu_copy_work_size(const struct sg_tensor *node, int nth);

/* cpu_binary.c: ADD, SUB, MUL, DIV */
void sg_cpu_binary_compute(const struct sg_cpu_params *p, struct sg_tensor *dst);

/* cpu_unary.c: SCALE .. CLAMP, ACT_BACK */
void sg_cpu_unary_compute(const struct sg_cpu_params *p, struct sg_tensor *dst);
void sg_cpu_act_back_compute(const struct sg_cpu_params *p, struct sg_tensor *dst);

/* cpu_reduce.c: SUM_TO, REPEAT */
void sg_cpu_sum_to_compute(const struct sg_cpu_params *p, struct sg_tensor *dst);
size_t sg_cpu_sum_to_work_size(const struct sg_tensor *node, int nth);
void sg_cpu_repeat_compute(const struct sg_cpu_params *p, struct sg_tensor *dst);

/* cpu_matmul.c: MATMUL (OpenBLAS for large products, cpu_gemm.c for small ones) */
void sg_cpu_matmul_compute(const struct sg_cpu_params *p, struct sg_tensor *dst);
size_t sg_cpu_matmul_work_size(const struct sg_tensor *node, int nth);
/* LINEAR: the product with a bias + activation epilogue on each tile */
void sg_cpu_linear_compute(const struct sg_cpu_params *p, struct sg_tensor *dst);
size_t sg_cpu_linear_work_size(const struct sg_tensor *node, int nth);

/* cpu_norm.c: LAYER_NORM, LAYER_NORM_BACK, ADD_LAYER_NORM */
void sg_cpu_layer_norm_compute(const struct sg_cpu_params *p, struct sg_tensor *dst);
void sg_cpu_add_layer_norm_compute(const struct sg_cpu_params *p, struct sg_tensor *dst);
void sg_cpu_layer_norm_back_compute(const struct sg_cpu_params *p, struct sg_tensor *dst);
size_t sg_cpu_norm_work_size(const struct sg_tensor *node, int nth);

/* cpu_softmax.c: SOFTMAX */
void sg_cpu_softmax_compute(const struct sg_cpu_params *p, struct sg_tensor *dst);
size_t sg_cpu_softmax_work_size(const struct sg_tensor *node, int nth);

/* cpu_attention.c, cpu_attention_back.c: ATTENTION, ATTENTION_BACK */
void sg_cpu_attention_compute(const struct sg_cpu_params *p, struct sg_tensor *dst);
size_t sg_cpu_attention_work_size(const struct sg_tensor *node, int nth);
void sg_cpu_attention_back_compute(const struct sg_cpu_params *p, struct sg_tensor *dst);
size_t sg_cpu_attention_back_work_size(const struct sg_tensor *node, int nth);

/* cpu_index.c: GET_ROWS, GATHER, SCATTER */
void sg_cpu_get_rows_compute(const struct sg_cpu_params *p, struct sg_tensor *dst);
void sg_cpu_gather_compute(const struct sg_cpu_params *p, struct sg_tensor *dst);
void sg_cpu_scatter_compute(const struct sg_cpu_params *p, struct sg_tensor *dst);

/* cpu_topk.c: TOP_K */
void sg_cpu_top_k_compute(const struct sg_cpu_params *p, struct sg_tensor *dst);
size_t sg_cpu_top_k_work_size(const struct sg_tensor *node, int nth);

/* cpu_sparse.c: EMBED_BAG, SPARSE_DOT, SCATTER_OUTER */
void sg_cpu_embed_bag_compute(const struct sg_cpu_params *p, struct sg_tensor *dst);
void sg_cpu_sparse_dot_compute(const struct sg_cpu_params *p, struct sg_tensor *dst);
void sg_cpu_scatter_outer_compute(const struct sg_cpu_params *p, struct sg_tensor *dst);
size_t sg_cpu_sparse_work_size(const struct sg_tensor *node, int nth);
size_t sg_cpu_scatter_outer_work_size(const struct sg_tensor *node, int nth);

/* cpu_optim.c: ADAM_STEP */
void sg_cpu_adam_step_compute(const struct sg_cpu_params *p, struct sg_tensor *dst);

#endif
