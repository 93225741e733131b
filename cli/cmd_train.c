/* saeg train: an SAE on Tahoe X1 activations of an h5ad (pipeline/train.h; docs/training.md). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_dtype.h"
#include "cli/commands.h"
#include "pipeline/train.h"

static void print_help(FILE *out) {
    fprintf(out, "usage: saeg train --data X.h5ad --output DIR [--model DIR | --model-size SIZE] [options]\n"
                 "\n"
                 "Trains a sparse autoencoder on the residual stream of Tahoe X1 at one layer and writes\n"
                 "DIR/sae/ (SAELens v6: cfg.json, sae_weights.safetensors, sparsity.safetensors),\n"
                 "DIR/training_log.jsonl, DIR/eval.json and DIR/checkpoint.safetensors.\n"
                 "\n"
                 "data and model:\n"
                 "  --data FILE              the h5ad (raw counts in X)\n"
                 "  --model DIR              a model folder in the released layout\n"
                 "  --model-size SIZE        70m (default), 1.3b (1b) or 3b, found in $SAEG_MODEL_DIR,\n"
                 "                           ~/.cache/saeg/models or the Hugging Face cache\n"
                 "  --layer I                block whose residual stream is used (default: the middle one)\n"
                 "  --tokens KIND            genes (default), cls or all; padding never\n"
                 "  --max-cells N            only the first N cells\n"
                 "  --context N              tokens per cell at most (default: the model's max_length)\n"
                 "  --gene-id-key KEY        var column of Ensembl IDs (default: 'ensembl_id' or the index)\n"
                 "  --cells-per-pass N       cells per forward pass of the model (default 8)\n"
                 "  --cache-activations DIR  run the model once, keep the activations in DIR (memory-mapped\n"
                 "                           shards), and train from there; reused when it matches\n"
                 "  --cache-dtype T          bf16 (default) or f32 shards\n"
                 "\n"
                 "SAE:\n"
                 "  --architecture A         topk (default), batchtopk, jumprelu, standard,\n"
                 "                           matryoshka-batchtopk\n"
                 "  --d-sae N                latents (default 16384)\n"
                 "  -k N                     active latents per token, topk family (default 64)\n"
                 "  --aux-coef X             aux-k loss coefficient (default 1/32)\n"
                 "  --l1-coef X              standard: L1 coefficient (default 5)\n"
                 "  --l0-coef X              jumprelu: L0 coefficient (default 1)\n"
                 "  --jumprelu-loss MODE     step (default) or tanh\n"
                 "  --bandwidth X            jumprelu: straight-through kernel width (default 0.05)\n"
                 "  --matryoshka-widths LIST matryoshka: increasing prefix sizes, e.g. 1024,4096,16384\n"
                 "                           (default d_sae/8, /4, /2, d_sae)\n"
                 "\n"
                 "optimisation:\n"
                 "  --steps N                training steps (default 10000)\n"
                 "  --batch N                tokens per step (default 4096)\n"
                 "  --lr X                   learning rate (default 2e-4 / sqrt(d_sae / 16384))\n"
                 "  --warmup N               warm-up steps (default min(1000, steps/10))\n"
                 "  --dead-tokens N          a latent silent for N tokens is dead (default 10000000)\n"
                 "  --penalty-warmup N       jumprelu, standard: ramp the sparsity coefficient up over N\n"
                 "                           steps (default 5%% of the steps)\n"
                 "  --shuffle-pool N         tokens in the shuffle pool (default 8 batches)\n"
                 "  --seed N                 initialisation, shuffling, subsampling (default 0)\n"
                 "\n"
                 "run:\n"
                 "  --output DIR             the run folder (created if needed)\n"
                 "  --checkpoint-every N     checkpoint every N steps (default 1000) and at the end\n"
                 "  --resume                 continue from DIR/checkpoint.safetensors\n"
                 "  --overwrite              start afresh even if DIR holds a run (it is replaced)\n"
                 "  --log-every N            a training_log.jsonl line every N steps (default 10)\n"
                 "  --no-eval                skip the evaluation at the end\n"
                 "  --eval-tokens N          tokens for the reconstruction metrics (default 1048576)\n"
                 "  --eval-cells N           cells for loss recovered (default 64; 0 skips it)\n"
                 "  --device SPEC            auto (default), cpu, cuda[:N], vulkan[:N], opencl[:N]\n"
                 "  --dtype T                model runs: bf16 or f32 Linear weights and GEMMs (default: bf16 on CUDA, "
                 "else f32)\n"
                 "  --threads N              CPU threads (default: SAEG_THREADS or the physical cores)\n"
                 "  --progress / --no-progress  force the progress bar on or off (default: on a terminal)\n"
                 "  -h, --help               this help\n");
}

static int bad(const char *opt, const char *v, const char *want) {
    fprintf(stderr, "saeg train: %s '%s': expected %s\n", opt, v, want);
    return 2;
}

static int parse_i64(const char *opt, const char *s, int64_t min, int64_t max, int64_t *out) {
    char *end;
    errno       = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        char want[96];
        snprintf(want, sizeof want, "an integer in %" PRId64 "..%" PRId64, min, max);
        return bad(opt, s, want);
    }
    *out = v;
    return 0;
}

static int parse_f64(const char *opt, const char *s, double min, double *out) {
    char *end;
    errno    = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= min)) {
        char want[64];
        snprintf(want, sizeof want, "a number >= %g", min);
        return bad(opt, s, want);
    }
    *out = v;
    return 0;
}

enum {
    O_DATA = 256,
    O_MODEL,
    O_MODEL_SIZE,
    O_OUTPUT,
    O_STEPS,
    O_MAX_CELLS,
    O_LAYER,
    O_TOKENS,
    O_ARCH,
    O_D_SAE,
    O_LR,
    O_BATCH,
    O_SEED,
    O_DEVICE,
    O_DTYPE,
    O_THREADS,
    O_CKPT,
    O_RESUME,
    O_OVERWRITE,
    O_CACHE,
    O_CACHE_DTYPE,
    O_GENE_KEY,
    O_CONTEXT,
    O_CELLS_PASS,
    O_WARMUP,
    O_DEAD,
    O_POOL,
    O_LOG_EVERY,
    O_NO_EVAL,
    O_EVAL_TOKENS,
    O_EVAL_CELLS,
    O_L1,
    O_L0,
    O_JR_LOSS,
    O_BANDWIDTH,
    O_AUX,
    O_WIDTHS,
    O_PROGRESS,
    O_NO_PROGRESS,
    O_PEN_WARMUP,
};

struct pending { /* SAE options applied once the architecture is known */
    double aux, l1, l0, bandwidth;
    const char *jr_loss, *widths;
    int64_t k, d_sae;
    const char *arch;
};

static int apply_sae(struct sg_train_opts *o, const struct pending *p) {
    enum sg_sae_arch arch = SG_SAE_TOPK;
    if (p->arch && sg_sae_arch_parse(p->arch, &arch) != SG_OK) {
        fprintf(stderr, "saeg train: --architecture: %s\n", sg_last_error());
        return 2;
    }
    sg_sae_config_default(&o->sae, arch, 0, p->d_sae);
    if (p->k > 0) o->sae.k = (int)p->k;
    if (p->k > p->d_sae) {
        fprintf(stderr, "saeg train: -k %" PRId64 " exceeds --d-sae %" PRId64 "\n", p->k, p->d_sae);
        return 2;
    }
    if (p->aux >= 0) o->sae.aux_coef = (float)p->aux;
    if (p->l1 >= 0) o->sae.l1_coef = (float)p->l1;
    if (p->l0 >= 0) o->sae.l0_coef = (float)p->l0;
    if (p->bandwidth > 0) o->sae.bandwidth = (float)p->bandwidth;
    if (p->jr_loss) {
        if (strcmp(p->jr_loss, "step") == 0)
            o->sae.l0_mode = SG_SAE_L0_STEP;
        else if (strcmp(p->jr_loss, "tanh") == 0)
            o->sae.l0_mode = SG_SAE_L0_TANH;
        else
            return bad("--jumprelu-loss", p->jr_loss, "step or tanh");
    }
    if (p->widths) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", p->widths);
        o->sae.n_widths = 0;
        char *save      = NULL;
        for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            int64_t w;
            if (o->sae.n_widths == SG_SAE_MAX_WIDTHS) {
                fprintf(stderr, "saeg train: --matryoshka-widths: at most %d widths\n", SG_SAE_MAX_WIDTHS);
                return 2;
            }
            if (parse_i64("--matryoshka-widths", tok, 1, p->d_sae, &w)) return 2;
            o->sae.widths[o->sae.n_widths++] = w;
        }
        if (o->sae.n_widths == 0 || o->sae.widths[o->sae.n_widths - 1] != p->d_sae) {
            if (o->sae.n_widths == SG_SAE_MAX_WIDTHS) {
                fprintf(stderr, "saeg train: --matryoshka-widths must end with --d-sae %" PRId64 "\n", p->d_sae);
                return 2;
            }
            o->sae.widths[o->sae.n_widths++] = p->d_sae; /* d_sae is appended, as SAELens does */
        }
    }
    o->sae.d_in = 1; /* checked for real once the model gives d_in */
    if (sg_sae_config_check(&o->sae) != SG_OK) {
        fprintf(stderr, "saeg train: %s\n", sg_last_error());
        return 2;
    }
    o->sae.d_in = 0;
    return 0;
}

static int parse_args(int argc, char **argv, struct sg_train_opts *o) {
    static const struct option opts[] = {
        {"data", required_argument, NULL, O_DATA},
        {"model", required_argument, NULL, O_MODEL},
        {"model-size", required_argument, NULL, O_MODEL_SIZE},
        {"output", required_argument, NULL, O_OUTPUT},
        {"steps", required_argument, NULL, O_STEPS},
        {"max-cells", required_argument, NULL, O_MAX_CELLS},
        {"layer", required_argument, NULL, O_LAYER},
        {"tokens", required_argument, NULL, O_TOKENS},
        {"architecture", required_argument, NULL, O_ARCH},
        {"d-sae", required_argument, NULL, O_D_SAE},
        {"lr", required_argument, NULL, O_LR},
        {"batch", required_argument, NULL, O_BATCH},
        {"seed", required_argument, NULL, O_SEED},
        {"device", required_argument, NULL, O_DEVICE},
        {"dtype", required_argument, NULL, O_DTYPE},
        {"threads", required_argument, NULL, O_THREADS},
        {"checkpoint-every", required_argument, NULL, O_CKPT},
        {"resume", no_argument, NULL, O_RESUME},
        {"overwrite", no_argument, NULL, O_OVERWRITE},
        {"cache-activations", required_argument, NULL, O_CACHE},
        {"cache-dtype", required_argument, NULL, O_CACHE_DTYPE},
        {"gene-id-key", required_argument, NULL, O_GENE_KEY},
        {"context", required_argument, NULL, O_CONTEXT},
        {"cells-per-pass", required_argument, NULL, O_CELLS_PASS},
        {"warmup", required_argument, NULL, O_WARMUP},
        {"dead-tokens", required_argument, NULL, O_DEAD},
        {"penalty-warmup", required_argument, NULL, O_PEN_WARMUP},
        {"shuffle-pool", required_argument, NULL, O_POOL},
        {"log-every", required_argument, NULL, O_LOG_EVERY},
        {"no-eval", no_argument, NULL, O_NO_EVAL},
        {"eval-tokens", required_argument, NULL, O_EVAL_TOKENS},
        {"eval-cells", required_argument, NULL, O_EVAL_CELLS},
        {"l1-coef", required_argument, NULL, O_L1},
        {"l0-coef", required_argument, NULL, O_L0},
        {"jumprelu-loss", required_argument, NULL, O_JR_LOSS},
        {"bandwidth", required_argument, NULL, O_BANDWIDTH},
        {"aux-coef", required_argument, NULL, O_AUX},
        {"matryoshka-widths", required_argument, NULL, O_WIDTHS},
        {"progress", no_argument, NULL, O_PROGRESS},
        {"no-progress", no_argument, NULL, O_NO_PROGRESS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    sg_train_opts_default(o);
    struct pending p = {.aux = -1, .l1 = -1, .l0 = -1, .bandwidth = -1, .d_sae = 16384};
    int c, rc = 0;
    int64_t v = 0;
    double x  = 0;
    optind    = 1;
    while (rc == 0 && (c = getopt_long(argc, argv, "k:h", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA: o->data = optarg; break;
        case O_MODEL: o->model = optarg; break;
        case O_MODEL_SIZE: o->model_size = optarg; break;
        case O_OUTPUT: o->output = optarg; break;
        case O_STEPS: rc = parse_i64("--steps", optarg, 1, INT64_MAX / 2, &o->steps); break;
        case O_MAX_CELLS: rc = parse_i64("--max-cells", optarg, 1, INT64_MAX, &o->max_cells); break;
        case O_LAYER:
            rc       = parse_i64("--layer", optarg, 0, 4096, &v);
            o->layer = (int)v;
            break;
        case O_TOKENS:
            if (sg_tokens_parse(optarg, &o->tokens) != SG_OK) rc = bad("--tokens", optarg, "genes, cls or all");
            break;
        case O_ARCH: p.arch = optarg; break;
        case O_D_SAE: rc = parse_i64("--d-sae", optarg, 1, INT32_MAX, &p.d_sae); break;
        case 'k': rc = parse_i64("-k", optarg, 1, INT32_MAX, &p.k); break;
        case O_LR:
            rc = parse_f64("--lr", optarg, 0, &o->lr);
            if (rc == 0 && !(o->lr > 0)) rc = bad("--lr", optarg, "a positive number");
            break;
        case O_BATCH: rc = parse_i64("--batch", optarg, 1, 1 << 24, &o->batch); break;
        case O_SEED:
            rc      = parse_i64("--seed", optarg, 0, INT64_MAX, &v);
            o->seed = (uint64_t)v;
            break;
        case O_DEVICE: o->device = optarg; break;
        case O_DTYPE: rc = cli_parse_dtype(optarg, &o->dtype); break;
        case O_THREADS:
            rc         = parse_i64("--threads", optarg, 1, 1024, &v);
            o->threads = (int)v;
            break;
        case O_CKPT: rc = parse_i64("--checkpoint-every", optarg, 1, INT64_MAX, &o->checkpoint_every); break;
        case O_RESUME: o->resume = true; break;
        case O_OVERWRITE: o->overwrite = true; break;
        case O_CACHE: o->cache_dir = optarg; break;
        case O_CACHE_DTYPE:
            if (strcmp(optarg, "bf16") == 0)
                o->cache_f32 = false;
            else if (strcmp(optarg, "f32") == 0)
                o->cache_f32 = true;
            else
                rc = bad("--cache-dtype", optarg, "bf16 or f32");
            break;
        case O_GENE_KEY: o->gene_id_key = optarg; break;
        case O_CONTEXT: rc = parse_i64("--context", optarg, 2, 1 << 20, &o->context); break;
        case O_CELLS_PASS: rc = parse_i64("--cells-per-pass", optarg, 1, 4096, &o->cells_per_pass); break;
        case O_WARMUP: rc = parse_i64("--warmup", optarg, 0, INT64_MAX, &o->warmup_steps); break;
        case O_DEAD: rc = parse_i64("--dead-tokens", optarg, 1, INT64_MAX, &o->dead_tokens); break;
        case O_PEN_WARMUP: rc = parse_i64("--penalty-warmup", optarg, 0, INT64_MAX, &o->penalty_warmup_steps); break;
        case O_POOL: rc = parse_i64("--shuffle-pool", optarg, 2, INT32_MAX, &o->pool_tokens); break;
        case O_LOG_EVERY: rc = parse_i64("--log-every", optarg, 1, INT64_MAX, &o->log_every); break;
        case O_NO_EVAL: o->eval = false; break;
        case O_EVAL_TOKENS: rc = parse_i64("--eval-tokens", optarg, 1, INT64_MAX, &o->eval_opts.max_tokens); break;
        case O_EVAL_CELLS: rc = parse_i64("--eval-cells", optarg, 0, INT64_MAX, &o->eval_opts.cells); break;
        case O_L1: rc = parse_f64("--l1-coef", optarg, 0, &p.l1); break;
        case O_L0: rc = parse_f64("--l0-coef", optarg, 0, &p.l0); break;
        case O_JR_LOSS: p.jr_loss = optarg; break;
        case O_BANDWIDTH:
            rc = parse_f64("--bandwidth", optarg, 0, &x);
            if (rc == 0 && !(x > 0)) rc = bad("--bandwidth", optarg, "a positive number");
            p.bandwidth = x;
            break;
        case O_AUX: rc = parse_f64("--aux-coef", optarg, 0, &p.aux); break;
        case O_WIDTHS: p.widths = optarg; break;
        case O_PROGRESS: o->progress = 1; break;
        case O_NO_PROGRESS: o->progress = 0; break;
        case 'h': print_help(stdout); return -1;
        default: print_help(stderr); return 2;
        }
    }
    if (rc) return rc;
    if (optind < argc) {
        fprintf(stderr, "saeg train: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!o->data || !o->output) {
        fprintf(stderr, "saeg train: --data and --output are required (see saeg train --help)\n");
        return 2;
    }
    if (o->model && o->model_size) {
        fprintf(stderr, "saeg train: pass --model or --model-size, not both\n");
        return 2;
    }
    return apply_sae(o, &p);
}

int saeg_cmd_train(int argc, char **argv) {
    struct sg_train_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    struct sg_train_result r;
    sg_status st = sg_train_run(&o, &r);
    if (st != SG_OK) {
        fprintf(stderr, "saeg train: %s\n", sg_last_error());
        return 1;
    }
    printf("wrote %s/sae (SAELens v6), %s/training_log.jsonl%s: %" PRId64 " steps, %.0f tokens/s\n", o.output, o.output,
           r.have_eval ? ", eval.json" : "", r.steps_done, r.tokens_per_s);
    if (r.have_eval) {
        printf("  L0 %.2f, explained variance %.4f, dead %.2f%%", r.eval.l0, r.eval.explained_variance,
               100 * r.eval.dead_fraction);
        if (r.eval.have_loss) printf(", loss recovered %.4f", r.eval.loss_recovered);
        printf("\n");
    }
    sg_eval_result_free(&r.eval);
    return 0;
}
