// GET_ROWS, GATHER and SCATTER: lookups by I32 index. An index outside its table reads as zero
// and writes nowhere.
#include "cuda_common.cuh"

namespace {

const unsigned THREADS = 256;

/* dst [D, T...] = rows of w [D, N] (f32, f16 or bf16) picked by ids [T...]; ids and dst's dims
 * 1.. walk together (the host collapses them: idne, idnb for ids, drnb for dst rows). */
__global__ void k_get_rows(char *d, int64_t dnb0, cu_dims drnb, const char *w, int64_t wnb0, int64_t wnb1, int64_t N,
                           int wtype, const char *ids, cu_dims idne, cu_dims idnb, int64_t D, int64_t n) {
    CU_FOR(i, n) {
        const int64_t c = i % D, t = i / D;
        const int id = *cu_ptr<int32_t>(ids, cu_offset_flat(t, idne, idnb));
        float x      = id >= 0 && id < N ? cu_load(w + c * wnb0 + id * wnb1, wtype) : 0.0f;
        cu_stf(d, c * dnb0 + cu_offset_flat(t, idne, drnb), x);
    }
}

/* out[j, r] = x[idx[j, r], r]; dne is the shape of out (and idx); rows are dims 1... */
__global__ void k_gather(char *d, cu_dims dne, cu_dims dnb, const char *x, cu_dims xnb, int64_t N, const char *idx,
                         cu_dims inb, int64_t n) {
    CU_FOR(i, n) {
        const int64_t j = i % dne.v[0], r = i / dne.v[0];
        const int id = *cu_ptr<int32_t>(idx, j * inb.v[0] + cu_offset_row(r, dne, inb));
        float val    = id >= 0 && id < N ? cu_ldf(x, id * xnb.v[0] + cu_offset_row(r, dne, xnb)) : 0.0f;
        cu_stf(d, j * dnb.v[0] + cu_offset_row(r, dne, dnb), val);
    }
}

/* out[idx[j, r], r] += v[j, r] over a zeroed out. The first j holding an index sums every entry
 * with that index in j order and writes it: deterministic, no atomics. */
__global__ void k_scatter(char *d, cu_dims dnb, int64_t n_out, const char *v, cu_dims vnb, const char *idx, cu_dims ine,
                          cu_dims inb, int64_t n) {
    CU_FOR(i, n) {
        const int64_t j = i % ine.v[0], r = i / ine.v[0];
        const int64_t io = cu_offset_row(r, ine, inb), vo = cu_offset_row(r, ine, vnb);
        const int id = *cu_ptr<int32_t>(idx, io + j * inb.v[0]);
        if (id < 0 || id >= n_out) continue;
        bool first = true;
        for (int64_t p = 0; p < j && first; p++) first = *cu_ptr<int32_t>(idx, io + p * inb.v[0]) != id;
        if (!first) continue;
        float sum = 0.0f;
        for (int64_t p = j; p < ine.v[0]; p++)
            if (*cu_ptr<int32_t>(idx, io + p * inb.v[0]) == id) sum += cu_ldf(v, vo + p * vnb.v[0]);
        cu_stf(d, id * dnb.v[0] + cu_offset_row(r, ine, dnb), sum);
    }
}

} // namespace

extern "C" sg_status sg_cuda_encode_get_rows(sg_cuda_enc *e, const sg_tensor *node) {
    const sg_tensor *w = node->src[0], *ids = node->src[1];
    if (sg_nelements(node) == 0) return SG_OK;
    /* dst's dims 1.. walk with the ids' dims 0..: collapse them together */
    sg_tensor rows = *ids;
    for (int d = 0; d + 1 < SG_MAX_DIMS; d++) rows.nb[d] = node->nb[d + 1];
    sg_cuda_ew ew;
    const sg_tensor *ops[2] = {ids, &rows};
    sg_cuda_ew_init(&ew, ids->ne, ops, 2);
    int64_t n = w->ne[0] * sg_nelements(ids);
    k_get_rows<<<sg_cuda_blocks(n, THREADS), THREADS, 0, e->stream>>>(
        (char *)node->data, (int64_t)node->nb[0], ew.nb[1], (const char *)w->data, (int64_t)w->nb[0], (int64_t)w->nb[1],
        w->ne[1], w->type, (const char *)ids->data, ew.ne, ew.nb[0], w->ne[0], n);
    return sg_cuda_launch_check("get_rows");
}

extern "C" sg_status sg_cuda_encode_gather(sg_cuda_enc *e, const sg_tensor *node) {
    const sg_tensor *x = node->src[0], *idx = node->src[1];
    int64_t n = sg_nelements(node);
    if (n == 0) return SG_OK;
    k_gather<<<sg_cuda_blocks(n, THREADS), THREADS, 0, e->stream>>>(
        (char *)node->data, sg_cuda_ne(node), sg_cuda_nb(node), (const char *)x->data, sg_cuda_nb(x), x->ne[0],
        (const char *)idx->data, sg_cuda_nb(idx), n);
    return sg_cuda_launch_check("gather");
}

/* Zero the output, then each distinct index of a row writes its sum once. */
extern "C" sg_status sg_cuda_encode_scatter(sg_cuda_enc *e, const sg_tensor *node) {
    const sg_tensor *v = node->src[0], *idx = node->src[1];
    if (sg_nelements(node) == 0) return SG_OK;
    sg_status st = sg_cuda_encode_fill(e, node, 0.0f);
    int64_t n    = sg_nelements(idx);
    if (st != SG_OK || n == 0) return st;
    k_scatter<<<sg_cuda_blocks(n, THREADS), THREADS, 0, e->stream>>>(
        (char *)node->data, sg_cuda_nb(node), node->ne[0], (const char *)v->data, sg_cuda_nb(v),
        (const char *)idx->data, sg_cuda_ne(idx), sg_cuda_nb(idx), n);
    return sg_cuda_launch_check("scatter");
}
