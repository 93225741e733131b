/* Tahoe X1 configuration: the released model_config.yml and collator_config.yml, and the
 * architectures of the released sizes. Options the released models never use are refused by
 * name rather than run wrongly. */
#include <stdio.h>
#include <string.h>

#include "io/yaml.h"
#include "models/tahoe_x1.h"

const char *tx1_act_name(enum tx1_act act) {
    switch (act) {
    case TX1_ACT_RELU: return "relu";
    case TX1_ACT_GELU: return "gelu";
    case TX1_ACT_LEAKY_RELU: return "leaky_relu";
    }
    return "?";
}

/* Activation names as llm-foundry resolves them (torch.nn.functional.<name>). */
static sg_status parse_act(const struct sg_yaml *y, const char *path, const char *key, const char *def,
                           enum tx1_act *out) {
    const char *s = sg_yaml_str(y, key);
    if (!s) s = def;
    if (strcmp(s, "relu") == 0)
        *out = TX1_ACT_RELU;
    else if (strcmp(s, "gelu") == 0)
        *out = TX1_ACT_GELU;
    else if (strcmp(s, "leaky_relu") == 0)
        *out = TX1_ACT_LEAKY_RELU;
    else
        return sg_error(SG_ERR_UNSUPPORTED, "%s: %s: activation '%s' is not supported (relu, gelu, leaky_relu)", path,
                        key, s);
    return SG_OK;
}

/* A string option that must have one value (or be absent when def is allowed). */
static sg_status expect_str(const struct sg_yaml *y, const char *path, const char *key, const char *want) {
    const char *s = sg_yaml_str(y, key);
    if (s && strcmp(s, want) != 0)
        return sg_error(SG_ERR_UNSUPPORTED, "%s: %s: '%s' is not supported (only '%s', as in the released models)",
                        path, key, s, want);
    return SG_OK;
}

static sg_status load_model_cfg(const struct sg_yaml *y, const char *path, struct tx1_config *c) {
    int64_t expansion = 4, dec_layers = 2;
    double eps = 1e-5, max_value = 512;
    bool use_glu = false, scaled = false;
    sg_status st = sg_yaml_int_required(y, "d_model", &c->d_model);
    if (st == SG_OK) st = sg_yaml_int_required(y, "n_layers", &c->n_layers);
    if (st == SG_OK) st = sg_yaml_int_required(y, "n_heads", &c->n_heads);
    if (st == SG_OK) st = sg_yaml_int_required(y, "vocab_size", &c->vocab_size);
    if (st == SG_OK) st = sg_yaml_int(y, "expansion_ratio", 4, &expansion);
    if (st == SG_OK) st = parse_act(y, path, "transformer_activation", "gelu", &c->act_ffn);
    if (st == SG_OK) st = parse_act(y, path, "expression_encoder.activation", "relu", &c->act_value);
    if (st == SG_OK) st = parse_act(y, path, "expression_decoder.activation", "leaky_relu", &c->act_dec);
    if (st == SG_OK) st = sg_yaml_int(y, "expression_decoder.n_layers", 2, &dec_layers);
    if (st == SG_OK) st = sg_yaml_double(y, "norm_config.eps", 1e-5, &eps);
    if (st == SG_OK) st = sg_yaml_double(y, "expression_encoder.max_value", 512, &max_value);
    if (st == SG_OK) st = sg_yaml_bool(y, "gene_encoder.use_norm", false, &c->gene_norm);
    if (st == SG_OK) st = sg_yaml_bool(y, "expression_encoder.use_norm", false, &c->value_norm);
    if (st == SG_OK) st = sg_yaml_bool(y, "mvc.scaled_dot_product", false, &scaled);
    if (st == SG_OK) st = sg_yaml_bool(y, "use_glu", false, &use_glu);
    if (st == SG_OK) st = expect_str(y, path, "norm_scheme", "pre");
    if (st == SG_OK) st = expect_str(y, path, "cell_emb_style", "cls");
    if (st == SG_OK) st = expect_str(y, path, "norm_config.norm_type", "layernorm");
    if (st == SG_OK) st = expect_str(y, path, "expression_encoder.input_emb_style", "continuous");
    if (st == SG_OK) st = expect_str(y, path, "mvc.arch_style", "inner product");
    if (st == SG_OK) st = expect_str(y, path, "mvc.query_activation", "sigmoid");
    if (st == SG_OK) st = expect_str(y, path, "expression_decoder.n_outputs", "1");
    if (st != SG_OK) return st;
    if (use_glu) return sg_error(SG_ERR_UNSUPPORTED, "%s: use_glu: gated MLPs are not supported", path);
    if (sg_yaml_len(y, "gene_encoder.embeddings") > 0)
        return sg_error(SG_ERR_UNSUPPORTED,
                        "%s: gene_encoder.embeddings: extra pretrained gene embeddings are not supported", path);
    if (!sg_yaml_has(y, "mvc"))
        return sg_error(SG_ERR_UNSUPPORTED, "%s: mvc: a model without the MVC decoder is not supported", path);
    if (c->d_model <= 0 || c->n_layers <= 0 || c->n_heads <= 0 || c->vocab_size <= 0 || expansion <= 0)
        return sg_error(SG_ERR_FORMAT,
                        "%s: d_model, n_layers, n_heads, vocab_size and expansion_ratio must be positive", path);
    /* far above the released sizes (d_model 2560, vocabulary 62720), and small enough that every
     * product of sizes (d_ff, parameter counts, tensor bytes) fits in 64 bits */
    if (c->d_model > 65536 || expansion > 64 || c->vocab_size > (1 << 24))
        return sg_error(SG_ERR_UNSUPPORTED,
                        "%s: d_model %lld, expansion_ratio %lld, vocab_size %lld: beyond the supported 65536, 64, "
                        "16777216",
                        path, (long long)c->d_model, (long long)expansion, (long long)c->vocab_size);
    if (c->d_model % c->n_heads != 0)
        return sg_error(SG_ERR_FORMAT, "%s: d_model %lld is not a multiple of n_heads %lld", path,
                        (long long)c->d_model, (long long)c->n_heads);
    if (c->n_layers > TX1_MAX_LAYERS)
        return sg_error(SG_ERR_UNSUPPORTED, "%s: n_layers %lld is above the supported %d", path, (long long)c->n_layers,
                        TX1_MAX_LAYERS);
    if (dec_layers < 0 || dec_layers > TX1_MAX_DEC_LAYERS)
        return sg_error(SG_ERR_UNSUPPORTED, "%s: expression_decoder.n_layers %lld is outside 0..%d", path,
                        (long long)dec_layers, TX1_MAX_DEC_LAYERS);
    /* use_attn_mask (default true) is the generative mask the 70M and 1.3B runs trained with;
     * the reference inference turns it off (flash attention, padding only), as we do */
    st = sg_yaml_bool(y, "attn_config.use_attn_mask", true, &c->trained_with_gen_mask);
    if (st != SG_OK) return st;
    c->d_ff             = expansion * c->d_model;
    c->n_dec_layers     = (int)dec_layers;
    c->eps              = (float)eps;
    c->value_max        = (float)max_value;
    c->mvc_scaled       = scaled;
    c->has_chem_encoder = sg_yaml_has(y, "chemical_encoder");
    return SG_OK;
}

static sg_status load_collator_cfg(const struct sg_yaml *y, const char *path, struct tx1_config *c) {
    double pad_value = -2;
    int64_t num_bins = 51, max_length = 1024;
    bool do_binning = true, log_transform = false;
    sg_status st = sg_yaml_int_required(y, "pad_token_id", &c->pad_token_id);
    if (st == SG_OK) st = sg_yaml_double(y, "pad_value", -2, &pad_value);
    if (st == SG_OK) st = sg_yaml_int(y, "num_bins", 51, &num_bins);
    if (st == SG_OK) st = sg_yaml_bool(y, "right_binning", false, &c->right_binning);
    if (st == SG_OK) st = sg_yaml_bool(y, "do_binning", true, &do_binning);
    if (st == SG_OK) st = sg_yaml_bool(y, "log_transform", false, &log_transform);
    if (st == SG_OK) st = sg_yaml_int(y, "max_length", 1024, &max_length);
    if (st != SG_OK) return st;
    if (!do_binning || log_transform)
        return sg_error(SG_ERR_UNSUPPORTED,
                        "%s: only do_binning: true without log_transform is supported (as released)", path);
    if (num_bins < 2 || num_bins > 1025)
        return sg_error(SG_ERR_FORMAT, "%s: num_bins %lld is outside 2..1025", path, (long long)num_bins);
    if (max_length < 2 || max_length > (1 << 20)) /* a context, so it sizes buffers: keep products in range */
        return sg_error(SG_ERR_FORMAT, "%s: max_length %lld is outside 2..1048576", path, (long long)max_length);
    c->pad_value  = (float)pad_value;
    c->num_bins   = (int)num_bins;
    c->max_length = max_length;
    return SG_OK;
}

sg_status tx1_config_load(const char *model_cfg_path, const char *collator_cfg_path, struct tx1_config *out) {
    memset(out, 0, sizeof *out);
    struct sg_yaml *m = NULL, *c = NULL;
    sg_status st = sg_yaml_load(model_cfg_path, &m);
    if (st == SG_OK) st = sg_yaml_load(collator_cfg_path, &c);
    if (st == SG_OK) st = load_model_cfg(m, model_cfg_path, out);
    if (st == SG_OK) st = load_collator_cfg(c, collator_cfg_path, out);
    if (st == SG_OK && (out->pad_token_id < 0 || out->pad_token_id >= out->vocab_size))
        st = sg_error(SG_ERR_FORMAT, "%s: pad_token_id %lld is outside the vocabulary of %lld", collator_cfg_path,
                      (long long)out->pad_token_id, (long long)out->vocab_size);
    sg_yaml_free(m);
    sg_yaml_free(c);
    return st;
}

const char *tx1_size_folder(const char *size) {
    if (strcmp(size, "70m") == 0) return "70m";
    if (strcmp(size, "1b") == 0 || strcmp(size, "1.3b") == 0) return "1b";
    if (strcmp(size, "3b") == 0) return "3b";
    return NULL;
}

sg_status tx1_config_preset(const char *size, struct tx1_config *out) {
    memset(out, 0, sizeof *out);
    const char *folder = tx1_size_folder(size);
    if (!folder) return sg_error(SG_ERR_INVALID_ARG, "model size '%s' is not one of 70m, 1.3b (1b), 3b", size);
    /* configs/gcloud/tahoe_x1-{70m,1_3b}-merged.yaml and configs/mcli/tahoe_x1-3b-v2-cont-train.yaml */
    bool big        = strcmp(folder, "3b") == 0;
    out->d_model    = strcmp(folder, "70m") == 0 ? 512 : big ? 2560 : 2048;
    out->n_layers   = strcmp(folder, "70m") == 0 ? 12 : big ? 32 : 24;
    out->n_heads    = strcmp(folder, "70m") == 0 ? 8 : big ? 20 : 16;
    out->d_ff       = 4 * out->d_model;
    out->vocab_size = 62720;
    out->act_ffn = out->act_value = big ? TX1_ACT_GELU : TX1_ACT_RELU;
    out->act_dec                  = big ? TX1_ACT_GELU : TX1_ACT_LEAKY_RELU;
    out->n_dec_layers             = 1;
    out->eps                      = 1e-5f;
    out->value_max                = 512;
    out->gene_norm = out->value_norm = true;
    out->mvc_scaled                  = true;
    out->trained_with_gen_mask       = !big;
    out->pad_token_id                = 0;
    out->pad_value                   = -2;
    out->num_bins                    = 51;
    out->max_length                  = big ? 2048 : 1024;
    return SG_OK;
}

int64_t tx1_config_n_params(const struct tx1_config *c) {
    const int64_t d = c->d_model, f = c->d_ff;
    int64_t n = c->vocab_size * d + (c->gene_norm ? 2 * d : 0) + 2 * d; /* gene, flag */
    n += 2 * d + d * d + d + (c->value_norm ? 2 * d : 0);               /* value encoder */
    n += c->n_layers * (2 * d + 3 * d * d + 3 * d + d * d + d + 2 * d + f * d + f + d * f + d);
    n += 2 * d;                                 /* final norm */
    n += c->n_dec_layers * (d * d + d) + d + 1; /* expression decoder */
    n += d * d + d + d * d;                     /* MVC */
    return n;
}
