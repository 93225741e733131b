// EMBED_BAG, SPARSE_DOT and SCATTER_OUTER: the sparse-code ops of an SAE decoder and their
// gradients. w [D, N] holds one row of D per latent, idx [K, B] picks K latents per column b.
// Out-of-range indices read as zero and write nowhere. scatter_outer (the decoder's weight
// gradient) sorts its (target row, pair) pairs so every output row is one sum in pair order:
// deterministic, no float atomics on the weight.
#include "cuda_common.cuh"

namespace {

const unsigned THREADS = 256, DOT_THREADS = 128;

struct kb {
    const char *p;
    int64_t nb0, nb1;
};

kb kb_of(const sg_tensor *t) { return kb{(const char *)t->data, (int64_t)t->nb[0], (int64_t)t->nb[1]}; }

/* y[d, b] = sum_j v[j, b] w[d, idx[j, b]]; one thread per (d, b), neighbouring threads along d
 * read neighbouring weights. */
__global__ void k_embed_bag(char *y, int64_t ynb0, int64_t ynb1, kb w, int64_t N, kb idx, kb v, int64_t D, int K,
                            int64_t n) {
    CU_FOR(i, n) {
        const int64_t d = i % D, b = i / D;
        float acc = 0.0f;
        for (int j = 0; j < K; j++) {
            int id = *cu_ptr<int32_t>(idx.p, j * idx.nb0 + b * idx.nb1);
            if (id < 0 || id >= N) continue;
            acc += cu_ldf(v.p, j * v.nb0 + b * v.nb1) * cu_ldf(w.p, d * w.nb0 + id * w.nb1);
        }
        cu_stf(y, d * ynb0 + b * ynb1, acc);
    }
}

/* out[j, b] = w[:, idx[j, b]] . x[:, b]; one block per (j, b), reducing over D. */
__global__ void k_sparse_dot(char *o, int64_t onb0, int64_t onb1, kb w, int64_t N, kb idx, kb x, int64_t D, int K,
                             int64_t n_pairs) {
    __shared__ float scratch[DOT_THREADS];
    for (int64_t pair = blockIdx.x; pair < n_pairs; pair += gridDim.x) {
        const int64_t j = pair % K, b = pair / K;
        const int id = *cu_ptr<int32_t>(idx.p, j * idx.nb0 + b * idx.nb1);
        float acc    = 0.0f;
        if (id >= 0 && id < N)
            for (int64_t d = threadIdx.x; d < D; d += blockDim.x)
                acc += cu_ldf(w.p, d * w.nb0 + id * w.nb1) * cu_ldf(x.p, d * x.nb0 + b * x.nb1);
        acc = cu_block_sum(acc, scratch);
        if (threadIdx.x == 0) cu_stf(o, j * onb0 + b * onb1, acc);
    }
}

/* Step one: a (target row, pair id) pair per (j, b), pair id = b K + j; invalid targets and the
 * padding up to seg get key 0xffffffff, which sorts last. */
__global__ void k_so_keys(uint32_t *keys, uint32_t *vals, kb idx, int K, int64_t n_pairs, int64_t n, int64_t seg) {
    CU_FOR(t, seg) {
        uint32_t key = 0xffffffffu;
        if (t < n_pairs) {
            int id = *cu_ptr<int32_t>(idx.p, (t % K) * idx.nb0 + (t / K) * idx.nb1);
            if (id >= 0 && id < n) key = (uint32_t)id;
        }
        keys[t] = key;
        vals[t] = (uint32_t)t;
    }
}

/* Step three (after sorting): [start, end) of the sorted pairs targeting row r; zeroed
 * beforehand so unused rows get an empty range. */
__global__ void k_so_bounds(const uint32_t *keys, uint32_t *range, int64_t seg) {
    CU_FOR(t, seg) {
        const uint32_t key = keys[t];
        if (key == 0xffffffffu) continue;
        if (t == 0 || keys[t - 1] != key) range[2 * (int64_t)key] = (uint32_t)t;
        if (t == seg - 1 || keys[t + 1] != key) range[2 * (int64_t)key + 1] = (uint32_t)t + 1u;
    }
}

/* Step four: out[d, r] = sum over r's pairs (in pair order) of c[j, b] x[d, b]. */
__global__ void k_so_accum(char *o, int64_t onb0, int64_t onb1, const uint32_t *vals, const uint32_t *range, kb c, kb x,
                           int64_t D, int K, int64_t n) {
    CU_FOR(i, n) {
        const int64_t d = i % D, r = i / D;
        float acc = 0.0f;
        for (uint32_t e = range[2 * r]; e < range[2 * r + 1]; e++) {
            int64_t p = vals[e], j = p % K, b = p / K;
            float cj = c.p ? cu_ldf(c.p, j * c.nb0 + b * c.nb1) : 1.0f;
            acc += cj * cu_ldf(x.p, d * x.nb0 + b * x.nb1);
        }
        cu_stf(o, d * onb0 + r * onb1, acc);
    }
}

/* Scratch: sort keys and values (a power of two >= K B each), then [start, end) per row. */
struct so_layout {
    size_t seg;
    int64_t n_pairs, n;
    size_t vals, ranges, total;
};

so_layout so_layout_of(const sg_tensor *node) {
    so_layout l;
    l.n_pairs = sg_nelements(node->src[0]);
    l.n       = node->ne[1];
    l.seg     = sg_cuda_pow2_ceil((size_t)(l.n_pairs ? l.n_pairs : 1));
    l.vals    = sg_cuda_align(sizeof(uint32_t) * l.seg);
    l.ranges  = l.vals + sg_cuda_align(sizeof(uint32_t) * l.seg);
    l.total   = l.ranges + sg_cuda_align(2 * sizeof(uint32_t) * (size_t)l.n);
    return l;
}

} // namespace

extern "C" sg_status sg_cuda_encode_embed_bag(sg_cuda_enc *e, const sg_tensor *node) {
    const sg_tensor *w = node->src[0], *idx = node->src[1], *v = node->src[2];
    int64_t n = w->ne[0] * idx->ne[1];
    if (sg_nelements(node) == 0) return SG_OK;
    k_embed_bag<<<sg_cuda_blocks(n, THREADS), THREADS, 0, e->stream>>>(
        (char *)node->data, (int64_t)node->nb[0], (int64_t)node->nb[1], kb_of(w), w->ne[1], kb_of(idx), kb_of(v),
        w->ne[0], (int)idx->ne[0], n);
    return sg_cuda_launch_check("embed_bag");
}

extern "C" sg_status sg_cuda_encode_sparse_dot(sg_cuda_enc *e, const sg_tensor *node) {
    const sg_tensor *w = node->src[0], *idx = node->src[1], *x = node->src[2];
    int64_t n_pairs = sg_nelements(idx);
    if (sg_nelements(node) == 0) return SG_OK;
    unsigned blocks = n_pairs > 65535 * 16 ? 65535 * 16 : (unsigned)n_pairs;
    k_sparse_dot<<<blocks, DOT_THREADS, 0, e->stream>>>((char *)node->data, (int64_t)node->nb[0], (int64_t)node->nb[1],
                                                        kb_of(w), w->ne[1], kb_of(idx), kb_of(x), w->ne[0],
                                                        (int)idx->ne[0], n_pairs);
    return sg_cuda_launch_check("sparse_dot");
}

/* Pair ids, target rows and sorted positions are 32-bit; 0xffffffff marks "no row". */
extern "C" bool sg_cuda_supports_scatter_outer(const sg_cuda_device *d, const sg_tensor *node) {
    (void)d;
    return sg_nelements(node->src[0]) <= ((int64_t)1 << 31) && node->ne[1] < ((int64_t)1 << 31);
}

extern "C" size_t sg_cuda_scratch_scatter_outer(const sg_cuda_device *d, const sg_tensor *node) {
    (void)d;
    return so_layout_of(node).total;
}

extern "C" sg_status sg_cuda_encode_scatter_outer(sg_cuda_enc *e, const sg_tensor *node) {
    const sg_tensor *idx = node->src[0], *c = node->src[1], *x = node->src[2];
    const so_layout l = so_layout_of(node);
    if (sg_nelements(node) == 0) return SG_OK;
    if (l.n_pairs == 0) return sg_cuda_encode_fill(e, node, 0.0f);
    uint32_t *keys  = (uint32_t *)e->scratch;
    uint32_t *vals  = (uint32_t *)(e->scratch + l.vals);
    uint32_t *range = (uint32_t *)(e->scratch + l.ranges);
    const int K     = (int)idx->ne[0];
    k_so_keys<<<sg_cuda_blocks((int64_t)l.seg, THREADS), THREADS, 0, e->stream>>>(keys, vals, kb_of(idx), K, l.n_pairs,
                                                                                  l.n, (int64_t)l.seg);
    sg_status st = sg_cuda_launch_check("scatter_outer_keys");
    if (st == SG_OK) st = sg_cuda_sort_pairs(e, keys, vals, l.seg, 1);
    if (st == SG_OK)
        st = sg_cuda_check(cudaMemsetAsync(range, 0, 2 * sizeof(uint32_t) * (size_t)l.n, e->stream), "cudaMemsetAsync");
    if (st != SG_OK) return st;
    k_so_bounds<<<sg_cuda_blocks((int64_t)l.seg, THREADS), THREADS, 0, e->stream>>>(keys, range, (int64_t)l.seg);
    st = sg_cuda_launch_check("scatter_outer_bounds");
    if (st != SG_OK) return st;
    int64_t n = x->ne[0] * l.n;
    k_so_accum<<<sg_cuda_blocks(n, THREADS), THREADS, 0, e->stream>>>(
        (char *)node->data, (int64_t)node->nb[0], (int64_t)node->nb[1], vals, range, c ? kb_of(c) : kb{nullptr, 0, 0},
        kb_of(x), x->ne[0], K, n);
    return sg_cuda_launch_check("scatter_outer_accum");
}
