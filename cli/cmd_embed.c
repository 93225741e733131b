/* saeg embed: cells of an h5ad through Tahoe X1; writes cell embeddings and, per requested
 * layer, the residual stream of every token (the SAE's training data) to embeddings.safetensors.
 * The file format is described in docs/embed.md. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_dtype.h"
#include "core/fs.h"
#include "cli/commands.h"
#include "cli/embed_resume.h"
#include "core/log.h"
#include "io/h5ad.h"
#include "io/safetensors.h"
#include "models/tahoe_x1.h"
#include "pipeline/dist.h"

struct embed_args {
    const char *model, *model_size, *data, *output, *device, *gene_id_key, *cell_type_key;
    enum tx1_dtype dtype;
    int64_t batch, context, max_cells;
    int64_t sync_every; /* seconds between progress records */
    bool resume, overwrite;
    uint64_t seed;
    int threads;
    int n_layers;
    int layers[TX1_MAX_LAYERS];
};

static void print_help(FILE *out) {
    fprintf(out, "usage: saeg embed --data X.h5ad --output DIR [--model DIR | --model-size SIZE] [options]\n"
                 "\n"
                 "Runs every cell of X.h5ad through Tahoe X1 and writes DIR/embeddings.safetensors:\n"
                 "cell_emb [n_cells, d_model] (the CLS token after the final LayerNorm, not L2-normalised)\n"
                 "and, for each --layer I, resid.I [n_tokens, d_model] (residual stream after block I) with\n"
                 "token_cell and token_gene [n_tokens] (h5ad row and vocabulary id; CLS first per cell).\n"
                 "\n"
                 "  --model DIR          a model folder in the released layout (model.safetensors,\n"
                 "                       model_config.yml, collator_config.yml, vocab.json)\n"
                 "  --model-size SIZE    70m (default), 1.3b (1b) or 3b, found in $SAEG_MODEL_DIR,\n"
                 "                       ~/.cache/saeg/models or the Hugging Face cache\n"
                 "  --data FILE          the h5ad file (expression values in X; raw counts expected)\n"
                 "  --output DIR         where embeddings.safetensors goes (created if needed)\n"
                 "  --layer I            also write the residual stream after block I (repeatable, or\n"
                 "                       a list: --layer 4,8); blocks count from 0\n"
                 "  --batch N            cells per forward pass (default 8)\n"
                 "  --context N          tokens per cell at most, CLS included (default 2048); cells with\n"
                 "                       more genes keep a seeded random subset\n"
                 "  --seed N             seed of that subset (default 0)\n"
                 "  --max-cells N        only the first N cells\n"
                 "  --gene-id-key KEY    var column of Ensembl gene IDs (default: 'ensembl_id' when\n"
                 "                       present, else the var index); version suffixes are ignored\n"
                 "  --cell-type-key KEY  obs column of cell labels to store as cell_type codes (default:\n"
                 "                       'cell_type' when present)\n"
                 "  --resume             continue an interrupted run into DIR (same data, model and\n"
                 "                       options) from the last recorded cell\n"
                 "  --overwrite          replace DIR/embeddings.safetensors or an interrupted run\n"
                 "  --sync-every SECONDS how often the cells written so far are made durable and\n"
                 "                       recorded for --resume (default 60; 0: after every batch)\n"
                 "  --device SPEC        auto (default), cpu, cuda[:N], vulkan[:N], opencl[:N]\n"
                 "  --dtype T            bf16 or f32 Linear weights and GEMMs (default: bf16 on CUDA, else f32)\n"
                 "  --threads N          CPU threads (default: SAEG_THREADS or the physical cores)\n"
                 "  -h, --help           this help\n");
}

/* max bounds what the option is stored in (an int), so a large value is refused, not truncated */
static int parse_int(const char *opt, const char *s, int64_t min, int64_t max, int64_t *out) {
    char *end;
    errno       = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        fprintf(stderr, "saeg embed: %s '%s': expected an integer in %" PRId64 "..%" PRId64 "\n", opt, s, min, max);
        return 2;
    }
    *out = v;
    return 0;
}

static int parse_layers(const char *s, struct embed_args *a) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        int64_t v;
        if (parse_int("--layer", tok, 0, INT_MAX, &v)) return 2;
        if (a->n_layers == TX1_MAX_LAYERS) {
            fprintf(stderr, "saeg embed: too many --layer values\n");
            return 2;
        }
        bool dup = false;
        for (int i = 0; i < a->n_layers; i++) dup |= a->layers[i] == v;
        if (!dup) a->layers[a->n_layers++] = (int)v;
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct embed_args *a) {
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},
        {"model-size", required_argument, NULL, 'M'},
        {"data", required_argument, NULL, 'd'},
        {"output", required_argument, NULL, 'o'},
        {"layer", required_argument, NULL, 'l'},
        {"batch", required_argument, NULL, 'b'},
        {"context", required_argument, NULL, 'c'},
        {"seed", required_argument, NULL, 's'},
        {"max-cells", required_argument, NULL, 'n'},
        {"gene-id-key", required_argument, NULL, 'g'},
        {"cell-type-key", required_argument, NULL, 't'},
        {"device", required_argument, NULL, 'D'},
        {"dtype", required_argument, NULL, 'Y'},
        {"threads", required_argument, NULL, 'T'},
        {"resume", no_argument, NULL, 'R'},
        {"overwrite", no_argument, NULL, 'O'},
        {"sync-every", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *a = (struct embed_args){.batch = 8, .context = 2048, .max_cells = -1, .sync_every = 60, .device = "auto"};
    int c, rc = 0;
    int64_t v = 0;
    optind    = 1;
    while (rc == 0 && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': a->model = optarg; break;
        case 'M': a->model_size = optarg; break;
        case 'd': a->data = optarg; break;
        case 'o': a->output = optarg; break;
        case 'l': rc = parse_layers(optarg, a); break;
        case 'b': rc = parse_int("--batch", optarg, 1, INT64_MAX, &a->batch); break;
        case 'c': rc = parse_int("--context", optarg, 2, INT64_MAX, &a->context); break;
        case 's':
            rc      = parse_int("--seed", optarg, 0, INT64_MAX, &v);
            a->seed = (uint64_t)v;
            break;
        case 'n': rc = parse_int("--max-cells", optarg, 1, INT64_MAX, &a->max_cells); break;
        case 'g': a->gene_id_key = optarg; break;
        case 't': a->cell_type_key = optarg; break;
        case 'D': a->device = optarg; break;
        case 'Y': rc = cli_parse_dtype(optarg, &a->dtype); break;
        case 'T':
            rc         = parse_int("--threads", optarg, 1, INT_MAX, &v);
            a->threads = (int)v;
            break;
        case 'R': a->resume = true; break;
        case 'O': a->overwrite = true; break;
        case 'S': rc = parse_int("--sync-every", optarg, 0, INT_MAX, &a->sync_every); break;
        case 'h': print_help(stdout); return -1;
        default: print_help(stderr); return 2;
        }
    }
    if (rc) return rc;
    if (optind < argc) {
        fprintf(stderr, "saeg embed: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!a->data || !a->output) {
        fprintf(stderr, "saeg embed: --data and --output are required (see saeg embed --help)\n");
        return 2;
    }
    if (a->model && a->model_size) {
        fprintf(stderr, "saeg embed: pass --model or --model-size, not both\n");
        return 2;
    }
    if (a->resume && a->overwrite) {
        fprintf(stderr, "saeg embed: pass --resume or --overwrite, not both\n");
        return 2;
    }
    return 0;
}

/* ---- the run ----------------------------------------------------------------------------- */

struct embed_run {
    struct embed_args a;
    struct tx1_model *m;
    struct sg_h5ad *h;
    struct tx1_gene_map genes;
    struct tx1_tokenizer tk;
    int64_t n_cells, n_tokens;
    int64_t lo, hi;     /* this rank's cells (all of them in one process) */
    int64_t *tok_off;   /* first token in resid.* of each cell in [lo, hi] */
    int32_t *cell_type; /* codes, or NULL */
    char *categories;   /* JSON array of the cell_type labels */
    struct sg_st_writer *w;
    struct sg_h5ad_rows rows;
    int32_t *gid; /* vocabulary id per stored entry of the chunk */
    int64_t gid_cap;
    int32_t *token_cell; /* [context]: one cell's row, repeated */
    enum embed_start start;
    int64_t next;         /* this rank's first row not yet written */
    bool recorded;        /* a progress record exists: keep the .tmp file on failure */
    char model_dir[1024]; /* the model folder --model or --model-size resolved to */
};

/* Reads rows [r0, r0 + n) and maps their columns to vocabulary ids. */
static sg_status read_chunk(struct embed_run *e, int64_t r0, int64_t n) {
    sg_status st = sg_h5ad_read_rows(e->h, r0, n, &e->rows);
    if (st != SG_OK) return st;
    if (e->rows.nnz > e->gid_cap) {
        int32_t *g = realloc(e->gid, (size_t)e->rows.nnz * sizeof *g);
        if (!g) return sg_error(SG_ERR_NO_MEMORY, "out of memory for %" PRId64 " values", e->rows.nnz);
        e->gid     = g;
        e->gid_cap = e->rows.nnz;
    }
    for (int64_t p = 0; p < e->rows.nnz; p++) e->gid[p] = e->genes.ids[e->rows.cols[p]];
    return SG_OK;
}

/* First pass: tokens per cell, so the output's header (all shapes) can be written up front. Each
 * rank counts its own cells; the ranks before it say where its tokens start. */
static sg_status count_tokens(struct embed_run *e, int64_t step) {
    e->tok_off = malloc(((size_t)(e->hi - e->lo) + 1) * sizeof *e->tok_off);
    if (!e->tok_off) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    int64_t total = 0, empty = 0, cut = 0;
    for (int64_t r0 = e->lo; r0 < e->hi; r0 += step) {
        sg_status st = read_chunk(e, r0, r0 + step < e->hi ? step : e->hi - r0);
        if (st != SG_OK) return st;
        for (int64_t i = 0; i < e->rows.n_rows; i++) {
            int64_t n = 0;
            for (int64_t p = e->rows.indptr[i]; p < e->rows.indptr[i + 1]; p++) n += e->gid[p] >= 0;
            e->tok_off[r0 + i - e->lo] = total;
            total += tx1_tokenizer_count(&e->tk, n);
            empty += n == 0;
            cut += 1 + n > e->tk.context;
        }
    }
    e->tok_off[e->hi - e->lo] = total;
    const int size = sg_dist_size(), rank = sg_dist_rank();
    int64_t *counts = calloc((size_t)size + 2, sizeof *counts);
    if (!counts) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    counts[rank]     = total;
    counts[size]     = empty;
    counts[size + 1] = cut;
    sg_status st     = sg_dist_allreduce_i64(counts, size + 2);
    int64_t base = 0, all = 0;
    for (int i = 0; i < size; i++) {
        base += i < rank ? counts[i] : 0;
        all += counts[i];
    }
    empty = counts[size];
    cut   = counts[size + 1];
    free(counts);
    if (st != SG_OK) return st;
    for (int64_t i = 0; i <= e->hi - e->lo; i++) e->tok_off[i] += base;
    e->n_tokens = all;
    if (empty) SG_LOGW("embed: %" PRId64 " cells have no gene in the vocabulary (only their CLS token is fed)", empty);
    if (cut)
        SG_LOGI("embed: %" PRId64 " cells have more than %" PRId64 " genes; a seeded random subset of each is fed", cut,
                e->tk.context - 1);
    return SG_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* obs labels as codes into the sorted distinct labels; "" (missing) is -1. */
static sg_status read_cell_types(struct embed_run *e) {
    const char *key = e->a.cell_type_key;
    if (!key && sg_h5ad_has_column(e->h, SG_H5AD_OBS, "cell_type")) key = "cell_type";
    if (!key) return SG_OK;
    if (!sg_h5ad_has_column(e->h, SG_H5AD_OBS, key)) {
        char cols[1024];
        sg_h5ad_column_list(e->h, SG_H5AD_OBS, cols, sizeof cols);
        return sg_error(SG_ERR_NOT_FOUND,
                        "%s: obs has no column '%s' (columns: %s); pass --cell-type-key with one of them", e->a.data,
                        key, cols);
    }
    struct sg_h5ad_strings s = {0};
    sg_status st             = sg_h5ad_column_strings(e->h, SG_H5AD_OBS, key, &s);
    if (st != SG_OK) return st;
    char **sorted = malloc(((size_t)e->n_cells + 1) * sizeof *sorted);
    e->cell_type  = malloc(((size_t)e->n_cells + 1) * sizeof *e->cell_type);
    if (!sorted || !e->cell_type) {
        free(sorted);
        sg_h5ad_strings_free(&s);
        return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    }
    memcpy(sorted, s.s, (size_t)e->n_cells * sizeof *sorted);
    qsort(sorted, (size_t)e->n_cells, sizeof *sorted, cmp_str);
    int64_t n_cat = 0;
    for (int64_t i = 0; i < e->n_cells; i++)
        if (sorted[i][0] && (n_cat == 0 || strcmp(sorted[n_cat - 1], sorted[i]) != 0)) sorted[n_cat++] = sorted[i];
    size_t len = 2;
    for (int64_t i = 0; i < n_cat; i++) len += 2 * strlen(sorted[i]) + 4;
    e->categories = malloc(len + 1);
    if (e->categories) {
        /* a JSON array of strings; quotes and backslashes escaped */
        char *p = e->categories;
        *p++    = '[';
        for (int64_t i = 0; i < n_cat; i++) {
            if (i) *p++ = ',';
            *p++ = '"';
            for (const char *q = sorted[i]; *q; q++) {
                if (*q == '"' || *q == '\\') *p++ = '\\';
                *p++ = (char)((unsigned char)*q < 0x20 ? ' ' : *q);
            }
            *p++ = '"';
        }
        *p++ = ']';
        *p   = '\0';
    }
    for (int64_t i = 0; i < e->n_cells; i++) {
        e->cell_type[i] = -1;
        if (!s.s[i][0]) continue;
        int64_t lo = 0, hi = n_cat;
        while (lo < hi) {
            int64_t mid = (lo + hi) / 2;
            if (strcmp(sorted[mid], s.s[i]) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        e->cell_type[i] = (int32_t)lo;
    }
    SG_LOGI("embed: cell types from obs column '%s': %" PRId64 " labels", key, n_cat);
    free(sorted);
    sg_h5ad_strings_free(&s);
    return e->categories ? SG_OK : sg_error(SG_ERR_NO_MEMORY, "out of memory");
}

enum { T_CELL_EMB = 0, T_TOKEN_CELL, T_TOKEN_GENE, T_CELL_TYPE, T_RESID };

static sg_status open_output(struct embed_run *e, int *idx) {
    struct sg_st_decl decls[4 + TX1_MAX_LAYERS];
    char names[TX1_MAX_LAYERS][32];
    int n           = 0;
    const int64_t d = e->m->cfg.d_model;
    idx[T_CELL_EMB] = n;
    decls[n++]      = (struct sg_st_decl){"cell_emb", SG_ST_F32, 2, {e->n_cells, d}};
    for (int i = T_TOKEN_CELL; i < T_RESID + TX1_MAX_LAYERS; i++) idx[i] = -1; /* tensors not written */
    if (e->a.n_layers) {
        idx[T_TOKEN_CELL] = n;
        decls[n++]        = (struct sg_st_decl){"token_cell", SG_ST_I32, 1, {e->n_tokens}};
        idx[T_TOKEN_GENE] = n;
        decls[n++]        = (struct sg_st_decl){"token_gene", SG_ST_I32, 1, {e->n_tokens}};
    }
    if (e->cell_type) {
        idx[T_CELL_TYPE] = n;
        decls[n++]       = (struct sg_st_decl){"cell_type", SG_ST_I32, 1, {e->n_cells}};
    }
    char layers[600] = "";
    size_t len       = 0;
    for (int i = 0; i < e->a.n_layers; i++) {
        snprintf(names[i], sizeof names[i], "resid.%d", e->a.layers[i]);
        idx[T_RESID + i] = n;
        decls[n++]       = (struct sg_st_decl){names[i], SG_ST_F32, 2, {e->n_tokens, d}};
        len += (size_t)snprintf(layers + len, sizeof layers - len, "%s%d", i ? "," : "", e->a.layers[i]);
    }
    char path[1100], s_ctx[32], s_seed[32], s_d[32], s_cells[32], s_tokens[32];
    snprintf(path, sizeof path, "%s/embeddings.safetensors", e->a.output);
    snprintf(s_ctx, sizeof s_ctx, "%" PRId64, e->tk.context);
    snprintf(s_seed, sizeof s_seed, "%" PRIu64, e->tk.seed);
    snprintf(s_d, sizeof s_d, "%" PRId64, d);
    snprintf(s_cells, sizeof s_cells, "%" PRId64, e->n_cells);
    snprintf(s_tokens, sizeof s_tokens, "%" PRId64, e->n_tokens);
    const char *meta[] = {"format",
                          "saeg.embeddings.v1",
                          "model",
                          e->a.model,
                          "data",
                          e->a.data,
                          "gene_id_key",
                          e->genes.key[0] ? e->genes.key : "(var index)",
                          "context",
                          s_ctx,
                          "seed",
                          s_seed,
                          "d_model",
                          s_d,
                          "n_cells",
                          s_cells,
                          "n_tokens",
                          s_tokens,
                          "layers",
                          layers,
                          "dtype", /* the Linear weights' (--dtype): a resume must use the same */
                          tx1_dtype_name(e->m->dtype),
                          "cell_emb",
                          "CLS token after the final LayerNorm, not L2-normalised",
                          e->categories ? "cell_type_categories" : NULL,
                          e->categories,
                          NULL};
    /* several ranks write one file: rank 0 creates it, the others write their cells into it */
    if (e->start == EMBED_RESUME) {
        sg_status st = sg_st_writer_reuse(path, decls, n, meta, sg_dist_rank() == 0, &e->w);
        if (st == SG_OK) return SG_OK;
        char why[1024];
        snprintf(why, sizeof why, "%s", sg_last_error());
        return sg_error(st, "--resume: %s; pass --overwrite to start afresh", why);
    }
    sg_status st = sg_dist_rank() == 0 ? sg_st_writer_open(path, decls, n, meta, &e->w) : SG_OK;
    if (st == SG_OK) st = sg_dist_barrier();
    if (st == SG_OK && sg_dist_rank() != 0) st = sg_st_writer_join(path, decls, n, meta, &e->w);
    return st;
}

static sg_status write_batch(struct embed_run *e, const struct tx1_batch *b, struct tx1_runner *r, const int *idx) {
    const int64_t d = e->m->cfg.d_model, S = tx1_runner_seq(r);
    sg_status st = SG_OK;
    for (int64_t i = 0; st == SG_OK && i < b->n_cells; i++) {
        const int64_t cell = b->cell[i], len = b->len[i], t0 = e->tok_off[cell - e->lo];
        st = sg_st_writer_put(e->w, idx[T_CELL_EMB], (size_t)(cell * d) * sizeof(float), tx1_runner_cell_emb(r) + i * d,
                              (size_t)d * sizeof(float));
        if (st != SG_OK || !e->a.n_layers) continue;
        for (int64_t t = 0; t < len; t++) e->token_cell[t] = (int32_t)cell;
        st = sg_st_writer_put(e->w, idx[T_TOKEN_CELL], (size_t)t0 * 4, e->token_cell, (size_t)len * 4);
        if (st == SG_OK)
            st = sg_st_writer_put(e->w, idx[T_TOKEN_GENE], (size_t)t0 * 4, b->ids + i * b->cap_seq, (size_t)len * 4);
        for (int l = 0; st == SG_OK && l < e->a.n_layers; l++)
            st = sg_st_writer_put(e->w, idx[T_RESID + l], (size_t)(t0 * d) * sizeof(float),
                                  tx1_runner_resid(r, l) + i * S * d, (size_t)(len * d) * sizeof(float));
    }
    return st;
}

static volatile sig_atomic_t g_interrupted;
static void on_sigint(int sig) {
    (void)sig;
    g_interrupted = 1;
}

/* Rows before `next` are on disk for good: sync the file, then say so in the record. */
static sg_status record_progress(struct embed_run *e, int64_t next) {
    const struct embed_progress p = {
        .ranks = sg_dist_size(), .rank = sg_dist_rank(), .batch = e->a.batch, .lo = e->lo, .hi = e->hi, .next = next};
    sg_status st = sg_st_writer_sync(e->w);
    if (st == SG_OK) st = embed_progress_write(e->a.output, &p);
    e->recorded |= st == SG_OK;
    return st;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static sg_status embed_cells(struct embed_run *e, struct sg_stream *stream, int64_t step, const int *idx) {
    struct tx1_runner_opts ro = {.batch = e->a.batch, .context = e->a.context, .n_resid = e->a.n_layers};
    memcpy(ro.resid_layers, e->a.layers, sizeof e->a.layers);
    struct tx1_runner *r;
    sg_status st = tx1_runner_new(e->m, stream, &ro, &r);
    if (st != SG_OK) return st;
    struct tx1_batch *b = tx1_batch_new(e->a.batch, e->a.context);
    e->token_cell       = malloc((size_t)e->a.context * sizeof *e->token_cell);
    if (!b || !e->token_cell) {
        tx1_batch_free(b);
        tx1_runner_free(r);
        return sg_error(SG_ERR_NO_MEMORY, "out of memory for a batch");
    }
    const double t_start = now_s();
    double t_report = t_start, t_sync = t_start;
    int64_t done       = 0;
    const int64_t mine = e->hi - e->lo, skipped = e->next - e->lo;
    struct sigaction sa = {.sa_handler = on_sigint, .sa_flags = SA_RESTART}, old_sa; /* I/O in progress restarts */
    sigemptyset(&sa.sa_mask);
    g_interrupted = 0;
    sigaction(SIGINT, &sa, &old_sa);
    for (int64_t r0 = e->next; st == SG_OK && r0 < e->hi; r0 += step) {
        st = read_chunk(e, r0, r0 + step < e->hi ? step : e->hi - r0);
        for (int64_t i = 0; st == SG_OK && i < e->rows.n_rows; i++) {
            const int64_t p0 = e->rows.indptr[i], n = e->rows.indptr[i + 1] - p0;
            st = tx1_batch_add(b, &e->tk, r0 + i, e->gid + p0, e->rows.vals + p0, n);
            if (st != SG_OK) st = sg_error_wrap(st, "%s", e->a.data);
            bool last = r0 + i + 1 == e->hi;
            if (st != SG_OK || (b->n_cells < b->cap_batch && !last)) continue;
            st = tx1_runner_run(r, b);
            if (st == SG_OK) st = write_batch(e, b, r, idx);
            done += b->n_cells;
            tx1_batch_clear(b);
            double t = now_s();
            if (st == SG_OK && !last && (g_interrupted || t - t_sync >= (double)e->a.sync_every)) {
                st     = record_progress(e, r0 + i + 1);
                t_sync = t;
            }
            if (st == SG_OK && (t - t_report > 10.0 || last)) {
                double rate = (double)done / (t - t_start);
                SG_LOGI("embed: %" PRId64 "/%" PRId64 " cells%s (%.0f%%), %.2f cells/s, %.0f s left", skipped + done,
                        mine, sg_dist_size() > 1 ? " of rank 0's share" : "",
                        100.0 * (double)(skipped + done) / (double)mine, rate, (double)(mine - skipped - done) / rate);
                t_report = t;
            }
            if (st == SG_OK && g_interrupted && !last)
                st = sg_error(SG_ERR_CANCELLED,
                              "interrupted after %" PRId64 " of %" PRId64 " cells%s; they are kept: continue with "
                              "--resume",
                              skipped + done, mine, sg_dist_size() > 1 ? " of this rank's share" : "");
        }
    }
    sigaction(SIGINT, &old_sa, NULL);
    tx1_batch_free(b);
    tx1_runner_free(r);
    return st;
}

static sg_status run(struct embed_run *e) {
    /* before anything slow, and before rank 0 creates a file the others would see */
    sg_status st = embed_output_check(e->a.output, e->a.resume, e->a.overwrite, &e->start);
    if (st == SG_OK) st = sg_dist_barrier();
    if (st != SG_OK) return st;
    if (e->start == EMBED_DONE) {
        embed_progress_remove(e->a.output, sg_dist_rank());
        printf("%s/embeddings.safetensors is complete: nothing to resume\n", e->a.output);
        return SG_OK;
    }
    st = tx1_resolve_model(e->a.model, e->a.model_size, e->model_dir, sizeof e->model_dir);
    if (st != SG_OK) return st;
    e->a.model = e->model_dir;
    struct sg_device *dev;
    st = sg_backends_load();
    if (st == SG_OK) st = sg_device_select(e->a.device, &dev);
    if (st == SG_OK) st = sg_h5ad_open(e->a.data, &e->h);
    if (st == SG_OK) st = tx1_model_load_as(e->model_dir, dev, e->a.dtype, &e->m);
    if (st == SG_OK) st = tx1_gene_map_build(e->m->vocab, e->h, e->a.gene_id_key, &e->genes);
    if (st != SG_OK) return st;
    for (int i = 0; i < e->a.n_layers; i++)
        if (e->a.layers[i] >= e->m->cfg.n_layers)
            return sg_error(SG_ERR_INVALID_ARG, "--layer %d: the model has blocks 0..%" PRId64, e->a.layers[i],
                            e->m->cfg.n_layers - 1);
    tx1_tokenizer_init(&e->tk, e->m, e->a.context, e->a.seed);
    e->n_cells = sg_h5ad_n_obs(e->h);
    if (e->a.max_cells > 0 && e->a.max_cells < e->n_cells) e->n_cells = e->a.max_cells;
    if (e->n_cells == 0) return sg_error(SG_ERR_INVALID_ARG, "%s: has no cells", e->a.data);
    const int64_t step = sg_h5ad_rows_per_chunk(e->h, 64u << 20);
    /* each rank takes a contiguous run of whole batches, so every batch holds the cells it would
     * hold in one process (the same padding, the same numbers) */
    const int64_t n_batches = (e->n_cells + e->a.batch - 1) / e->a.batch;
    sg_dist_share(n_batches, sg_dist_rank(), sg_dist_size(), &e->lo, &e->hi);
    e->lo *= e->a.batch;
    e->hi = e->hi * e->a.batch < e->n_cells ? e->hi * e->a.batch : e->n_cells;

    int idx[T_RESID + TX1_MAX_LAYERS];
    st = read_cell_types(e);
    if (st == SG_OK) st = count_tokens(e, step);
    if (st == SG_OK) st = sg_mkdir_p(e->a.output);
    if (st == SG_OK) st = open_output(e, idx);
    e->next = e->lo;
    if (st == SG_OK && e->start == EMBED_RESUME) {
        const struct embed_progress want = {
            .ranks = sg_dist_size(), .rank = sg_dist_rank(), .batch = e->a.batch, .lo = e->lo, .hi = e->hi};
        st          = embed_progress_read(e->a.output, &want, &e->next);
        e->recorded = true; /* an interrupted run's file: never removed by this one */
        if (st == SG_OK)
            SG_LOGI("embed: resuming at cell %" PRId64 " (%" PRId64 " of %" PRId64 " cells%s already written)", e->next,
                    e->next - e->lo, e->hi - e->lo, sg_dist_size() > 1 ? " of this rank's share" : "");
    }
    if (st == SG_OK && e->cell_type && sg_dist_rank() == 0)
        st = sg_st_writer_put(e->w, idx[T_CELL_TYPE], 0, e->cell_type, (size_t)e->n_cells * sizeof(int32_t));
    SG_LOGI("embed: %" PRId64 " cells, %" PRId64 " tokens, batch %" PRId64 ", context %" PRId64 ", device %s",
            e->n_cells, e->n_tokens, e->a.batch, e->a.context, sg_device_name(dev));
    struct sg_stream *stream = NULL;
    if (st == SG_OK) st = sg_device_open_stream(dev, e->a.threads, &stream);
    if (st == SG_OK) st = embed_cells(e, stream, step, idx);
    sg_stream_free(stream);
    /* rank 0 renames the file once every rank's part is on disk */
    if (st == SG_OK && sg_dist_rank() != 0) {
        st   = sg_st_writer_close(e->w);
        e->w = NULL;
    }
    if (st == SG_OK) st = sg_dist_barrier();
    if (st == SG_OK && sg_dist_rank() == 0) {
        st   = sg_st_writer_close(e->w);
        e->w = NULL;
    }
    if (st == SG_OK) st = sg_dist_barrier();
    if (st == SG_OK) embed_progress_remove(e->a.output, sg_dist_rank());
    if (st == SG_OK)
        printf("wrote %s/embeddings.safetensors: %" PRId64 " cells, %" PRId64 " tokens, %d layer(s)\n", e->a.output,
               e->n_cells, e->n_tokens, e->a.n_layers);
    return st;
}

int saeg_cmd_embed(int argc, char **argv) {
    struct embed_run e = {0};
    int rc             = parse_args(argc, argv, &e.a);
    if (rc) return rc < 0 ? 0 : rc;
    sg_status st = run(&e);
    if (st != SG_OK) fprintf(stderr, "saeg embed: %s\n", sg_last_error());
    /* an interrupted run's rows stay for --resume; a file with nothing recorded goes */
    if (e.recorded)
        sg_st_writer_keep(e.w);
    else
        sg_st_writer_abort(e.w);
    tx1_model_free(e.m);
    tx1_gene_map_free(&e.genes);
    sg_h5ad_rows_free(&e.rows);
    sg_h5ad_close(e.h);
    free(e.gid);
    free(e.tok_off);
    free(e.token_cell);
    free(e.cell_type);
    free(e.categories);
    return st == SG_OK ? 0 : 1;
}
