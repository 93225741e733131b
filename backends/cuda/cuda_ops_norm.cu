// LAYER_NORM, LAYER_NORM_BACK, ADD_LAYER_NORM and SOFTMAX along ne[0]: one block per row (rows are dims 1..5).
// Statistics are two-pass in f32, reduced in a fixed tree (deterministic).
#include "cuda_common.cuh"

namespace {

const unsigned ROW_THREADS = 256;

struct vec {
    const char *p; /* NULL when absent */
    int64_t nb;
};

__device__ __forceinline__ float vec_or(const vec &v, int64_t c, float dflt) {
    return v.p ? cu_ldf(v.p, c * v.nb) : dflt;
}

/* Mean and 1/sqrt(var + eps) of a row (biased variance, like PyTorch). */
__device__ float2 row_stats(const char *x, int64_t xnb0, int64_t C, float eps, float *scratch) {
    float s = 0.0f;
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) s += cu_ldf(x, c * xnb0);
    const float mean = cu_block_sum(s, scratch) / (float)C;
    float ss         = 0.0f;
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
        float dlt = cu_ldf(x, c * xnb0) - mean;
        ss += dlt * dlt;
    }
    const float var = cu_block_sum(ss, scratch) / (float)C;
    return make_float2(mean, rsqrtf(var + eps));
}

__global__ void k_layer_norm(char *y, const char *x, vec w, vec b, cu_dims ne, cu_dims xnb, cu_dims ynb, int64_t rows,
                             float eps) {
    __shared__ float scratch[ROW_THREADS];
    for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
        const char *xr = x + cu_offset_row(row, ne, xnb);
        char *yr       = y + cu_offset_row(row, ne, ynb);
        float2 st      = row_stats(xr, xnb.v[0], ne.v[0], eps, scratch);
        for (int64_t c = threadIdx.x; c < ne.v[0]; c += blockDim.x) {
            float xhat = (cu_ldf(xr, c * xnb.v[0]) - st.x) * st.y;
            cu_stf(yr, c * ynb.v[0], xhat * vec_or(w, c, 1.0f) + vec_or(b, c, 0.0f));
        }
        __syncthreads(); /* y may alias x (in place): the next row's stats must not race */
    }
}

/* s = x + r into the first block of the packed output (s + row * C), LN(s) into the second
 * (s + n + row * C); each thread reads back only the s it wrote itself. */
__global__ void k_add_layer_norm(float *out, const char *x, const char *r, vec w, vec b, cu_dims ne, cu_dims xnb,
                                 cu_dims rnb, int64_t rows, int64_t n, float eps) {
    __shared__ float scratch[ROW_THREADS];
    const int64_t C = ne.v[0];
    for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
        const char *xr = x + cu_offset_row(row, ne, xnb);
        const char *rr = r + cu_offset_row(row, ne, rnb);
        float *s = out + row * C, *y = out + n + row * C;
        float sum = 0.0f;
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
            s[c] = cu_ldf(xr, c * xnb.v[0]) + cu_ldf(rr, c * rnb.v[0]);
            sum += s[c];
        }
        const float mean = cu_block_sum(sum, scratch) / (float)C;
        float ss         = 0.0f;
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) ss += (s[c] - mean) * (s[c] - mean);
        const float rstd = rsqrtf(cu_block_sum(ss, scratch) / (float)C + eps);
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x)
            y[c] = (s[c] - mean) * rstd * vec_or(w, c, 1.0f) + vec_or(b, c, 0.0f);
    }
}

/* dx = rstd (g - mean(g) - xhat mean(g xhat)), g = dy * w. */
__global__ void k_layer_norm_back(char *dx, const char *x, const char *dy, vec w, cu_dims ne, cu_dims xnb, cu_dims dynb,
                                  cu_dims dxnb, int64_t rows, float eps) {
    __shared__ float scratch[ROW_THREADS];
    const int64_t C = ne.v[0];
    for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
        const char *xr  = x + cu_offset_row(row, ne, xnb);
        const char *dyr = dy + cu_offset_row(row, ne, dynb);
        char *dxr       = dx + cu_offset_row(row, ne, dxnb);
        float2 st       = row_stats(xr, xnb.v[0], C, eps, scratch);
        float sg = 0.0f, sgx = 0.0f;
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
            float xhat = (cu_ldf(xr, c * xnb.v[0]) - st.x) * st.y;
            float g    = cu_ldf(dyr, c * dynb.v[0]) * vec_or(w, c, 1.0f);
            sg += g;
            sgx += g * xhat;
        }
        const float mean_g  = cu_block_sum(sg, scratch) / (float)C;
        const float mean_gx = cu_block_sum(sgx, scratch) / (float)C;
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
            float xhat = (cu_ldf(xr, c * xnb.v[0]) - st.x) * st.y;
            float g    = cu_ldf(dyr, c * dynb.v[0]) * vec_or(w, c, 1.0f);
            cu_stf(dxr, c * dxnb.v[0], st.y * (g - mean_g - xhat * mean_gx));
        }
        __syncthreads();
    }
}

/* Shifted by the row maximum so exp never overflows. In place is safe: each element is read and
 * written by the same thread, after both reductions. */
__global__ void k_softmax(char *y, const char *x, cu_dims ne, cu_dims xnb, cu_dims ynb, int64_t rows) {
    __shared__ float scratch[ROW_THREADS];
    const int64_t C = ne.v[0];
    for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
        const char *xr = x + cu_offset_row(row, ne, xnb);
        char *yr       = y + cu_offset_row(row, ne, ynb);
        float mx       = -INFINITY;
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) mx = fmaxf(mx, cu_ldf(xr, c * xnb.v[0]));
        mx      = cu_block_max(mx, scratch);
        float s = 0.0f;
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) s += expf(cu_ldf(xr, c * xnb.v[0]) - mx);
        const float sum = cu_block_sum(s, scratch);
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x)
            cu_stf(yr, c * ynb.v[0], expf(cu_ldf(xr, c * xnb.v[0]) - mx) / sum);
        __syncthreads();
    }
}

vec vec_of(const sg_tensor *t) { return t ? vec{(const char *)t->data, (int64_t)t->nb[0]} : vec{nullptr, 0}; }

unsigned row_blocks(int64_t rows) { return rows > 65535 * 16 ? 65535 * 16 : (unsigned)rows; }

} // namespace

extern "C" sg_status sg_cuda_encode_layer_norm(sg_cuda_enc *e, const sg_tensor *node) {
    const sg_tensor *x = node->src[0];
    int64_t rows       = sg_nrows(x);
    if (sg_nelements(x) == 0) return SG_OK;
    k_layer_norm<<<row_blocks(rows), ROW_THREADS, 0, e->stream>>>(
        (char *)node->data, (const char *)x->data, vec_of(node->src[1]), vec_of(node->src[2]), sg_cuda_ne(x),
        sg_cuda_nb(x), sg_cuda_nb(node), rows, sg_get_param_f32(node, 0));
    return sg_cuda_launch_check("layer_norm");
}

extern "C" sg_status sg_cuda_encode_layer_norm_back(sg_cuda_enc *e, const sg_tensor *node) {
    const sg_tensor *x = node->src[0], *dy = node->src[1];
    int64_t rows = sg_nrows(x);
    if (sg_nelements(x) == 0) return SG_OK;
    k_layer_norm_back<<<row_blocks(rows), ROW_THREADS, 0, e->stream>>>(
        (char *)node->data, (const char *)x->data, (const char *)dy->data, vec_of(node->src[2]), sg_cuda_ne(x),
        sg_cuda_nb(x), sg_cuda_nb(dy), sg_cuda_nb(node), rows, sg_get_param_f32(node, 0));
    return sg_cuda_launch_check("layer_norm_back");
}

extern "C" sg_status sg_cuda_encode_add_layer_norm(sg_cuda_enc *e, const sg_tensor *node) {
    const sg_tensor *x = node->src[0], *r = node->src[1];
    int64_t rows = sg_nrows(x);
    if (sg_nelements(x) == 0) return SG_OK;
    k_add_layer_norm<<<row_blocks(rows), ROW_THREADS, 0, e->stream>>>(
        (float *)node->data, (const char *)x->data, (const char *)r->data, vec_of(node->src[2]), vec_of(node->src[3]),
        sg_cuda_ne(x), sg_cuda_nb(x), sg_cuda_nb(r), rows, sg_nelements(x), sg_get_param_f32(node, 0));
    return sg_cuda_launch_check("add_layer_norm");
}

extern "C" sg_status sg_cuda_encode_softmax(sg_cuda_enc *e, const sg_tensor *node) {
    const sg_tensor *x = node->src[0];
    int64_t rows       = sg_nrows(x);
    if (sg_nelements(x) == 0) return SG_OK;
    k_softmax<<<row_blocks(rows), ROW_THREADS, 0, e->stream>>>((char *)node->data, (const char *)x->data, sg_cuda_ne(x),
                                                               sg_cuda_nb(x), sg_cuda_nb(node), rows);
    return sg_cuda_launch_check("softmax");
}
