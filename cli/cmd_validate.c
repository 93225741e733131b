/* saeg validate: biological validation of SAE features (validation/run.h does the work). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/status.h"
#include "validation/run.h"
#include "validation/sources/source.h"

#define DEFAULT_CONFIG "configs/validation/databases.yaml"

static const char usage[] =
    "Usage:\n"
    "  saeg validate --results DIR [--config FILE] [--offline] [options]\n"
    "  saeg validate --query SETS.gmt --gene-sets TERMS.gmt [--background GENES.txt] --output OUT.json\n"
    "\n"
    "Tests every SAE feature's top genes for over-representation in the configured databases\n"
    "(Open Targets, HPO, GWAS Catalog, DisGeNET, Monarch, STRING, OMIM, Orphanet, ClinVar, GenCC,\n"
    "GO, Reactome, KEGG, MSigDB gene sets): one-sided hypergeometric test, Benjamini-Hochberg\n"
    "q-values per feature and across all tests, and a null baseline of random gene sets of the\n"
    "same sizes. Writes DIR/validation/<source>.json and DIR/validation/summary.json.\n"
    "\n"
    "Results mode:\n"
    "  --results DIR        folder holding feature_gene_associations.json (from saeg extract)\n"
    "  --config FILE        databases and settings (default " DEFAULT_CONFIG ")\n"
    "  --offline            use only local bulk files; never open a network connection\n"
    "  --data-dir DIR       base folder for the config's relative file paths\n"
    "  --cache-dir DIR      shared response cache (OMIM/DisGeNET always use the user cache)\n"
    "  --no-cache           do not read or write cached API responses\n"
    "  --sources LIST       comma-separated subset, e.g. hpo,go,reactome\n"
    "  --top-n N            genes per feature taken from the ranked list (default 100)\n"
    "\n"
    "Query mode:\n"
    "  --query FILE         GMT of gene sets to test\n"
    "  --gene-sets FILE     GMT of terms to test them against\n"
    "  --output FILE        JSON report to write\n"
    "\n"
    "Both modes:\n"
    "  --background FILE    one gene per line; the universe is these genes ∩ annotated genes\n"
    "                       (default: the feature file's background_genes; in query mode,\n"
    "                       every gene of the --gene-sets file)\n"
    "  --gene-table FILE    HGNC hgnc_complete_set.txt (or org.Hs.eg.sqlite) mapping gene IDs;\n"
    "                       query mode without one matches identifiers as written\n"
    "  --min-term-size N    smallest testable term inside the universe (default 5)\n"
    "  --max-term-size N    largest testable term (default 500; 1000 for disease sources)\n"
    "  --min-overlap N      smallest overlap listed in the report (default 2)\n"
    "  --fdr Q              significance threshold on q-values (default 0.05)\n"
    "  --null-repeats N     random gene sets per feature for the null baseline (default 1, 0 = none)\n"
    "  --seed N             seed of the null baseline (default 42)\n"
    "  -h, --help           show this help\n"
    "\n"
    "API keys (DISGENET_API_KEY, OMIM_API_KEY, NCBI_API_KEY) are read from the environment or\n"
    "./.env and are never logged or written. Exit status: 0 success, 1 failure (including any\n"
    "source that failed), 2 usage error. See docs/validation.md.\n";

enum {
    OPT_RESULTS = 256,
    OPT_CONFIG,
    OPT_OFFLINE,
    OPT_DATA_DIR,
    OPT_CACHE_DIR,
    OPT_NO_CACHE,
    OPT_SOURCES,
    OPT_TOP_N,
    OPT_QUERY,
    OPT_GENE_SETS,
    OPT_OUTPUT,
    OPT_BACKGROUND,
    OPT_GENE_TABLE,
    OPT_MIN_TERM,
    OPT_MAX_TERM,
    OPT_MIN_OVERLAP,
    OPT_FDR,
    OPT_NULL_REPEATS,
    OPT_SEED,
};

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "saeg validate: ");
    /* clang 14's analyzer loses va_start when it inlines a call without variadic arguments */
    vfprintf(stderr, fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized) */
    fprintf(stderr, "\nRun 'saeg validate --help' for usage.\n");
    va_end(ap);
    return 2;
}

static int parse_count(const char *s, long max, long *out) {
    char *end;
    errno  = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > max) return 0;
    *out = v;
    return 1;
}

int saeg_cmd_validate(int argc, char **argv) {
    static const struct option opts[] = {
        {"results", required_argument, NULL, OPT_RESULTS},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"offline", no_argument, NULL, OPT_OFFLINE},
        {"data-dir", required_argument, NULL, OPT_DATA_DIR},
        {"cache-dir", required_argument, NULL, OPT_CACHE_DIR},
        {"no-cache", no_argument, NULL, OPT_NO_CACHE},
        {"sources", required_argument, NULL, OPT_SOURCES},
        {"top-n", required_argument, NULL, OPT_TOP_N},
        {"query", required_argument, NULL, OPT_QUERY},
        {"gene-sets", required_argument, NULL, OPT_GENE_SETS},
        {"output", required_argument, NULL, OPT_OUTPUT},
        {"background", required_argument, NULL, OPT_BACKGROUND},
        {"gene-table", required_argument, NULL, OPT_GENE_TABLE},
        {"min-term-size", required_argument, NULL, OPT_MIN_TERM},
        {"max-term-size", required_argument, NULL, OPT_MAX_TERM},
        {"min-overlap", required_argument, NULL, OPT_MIN_OVERLAP},
        {"fdr", required_argument, NULL, OPT_FDR},
        {"null-repeats", required_argument, NULL, OPT_NULL_REPEATS},
        {"seed", required_argument, NULL, OPT_SEED},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct sgv_run_opts o = sgv_run_opts_default();
    optind                = 1;
    opterr                = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        long *count = NULL, max = INT_MAX;
        switch (c) {
        case 'h': fputs(usage, stdout); return 0;
        case OPT_RESULTS: o.results_dir = optarg; break;
        case OPT_CONFIG: o.config_path = optarg; break;
        case OPT_OFFLINE: o.offline = 1; break;
        case OPT_DATA_DIR: o.data_dir = optarg; break;
        case OPT_CACHE_DIR: o.cache_dir = optarg; break;
        case OPT_NO_CACHE: o.no_cache = 1; break;
        case OPT_SOURCES: o.sources = optarg; break;
        case OPT_QUERY: o.query_gmt = optarg; break;
        case OPT_GENE_SETS: o.gene_sets = optarg; break;
        case OPT_OUTPUT: o.output = optarg; break;
        case OPT_BACKGROUND: o.background = optarg; break;
        case OPT_GENE_TABLE: o.gene_table = optarg; break;
        case OPT_TOP_N: count = &o.top_n; break;
        case OPT_MIN_TERM: count = &o.min_term; break;
        case OPT_MAX_TERM: count = &o.max_term; break;
        case OPT_MIN_OVERLAP: count = &o.min_overlap; break;
        case OPT_NULL_REPEATS:
            count = &o.null_repeats;
            max   = 1000;
            break;
        case OPT_SEED:
            count = &o.seed;
            max   = LONG_MAX;
            break;
        case OPT_FDR: {
            char *end;
            errno = 0;
            o.fdr = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(o.fdr > 0 && o.fdr < 1))
                return usage_error("--fdr: '%s' is not a number between 0 and 1", optarg);
            break;
        }
        case ':': return usage_error("%s needs a value", argv[optind - 1]);
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
        if (count && !parse_count(optarg, max, count))
            return usage_error("%s: '%s' is not a whole number >= 0 in range", argv[optind - 1], optarg);
    }
    if (optind < argc) return usage_error("unexpected argument '%s'", argv[optind]);
    for (const char *p = o.sources; p && *p;) {
        size_t len = strcspn(p, ",");
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), p);
        if (!sgv_source_find(name)) return usage_error("--sources: unknown source '%s'", name);
        p += len + (p[len] == ',');
    }
    int query = o.query_gmt || o.gene_sets || o.output;
    if (o.results_dir && query) return usage_error("--results cannot be combined with --query/--gene-sets/--output");
    if (!o.results_dir && !query) return usage_error("give --results DIR, or --query with --gene-sets and --output");
    if (query && (!o.query_gmt || !o.gene_sets || !o.output))
        return usage_error("query mode needs all of --query, --gene-sets and --output");
    if (o.results_dir && !o.config_path) {
        if (access(DEFAULT_CONFIG, R_OK) != 0)
            return usage_error("no --config given and %s is not in the current folder", DEFAULT_CONFIG);
        o.config_path = DEFAULT_CONFIG;
    }
    int failed   = 0;
    sg_status st = sgv_run(&o, &failed);
    if (st != SG_OK) {
        fprintf(stderr, "saeg validate: %s\n", sg_last_error());
        return 1;
    }
    if (failed) {
        fprintf(stderr, "saeg validate: %d source%s failed (see %s/validation/summary.json)\n", failed,
                failed == 1 ? "" : "s", o.results_dir);
        return 1;
    }
    return 0;
}
