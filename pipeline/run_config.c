/* The settings of `saeg pipeline`: one table row per setting (YAML key, command-line option,
 * type, range, default), values layered from the config files and the command line, each value
 * remembering where it came from. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/log.h"
#include "dashboard/dashboard.h"
#include "io/yaml.h"
#include "models/sae.h"
#include "models/tahoe_x1.h"
#include "pipeline/extract.h"
#include "pipeline/run.h"

#define I64_MAX INT64_MAX

#define SETTING(k, a, o, t, lo, hi, d, h)                                                                              \
    { .key = (k), .alias = (a), .option = (o), .type = (t), .min = (lo), .max = (hi), .def = (d), .help = (h) }

static const struct sg_setting table[] = {
    SETTING("model.size", NULL, "--model-size", SG_SETTING_STR, 0, 0, "70m", "Tahoe X1 size: 70m, 1.3b (1b) or 3b"),
    SETTING("model.path", NULL, "--model", SG_SETTING_STR, 0, 0, NULL, "a model folder (instead of a size)"),
    SETTING("model.layer", NULL, "--layer", SG_SETTING_INT, 0, 4095, NULL, "SAE layer (unset: the middle block)"),
    SETTING("model.context_length", NULL, NULL, SG_SETTING_INT, 2, 1 << 20, NULL,
            "tokens per cell (unset: the model's)"),
    SETTING("model.device", NULL, "--device", SG_SETTING_STR, 0, 0, "auto", "auto, cuda, vulkan, opencl or cpu"),
    SETTING("model.dtype", NULL, "--dtype", SG_SETTING_STR, 0, 0, "auto",
            "Linear weights and GEMMs: bf16, f32 or auto (bf16 on CUDA, else f32)"),
    SETTING("model.threads", NULL, "--threads", SG_SETTING_INT, 0, 1024, "0", "CPU threads (0: SAEG_THREADS or cores)"),
    SETTING("data.max_cells", NULL, "--max-cells", SG_SETTING_INT, 1, I64_MAX, NULL, "only the first N cells"),
    SETTING("data.gene_id_key", NULL, "--gene-id-key", SG_SETTING_STR, 0, 0, NULL, "var column of Ensembl IDs"),
    SETTING("data.cell_type_key", NULL, "--cell-type-key", SG_SETTING_STR, 0, 0, NULL, "obs column of cell types"),
    SETTING("data.symbol_key", NULL, "--symbol-key", SG_SETTING_STR, 0, 0, NULL, "var column of gene symbols"),
    SETTING("training.total_training_steps", NULL, "--steps", SG_SETTING_INT, 1, I64_MAX / 2, "10000",
            "training steps"),
    SETTING("training.batch_size", NULL, NULL, SG_SETTING_INT, 1, 1 << 24, "4096", "tokens per training step"),
    SETTING("training.cells_per_pass", NULL, NULL, SG_SETTING_INT, 1, 4096, "8", "cells per forward pass"),
    SETTING("training.sae.architecture", "training.sae.activation", NULL, SG_SETTING_STR, 0, 0, "topk",
            "topk, batchtopk, jumprelu, standard, matryoshka-batchtopk"),
    SETTING("training.sae.d_sae", NULL, NULL, SG_SETTING_INT, 1, INT32_MAX, "16384", "SAE latents"),
    SETTING("training.sae.k", NULL, NULL, SG_SETTING_INT, 1, INT32_MAX, "64", "active latents per token (TopK family)"),
    SETTING("training.sae.d_in", NULL, NULL, SG_SETTING_INT, 1, INT32_MAX, NULL, "if set, must equal the model width"),
    SETTING("training.optimizer.lr", NULL, NULL, SG_SETTING_NUM, 0, 0, NULL,
            "learning rate (unset: 2e-4/sqrt(d_sae/2^14))"),
    SETTING("training.seed", NULL, NULL, SG_SETTING_INT, 0, I64_MAX, "0", "initialisation, shuffling, subsampling"),
    SETTING("training.eval", NULL, NULL, SG_SETTING_BOOL, 0, 0, "true", "evaluate the SAE after training (eval.json)"),
    SETTING("extraction.top_k_genes", NULL, "--top-k-genes", SG_SETTING_INT, 0, 100000, "100", "top genes per feature"),
    SETTING("extraction.top_k_cells", NULL, "--top-k-cells", SG_SETTING_INT, 0, 100000, "100", "top cells per feature"),
    SETTING("extraction.rank_by", NULL, NULL, SG_SETTING_STR, 0, 0, "mean", "gene ranking: mean, sum or max"),
    SETTING("extraction.batch", NULL, NULL, SG_SETTING_INT, 1, 4096, "8", "cells per forward pass"),
    SETTING("extraction.write_h5ad", NULL, "--write-h5ad", SG_SETTING_BOOL, 0, 0, "false",
            "h5ad copy with obsm['X_sae']"),
    SETTING("dashboard.top_n_features", NULL, "--top-n-features", SG_SETTING_STR, 0, 0, "100",
            "features in the page, or all"),
    SETTING("validation.enabled", NULL, "--validate", SG_SETTING_BOOL, 0, 0, "false", "run saeg validate"),
    SETTING("validation.config", NULL, NULL, SG_SETTING_STR, 0, 0, "configs/validation/databases.yaml",
            "its databases"),
    SETTING("validation.offline", NULL, NULL, SG_SETTING_BOOL, 0, 0, "true", "local files only, no network"),
};

void sg_run_settings_init(struct sg_run_settings *rs) {
    memset(rs, 0, sizeof *rs);
    rs->n = (int)(sizeof table / sizeof table[0]);
    for (int i = 0; i < rs->n; i++) {
        rs->s[i] = table[i];
        snprintf(rs->s[i].source, sizeof rs->s[i].source, "built-in");
        if (table[i].def) {
            rs->s[i].set = true;
            snprintf(rs->s[i].value, sizeof rs->s[i].value, "%s", table[i].def);
        }
    }
}

struct sg_setting *sg_run_setting(struct sg_run_settings *rs, const char *key) {
    for (int i = 0; i < rs->n; i++)
        if (strcmp(rs->s[i].key, key) == 0) return &rs->s[i];
    return NULL;
}

static const struct sg_setting *find_c(const struct sg_run_settings *rs, const char *key) {
    return sg_run_setting((struct sg_run_settings *)rs, key);
}

/* "--steps 'x': ..." from the command line, "file.yaml: training.total_training_steps: ..." from a file */
static sg_status bad(const struct sg_setting *s, const char *source, const char *value, const char *want) {
    if (strcmp(source, "command line") == 0 && s->option)
        return sg_error(SG_ERR_INVALID_ARG, "%s '%s': expected %s", s->option, value, want);
    return sg_error(SG_ERR_INVALID_ARG, "%s: %s: expected %s, got '%.60s'", source, s->key, want, value);
}

/* YAML 1.1 spellings, as io/yaml.h reads booleans */
static bool parse_bool(const char *v, bool *out) {
    static const char *const yes[] = {"true", "yes", "on", "y"}, *const no[] = {"false", "no", "off", "n"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
            *out = strcasecmp(v, yes[i]) == 0;
            return true;
        }
    }
    return false;
}

static bool device_ok(const char *v) {
    static const char *const names[] = {"auto", "cuda", "vulkan", "opencl", "cpu"};
    for (int i = 0; i < 5; i++) {
        size_t n = strlen(names[i]);
        if (strncmp(v, names[i], n) != 0) continue;
        if (v[n] == '\0') return true;
        if (v[n] != ':' || i == 0 || !v[n + 1]) return false;
        for (const char *p = v + n + 1; *p; p++)
            if (*p < '0' || *p > '9') return false;
        return true;
    }
    return false;
}

/* checks a value against its setting; the message names the source */
static sg_status check(const struct sg_setting *s, const char *v, const char *source) {
    char want[128];
    char *end;
    errno = 0;
    switch (s->type) {
    case SG_SETTING_INT: {
        long long x = strtoll(v, &end, 10);
        snprintf(want, sizeof want, "an integer in %lld..%lld", (long long)s->min, (long long)s->max);
        if (errno || end == v || *end || x < s->min || x > s->max) return bad(s, source, v, want);
        return SG_OK;
    }
    case SG_SETTING_NUM: {
        double x = strtod(v, &end);
        if (errno || end == v || *end || !(x > 0) || !isfinite(x)) return bad(s, source, v, "a positive number");
        return SG_OK;
    }
    case SG_SETTING_BOOL: {
        bool b;
        return parse_bool(v, &b) ? SG_OK : bad(s, source, v, "true or false");
    }
    case SG_SETTING_STR: break;
    }
    if (!v[0]) return bad(s, source, v, "a non-empty value");
    if (strcmp(s->key, "model.size") == 0 && !tx1_size_folder(v)) return bad(s, source, v, "70m, 1.3b (or 1b) or 3b");
    if (strcmp(s->key, "model.device") == 0 && !device_ok(v))
        return bad(s, source, v, "auto, cuda[:N], vulkan[:N], opencl[:N] or cpu");
    enum tx1_dtype dtype;
    if (strcmp(s->key, "model.dtype") == 0 && tx1_dtype_parse(v, s->key, &dtype) != SG_OK)
        return bad(s, source, v, "bf16, f32 or auto");
    enum sg_sae_arch arch;
    if (strcmp(s->key, "training.sae.architecture") == 0 && sg_sae_arch_parse(v, &arch) != SG_OK)
        return bad(s, source, v, "topk, batchtopk, jumprelu, standard or matryoshka-batchtopk");
    enum sg_extract_rank rank;
    if (strcmp(s->key, "extraction.rank_by") == 0 && sg_extract_rank_parse(v, &rank) != SG_OK)
        return bad(s, source, v, "mean, sum or max");
    long top_n;
    if (strcmp(s->key, "dashboard.top_n_features") == 0 && sg_dashboard_parse_top_n(v, &top_n) != SG_OK)
        return bad(s, source, v, "a positive integer or all");
    return SG_OK;
}

sg_status sg_run_settings_set(struct sg_run_settings *rs, const char *key, const char *value, const char *source) {
    struct sg_setting *s = sg_run_setting(rs, key);
    if (!s) return sg_error(SG_ERR_INVALID_ARG, "%s: unknown setting '%s'", source, key);
    if (!value) { /* YAML null: back to the built-in default */
        s->set = s->def != NULL;
        snprintf(s->value, sizeof s->value, "%s", s->def ? s->def : "");
    } else {
        sg_status st = check(s, value, source);
        if (st != SG_OK) return st;
        if (strlen(value) >= sizeof s->value) return bad(s, source, value, "a shorter value");
        s->set = true;
        snprintf(s->value, sizeof s->value, "%s", value);
    }
    snprintf(s->source, sizeof s->source, "%s", source);
    return SG_OK;
}

static sg_status apply_yaml(struct sg_run_settings *rs, const struct sg_yaml *y, const char *source) {
    for (int i = 0; i < rs->n; i++) {
        const char *path = rs->s[i].key;
        if (!sg_yaml_has(y, path) && rs->s[i].alias && sg_yaml_has(y, rs->s[i].alias)) path = rs->s[i].alias;
        if (!sg_yaml_has(y, path)) continue;
        const char *v = sg_yaml_str(y, path);
        if (!v && sg_yaml_len(y, path) > 0)
            return sg_error(SG_ERR_INVALID_ARG, "%s: %s: expected a value, found a list or mapping", source, path);
        sg_status st = sg_run_settings_set(rs, rs->s[i].key, v, source);
        if (st != SG_OK) return st;
    }
    return SG_OK;
}

sg_status sg_run_settings_load_yaml(struct sg_run_settings *rs, const char *path) {
    struct sg_yaml *y;
    sg_status st = sg_yaml_load(path, &y);
    if (st != SG_OK) return st;
    st = apply_yaml(rs, y, path);
    sg_yaml_free(y);
    return st;
}

sg_status sg_run_layer_configs(struct sg_run_settings *rs, const char *configs_dir, const char *user_config,
                               const struct sg_run_cli *cli) {
    const char *dir    = configs_dir ? configs_dir : "configs";
    struct sg_yaml *uy = NULL;
    sg_status st       = user_config ? sg_yaml_load(user_config, &uy) : SG_OK;
    const char *size = NULL, *model = NULL;
    for (int i = 0; st == SG_OK && cli && i < cli->n; i++) {
        if (strcmp(cli->key[i], "model.size") == 0) size = cli->value[i];
        if (strcmp(cli->key[i], "model.path") == 0) model = cli->value[i];
    }
    if (!size && uy) size = sg_yaml_str(uy, "model.size");
    if (!model && uy) model = sg_yaml_str(uy, "model.path");
    const char *folder = tx1_size_folder(size ? size : sg_run_str(rs, "model.size"));
    char path[4200];
    if (st == SG_OK && !model && folder) { /* a model folder has its own architecture: no size preset */
        snprintf(path, sizeof path, "%s/models/tx1_%s.yaml", dir, folder);
        if (access(path, R_OK) == 0) {
            SG_LOGI("pipeline: settings from %s", path);
            st = sg_run_settings_load_yaml(rs, path);
        }
    }
    snprintf(path, sizeof path, "%s/training/default.yaml", dir);
    if (st == SG_OK && access(path, R_OK) == 0) {
        SG_LOGI("pipeline: settings from %s", path);
        st = sg_run_settings_load_yaml(rs, path);
    }
    if (st == SG_OK && uy) {
        SG_LOGI("pipeline: settings from %s", user_config);
        st = apply_yaml(rs, uy, user_config);
    }
    for (int i = 0; st == SG_OK && cli && i < cli->n; i++)
        st = sg_run_settings_set(rs, cli->key[i], cli->value[i], "command line");
    sg_yaml_free(uy);
    return st;
}

const char *sg_run_str(const struct sg_run_settings *rs, const char *key) {
    const struct sg_setting *s = find_c(rs, key);
    return s && s->set ? s->value : NULL;
}

int64_t sg_run_int(const struct sg_run_settings *rs, const char *key, int64_t def) {
    const char *v = sg_run_str(rs, key);
    return v ? strtoll(v, NULL, 10) : def;
}

double sg_run_num(const struct sg_run_settings *rs, const char *key, double def) {
    const char *v = sg_run_str(rs, key);
    return v ? strtod(v, NULL) : def;
}

bool sg_run_bool(const struct sg_run_settings *rs, const char *key) {
    const char *v = sg_run_str(rs, key);
    bool b        = false;
    return v && parse_bool(v, &b) && b;
}

void sg_run_settings_print(const struct sg_run_settings *rs, FILE *out) {
    for (int i = 0; i < rs->n; i++) {
        const struct sg_setting *s = &rs->s[i];
        fprintf(out, "  %-30s %-34s %s\n", s->key, s->set ? s->value : "(unset)", s->source);
    }
}
