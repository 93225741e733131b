/* Tahoe X1 (Tx1) on the engine: configuration, vocabulary, tokenizer, weights, forward graph.
 *
 *     struct tx1_model *m;
 *     if (tx1_model_load("70m-model", dev, &m) != SG_OK) die(sg_last_error());
 *
 *     struct tx1_tokenizer tk;                            // vocab lookup, binning, subsampling
 *     tx1_tokenizer_init(&tk, m, 2048, 0);
 *     struct tx1_batch *b = tx1_batch_new(8, 2048);
 *     tx1_batch_add(b, &tk, h5ad_row, gene_ids, values, n);   // gene_ids: vocab ids per entry, -1 = drop
 *
 *     struct tx1_runner *r;                               // graphs per padded length, one scheduler
 *     struct tx1_runner_opts ro = {.batch = 8, .context = 2048, .resid_layers = {5}, .n_resid = 1};
 *     tx1_runner_new(m, stream, &ro, &r);
 *     tx1_runner_run(r, b);                               // then tx1_runner_cell_emb(r), _resid(r, 0)
 *
 * The spec is ../shared/reference/tahoe_x1.md (and docs/models.md): every block is pre-LN,
 * fused-QKV attention with biases, ReLU/GELU MLP; no positions. The cell embedding is the final
 * norm's output at the CLS token, before any L2 normalisation.
 */
#ifndef SG_MODELS_TAHOE_X1_H
#define SG_MODELS_TAHOE_X1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/backend.h"
#include "core/graph.h"
#include "core/sched.h"
#include "core/status.h"
#include "core/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TX1_MAX_LAYERS     128
#define TX1_MAX_DEC_LAYERS 4

enum tx1_act { TX1_ACT_RELU = 0, TX1_ACT_GELU, TX1_ACT_LEAKY_RELU };

/* ---- configuration (model_config.yml + collator_config.yml) ----------------------------- */

struct tx1_config {
    int64_t d_model, n_layers, n_heads, d_ff, vocab_size;
    enum tx1_act act_ffn;       /* transformer_activation */
    enum tx1_act act_value;     /* expression_encoder.activation */
    enum tx1_act act_dec;       /* expression_decoder.activation */
    int n_dec_layers;           /* expression_decoder.n_layers */
    float eps;                  /* norm_config.eps */
    float value_max;            /* expression_encoder.max_value (values are clamped) */
    bool gene_norm;             /* gene_encoder.use_norm */
    bool value_norm;            /* expression_encoder.use_norm */
    bool mvc_scaled;            /* mvc.scaled_dot_product */
    bool trained_with_gen_mask; /* attention used the generative mask in training */
    bool has_chem_encoder;      /* 3B: chemical_encoder present (ignored: drug token off) */
    /* collator */
    int64_t pad_token_id;
    float pad_value;
    int num_bins;
    bool right_binning;
    int64_t max_length;
};

/* Reads and checks both YAML files of a released model folder. */
sg_status tx1_config_load(const char *model_cfg_path, const char *collator_cfg_path, struct tx1_config *out);
/* The architecture of a released size ("70m", "1b"/"1.3b", "3b"), for random-weight benchmarks. */
sg_status tx1_config_preset(const char *size, struct tx1_config *out);
int64_t tx1_config_n_params(const struct tx1_config *cfg);
const char *tx1_act_name(enum tx1_act act);

/* ---- vocabulary (vocab.json: {"token": id}) --------------------------------------------- */

struct tx1_vocab;
sg_status tx1_vocab_load(const char *path, struct tx1_vocab **out);
/* Builds a vocabulary from tokens in id order (tests, demo models). */
sg_status tx1_vocab_from_tokens(const char *const *tokens, int64_t n, struct tx1_vocab **out);
void tx1_vocab_free(struct tx1_vocab *v);
int64_t tx1_vocab_size(const struct tx1_vocab *v);
const char *tx1_vocab_token(const struct tx1_vocab *v, int64_t id);
/* The id of an exact token, or -1. */
int64_t tx1_vocab_lookup(const struct tx1_vocab *v, const char *token);
/* The id of a gene ID as found in data: tried as is, then without a version suffix
 * ("ENSG00000000003.10" -> "ENSG00000000003"); -1 when absent. */
int64_t tx1_vocab_lookup_gene(const struct tx1_vocab *v, const char *gene_id);

/* ---- model ------------------------------------------------------------------------------ */

/* How the Linear layers' weights are held on the device (--dtype). BF16 stores every nn.Linear
 * weight (QKV, out_proj, FFN, expression encoder/decoder, MVC) as BF16 and makes those
 * products bf16 GEMMs (both operands rounded to bf16, fp32 accumulation, f32 result: see
 * sg_matmul); embeddings, LayerNorms and biases stay F32, as under torch autocast, and so do
 * activations. AUTO is BF16 on CUDA and F32 elsewhere. */
enum tx1_dtype { TX1_DTYPE_AUTO = 0, TX1_DTYPE_F32, TX1_DTYPE_BF16 };
/* "bf16", "f32" or "auto"; a bad value fails naming `option` (e.g. "--dtype"). */
sg_status tx1_dtype_parse(const char *s, const char *option, enum tx1_dtype *out);
const char *tx1_dtype_name(enum tx1_dtype d); /* "bf16", "f32", "auto" */
/* AUTO resolved for dev. */
enum tx1_dtype tx1_dtype_for_device(enum tx1_dtype d, const struct sg_device *dev);

struct tx1_layer {
    struct sg_tensor *norm1_w, *norm1_b;
    struct sg_tensor *wqkv, *bqkv; /* [3d, d]: rows Q, K, V; heads contiguous within each */
    struct sg_tensor *wo, *bo;
    struct sg_tensor *norm2_w, *norm2_b;
    struct sg_tensor *up_w, *up_b, *down_w, *down_b;
};

struct tx1_weights {
    struct sg_tensor *gene_emb;                  /* [V, d] */
    struct sg_tensor *gene_norm_w, *gene_norm_b; /* NULL when gene_norm is off */
    struct sg_tensor *flag;                      /* [2, d]; row 1 marks masked tokens */
    struct sg_tensor *value_w1, *value_b1;       /* [d, 1] */
    struct sg_tensor *value_w2, *value_b2;
    struct sg_tensor *value_norm_w, *value_norm_b; /* NULL when value_norm is off */
    struct tx1_layer layers[TX1_MAX_LAYERS];
    struct sg_tensor *final_norm_w, *final_norm_b;
    struct sg_tensor *dec_w[TX1_MAX_DEC_LAYERS], *dec_b[TX1_MAX_DEC_LAYERS];
    struct sg_tensor *dec_out_w, *dec_out_b;     /* [1, d] */
    struct sg_tensor *mvc_query_w, *mvc_query_b; /* gene2query */
    struct sg_tensor *mvc_w;                     /* [d, d], no bias */
};

struct tx1_model {
    struct tx1_config cfg;
    struct tx1_vocab *vocab; /* NULL for random-weight models */
    int64_t cls_id;
    struct tx1_weights w;
    struct sg_ctx *ctx; /* owns the weight tensors */
    struct sg_buffer_list bufs;
    char weights_dtype[8]; /* as stored: "F32", "BF16", "F16", or "random" */
    enum tx1_dtype dtype;  /* as held on the device (never AUTO) */
    size_t weight_bytes;   /* device memory of all weight tensors */
};

/* Loads a released model folder ({size}-model/: model.safetensors, model_config.yml,
 * collator_config.yml, vocab.json) onto `dev`. Every expected tensor is checked by name and
 * shape; missing, unexpected and misshapen ones are all named in one error. Weights are
 * converted from the file's F32/BF16/F16 to the dtype's (BF16 ones kept as they are). */
sg_status tx1_model_load_as(const char *dir, struct sg_device *dev, enum tx1_dtype dtype, struct tx1_model **out);
/* tx1_model_load_as with TX1_DTYPE_AUTO. */
sg_status tx1_model_load(const char *dir, struct sg_device *dev, struct tx1_model **out);
/* A model with deterministic random weights (LayerNorms at identity), for benchmarks. */
sg_status tx1_model_random_as(const struct tx1_config *cfg, uint64_t seed, struct sg_device *dev, enum tx1_dtype dtype,
                              struct tx1_model **out);
sg_status tx1_model_random(const struct tx1_config *cfg, uint64_t seed, struct sg_device *dev, struct tx1_model **out);
void tx1_model_free(struct tx1_model *m);

/* The safetensors key of every tensor the model holds, with its torch shape (outermost first).
 * Calls fn for each; used by the loader and the checkpoint writers of tests. */
typedef void (*tx1_key_fn)(const char *key, int n_dims, const int64_t *shape, struct sg_tensor **slot, void *user);
void tx1_weights_each(const struct tx1_config *cfg, struct tx1_weights *w, tx1_key_fn fn, void *user);

/* ---- model folder resolution ------------------------------------------------------------ */

/* --model DIR or --model-size SIZE to a folder: DIR as given; SIZE ("70m", "1b" or "1.3b",
 * "3b") looked up as <root>/<size>-model in $SAEG_MODEL_DIR, ~/.cache/saeg/models, and the
 * Hugging Face cache (~/.cache/huggingface/hub/models--tahoebio--Tahoe-x1/snapshots/<rev>/,
 * honouring $HF_HUB_CACHE and $HF_HOME). The error lists every place tried. */
sg_status tx1_resolve_model(const char *model_dir, const char *model_size, char *out, size_t cap);
/* Canonical folder size name ("1.3b" -> "1b"), or NULL for an unknown size. */
const char *tx1_size_folder(const char *size);
/* Where `saeg fetch-model` stores sizes by default: $SAEG_MODEL_DIR or ~/.cache/saeg/models. */
sg_status tx1_default_model_root(char *out, size_t cap);

/* ---- genes of an h5ad ------------------------------------------------------------------- */

struct sg_h5ad;
struct tx1_gene_map {
    int32_t *ids; /* vocabulary id of each var entry, -1 when absent */
    int64_t n_var, n_matched;
    char key[128]; /* var column used; "" for the index */
};
/* Reads var[gene_id_key] (NULL: 'ensembl_id' when present, else the var index) and looks each
 * gene up. Fails, naming the columns that exist, when an explicit key is missing; fails with
 * examples from both sides when no gene matches. */
sg_status tx1_gene_map_build(const struct tx1_vocab *v, struct sg_h5ad *h, const char *gene_id_key,
                             struct tx1_gene_map *out);
void tx1_gene_map_free(struct tx1_gene_map *m);

/* ---- tokenizer -------------------------------------------------------------------------- */

/* GRADES of the reference: torch.linspace(0, 1, n, dtype=float32), n <= 1024. */
void tx1_linspace_f32(int n, float *out);
/* Per-cell quantile binning exactly as the reference (torch float32 quantile with linear
 * interpolation, bucketize, +1 for left binning): quantiles over the nonzero values when any
 * value is <= 0 (zeros then map to bin 0, i.e. 1 after the shift). `scratch` holds 2n floats. */
void tx1_bin_values(const float *x, int64_t n, int num_bins, bool right, float *out, float *scratch);

struct tx1_tokenizer {
    int64_t cls_id, pad_id;
    float pad_value;
    int num_bins;
    bool right_binning;
    int64_t context; /* tokens per cell at most, CLS included */
    uint64_t seed;   /* subsampling of cells with more genes than context - 1 */
};
void tx1_tokenizer_init(struct tx1_tokenizer *tk, const struct tx1_model *m, int64_t context, uint64_t seed);
/* Tokens a cell with n stored vocabulary genes becomes (CLS included). */
int64_t tx1_tokenizer_count(const struct tx1_tokenizer *tk, int64_t n_genes);

/* Cells ready for the graph, padded to the longest. Arrays are [batch][seq], row-major. */
struct tx1_batch {
    int64_t cap_batch, cap_seq;
    int64_t n_cells; /* filled so far */
    int64_t seq;     /* longest cell (tokens) */
    int32_t *ids;
    float *values;
    int32_t *key_mask; /* enum sg_attn_key */
    float *gen;        /* 1 where the token is masked (generative); 0 at inference */
    int64_t *cell;     /* h5ad row of each cell */
    int64_t *len;      /* tokens of each cell */
    int32_t *entry;    /* the input entry (index into tx1_batch_add's gene_ids/values) of each gene
                          token; -1 for CLS and padding */
    /* private scratch */
    float *scratch;
    int64_t *pick;
};
struct tx1_batch *tx1_batch_new(int64_t cap_batch, int64_t cap_seq);
void tx1_batch_free(struct tx1_batch *b);
void tx1_batch_clear(struct tx1_batch *b);
/* Tokenizes one cell: gene_ids[i] is the vocabulary id of stored entry i (-1: not in the
 * vocabulary, dropped), values[i] its value, in stored order. Fails on a non-finite value. */
sg_status tx1_batch_add(struct tx1_batch *b, const struct tx1_tokenizer *tk, int64_t cell, const int32_t *gene_ids,
                        const float *values, int64_t n);

/* ---- forward graph ---------------------------------------------------------------------- */

struct tx1_graph_opts {
    int64_t batch, seq;
    bool generative;            /* gen input: masked tokens' values zeroed, flag added,
                                   and they are SELF keys in the key mask */
    bool heads;                 /* expression and MVC predictions */
    bool resid[TX1_MAX_LAYERS]; /* residual stream after block i as an output */
    bool splice;                /* the residual stream after block splice_layer is the input
                                   `splice` instead (SAE evaluation: reconstruction or ablation) */
    int splice_layer;
};

struct tx1_graph {
    struct sg_ctx *ctx;
    struct sg_graph *graph;
    int64_t batch, seq;
    /* inputs */
    struct sg_tensor *ids;      /* I32 [S, B] */
    struct sg_tensor *values;   /* F32 [1, S, B] */
    struct sg_tensor *key_mask; /* I32 [S, B] */
    struct sg_tensor *gen;      /* F32 [1, S, B], only with opts.generative */
    struct sg_tensor *splice;   /* F32 [d, S, B], only with opts.splice */
    /* outputs */
    struct sg_tensor *cell_emb;              /* [d, B] */
    struct sg_tensor *resid[TX1_MAX_LAYERS]; /* [d, S, B] where requested */
    struct sg_tensor *expr_pred;             /* [1, S, B] with heads */
    struct sg_tensor *mvc_pred;              /* [1, S, B] with heads */
};

sg_status tx1_graph_build(const struct tx1_model *m, const struct tx1_graph_opts *opts, struct tx1_graph **out);
void tx1_graph_free(struct tx1_graph *g);

/* ---- runner: batches through cached graphs ----------------------------------------------- */

struct tx1_runner_opts {
    int64_t batch, context;
    bool generative, heads;
    int n_resid;
    int resid_layers[TX1_MAX_LAYERS];
};

struct tx1_runner;
sg_status tx1_runner_new(const struct tx1_model *m, struct sg_stream *stream, const struct tx1_runner_opts *opts,
                         struct tx1_runner **out);
void tx1_runner_free(struct tx1_runner *r);
/* Runs the batch (padded to a multiple of 64 tokens, at most context) and copies the outputs
 * to host memory, readable until the next run. */
sg_status tx1_runner_run(struct tx1_runner *r, const struct tx1_batch *b);
int64_t tx1_runner_seq(const struct tx1_runner *r);               /* padded length of the last run */
const float *tx1_runner_cell_emb(const struct tx1_runner *r);     /* [n_cells][d] */
const float *tx1_runner_resid(const struct tx1_runner *r, int i); /* i-th requested layer: [cell][seq][d] */
const float *tx1_runner_expr_pred(const struct tx1_runner *r);    /* [cell][seq] */
const float *tx1_runner_mvc_pred(const struct tx1_runner *r);
/* Scheduler statistics of the last graph (memory). */
sg_status tx1_runner_stats(const struct tx1_runner *r, struct sg_sched_stats *out);

#ifdef __cplusplus
}
#endif

#endif
