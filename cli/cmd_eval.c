/* saeg eval: an SAE (SAELens v6 folder) against Tahoe X1 activations of an h5ad: reconstruction
 * and sparsity metrics and loss recovered, written to eval.json (pipeline/eval.h). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_dtype.h"
#include "cli/commands.h"
#include "core/log.h"
#include "pipeline/dist.h"
#include "pipeline/eval.h"

struct eval_args {
    const char *sae, *data, *model, *model_size, *output, *device, *gene_id_key, *tokens;
    enum tx1_dtype dtype;
    int64_t max_cells, context, cells_per_pass, seed;
    int layer, threads;
    struct sg_eval_opts eo;
};

static void print_help(FILE *out) {
    fprintf(out, "usage: saeg eval --sae DIR --data X.h5ad [--model DIR | --model-size SIZE] [options]\n"
                 "\n"
                 "Evaluates an SAE on the residual stream of Tahoe X1: L0, MSE, explained variance, cosine,\n"
                 "dead and dense fractions, the feature-density histogram, and loss recovered (the model's\n"
                 "masked-expression loss with the reconstruction spliced in, against clean and zero-ablated).\n"
                 "Writes eval.json (docs/training.md).\n"
                 "\n"
                 "  --sae DIR            an SAE folder (cfg.json, sae_weights.safetensors): topk, jumprelu,\n"
                 "                       standard\n"
                 "  --data FILE          the h5ad\n"
                 "  --model DIR          a model folder; or --model-size SIZE (default: cfg.json's, else 70m)\n"
                 "  --output FILE        where eval.json goes (default: next to DIR, DIR/../eval.json)\n"
                 "  --layer I            block to read and splice (default: cfg.json's metadata.layer)\n"
                 "  --tokens KIND        genes, cls or all (default: cfg.json's metadata.token_selection)\n"
                 "  --max-cells N        only the first N cells\n"
                 "  --context N          tokens per cell at most (default: cfg.json's, else the model's)\n"
                 "  --eval-tokens N      tokens for the reconstruction metrics (default 1048576)\n"
                 "  --eval-cells N       cells for loss recovered (default 64; 0 skips it)\n"
                 "  --batch N            tokens per SAE pass (default 4096)\n"
                 "  --cells-per-pass N   cells per model pass (default 8)\n"
                 "  --seed N             generative masks and subsampling (default 0)\n"
                 "  --gene-id-key KEY    var column of Ensembl IDs\n"
                 "  --device SPEC        auto (default), cpu, cuda[:N], vulkan[:N], opencl[:N]\n"
                 "  --dtype T            bf16 or f32 Linear weights and GEMMs (default: bf16 on CUDA, else f32)\n"
                 "  --threads N          CPU threads\n"
                 "  -h, --help           this help\n");
}

static int parse_i64(const char *opt, const char *s, int64_t min, int64_t *out) {
    char *end;
    errno       = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min) {
        fprintf(stderr, "saeg eval: %s '%s': expected an integer >= %" PRId64 "\n", opt, s, min);
        return 2;
    }
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, struct eval_args *a) {
    static const struct option opts[] = {
        {"sae", required_argument, NULL, 's'},
        {"data", required_argument, NULL, 'd'},
        {"model", required_argument, NULL, 'm'},
        {"model-size", required_argument, NULL, 'M'},
        {"output", required_argument, NULL, 'o'},
        {"layer", required_argument, NULL, 'l'},
        {"tokens", required_argument, NULL, 'T'},
        {"max-cells", required_argument, NULL, 'n'},
        {"context", required_argument, NULL, 'c'},
        {"eval-tokens", required_argument, NULL, 'e'},
        {"eval-cells", required_argument, NULL, 'C'},
        {"batch", required_argument, NULL, 'b'},
        {"cells-per-pass", required_argument, NULL, 'p'},
        {"seed", required_argument, NULL, 'S'},
        {"gene-id-key", required_argument, NULL, 'g'},
        {"device", required_argument, NULL, 'D'},
        {"dtype", required_argument, NULL, 'Y'},
        {"threads", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *a = (struct eval_args){.device = "auto", .layer = -1, .cells_per_pass = 8};
    sg_eval_opts_default(&a->eo);
    int c, rc = 0;
    int64_t v = 0;
    optind    = 1;
    while (rc == 0 && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's': a->sae = optarg; break;
        case 'd': a->data = optarg; break;
        case 'm': a->model = optarg; break;
        case 'M': a->model_size = optarg; break;
        case 'o': a->output = optarg; break;
        case 'l':
            rc       = parse_i64("--layer", optarg, 0, &v);
            a->layer = v > 4096 ? 4096 : (int)v;
            break;
        case 'T': a->tokens = optarg; break;
        case 'n': rc = parse_i64("--max-cells", optarg, 1, &a->max_cells); break;
        case 'c': rc = parse_i64("--context", optarg, 2, &a->context); break;
        case 'e': rc = parse_i64("--eval-tokens", optarg, 1, &a->eo.max_tokens); break;
        case 'C': rc = parse_i64("--eval-cells", optarg, 0, &a->eo.cells); break;
        case 'b': rc = parse_i64("--batch", optarg, 1, &a->eo.batch); break;
        case 'p': rc = parse_i64("--cells-per-pass", optarg, 1, &a->cells_per_pass); break;
        case 'S': rc = parse_i64("--seed", optarg, 0, &a->seed); break;
        case 'g': a->gene_id_key = optarg; break;
        case 'D': a->device = optarg; break;
        case 'Y': rc = cli_parse_dtype(optarg, &a->dtype); break;
        case 't':
            rc         = parse_i64("--threads", optarg, 1, &v);
            a->threads = v > 1024 ? 1024 : (int)v;
            break;
        case 'h': print_help(stdout); return -1;
        default: print_help(stderr); return 2;
        }
    }
    if (rc) return rc;
    if (optind < argc) {
        fprintf(stderr, "saeg eval: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!a->sae || !a->data) {
        fprintf(stderr, "saeg eval: --sae and --data are required (see saeg eval --help)\n");
        return 2;
    }
    if (a->model && a->model_size) {
        fprintf(stderr, "saeg eval: pass --model or --model-size, not both\n");
        return 2;
    }
    return 0;
}

static sg_status run(struct eval_args *a, struct sg_eval_result *r, char *out_path, size_t cap) {
    struct sg_sae_file_meta meta;
    sg_status st = sg_sae_read_meta(a->sae, &meta);
    if (st != SG_OK) return st;
    enum sg_tokens tokens;
    st = sg_tokens_parse(a->tokens ? a->tokens : meta.tokens, &tokens);
    if (st != SG_OK) return st;
    struct sg_device *dev     = NULL;
    struct sg_stream *stream  = NULL;
    struct sg_sae *sae        = NULL;
    struct sg_cells *cells    = NULL;
    struct sg_act_source *src = NULL;
    st                        = sg_backends_load();
    if (st == SG_OK) st = sg_device_select(a->device, &dev);
    if (st == SG_OK) st = sg_device_open_stream(dev, a->threads, &stream);
    if (st == SG_OK) st = sg_sae_load(a->sae, dev, &sae);
    struct sg_cells_opts co = {
        .model      = a->model,
        .model_size = a->model ? NULL : (a->model_size ? a->model_size : (meta.model_size[0] ? meta.model_size : NULL)),
        .data       = a->data,
        .gene_id_key = a->gene_id_key,
        .max_cells   = a->max_cells,
        .context     = a->context > 0 ? a->context : meta.context_size,
        .seed        = (uint64_t)a->seed,
        .device      = dev,
        .dtype       = a->dtype};
    if (st == SG_OK) st = sg_cells_open(&co, &cells);
    int layer = a->layer >= 0 ? a->layer : meta.layer;
    if (st == SG_OK && layer < 0) layer = sg_cells_default_layer(cells);
    if (st == SG_OK && sae->cfg.d_in != cells->m->cfg.d_model)
        st = sg_error(SG_ERR_INVALID_ARG, "%s: the SAE takes d_in = %lld but the model %s has width %lld", a->sae,
                      (long long)sae->cfg.d_in, cells->model_dir, (long long)cells->m->cfg.d_model);
    struct sg_act_model_opts mo = {
        .cells = cells, .layer = layer, .tokens = tokens, .batch_cells = a->cells_per_pass, .stream = stream};
    if (st == SG_OK) st = sg_act_source_model(&mo, &src);
    a->eo.batch_cells = a->cells_per_pass;
    a->eo.seed        = (uint64_t)a->seed;
    if (st == SG_OK) {
        SG_LOGI("eval: %s SAE %lld -> %lld at layer %d (%s tokens) on %s", sg_sae_arch_name(sae->cfg.arch),
                (long long)sae->cfg.d_in, (long long)sae->cfg.d_sae, layer, sg_tokens_name(tokens),
                sg_device_name(dev));
        st = sg_eval_reconstruction(sae, src, stream, &a->eo, r);
    }
    if (st == SG_OK && a->eo.cells > 0) st = sg_eval_loss_recovered(sae, cells, stream, layer, tokens, &a->eo, r);
    if (st == SG_OK) {
        if (a->output) {
            snprintf(out_path, cap, "%s", a->output);
        } else {
            char tmp[4096];
            snprintf(tmp, sizeof tmp, "%s", a->sae);
            size_t n = strlen(tmp);
            while (n > 1 && tmp[n - 1] == '/') tmp[--n] = '\0';
            snprintf(out_path, cap, "%s/eval.json", dirname(tmp));
        }
        char run_info[512];
        snprintf(run_info, sizeof run_info,
                 "{\"architecture\":\"%s\",\"d_in\":%lld,\"d_sae\":%lld,\"layer\":%d,\"tokens\":\"%s\"}",
                 sg_sae_arch_name(sae->cfg.arch), (long long)sae->cfg.d_in, (long long)sae->cfg.d_sae, layer,
                 sg_tokens_name(tokens));
        /* several ranks computed the same numbers (the model's batches were shared out) */
        if (sg_dist_rank() == 0) st = sg_eval_write_json(out_path, r, run_info);
    }
    if (src) src->free(src);
    sg_cells_close(cells);
    sg_sae_free(sae);
    sg_stream_free(stream);
    return st;
}

int saeg_cmd_eval(int argc, char **argv) {
    struct eval_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc;
    struct sg_eval_result r = {0};
    char out[4200];
    sg_status st = run(&a, &r, out, sizeof out);
    if (st != SG_OK) {
        fprintf(stderr, "saeg eval: %s\n", sg_last_error());
        sg_eval_result_free(&r);
        return 1;
    }
    printf("wrote %s: %" PRId64 " tokens, L0 %.2f, explained variance %.4f, cosine %.4f, dead %.2f%%", out, r.n_tokens,
           r.l0, r.explained_variance, r.cosine, 100 * r.dead_fraction);
    if (r.have_loss) printf(", loss recovered %.4f", r.loss_recovered);
    printf("\n");
    sg_eval_result_free(&r);
    return 0;
}
