/* saeg pipeline: train -> extract -> (validate) -> dashboard (pipeline/run.h; docs/pipeline.md). */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "pipeline/run.h"

static void print_help(FILE *out) {
    fprintf(out, "usage: saeg pipeline --data X.h5ad --output DIR [options]\n"
                 "\n"
                 "The whole run in one command: trains an SAE on Tahoe X1 activations (DIR/sae/,\n"
                 "training_log.jsonl, eval.json), extracts every feature's top genes and cells\n"
                 "(feature_*.json), validates them when the config enables it (validation/), and writes\n"
                 "DIR/dashboard.html. The steps are also available alone: saeg train | extract | validate |\n"
                 "dashboard.\n"
                 "\n"
                 "  --data FILE            the h5ad (raw counts in X)\n"
                 "  --output DIR           the run folder (created if needed)\n"
                 "  --model-size SIZE      70m (default), 1.3b (or 1b) or 3b\n"
                 "  --model DIR            a model folder in the released layout (instead of a size)\n"
                 "  --steps N              training steps (default 10000)\n"
                 "  --max-cells N          only the first N cells\n"
                 "  --top-k-genes N        genes kept per feature (default 100)\n"
                 "  --top-k-cells N        cells kept per feature (default 100)\n"
                 "  --top-n-features N     features in the dashboard (default 100), or 'all'\n"
                 "  --device D             auto (default), cuda, vulkan, opencl or cpu (':N' picks a device)\n"
                 "  --dtype T              Tahoe X1 Linear weights and GEMMs: bf16 or f32 (default: bf16 on CUDA,\n"
                 "                         f32 elsewhere; config key model.dtype)\n"
                 "  --threads N            CPU threads (default: SAEG_THREADS or the physical cores)\n"
                 "  --layer I              block whose residual stream the SAE reads (default: the middle one)\n"
                 "  --gene-id-key KEY      var column of Ensembl IDs (default: 'ensembl_id', else the index)\n"
                 "  --cell-type-key KEY    obs column of cell types (default: 'cell_type' when present)\n"
                 "  --symbol-key KEY       var column of gene symbols (default: detected, see docs/extract.md)\n"
                 "  --write-h5ad           also write DIR/<data name>_sae.h5ad with obsm['X_sae']\n"
                 "  --validate             run the validation step (validation.enabled in a config)\n"
                 "  --skip-training        reuse DIR/sae/ (it must exist and fit the model)\n"
                 "  --overwrite            train afresh even if DIR holds a trained SAE (it is replaced), and\n"
                 "                         drop an interrupted extraction's checkpoint\n"
                 "  --resume               continue an interrupted run: training and extraction from their\n"
                 "                         checkpoints in DIR (a step without one runs as usual)\n"
                 "  --skip-extraction      reuse DIR/feature_*.json\n"
                 "  --skip-dashboard       do not write the dashboard\n"
                 "  --config FILE          YAML settings (see configs/pipeline/demo.yaml)\n"
                 "  --dry-run              print the settings, where each came from, and the steps; run nothing\n"
                 "  -h, --help             this help\n"
                 "\n"
                 "Settings, lowest precedence first: built-in defaults, configs/models/tx1_<size>.yaml (not with\n"
                 "--model), configs/training/default.yaml, --config FILE, the command line.\n"
                 "Exit status: 0 success, 1 failure (explained on stderr), 2 usage error. See docs/pipeline.md.\n");
}

__attribute__((format(printf, 1, 2))) static int usage(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "saeg pipeline: ");
    /* clang 14's analyzer loses va_start when it inlines a call without variadic arguments */
    vfprintf(stderr, fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized) */
    fprintf(stderr, "\nRun 'saeg pipeline --help' for usage.\n");
    va_end(ap);
    return 2;
}

enum {
    O_DATA = 256,
    O_OUTPUT,
    O_CONFIG,
    O_SKIP_TRAIN,
    O_OVERWRITE,
    O_RESUME,
    O_SKIP_EXTRACT,
    O_SKIP_DASH,
    O_DRY_RUN,
    O_SETTING
};

/* options that set a setting: option name -> setting key (flags set "true") */
static const struct {
    const char *option, *key;
    int has_arg;
} setting_opts[] = {
    {"model-size", "model.size", required_argument},
    {"model", "model.path", required_argument},
    {"steps", "training.total_training_steps", required_argument},
    {"max-cells", "data.max_cells", required_argument},
    {"top-k-genes", "extraction.top_k_genes", required_argument},
    {"top-k-cells", "extraction.top_k_cells", required_argument},
    {"top-n-features", "dashboard.top_n_features", required_argument},
    {"device", "model.device", required_argument},
    {"dtype", "model.dtype", required_argument},
    {"threads", "model.threads", required_argument},
    {"layer", "model.layer", required_argument},
    {"gene-id-key", "data.gene_id_key", required_argument},
    {"cell-type-key", "data.cell_type_key", required_argument},
    {"symbol-key", "data.symbol_key", required_argument},
    {"write-h5ad", "extraction.write_h5ad", no_argument},
    {"validate", "validation.enabled", no_argument},
};
#define N_SETTING_OPTS ((int)(sizeof setting_opts / sizeof setting_opts[0]))

struct args {
    struct sg_run_opts o;
    struct sg_run_cli cli;
    const char *config;
    int dry_run;
};

static int parse_args(int argc, char **argv, struct args *a) {
    struct option opts[N_SETTING_OPTS + 16]; /* the options below, the settings, the terminator */
    int n     = 0;
    opts[n++] = (struct option){"data", required_argument, NULL, O_DATA};
    opts[n++] = (struct option){"output", required_argument, NULL, O_OUTPUT};
    opts[n++] = (struct option){"config", required_argument, NULL, O_CONFIG};
    opts[n++] = (struct option){"skip-training", no_argument, NULL, O_SKIP_TRAIN};
    opts[n++] = (struct option){"overwrite", no_argument, NULL, O_OVERWRITE};
    opts[n++] = (struct option){"resume", no_argument, NULL, O_RESUME};
    opts[n++] = (struct option){"skip-extraction", no_argument, NULL, O_SKIP_EXTRACT};
    opts[n++] = (struct option){"skip-dashboard", no_argument, NULL, O_SKIP_DASH};
    opts[n++] = (struct option){"dry-run", no_argument, NULL, O_DRY_RUN};
    opts[n++] = (struct option){"help", no_argument, NULL, 'h'};
    for (int i = 0; i < N_SETTING_OPTS; i++)
        opts[n++] = (struct option){setting_opts[i].option, setting_opts[i].has_arg, NULL, O_SETTING + i};
    opts[n] = (struct option){NULL, 0, NULL, 0};
    _Static_assert(9 + N_SETTING_OPTS + 1 <= sizeof opts / sizeof opts[0] - 1, "opts[] too small");

    sg_run_opts_init(&a->o);
    struct sg_run_settings scratch; /* command-line values are checked here first: a bad one is a usage error */
    sg_run_settings_init(&scratch);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA: a->o.data = optarg; break;
        case O_OUTPUT: a->o.output = optarg; break;
        case O_CONFIG: a->config = optarg; break;
        case O_SKIP_TRAIN: a->o.skip_training = true; break;
        case O_OVERWRITE: a->o.overwrite = true; break;
        case O_RESUME: a->o.resume = true; break;
        case O_SKIP_EXTRACT: a->o.skip_extraction = true; break;
        case O_SKIP_DASH: a->o.skip_dashboard = true; break;
        case O_DRY_RUN: a->dry_run = 1; break;
        case 'h': print_help(stdout); return -1;
        case ':': return usage("%s needs a value", argv[optind - 1]);
        default: {
            if (c < O_SETTING || c >= O_SETTING + N_SETTING_OPTS) return usage("unknown option '%s'", argv[optind - 1]);
            const char *key = setting_opts[c - O_SETTING].key;
            const char *v   = optarg ? optarg : "true";
            if (sg_run_settings_set(&scratch, key, v, "command line") != SG_OK) return usage("%s", sg_last_error());
            a->cli.key[a->cli.n]     = key;
            a->cli.value[a->cli.n++] = v;
            if (a->cli.n == SG_RUN_MAX_SETTINGS) return usage("too many options");
        }
        }
    }
    if (optind < argc) return usage("unexpected argument '%s'", argv[optind]);
    if (!a->o.output) return usage("--output DIR is required");
    if (!a->o.data && (!a->o.skip_training || !a->o.skip_extraction))
        return usage("--data FILE is required (unless --skip-training and --skip-extraction)");
    bool model = false, size = false;
    for (int i = 0; i < a->cli.n; i++) {
        model |= strcmp(a->cli.key[i], "model.path") == 0;
        size |= strcmp(a->cli.key[i], "model.size") == 0;
    }
    if (model && size) return usage("pass --model or --model-size, not both");
    return 0;
}

int saeg_cmd_pipeline(int argc, char **argv) {
    static struct args a; /* large (the settings table): not on the stack */
    memset(&a, 0, sizeof a);
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc;
    if (sg_run_layer_configs(&a.o.settings, NULL, a.config, &a.cli) != SG_OK) {
        fprintf(stderr, "saeg pipeline: %s\n", sg_last_error());
        return 1;
    }
    char plan[128];
    sg_run_plan(&a.o, plan, sizeof plan);
    if (a.dry_run) {
        printf("settings (key, value, from):\n");
        sg_run_settings_print(&a.o.settings, stdout);
        printf("data: %s\noutput: %s\nsteps: %s\n", a.o.data ? a.o.data : "(none)", a.o.output, plan);
        return 0;
    }
    fprintf(stderr, "saeg: pipeline: %s\n", plan);
    struct sg_run_result r;
    if (sg_run_pipeline(&a.o, &r) != SG_OK) {
        fprintf(stderr, "saeg pipeline: %s\n", sg_last_error());
        return 1;
    }
    printf("run folder: %s\n", a.o.output);
    if (r.dashboard) printf("dashboard: %s\n", r.dashboard_path);
    if (r.failed_sources) {
        fprintf(stderr, "saeg pipeline: %d validation source%s failed (see %s/validation/summary.json)\n",
                r.failed_sources, r.failed_sources == 1 ? "" : "s", a.o.output);
        return 1;
    }
    return 0;
}
