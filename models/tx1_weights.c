/* Tahoe X1 weights: the state-dict key table, creating the tensors (F32, or BF16 for the Linear
 * weights with --dtype bf16), and deterministic random values for benchmarks. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/context.h"
#include "core/types.h"
#include "models/tx1_priv.h"

/* Torch shapes are outermost first; engine shapes innermost first. */
static void each(tx1_key_fn fn, void *user, struct sg_tensor **slot, int nd, int64_t a, int64_t b, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
static void each(tx1_key_fn fn, void *user, struct sg_tensor **slot, int nd, int64_t a, int64_t b, const char *fmt,
                 ...) {
    char key[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(key, sizeof key, fmt, ap);
    va_end(ap);
    const int64_t shape[2] = {a, b};
    fn(key, nd, shape, slot, user);
}

void tx1_weights_each(const struct tx1_config *c, struct tx1_weights *w, tx1_key_fn fn, void *user) {
    const int64_t d = c->d_model, f = c->d_ff, V = c->vocab_size;
    each(fn, user, &w->gene_emb, 2, V, d, "gene_encoder.embedding.weight");
    if (c->gene_norm) {
        each(fn, user, &w->gene_norm_w, 1, d, 0, "gene_encoder.enc_norm.weight");
        each(fn, user, &w->gene_norm_b, 1, d, 0, "gene_encoder.enc_norm.bias");
    }
    each(fn, user, &w->flag, 2, 2, d, "flag_encoder.weight");
    each(fn, user, &w->value_w1, 2, d, 1, "expression_encoder.linear1.weight");
    each(fn, user, &w->value_b1, 1, d, 0, "expression_encoder.linear1.bias");
    each(fn, user, &w->value_w2, 2, d, d, "expression_encoder.linear2.weight");
    each(fn, user, &w->value_b2, 1, d, 0, "expression_encoder.linear2.bias");
    if (c->value_norm) {
        each(fn, user, &w->value_norm_w, 1, d, 0, "expression_encoder.norm.weight");
        each(fn, user, &w->value_norm_b, 1, d, 0, "expression_encoder.norm.bias");
    }
    for (int i = 0; i < c->n_layers; i++) {
        struct tx1_layer *l = &w->layers[i];
        const char *p       = "transformer_encoder.layers";
        each(fn, user, &l->norm1_w, 1, d, 0, "%s.%d.norm1.weight", p, i);
        each(fn, user, &l->norm1_b, 1, d, 0, "%s.%d.norm1.bias", p, i);
        each(fn, user, &l->wqkv, 2, 3 * d, d, "%s.%d.self_attn.Wqkv.weight", p, i);
        each(fn, user, &l->bqkv, 1, 3 * d, 0, "%s.%d.self_attn.Wqkv.bias", p, i);
        each(fn, user, &l->wo, 2, d, d, "%s.%d.self_attn.out_proj.weight", p, i);
        each(fn, user, &l->bo, 1, d, 0, "%s.%d.self_attn.out_proj.bias", p, i);
        each(fn, user, &l->norm2_w, 1, d, 0, "%s.%d.norm2.weight", p, i);
        each(fn, user, &l->norm2_b, 1, d, 0, "%s.%d.norm2.bias", p, i);
        each(fn, user, &l->up_w, 2, f, d, "%s.%d.up_proj.weight", p, i);
        each(fn, user, &l->up_b, 1, f, 0, "%s.%d.up_proj.bias", p, i);
        each(fn, user, &l->down_w, 2, d, f, "%s.%d.down_proj.weight", p, i);
        each(fn, user, &l->down_b, 1, d, 0, "%s.%d.down_proj.bias", p, i);
    }
    each(fn, user, &w->final_norm_w, 1, d, 0, "transformer_encoder.norm.weight");
    each(fn, user, &w->final_norm_b, 1, d, 0, "transformer_encoder.norm.bias");
    for (int i = 0; i < c->n_dec_layers; i++) {
        each(fn, user, &w->dec_w[i], 2, d, d, "expression_decoder.linear_layers.%d.weight", i);
        each(fn, user, &w->dec_b[i], 1, d, 0, "expression_decoder.linear_layers.%d.bias", i);
    }
    each(fn, user, &w->dec_out_w, 2, 1, d, "expression_decoder.out_proj.weight");
    each(fn, user, &w->dec_out_b, 1, 1, 0, "expression_decoder.out_proj.bias");
    each(fn, user, &w->mvc_query_w, 2, d, d, "mvc_decoder.gene2query.weight");
    each(fn, user, &w->mvc_query_b, 1, d, 0, "mvc_decoder.gene2query.bias");
    each(fn, user, &w->mvc_w, 2, d, d, "mvc_decoder.W.weight");
}

/* ---- creating the tensors ---------------------------------------------------------------- */

struct create {
    struct sg_ctx *ctx;
    bool bf16;
};

/* Every 2-D weight but the two embedding tables is an nn.Linear weight, used as W^T in x @ W^T. */
static bool is_linear(const char *key, int nd) {
    return nd == 2 && strncmp(key, "gene_encoder.", 13) != 0 && strncmp(key, "flag_encoder.", 13) != 0;
}

static void create_one(const char *key, int nd, const int64_t *shape, struct sg_tensor **slot, void *user) {
    struct create *c = user;
    if (nd == 1) {
        *slot = sg_new_tensor_1d(c->ctx, SG_TYPE_F32, shape[0]);
    } else {
        enum sg_type type = c->bf16 && is_linear(key, nd) ? SG_TYPE_BF16 : SG_TYPE_F32;
        *slot             = sg_new_tensor_2d(c->ctx, type, shape[1], shape[0]);
    }
    if (*slot) sg_set_name(*slot, "%.63s", key);
}

static void add_bytes(const char *key, int nd, const int64_t *shape, struct sg_tensor **slot, void *user) {
    (void)key;
    (void)nd;
    (void)shape;
    *(size_t *)user += sg_nbytes(*slot);
}

sg_status tx1_model_alloc(const struct tx1_config *cfg, struct sg_device *dev, enum tx1_dtype dtype,
                          struct tx1_model **out) {
    *out                = NULL;
    struct tx1_model *m = calloc(1, sizeof *m);
    if (!m) return sg_error(SG_ERR_NO_MEMORY, "model: out of memory");
    m->cfg    = *cfg;
    m->cls_id = -1;
    m->ctx    = sg_ctx_new();
    if (!m->ctx) {
        free(m);
        return sg_error(SG_ERR_NO_MEMORY, "model: out of memory");
    }
    m->dtype         = tx1_dtype_for_device(dtype, dev);
    struct create cr = {.ctx = m->ctx, .bf16 = m->dtype == TX1_DTYPE_BF16};
    tx1_weights_each(cfg, &m->w, create_one, &cr);
    sg_status st = sg_ctx_status(m->ctx);
    if (st == SG_OK) tx1_weights_each(cfg, &m->w, add_bytes, &m->weight_bytes);
    if (st != SG_OK) st = sg_error(st, "model: %s", sg_ctx_error(m->ctx));
    if (st == SG_OK) st = sg_alloc_ctx_tensors(m->ctx, sg_device_buffer_type(dev), &m->bufs);
    if (st != SG_OK) {
        st = sg_error_wrap(st, "model: cannot allocate %.1f M parameters (%.2f GB as %s) on %s",
                           (double)tx1_config_n_params(cfg) / 1e6, (double)m->weight_bytes / 1e9,
                           tx1_dtype_name(m->dtype), sg_device_name(dev));
        tx1_model_free(m);
        return st;
    }
    *out = m;
    return SG_OK;
}

void tx1_model_free(struct tx1_model *m) {
    if (!m) return;
    sg_buffer_list_free(&m->bufs);
    sg_ctx_free(m->ctx);
    tx1_vocab_free(m->vocab);
    free(m);
}

/* ---- random weights ---------------------------------------------------------------------- */

struct random_fill {
    uint64_t state;
    float *buf;     /* cap floats */
    uint16_t *half; /* their BF16 copy, for BF16 tensors */
    size_t cap;
    sg_status st;
};

static float next_uniform(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(*s >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

static void fill_random(const char *key, int nd, const int64_t *shape, struct sg_tensor **slot, void *user) {
    struct random_fill *r = user;
    if (r->st != SG_OK) return;
    size_t n       = (size_t)sg_nelements(*slot);
    bool is_norm_w = strstr(key, "norm") && strstr(key, ".weight");
    bool is_bias   = strstr(key, ".bias") != NULL;
    /* uniform with the variance of N(0, 1/fan_in): activations stay O(1) through the blocks */
    float scale = nd == 2 ? sqrtf(3.0f / (float)shape[1]) : 0.0f;
    for (size_t off = 0; off < n && r->st == SG_OK; off += r->cap) {
        size_t k = n - off < r->cap ? n - off : r->cap;
        for (size_t i = 0; i < k; i++) r->buf[i] = is_norm_w ? 1.0f : is_bias ? 0.0f : scale * next_uniform(&r->state);
        if ((*slot)->type == SG_TYPE_BF16) {
            sg_convert_row(SG_TYPE_BF16, r->half, SG_TYPE_F32, r->buf, (int64_t)k);
            r->st = sg_tensor_set(*slot, r->half, off * sizeof(uint16_t), k * sizeof(uint16_t));
        } else {
            r->st = sg_tensor_set(*slot, r->buf, off * sizeof(float), k * sizeof(float));
        }
    }
}

sg_status tx1_model_random(const struct tx1_config *cfg, uint64_t seed, struct sg_device *dev, struct tx1_model **out) {
    return tx1_model_random_as(cfg, seed, dev, TX1_DTYPE_AUTO, out);
}

sg_status tx1_model_random_as(const struct tx1_config *cfg, uint64_t seed, struct sg_device *dev, enum tx1_dtype dtype,
                              struct tx1_model **out) {
    struct tx1_model *m;
    sg_status st = tx1_model_alloc(cfg, dev, dtype, &m);
    if (st != SG_OK) return st;
    struct random_fill r = {.state = seed ^ 0x5851f42d4c957f2dull, .cap = 1 << 20};
    r.buf                = malloc(r.cap * sizeof(float));
    r.half               = malloc(r.cap * sizeof(uint16_t));
    if (!r.buf || !r.half)
        r.st = sg_error(SG_ERR_NO_MEMORY, "model: out of memory");
    else
        tx1_weights_each(cfg, &m->w, fill_random, &r);
    free(r.buf);
    free(r.half);
    if (r.st != SG_OK) {
        tx1_model_free(m);
        return r.st;
    }
    m->cls_id = cfg->pad_token_id + 1 < cfg->vocab_size ? cfg->pad_token_id + 1 : 0;
    snprintf(m->weights_dtype, sizeof m->weights_dtype, "random");
    *out = m;
    return SG_OK;
}
