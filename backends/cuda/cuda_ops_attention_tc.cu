// ATTENTION forward on tensor cores: flash-style with online softmax, bf16 operands (q, k, v
// and the probabilities rounded to bf16) and fp32 accumulation through WMMA 16x16x16 tiles.
// Same semantics as k_attn_fwd in cuda_ops_attention.cu (padding and "self" key masks, a query
// that sees no key gives zeros); that fp32 kernel stays the reference, runs the backward pass,
// other head sizes, and everything when SAEG_CUDA_TC_ATTENTION=0.
//
// A block takes BQ = 64 queries of one head (4 warps, 16 query rows each) and streams keys in
// blocks of BK = 64 through shared memory. Each warp owns its rows of the scores S, the
// probabilities P and the unnormalised output O (fp32 in shared memory: WMMA's fragment layout
// is opaque, so the per-row rescale by exp(m_old - m_new) happens there), so warps only meet at
// the block barriers around each key/value load. Compile-checked only: not yet run on a GPU.
#include <mma.h>

#include <cuda_bf16.h>

#include "cuda_common.cuh"
#include "cuda_internal.h"

namespace {

namespace wmma = nvcuda::wmma;
typedef __nv_bfloat16 bf16;

const int TC_BQ         = 64;
const int TC_BK         = 64;
const unsigned TC_WARPS = TC_BQ / 16;
const int TC_LDP        = TC_BK + 8; /* bf16 probabilities: rows padded against bank conflicts */
const int TC_LDS        = TC_BK + 4; /* fp32 scores */

struct tc_args {
    const char *q, *k, *v, *mask;
    cu_dims qnb, knb, vnb, onb;
    int64_t mnb0, mnb1;
    int H, Sq, Sk;
    float scale;
};

/* Shared memory of the kernel for head size D (every section a multiple of 128 bytes, so WMMA's
 * 32-byte alignment holds at every tile). */
constexpr size_t tc_smem(int D) {
    return sizeof(bf16) * (3 * (size_t)TC_BQ * (D + 8) + (size_t)TC_BQ * TC_LDP) +
           sizeof(float) * ((size_t)TC_BQ * TC_LDS + (size_t)TC_BQ * (D + 4) + 3 * TC_BQ) + sizeof(int) * TC_BK;
}

/* rows [r0, r0 + rows) of a [D, H, S, B] operand into dst (bf16, row stride ld) times mul; rows
 * past S are zeros. */
template <int D>
__device__ void load_tile(bf16 *dst, int ld, const char *src, const cu_dims &nb, int64_t h, int64_t b, int r0, int S,
                          float mul) {
    for (int t = threadIdx.x; t < TC_BQ * D; t += blockDim.x) {
        int r = t / D, c = t % D;
        float x = 0.0f;
        if (r0 + r < S) x = mul * cu_ldf(src, c * nb.v[0] + h * nb.v[1] + (int64_t)(r0 + r) * nb.v[2] + b * nb.v[3]);
        dst[r * ld + c] = __float2bfloat16(x);
    }
}

template <int D> __global__ void __launch_bounds__(TC_WARPS * 32) k_attn_fwd_tc(char *out, tc_args a) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    const int LDH = D + 8, LDO = D + 4;
    extern __shared__ __align__(128) unsigned char tc_lm[];
    bf16 *Qs    = reinterpret_cast<bf16 *>(tc_lm);                /* [BQ][LDH], pre-scaled */
    bf16 *Ks    = Qs + TC_BQ * LDH;                               /* [BK][LDH] */
    bf16 *Vs    = Ks + TC_BK * LDH;                               /* [BK][LDH] */
    bf16 *Ps    = Vs + TC_BK * LDH;                               /* [BQ][LDP] */
    float *S    = reinterpret_cast<float *>(Ps + TC_BQ * TC_LDP); /* [BQ][LDS] */
    float *O    = S + TC_BQ * TC_LDS;                             /* [BQ][LDO] */
    float *mrow = O + TC_BQ * LDO;                                /* running max */
    float *lrow = mrow + TC_BQ;                                   /* running sum */
    float *arow = lrow + TC_BQ;                                   /* this block's rescale factor */
    int *vis    = reinterpret_cast<int *>(arow + TC_BQ);          /* key codes, -1 past Sk */

    const int64_t h = blockIdx.y, b = blockIdx.z;
    const int i0 = blockIdx.x * TC_BQ, warp = threadIdx.x / 32, lane = threadIdx.x % 32, r0 = warp * 16;

    load_tile<D>(Qs, LDH, a.q, a.qnb, h, b, i0, a.Sq, a.scale);
    for (int t = lane; t < 16 * D; t += 32) O[(r0 + t / D) * LDO + t % D] = 0.0f;
    if (lane < 16) {
        mrow[r0 + lane] = -INFINITY;
        lrow[r0 + lane] = 0.0f;
    }
    for (int j0 = 0; j0 < a.Sk; j0 += TC_BK) {
        __syncthreads(); /* every warp is done with the previous K, V */
        load_tile<D>(Ks, LDH, a.k, a.knb, h, b, j0, a.Sk, 1.0f);
        load_tile<D>(Vs, LDH, a.v, a.vnb, h, b, j0, a.Sk, 1.0f);
        for (int j = threadIdx.x; j < TC_BK; j += blockDim.x)
            vis[j] = j0 + j >= a.Sk ? -1
                     : a.mask       ? *cu_ptr<int32_t>(a.mask, (j0 + j) * a.mnb0 + b * a.mnb1)
                                    : (int)SG_ATTN_KEY_VISIBLE;
        __syncthreads();

        /* S = Q K^T for this warp's 16 rows (scale is in Q) */
        for (int n = 0; n < TC_BK / 16; n++) {
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
            wmma::fill_fragment(acc, 0.0f);
            for (int kk = 0; kk < D / 16; kk++) {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> fa;
                wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::col_major> fb;
                wmma::load_matrix_sync(fa, Qs + r0 * LDH + kk * 16, LDH);
                wmma::load_matrix_sync(fb, Ks + n * 16 * LDH + kk * 16, LDH); /* K^T: column j is key j */
                wmma::mma_sync(acc, fa, fb, acc);
            }
            wmma::store_matrix_sync(S + r0 * TC_LDS + n * 16, acc, TC_LDS, wmma::mem_row_major);
        }
        __syncwarp();

        /* online softmax: two lanes per row, each over half the keys */
        {
            const int r = r0 + lane / 2, half = lane % 2, iq = i0 + r;
            float *srow = S + r * TC_LDS;
            float mx    = mrow[r];
            for (int j = half * (TC_BK / 2); j < (half + 1) * (TC_BK / 2); j++) {
                int code  = vis[j];
                bool seen = code == SG_ATTN_KEY_VISIBLE || (code == SG_ATTN_KEY_SELF && iq == j0 + j);
                if (!seen) srow[j] = -INFINITY;
                mx = fmaxf(mx, srow[j]);
            }
            mx          = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
            float sum   = 0.0f;
            float alpha = mx == -INFINITY ? 1.0f : expf(mrow[r] - mx);
            for (int j = half * (TC_BK / 2); j < (half + 1) * (TC_BK / 2); j++) {
                float p            = mx == -INFINITY ? 0.0f : expf(srow[j] - mx);
                bf16 pb            = __float2bfloat16(p);
                Ps[r * TC_LDP + j] = pb;
                sum += __bfloat162float(pb); /* the sum of what P V actually adds */
            }
            sum += __shfl_xor_sync(0xffffffffu, sum, 1);
            __syncwarp();
            if (half == 0) {
                lrow[r] = lrow[r] * alpha + sum;
                mrow[r] = mx;
                arow[r] = alpha;
            }
        }
        __syncwarp();
        for (int t = lane; t < 16 * D; t += 32) O[(r0 + t / D) * LDO + t % D] *= arow[r0 + t / D];
        __syncwarp();

        /* O += P V */
        for (int e = 0; e < D / 16; e++) {
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
            wmma::load_matrix_sync(acc, O + r0 * LDO + e * 16, LDO, wmma::mem_row_major);
            for (int kk = 0; kk < TC_BK / 16; kk++) {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> fa;
                wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::row_major> fb;
                wmma::load_matrix_sync(fa, Ps + r0 * TC_LDP + kk * 16, TC_LDP);
                wmma::load_matrix_sync(fb, Vs + kk * 16 * LDH + e * 16, LDH);
                wmma::mma_sync(acc, fa, fb, acc);
            }
            wmma::store_matrix_sync(O + r0 * LDO + e * 16, acc, LDO, wmma::mem_row_major);
        }
        __syncwarp();
    }
    for (int t = lane; t < 16 * D; t += 32) {
        int r = r0 + t / D, c = t % D;
        if (i0 + r >= a.Sq) continue;
        float l = lrow[r];
        cu_stf(out, c * a.onb.v[0] + h * a.onb.v[1] + (int64_t)(i0 + r) * a.onb.v[2] + b * a.onb.v[3],
               l > 0.0f ? O[r * LDO + c] / l : 0.0f);
    }
#else
    (void)out;
    (void)a;
#endif
}

template <int D> sg_status launch(sg_cuda_enc *e, const sg_tensor *node, const tc_args &a) {
    const size_t smem = tc_smem(D);
    sg_status st =
        sg_cuda_check(cudaFuncSetAttribute(k_attn_fwd_tc<D>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem),
                      "cudaFuncSetAttribute");
    if (st != SG_OK) return st;
    const sg_tensor *q = node->src[0];
    dim3 grid((unsigned)((q->ne[2] + TC_BQ - 1) / TC_BQ), (unsigned)q->ne[1], (unsigned)q->ne[3]);
    k_attn_fwd_tc<D><<<grid, TC_WARPS * 32, smem, e->stream>>>((char *)node->data, a);
    return sg_cuda_launch_check("attn_fwd_tc");
}

bool f32(const sg_tensor *t) { return t && t->type == SG_TYPE_F32; }

} // namespace

/* Forward attention this kernel takes: head sizes 64 and 128 (D == Dv), f32 operands, and the
 * shared memory the device allows a block. */
extern "C" bool sg_cuda_attention_tc_fits(const sg_cuda_device *d, const sg_tensor *node) {
    const sg_tensor *q = node->src[0], *k = node->src[1], *v = node->src[2];
    if (node->op != SG_OP_ATTENTION || !f32(node) || !f32(q) || !f32(k) || !f32(v)) return false;
    const int64_t D = q->ne[0];
    if ((D != 64 && D != 128) || v->ne[0] != D || k->ne[0] != D) return false;
    if (q->ne[2] > INT32_MAX - TC_BQ || k->ne[2] > INT32_MAX - TC_BK || q->ne[1] > 65535 || q->ne[3] > 65535)
        return false;
    return tc_smem((int)D) <= d->smem_optin;
}

extern "C" sg_status sg_cuda_encode_attention_tc(sg_cuda_enc *e, const sg_tensor *node) {
    const sg_tensor *q = node->src[0], *k = node->src[1], *v = node->src[2], *mask = node->src[3];
    tc_args a;
    a.q     = (const char *)q->data;
    a.k     = (const char *)k->data;
    a.v     = (const char *)v->data;
    a.mask  = mask ? (const char *)mask->data : nullptr;
    a.qnb   = sg_cuda_nb(q);
    a.knb   = sg_cuda_nb(k);
    a.vnb   = sg_cuda_nb(v);
    a.onb   = sg_cuda_nb(node);
    a.mnb0  = mask ? (int64_t)mask->nb[0] : 0;
    a.mnb1  = mask ? (int64_t)mask->nb[1] : 0;
    a.H     = (int)q->ne[1];
    a.Sq    = (int)q->ne[2];
    a.Sk    = (int)k->ne[2];
    a.scale = sg_get_param_f32(node, 0);
    return q->ne[0] == 64 ? launch<64>(e, node, a) : launch<128>(e, node, a);
}
