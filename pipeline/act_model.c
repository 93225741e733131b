/* The activation source that runs Tahoe X1: cells in h5ad order, batch_cells per forward pass,
 * the selected tokens of each batch served in order. Its position is (epoch, first cell of the
 * batch, tokens served from it); seeking re-runs that batch, which is deterministic, so a resumed
 * run sees exactly the tokens an uninterrupted one would. */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "pipeline/act_source.h"
#include "pipeline/dist.h"

const char *sg_tokens_name(enum sg_tokens t) {
    switch (t) {
    case SG_TOKENS_GENES: return "genes";
    case SG_TOKENS_CLS: return "cls";
    case SG_TOKENS_ALL: return "all";
    }
    return "?";
}

sg_status sg_tokens_parse(const char *s, enum sg_tokens *out) {
    for (int t = SG_TOKENS_GENES; t <= SG_TOKENS_ALL; t++)
        if (strcmp(s, sg_tokens_name((enum sg_tokens)t)) == 0) {
            *out = (enum sg_tokens)t;
            return SG_OK;
        }
    return sg_error(SG_ERR_INVALID_ARG, "--tokens '%s': choose genes, cls or all", s);
}

int64_t sg_act_select_tokens(enum sg_tokens tokens, const float *resid, int64_t seq, int64_t d, int64_t cell,
                             int64_t len, float *dst) {
    int64_t t0 = tokens == SG_TOKENS_GENES ? 1 : 0, t1 = tokens == SG_TOKENS_CLS ? 1 : len;
    if (t1 > len) t1 = len;
    if (t1 <= t0) return 0;
    memcpy(dst, resid + (cell * seq + t0) * d, (size_t)((t1 - t0) * d) * sizeof(float));
    return t1 - t0;
}

struct model_source {
    struct sg_act_source base;
    struct sg_act_model_opts o;
    struct tx1_runner *runner;
    struct tx1_batch *batch;
    float *rows;    /* the selected tokens of this process's batch */
    float *cur;     /* the current batch's tokens (rows, or inside round) */
    int64_t n_rows; /* -1: the current batch has not run */
    struct sg_act_pos pos;
    int64_t epoch_tokens; /* tokens counted in the current epoch */
    /* several ranks: a round is `size` consecutive batches from round_item on, one per rank,
     * every rank's tokens gathered to every rank in batch order */
    float *round;
    int64_t round_item, *round_rows; /* [size] tokens of each batch */
};

/* the selected tokens of cells [first, first + batch_cells) into s->rows; returns how many */
static sg_status run_own_batch(struct model_source *s, int64_t first, int64_t *n_rows) {
    struct sg_cells *c = s->o.cells;
    *n_rows            = 0;
    if (first >= c->n_cells) return SG_OK; /* past the end: a rank with nothing this round */
    int64_t n = c->n_cells - first;
    if (n > s->o.batch_cells) n = s->o.batch_cells;
    sg_status st = sg_cells_batch(c, first, n, s->batch);
    if (st == SG_OK) st = tx1_runner_run(s->runner, s->batch);
    if (st != SG_OK) return st;
    const int64_t d = s->base.d, S = tx1_runner_seq(s->runner);
    const float *resid = tx1_runner_resid(s->runner, 0);
    for (int64_t i = 0; i < s->batch->n_cells; i++)
        *n_rows += sg_act_select_tokens(s->o.tokens, resid, S, d, i, s->batch->len[i], s->rows + *n_rows * d);
    return SG_OK;
}

static sg_status run_batch(struct model_source *s) {
    const int size   = sg_dist_size();
    const int64_t bc = s->o.batch_cells, d = s->base.d;
    if (size == 1) {
        s->cur = s->rows;
        return run_own_batch(s, s->pos.item, &s->n_rows);
    }
    /* the batch may be in the round already gathered */
    const int64_t j = (s->pos.item - s->round_item) / bc;
    if (!s->round || s->pos.item < s->round_item || j >= size || (s->pos.item - s->round_item) % bc) {
        free(s->round);
        s->round      = NULL;
        s->round_item = s->pos.item;
        int64_t mine  = 0;
        sg_status st  = run_own_batch(s, s->round_item + sg_dist_rank() * bc, &mine);
        /* a rank that failed ends the job (main: sg_dist_abort) */
        if (st == SG_OK)
            st = sg_dist_allgatherv(s->rows, mine * d * (int64_t)sizeof(float), (void **)&s->round, s->round_rows);
        if (st != SG_OK) return st;
        for (int i = 0; i < size; i++) s->round_rows[i] /= d * (int64_t)sizeof(float);
        return run_batch(s);
    }
    int64_t at = 0;
    for (int64_t i = 0; i < j; i++) at += s->round_rows[i];
    s->cur    = s->round + at * d;
    s->n_rows = s->round_rows[j];
    return SG_OK;
}

static sg_status model_read(struct sg_act_source *base, float *dst, int64_t n, int64_t *got) {
    struct model_source *s = (struct model_source *)base;
    const int64_t d        = base->d;
    int64_t empty_batches  = 0;
    if (got) *got = 0;
    while (n > 0) {
        if (s->n_rows < 0) {
            sg_status st = run_batch(s);
            if (st != SG_OK) return st;
        }
        int64_t take = s->n_rows - s->pos.offset;
        if (take > n) take = n;
        if (take > 0) {
            memcpy(dst, s->cur + s->pos.offset * d, (size_t)(take * d) * sizeof(float));
            dst += take * d;
            n -= take;
            if (got) *got += take;
            s->pos.offset += take;
            empty_batches = 0;
        }
        if (s->pos.offset >= s->n_rows) { /* next batch of cells, or a new epoch */
            s->epoch_tokens += s->n_rows;
            if (s->n_rows == 0 && ++empty_batches > s->o.cells->n_cells)
                return sg_error(SG_ERR_INVALID_ARG, "%s: no cell has a token of the chosen kind", s->o.cells->data);
            s->pos.item += s->o.batch_cells;
            s->pos.offset = 0;
            s->n_rows     = -1;
            if (s->pos.item >= s->o.cells->n_cells) {
                if (s->base.n_tokens < 0) s->base.n_tokens = s->epoch_tokens;
                if (s->base.n_tokens == 0)
                    return sg_error(SG_ERR_INVALID_ARG, "%s: no cell has a token of the chosen kind", s->o.cells->data);
                s->epoch_tokens = 0;
                s->pos.item     = 0;
                s->pos.epoch++;
                if (got) return SG_OK;
            }
        }
    }
    return SG_OK;
}

static struct sg_act_pos model_tell(const struct sg_act_source *base) {
    return ((const struct model_source *)base)->pos;
}

static sg_status model_seek(struct sg_act_source *base, struct sg_act_pos pos) {
    struct model_source *s = (struct model_source *)base;
    if (pos.item < 0 || pos.item >= s->o.cells->n_cells || pos.item % s->o.batch_cells || pos.offset < 0)
        return sg_error(SG_ERR_INVALID_ARG, "activation position (cell %lld, token %lld) does not fit this data",
                        (long long)pos.item, (long long)pos.offset);
    s->pos    = pos;
    s->n_rows = -1;
    return SG_OK;
}

static void model_free(struct sg_act_source *base) {
    struct model_source *s = (struct model_source *)base;
    if (!s) return;
    tx1_runner_free(s->runner);
    tx1_batch_free(s->batch);
    free(s->rows);
    free(s->round);
    free(s->round_rows);
    free(s);
}

sg_status sg_act_source_model(const struct sg_act_model_opts *o, struct sg_act_source **out) {
    *out                 = NULL;
    struct sg_cells *c   = o->cells;
    const int64_t layers = c->m->cfg.n_layers;
    if (o->layer < 0 || o->layer >= layers)
        return sg_error(SG_ERR_INVALID_ARG, "--layer %d: the model has blocks 0..%lld", o->layer,
                        (long long)layers - 1);
    if (o->batch_cells < 1) return sg_error(SG_ERR_INVALID_ARG, "cells per forward pass must be >= 1");
    struct model_source *s = calloc(1, sizeof *s);
    if (!s) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    s->o                      = *o;
    s->base                   = (struct sg_act_source){.d        = c->m->cfg.d_model,
                                                       .n_tokens = -1,
                                                       .read     = model_read,
                                                       .tell     = model_tell,
                                                       .seek     = model_seek,
                                                       .free     = model_free};
    s->n_rows                 = -1;
    const int64_t ctx_len     = c->tk.context;
    struct tx1_runner_opts ro = {.batch = o->batch_cells, .context = ctx_len, .n_resid = 1, .resid_layers = {o->layer}};
    sg_status st              = tx1_runner_new(c->m, o->stream, &ro, &s->runner);
    s->batch                  = tx1_batch_new(o->batch_cells, ctx_len);
    s->rows                   = malloc((size_t)(o->batch_cells * ctx_len * s->base.d) * sizeof(float));
    s->round_rows             = calloc((size_t)sg_dist_size(), sizeof *s->round_rows);
    /* several ranks: rows are read only within a batch, so the reads stay disjoint */
    if (sg_dist_size() > 1) c->exact_reads = true;
    if (st == SG_OK && (!s->batch || !s->rows || !s->round_rows))
        st = sg_error(SG_ERR_NO_MEMORY, "out of memory for a batch of cells");
    if (st != SG_OK) {
        model_free(&s->base);
        return st;
    }
    *out = &s->base;
    return SG_OK;
}
