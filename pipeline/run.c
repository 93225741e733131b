/* `saeg pipeline`: the steps of a run in one process, calling the same functions as
 * `saeg train`, `saeg extract`, `saeg validate` and `saeg dashboard`. Validation, when enabled,
 * runs before the dashboard so that the page shows its results. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/log.h"
#include "dashboard/dashboard.h"
#include "models/tahoe_x1.h"
#include "pipeline/dist.h"
#include "pipeline/extract.h"
#include "pipeline/run.h"
#include "pipeline/train.h"
#include "validation/fsutil.h"
#include "validation/run.h"

void sg_run_opts_init(struct sg_run_opts *o) {
    memset(o, 0, sizeof *o);
    sg_run_settings_init(&o->settings);
}

void sg_run_plan(const struct sg_run_opts *o, char *buf, size_t cap) {
    const char *steps[4];
    int n = 0;
    if (!o->skip_training) steps[n++] = "train";
    if (!o->skip_extraction) steps[n++] = "extract";
    if (sg_run_bool(&o->settings, "validation.enabled")) steps[n++] = "validate";
    if (!o->skip_dashboard) steps[n++] = "dashboard";
    size_t len = 0;
    buf[0]     = '\0';
    for (int i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? " -> " : "", steps[i]);
    if (n == 0) snprintf(buf, cap, "nothing (every step skipped)");
}

/* the model folder the settings name, and its width */
static sg_status model_width(const struct sg_run_settings *rs, char *dir, size_t cap, int64_t *d_model) {
    sg_status st = tx1_resolve_model(sg_run_str(rs, "model.path"), sg_run_str(rs, "model.size"), dir, cap);
    if (st != SG_OK) return st;
    char mc[4200], cc[4200];
    snprintf(mc, sizeof mc, "%s/model_config.yml", dir);
    snprintf(cc, sizeof cc, "%s/collator_config.yml", dir);
    struct tx1_config cfg;
    st       = tx1_config_load(mc, cc, &cfg);
    *d_model = cfg.d_model;
    return st;
}

/* d_in of an SAE folder's cfg.json */
static sg_status sae_d_in(const char *sae_dir, int64_t *d_in) {
    char path[4300];
    snprintf(path, sizeof path, "%s/cfg.json", sae_dir);
    char *text = NULL;
    size_t len = 0;
    if (sgv_read_file(path, &text, &len) != SG_OK)
        return sg_error(SG_ERR_NOT_FOUND,
                        "--skip-training: %s does not exist; there is no trained SAE to reuse in %s (run without "
                        "--skip-training first)",
                        path, sae_dir);
    cJSON *root    = cJSON_ParseWithLength(text, len);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "d_in");
    sg_status st   = cJSON_IsNumber(d) && d->valuedouble >= 1
                         ? SG_OK
                         : sg_error(SG_ERR_FORMAT, "%s: no d_in (not an SAE config)", path);
    if (st == SG_OK) *d_in = (int64_t)d->valuedouble;
    cJSON_Delete(root);
    free(text);
    return st;
}

/* before anything runs: the SAE the later steps need exists and fits the model */
static sg_status preflight(const struct sg_run_opts *o, const char *sae_dir) {
    const struct sg_run_settings *rs = &o->settings;
    char dir[4096];
    int64_t d_model = 0;
    bool need_model = !o->skip_training || !o->skip_extraction;
    /* before the model is even opened: training would replace an earlier run in the folder */
    if (o->resume && o->overwrite) return sg_error(SG_ERR_INVALID_ARG, "pass --resume or --overwrite, not both");
    char ckpt[4200];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.safetensors", o->output);
    const bool resume_training = o->resume && access(ckpt, F_OK) == 0;
    sg_status st = o->skip_training || resume_training ? SG_OK : sg_train_check_output(o->output, o->overwrite);
    if (st == SG_OK && need_model) st = model_width(rs, dir, sizeof dir, &d_model);
    if (st != SG_OK) return st;
    int64_t want = sg_run_int(rs, "training.sae.d_in", 0);
    if (need_model && want && want != d_model)
        return sg_error(SG_ERR_INVALID_ARG,
                        "training.sae.d_in is %lld (from %s) but the model %s has width d_model = %lld; remove "
                        "d_in (the model sets it) or use a matching model",
                        (long long)want, sg_run_setting((struct sg_run_settings *)rs, "training.sae.d_in")->source, dir,
                        (long long)d_model);
    if (o->skip_training && !o->skip_extraction) {
        int64_t d_in = 0;
        st           = sae_d_in(sae_dir, &d_in);
        if (st == SG_OK && d_in != d_model)
            st = sg_error(SG_ERR_INVALID_ARG,
                          "--skip-training: the SAE in %s takes d_in = %lld but the model %s has width d_model = %lld; "
                          "it was trained on another model (pass that --model/--model-size, or train again)",
                          sae_dir, (long long)d_in, dir, (long long)d_model);
    }
    return st;
}

static sg_status train(const struct sg_run_opts *o) {
    const struct sg_run_settings *rs = &o->settings;
    struct sg_train_opts t;
    sg_train_opts_default(&t);
    enum sg_sae_arch arch = SG_SAE_TOPK;
    sg_status st          = sg_sae_arch_parse(sg_run_str(rs, "training.sae.architecture"), &arch);
    if (st != SG_OK) return st;
    const int64_t d_sae = sg_run_int(rs, "training.sae.d_sae", 16384), k = sg_run_int(rs, "training.sae.k", 64);
    if (k > d_sae)
        return sg_error(SG_ERR_INVALID_ARG, "training.sae.k %lld exceeds training.sae.d_sae %lld", (long long)k,
                        (long long)d_sae);
    sg_sae_config_default(&t.sae, arch, 0, d_sae);
    if (sg_sae_arch_is_topk_family(arch)) t.sae.k = (int)k;
    t.data      = o->data;
    t.output    = o->output;
    t.overwrite = o->overwrite;
    char ckpt[4200];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.safetensors", o->output);
    t.resume         = o->resume && access(ckpt, F_OK) == 0;
    t.model          = sg_run_str(rs, "model.path");
    t.model_size     = t.model ? NULL : sg_run_str(rs, "model.size");
    t.gene_id_key    = sg_run_str(rs, "data.gene_id_key");
    t.layer          = (int)sg_run_int(rs, "model.layer", -1);
    t.max_cells      = sg_run_int(rs, "data.max_cells", 0);
    t.context        = sg_run_int(rs, "model.context_length", 0);
    t.cells_per_pass = sg_run_int(rs, "training.cells_per_pass", 8);
    t.steps          = sg_run_int(rs, "training.total_training_steps", 10000);
    t.batch          = sg_run_int(rs, "training.batch_size", 4096);
    t.lr             = sg_run_num(rs, "training.optimizer.lr", 0);
    t.seed           = (uint64_t)sg_run_int(rs, "training.seed", 0);
    t.eval           = sg_run_bool(rs, "training.eval");
    t.device         = sg_run_str(rs, "model.device");
    t.threads        = (int)sg_run_int(rs, "model.threads", 0);
    st               = tx1_dtype_parse(sg_run_str(rs, "model.dtype"), "model.dtype", &t.dtype);
    if (st != SG_OK) return st;
    SG_LOGI("pipeline: train");
    struct sg_train_result r;
    st = sg_train_run(&t, &r);
    sg_eval_result_free(&r.eval);
    return st;
}

static sg_status extract(const struct sg_run_opts *o, const char *sae_dir) {
    const struct sg_run_settings *rs = &o->settings;
    struct sg_extract_opts e;
    sg_extract_opts_default(&e);
    e.sae_dir       = sae_dir;
    e.data          = o->data;
    e.output        = o->output;
    e.model         = sg_run_str(rs, "model.path");
    e.model_size    = e.model ? NULL : sg_run_str(rs, "model.size");
    e.gene_id_key   = sg_run_str(rs, "data.gene_id_key");
    e.symbol_key    = sg_run_str(rs, "data.symbol_key");
    e.cell_type_key = sg_run_str(rs, "data.cell_type_key");
    e.top_k_genes   = sg_run_int(rs, "extraction.top_k_genes", 100);
    e.top_k_cells   = sg_run_int(rs, "extraction.top_k_cells", 100);
    e.max_cells     = sg_run_int(rs, "data.max_cells", 0);
    e.batch_cells   = sg_run_int(rs, "extraction.batch", 8);
    e.seed          = (uint64_t)sg_run_int(rs, "training.seed", 0);
    e.device        = sg_run_str(rs, "model.device");
    e.threads       = (int)sg_run_int(rs, "model.threads", 0);
    e.write_h5ad    = sg_run_bool(rs, "extraction.write_h5ad") ? "" : NULL;
    /* --resume continues whatever was interrupted: the extraction too, when it has a checkpoint */
    char ckpt[4200];
    snprintf(ckpt, sizeof ckpt, "%s/extract_checkpoint.safetensors", o->output);
    e.resume     = o->resume && access(ckpt, F_OK) == 0;
    e.overwrite  = o->overwrite;
    sg_status st = sg_extract_rank_parse(sg_run_str(rs, "extraction.rank_by"), &e.rank_by);
    if (st == SG_OK) st = tx1_dtype_parse(sg_run_str(rs, "model.dtype"), "model.dtype", &e.dtype);
    /* layer and context are the SAE's (cfg.json), as trained; only a --layer typed on the command
     * line is passed on, so that a mismatch with a reused SAE is reported rather than hidden */
    const struct sg_setting *layer = sg_run_setting((struct sg_run_settings *)rs, "model.layer");
    if (layer->set && strcmp(layer->source, "command line") == 0) e.layer = (int)strtol(layer->value, NULL, 10);
    if (st != SG_OK) return st;
    SG_LOGI("pipeline: extract");
    struct sg_extract_result r;
    st = sg_extract_run(&e, &r);
    if (st == SG_OK)
        SG_LOGI("pipeline: %lld cells, %lld of %lld features active", (long long)r.n_cells, (long long)r.n_alive,
                (long long)r.d_sae);
    return st;
}

static sg_status validate(const struct sg_run_opts *o, int *failed) {
    struct sgv_run_opts v = sgv_run_opts_default();
    v.results_dir         = o->output;
    v.config_path         = sg_run_str(&o->settings, "validation.config");
    v.offline             = sg_run_bool(&o->settings, "validation.offline");
    SG_LOGI("pipeline: validate (%s%s)", v.config_path, v.offline ? ", offline" : "");
    sg_status st = sgv_run(&v, failed);
    if (st == SG_OK && *failed)
        SG_LOGW("pipeline: %d validation source(s) failed; see %s/validation/summary.json", *failed, o->output);
    return st;
}

static sg_status dashboard(const struct sg_run_opts *o, struct sg_run_result *res) {
    struct sg_dashboard_opts d = {.results_dir = o->output};
    sg_status st = sg_dashboard_parse_top_n(sg_run_str(&o->settings, "dashboard.top_n_features"), &d.top_n);
    struct sg_dashboard_info info;
    if (st == SG_OK) st = sg_dashboard_write(&d, &info);
    if (st == SG_OK) {
        snprintf(res->dashboard_path, sizeof res->dashboard_path, "%s", info.output);
        SG_LOGI("pipeline: dashboard %s (%zu of %zu features)", info.output, info.n_shown, info.n_features);
    }
    return st;
}

sg_status sg_run_pipeline(const struct sg_run_opts *o, struct sg_run_result *res) {
    memset(res, 0, sizeof *res);
    if (!o->output) return sg_error(SG_ERR_INVALID_ARG, "--output is required");
    if (!o->data && (!o->skip_training || !o->skip_extraction))
        return sg_error(SG_ERR_INVALID_ARG, "--data is required unless training and extraction are both skipped");
    char sae_dir[4200];
    snprintf(sae_dir, sizeof sae_dir, "%s/sae", o->output);
    sg_status st = preflight(o, sae_dir);
    if (st == SG_OK) st = sg_mkdir_p(o->output);
    if (st == SG_OK && !o->skip_training) {
        st           = train(o);
        res->trained = st == SG_OK;
    }
    if (st == SG_OK && !o->skip_extraction) {
        st             = extract(o, sae_dir);
        res->extracted = st == SG_OK;
    }
    /* several ranks (mpirun): validation and the dashboard read rank 0's files; rank 0 runs them */
    if (sg_dist_rank() != 0) return st;
    if (st == SG_OK && sg_run_bool(&o->settings, "validation.enabled")) {
        st             = validate(o, &res->failed_sources);
        res->validated = st == SG_OK;
    }
    if (st == SG_OK && !o->skip_dashboard) {
        st             = dashboard(o, res);
        res->dashboard = st == SG_OK;
    }
    return st;
}
