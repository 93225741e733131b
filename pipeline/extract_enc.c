/* The SAE encoder for extraction: one graph of a fixed number of tokens, built once and replayed;
 * a short last chunk is padded with zero rows whose codes are ignored. */
#include "pipeline/extract_enc.h"

#include <string.h>

#include "core/context.h"

void sg_extract_enc_free(struct sg_extract_enc *e) {
    sg_sched_free(e->sched);
    sg_ctx_free(e->ctx);
    memset(e, 0, sizeof *e);
}

sg_status sg_extract_enc_new(struct sg_sae *sae, struct sg_stream *stream, int threads, int64_t tokens, int max_codes,
                             struct sg_extract_enc *e) {
    memset(e, 0, sizeof *e);
    e->ctx = sg_ctx_new();
    if (!e->ctx) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    sg_status st = sg_sae_build_encode(sae, e->ctx, tokens, max_codes, false, &e->enc);
    if (st == SG_OK) {
        e->g = sg_graph_new(e->ctx);
        st   = e->g ? SG_OK : sg_error(SG_ERR_NO_MEMORY, "out of memory");
    }
    if (st == SG_OK) st = sg_graph_expand(e->g, e->enc.idx);
    if (st == SG_OK) st = sg_graph_expand(e->g, e->enc.vals);
    if (st == SG_OK) st = sg_sched_new(stream, threads, &e->sched);
    if (st == SG_OK) st = sg_sched_prepare(e->sched, e->g);
    if (st != SG_OK) sg_extract_enc_free(e);
    return st;
}

sg_status sg_extract_enc_run(struct sg_extract_enc *e, const float *x, int64_t n, float *pad, int32_t *idx,
                             float *vals) {
    const int64_t B = e->enc.batch, D = e->enc.x->ne[0], K = e->enc.k_codes;
    for (int64_t at = 0; at < n; at += B) {
        const int64_t m = n - at < B ? n - at : B;
        const float *in = x + at * D;
        if (m < B) { /* the last chunk: real rows, then zeros */
            memcpy(pad, in, (size_t)(m * D) * sizeof *pad);
            memset(pad + m * D, 0, (size_t)((B - m) * D) * sizeof *pad);
            in = pad;
        }
        sg_status st = sg_tensor_set(e->enc.x, in, 0, (size_t)(B * D) * sizeof *in);
        if (st == SG_OK) st = sg_sched_compute(e->sched, e->g);
        if (st == SG_OK) st = sg_tensor_get(e->enc.idx, idx + at * K, 0, (size_t)(m * K) * sizeof *idx);
        if (st == SG_OK) st = sg_tensor_get(e->enc.vals, vals + at * K, 0, (size_t)(m * K) * sizeof *vals);
        if (st != SG_OK) return st;
    }
    return SG_OK;
}
