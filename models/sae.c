/* SAE configuration, weights, initialisation and scale folding. The graphs are in
 * sae_graph.c (shared encoder/decoder) and sae_<arch>.c (one loss per architecture), the files
 * in sae_io.c. */
#include "models/sae.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/context.h"
#include "models/sae_rng.h"

static const char *const arch_names[SG_SAE_ARCH_COUNT] = {
    [SG_SAE_TOPK]       = "topk",
    [SG_SAE_BATCHTOPK]  = "batchtopk",
    [SG_SAE_JUMPRELU]   = "jumprelu",
    [SG_SAE_STANDARD]   = "standard",
    [SG_SAE_MATRYOSHKA] = "matryoshka-batchtopk",
};

const char *sg_sae_arch_name(enum sg_sae_arch arch) {
    return (unsigned)arch < SG_SAE_ARCH_COUNT ? arch_names[arch] : "unknown";
}

sg_status sg_sae_arch_parse(const char *name, enum sg_sae_arch *out) {
    for (int a = 0; a < SG_SAE_ARCH_COUNT; a++) {
        if (strcmp(name, arch_names[a]) == 0) {
            *out = (enum sg_sae_arch)a;
            return SG_OK;
        }
    }
    if (strcmp(name, "matryoshka") == 0 || strcmp(name, "matryoshka_batchtopk") == 0) {
        *out = SG_SAE_MATRYOSHKA;
        return SG_OK;
    }
    return sg_error(SG_ERR_INVALID_ARG,
                    "unknown SAE architecture '%s' (choose topk, batchtopk, jumprelu, standard or "
                    "matryoshka-batchtopk)",
                    name);
}

bool sg_sae_arch_is_topk_family(enum sg_sae_arch arch) {
    return arch == SG_SAE_TOPK || arch == SG_SAE_BATCHTOPK || arch == SG_SAE_MATRYOSHKA;
}

enum sg_sae_arch sg_sae_arch_saved(enum sg_sae_arch arch) {
    return arch == SG_SAE_BATCHTOPK || arch == SG_SAE_MATRYOSHKA ? SG_SAE_JUMPRELU : arch;
}

void sg_sae_config_default(struct sg_sae_config *cfg, enum sg_sae_arch arch, int64_t d_in, int64_t d_sae) {
    *cfg = (struct sg_sae_config){
        .arch              = arch,
        .d_in              = d_in,
        .d_sae             = d_sae,
        .k                 = 64,
        .batch_cap         = 4,
        .threshold_lr      = 0.01f,
        .aux_coef          = 1.0f / 32.0f,
        .l1_coef           = 5.0f,
        .l0_coef           = 1.0f,
        .l0_mode           = SG_SAE_L0_STEP,
        .bandwidth         = 0.05f,
        .init_threshold    = 0.01f,
        .tanh_scale        = 4.0f,
        .decoder_init_norm = sg_sae_arch_is_topk_family(arch) ? 1.0f : 0.1f,
    };
    if (arch == SG_SAE_MATRYOSHKA) {
        /* nested dictionaries of 1/8, 1/4, 1/2 and all of the latents */
        for (int64_t div = 8; div >= 1; div /= 2)
            if (d_sae / div >= 1) cfg->widths[cfg->n_widths++] = d_sae / div;
    }
}

sg_status sg_sae_config_check(const struct sg_sae_config *c) {
    if ((unsigned)c->arch >= SG_SAE_ARCH_COUNT) return sg_error(SG_ERR_INVALID_ARG, "SAE: unknown architecture");
    if (c->d_in < 1 || c->d_sae < 1)
        return sg_error(SG_ERR_INVALID_ARG, "SAE: d_in %lld and d_sae %lld must be positive", (long long)c->d_in,
                        (long long)c->d_sae);
    if (c->d_sae > INT32_MAX) return sg_error(SG_ERR_INVALID_ARG, "SAE: d_sae %lld is too large", (long long)c->d_sae);
    if (sg_sae_arch_is_topk_family(c->arch)) {
        if (c->k < 1 || c->k > c->d_sae)
            return sg_error(SG_ERR_INVALID_ARG, "SAE: k = %d must be between 1 and d_sae = %lld", c->k,
                            (long long)c->d_sae);
        if (c->batch_cap < 1) return sg_error(SG_ERR_INVALID_ARG, "SAE: batch_cap %d must be >= 1", c->batch_cap);
        if (!(c->aux_coef >= 0)) return sg_error(SG_ERR_INVALID_ARG, "SAE: aux coefficient %g", c->aux_coef);
        if (!(c->threshold_lr > 0 && c->threshold_lr <= 1))
            return sg_error(SG_ERR_INVALID_ARG, "SAE: threshold_lr %g must be in (0, 1]", c->threshold_lr);
    }
    if (c->arch == SG_SAE_STANDARD && !(c->l1_coef >= 0))
        return sg_error(SG_ERR_INVALID_ARG, "SAE: l1 coefficient %g must be >= 0", c->l1_coef);
    if (c->arch == SG_SAE_JUMPRELU) {
        if (!(c->l0_coef >= 0)) return sg_error(SG_ERR_INVALID_ARG, "SAE: l0 coefficient %g must be >= 0", c->l0_coef);
        if (!(c->bandwidth > 0)) return sg_error(SG_ERR_INVALID_ARG, "SAE: bandwidth %g must be > 0", c->bandwidth);
        if (!(c->init_threshold > 0))
            return sg_error(SG_ERR_INVALID_ARG, "SAE: initial threshold %g must be > 0", c->init_threshold);
    }
    if (!(c->decoder_init_norm > 0))
        return sg_error(SG_ERR_INVALID_ARG, "SAE: decoder init norm %g must be > 0", c->decoder_init_norm);
    if (c->arch == SG_SAE_MATRYOSHKA) {
        if (c->n_widths < 1 || c->n_widths > SG_SAE_MAX_WIDTHS)
            return sg_error(SG_ERR_INVALID_ARG, "SAE: matryoshka needs 1 to %d widths", SG_SAE_MAX_WIDTHS);
        for (int i = 0; i < c->n_widths; i++)
            if (c->widths[i] < 1 || (i && c->widths[i] <= c->widths[i - 1]))
                return sg_error(SG_ERR_INVALID_ARG, "SAE: matryoshka widths must increase strictly from >= 1");
        if (c->widths[c->n_widths - 1] != c->d_sae)
            return sg_error(SG_ERR_INVALID_ARG, "SAE: the last matryoshka width %lld must be d_sae = %lld",
                            (long long)c->widths[c->n_widths - 1], (long long)c->d_sae);
    }
    return SG_OK;
}

sg_status sg_sae_new(const struct sg_sae_config *cfg, struct sg_device *dev, struct sg_sae **out) {
    *out         = NULL;
    sg_status st = sg_sae_config_check(cfg);
    if (st != SG_OK) return st;
    struct sg_sae *s = calloc(1, sizeof *s);
    if (!s || !(s->ctx = sg_ctx_new())) {
        free(s);
        return sg_error(SG_ERR_NO_MEMORY, "SAE: out of memory");
    }
    s->cfg             = *cfg;
    s->scale           = 1.0f;
    struct sg_ctx *ctx = s->ctx;
    const int64_t D = cfg->d_in, M = cfg->d_sae;
    s->W_enc = sg_set_param(sg_set_name(sg_new_tensor_2d(ctx, SG_TYPE_F32, D, M), "W_enc"));
    s->b_enc = sg_set_param(sg_set_name(sg_new_tensor_1d(ctx, SG_TYPE_F32, M), "b_enc"));
    s->W_dec = sg_set_param(sg_set_name(sg_new_tensor_2d(ctx, SG_TYPE_F32, D, M), "W_dec"));
    s->b_dec = sg_set_param(sg_set_name(sg_new_tensor_1d(ctx, SG_TYPE_F32, D), "b_dec"));
    if (cfg->arch == SG_SAE_JUMPRELU)
        s->log_threshold = sg_set_param(sg_set_name(sg_new_tensor_1d(ctx, SG_TYPE_F32, M), "log_threshold"));
    if (sg_sae_arch_saved(cfg->arch) == SG_SAE_JUMPRELU)
        s->threshold = sg_set_name(sg_new_tensor_1d(ctx, SG_TYPE_F32, M), "threshold");
    st = sg_ctx_status(ctx);
    if (st != SG_OK) st = sg_error(st, "SAE: %s", sg_ctx_error(ctx));
    if (st == SG_OK) st = sg_alloc_ctx_tensors(ctx, sg_device_buffer_type(dev), &s->bufs);
    if (st != SG_OK) {
        sg_sae_free(s);
        return sg_error_wrap(st, "SAE %lld x %lld", (long long)D, (long long)M);
    }
    *out = s;
    return SG_OK;
}

void sg_sae_free(struct sg_sae *sae) {
    if (!sae) return;
    sg_buffer_list_free(&sae->bufs);
    sg_ctx_free(sae->ctx);
    free(sae);
}

void sg_sae_geometric_median(const float *x, int64_t n, int64_t d, float *out) {
    double *m = calloc((size_t)d, sizeof *m), *num = calloc((size_t)d, sizeof *num);
    if (!m || !num || n < 1) {
        for (int64_t j = 0; j < d; j++) out[j] = 0.0f;
        free(m);
        free(num);
        return;
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++) m[j] += x[i * d + j];
    for (int64_t j = 0; j < d; j++) m[j] /= (double)n;
    double prev_obj = INFINITY;
    for (int it = 0; it < 100; it++) {
        double den = 0.0, obj = 0.0, shift = 0.0;
        memset(num, 0, (size_t)d * sizeof *num);
        for (int64_t i = 0; i < n; i++) {
            double dist = 0.0;
            for (int64_t j = 0; j < d; j++) {
                double e = x[i * d + j] - m[j];
                dist += e * e;
            }
            dist = sqrt(dist);
            obj += dist;
            double w = 1.0 / (dist > 1e-6 ? dist : 1e-6);
            den += w;
            for (int64_t j = 0; j < d; j++) num[j] += w * x[i * d + j];
        }
        for (int64_t j = 0; j < d; j++) {
            double nm = num[j] / den;
            shift += (nm - m[j]) * (nm - m[j]);
            m[j] = nm;
        }
        /* stop on a small relative improvement of the objective or a tiny step */
        if (sqrt(shift) < 1e-5 || (prev_obj - obj) <= 1e-5 * obj) break;
        prev_obj = obj;
    }
    for (int64_t j = 0; j < d; j++) out[j] = (float)m[j];
    free(m);
    free(num);
}

static sg_status upload(struct sg_tensor *t, const float *data) {
    return sg_tensor_set(t, data, 0, (size_t)sg_nelements(t) * sizeof(float));
}

sg_status sg_sae_init(struct sg_sae *sae, uint64_t seed, const float *x, int64_t n) {
    const struct sg_sae_config *c = &sae->cfg;
    const int64_t D = c->d_in, M = c->d_sae;
    float *w      = malloc((size_t)(D * M) * sizeof *w);
    float *zeros  = calloc((size_t)(M > D ? M : D), sizeof *zeros);
    float *median = malloc((size_t)D * sizeof *median);
    if (!w || !zeros || !median) {
        free(w);
        free(zeros);
        free(median);
        return sg_error(SG_ERR_NO_MEMORY, "SAE init: out of memory");
    }
    /* random directions: normal entries, rows normalised to the init norm */
    struct sg_rng r;
    sg_rng_seed(&r, seed);
    for (int64_t i = 0; i < M; i++) {
        float *row = w + i * D;
        double ss  = 0.0;
        for (int64_t j = 0; j < D; j++) {
            row[j] = (float)sg_rng_normal(&r);
            ss += (double)row[j] * row[j];
        }
        double f = c->decoder_init_norm / (sqrt(ss) > 0 ? sqrt(ss) : 1.0);
        for (int64_t j = 0; j < D; j++) row[j] = (float)(row[j] * f);
    }
    sg_sae_geometric_median(x, n, D, median);
    sg_status st = upload(sae->W_dec, w);
    if (st == SG_OK) st = upload(sae->W_enc, w); /* W_enc = W_dec^T: the same rows here */
    if (st == SG_OK) st = upload(sae->b_enc, zeros);
    if (st == SG_OK) st = upload(sae->b_dec, median);
    if (st == SG_OK && sae->log_threshold) {
        for (int64_t i = 0; i < M; i++) w[i] = logf(c->init_threshold);
        st = upload(sae->log_threshold, w);
    }
    sae->batch_threshold = 0.0;
    free(w);
    free(zeros);
    free(median);
    return st;
}

static sg_status download(const struct sg_tensor *t, float **out) {
    *out = malloc((size_t)sg_nelements(t) * sizeof(float));
    if (!*out) return sg_error(SG_ERR_NO_MEMORY, "SAE: out of memory reading %s", t->name);
    sg_status st = sg_tensor_get(t, *out, 0, (size_t)sg_nelements(t) * sizeof(float));
    if (st != SG_OK) {
        free(*out);
        *out = NULL;
    }
    return st;
}

sg_status sg_sae_fold_scale(struct sg_sae *sae) {
    const int64_t M = sae->cfg.d_sae;
    const double s  = sae->scale;
    float *we = NULL, *wd = NULL, *bd = NULL, *th = NULL;
    sg_status st = download(sae->W_enc, &we);
    if (st == SG_OK) st = download(sae->W_dec, &wd);
    if (st == SG_OK) st = download(sae->b_dec, &bd);
    if (st == SG_OK && s != 1.0) {
        /* (s x - b_dec) W_enc = (x - b_dec/s) (s W_enc);  (f W_dec + b_dec) / s */
        for (int64_t i = 0; i < sg_nelements(sae->W_enc); i++) we[i] = (float)(we[i] * s);
        for (int64_t i = 0; i < sg_nelements(sae->W_dec); i++) wd[i] = (float)(wd[i] / s);
        for (int64_t i = 0; i < sg_nelements(sae->b_dec); i++) bd[i] = (float)(bd[i] / s);
        st = upload(sae->W_enc, we);
        if (st == SG_OK) st = upload(sae->W_dec, wd);
        if (st == SG_OK) st = upload(sae->b_dec, bd);
    }
    if (st == SG_OK && sae->threshold) {
        /* thresholds act on pre-activations, which the fold leaves unchanged */
        if (sae->log_threshold) {
            st = download(sae->log_threshold, &th);
            for (int64_t i = 0; st == SG_OK && i < M; i++) th[i] = expf(th[i]);
        } else if (sg_sae_arch_is_topk_family(sae->cfg.arch)) {
            th = malloc((size_t)M * sizeof *th);
            if (!th) st = sg_error(SG_ERR_NO_MEMORY, "SAE: out of memory");
            for (int64_t i = 0; st == SG_OK && i < M; i++) th[i] = (float)sae->batch_threshold;
        }
        if (st == SG_OK && th) st = upload(sae->threshold, th);
    }
    if (st == SG_OK) sae->scale = 1.0f;
    free(we);
    free(wd);
    free(bd);
    free(th);
    return st;
}
