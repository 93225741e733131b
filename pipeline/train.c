/* The training loop: data -> shuffle pool -> step graph, with dead-latent tracking, the training
 * log, progress, checkpoints, and at the end the folded SAE in SAELens layout and its
 * evaluation. */
#include "core/fs.h"
#include "pipeline/train.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/ops.h"
#include "pipeline/act_cache.h"
#include "pipeline/dist.h"
#include "pipeline/train_priv.h"

#define SPARSITY_WINDOW_STEPS 2000 /* firing counts for sparsity.safetensors, as SAELens */

void sg_train_opts_default(struct sg_train_opts *o) {
    *o = (struct sg_train_opts){
        .layer                = -1,
        .tokens               = SG_TOKENS_GENES,
        .cells_per_pass       = 8,
        .steps                = 10000,
        .batch                = 4096,
        .warmup_steps         = -1,
        .decay_frac           = 0.2,
        .clip                 = 1.0,
        .dead_tokens          = 10000000,
        .penalty_warmup_steps = -1,
        .device               = "auto",
        .checkpoint_every     = 1000,
        .log_every            = 10,
        .progress             = -1,
        .eval                 = true,
    };
    sg_sae_config_default(&o->sae, SG_SAE_TOPK, 0, 16384);
    sg_eval_opts_default(&o->eval_opts);
}

double sg_train_default_lr(int64_t d_sae) { return 2e-4 / sqrt((double)d_sae / 16384.0); }

double sg_train_lr_at(double lr, int64_t t, int64_t steps, int64_t warmup, double decay_frac) {
    double f = 1.0;
    if (warmup > 0 && t < warmup) f = (double)(t + 1) / (double)warmup;
    int64_t decay = (int64_t)floor(decay_frac * (double)steps);
    if (decay > 0 && t >= steps - decay) f *= (double)(steps - t) / (double)decay;
    return lr * f;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static volatile sig_atomic_t g_interrupted;
static void on_sigint(int sig) {
    (void)sig;
    g_interrupted = 1;
}

/* ---- setup ------------------------------------------------------------------------------- */

static sg_status check_opts(const struct sg_train_opts *o) {
    if (!o->output) return sg_error(SG_ERR_INVALID_ARG, "--output is required");
    if (!o->source && !o->data) return sg_error(SG_ERR_INVALID_ARG, "--data is required");
    if (o->steps < 1) return sg_error(SG_ERR_INVALID_ARG, "--steps %lld must be >= 1", (long long)o->steps);
    if (o->batch < 1) return sg_error(SG_ERR_INVALID_ARG, "--batch %lld must be >= 1", (long long)o->batch);
    if (o->decay_frac < 0 || o->decay_frac > 1) return sg_error(SG_ERR_INVALID_ARG, "decay fraction must be in [0, 1]");
    if (o->sae.d_sae < 1) return sg_error(SG_ERR_INVALID_ARG, "--d-sae must be >= 1");
    return SG_OK;
}

static sg_status open_data(struct sg_trainer *t) {
    const struct sg_train_opts *o = &t->o;
    if (o->source) {
        t->src   = o->source;
        t->layer = o->layer < 0 ? 0 : o->layer;
        snprintf(t->model_fp, sizeof t->model_fp, "none");
        snprintf(t->data_fp, sizeof t->data_fp, "none");
        return SG_OK;
    }
    struct sg_cells_opts co = {.model       = o->model,
                               .model_size  = o->model_size,
                               .data        = o->data,
                               .gene_id_key = o->gene_id_key,
                               .max_cells   = o->max_cells,
                               .context     = o->context,
                               .seed        = o->seed,
                               .device      = t->dev,
                               .dtype       = o->dtype};
    sg_status st            = sg_cells_open(&co, &t->cells);
    if (st != SG_OK) return st;
    t->layer = o->layer < 0 ? sg_cells_default_layer(t->cells) : o->layer;
    if (t->layer >= t->cells->m->cfg.n_layers)
        return sg_error(SG_ERR_INVALID_ARG, "--layer %d: the model has blocks 0..%lld", t->layer,
                        (long long)t->cells->m->cfg.n_layers - 1);
    char path[1100];
    snprintf(path, sizeof path, "%s/model.safetensors", t->cells->model_dir);
    st = sg_file_fingerprint(path, t->model_fp);
    if (st == SG_OK) st = sg_file_fingerprint(o->data, t->data_fp);
    if (st != SG_OK) return st;
    if (o->cache_dir) {
        struct sg_act_cache_opts ca = {.dir         = o->cache_dir,
                                       .cells       = t->cells,
                                       .layer       = t->layer,
                                       .tokens      = o->tokens,
                                       .batch_cells = o->cells_per_pass,
                                       .stream      = t->stream,
                                       .bf16        = !o->cache_f32};
        st                          = sg_act_cache_source(&ca, &t->own_src);
    } else {
        struct sg_act_model_opts mo = {.cells       = t->cells,
                                       .layer       = t->layer,
                                       .tokens      = o->tokens,
                                       .batch_cells = o->cells_per_pass,
                                       .stream      = t->stream};
        st                          = sg_act_source_model(&mo, &t->own_src);
    }
    t->src = t->own_src;
    return st;
}

/* s = sqrt(d_in) / mean ||x|| over the first pool, and the SAE initialised from the first batch. */
static sg_status init_fresh(struct sg_trainer *t) {
    struct sg_pool *p = t->pool;
    sg_status st      = sg_pool_prime(p);
    if (st != SG_OK) return st;
    const int64_t D = p->d;
    double norm_sum = 0;
    for (int64_t i = 0; i < p->cap; i++) {
        double ss = 0;
        for (int64_t j = 0; j < D; j++) ss += (double)p->rows[i * D + j] * p->rows[i * D + j];
        norm_sum += sqrt(ss);
    }
    double mean = norm_sum / (double)p->cap;
    if (!(mean > 0) || !isfinite(mean))
        return sg_error(SG_ERR_INVALID_ARG, "the activations have no norm to scale (mean ||x|| = %g)", mean);
    t->sae->scale = (float)(sqrt((double)D) / mean);
    /* the first batch as the trainer will see it */
    float *first = malloc((size_t)(t->o.batch * D) * sizeof *first);
    if (!first) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    for (int64_t i = 0; i < t->o.batch; i++)
        for (int64_t j = 0; j < D; j++) first[i * D + j] = p->rows[(int64_t)p->perm[i] * D + j] * t->sae->scale;
    st = sg_sae_init(t->sae, t->o.seed, first, t->o.batch);
    free(first);
    SG_LOGI("train: input scale %.4g (mean ||x|| = %.4g over %lld tokens)", (double)t->sae->scale, mean,
            (long long)p->cap);
    return st;
}

static sg_status ensure_graph(struct sg_trainer *t, int which) {
    struct sg_step_graph *g = &t->graphs[which];
    if (g->graph) return SG_OK;
    const bool split = sg_dist_size() > 1;
    sg_status st     = sg_step_graph_build(t->sae, &t->adam, t->batch_hi - t->batch_lo, which == 1, split, g);
    if (st == SG_OK) st = sg_sched_prepare(t->sched, g->graph);
    if (st == SG_OK && split) st = sg_sched_prepare(t->sched, g->update);
    if (st == SG_OK) st = sg_sae_fwd_upload(&g->fwd);
    if (st != SG_OK) {
        sg_step_graph_free(g);
        return st;
    }
    struct sg_sched_stats ss;
    if (sg_sched_stats(t->sched, g->graph, &ss) == SG_OK)
        SG_LOGI("train: step graph%s: %d nodes, %.1f MiB of working memory%s", which ? " with aux-k" : "",
                g->graph->n_nodes, (double)ss.compute_bytes / 1048576.0,
                ss.n_fallback_nodes ? " (some ops fall back to the CPU)" : "");
    return SG_OK;
}

/* ---- one step ---------------------------------------------------------------------------- */

struct step_out {
    float loss, terms[SG_SAE_MAX_TERMS], sse, sst, threshold;
    int64_t n_dead;
    double l0;
};

/* Several ranks: this rank's gradients (of the mean over its b rows) weighted by b / B and summed
 * over the ranks are the gradients of the mean over the whole batch; every rank then takes the
 * same Adam step from the same sum, so the weights stay identical. */
static sg_status reduce_grads(struct sg_trainer *t, struct sg_step_graph *g) {
    const float w = (float)(t->batch_hi - t->batch_lo) / (float)t->o.batch;
    int64_t n     = 0;
    sg_status st  = SG_OK;
    for (int i = 0; st == SG_OK && i < t->adam.n; i++) {
        if (!g->grad[i]) continue;
        const int64_t ne = sg_nelements(g->grad[i]);
        st               = sg_tensor_get(g->grad[i], t->grads + n, 0, (size_t)ne * sizeof(float));
        n += ne;
    }
    for (int64_t i = 0; i < n; i++) t->grads[i] *= w;
    if (st == SG_OK) st = sg_dist_allreduce_f32(t->grads, n);
    n = 0;
    for (int i = 0; st == SG_OK && i < t->adam.n; i++) {
        if (!g->grad_in[i]) continue;
        const int64_t ne = sg_nelements(g->grad_in[i]);
        st               = sg_tensor_set(g->grad_in[i], t->grads + n, 0, (size_t)ne * sizeof(float));
        n += ne;
    }
    return st;
}

/* Several ranks: the step's numbers over the whole batch (the loss terms are means over this
 * rank's rows, so they are weighted by its share), and whether any rank was interrupted. */
static sg_status reduce_step(struct sg_trainer *t, struct step_out *so, int n_terms, bool *interrupted) {
    if (sg_dist_size() == 1) return SG_OK;
    const int64_t M = t->sae->cfg.d_sae;
    const double w  = (double)(t->batch_hi - t->batch_lo) / (double)t->o.batch;
    double v[SG_SAE_MAX_TERMS + 6];
    int n  = 0;
    v[n++] = so->loss * w;
    for (int i = 0; i < n_terms; i++) v[n++] = so->terms[i] * w;
    v[n++]       = so->sse;
    v[n++]       = so->sst;
    v[n++]       = so->threshold * w;
    v[n++]       = *interrupted ? 1.0 : 0.0;
    sg_status st = sg_dist_allreduce_f64(v, n);
    if (st == SG_OK) st = sg_dist_allreduce_f32(t->fired, M);
    if (st != SG_OK) return st;
    n        = 0;
    so->loss = (float)v[n++];
    for (int i = 0; i < n_terms; i++) so->terms[i] = (float)v[n++];
    so->sse       = (float)v[n++];
    so->sst       = (float)v[n++];
    so->threshold = (float)v[n++];
    *interrupted  = v[n++] > 0;
    return SG_OK;
}

static sg_status do_step(struct sg_trainer *t, struct step_out *so) {
    const int64_t B = t->o.batch, D = t->d_in, M = t->sae->cfg.d_sae;
    sg_status st = sg_pool_next(t->pool, t->x);
    if (st != SG_OK) return st;
    /* this rank's rows of the batch (all of them in one process) */
    const int64_t b = t->batch_hi - t->batch_lo;
    float *x        = t->x + t->batch_lo * D;
    const float s   = t->sae->scale;
    for (int64_t i = 0; i < b * D; i++) x[i] *= s;
    int64_t n_dead = 0;
    for (int64_t i = 0; i < M; i++) {
        t->dead[i] = t->since_fired[i] >= t->o.dead_tokens ? 1.0f : 0.0f;
        n_dead += t->dead[i] > 0;
    }
    const bool aux = n_dead > 0 && sg_sae_arch_is_topk_family(t->sae->cfg.arch) && t->sae->cfg.aux_coef > 0;
    st             = ensure_graph(t, aux);
    if (st != SG_OK) return st;
    struct sg_step_graph *g = &t->graphs[aux];
    const double b1 = 0.9, b2 = 0.999, step1 = (double)(t->step + 1);
    float hp[SG_ADAM_N_PARAMS] = {
        [SG_ADAM_LR]           = (float)sg_train_lr_at(t->lr, t->step, t->o.steps, t->warmup, t->o.decay_frac),
        [SG_ADAM_BETA1]        = (float)b1,
        [SG_ADAM_BETA2]        = (float)b2,
        [SG_ADAM_EPS]          = 1e-8f,
        [SG_ADAM_WEIGHT_DECAY] = 0.0f,
        [SG_ADAM_BETA1H]       = (float)(1.0 / (1.0 - pow(b1, step1))),
        [SG_ADAM_BETA2H]       = (float)(1.0 / (1.0 - pow(b2, step1))),
        [SG_ADAM_CLIP]         = (float)t->o.clip,
    };
    st = sg_tensor_set(g->fwd.x, x, 0, (size_t)(b * D) * sizeof(float));
    if (st == SG_OK) st = sg_tensor_set(g->hparams, hp, 0, sizeof hp);
    if (st == SG_OK && aux) st = sg_tensor_set(g->fwd.dead, t->dead, 0, (size_t)M * sizeof(float));
    if (st == SG_OK && g->fwd.penalty) {
        /* the sparsity coefficient ramps up linearly, as SAELens's coefficient warm-up */
        const struct sg_sae_config *c = &t->sae->cfg;
        double lambda                 = c->arch == SG_SAE_STANDARD ? c->l1_coef : c->l0_coef;
        double ramp                   = t->penalty_warmup > 0 && t->step < t->penalty_warmup
                                            ? (double)(t->step + 1) / (double)t->penalty_warmup
                                            : 1.0;
        float pen                     = (float)(lambda * ramp / (double)b);
        st                            = sg_tensor_set(g->fwd.penalty, &pen, 0, sizeof pen);
    }
    if (st == SG_OK) st = sg_sched_compute(t->sched, g->graph);
    if (st == SG_OK && g->update) st = reduce_grads(t, g);
    if (st == SG_OK && g->update) st = sg_sched_compute(t->sched, g->update);
    if (st == SG_OK) st = sg_tensor_get(g->fwd.loss, &so->loss, 0, 4);
    for (int i = 0; st == SG_OK && i < g->fwd.n_terms; i++) st = sg_tensor_get(g->fwd.terms[i], &so->terms[i], 0, 4);
    if (st == SG_OK) st = sg_tensor_get(g->fwd.sse, &so->sse, 0, 4);
    if (st == SG_OK) st = sg_tensor_get(g->fwd.sst, &so->sst, 0, 4);
    if (st == SG_OK) st = sg_tensor_get(g->fwd.fired, t->fired, 0, (size_t)M * sizeof(float));
    so->threshold = 0;
    if (st == SG_OK && g->fwd.batch_threshold) st = sg_tensor_get(g->fwd.batch_threshold, &so->threshold, 0, 4);
    bool interrupted = g_interrupted != 0;
    if (st == SG_OK) st = reduce_step(t, so, g->fwd.n_terms, &interrupted);
    if (st != SG_OK) return st;
    if (interrupted) g_interrupted = 1;
    if (!isfinite(so->loss))
        return sg_error(SG_ERR_INVALID_ARG, "the loss became %g at step %lld (try a lower --lr)", (double)so->loss,
                        (long long)t->step + 1);

    double fired_total = 0;
    for (int64_t i = 0; i < M; i++) {
        fired_total += t->fired[i];
        t->since_fired[i] = t->fired[i] > 0 ? 0 : t->since_fired[i] + B;
        t->window_fired[i] += t->fired[i];
    }
    t->window_tokens += B;
    if (g->fwd.batch_threshold && so->threshold > 0) {
        /* BatchTopK's inference threshold: a running average of the batches' thresholds */
        double lr = t->sae->cfg.threshold_lr;
        t->sae->batch_threshold =
            t->sae->batch_threshold > 0 ? (1 - lr) * t->sae->batch_threshold + lr * so->threshold : so->threshold;
    }
    so->l0     = fired_total / (double)B;
    so->n_dead = n_dead;
    t->tokens_seen += B;
    t->step++;
    if (t->step % SPARSITY_WINDOW_STEPS == 0 && t->step < t->o.steps) {
        memset(t->window_fired, 0, (size_t)M * sizeof *t->window_fired);
        t->window_tokens = 0;
    }
    return SG_OK;
}

/* ---- log and progress -------------------------------------------------------------------- */

static void log_accumulate(struct sg_train_log *l, const struct sg_step_graph *g, const struct step_out *so) {
    for (int i = 0; i < g->fwd.n_terms; i++) l->sum[i] += so->terms[i];
    l->loss += so->loss;
    l->sse += so->sse;
    l->sst += so->sst;
    l->l0 += so->l0;
    l->n++;
}

static void log_line(struct sg_trainer *t, struct sg_train_log *l, const struct step_out *so, double lr, double tok_s) {
    if (!l->f || l->n == 0) return;
    const double n = (double)l->n;
    /* term names from the graph with aux-k once it exists (it adds "aux" after the others) */
    const struct sg_step_graph *g = t->graphs[1].graph ? &t->graphs[1] : &t->graphs[0];
    fprintf(l->f, "{\"step\":%lld,\"loss\":%.6g", (long long)t->step, l->loss / n);
    for (int i = 0; i < g->fwd.n_terms; i++) fprintf(l->f, ",\"%s\":%.6g", g->fwd.term_names[i], l->sum[i] / n);
    fprintf(l->f,
            ",\"l0\":%.4g,\"explained_variance\":%.6g,\"dead_fraction\":%.6g,\"lr\":%.6g,\"tokens\":%lld,"
            "\"tokens_per_s\":%.1f",
            l->l0 / n, l->sst > 0 ? 1.0 - l->sse / l->sst : 0.0, (double)so->n_dead / (double)t->sae->cfg.d_sae, lr,
            (long long)t->tokens_seen, tok_s);
    if (t->graphs[0].fwd.batch_threshold || t->graphs[1].fwd.batch_threshold)
        fprintf(l->f, ",\"threshold\":%.6g", t->sae->batch_threshold);
    fprintf(l->f, "}\n");
    fflush(l->f);
    sg_train_health(&t->health, t, l->l0 / n, (double)so->n_dead / (double)t->sae->cfg.d_sae);
    double keep_t    = l->t_last;
    int64_t keep_tok = l->tokens_last;
    FILE *f          = l->f;
    memset(l, 0, sizeof *l);
    l->f           = f;
    l->t_last      = keep_t;
    l->tokens_last = keep_tok;
}

static void fmt_duration(double s, char *buf, size_t cap) {
    if (!isfinite(s) || s < 0) s = 0;
    long v = (long)(s + 0.5);
    if (v >= 3600)
        snprintf(buf, cap, "%ldh%02ldm", v / 3600, (v / 60) % 60);
    else if (v >= 60)
        snprintf(buf, cap, "%ldm%02lds", v / 60, v % 60);
    else
        snprintf(buf, cap, "%lds", v);
}

static void progress(const struct sg_trainer *t, bool bar, const struct step_out *so, double rate, double eta,
                     bool final) {
    char e[32];
    fmt_duration(eta, e, sizeof e);
    double frac = (double)t->step / (double)t->o.steps;
    if (bar) {
        char b[31];
        int fill = (int)(frac * 30);
        for (int i = 0; i < 30; i++) b[i] = i < fill ? '#' : '.';
        b[30] = '\0';
        fprintf(stderr, "\r[%s] %3.0f%% step %lld/%lld  loss %.4g  L0 %.1f  %.0f tok/s  ETA %s   ", b, 100 * frac,
                (long long)t->step, (long long)t->o.steps, (double)so->loss, so->l0, rate, e);
        if (final) fputc('\n', stderr);
        fflush(stderr);
    } else {
        SG_LOGI("train: step %lld/%lld (%.0f%%), loss %.4g, L0 %.1f, %.0f tokens/s, %s left", (long long)t->step,
                (long long)t->o.steps, 100 * frac, (double)so->loss, so->l0, rate, e);
    }
}

/* ---- the end ------------------------------------------------------------------------------ */

static sg_status finish(struct sg_trainer *t, struct sg_train_result *res) {
    const struct sg_train_opts *o = &t->o;
    char dir[4200], path[4300];
    snprintf(dir, sizeof dir, "%s/sae", o->output);
    sg_status st = sg_sae_fold_scale(t->sae);
    /* the size names the model: --model-size, or a released folder's name ("70m-model") */
    char size_name[16] = "";
    if (o->model_size) {
        snprintf(size_name, sizeof size_name, "%s", o->model_size);
    } else if (t->cells) {
        const char *base = strrchr(t->cells->model_dir, '/');
        base             = base ? base + 1 : t->cells->model_dir;
        size_t n         = strlen(base);
        if (n > 6 && n - 6 < sizeof size_name && strcmp(base + n - 6, "-model") == 0)
            snprintf(size_name, sizeof size_name, "%.*s", (int)(n - 6), base);
    }
    char model_name[64];
    snprintf(model_name, sizeof model_name, "tahoe-x1%s%s", size_name[0] ? "-" : "", size_name);
    struct sg_sae_meta meta = {.model_name   = model_name,
                               .model_size   = size_name[0] ? size_name : NULL,
                               .model_path   = t->cells ? t->cells->model_dir : NULL,
                               .layer        = t->layer,
                               .tokens       = sg_tokens_name(o->tokens),
                               .dataset_path = o->data,
                               .context_size = t->cells ? t->cells->tk.context : 0};
    const bool root         = sg_dist_rank() == 0;
    if (st == SG_OK && root) st = sg_sae_save(t->sae, dir, &meta);
    struct sg_eval_result ev = {0};
    bool have_eval           = false;
    if (st == SG_OK && o->eval) {
        SG_LOGI("train: evaluating");
        struct sg_eval_opts eo = o->eval_opts;
        if (!o->source) st = t->src->seek(t->src, (struct sg_act_pos){0, 0, 0});
        if (st == SG_OK) st = sg_eval_reconstruction(t->sae, t->src, t->stream, &eo, &ev);
        if (st == SG_OK && t->cells && eo.cells > 0) {
            eo.batch_cells = o->cells_per_pass;
            st             = sg_eval_loss_recovered(t->sae, t->cells, t->stream, t->layer, o->tokens, &eo, &ev);
        }
        have_eval = st == SG_OK;
    }
    /* firing frequencies: the evaluation's when there is one, else the last training window */
    const int64_t M = t->sae->cfg.d_sae;
    float *freq     = malloc((size_t)M * sizeof *freq);
    if (st == SG_OK && !freq) st = sg_error(SG_ERR_NO_MEMORY, "out of memory");
    for (int64_t i = 0; st == SG_OK && i < M; i++)
        freq[i] =
            have_eval ? ev.freq[i] : (float)(t->window_fired[i] / (double)(t->window_tokens ? t->window_tokens : 1));
    if (st == SG_OK && root) st = sg_sae_save_sparsity(dir, freq, M);
    free(freq);
    if (st == SG_OK && have_eval && root) {
        char run[1024];
        snprintf(run, sizeof run,
                 "{\"architecture\":\"%s\",\"d_in\":%lld,\"d_sae\":%lld,\"k\":%d,\"layer\":%d,\"tokens\":\"%s\","
                 "\"steps\":%lld,\"batch\":%lld,\"tokens_seen\":%lld}",
                 sg_sae_arch_name(t->sae->cfg.arch), (long long)t->d_in, (long long)M, t->sae->cfg.k, t->layer,
                 sg_tokens_name(o->tokens), (long long)t->step, (long long)o->batch, (long long)t->tokens_seen);
        snprintf(path, sizeof path, "%s/eval.json", o->output);
        st = sg_eval_write_json(path, &ev, run);
        if (st == SG_OK) {
            SG_LOGI("eval: L0 %.2f, explained variance %.4f, cosine %.4f, dead %.2f%%, dense %.2f%%", ev.l0,
                    ev.explained_variance, ev.cosine, 100 * ev.dead_fraction, 100 * ev.dense_fraction);
            if (ev.have_loss)
                SG_LOGI("eval: loss recovered %.4f (clean %.4g, SAE %.4g, zero-ablated %.4g over %lld masked tokens)",
                        ev.loss_recovered, ev.loss_clean, ev.loss_sae, ev.loss_ablation, (long long)ev.loss_tokens);
        }
    }
    if (res) {
        res->have_eval = have_eval;
        res->eval      = ev;
        ev.freq        = NULL;
    }
    sg_eval_result_free(&ev);
    return st;
}

/* ---- the run ----------------------------------------------------------------------------- */

/* Several ranks: every rank must end with the weights rank 0 saves. A 64-bit FNV-1a hash of each
 * rank's parameters, compared on every rank. */
static sg_status check_same_weights(struct sg_trainer *t) {
    if (sg_dist_size() == 1) return SG_OK;
    uint64_t h   = 1469598103934665603ull;
    sg_status st = SG_OK;
    for (int i = 0; st == SG_OK && i < t->adam.n; i++) {
        const size_t bytes = sg_nbytes(t->adam.param[i]);
        unsigned char *buf = malloc(bytes ? bytes : 1);
        if (!buf) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
        st = sg_tensor_get(t->adam.param[i], buf, 0, bytes);
        for (size_t j = 0; st == SG_OK && j < bytes; j++) h = (h ^ buf[j]) * 1099511628211ull;
        free(buf);
    }
    const int64_t mine[2] = {(int64_t)h, (int64_t)~h};
    int64_t all[2]        = {mine[0], mine[1]};
    if (st == SG_OK) st = sg_dist_allreduce_max_i64(all, 2);
    if (st != SG_OK) return st;
    if (all[0] != mine[0] || all[1] != mine[1])
        return sg_error(SG_ERR_BACKEND,
                        "rank %d ends training with weights different from another rank's (hash %016llx); the "
                        "ranks diverged (different backends or an MPI reduction that is not bitwise identical)",
                        sg_dist_rank(), (unsigned long long)h);
    SG_LOGI("train: the %d ranks hold identical weights (hash %016llx)", sg_dist_size(), (unsigned long long)h);
    return SG_OK;
}

static void trainer_free(struct sg_trainer *t) {
    for (int i = 0; i < 2; i++) sg_step_graph_free(&t->graphs[i]);
    sg_sched_free(t->sched);
    sg_adam_state_free(&t->adam);
    sg_sae_free(t->sae);
    sg_pool_free(t->pool);
    if (t->own_src) t->own_src->free(t->own_src);
    sg_cells_close(t->cells);
    sg_stream_free(t->stream);
    free(t->since_fired);
    free(t->window_fired);
    free(t->x);
    free(t->fired);
    free(t->dead);
    free(t->grads);
}

sg_status sg_train_check_output(const char *output, bool overwrite) {
    char ckpt[4200], cfg[4200];
    sg_checkpoint_path(output, ckpt, sizeof ckpt);
    snprintf(cfg, sizeof cfg, "%s/sae/cfg.json", output);
    const bool have_ckpt = access(ckpt, F_OK) == 0, have_sae = access(cfg, F_OK) == 0;
    if (overwrite || (!have_ckpt && !have_sae)) return SG_OK;
    return sg_error(SG_ERR_INVALID_ARG,
                    "%s already holds a training run (%s%s%s); pass --resume to continue it, --overwrite to "
                    "replace it, or choose another --output",
                    output, have_ckpt ? "checkpoint.safetensors" : "", have_ckpt && have_sae ? ", " : "",
                    have_sae ? "sae/" : "");
}

static sg_status train(struct sg_trainer *t, struct sg_train_result *res) {
    const struct sg_train_opts *o = &t->o;
    sg_status st                  = check_opts(o);
    /* a fresh run must not silently replace hours of someone's training */
    if (st == SG_OK && !o->resume) st = sg_train_check_output(o->output, o->overwrite);
    if (st == SG_OK && o->overwrite && !o->resume) { /* the old run's evaluation must not outlive it */
        char old_eval[4200];
        snprintf(old_eval, sizeof old_eval, "%s/eval.json", o->output);
        if (unlink(old_eval) != 0 && errno != ENOENT)
            st = sg_error(SG_ERR_IO, "--overwrite: cannot remove %s: %s", old_eval, strerror(errno));
    }
    if (st == SG_OK) st = sg_backends_load();
    if (st == SG_OK) st = sg_device_select(o->device ? o->device : "auto", &t->dev);
    if (st == SG_OK) st = sg_device_open_stream(t->dev, o->threads, &t->stream);
    if (st == SG_OK) st = sg_mkdir_p(o->output); /* parents too, as every other command */
    if (st == SG_OK) st = open_data(t);
    if (st != SG_OK) return st;

    struct sg_sae_config cfg = o->sae;
    cfg.d_in                 = t->src->d;
    t->d_in                  = cfg.d_in;
    st                       = sg_sae_new(&cfg, t->dev, &t->sae);
    if (st == SG_OK) st = sg_adam_state_new(t->sae, t->dev, &t->adam);
    int64_t pool_cap = o->pool_tokens > 0 ? o->pool_tokens : 8 * o->batch;
    if (st == SG_OK) st = sg_pool_new(t->src, pool_cap, o->batch, o->seed, &t->pool);
    if (st == SG_OK) st = sg_sched_new(t->stream, o->threads, &t->sched);
    const int64_t M = cfg.d_sae, B = o->batch;
    t->since_fired  = calloc((size_t)M, sizeof *t->since_fired);
    t->window_fired = calloc((size_t)M, sizeof *t->window_fired);
    t->x            = malloc((size_t)(B * cfg.d_in) * sizeof *t->x);
    t->fired        = malloc((size_t)M * sizeof *t->fired);
    t->dead         = malloc((size_t)M * sizeof *t->dead);
    if (st == SG_OK && (!t->since_fired || !t->window_fired || !t->x || !t->fired || !t->dead))
        st = sg_error(SG_ERR_NO_MEMORY, "out of memory for a batch of %lld x %lld", (long long)B, (long long)cfg.d_in);
    if (st != SG_OK) return st;
    /* several ranks: the batch stays B tokens, each rank takes its rows of it */
    sg_dist_share(B, sg_dist_rank(), sg_dist_size(), &t->batch_lo, &t->batch_hi);
    if (sg_dist_size() > 1) {
        if (B < sg_dist_size())
            return sg_error(SG_ERR_INVALID_ARG, "--batch %lld: fewer tokens than the %d ranks", (long long)B,
                            sg_dist_size());
        int64_t n_params = 0;
        for (int i = 0; i < t->adam.n; i++) n_params += sg_nelements(t->adam.param[i]);
        t->grads = malloc((size_t)(n_params > 0 ? n_params : 1) * sizeof *t->grads);
        if (!t->grads) return sg_error(SG_ERR_NO_MEMORY, "out of memory for %lld gradients", (long long)n_params);
    }
    t->lr             = o->lr > 0 ? o->lr : sg_train_default_lr(M);
    t->warmup         = o->warmup_steps >= 0 ? o->warmup_steps : (o->steps / 10 < 1000 ? o->steps / 10 : 1000);
    t->penalty_warmup = o->penalty_warmup_steps >= 0 ? o->penalty_warmup_steps : o->steps / 20;

    char ckpt[4200];
    sg_checkpoint_path(o->output, ckpt, sizeof ckpt);
    bool resumed = false;
    if (o->resume) {
        if (access(ckpt, F_OK) != 0)
            return sg_error(SG_ERR_NOT_FOUND, "--resume: %s does not exist (nothing to resume)", ckpt);
        st = sg_checkpoint_load(t);
        if (st != SG_OK) return st;
        resumed = true;
        SG_LOGI("train: resuming at step %lld of %lld", (long long)t->step, (long long)o->steps);
        if (t->step >= o->steps) SG_LOGW("train: the checkpoint is already at step %lld", (long long)t->step);
    } else {
        st = init_fresh(t);
        if (st != SG_OK) return st;
    }
    SG_LOGI("train: %s SAE %lld -> %lld (k %d) on %s, layer %d, %s tokens, batch %lld, lr %.3g, %lld steps",
            sg_sae_arch_name(cfg.arch), (long long)cfg.d_in, (long long)M, cfg.k, sg_device_name(t->dev), t->layer,
            sg_tokens_name(o->tokens), (long long)B, t->lr, (long long)o->steps);

    struct sg_train_log log;
    char path[4300];
    snprintf(path, sizeof path, "%s/training_log.jsonl", o->output);
    /* several ranks: rank 0 writes the log, the progress and the checkpoints */
    const bool root = sg_dist_rank() == 0;
    memset(&log, 0, sizeof log);
    if (root) st = sg_train_log_open(&log, path, resumed ? t->step : -1);
    if (st != SG_OK) return st;

    const bool bar      = root && (o->progress > 0 || (o->progress < 0 && isatty(fileno(stderr))));
    struct sigaction sa = {.sa_handler = on_sigint, .sa_flags = SA_RESTART}, old_sa; /* I/O in progress restarts */
    sigemptyset(&sa.sa_mask);
    g_interrupted = 0;
    sigaction(SIGINT, &sa, &old_sa);
    const double t0     = now_s();
    const int64_t step0 = t->step;
    double t_report     = t0;
    log.t_last          = t0;
    log.tokens_last     = t->tokens_seen;
    struct step_out so  = {0};
    while (st == SG_OK && t->step < o->steps) {
        st = do_step(t, &so);
        if (st != SG_OK) break;
        log_accumulate(&log, &t->graphs[so.n_dead > 0 && t->graphs[1].graph ? 1 : 0], &so);
        double now = now_s();
        double lr  = sg_train_lr_at(t->lr, t->step - 1, o->steps, t->warmup, o->decay_frac);
        bool last  = t->step == o->steps;
        if (t->step % (o->log_every > 0 ? o->log_every : 1) == 0 || last) {
            double dt = now - log.t_last, rate = dt > 0 ? (double)(t->tokens_seen - log.tokens_last) / dt : 0;
            log_line(t, &log, &so, lr, rate);
            log.t_last      = now;
            log.tokens_last = t->tokens_seen;
        }
        double rate = (double)((t->step - step0) * B) / (now - t0 > 1e-9 ? now - t0 : 1e-9);
        double eta  = (double)((o->steps - t->step) * B) / (rate > 0 ? rate : 1);
        if (root && ((bar && now - t_report >= 0.25) || (!bar && now - t_report >= 10.0) || last)) {
            progress(t, bar, &so, rate, eta, last);
            t_report = now;
        }
        if ((o->checkpoint_every > 0 && t->step % o->checkpoint_every == 0) || last || g_interrupted) {
            t->elapsed_s += now - t0;
            if (root) st = sg_checkpoint_save(t);
            t->elapsed_s -= now - t0;
        }
        if (o->on_step) o->on_step(t->step, o->user);
        if (st == SG_OK && g_interrupted) {
            st = sg_error(SG_ERR_CANCELLED, "interrupted at step %lld; the checkpoint is saved: continue with --resume",
                          (long long)t->step);
        }
    }
    sigaction(SIGINT, &old_sa, NULL);
    sg_train_log_close(&log);
    double secs = now_s() - t0;
    if (res) {
        res->steps_done   = t->step;
        res->final_loss   = so.loss;
        res->final_mse    = so.terms[0];
        res->final_ev     = so.sst > 0 ? 1.0 - so.sse / so.sst : 0.0;
        res->final_l0     = so.l0;
        res->tokens_per_s = secs > 0 ? (double)((t->step - step0) * B) / secs : 0;
        int64_t dead      = 0;
        for (int64_t i = 0; i < M; i++) dead += t->since_fired[i] >= o->dead_tokens;
        res->dead_fraction = (double)dead / (double)M;
    }
    if (st == SG_OK) st = check_same_weights(t);
    if (st == SG_OK) st = finish(t, res);
    return st;
}

sg_status sg_train_run(const struct sg_train_opts *o, struct sg_train_result *res) {
    struct sg_trainer t = {.o = *o};
    if (res) memset(res, 0, sizeof *res);
    sg_status st = train(&t, res);
    trainer_free(&t);
    /* several ranks: the SAE is on disk (rank 0 wrote it) before any rank goes on to use it */
    if (st == SG_OK) st = sg_dist_barrier();
    return st;
}
