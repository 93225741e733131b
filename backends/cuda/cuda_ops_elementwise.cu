// Elementwise F32 ops: broadcasting binary ops, unary functions, activation gradients, fills,
// and the Adam step (elementwise over four operands).
#include "cuda_common.cuh"

namespace {

enum binop { BIN_ADD = 0, BIN_SUB, BIN_MUL, BIN_DIV };
enum unop {
    UN_SCALE = 0,
    UN_SQR,
    UN_SQRT,
    UN_RELU,
    UN_GELU,
    UN_LEAKY,
    UN_SIGMOID,
    UN_TANH,
    UN_CLAMP,
    UN_FILL,
    UN_EXP,
    UN_STEP
};

int binop_code(int op) {
    switch (op) {
    case SG_OP_SUB: return BIN_SUB;
    case SG_OP_MUL: return BIN_MUL;
    case SG_OP_DIV: return BIN_DIV;
    default: return BIN_ADD;
    }
}

int unop_code(int op) {
    switch (op) {
    case SG_OP_SQR: return UN_SQR;
    case SG_OP_SQRT: return UN_SQRT;
    case SG_OP_RELU: return UN_RELU;
    case SG_OP_GELU: return UN_GELU;
    case SG_OP_LEAKY_RELU: return UN_LEAKY;
    case SG_OP_SIGMOID: return UN_SIGMOID;
    case SG_OP_TANH: return UN_TANH;
    case SG_OP_CLAMP: return UN_CLAMP;
    case SG_OP_EXP: return UN_EXP;
    case SG_OP_STEP: return UN_STEP;
    default: return UN_SCALE;
    }
}

int64_t count(const cu_dims &ne) {
    int64_t n = 1;
    for (int d = 0; d < SG_MAX_DIMS; d++) n *= ne.v[d];
    return n;
}

/* Offsets of element i of the collapsed space for up to four operands. */
template <int N> struct offs { int64_t o[N]; };

template <int N> __device__ __forceinline__ offs<N> ew_offsets(int64_t i, const cu_dims &ne, const cu_dims *nb) {
    offs<N> r;
    for (int k = 0; k < N; k++) r.o[k] = 0;
    for (int d = 0; d < SG_MAX_DIMS; d++) {
        if (ne.v[d] == 1) continue;
        int64_t id = i % ne.v[d];
        i /= ne.v[d];
        for (int k = 0; k < N; k++) r.o[k] += id * nb[k].v[d];
    }
    return r;
}

struct nb3 {
    cu_dims v[3];
};
struct nb4 {
    cu_dims v[4];
};

__global__ void k_binary(char *d, const char *a, const char *b, cu_dims ne, nb3 nb, int64_t n, int op) {
    CU_FOR(i, n) {
        offs<3> o = ew_offsets<3>(i, ne, nb.v);
        float x = cu_ldf(a, o.o[1]), y = cu_ldf(b, o.o[2]), r;
        switch (op) {
        case BIN_ADD: r = x + y; break;
        case BIN_SUB: r = x - y; break;
        case BIN_MUL: r = x * y; break;
        default: r = x / y; break;
        }
        cu_stf(d, o.o[0], r);
    }
}

__device__ __forceinline__ float norm_cdf(float x) { return 0.5f * (1.0f + erff(x * 0.70710678118654752f)); }
__device__ __forceinline__ float norm_pdf(float x) { return expf(-0.5f * x * x) * 0.39894228040143268f; }

__global__ void k_unary(char *d, const char *a, cu_dims ne, nb3 nb, int64_t n, int op, float p0, float p1) {
    CU_FOR(i, n) {
        offs<2> o = ew_offsets<2>(i, ne, nb.v);
        float x   = op == UN_FILL ? 0.0f : cu_ldf(a, o.o[1]);
        float r;
        switch (op) {
        case UN_SCALE: r = p0 * x + p1; break;
        case UN_SQR: r = x * x; break;
        case UN_SQRT: r = sqrtf(x); break;
        case UN_RELU: r = x < 0.0f ? 0.0f : x; break; /* NaN passes through */
        case UN_GELU: r = x * norm_cdf(x); break;
        case UN_LEAKY: r = x > 0.0f ? x : p0 * x; break;
        case UN_SIGMOID: r = 1.0f / (1.0f + expf(-x)); break;
        case UN_TANH: r = tanhf(x); break;
        case UN_CLAMP: r = x < p0 ? p0 : (x > p1 ? p1 : x); break;
        case UN_EXP: r = expf(x); break;
        case UN_STEP: r = x > 0.0f ? 1.0f : 0.0f; break; /* NaN steps to 0 */
        default: r = p0; break;                          /* fill */
        }
        cu_stf(d, o.o[0], r);
    }
}

/* dy * f'(x) with PyTorch's values at the kinks (enum sg_act order). */
__global__ void k_act_back(char *d, const char *x, const char *dy, cu_dims ne, nb3 nb, int64_t n, int act, float alpha,
                           float lo, float hi) {
    CU_FOR(i, n) {
        offs<3> o = ew_offsets<3>(i, ne, nb.v);
        float v = cu_ldf(x, o.o[1]), g = cu_ldf(dy, o.o[2]), f;
        switch (act) {
        case SG_ACT_RELU: f = v > 0.0f ? 1.0f : 0.0f; break;
        case SG_ACT_LEAKY_RELU: f = v > 0.0f ? 1.0f : alpha; break;
        case SG_ACT_GELU: f = norm_cdf(v) + v * norm_pdf(v); break;
        default: f = (v >= lo && v <= hi) ? 1.0f : 0.0f; break;
        }
        cu_stf(d, o.o[0], g * f);
    }
}

/* hp: enum sg_adam_param order (stride hpnb); gn2: squared global gradient norm or NULL. */
__global__ void k_adam(char *w, const char *g, char *m, char *v, const char *hp, int64_t hpnb, const char *gn2,
                       cu_dims ne, nb4 nb, int64_t n) {
    const float lr = cu_ldf(hp, 0), beta1 = cu_ldf(hp, hpnb), beta2 = cu_ldf(hp, 2 * hpnb);
    const float eps = cu_ldf(hp, 3 * hpnb), wd = cu_ldf(hp, 4 * hpnb), beta1h = cu_ldf(hp, 5 * hpnb);
    const float beta2h = cu_ldf(hp, 6 * hpnb), clip = cu_ldf(hp, 7 * hpnb);
    float gscale = 1.0f;
    if (clip > 0.0f && gn2) gscale = fminf(1.0f, clip / sqrtf(cu_ldf(gn2, 0)));
    CU_FOR(i, n) {
        offs<4> o = ew_offsets<4>(i, ne, nb.v);
        float *pw = cu_ptr<float>(w, o.o[0]), *pm = cu_ptr<float>(m, o.o[2]), *pv = cu_ptr<float>(v, o.o[3]);
        float gi = gscale * cu_ldf(g, o.o[1]);
        float mi = beta1 * *pm + (1.0f - beta1) * gi;
        float vi = beta2 * *pv + (1.0f - beta2) * gi * gi;
        *pm      = mi;
        *pv      = vi;
        *pw      = *pw * (1.0f - lr * wd) - lr * (mi * beta1h) / (sqrtf(vi * beta2h) + eps);
    }
}

const unsigned THREADS = 256;

sg_status unary(sg_cuda_enc *e, const sg_tensor *dst, const sg_tensor *src, int code, float p0, float p1) {
    sg_cuda_ew ew;
    const sg_tensor *ops[2] = {dst, src};
    sg_cuda_ew_init(&ew, dst->ne, ops, 2);
    nb3 nb    = {{ew.nb[0], ew.nb[1], ew.nb[1]}};
    int64_t n = count(ew.ne);
    if (n == 0) return SG_OK;
    k_unary<<<sg_cuda_blocks(n, THREADS), THREADS, 0, e->stream>>>((char *)dst->data, (const char *)src->data, ew.ne,
                                                                   nb, n, code, p0, p1);
    return sg_cuda_launch_check("unary");
}

} // namespace

extern "C" sg_status sg_cuda_encode_binary(sg_cuda_enc *e, const sg_tensor *node) {
    sg_cuda_ew ew;
    const sg_tensor *ops[3] = {node, node->src[0], node->src[1]};
    sg_cuda_ew_init(&ew, node->ne, ops, 3);
    nb3 nb    = {{ew.nb[0], ew.nb[1], ew.nb[2]}};
    int64_t n = count(ew.ne);
    if (n == 0) return SG_OK;
    k_binary<<<sg_cuda_blocks(n, THREADS), THREADS, 0, e->stream>>>(
        (char *)node->data, (const char *)node->src[0]->data, (const char *)node->src[1]->data, ew.ne, nb, n,
        binop_code(node->op));
    return sg_cuda_launch_check("binary");
}

extern "C" sg_status sg_cuda_encode_unary(sg_cuda_enc *e, const sg_tensor *node) {
    return unary(e, node, node->src[0], unop_code(node->op), sg_get_param_f32(node, 0), sg_get_param_f32(node, 1));
}

extern "C" sg_status sg_cuda_encode_fill(sg_cuda_enc *e, const sg_tensor *t, float value) {
    return unary(e, t, t, UN_FILL, value, 0.0f);
}

extern "C" sg_status sg_cuda_encode_act_back(sg_cuda_enc *e, const sg_tensor *node) {
    sg_cuda_ew ew;
    const sg_tensor *ops[3] = {node, node->src[0], node->src[1]};
    sg_cuda_ew_init(&ew, node->ne, ops, 3);
    nb3 nb    = {{ew.nb[0], ew.nb[1], ew.nb[2]}};
    int64_t n = count(ew.ne);
    if (n == 0) return SG_OK;
    k_act_back<<<sg_cuda_blocks(n, THREADS), THREADS, 0, e->stream>>>(
        (char *)node->data, (const char *)node->src[0]->data, (const char *)node->src[1]->data, ew.ne, nb, n,
        sg_get_param_i32(node, 0), sg_get_param_f32(node, 1), sg_get_param_f32(node, 2), sg_get_param_f32(node, 3));
    return sg_cuda_launch_check("act_back");
}

/* In place on w (through the node, a view of w), m and v. */
extern "C" sg_status sg_cuda_encode_adam_step(sg_cuda_enc *e, const sg_tensor *node) {
    const sg_tensor *g = node->src[1], *m = node->src[2], *v = node->src[3];
    const sg_tensor *hp = node->src[4], *gn2 = node->src[5];
    sg_cuda_ew ew;
    const sg_tensor *ops[4] = {node, g, m, v};
    sg_cuda_ew_init(&ew, g->ne, ops, 4);
    nb4 nb    = {{ew.nb[0], ew.nb[1], ew.nb[2], ew.nb[3]}};
    int64_t n = count(ew.ne);
    if (n == 0) return SG_OK;
    k_adam<<<sg_cuda_blocks(n, THREADS), THREADS, 0, e->stream>>>(
        (char *)node->data, (const char *)g->data, (char *)m->data, (char *)v->data, (const char *)hp->data,
        (int64_t)hp->nb[0], gn2 ? (const char *)gn2->data : nullptr, ew.ne, nb, n);
    return sg_cuda_launch_check("adam_step");
}
