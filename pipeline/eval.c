/* Reconstruction and sparsity metrics over a stream of activations, and eval.json. */
#include "pipeline/eval.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/context.h"
#include "core/sched.h"
#include "pipeline/eval_priv.h"

void sg_eval_opts_default(struct sg_eval_opts *o) {
    *o = (struct sg_eval_opts){
        .max_tokens = 1 << 20, .batch = 4096, .cells = 64, .batch_cells = 8, .mask_fraction = 0.5, .seed = 0};
}

void sg_eval_result_free(struct sg_eval_result *r) {
    free(r->freq);
    r->freq = NULL;
}

void sg_eval_enc_free(struct sg_eval_enc *r) {
    sg_sched_free(r->sched);
    sg_ctx_free(r->ctx);
    memset(r, 0, sizeof *r);
}

sg_status sg_eval_enc_new(struct sg_sae *sae, struct sg_stream *stream, int64_t batch, struct sg_eval_enc *r) {
    memset(r, 0, sizeof *r);
    r->ctx = sg_ctx_new();
    if (!r->ctx) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    sg_status st = sg_sae_build_encode(sae, r->ctx, batch, 1, true, &r->e);
    if (st == SG_OK) {
        r->g = sg_graph_new(r->ctx);
        st   = r->g ? SG_OK : sg_error(SG_ERR_NO_MEMORY, "out of memory");
    }
    if (st == SG_OK) st = sg_graph_expand(r->g, r->e.recon);
    if (st == SG_OK) st = sg_graph_expand(r->g, r->e.fired);
    if (st == SG_OK) st = sg_graph_expand(r->g, r->e.l1);
    if (st == SG_OK) st = sg_sched_new(stream, 0, &r->sched);
    if (st == SG_OK) st = sg_sched_prepare(r->sched, r->g);
    if (st != SG_OK) sg_eval_enc_free(r);
    return st;
}

struct acc {
    double *cnt, *sum_x;
    double sse, sum_x2, cos_sum, ratio_sum, xh2, xxh, l1;
    int64_t n;
};

/* One batch of exactly r->e.batch rows through the SAE, accumulated. */
static sg_status eval_batch(struct sg_eval_enc *r, const float *x, float *xh, float *fired, int64_t D, int64_t M,
                            struct acc *a) {
    const int64_t B = r->e.batch;
    float l1        = 0;
    sg_status st    = sg_tensor_set(r->e.x, x, 0, (size_t)(B * D) * sizeof *x);
    if (st == SG_OK) st = sg_sched_compute(r->sched, r->g);
    if (st == SG_OK) st = sg_tensor_get(r->e.recon, xh, 0, (size_t)(B * D) * sizeof *xh);
    if (st == SG_OK) st = sg_tensor_get(r->e.fired, fired, 0, (size_t)M * sizeof *fired);
    if (st == SG_OK) st = sg_tensor_get(r->e.l1, &l1, 0, sizeof l1);
    if (st != SG_OK) return st;
    for (int64_t i = 0; i < M; i++) a->cnt[i] += fired[i];
    a->l1 += l1;
    for (int64_t b = 0; b < B; b++) {
        const float *xr = x + b * D, *hr = xh + b * D;
        double e2 = 0, x2 = 0, h2 = 0, xy = 0;
        for (int64_t j = 0; j < D; j++) {
            double e = (double)xr[j] - hr[j];
            e2 += e * e;
            x2 += (double)xr[j] * xr[j];
            h2 += (double)hr[j] * hr[j];
            xy += (double)xr[j] * hr[j];
            a->sum_x[j] += xr[j];
        }
        a->sse += e2;
        a->sum_x2 += x2;
        a->xh2 += h2;
        a->xxh += xy;
        a->cos_sum += x2 > 0 && h2 > 0 ? xy / sqrt(x2 * h2) : 0.0;
        a->ratio_sum += x2 > 0 ? sqrt(h2 / x2) : 0.0;
    }
    a->n += B;
    return SG_OK;
}

static void finish(struct acc *a, int64_t D, int64_t M, struct sg_eval_result *out) {
    const double n = (double)a->n;
    double sst     = a->sum_x2;
    for (int64_t j = 0; j < D; j++) sst -= a->sum_x[j] * a->sum_x[j] / n;
    double l0    = 0;
    int64_t dead = 0, dense = 0;
    memset(out->hist, 0, sizeof out->hist);
    for (int64_t i = 0; i < M; i++) {
        double f     = a->cnt[i] / n;
        out->freq[i] = (float)f;
        l0 += a->cnt[i];
        if (a->cnt[i] < 0.5) {
            dead++;
            out->hist[SG_EVAL_HIST_BINS - 1]++;
            continue;
        }
        dense += f > 0.1;
        int bin = (int)floor((log10(f + 1e-10) + 10.0) * 2.0);
        out->hist[bin < 0 ? 0 : (bin > SG_EVAL_HIST_BINS - 2 ? SG_EVAL_HIST_BINS - 2 : bin)]++;
    }
    out->n_tokens                     = a->n;
    out->d_sae                        = M;
    out->l0                           = l0 / n;
    out->l1                           = a->l1 / n;
    out->mse                          = a->sse / (n * (double)D);
    out->mse_per_token                = a->sse / n;
    out->explained_variance           = sst > 0 ? 1.0 - a->sse / sst : 0.0;
    out->cosine                       = a->cos_sum / n;
    out->l2_ratio                     = a->ratio_sum / n;
    out->relative_reconstruction_bias = a->xxh != 0 ? a->xh2 / a->xxh : 0.0;
    out->dead_fraction                = (double)dead / (double)M;
    out->dense_fraction               = (double)dense / (double)M;
}

sg_status sg_eval_reconstruction(struct sg_sae *sae, struct sg_act_source *src, struct sg_stream *stream,
                                 const struct sg_eval_opts *o, struct sg_eval_result *out) {
    const int64_t D = sae->cfg.d_in, M = sae->cfg.d_sae, B = o->batch > 0 ? o->batch : 4096;
    if (src->d != D)
        return sg_error(SG_ERR_INVALID_ARG, "the SAE takes d_in = %lld but the activations have %lld", (long long)D,
                        (long long)src->d);
    struct sg_eval_enc r, tail = {0};
    sg_status st = sg_eval_enc_new(sae, stream, B, &r);
    if (st != SG_OK) return st;
    float *x = malloc((size_t)(B * D) * sizeof *x), *xh = malloc((size_t)(B * D) * sizeof *xh);
    float *fired = malloc((size_t)M * sizeof *fired);
    struct acc a = {.cnt = calloc((size_t)M, sizeof(double)), .sum_x = calloc((size_t)D, sizeof(double))};
    if (!x || !xh || !fired || !a.cnt || !a.sum_x) st = sg_error(SG_ERR_NO_MEMORY, "out of memory for evaluation");
    while (st == SG_OK && a.n < o->max_tokens) {
        int64_t want = o->max_tokens - a.n < B ? o->max_tokens - a.n : B, got = 0;
        st = src->read(src, x, want, &got);
        if (st != SG_OK || got == 0) break;
        if (got == B) {
            st = eval_batch(&r, x, xh, fired, D, M, &a);
            continue;
        }
        /* the last, partial batch runs through a graph of its own size */
        st = sg_eval_enc_new(sae, stream, got, &tail);
        if (st == SG_OK) st = eval_batch(&tail, x, xh, fired, D, M, &a);
        break;
    }
    if (st == SG_OK && a.n == 0) st = sg_error(SG_ERR_INVALID_ARG, "evaluation: the activation source gave no tokens");
    if (st == SG_OK) {
        free(out->freq);
        out->freq = malloc((size_t)M * sizeof *out->freq);
        if (!out->freq) st = sg_error(SG_ERR_NO_MEMORY, "out of memory");
    }
    if (st == SG_OK) finish(&a, D, M, out);
    free(x);
    free(xh);
    free(fired);
    free(a.cnt);
    free(a.sum_x);
    sg_eval_enc_free(&r);
    if (tail.ctx) sg_eval_enc_free(&tail);
    return st;
}

/* ---- eval.json --------------------------------------------------------------------------- */

sg_status sg_eval_write_json(const char *path, const struct sg_eval_result *r, const char *extra_json) {
    cJSON *root = cJSON_CreateObject();
    if (!root) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    cJSON_AddStringToObject(root, "schema", "saeg.eval/1");
    cJSON_AddNumberToObject(root, "n_tokens", (double)r->n_tokens);
    cJSON_AddNumberToObject(root, "d_sae", (double)r->d_sae);
    cJSON_AddNumberToObject(root, "l0", r->l0);
    cJSON_AddNumberToObject(root, "l1", r->l1);
    cJSON_AddNumberToObject(root, "mse", r->mse);
    cJSON_AddNumberToObject(root, "mse_per_token", r->mse_per_token);
    cJSON_AddNumberToObject(root, "explained_variance", r->explained_variance);
    cJSON_AddNumberToObject(root, "cosine", r->cosine);
    cJSON_AddNumberToObject(root, "l2_ratio", r->l2_ratio);
    cJSON_AddNumberToObject(root, "relative_reconstruction_bias", r->relative_reconstruction_bias);
    cJSON_AddNumberToObject(root, "dead_fraction", r->dead_fraction);
    cJSON_AddNumberToObject(root, "dense_fraction", r->dense_fraction);
    cJSON *h = cJSON_AddObjectToObject(root, "density_histogram");
    if (h) {
        cJSON_AddStringToObject(h, "x", "log10(firing frequency + 1e-10), bins of 0.5 from -10 to 0");
        cJSON *edges = cJSON_AddArrayToObject(h, "bin_edges");
        for (int i = 0; edges && i < SG_EVAL_HIST_BINS; i++)
            cJSON_AddItemToArray(edges, cJSON_CreateNumber(-10.0 + 0.5 * i));
        cJSON *counts = cJSON_AddArrayToObject(h, "counts");
        for (int i = 0; counts && i < SG_EVAL_HIST_BINS - 1; i++)
            cJSON_AddItemToArray(counts, cJSON_CreateNumber((double)r->hist[i]));
        cJSON_AddNumberToObject(h, "dead", (double)r->hist[SG_EVAL_HIST_BINS - 1]);
    }
    if (r->have_loss) {
        cJSON *l = cJSON_AddObjectToObject(root, "loss_recovered");
        if (l) {
            cJSON_AddNumberToObject(l, "score", r->loss_recovered);
            cJSON_AddNumberToObject(l, "loss_clean", r->loss_clean);
            cJSON_AddNumberToObject(l, "loss_sae", r->loss_sae);
            cJSON_AddNumberToObject(l, "loss_ablation", r->loss_ablation);
            cJSON_AddStringToObject(l, "ablation", "zero");
            cJSON_AddNumberToObject(l, "cells", (double)r->loss_cells);
            cJSON_AddNumberToObject(l, "masked_tokens", (double)r->loss_tokens);
        }
    }
    if (extra_json) {
        cJSON *x = cJSON_Parse(extra_json);
        if (x) cJSON_AddItemToObject(root, "run", x);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    bool ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    ok      = f && fclose(f) == 0 && ok;
    free(text);
    if (!ok || rename(tmp, path) != 0) return sg_error(SG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return SG_OK;
}
