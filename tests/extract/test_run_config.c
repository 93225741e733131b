/* The settings of `saeg pipeline`: built-in defaults < configs/models/tx1_<size>.yaml <
 * configs/training/default.yaml < --config < the command line, each value remembering its source;
 * the size (from the command line or --config) picks the model file, a model folder skips it;
 * the original design's key spellings work; YAML null restores the default; bad values fail
 * naming the file and key (or the option). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/status.h"
#include "pipeline/run.h"
#include "tests/test_util.h"

static char dir[256];

static void write_file(const char *rel, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "w");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static const char *source_of(struct sg_run_settings *rs, const char *key) {
    const struct sg_setting *s = sg_run_setting(rs, key);
    return s ? s->source : "?";
}

static void path_of(char *out, size_t cap, const char *rel) { snprintf(out, cap, "%s/%s", dir, rel); }

static void test_defaults_when_there_are_no_files(void) {
    struct sg_run_settings rs;
    sg_run_settings_init(&rs);
    char none[512];
    path_of(none, sizeof none, "no-such-dir");
    CHECK(sg_run_layer_configs(&rs, none, NULL, NULL) == SG_OK);
    CHECK(sg_run_int(&rs, "training.total_training_steps", 0) == 10000);
    CHECK(strcmp(sg_run_str(&rs, "model.size"), "70m") == 0);
    CHECK(sg_run_str(&rs, "model.layer") == NULL);
    CHECK(sg_run_int(&rs, "extraction.top_k_genes", 0) == 100);
    CHECK(!sg_run_bool(&rs, "validation.enabled"));
    CHECK(strcmp(source_of(&rs, "training.sae.k"), "built-in") == 0);
}

static void test_each_layer_overrides_the_one_below(void) {
    struct sg_run_settings rs;
    sg_run_settings_init(&rs);
    char configs[512], user[512], model_yaml[512], train_yaml[512];
    path_of(configs, sizeof configs, "configs");
    path_of(user, sizeof user, "user.yaml");
    path_of(model_yaml, sizeof model_yaml, "configs/models/tx1_70m.yaml");
    path_of(train_yaml, sizeof train_yaml, "configs/training/default.yaml");
    struct sg_run_cli cli = {.n = 1, .key = {"training.total_training_steps"}, .value = {"444"}};
    CHECK(sg_run_layer_configs(&rs, configs, user, &cli) == SG_OK);
    CHECK(sg_run_int(&rs, "training.total_training_steps", 0) == 444);
    CHECK(strcmp(source_of(&rs, "training.total_training_steps"), "command line") == 0);
    CHECK(sg_run_int(&rs, "training.sae.k", 0) == 7); /* user over training over built-in */
    CHECK(strcmp(source_of(&rs, "training.sae.k"), user) == 0);
    CHECK(sg_run_int(&rs, "training.sae.d_sae", 0) == 100); /* training over built-in */
    CHECK(strcmp(source_of(&rs, "training.sae.d_sae"), train_yaml) == 0);
    CHECK(sg_run_int(&rs, "model.context_length", 0) == 1000); /* the model file alone */
    CHECK(strcmp(source_of(&rs, "model.context_length"), model_yaml) == 0);
    CHECK(sg_run_int(&rs, "model.layer", -1) == 2); /* user over model */
    /* the seed's spelling training.sae.activation sets the architecture */
    CHECK(strcmp(sg_run_str(&rs, "training.sae.architecture"), "jumprelu") == 0);
    /* lr: 0.01 in the training file, null in the user's: back to the built-in (unset) */
    CHECK(sg_run_str(&rs, "training.optimizer.lr") == NULL);
    CHECK(strcmp(source_of(&rs, "training.optimizer.lr"), user) == 0);
    CHECK(sg_run_bool(&rs, "validation.enabled"));
}

static void test_the_size_picks_the_model_file_and_a_folder_skips_it(void) {
    char configs[512];
    path_of(configs, sizeof configs, "configs");
    struct sg_run_settings rs;
    sg_run_settings_init(&rs);
    struct sg_run_cli cli = {.n = 1, .key = {"model.size"}, .value = {"3b"}};
    CHECK(sg_run_layer_configs(&rs, configs, NULL, &cli) == SG_OK);
    CHECK(sg_run_int(&rs, "model.context_length", 0) == 2048);
    sg_run_settings_init(&rs);
    struct sg_run_cli alias = {.n = 1, .key = {"model.size"}, .value = {"1.3b"}}; /* 1.3b reads tx1_1b.yaml */
    CHECK(sg_run_layer_configs(&rs, configs, NULL, &alias) == SG_OK);
    CHECK(sg_run_int(&rs, "model.context_length", 0) == 1536);
    sg_run_settings_init(&rs);
    char user3b[512];
    path_of(user3b, sizeof user3b, "user3b.yaml");
    CHECK(sg_run_layer_configs(&rs, configs, user3b, NULL) == SG_OK); /* model.size in --config */
    CHECK(sg_run_int(&rs, "model.context_length", 0) == 2048);
    sg_run_settings_init(&rs);
    struct sg_run_cli folder = {.n = 1, .key = {"model.path"}, .value = {"some/model"}};
    CHECK(sg_run_layer_configs(&rs, configs, NULL, &folder) == SG_OK);
    CHECK(sg_run_str(&rs, "model.context_length") == NULL);
}

static void test_bad_values_name_the_file_and_key_or_the_option(void) {
    char configs[512], bad[512], listy[512];
    path_of(configs, sizeof configs, "configs");
    path_of(bad, sizeof bad, "bad.yaml");
    path_of(listy, sizeof listy, "listy.yaml");
    struct sg_run_settings rs;
    sg_run_settings_init(&rs);
    CHECK(sg_run_layer_configs(&rs, configs, bad, NULL) != SG_OK);
    CHECK_CONTAINS(sg_last_error(), "bad.yaml: training.total_training_steps: expected an integer in 1..");
    CHECK_CONTAINS(sg_last_error(), "got 'many'");
    sg_run_settings_init(&rs);
    CHECK(sg_run_layer_configs(&rs, configs, listy, NULL) != SG_OK);
    CHECK_CONTAINS(sg_last_error(), "listy.yaml: training.sae.k: expected a value, found a list or mapping");
    sg_run_settings_init(&rs);
    CHECK(sg_run_settings_set(&rs, "model.device", "tpu", "command line") != SG_OK);
    CHECK_CONTAINS(sg_last_error(), "--device 'tpu': expected auto, cuda[:N], vulkan[:N], opencl[:N] or cpu");
    CHECK(sg_run_settings_set(&rs, "model.size", "2b", "command line") != SG_OK);
    CHECK_CONTAINS(sg_last_error(), "--model-size '2b': expected 70m, 1.3b (or 1b) or 3b");
    CHECK(sg_run_settings_set(&rs, "dashboard.top_n_features", "0", "command line") != SG_OK);
    CHECK(sg_run_settings_set(&rs, "dashboard.top_n_features", "all", "command line") == SG_OK);
    CHECK(sg_run_settings_set(&rs, "model.device", "cuda:1", "command line") == SG_OK);
    CHECK(sg_run_settings_set(&rs, "model.dtype", "fp16", "command line") != SG_OK);
    CHECK_CONTAINS(sg_last_error(), "--dtype 'fp16': expected bf16, f32 or auto");
    CHECK(sg_run_settings_set(&rs, "model.dtype", "bf16", "command line") == SG_OK);
    char missing[512];
    path_of(missing, sizeof missing, "missing.yaml");
    CHECK(sg_run_layer_configs(&rs, configs, missing, NULL) != SG_OK);
    CHECK_CONTAINS(sg_last_error(), "missing.yaml");
}

static void test_the_plan_lists_the_steps_that_run(void) {
    struct sg_run_opts o;
    sg_run_opts_init(&o);
    char plan[128];
    sg_run_plan(&o, plan, sizeof plan);
    CHECK(strcmp(plan, "train -> extract -> dashboard") == 0);
    o.skip_training = true;
    CHECK(sg_run_settings_set(&o.settings, "validation.enabled", "true", "test") == SG_OK);
    sg_run_plan(&o, plan, sizeof plan);
    CHECK(strcmp(plan, "extract -> validate -> dashboard") == 0);
    o.skip_extraction = o.skip_dashboard = true;
    CHECK(sg_run_settings_set(&o.settings, "validation.enabled", "false", "test") == SG_OK);
    sg_run_plan(&o, plan, sizeof plan);
    CHECK(strcmp(plan, "nothing (every step skipped)") == 0);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/saeg-run-config-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    char sub[512];
    path_of(sub, sizeof sub, "configs");
    mkdir(sub, 0755);
    path_of(sub, sizeof sub, "configs/models");
    mkdir(sub, 0755);
    path_of(sub, sizeof sub, "configs/training");
    mkdir(sub, 0755);
    write_file("configs/models/tx1_70m.yaml", "model:\n  size: 70m\n  context_length: 1000\n  layer: 6\n");
    write_file("configs/models/tx1_1b.yaml", "model:\n  context_length: 1536\n");
    write_file("configs/models/tx1_3b.yaml", "model:\n  context_length: 2048\n");
    write_file("configs/training/default.yaml", "training:\n  sae: {d_sae: 100, k: 5, activation: topk}\n"
                                                "  optimizer: {lr: 0.01}\n  total_training_steps: 222\n");
    write_file("user.yaml", "model: {layer: 2}\ntraining:\n  sae: {k: 7, activation: jumprelu}\n"
                            "  optimizer: {lr: null}\n  total_training_steps: 333\nvalidation: {enabled: yes}\n");
    write_file("user3b.yaml", "model:\n  size: 3b\n");
    write_file("bad.yaml", "training:\n  total_training_steps: many\n");
    write_file("listy.yaml", "training:\n  sae:\n    k: [1, 2]\n");
    RUN_TEST(test_defaults_when_there_are_no_files);
    RUN_TEST(test_each_layer_overrides_the_one_below);
    RUN_TEST(test_the_size_picks_the_model_file_and_a_folder_skips_it);
    RUN_TEST(test_bad_values_name_the_file_and_key_or_the_option);
    RUN_TEST(test_the_plan_lists_the_steps_that_run);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return test_exit_code();
}
