/* `saeg pipeline`: train -> extract -> (validate) -> dashboard in one process, driven by settings
 * layered from YAML configs and the command line.
 *
 *     struct sg_run_opts o;
 *     sg_run_opts_init(&o);
 *     o.data = "cells.h5ad"; o.output = "results/exp1";
 *     sg_run_settings_set(&o.settings, "training.total_training_steps", "1000", "command line");
 *     if (sg_run_layer_configs(&o.settings, "configs", "my.yaml", cli) != SG_OK) ...
 *     if (sg_run_pipeline(&o, &res) != SG_OK) fprintf(stderr, "%s\n", sg_last_error());
 *
 * Precedence, lowest first (docs/pipeline.md): built-in defaults, configs/models/tx1_<size>.yaml
 * (unless a model folder is given), configs/training/default.yaml, the --config file, the command
 * line. A YAML null resets a setting to its built-in default.
 */
#ifndef SG_PIPELINE_RUN_H
#define SG_PIPELINE_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/status.h"

enum sg_setting_type { SG_SETTING_STR = 0, SG_SETTING_INT, SG_SETTING_NUM, SG_SETTING_BOOL };

struct sg_setting {
    const char *key;    /* YAML path, e.g. "training.total_training_steps" */
    const char *alias;  /* a second YAML path accepted for it (the original design's), or NULL */
    const char *option; /* its command-line option, or NULL */
    enum sg_setting_type type;
    int64_t min, max; /* integers */
    const char *def;  /* built-in default as text; NULL: unset */
    const char *help;
    /* the value, as text (validated when set), and where it came from */
    bool set;
    char value[1024];
    char source[512];
};

#define SG_RUN_MAX_SETTINGS 40

struct sg_run_settings {
    int n;
    struct sg_setting s[SG_RUN_MAX_SETTINGS];
};

void sg_run_settings_init(struct sg_run_settings *rs);
struct sg_setting *sg_run_setting(struct sg_run_settings *rs, const char *key);
/* Validates and sets a value (NULL: back to the default); errors name `source` and the key. */
sg_status sg_run_settings_set(struct sg_run_settings *rs, const char *key, const char *value, const char *source);
/* Applies every setting the YAML file names. */
sg_status sg_run_settings_load_yaml(struct sg_run_settings *rs, const char *path);
/* Typed values of set settings (defaults filled in); unset ones give `def`. */
const char *sg_run_str(const struct sg_run_settings *rs, const char *key);
int64_t sg_run_int(const struct sg_run_settings *rs, const char *key, int64_t def);
double sg_run_num(const struct sg_run_settings *rs, const char *key, double def);
bool sg_run_bool(const struct sg_run_settings *rs, const char *key);
void sg_run_settings_print(const struct sg_run_settings *rs, FILE *out);

/* Command-line values, as given (NULL: not given), applied last. */
struct sg_run_cli {
    int n;
    const char *key[SG_RUN_MAX_SETTINGS];
    const char *value[SG_RUN_MAX_SETTINGS];
};

/* The layering: the config files found under configs_dir (NULL: "configs"), then user_config
 * (NULL: none), then the command line. Logs which files it read. */
sg_status sg_run_layer_configs(struct sg_run_settings *rs, const char *configs_dir, const char *user_config,
                               const struct sg_run_cli *cli);

struct sg_run_opts {
    const char *data, *output;
    bool skip_training, skip_extraction, skip_dashboard;
    bool overwrite; /* train afresh over an earlier run in output */
    bool resume;    /* continue an interrupted training and extraction from their checkpoints */
    struct sg_run_settings settings;
};

struct sg_run_result {
    bool trained, extracted, validated, dashboard;
    char dashboard_path[4096];
    int failed_sources; /* validation sources that failed */
};

void sg_run_opts_init(struct sg_run_opts *o);
/* The steps that will run, e.g. "train -> extract -> dashboard". */
void sg_run_plan(const struct sg_run_opts *o, char *buf, size_t cap);
sg_status sg_run_pipeline(const struct sg_run_opts *o, struct sg_run_result *res);

#endif
