/* Running token batches through the forward graph. A graph is built for each padded length (a
 * multiple of 64 tokens, so a few shapes cover a data set) and batch size, and kept until the
 * shape changes; the scheduler's plan and memory go with it. */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "models/tahoe_x1.h"

#define SEQ_ROUND 64

struct tx1_runner {
    const struct tx1_model *m;
    struct sg_stream *stream;
    struct tx1_runner_opts o;
    struct tx1_graph *g;
    struct sg_sched *sched;
    /* host copies of the last run's outputs */
    float *cell_emb, *expr, *mvc, *resid[TX1_MAX_LAYERS];
    /* staging for inputs */
    int32_t *ids, *mask;
    float *values, *gen;
};

sg_status tx1_runner_new(const struct tx1_model *m, struct sg_stream *stream, const struct tx1_runner_opts *opts,
                         struct tx1_runner **out) {
    *out = NULL;
    if (opts->batch <= 0 || opts->context < 2)
        return sg_error(SG_ERR_INVALID_ARG, "runner: batch %lld and context %lld must be positive (context >= 2)",
                        (long long)opts->batch, (long long)opts->context);
    for (int i = 0; i < opts->n_resid; i++)
        if (opts->resid_layers[i] < 0 || opts->resid_layers[i] >= m->cfg.n_layers)
            return sg_error(SG_ERR_INVALID_ARG, "layer %d does not exist: the model has layers 0..%lld",
                            opts->resid_layers[i], (long long)m->cfg.n_layers - 1);
    struct tx1_runner *r = calloc(1, sizeof *r);
    if (!r) return sg_error(SG_ERR_NO_MEMORY, "runner: out of memory");
    r->m           = m;
    r->stream      = stream;
    r->o           = *opts;
    const size_t d = (size_t)m->cfg.d_model, tokens = (size_t)(opts->batch * opts->context);
    bool ok = (r->cell_emb = malloc(d * (size_t)opts->batch * sizeof(float))) &&
              (r->ids = malloc(tokens * sizeof(int32_t))) && (r->mask = malloc(tokens * sizeof(int32_t))) &&
              (r->values = malloc(tokens * sizeof(float))) && (r->gen = malloc(tokens * sizeof(float)));
    if (ok && opts->heads) ok = (r->expr = malloc(tokens * sizeof(float))) && (r->mvc = malloc(tokens * sizeof(float)));
    for (int i = 0; ok && i < opts->n_resid; i++) ok = (r->resid[i] = malloc(tokens * d * sizeof(float))) != NULL;
    if (!ok) {
        tx1_runner_free(r);
        return sg_error(SG_ERR_NO_MEMORY, "runner: out of memory for a batch of %lld x %lld tokens",
                        (long long)opts->batch, (long long)opts->context);
    }
    *out = r;
    return SG_OK;
}

static void drop_graph(struct tx1_runner *r) {
    sg_sched_free(r->sched);
    tx1_graph_free(r->g);
    r->sched = NULL;
    r->g     = NULL;
}

void tx1_runner_free(struct tx1_runner *r) {
    if (!r) return;
    drop_graph(r);
    free(r->cell_emb);
    free(r->expr);
    free(r->mvc);
    for (int i = 0; i < TX1_MAX_LAYERS; i++) free(r->resid[i]);
    free(r->ids);
    free(r->mask);
    free(r->values);
    free(r->gen);
    free(r);
}

static sg_status ensure_graph(struct tx1_runner *r, int64_t B, int64_t S) {
    if (r->g && r->g->batch == B && r->g->seq == S) return SG_OK;
    drop_graph(r);
    struct tx1_graph_opts go = {.batch = B, .seq = S, .generative = r->o.generative, .heads = r->o.heads};
    for (int i = 0; i < r->o.n_resid; i++) go.resid[r->o.resid_layers[i]] = true;
    sg_status st = tx1_graph_build(r->m, &go, &r->g);
    if (st == SG_OK) st = sg_sched_new(r->stream, 0, &r->sched);
    if (st == SG_OK) st = sg_sched_prepare(r->sched, r->g->graph);
    if (st != SG_OK) {
        drop_graph(r);
        return st;
    }
    SG_LOGD("tx1: graph for %lld cells x %lld tokens (%d nodes)", (long long)B, (long long)S, r->g->graph->n_nodes);
    return SG_OK;
}

sg_status tx1_runner_run(struct tx1_runner *r, const struct tx1_batch *b) {
    const int64_t B = b->n_cells, d = r->m->cfg.d_model;
    if (B <= 0 || B > r->o.batch)
        return sg_error(SG_ERR_INVALID_ARG, "runner: %lld cells for batches of %lld", (long long)B,
                        (long long)r->o.batch);
    if (b->seq > r->o.context || b->seq > b->cap_seq)
        return sg_error(SG_ERR_INVALID_ARG, "runner: a cell of %lld tokens exceeds the context %lld", (long long)b->seq,
                        (long long)r->o.context);
    int64_t S = (b->seq + SEQ_ROUND - 1) / SEQ_ROUND * SEQ_ROUND;
    if (S > r->o.context) S = r->o.context;
    if (S > b->cap_seq) S = b->cap_seq;
    sg_status st = ensure_graph(r, B, S);
    if (st != SG_OK) return st;

    /* the batch rows are cap_seq long and padded already; take the first S of each */
    for (int64_t c = 0; c < B; c++) {
        memcpy(r->ids + c * S, b->ids + c * b->cap_seq, (size_t)S * sizeof(int32_t));
        memcpy(r->mask + c * S, b->key_mask + c * b->cap_seq, (size_t)S * sizeof(int32_t));
        memcpy(r->values + c * S, b->values + c * b->cap_seq, (size_t)S * sizeof(float));
        memcpy(r->gen + c * S, b->gen + c * b->cap_seq, (size_t)S * sizeof(float));
    }
    const size_t n      = (size_t)(B * S);
    struct tx1_graph *g = r->g;
    st                  = sg_tensor_set(g->ids, r->ids, 0, n * sizeof(int32_t));
    if (st == SG_OK) st = sg_tensor_set(g->key_mask, r->mask, 0, n * sizeof(int32_t));
    if (st == SG_OK) st = sg_tensor_set(g->values, r->values, 0, n * sizeof(float));
    if (st == SG_OK && g->gen) st = sg_tensor_set(g->gen, r->gen, 0, n * sizeof(float));
    if (st == SG_OK) st = sg_sched_compute(r->sched, g->graph);
    if (st == SG_OK) st = sg_tensor_get(g->cell_emb, r->cell_emb, 0, (size_t)(d * B) * sizeof(float));
    for (int i = 0; st == SG_OK && i < r->o.n_resid; i++)
        st = sg_tensor_get(g->resid[r->o.resid_layers[i]], r->resid[i], 0, n * (size_t)d * sizeof(float));
    if (st == SG_OK && r->o.heads) st = sg_tensor_get(g->expr_pred, r->expr, 0, n * sizeof(float));
    if (st == SG_OK && r->o.heads) st = sg_tensor_get(g->mvc_pred, r->mvc, 0, n * sizeof(float));
    return st;
}

int64_t tx1_runner_seq(const struct tx1_runner *r) { return r->g ? r->g->seq : 0; }
const float *tx1_runner_cell_emb(const struct tx1_runner *r) { return r->cell_emb; }
const float *tx1_runner_resid(const struct tx1_runner *r, int i) {
    return i >= 0 && i < r->o.n_resid ? r->resid[i] : NULL;
}
const float *tx1_runner_expr_pred(const struct tx1_runner *r) { return r->expr; }
const float *tx1_runner_mvc_pred(const struct tx1_runner *r) { return r->mvc; }

sg_status tx1_runner_stats(const struct tx1_runner *r, struct sg_sched_stats *out) {
    if (!r->g) return sg_error(SG_ERR_INVALID_ARG, "runner: nothing has run yet");
    return sg_sched_stats(r->sched, r->g->graph, out);
}
