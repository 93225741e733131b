/* Loss recovered: Tahoe X1's own training objective (../shared/reference/tahoe_x1.md §5) with
 * the SAE spliced in at one layer. Each cell gets a seeded generative mask over half its genes
 * (masked tokens are SELF keys when the model was trained with the generative mask); the loss is
 * (MSE of the expression head + MSE of the MVC head) / 2 over masked tokens, against the bins.
 * Three runs per batch: clean, with the selected tokens' residual stream replaced by the SAE's
 * reconstruction, and with it zeroed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/ops.h"
#include "models/sae_rng.h"
#include "pipeline/eval_priv.h"

#define SEQ_ROUND 64

struct splice_run {
    int64_t B, S;
    struct tx1_graph *clean, *spliced;
    struct sg_sched *sched;
};

static void run_free(struct splice_run *r) {
    sg_sched_free(r->sched);
    tx1_graph_free(r->clean);
    tx1_graph_free(r->spliced);
    memset(r, 0, sizeof *r);
}

static sg_status run_ensure(struct splice_run *r, const struct tx1_model *m, struct sg_stream *stream, int layer,
                            int64_t B, int64_t S) {
    if (r->clean && r->B == B && r->S == S) return SG_OK;
    run_free(r);
    struct tx1_graph_opts go = {.batch = B, .seq = S, .generative = true, .heads = true};
    go.resid[layer]          = true;
    sg_status st             = tx1_graph_build(m, &go, &r->clean);
    go.resid[layer]          = false;
    go.splice                = true;
    go.splice_layer          = layer;
    if (st == SG_OK) st = tx1_graph_build(m, &go, &r->spliced);
    if (st == SG_OK) st = sg_sched_new(stream, 0, &r->sched);
    if (st == SG_OK) st = sg_sched_prepare(r->sched, r->clean->graph);
    if (st == SG_OK) st = sg_sched_prepare(r->sched, r->spliced->graph);
    if (st != SG_OK) {
        run_free(r);
        return st;
    }
    r->B = B;
    r->S = S;
    return SG_OK;
}

/* Sets an input the graph uses (inputs outside the graph have no memory). */
static sg_status set_if_used(struct sg_tensor *t, const void *data, size_t n) {
    return t && t->data ? sg_tensor_set(t, data, 0, n) : SG_OK;
}

struct staging {
    int32_t *ids, *mask;
    float *values, *gen, *expr, *mvc, *resid, *splice;
};

static sg_status run_graph(struct splice_run *r, struct tx1_graph *g, const struct staging *s, bool spliced,
                           int64_t d) {
    const size_t n = (size_t)(r->B * r->S);
    sg_status st   = set_if_used(g->ids, s->ids, n * 4);
    if (st == SG_OK) st = set_if_used(g->key_mask, s->mask, n * 4);
    if (st == SG_OK) st = set_if_used(g->values, s->values, n * 4);
    if (st == SG_OK) st = set_if_used(g->gen, s->gen, n * 4);
    if (st == SG_OK && spliced) st = sg_tensor_set(g->splice, s->splice, 0, n * (size_t)d * 4);
    if (st == SG_OK) st = sg_sched_compute(r->sched, g->graph);
    if (st == SG_OK) st = sg_tensor_get(g->expr_pred, s->expr, 0, n * 4);
    if (st == SG_OK) st = sg_tensor_get(g->mvc_pred, s->mvc, 0, n * 4);
    return st;
}

/* Σ over masked tokens of ((expr - y)² + (mvc - y)²) / 2. */
static double masked_loss(const struct staging *s, int64_t n) {
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        if (s->gen[i] == 0.0f) continue;
        double e = (double)s->expr[i] - s->values[i], v = (double)s->mvc[i] - s->values[i];
        sum += 0.5 * (e * e + v * v);
    }
    return sum;
}

sg_status sg_eval_loss_recovered(struct sg_sae *sae, struct sg_cells *cells, struct sg_stream *stream, int layer,
                                 enum sg_tokens tokens, const struct sg_eval_opts *o, struct sg_eval_result *out) {
    const struct tx1_model *m = cells->m;
    const int64_t d = m->cfg.d_model, ctx_len = cells->tk.context;
    const int64_t BC = o->batch_cells > 0 ? o->batch_cells : 8, E = o->batch > 0 ? o->batch : 4096;
    int64_t n_cells = o->cells < cells->n_cells ? o->cells : cells->n_cells;
    if (n_cells < 1) return SG_OK;
    if (sae->cfg.d_in != d)
        return sg_error(SG_ERR_INVALID_ARG, "the SAE takes d_in = %lld but the model's width is %lld",
                        (long long)sae->cfg.d_in, (long long)d);
    if (layer < 0 || layer >= m->cfg.n_layers)
        return sg_error(SG_ERR_INVALID_ARG, "layer %d: the model has blocks 0..%lld", layer,
                        (long long)m->cfg.n_layers - 1);

    struct splice_run run = {0};
    struct sg_eval_enc enc;
    sg_status st = sg_eval_enc_new(sae, stream, E, &enc);
    if (st != SG_OK) return st;
    struct tx1_batch *b = tx1_batch_new(BC, ctx_len);
    const size_t tok    = (size_t)(BC * ctx_len);
    struct staging s    = {
           .ids    = malloc(tok * 4),
           .mask   = malloc(tok * 4),
           .values = malloc(tok * 4),
           .gen    = malloc(tok * 4),
           .expr   = malloc(tok * 4),
           .mvc    = malloc(tok * 4),
           .resid  = malloc(tok * (size_t)d * 4),
           .splice = malloc(tok * (size_t)d * 4),
    };
    float *xin = malloc((size_t)(E * d) * 4), *xout = malloc((size_t)(E * d) * 4);
    int64_t *where = calloc(tok, sizeof *where); /* flat token index of each selected token */
    if (!b || !s.ids || !s.mask || !s.values || !s.gen || !s.expr || !s.mvc || !s.resid || !s.splice || !xin || !xout ||
        !where)
        st = sg_error(SG_ERR_NO_MEMORY, "out of memory for the loss-recovered evaluation");
    double l_clean = 0, l_sae = 0, l_abl = 0;
    int64_t n_masked = 0;
    for (int64_t first = 0; st == SG_OK && first < n_cells; first += BC) {
        const int64_t B = n_cells - first < BC ? n_cells - first : BC;
        st              = sg_cells_batch(cells, first, B, b);
        if (st != SG_OK) break;
        int64_t S = (b->seq + SEQ_ROUND - 1) / SEQ_ROUND * SEQ_ROUND;
        if (S > ctx_len) S = ctx_len;
        st = run_ensure(&run, m, stream, layer, B, S);
        if (st != SG_OK) break;
        /* inputs with a seeded generative mask over half of each cell's genes */
        int64_t n_sel = 0;
        for (int64_t c = 0; c < B; c++) {
            const int64_t len = b->len[c], genes = len - 1;
            memcpy(s.ids + c * S, b->ids + c * b->cap_seq, (size_t)S * 4);
            memcpy(s.mask + c * S, b->key_mask + c * b->cap_seq, (size_t)S * 4);
            memcpy(s.values + c * S, b->values + c * b->cap_seq, (size_t)S * 4);
            memset(s.gen + c * S, 0, (size_t)S * 4);
            struct sg_rng rng;
            sg_rng_seed(&rng, o->seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(b->cell[c] + 1)));
            int64_t k = (int64_t)floor((double)genes * o->mask_fraction);
            if (k > genes) k = genes;
            /* a partial Fisher-Yates over gene positions 1..len-1 */
            for (int64_t t = 0; t < genes; t++) where[t] = t + 1;
            for (int64_t i = 0; i < k; i++) {
                int64_t j               = i + (int64_t)sg_rng_below(&rng, (uint64_t)(genes - i));
                int64_t tt              = where[i];
                where[i]                = where[j];
                where[j]                = tt;
                s.gen[c * S + where[i]] = 1.0f;
                if (m->cfg.trained_with_gen_mask) s.mask[c * S + where[i]] = SG_ATTN_KEY_SELF;
            }
            n_masked += k;
        }
        st = run_graph(&run, run.clean, &s, false, d);
        if (st == SG_OK) st = sg_tensor_get(run.clean->resid[layer], s.resid, 0, (size_t)(B * S * d) * 4);
        if (st != SG_OK) break;
        l_clean += masked_loss(&s, B * S);
        /* the tokens the SAE was trained on */
        for (int64_t c = 0; c < B; c++) {
            int64_t t0 = tokens == SG_TOKENS_GENES ? 1 : 0, t1 = tokens == SG_TOKENS_CLS ? 1 : b->len[c];
            for (int64_t t = t0; t < t1 && t < b->len[c]; t++) where[n_sel++] = c * S + t;
        }
        /* reconstruction, E tokens at a time */
        memcpy(s.splice, s.resid, (size_t)(B * S * d) * 4);
        for (int64_t p = 0; st == SG_OK && p < n_sel; p += E) {
            int64_t n = n_sel - p < E ? n_sel - p : E;
            for (int64_t i = 0; i < n; i++) memcpy(xin + i * d, s.resid + where[p + i] * d, (size_t)d * 4);
            memset(xin + n * d, 0, (size_t)((E - n) * d) * 4);
            st = sg_tensor_set(enc.e.x, xin, 0, (size_t)(E * d) * 4);
            if (st == SG_OK) st = sg_sched_compute(enc.sched, enc.g);
            if (st == SG_OK) st = sg_tensor_get(enc.e.recon, xout, 0, (size_t)(E * d) * 4);
            for (int64_t i = 0; st == SG_OK && i < n; i++)
                memcpy(s.splice + where[p + i] * d, xout + i * d, (size_t)d * 4);
        }
        if (st == SG_OK) st = run_graph(&run, run.spliced, &s, true, d);
        if (st != SG_OK) break;
        l_sae += masked_loss(&s, B * S);
        memcpy(s.splice, s.resid, (size_t)(B * S * d) * 4);
        for (int64_t i = 0; i < n_sel; i++) memset(s.splice + where[i] * d, 0, (size_t)d * 4);
        st = run_graph(&run, run.spliced, &s, true, d);
        if (st == SG_OK) l_abl += masked_loss(&s, B * S);
    }
    if (st == SG_OK && n_masked == 0) SG_LOGW("loss recovered: no cell has a gene to mask; skipped");
    if (st == SG_OK && n_masked > 0) {
        out->have_loss      = true;
        out->loss_cells     = n_cells;
        out->loss_tokens    = n_masked;
        out->loss_clean     = l_clean / (double)n_masked;
        out->loss_sae       = l_sae / (double)n_masked;
        out->loss_ablation  = l_abl / (double)n_masked;
        double den          = out->loss_ablation - out->loss_clean;
        out->loss_recovered = den != 0 ? (out->loss_ablation - out->loss_sae) / den : 0.0;
    }
    run_free(&run);
    sg_eval_enc_free(&enc);
    tx1_batch_free(b);
    free(s.ids);
    free(s.mask);
    free(s.values);
    free(s.gen);
    free(s.expr);
    free(s.mvc);
    free(s.resid);
    free(s.splice);
    free(xin);
    free(xout);
    free(where);
    return st;
}
