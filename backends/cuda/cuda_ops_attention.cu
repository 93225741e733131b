// ATTENTION (flash-style) and ATTENTION_BACK, fp32 on CUDA cores: the straightforward port of
// the OpenCL kernels, correct first. Never forms the S x S score matrix: keys stream through
// shared memory in blocks of BK while a block of BQ queries keeps a running max, sum and output
// (online softmax). The backward pass recomputes probabilities from the row statistics
// L = max + log(sum) and Dd = dO . O that k_attn_fwd writes in stats mode, then one kernel forms
// dq per query block and another dk, dv per key block: no atomics, deterministic.
//
// q [D, H, Sq, B], k [D, H, Sk, B], v [Dv, H, Sk, B] with byte strides; key mask I32 [Sk, B] of
// enum sg_attn_key codes (or none). Blocks: x a block of queries (or keys), y the head, z the
// batch (grid y and z are at most 65535: checked in supports).
#include <stdlib.h>

#include "cuda_common.cuh"
#include "cuda_internal.h"

namespace {

const int MAX_BLOCK    = 32;
const unsigned THREADS = 128;

struct attn_args {
    const char *q, *k, *v, *mask; /* mask NULL: every key visible */
    cu_dims qnb, knb, vnb;
    int64_t mnb0, mnb1;
    int D, Dv, H, Sq, Sk, B;
    float scale;
    int BQ, BK;
};

__device__ __forceinline__ int key_code(const attn_args &a, int64_t j, int64_t b) {
    return a.mask ? *cu_ptr<int32_t>(a.mask, j * a.mnb0 + b * a.mnb1) : SG_ATTN_KEY_VISIBLE;
}

__device__ __forceinline__ bool key_visible(int code, int64_t iq, int64_t j) {
    return code == SG_ATTN_KEY_VISIBLE || (code == SG_ATTN_KEY_SELF && iq == j);
}

/* rows [r0, r0 + n) of a [width, H, S, B] operand into dst (row stride `stride`), times mul. */
__device__ void load_rows(float *dst, int stride, const char *src, const cu_dims &nb, int64_t h, int64_t b, int64_t r0,
                          int n, int width, float mul) {
    for (int t = threadIdx.x; t < n * width; t += blockDim.x) {
        int r = t / width, c = t % width;
        int64_t o           = c * nb.v[0] + h * nb.v[1] + (r0 + r) * nb.v[2] + b * nb.v[3];
        dst[r * stride + c] = mul * cu_ldf(src, o);
    }
}

__device__ __forceinline__ float dot_sh(const float *a, const float *b, int n) {
    float s = 0.0f;
    for (int d = 0; d < n; d++) s += a[d] * b[d];
    return s;
}

/* mode 0: out = attention output [Dv, H, Sq, B] (strides onb).
 * mode 1: stats[row] = L, stats[n_rows + row] = dO . O for row = (b H + h) Sq + iq, dO read from
 *         dout (strides dnb); out is unused. */
__global__ void k_attn_fwd(char *out, cu_dims onb, attn_args a, int mode, float *stats, const char *dout, cu_dims dnb) {
    extern __shared__ float lm[];
    const int64_t h = blockIdx.y, b = blockIdx.z;
    const int BQ = a.BQ, BK = a.BK, D = a.D, Dv = a.Dv;
    const int i0 = blockIdx.x * BQ, nq = min(BQ, a.Sq - i0);
    const int lid = threadIdx.x, W = blockDim.x, KS = D + 1;
    float *Qs   = lm;           /* [BQ][D], pre-scaled */
    float *Ks   = Qs + BQ * D;  /* [BK][D + 1] (padded against bank conflicts) */
    float *Vs   = Ks + BK * KS; /* [BK][Dv] */
    float *S    = Vs + BK * Dv; /* [BQ][BK] scores, then probabilities */
    float *O    = S + BQ * BK;  /* [BQ][Dv] unnormalised output */
    float *mrow = O + BQ * Dv;  /* running max */
    float *lrow = mrow + BQ;    /* running sum */
    float *arow = lrow + BQ;    /* rescale factor of this block */
    int *vis    = reinterpret_cast<int *>(arow + BQ);

    load_rows(Qs, D, a.q, a.qnb, h, b, i0, nq, D, a.scale);
    for (int t = lid; t < nq * Dv; t += W) O[t] = 0.0f;
    for (int i = lid; i < nq; i += W) {
        mrow[i] = -INFINITY;
        lrow[i] = 0.0f;
    }
    for (int j0 = 0; j0 < a.Sk; j0 += BK) {
        const int nk = min(BK, a.Sk - j0);
        __syncthreads();
        load_rows(Ks, KS, a.k, a.knb, h, b, j0, nk, D, 1.0f);
        load_rows(Vs, Dv, a.v, a.vnb, h, b, j0, nk, Dv, 1.0f);
        for (int j = lid; j < nk; j += W) vis[j] = key_code(a, j0 + j, b);
        __syncthreads();
        for (int t = lid; t < nq * nk; t += W) {
            int i = t / nk, j = t % nk;
            bool seen     = key_visible(vis[j], i0 + i, j0 + j);
            S[i * BK + j] = seen ? dot_sh(Qs + i * D, Ks + j * KS, D) : -INFINITY;
        }
        __syncthreads();
        for (int i = lid; i < nq; i += W) {
            float mx = mrow[i];
            for (int j = 0; j < nk; j++) mx = fmaxf(mx, S[i * BK + j]);
            float alpha = 1.0f, sum = 0.0f;
            if (mx == -INFINITY) { /* nothing visible yet: keep zeros */
                for (int j = 0; j < nk; j++) S[i * BK + j] = 0.0f;
            } else {
                alpha = expf(mrow[i] - mx);
                for (int j = 0; j < nk; j++) {
                    float p       = expf(S[i * BK + j] - mx);
                    S[i * BK + j] = p;
                    sum += p;
                }
            }
            lrow[i] = lrow[i] * alpha + sum;
            mrow[i] = mx;
            arow[i] = alpha;
        }
        __syncthreads();
        for (int t = lid; t < nq * Dv; t += W) {
            int i = t / Dv, e = t % Dv;
            float acc = O[t] * arow[i];
            for (int j = 0; j < nk; j++) acc += S[i * BK + j] * Vs[j * Dv + e];
            O[t] = acc;
        }
    }
    __syncthreads();
    if (mode == 0) {
        for (int t = lid; t < nq * Dv; t += W) {
            int i = t / Dv, e = t % Dv;
            float l = lrow[i];
            cu_stf(out, e * onb.v[0] + h * onb.v[1] + (i0 + i) * onb.v[2] + b * onb.v[3], l > 0.0f ? O[t] / l : 0.0f);
        }
    } else {
        const int64_t n_rows = (int64_t)a.Sq * a.H * a.B, row0 = (b * a.H + h) * a.Sq + i0;
        for (int i = lid; i < nq; i += W) {
            float l = lrow[i], dd = 0.0f;
            for (int e = 0; l > 0.0f && e < Dv; e++)
                dd += cu_ldf(dout, e * dnb.v[0] + h * dnb.v[1] + (i0 + i) * dnb.v[2] + b * dnb.v[3]) *
                      (O[i * Dv + e] / l);
            /* a query that sees no key gets L = +inf, so every recomputed probability is 0 */
            stats[row0 + i]          = l > 0.0f ? mrow[i] + logf(l) : INFINITY;
            stats[n_rows + row0 + i] = dd;
        }
    }
}

/* dS[i][j] = P (dP - Dd_i) for a block of queries and keys, with P = exp(q.k - L) and
 * dP = dO_i . v_j; also P itself into P_out when given. */
__device__ void attn_ds(float *dS, float *P_out, int BK, const float *Qs, const float *dOs, const float *Ks,
                        const float *Vs, const int *vis, const float *L, const float *Dd, int D, int Dv, int i0, int nq,
                        int j0, int nk) {
    const int KS = D + 1, VS = Dv + 1;
    for (int t = threadIdx.x; t < nq * nk; t += blockDim.x) {
        int i = t / nk, j = t % nk;
        float p = 0.0f, dp = 0.0f;
        if (key_visible(vis[j], i0 + i, j0 + j)) {
            p = expf(dot_sh(Qs + i * D, Ks + j * KS, D) - L[i]);
            for (int e = 0; e < Dv; e++) dp += dOs[i * Dv + e] * Vs[j * VS + e];
        }
        dS[i * BK + j] = p * (dp - Dd[i]);
        if (P_out) P_out[i * BK + j] = p;
    }
}

__device__ void load_stats(float *L, float *Dd, const float *stats, int64_t n_rows, int64_t row0, int nq) {
    for (int i = threadIdx.x; i < nq; i += blockDim.x) {
        L[i]  = stats[row0 + i];
        Dd[i] = stats[n_rows + row0 + i];
    }
}

/* dq = scale dS k for a block of BQ queries; dst is the packed [dq | dk | dv] output. */
__global__ void k_attn_bwd_dq(float *dst, attn_args a, const float *stats, const char *dout, cu_dims dnb) {
    extern __shared__ float lm[];
    const int64_t h = blockIdx.y, b = blockIdx.z;
    const int BQ = a.BQ, BK = a.BK, D = a.D, Dv = a.Dv;
    const int i0 = blockIdx.x * BQ, nq = min(BQ, a.Sq - i0);
    const int lid = threadIdx.x, W = blockDim.x, KS = D + 1, VS = Dv + 1;
    const int64_t n_rows = (int64_t)a.Sq * a.H * a.B;
    float *Qs            = lm;            /* [BQ][D] pre-scaled */
    float *dOs           = Qs + BQ * D;   /* [BQ][Dv] */
    float *L             = dOs + BQ * Dv; /* [BQ] */
    float *Dd            = L + BQ;        /* [BQ] */
    float *Ks            = Dd + BQ;       /* [BK][D + 1] */
    float *Vs            = Ks + BK * KS;  /* [BK][Dv + 1] */
    float *dS            = Vs + BK * VS;  /* [BQ][BK] */
    float *dQ            = dS + BQ * BK;  /* [BQ][D] */
    int *vis             = reinterpret_cast<int *>(dQ + BQ * D);

    load_rows(Qs, D, a.q, a.qnb, h, b, i0, nq, D, a.scale);
    load_rows(dOs, Dv, dout, dnb, h, b, i0, nq, Dv, 1.0f);
    load_stats(L, Dd, stats, n_rows, (b * a.H + h) * a.Sq + i0, nq);
    for (int t = lid; t < nq * D; t += W) dQ[t] = 0.0f;
    for (int j0 = 0; j0 < a.Sk; j0 += BK) {
        const int nk = min(BK, a.Sk - j0);
        __syncthreads();
        load_rows(Ks, KS, a.k, a.knb, h, b, j0, nk, D, 1.0f);
        load_rows(Vs, VS, a.v, a.vnb, h, b, j0, nk, Dv, 1.0f);
        for (int j = lid; j < nk; j += W) vis[j] = key_code(a, j0 + j, b);
        __syncthreads();
        attn_ds(dS, nullptr, BK, Qs, dOs, Ks, Vs, vis, L, Dd, D, Dv, i0, nq, j0, nk);
        __syncthreads();
        for (int t = lid; t < nq * D; t += W) {
            int i = t / D, d = t % D;
            float acc = dQ[t];
            for (int j = 0; j < nk; j++) acc += dS[i * BK + j] * Ks[j * KS + d];
            dQ[t] = acc;
        }
    }
    __syncthreads();
    for (int t = lid; t < nq * D; t += W) {
        int i = t / D, d = t % D;
        dst[d + (int64_t)D * (h + a.H * (i0 + i + (int64_t)a.Sq * b))] = a.scale * dQ[t];
    }
}

/* dk = scale dS^T q and dv = P^T dO for a block of BK keys, written after dq in dst. */
__global__ void k_attn_bwd_dkdv(float *dst, attn_args a, const float *stats, const char *dout, cu_dims dnb) {
    extern __shared__ float lm[];
    const int64_t h = blockIdx.y, b = blockIdx.z;
    const int BQ = a.BQ, BK = a.BK, D = a.D, Dv = a.Dv;
    const int j0 = blockIdx.x * BK, nk = min(BK, a.Sk - j0);
    const int lid = threadIdx.x, W = blockDim.x, KS = D + 1, VS = Dv + 1;
    const int64_t n_rows = (int64_t)a.Sq * a.H * a.B;
    float *Ks            = lm;            /* [BK][D + 1] */
    float *Vs            = Ks + BK * KS;  /* [BK][Dv + 1] */
    float *dK            = Vs + BK * VS;  /* [BK][D] */
    float *dV            = dK + BK * D;   /* [BK][Dv] */
    float *Qs            = dV + BK * Dv;  /* [BQ][D] pre-scaled */
    float *dOs           = Qs + BQ * D;   /* [BQ][Dv] */
    float *L             = dOs + BQ * Dv; /* [BQ] */
    float *Dd            = L + BQ;        /* [BQ] */
    float *P             = Dd + BQ;       /* [BQ][BK] */
    float *dS            = P + BQ * BK;   /* [BQ][BK] */
    int *vis             = reinterpret_cast<int *>(dS + BQ * BK);

    load_rows(Ks, KS, a.k, a.knb, h, b, j0, nk, D, 1.0f);
    load_rows(Vs, VS, a.v, a.vnb, h, b, j0, nk, Dv, 1.0f);
    for (int j = lid; j < nk; j += W) vis[j] = key_code(a, j0 + j, b);
    for (int t = lid; t < nk * D; t += W) dK[t] = 0.0f;
    for (int t = lid; t < nk * Dv; t += W) dV[t] = 0.0f;
    for (int i0 = 0; i0 < a.Sq; i0 += BQ) {
        const int nq = min(BQ, a.Sq - i0);
        __syncthreads();
        load_rows(Qs, D, a.q, a.qnb, h, b, i0, nq, D, a.scale);
        load_rows(dOs, Dv, dout, dnb, h, b, i0, nq, Dv, 1.0f);
        load_stats(L, Dd, stats, n_rows, (b * a.H + h) * a.Sq + i0, nq);
        __syncthreads();
        attn_ds(dS, P, BK, Qs, dOs, Ks, Vs, vis, L, Dd, D, Dv, i0, nq, j0, nk);
        __syncthreads();
        for (int t = lid; t < nk * D; t += W) {
            int j = t / D, d = t % D;
            float acc = dK[t];
            for (int i = 0; i < nq; i++) acc += dS[i * BK + j] * Qs[i * D + d];
            dK[t] = acc;
        }
        for (int t = lid; t < nk * Dv; t += W) {
            int j = t / Dv, e = t % Dv;
            float acc = dV[t];
            for (int i = 0; i < nq; i++) acc += P[i * BK + j] * dOs[i * Dv + e];
            dV[t] = acc;
        }
    }
    __syncthreads();
    const int64_t dk0 = (int64_t)D * a.H * a.Sq * a.B, dv0 = dk0 + (int64_t)D * a.H * a.Sk * a.B;
    for (int t = lid; t < nk * D; t += W) {
        int j = t / D, d = t % D;
        dst[dk0 + d + (int64_t)D * (h + a.H * (j0 + j + (int64_t)a.Sk * b))] = dK[t];
    }
    for (int t = lid; t < nk * Dv; t += W) {
        int j = t / Dv, e = t % Dv;
        dst[dv0 + e + (int64_t)Dv * (h + a.H * (j0 + j + (int64_t)a.Sk * b))] = dV[t];
    }
}

struct attn_dims {
    int64_t D, Dv, H, Sq, Sk, B;
};

attn_dims dims_of(const sg_tensor *node) {
    const sg_tensor *q = node->src[0], *k = node->src[1], *v = node->src[2];
    return attn_dims{q->ne[0], v->ne[0], q->ne[1], q->ne[2], k->ne[2], q->ne[3]};
}

/* Shared memory (bytes) of each kernel for blocks of n queries and n keys. */
size_t smem_fwd(const attn_dims &a, size_t n) {
    return sizeof(float) * (n * a.D + n * (a.D + 1) + n * a.Dv + n * n + n * a.Dv + 3 * n) + sizeof(int) * n;
}
size_t smem_dq(const attn_dims &a, size_t n) {
    return sizeof(float) * (2 * n * a.D + n * a.Dv + 2 * n + n * (a.D + 1) + n * (a.Dv + 1) + n * n) + sizeof(int) * n;
}
size_t smem_dkdv(const attn_dims &a, size_t n) {
    return sizeof(float) *
               (n * (a.D + 1) + n * (a.Dv + 1) + n * a.D + n * a.Dv + n * a.D + n * a.Dv + 2 * n + 2 * n * n) +
           sizeof(int) * n;
}

/* The largest block that fits every kernel the op runs within the device's opt-in shared memory. */
size_t block_size(const sg_cuda_device *d, const attn_dims &a, bool backward) {
    const size_t avail = d->smem_optin;
    for (size_t n = MAX_BLOCK; n >= 1; n /= 2) {
        bool fits = smem_fwd(a, n) <= avail;
        if (backward) fits = fits && smem_dq(a, n) <= avail && smem_dkdv(a, n) <= avail;
        if (fits) return n;
    }
    return 0;
}

attn_args args_of(const sg_tensor *node, const attn_dims &d, size_t blk) {
    const sg_tensor *mask = node->src[3];
    attn_args a;
    a.q     = (const char *)node->src[0]->data;
    a.k     = (const char *)node->src[1]->data;
    a.v     = (const char *)node->src[2]->data;
    a.mask  = mask ? (const char *)mask->data : nullptr;
    a.qnb   = sg_cuda_nb(node->src[0]);
    a.knb   = sg_cuda_nb(node->src[1]);
    a.vnb   = sg_cuda_nb(node->src[2]);
    a.mnb0  = mask ? (int64_t)mask->nb[0] : 0;
    a.mnb1  = mask ? (int64_t)mask->nb[1] : 0;
    a.D     = (int)d.D;
    a.Dv    = (int)d.Dv;
    a.H     = (int)d.H;
    a.Sq    = (int)d.Sq;
    a.Sk    = (int)d.Sk;
    a.B     = (int)d.B;
    a.scale = sg_get_param_f32(node, 0);
    a.BQ = a.BK = (int)blk;
    return a;
}

/* Kernels asking for more than the default 48 KiB of dynamic shared memory must say so first. */
template <typename K> sg_status allow_smem(K kernel, size_t bytes) {
    if (bytes <= 48 * 1024) return SG_OK;
    return sg_cuda_check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes),
                         "cudaFuncSetAttribute");
}

sg_status encode_fwd(sg_cuda_enc *e, const sg_tensor *node, const sg_tensor *out, const sg_tensor *dout, int mode,
                     size_t blk) {
    attn_dims d  = dims_of(node);
    attn_args a  = args_of(node, d, blk);
    size_t smem  = smem_fwd(d, blk);
    sg_status st = allow_smem(k_attn_fwd, smem);
    if (st != SG_OK) return st;
    cu_dims onb = {}, dnb = {};
    if (out) onb = sg_cuda_nb(out);
    if (dout) dnb = sg_cuda_nb(dout);
    dim3 grid((unsigned)((d.Sq + (int64_t)blk - 1) / (int64_t)blk), (unsigned)d.H, (unsigned)d.B);
    k_attn_fwd<<<grid, THREADS, smem, e->stream>>>(out ? (char *)out->data : nullptr, onb, a, mode, (float *)e->scratch,
                                                   dout ? (const char *)dout->data : nullptr, dnb);
    return sg_cuda_launch_check("attn_fwd");
}

} // namespace

extern "C" bool sg_cuda_supports_attention(const sg_cuda_device *dev, const sg_tensor *node) {
    attn_dims a = dims_of(node);
    if (a.D > INT32_MAX || a.Dv > INT32_MAX || a.Sq > INT32_MAX || a.Sk > INT32_MAX) return false;
    if (a.H > 65535 || a.B > 65535) return false; /* grid y and z */
    return block_size(dev, a, node->op == SG_OP_ATTENTION_BACK) > 0;
}

extern "C" size_t sg_cuda_scratch_attention(const sg_cuda_device *d, const sg_tensor *node) {
    (void)d;
    attn_dims a = dims_of(node);
    if (node->op != SG_OP_ATTENTION_BACK) return 0;
    return sg_cuda_align(2 * sizeof(float) * (size_t)(a.B * a.H * a.Sq));
}

/* The tensor-core forward (cuda_ops_attention_tc.cu). */
extern "C" bool sg_cuda_attention_tc_fits(const sg_cuda_device *d, const sg_tensor *node);
extern "C" sg_status sg_cuda_encode_attention_tc(sg_cuda_enc *e, const sg_tensor *node);

/* SAEG_CUDA_TC_ATTENTION=0 keeps the fp32 kernel for the forward pass too (read once). */
static bool tc_attention_enabled() {
    static int enabled = -1;
    if (enabled < 0) {
        const char *v = getenv("SAEG_CUDA_TC_ATTENTION");
        enabled       = !(v && v[0] == '0' && v[1] == '\0');
    }
    return enabled != 0;
}

extern "C" sg_status sg_cuda_encode_attention(sg_cuda_enc *e, const sg_tensor *node) {
    attn_dims a = dims_of(node);
    if (sg_nelements(node) == 0) return SG_OK;
    if (a.Sk == 0 || a.D == 0) return sg_cuda_encode_fill(e, node, 0.0f);
    if (tc_attention_enabled() && sg_cuda_attention_tc_fits(e->dev, node)) return sg_cuda_encode_attention_tc(e, node);
    return encode_fwd(e, node, node, nullptr, 0, block_size(e->dev, a, false));
}

extern "C" sg_status sg_cuda_encode_attention_back(sg_cuda_enc *e, const sg_tensor *node) {
    attn_dims d = dims_of(node);
    if (sg_nelements(node) == 0) return SG_OK;
    if (d.Sk == 0 || d.Sq == 0 || d.D == 0 || d.H == 0 || d.B == 0) return sg_cuda_encode_fill(e, node, 0.0f);
    const sg_tensor *dout = node->src[4];
    size_t blk            = block_size(e->dev, d, true);
    sg_status st          = encode_fwd(e, node, nullptr, dout, 1, blk);
    if (st != SG_OK) return st;
    attn_args a       = args_of(node, d, blk);
    const float *stat = (const float *)e->scratch;
    size_t smem       = smem_dq(d, blk);
    st                = allow_smem(k_attn_bwd_dq, smem);
    if (st != SG_OK) return st;
    dim3 gq((unsigned)((d.Sq + (int64_t)blk - 1) / (int64_t)blk), (unsigned)d.H, (unsigned)d.B);
    k_attn_bwd_dq<<<gq, THREADS, smem, e->stream>>>((float *)node->data, a, stat, (const char *)dout->data,
                                                    sg_cuda_nb(dout));
    st = sg_cuda_launch_check("attn_bwd_dq");
    if (st != SG_OK) return st;
    smem = smem_dkdv(d, blk);
    st   = allow_smem(k_attn_bwd_dkdv, smem);
    if (st != SG_OK) return st;
    dim3 gk((unsigned)((d.Sk + (int64_t)blk - 1) / (int64_t)blk), (unsigned)d.H, (unsigned)d.B);
    k_attn_bwd_dkdv<<<gk, THREADS, smem, e->stream>>>((float *)node->data, a, stat, (const char *)dout->data,
                                                      sg_cuda_nb(dout));
    return sg_cuda_launch_check("attn_bwd_dkdv");
}
