/* saeg extract: what each SAE feature responds to (pipeline/extract.h; docs/extract.md). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_dtype.h"
#include "cli/commands.h"
#include "pipeline/extract.h"

static void print_help(FILE *out) {
    fprintf(out,
            "usage: saeg extract --sae DIR --data X.h5ad --output DIR [--model DIR | --model-size SIZE] [options]\n"
            "\n"
            "Streams the cells through Tahoe X1 and the SAE encoder and writes, per feature, its top genes\n"
            "(activation on the gene's token x the gene's expression), its top cells with their annotations,\n"
            "cell-type enrichment, firing frequency and activation histogram:\n"
            "DIR/feature_gene_associations.json, feature_cell_associations.json, feature_stats.json.\n"
            "\n"
            "  --sae DIR              the SAE folder (cfg.json, sae_weights.safetensors), or a run folder\n"
            "                         holding sae/\n"
            "  --data FILE            the h5ad (raw counts in X)\n"
            "  --output DIR           where the files go (created if needed)\n"
            "  --model DIR            a model folder in the released layout\n"
            "  --model-size SIZE      70m, 1.3b (1b) or 3b (default: the size in the SAE's cfg.json)\n"
            "  --layer I              block whose residual stream feeds the SAE (default and only allowed\n"
            "                         value: the layer in the SAE's cfg.json)\n"
            "  --top-k-genes N        genes kept per feature (default 100)\n"
            "  --top-k-cells N        cells kept per feature (default 100)\n"
            "  --rank-by S            order of the top genes: mean (default), sum or max of\n"
            "                         activation x expression\n"
            "  --gene-id-key KEY      var column of Ensembl IDs (default: 'ensembl_id', else the index)\n"
            "  --symbol-key KEY       var column of gene symbols (default: the first of gene_short_name,\n"
            "                         feature_name, gene_symbols, gene_symbol, symbol, gene_name; 'none')\n"
            "  --cell-type-key KEY    obs column of cell types for the enrichment (default: 'cell_type'\n"
            "                         when present; 'none')\n"
            "  --max-cells N          only the first N cells\n"
            "  --context N            tokens per cell at most (default: the SAE's, else the model's)\n"
            "  --seed N               subsampling of cells longer than the context (default 0)\n"
            "  --batch N              cells per forward pass (default 8)\n"
            "  --max-codes N          non-TopK SAEs: active latents counted per token (default 1024)\n"
            "  --histogram-samples N  activations kept per feature for its histogram (default 4096): exact\n"
            "                         up to N firings, a uniform sample of N beyond\n"
            "  --write-h5ad[=FILE]    also write a copy of the input with obsm['X_sae'] (cells x features,\n"
            "                         CSR: the cell activations); default DIR/<data name>_sae.h5ad\n"
            "  --resume               continue an interrupted extraction into DIR from its checkpoint\n"
            "  --overwrite            drop an interrupted extraction's checkpoint and start afresh\n"
            "  --checkpoint-every S   seconds between checkpoints (default 600; 0: after every batch);\n"
            "                         Ctrl-C also saves one\n"
            "  --device SPEC          auto (default), cpu, cuda[:N], vulkan[:N], opencl[:N]\n"
            "  --dtype T              bf16 or f32 Linear weights and GEMMs (default: bf16 on CUDA, else f32)\n"
            "  --threads N            CPU threads (default: SAEG_THREADS or the physical cores)\n"
            "  -h, --help             this help\n"
            "\n"
            "Exit status: 0 success, 1 failure (explained on stderr), 2 usage error. See docs/extract.md.\n");
}

__attribute__((format(printf, 1, 2))) static int usage(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "saeg extract: ");
    /* clang 14's analyzer loses va_start when it inlines a call without variadic arguments */
    vfprintf(stderr, fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized) */
    fprintf(stderr, "\nRun 'saeg extract --help' for usage.\n");
    va_end(ap);
    return 2;
}

static int parse_i64(const char *opt, const char *s, int64_t min, int64_t max, int64_t *out) {
    if (!s) return usage("%s needs a value", opt);
    char *end;
    errno       = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return usage("%s '%s': expected a whole number in %" PRId64 "..%" PRId64, opt, s, min, max);
    *out = v;
    return 0;
}

enum {
    O_SAE = 256,
    O_DATA,
    O_OUTPUT,
    O_MODEL,
    O_MODEL_SIZE,
    O_LAYER,
    O_TOP_GENES,
    O_TOP_CELLS,
    O_RANK,
    O_GENE_KEY,
    O_SYMBOL_KEY,
    O_TYPE_KEY,
    O_MAX_CELLS,
    O_CONTEXT,
    O_SEED,
    O_BATCH,
    O_MAX_CODES,
    O_HIST_SAMPLES,
    O_H5AD,
    O_DEVICE,
    O_DTYPE,
    O_THREADS,
    O_RESUME,
    O_OVERWRITE,
    O_CKPT_EVERY,
};

/* --sae may name the run folder: use its sae/ */
static const char *sae_folder(const char *dir, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/cfg.json", dir);
    if (access(buf, F_OK) == 0) return dir;
    snprintf(buf, cap, "%s/sae/cfg.json", dir);
    if (access(buf, F_OK) != 0) return dir;
    snprintf(buf, cap, "%s/sae", dir);
    return buf;
}

static int parse_args(int argc, char **argv, struct sg_extract_opts *o) {
    static const struct option opts[] = {
        {"sae", required_argument, NULL, O_SAE},
        {"data", required_argument, NULL, O_DATA},
        {"output", required_argument, NULL, O_OUTPUT},
        {"model", required_argument, NULL, O_MODEL},
        {"model-size", required_argument, NULL, O_MODEL_SIZE},
        {"layer", required_argument, NULL, O_LAYER},
        {"top-k-genes", required_argument, NULL, O_TOP_GENES},
        {"top-k-cells", required_argument, NULL, O_TOP_CELLS},
        {"rank-by", required_argument, NULL, O_RANK},
        {"gene-id-key", required_argument, NULL, O_GENE_KEY},
        {"symbol-key", required_argument, NULL, O_SYMBOL_KEY},
        {"cell-type-key", required_argument, NULL, O_TYPE_KEY},
        {"max-cells", required_argument, NULL, O_MAX_CELLS},
        {"context", required_argument, NULL, O_CONTEXT},
        {"seed", required_argument, NULL, O_SEED},
        {"batch", required_argument, NULL, O_BATCH},
        {"max-codes", required_argument, NULL, O_MAX_CODES},
        {"histogram-samples", required_argument, NULL, O_HIST_SAMPLES},
        {"write-h5ad", optional_argument, NULL, O_H5AD},
        {"device", required_argument, NULL, O_DEVICE},
        {"dtype", required_argument, NULL, O_DTYPE},
        {"threads", required_argument, NULL, O_THREADS},
        {"resume", no_argument, NULL, O_RESUME},
        {"overwrite", no_argument, NULL, O_OVERWRITE},
        {"checkpoint-every", required_argument, NULL, O_CKPT_EVERY},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    sg_extract_opts_default(o);
    int c, rc = 0;
    int64_t v = 0;
    optind    = 1;
    opterr    = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_SAE: o->sae_dir = optarg; break;
        case O_DATA: o->data = optarg; break;
        case O_OUTPUT: o->output = optarg; break;
        case O_MODEL: o->model = optarg; break;
        case O_MODEL_SIZE: o->model_size = optarg; break;
        case O_LAYER:
            rc       = parse_i64("--layer", optarg, 0, 4096, &v);
            o->layer = (int)v;
            break;
        case O_TOP_GENES: rc = parse_i64("--top-k-genes", optarg, 0, 100000, &o->top_k_genes); break;
        case O_TOP_CELLS: rc = parse_i64("--top-k-cells", optarg, 0, 100000, &o->top_k_cells); break;
        case O_RANK:
            if (sg_extract_rank_parse(optarg, &o->rank_by) != SG_OK)
                rc = usage("--rank-by '%s': expected mean, sum or max", optarg);
            break;
        case O_GENE_KEY: o->gene_id_key = optarg; break;
        case O_SYMBOL_KEY: o->symbol_key = optarg; break;
        case O_TYPE_KEY: o->cell_type_key = optarg; break;
        case O_MAX_CELLS: rc = parse_i64("--max-cells", optarg, 1, INT64_MAX, &o->max_cells); break;
        case O_CONTEXT: rc = parse_i64("--context", optarg, 2, 1 << 20, &o->context); break;
        case O_SEED:
            rc      = parse_i64("--seed", optarg, 0, INT64_MAX, &v);
            o->seed = (uint64_t)v;
            break;
        case O_BATCH: rc = parse_i64("--batch", optarg, 1, 4096, &o->batch_cells); break;
        case O_MAX_CODES:
            rc           = parse_i64("--max-codes", optarg, 1, 1 << 20, &v);
            o->max_codes = (int)v;
            break;
        case O_HIST_SAMPLES:
            rc                   = parse_i64("--histogram-samples", optarg, 1, 1 << 24, &v);
            o->histogram_samples = (int32_t)v;
            break;
        case O_H5AD: o->write_h5ad = optarg ? optarg : ""; break;
        case O_DEVICE: o->device = optarg; break;
        case O_DTYPE: rc = cli_parse_dtype(optarg, &o->dtype); break;
        case O_THREADS:
            rc         = parse_i64("--threads", optarg, 1, 1024, &v);
            o->threads = (int)v;
            break;
        case O_RESUME: o->resume = true; break;
        case O_OVERWRITE: o->overwrite = true; break;
        case O_CKPT_EVERY: rc = parse_i64("--checkpoint-every", optarg, 0, INT64_MAX, &o->checkpoint_every); break;
        case 'h': print_help(stdout); return -1;
        case ':': return usage("%s needs a value", argv[optind - 1]);
        default: return usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (rc) return rc;
    if (optind < argc) return usage("unexpected argument '%s'", argv[optind]);
    if (!o->sae_dir || !o->data || !o->output) return usage("--sae, --data and --output are required");
    if (o->model && o->model_size) return usage("pass --model or --model-size, not both");
    if (o->resume && o->overwrite) return usage("pass --resume or --overwrite, not both");
    return 0;
}

int saeg_cmd_extract(int argc, char **argv) {
    struct sg_extract_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    char sae[4200];
    o.sae_dir = sae_folder(o.sae_dir, sae, sizeof sae);
    struct sg_extract_result r;
    if (sg_extract_run(&o, &r) != SG_OK) {
        fprintf(stderr, "saeg extract: %s\n", sg_last_error());
        return 1;
    }
    printf("wrote %s/feature_gene_associations.json, feature_cell_associations.json, feature_stats.json\n", o.output);
    char symbols[160], types[160];
    if (r.has_symbols)
        snprintf(symbols, sizeof symbols, "var %s", r.symbol_key[0] ? r.symbol_key : "index");
    else
        snprintf(symbols, sizeof symbols, "none (Ensembl IDs only)");
    if (r.cell_type_key[0])
        snprintf(types, sizeof types, "obs %s", r.cell_type_key);
    else
        snprintf(types, sizeof types, "none (no enrichment)");
    printf("  %" PRId64 " cells, %" PRId64 " gene tokens, layer %d: %" PRId64 " of %" PRId64
           " features active; symbols: %s; cell types: %s\n",
           r.n_cells, r.n_tokens, r.layer, r.n_alive, r.d_sae, symbols, types);
    if (r.h5ad[0]) printf("wrote %s (obsm['X_sae']: %" PRId64 " features)\n", r.h5ad, r.d_sae);
    return 0;
}
