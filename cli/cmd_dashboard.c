/* saeg dashboard: one self-contained HTML page from a run directory (dashboard/dashboard.h). */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/status.h"
#include "dashboard/dashboard.h"

static const char usage[] =
    "Usage: saeg dashboard --results DIR [--top-n-features N|all] [--output FILE] [--title TEXT]\n"
    "\n"
    "Writes one HTML file (styles, script and data inline; opening it needs no network) that shows\n"
    "the SAE features of a run ranked by activation frequency: search by gene symbol, Ensembl ID or\n"
    "feature id; per feature its top genes, top cells with their annotations, cell-type enrichment,\n"
    "activation histogram and firing frequency; training curves, evaluation and validation results.\n"
    "\n"
    "  --results DIR          run directory: feature_stats.json and feature_gene_associations.json\n"
    "                         (from saeg extract) are required; feature_cell_associations.json,\n"
    "                         training_log.jsonl, eval.json, sae/cfg.json and validation/ are shown\n"
    "                         when present\n"
    "  --top-n-features N     the N most frequently active features (default 100), or 'all'\n"
    "  --output FILE          where to write the page (default DIR/dashboard.html)\n"
    "  --title TEXT           page title (default: the name of DIR)\n"
    "  -h, --help             show this help\n"
    "\n"
    "Exit status: 0 success, 1 failure (a missing or malformed input file), 2 usage error.\n"
    "See docs/dashboard.md.\n";

enum { OPT_RESULTS = 256, OPT_TOP_N, OPT_OUTPUT, OPT_TITLE };

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "saeg dashboard: ");
    /* clang 14's analyzer loses va_start when it inlines a call without variadic arguments */
    vfprintf(stderr, fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized) */
    fprintf(stderr, "\nRun 'saeg dashboard --help' for usage.\n");
    va_end(ap);
    return 2;
}

int saeg_cmd_dashboard(int argc, char **argv) {
    static const struct option opts[] = {
        {"results", required_argument, NULL, OPT_RESULTS},
        {"top-n-features", required_argument, NULL, OPT_TOP_N},
        {"output", required_argument, NULL, OPT_OUTPUT},
        {"title", required_argument, NULL, OPT_TITLE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct sg_dashboard_opts o = {.top_n = 100};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_RESULTS: o.results_dir = optarg; break;
        case OPT_OUTPUT: o.output = optarg; break;
        case OPT_TITLE: o.title = optarg; break;
        case OPT_TOP_N:
            if (sg_dashboard_parse_top_n(optarg, &o.top_n) != SG_OK) return usage_error("%s", sg_last_error());
            break;
        case 'h': fputs(usage, stdout); return 0;
        case ':': return usage_error("%s needs a value", argv[optind - 1]);
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return usage_error("unexpected argument '%s'", argv[optind]);
    if (!o.results_dir) return usage_error("--results DIR is required");
    struct sg_dashboard_info info;
    if (sg_dashboard_write(&o, &info) != SG_OK) {
        fprintf(stderr, "saeg dashboard: %s\n", sg_last_error());
        return 1;
    }
    printf("dashboard: %s (%zu of %zu features, %zu genes, %.1f MB)\n", info.output, info.n_shown, info.n_features,
           info.n_genes, (double)info.bytes / (1 << 20));
    return 0;
}
