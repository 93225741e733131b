// TOP_K: radix selection per row (k_topk_select), a bitonic sort of each row's k pairs so the
// largest come first and ties go to the lower index, then the indices are written out. The
// bitonic pair sort is shared with SCATTER_OUTER.
#include "cuda_common.cuh"

namespace {

const unsigned SELECT_THREADS = 256, SORT_THREADS = 256;

/* Larger float, larger key; every NaN maps to the largest key (as torch.topk ranks NaN first);
 * -0 equals +0. */
__device__ __forceinline__ uint32_t order_key(float x) {
    if (isnan(x)) return 0xffffffffu;
    uint32_t u = __float_as_uint(x);
    if (u == 0x80000000u) u = 0u;
    return (u & 0x80000000u) ? ~u : u | 0x80000000u;
}

/* Exclusive prefix sum of v over the block (blockDim.x a power of two) using scan[]; *total gets
 * the sum. */
__device__ uint32_t block_scan(uint32_t v, uint32_t *scan, uint32_t *total) {
    const unsigned lid = threadIdx.x, n = blockDim.x;
    scan[lid] = v;
    __syncthreads();
    for (unsigned s = 1; s < n; s <<= 1) {
        uint32_t add = lid >= s ? scan[lid - s] : 0u;
        __syncthreads();
        scan[lid] += add;
        __syncthreads();
    }
    uint32_t incl = scan[lid];
    *total        = scan[n - 1];
    __syncthreads();
    return incl - v;
}

/* x rows [N] (dims 1.. flattened); pairs for row r go to keys/vals[r * seg ...] as (inverted key,
 * index), so an ascending sort puts the largest first and equal values in index order;
 * positions k..seg-1 get padding that sorts last. */
__global__ void k_topk_select(const char *x, cu_dims xne, cu_dims xnb, int k, uint32_t seg, uint32_t *kb, uint32_t *vb,
                              int64_t rows) {
    __shared__ uint32_t hist[256];
    __shared__ uint32_t scan[SELECT_THREADS];
    __shared__ uint32_t sel[2]; /* digit prefix found so far, elements still to place */
    const int64_t N    = xne.v[0];
    const unsigned lid = threadIdx.x, W = blockDim.x;
    for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
        const char *xr = x + cu_offset_row(row, xne, xnb);
        uint32_t *keys = kb + row * seg;
        uint32_t *vals = vb + row * seg;

        /* Radix select, 8 bits at a time from the top: the key T of the k-th largest element. */
        uint32_t prefix = 0u, mask = 0u, remaining = (uint32_t)k;
        for (int shift = 24; shift >= 0; shift -= 8) {
            for (unsigned b = lid; b < 256u; b += W) hist[b] = 0u;
            __syncthreads();
            for (int64_t n = lid; n < N; n += W) {
                uint32_t key = order_key(cu_ldf(xr, n * xnb.v[0]));
                if ((key & mask) == prefix) atomicAdd(&hist[(key >> shift) & 255u], 1u);
            }
            __syncthreads();
            if (lid == 0) {
                uint32_t cum = 0u, digit = 0u;
                for (int b = 255; b >= 0; b--) {
                    if (cum + hist[b] >= remaining) {
                        digit = (uint32_t)b;
                        break;
                    }
                    cum += hist[b];
                }
                sel[0] = prefix | (digit << shift);
                sel[1] = remaining - cum;
            }
            __syncthreads();
            prefix    = sel[0];
            remaining = sel[1];
            mask |= 255u << shift;
            __syncthreads();
        }
        const uint32_t T = prefix, n_ties = remaining, n_gt = (uint32_t)k - remaining;

        /* Compaction in index order: every key above T, then the first n_ties keys equal to T. */
        uint32_t done_gt = 0u, done_eq = 0u;
        for (int64_t base = 0; base < N && (done_gt < n_gt || done_eq < n_ties); base += W) {
            const int64_t n = base + lid;
            uint32_t key    = n < N ? order_key(cu_ldf(xr, n * xnb.v[0])) : 0u;
            uint32_t gt = n < N && key > T, eq = n < N && key == T;
            /* one scan for both flags: counts stay below 2^16 (at most one per thread) */
            uint32_t tot;
            uint32_t excl   = block_scan((gt << 16) | eq, scan, &tot);
            uint32_t pos_gt = done_gt + (excl >> 16), pos_eq = done_eq + (excl & 0xffffu);
            if (gt) {
                keys[pos_gt] = ~key;
                vals[pos_gt] = (uint32_t)n;
            }
            if (eq && pos_eq < n_ties) {
                keys[n_gt + pos_eq] = ~key;
                vals[n_gt + pos_eq] = (uint32_t)n;
            }
            done_gt += tot >> 16;
            done_eq += tot & 0xffffu;
        }
        for (uint32_t p = (uint32_t)k + lid; p < seg; p += W) {
            keys[p] = 0xffffffffu;
            vals[p] = 0xffffffffu;
        }
        __syncthreads();
    }
}

/* dst[j, r] = vals[r * seg + j] for j < k; dne is dst's shape. */
__global__ void k_topk_write(char *d, cu_dims dne, cu_dims dnb, const uint32_t *vals, uint32_t seg, int64_t n) {
    CU_FOR(i, n) {
        const int64_t j = i % dne.v[0], r = i / dne.v[0];
        *cu_ptr<int32_t>(d, j * dnb.v[0] + cu_offset_row(r, dne, dnb)) = (int32_t)vals[r * seg + j];
    }
}

/* ---- bitonic sort of (key, value) pairs, ascending by key then value, within each segment of
 * seg elements (a power of two). All stages up to the chunk size L (2 x threads) run in shared
 * memory in one launch (k_sort_local); each larger stage k takes global steps down to j = L
 * (k_sort_step), then one k_sort_merge for the rest. */

__device__ __forceinline__ bool pair_gt(uint32_t ka, uint32_t va, uint32_t kb, uint32_t vb) {
    return ka > kb || (ka == kb && va > vb);
}

__device__ void sort_local_step(uint32_t *lk, uint32_t *lv, uint32_t L, uint32_t i_base, uint32_t k, uint32_t j) {
    for (uint32_t t = threadIdx.x; t < L / 2; t += blockDim.x) {
        uint32_t i = (t / j) * 2 * j + t % j, p = i + j;
        bool asc    = ((i_base + i) & k) == 0;
        uint32_t ka = lk[i], va = lv[i], kb = lk[p], vb = lv[p];
        if (pair_gt(ka, va, kb, vb) == asc) {
            lk[i] = kb;
            lv[i] = vb;
            lk[p] = ka;
            lv[p] = va;
        }
    }
    __syncthreads();
}

/* merge_k == 0: every stage k <= L; else the steps j < L of stage merge_k. */
__global__ void k_sort_chunk(uint32_t *keys, uint32_t *vals, uint32_t seg, uint32_t L, uint32_t merge_k,
                             int64_t n_chunks) {
    extern __shared__ uint32_t lmem[];
    uint32_t *lk = lmem, *lv = lmem + L;
    for (int64_t chunk = blockIdx.x; chunk < n_chunks; chunk += gridDim.x) {
        const int64_t base    = chunk * L;
        const uint32_t i_base = (uint32_t)(base & (seg - 1));
        for (uint32_t t = threadIdx.x; t < L; t += blockDim.x) {
            lk[t] = keys[base + t];
            lv[t] = vals[base + t];
        }
        __syncthreads();
        if (merge_k == 0) {
            for (uint32_t k = 2; k <= L; k <<= 1)
                for (uint32_t j = k / 2; j > 0; j >>= 1) sort_local_step(lk, lv, L, i_base, k, j);
        } else {
            for (uint32_t j = L / 2; j > 0; j >>= 1) sort_local_step(lk, lv, L, i_base, merge_k, j);
        }
        for (uint32_t t = threadIdx.x; t < L; t += blockDim.x) {
            keys[base + t] = lk[t];
            vals[base + t] = lv[t];
        }
        __syncthreads();
    }
}

/* Stage k, step j (j >= L) over the whole array of n pairs. */
__global__ void k_sort_step(uint32_t *keys, uint32_t *vals, uint32_t seg, uint32_t k, uint32_t j, int64_t n) {
    CU_FOR(t, n / 2) {
        const int64_t i = (t / j) * 2 * j + t % j, p = i + j;
        const bool asc = (((uint32_t)i & (seg - 1)) & k) == 0;
        uint32_t ka = keys[i], va = vals[i], kc = keys[p], vc = vals[p];
        if (pair_gt(ka, va, kc, vc) == asc) {
            keys[i] = kc;
            vals[i] = vc;
            keys[p] = ka;
            vals[p] = va;
        }
    }
}

size_t segment(const sg_tensor *node) { return sg_cuda_pow2_ceil((size_t)node->ne[0]); }

size_t keys_bytes(const sg_tensor *node) {
    return sg_cuda_align(sizeof(uint32_t) * segment(node) * (size_t)sg_nrows(node));
}

unsigned grid_of(int64_t n) { return n > 65535 * 16 ? 65535 * 16 : (unsigned)(n < 1 ? 1 : n); }

} // namespace

extern "C" sg_status sg_cuda_sort_pairs(sg_cuda_enc *e, uint32_t *keys, uint32_t *vals, size_t seg, size_t n_seg) {
    if (seg < 2 || n_seg == 0) return SG_OK;
    const size_t total = seg * n_seg;
    size_t L           = 2 * SORT_THREADS;
    if (L > seg) L = seg;
    const int64_t n_chunks = (int64_t)(total / L);
    const size_t shmem     = 2 * L * sizeof(uint32_t);
    const unsigned threads = (unsigned)(L / 2);
    k_sort_chunk<<<grid_of(n_chunks), threads, shmem, e->stream>>>(keys, vals, (uint32_t)seg, (uint32_t)L, 0, n_chunks);
    sg_status st = sg_cuda_launch_check("sort_local");
    for (size_t k = 2 * L; st == SG_OK && k <= seg; k *= 2) {
        for (size_t j = k / 2; st == SG_OK && j >= L; j /= 2) {
            k_sort_step<<<sg_cuda_blocks((int64_t)total / 2, 256), 256, 0, e->stream>>>(
                keys, vals, (uint32_t)seg, (uint32_t)k, (uint32_t)j, (int64_t)total);
            st = sg_cuda_launch_check("sort_step");
        }
        if (st != SG_OK) break;
        k_sort_chunk<<<grid_of(n_chunks), threads, shmem, e->stream>>>(keys, vals, (uint32_t)seg, (uint32_t)L,
                                                                       (uint32_t)k, n_chunks);
        st = sg_cuda_launch_check("sort_merge");
    }
    return st;
}

/* Indices travel as 32-bit values and rows are sorted in segments of up to 2^31 pairs. */
extern "C" bool sg_cuda_supports_top_k(const sg_cuda_device *d, const sg_tensor *node) {
    (void)d;
    return node->src[0]->ne[0] < ((int64_t)1 << 31);
}

extern "C" size_t sg_cuda_scratch_top_k(const sg_cuda_device *d, const sg_tensor *node) {
    (void)d;
    return 2 * keys_bytes(node);
}

extern "C" sg_status sg_cuda_encode_top_k(sg_cuda_enc *e, const sg_tensor *node) {
    const sg_tensor *x = node->src[0];
    const size_t seg = segment(node), rows = (size_t)sg_nrows(node);
    if (sg_nelements(node) == 0) return SG_OK;
    uint32_t *keys = (uint32_t *)e->scratch;
    uint32_t *vals = (uint32_t *)(e->scratch + keys_bytes(node));
    k_topk_select<<<grid_of((int64_t)rows), SELECT_THREADS, 0, e->stream>>>((const char *)x->data, sg_cuda_ne(x),
                                                                            sg_cuda_nb(x), (int)node->ne[0],
                                                                            (uint32_t)seg, keys, vals, (int64_t)rows);
    sg_status st = sg_cuda_launch_check("topk_select");
    if (st == SG_OK) st = sg_cuda_sort_pairs(e, keys, vals, seg, rows);
    if (st != SG_OK) return st;
    int64_t n = sg_nelements(node);
    k_topk_write<<<sg_cuda_blocks(n, 256), 256, 0, e->stream>>>((char *)node->data, sg_cuda_ne(node), sg_cuda_nb(node),
                                                                vals, (uint32_t)seg, n);
    return sg_cuda_launch_check("topk_write");
}
