// SUM_TO: sums the source over the dims the destination keeps as 1. The host splits the
// (collapsed) source dims into kept dims (kne, with source strides ksnb and destination strides
// kdnb) and reduced dims (rne, source strides rsnb). Sums are compensated (Kahan) and run in a
// fixed order, so results are deterministic.
#include "cuda_common.cuh"

namespace {

const unsigned GROUP = 256;

/* Adds every reduced element at byte offset base + ... of x, starting at reduced index r0 of
 * dim 0 and stepping by `step` along it. */
__device__ float sum_reduced(const char *x, int64_t base, const cu_dims &rne, const cu_dims &rsnb, int64_t r0,
                             int64_t step) {
    float sum = 0.0f, comp = 0.0f;
    int64_t outer = rne.v[1] * rne.v[2] * rne.v[3] * rne.v[4] * rne.v[5];
    for (int64_t r = 0; r < outer; r++) {
        int64_t o = base, q = r;
        for (int d = 1; d < SG_MAX_DIMS; d++) {
            o += (q % rne.v[d]) * rsnb.v[d];
            q /= rne.v[d];
        }
        for (int64_t i0 = r0; i0 < rne.v[0]; i0 += step) {
            float y = cu_ldf(x, o + i0 * rsnb.v[0]) - comp;
            float t = sum + y;
            comp    = (t - sum) - y;
            sum     = t;
        }
    }
    return sum;
}

/* One thread per output element. */
__global__ void k_sum_to_item(char *d, const char *x, cu_dims kne, cu_dims kdnb, cu_dims ksnb, cu_dims rne,
                              cu_dims rsnb, int64_t n_out) {
    CU_FOR(o, n_out) {
        float s = sum_reduced(x, cu_offset_flat(o, kne, ksnb), rne, rsnb, 0, 1);
        cu_stf(d, cu_offset_flat(o, kne, kdnb), s);
    }
}

/* One block per output element (few outputs, long sums). */
__global__ void k_sum_to_group(char *d, const char *x, cu_dims kne, cu_dims kdnb, cu_dims ksnb, cu_dims rne,
                               cu_dims rsnb, int64_t n_out) {
    __shared__ float scratch[GROUP];
    for (int64_t o = blockIdx.x; o < n_out; o += gridDim.x) {
        float s = sum_reduced(x, cu_offset_flat(o, kne, ksnb), rne, rsnb, threadIdx.x, blockDim.x);
        s       = cu_block_sum(s, scratch);
        if (threadIdx.x == 0) cu_stf(d, cu_offset_flat(o, kne, kdnb), s);
    }
}

} // namespace

extern "C" sg_status sg_cuda_encode_sum_to(sg_cuda_enc *e, const sg_tensor *node) {
    const sg_tensor *x = node->src[0];
    sg_cuda_ew ew;
    const sg_tensor *ops[2] = {x, node};
    sg_cuda_ew_init(&ew, x->ne, ops, 2);
    cu_dims kne, kdnb = {}, ksnb = {}, rne, rsnb = {};
    int nk = 0, nr = 0;
    for (int d = 0; d < SG_MAX_DIMS; d++) kne.v[d] = rne.v[d] = 1;
    for (int d = 0; d < SG_MAX_DIMS && ew.ne.v[d] > 1; d++) {
        if (ew.nb[1].v[d] == 0) {
            rne.v[nr]    = ew.ne.v[d];
            rsnb.v[nr++] = ew.nb[0].v[d];
        } else {
            kne.v[nk]    = ew.ne.v[d];
            ksnb.v[nk]   = ew.nb[0].v[d];
            kdnb.v[nk++] = ew.nb[1].v[d];
        }
    }
    int64_t n_out = 1;
    for (int d = 0; d < SG_MAX_DIMS; d++) n_out *= kne.v[d];
    if (sg_nelements(node) == 0) return SG_OK;
    if (sg_nelements(x) == 0) return sg_cuda_encode_fill(e, node, 0.0f);
    /* Few outputs over long runs: a block per output; otherwise a thread per output (reads stay
     * coalesced across neighbouring outputs). */
    bool group = rne.v[0] >= (int64_t)GROUP && (rsnb.v[0] == (int64_t)sizeof(float) || n_out < 4096);
    if (group) {
        unsigned blocks = n_out > 65535 * 16 ? 65535 * 16 : (unsigned)n_out;
        k_sum_to_group<<<blocks, GROUP, 0, e->stream>>>((char *)node->data, (const char *)x->data, kne, kdnb, ksnb, rne,
                                                        rsnb, n_out);
        return sg_cuda_launch_check("sum_to_group");
    }
    k_sum_to_item<<<sg_cuda_blocks(n_out, 128), 128, 0, e->stream>>>((char *)node->data, (const char *)x->data, kne,
                                                                     kdnb, ksnb, rne, rsnb, n_out);
    return sg_cuda_launch_check("sum_to_item");
}
