/* `saeg extract`: cells through Tahoe X1 and the SAE encoder, batch by batch, into the
 * accumulators; then the three files and, when asked, the h5ad copy with obsm['X_sae']. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/log.h"
#include "io/h5ad_write.h"
#include "pipeline/dist.h"
#include "pipeline/extract_ckpt.h"
#include "pipeline/extract_data.h"
#include "pipeline/extract_enc.h"
#include "pipeline/extract_spool.h"

void sg_extract_opts_default(struct sg_extract_opts *o) {
    *o = (struct sg_extract_opts){.top_k_genes       = 100,
                                  .top_k_cells       = 100,
                                  .rank_by           = SG_RANK_MEAN,
                                  .layer             = -1,
                                  .batch_cells       = 8,
                                  .sae_batch         = 4096,
                                  .max_codes         = 1024,
                                  .histogram_bins    = 50,
                                  .histogram_samples = 4096,
                                  .checkpoint_every  = 600,
                                  .device            = "auto"};
}

struct run {
    const struct sg_extract_opts *o;
    struct sg_sae_file_meta meta;
    struct sg_device *dev;
    struct sg_stream *stream;
    struct sg_sae *sae;
    struct sg_cells *cells;
    int layer;
    struct tx1_runner *runner;
    struct tx1_batch *batch;
    struct sg_extract_enc enc;
    struct sg_extract_data data;
    struct sg_extract_acc *acc;
    struct sg_h5ad_obsm *obsm;
    int32_t *var;   /* [batch][cap_seq] */
    float *raw;     /* [batch][cap_seq] */
    float *x, *pad; /* tokens of a model batch [n][d_in]; encoder padding */
    int32_t *idx;   /* codes of a model batch [n][k] */
    float *vals;
    int64_t truncated; /* tokens whose codes may miss active latents */
    int rank, size;    /* MPI: rank 0 accumulates and writes; size 1 in one process */
    char h5ad_path[4096];
    /* checkpoints (rank 0): the accumulators and the X_sae rows spooled so far */
    char ckpt_path[4200], spool_path[4200];
    struct sg_spool *spool;
    char *settings; /* what decides the output, as JSON: a checkpoint must match it */
    int64_t next;   /* the first cell not yet accumulated */
    bool have_ckpt; /* a checkpoint of this run exists: keep it (and the spool) on failure */
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static sg_status check_opts(const struct sg_extract_opts *o) {
    if (!o->sae_dir || !o->data || !o->output)
        return sg_error(SG_ERR_INVALID_ARG, "--sae, --data and --output are required");
    if (o->model && o->model_size) return sg_error(SG_ERR_INVALID_ARG, "pass --model or --model-size, not both");
    if (o->top_k_genes < 0 || o->top_k_cells < 0 || o->top_k_genes > 100000 || o->top_k_cells > 100000)
        return sg_error(SG_ERR_INVALID_ARG, "--top-k-genes and --top-k-cells must be in 0..100000");
    if (o->batch_cells < 1 || o->sae_batch < 1 || o->max_codes < 1)
        return sg_error(SG_ERR_INVALID_ARG, "--batch and --max-codes must be >= 1");
    if (o->histogram_bins < 1 || o->histogram_bins > 1024 || o->histogram_samples < 1)
        return sg_error(SG_ERR_INVALID_ARG, "histograms: 1..1024 bins and at least one sample");
    return SG_OK;
}

/* the model: --model, --model-size, or the size cfg.json names */
static sg_status open_cells(struct run *r) {
    const struct sg_extract_opts *o = r->o;
    const char *size                = o->model_size;
    if (!o->model && !size && r->meta.model_size[0]) {
        if (!tx1_size_folder(r->meta.model_size))
            return sg_error(SG_ERR_INVALID_ARG,
                            "%s/cfg.json: the SAE was trained on model '%s', not a released size; pass --model DIR",
                            o->sae_dir, r->meta.model_size);
        size = r->meta.model_size;
    }
    struct sg_cells_opts co = {.model       = o->model,
                               .model_size  = size,
                               .data        = o->data,
                               .gene_id_key = o->gene_id_key,
                               .max_cells   = o->max_cells,
                               .context     = o->context > 0 ? o->context : r->meta.context_size,
                               .seed        = o->seed,
                               .device      = r->dev,
                               .dtype       = o->dtype};
    sg_status st            = sg_cells_open(&co, &r->cells);
    if (st != SG_OK) return st;
    const struct tx1_config *mc = &r->cells->m->cfg;
    if (r->sae->cfg.d_in != mc->d_model)
        return sg_error(SG_ERR_INVALID_ARG,
                        "%s: the SAE takes d_in = %lld but the model %s has width d_model = %lld; use the model the "
                        "SAE was trained on",
                        o->sae_dir, (long long)r->sae->cfg.d_in, r->cells->model_dir, (long long)mc->d_model);
    if (o->layer >= 0 && r->meta.layer >= 0 && o->layer != r->meta.layer)
        return sg_error(SG_ERR_INVALID_ARG,
                        "--layer %d: the SAE in %s was trained on layer %d (cfg.json metadata.layer); its features "
                        "mean nothing at another layer",
                        o->layer, o->sae_dir, r->meta.layer);
    r->layer = o->layer >= 0 ? o->layer : r->meta.layer;
    if (r->layer < 0) {
        r->layer = sg_cells_default_layer(r->cells);
        SG_LOGW("extract: %s/cfg.json names no layer; using the middle block, %d", o->sae_dir, r->layer);
    }
    if (r->layer >= mc->n_layers)
        return sg_error(SG_ERR_INVALID_ARG, "layer %d: the model %s has blocks 0..%lld", r->layer, r->cells->model_dir,
                        (long long)mc->n_layers - 1);
    if (strcmp(r->meta.tokens, "cls") == 0)
        SG_LOGW("extract: the SAE was trained on CLS tokens only; its codes on gene tokens are outside what it saw");
    return SG_OK;
}

static sg_status open_run(struct run *r) {
    const struct sg_extract_opts *o = r->o;
    sg_status st                    = sg_sae_read_meta(o->sae_dir, &r->meta);
    if (st == SG_OK) st = sg_backends_load();
    if (st == SG_OK) st = sg_device_select(o->device ? o->device : "auto", &r->dev);
    if (st == SG_OK) st = sg_device_open_stream(r->dev, o->threads, &r->stream);
    if (st == SG_OK) st = sg_sae_load(o->sae_dir, r->dev, &r->sae);
    if (st == SG_OK) st = open_cells(r);
    if (st == SG_OK) st = sg_mkdir_p(o->output);
    if (st == SG_OK) st = sg_extract_data_read(&r->data, r->cells, o);
    if (st != SG_OK) return st;

    const int64_t B = o->batch_cells, S = r->cells->tk.context, D = r->sae->cfg.d_in;
    struct tx1_runner_opts ro = {.batch = B, .context = S, .n_resid = 1, .resid_layers = {r->layer}};
    st                        = tx1_runner_new(r->cells->m, r->stream, &ro, &r->runner);
    const int64_t tokens      = o->sae_batch < B * S ? o->sae_batch : B * S;
    if (st == SG_OK) st = sg_extract_enc_new(r->sae, r->stream, o->threads, tokens, o->max_codes, &r->enc);
    if (st != SG_OK) return st;
    const int64_t K = r->enc.enc.k_codes;
    r->batch        = tx1_batch_new(B, S);
    r->var          = malloc((size_t)(B * S) * sizeof *r->var);
    r->raw          = malloc((size_t)(B * S) * sizeof *r->raw);
    r->x            = malloc((size_t)(B * S * D) * sizeof *r->x);
    r->pad          = malloc((size_t)(tokens * D) * sizeof *r->pad);
    r->idx          = malloc((size_t)(B * S * K) * sizeof *r->idx);
    r->vals         = malloc((size_t)(B * S * K) * sizeof *r->vals);
    if (!r->batch || !r->var || !r->raw || !r->x || !r->pad || !r->idx || !r->vals)
        return sg_error(SG_ERR_NO_MEMORY, "out of memory for a batch of %lld cells", (long long)B);

    struct sg_extract_acc_opts ao = {.d_sae             = r->sae->cfg.d_sae,
                                     .n_var             = r->cells->genes.n_var,
                                     .n_types           = r->data.m.n_types,
                                     .top_k_genes       = o->top_k_genes,
                                     .top_k_cells       = o->top_k_cells,
                                     .rank_by           = o->rank_by,
                                     .histogram_bins    = o->histogram_bins,
                                     .histogram_samples = o->histogram_samples,
                                     .seed              = o->seed};
    /* with several ranks only rank 0 accumulates and writes; the others encode their batches */
    r->cells->exact_reads = r->size > 1;
    if (r->rank != 0) return SG_OK;
    st = sg_extract_acc_new(&ao, &r->acc);
    if (st == SG_OK && o->write_h5ad) {
        if (o->write_h5ad[0]) {
            snprintf(r->h5ad_path, sizeof r->h5ad_path, "%s", o->write_h5ad);
        } else {
            const char *base = strrchr(o->data, '/');
            base             = base ? base + 1 : o->data;
            size_t n         = strlen(base);
            if (n > 5 && strcmp(base + n - 5, ".h5ad") == 0) n -= 5;
            snprintf(r->h5ad_path, sizeof r->h5ad_path, "%s/%.*s_sae.h5ad", o->output, (int)n, base);
        }
        if (strcmp(r->h5ad_path, o->data) == 0)
            return sg_error(SG_ERR_INVALID_ARG, "--write-h5ad %s: that is the input file; name another", r->h5ad_path);
        /* the copy is made at the end: find out now, not hours later, that it cannot be */
        char probe[4200];
        snprintf(probe, sizeof probe, "%s.tmp", r->h5ad_path);
        FILE *f = fopen(probe, "ab");
        if (!f) return sg_error(SG_ERR_IO, "--write-h5ad %s: cannot write there: %s", r->h5ad_path, strerror(errno));
        fclose(f);
        unlink(probe);
    }
    return st;
}

/* ---- checkpoints --------------------------------------------------------------------------- */

/* The spool and a checkpoint a kill caught half-written (its .tmp; the checkpoint before it is
 * whole). */
static void remove_leftovers(const struct run *r) {
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", r->ckpt_path);
    unlink(tmp);
    unlink(r->spool_path);
}

/* Before anything is loaded: a run never silently drops an interrupted one's work. */
static sg_status check_output(struct run *r) {
    const struct sg_extract_opts *o = r->o;
    snprintf(r->ckpt_path, sizeof r->ckpt_path, "%s/extract_checkpoint.safetensors", o->output);
    snprintf(r->spool_path, sizeof r->spool_path, "%s/X_sae.spool", o->output);
    const bool have = access(r->ckpt_path, F_OK) == 0;
    if (o->resume && o->overwrite) return sg_error(SG_ERR_INVALID_ARG, "pass --resume or --overwrite, not both");
    if (o->resume && !have)
        return sg_error(SG_ERR_NOT_FOUND,
                        "--resume: %s holds no interrupted extraction (extract_checkpoint.safetensors); nothing to "
                        "resume",
                        o->output);
    if (have && !o->resume && !o->overwrite)
        return sg_error(SG_ERR_INVALID_ARG,
                        "%s holds an interrupted extraction (extract_checkpoint.safetensors); pass --resume to "
                        "continue it, --overwrite to start afresh, or choose another --output",
                        o->output);
    if (have && o->overwrite && r->rank == 0) {
        if (unlink(r->ckpt_path) != 0 && errno != ENOENT)
            return sg_error(SG_ERR_IO, "--overwrite: cannot remove %s: %s", r->ckpt_path, strerror(errno));
        remove_leftovers(r);
    }
    r->have_ckpt = have && o->resume;
    return SG_OK;
}

static void add_file_stamp(cJSON *j, const char *key, const char *path) {
    struct stat sb;
    char s[96] = "missing";
    if (stat(path, &sb) == 0)
        snprintf(s, sizeof s, "%lld bytes, modified %lld.%09ld", (long long)sb.st_size, (long long)sb.st_mtim.tv_sec,
                 sb.st_mtim.tv_nsec);
    cJSON_AddStringToObject(j, key, s);
}

/* Everything that decides the output; devices and threads do not (they change no count, and
 * float sums only in their last bits, as between any two devices). */
static sg_status build_settings(struct run *r) {
    const struct sg_extract_opts *o = r->o;
    cJSON *j                        = cJSON_CreateObject();
    char weights[4200];
    snprintf(weights, sizeof weights, "%s/sae_weights.safetensors", o->sae_dir);
    cJSON_AddStringToObject(j, "sae", o->sae_dir);
    add_file_stamp(j, "sae_weights", weights);
    cJSON_AddStringToObject(j, "data", o->data);
    add_file_stamp(j, "data_file", o->data);
    cJSON_AddStringToObject(j, "model", r->cells->model_dir);
    cJSON_AddStringToObject(j, "dtype", tx1_dtype_name(r->cells->m->dtype));
    cJSON_AddNumberToObject(j, "layer", r->layer);
    cJSON_AddNumberToObject(j, "context", (double)r->cells->tk.context);
    cJSON_AddNumberToObject(j, "seed", (double)o->seed);
    cJSON_AddNumberToObject(j, "cells", (double)r->cells->n_cells);
    cJSON_AddStringToObject(j, "gene_id_key", o->gene_id_key ? o->gene_id_key : "");
    cJSON_AddStringToObject(j, "cell_type_key", r->data.m.cell_type_key ? r->data.m.cell_type_key : "");
    cJSON_AddNumberToObject(j, "top_k_genes", (double)o->top_k_genes);
    cJSON_AddNumberToObject(j, "top_k_cells", (double)o->top_k_cells);
    cJSON_AddStringToObject(j, "rank_by", sg_extract_rank_name(o->rank_by));
    cJSON_AddNumberToObject(j, "histogram_bins", o->histogram_bins);
    cJSON_AddNumberToObject(j, "histogram_samples", o->histogram_samples);
    cJSON_AddNumberToObject(j, "max_codes", (double)r->enc.enc.k_codes);
    cJSON_AddNumberToObject(j, "batch", (double)o->batch_cells);
    cJSON_AddStringToObject(j, "write_h5ad", o->write_h5ad ? r->h5ad_path : "");
    r->settings = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return r->settings ? SG_OK : sg_error(SG_ERR_NO_MEMORY, "out of memory");
}

/* Rank 0: a fresh start, or the interrupted run's accumulators and rows; every rank learns
 * where the stream of cells goes on. */
static sg_status open_checkpoint(struct run *r) {
    sg_status st = SG_OK;
    r->next      = 0;
    if (r->rank == 0) {
        struct sg_extract_ckpt_state s = {.settings = r->settings};
        st                             = build_settings(r);
        s.settings                     = r->settings;
        if (st == SG_OK && r->have_ckpt) {
            st = sg_extract_ckpt_load(r->acc, r->ckpt_path, &s);
            if (st != SG_OK) {
                char why[1024];
                snprintf(why, sizeof why, "%s", sg_last_error());
                st = sg_error(st, "--resume: %s; pass --overwrite to start afresh", why);
            }
            r->next      = s.next_cell;
            r->truncated = s.truncated;
            if (st == SG_OK)
                SG_LOGI("extract: resuming at cell %lld of %lld (the checkpoint's)", (long long)r->next,
                        (long long)r->cells->n_cells);
        }
        if (st == SG_OK && r->o->write_h5ad)
            st = sg_spool_open(r->spool_path, r->have_ckpt ? s.spool_bytes : -1, &r->spool);
    }
    /* a failure on rank 0 ends the job (main: sg_dist_abort) */
    if (st == SG_OK) st = sg_dist_bcast(&r->next, sizeof r->next, 0);
    return st;
}

static sg_status save_checkpoint(struct run *r, int64_t next) {
    struct sg_extract_ckpt_state s = {.next_cell = next, .truncated = r->truncated, .settings = r->settings};
    sg_status st                   = r->spool ? sg_spool_sync(r->spool, &s.spool_bytes) : SG_OK;
    if (st == SG_OK) st = sg_extract_ckpt_save(r->acc, r->ckpt_path, &s);
    r->have_ckpt |= st == SG_OK;
    if (st == SG_OK) SG_LOGD("extract: checkpoint at cell %lld", (long long)next);
    return st;
}

/* After every cell: the h5ad copy from the spooled rows. */
static sg_status write_h5ad(struct run *r) {
    sg_status st =
        sg_h5ad_obsm_begin(r->o->data, r->h5ad_path, "X_sae", r->data.m.n_cells_total, r->sae->cfg.d_sae, &r->obsm);
    if (st == SG_OK) st = sg_spool_replay(r->spool, r->obsm);
    if (st == SG_OK) {
        st      = sg_h5ad_obsm_end(r->obsm);
        r->obsm = NULL;
    }
    return st;
}

/* One cell into the accumulators (and its X_sae row into the h5ad copy). */
static sg_status consume_cell(struct run *r, const struct sg_extract_cell *c) {
    if (sg_sae_arch_saved(r->sae->cfg.arch) != SG_SAE_TOPK && c->k < r->sae->cfg.d_sae)
        for (int64_t t = 0; t <= c->n_tokens; t++) r->truncated += c->vals[t * c->k + c->k - 1] > 0.0f;
    const struct sg_extract_row *xr = NULL;
    sg_status st                    = sg_extract_acc_add_cell(r->acc, c, &xr);
    if (st == SG_OK && r->spool) st = sg_spool_row(r->spool, c->row, xr->cols, xr->vals, xr->n);
    return st;
}

/* one model batch: the forward pass and the codes of every token (r->idx, r->vals) */
static sg_status encode_batch(struct run *r, int64_t first, int64_t n) {
    struct tx1_batch *b = r->batch;
    sg_status st        = sg_cells_batch_genes(r->cells, first, n, b, r->var, r->raw);
    if (st == SG_OK) st = tx1_runner_run(r->runner, b);
    if (st != SG_OK) return st;
    const int64_t D = r->sae->cfg.d_in, Sp = tx1_runner_seq(r->runner);
    const float *resid = tx1_runner_resid(r->runner, 0);
    int64_t T          = 0;
    for (int64_t i = 0; i < b->n_cells; i++) {
        memcpy(r->x + T * D, resid + i * Sp * D, (size_t)(b->len[i] * D) * sizeof *r->x);
        T += b->len[i];
    }
    /* the analyzer loses track of r on the path where a rank other than 0 skipped the accumulators
     * and reports r->x (freed by run_free) as leaked here. NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
    return sg_extract_enc_run(&r->enc, r->x, T, r->pad, r->idx, r->vals);
}

/* cell i of the encoded batch, as the accumulators see it */
static struct sg_extract_cell batch_cell(const struct run *r, int64_t i, int64_t at) {
    const struct tx1_batch *b = r->batch;
    const int64_t row = b->cell[i], off = i * b->cap_seq, K = r->enc.enc.k_codes;
    return (struct sg_extract_cell){.row      = row,
                                    .type     = r->data.cell_type ? r->data.cell_type[row] : -1,
                                    .n_tokens = b->len[i] - 1,
                                    .var      = r->var + off,
                                    .raw      = r->raw + off,
                                    .k        = (int)K,
                                    .idx      = r->idx + at * K,
                                    .vals     = r->vals + at * K};
}

static sg_status run_batch(struct run *r, int64_t first, int64_t n) {
    sg_status st = encode_batch(r, first, n);
    int64_t at   = 0;
    for (int64_t i = 0; i < r->batch->n_cells && st == SG_OK; i++) {
        struct sg_extract_cell c = batch_cell(r, i, at);
        st                       = consume_cell(r, &c);
        at += r->batch->len[i];
    }
    return st;
}

/* ---- several ranks: each encodes its batch, rank 0 accumulates every batch in row order ---- */

/* A cell on the wire: row, type, n_tokens, k, then var and raw [n_tokens + 1], idx and vals
 * [(n_tokens + 1) * k]. */
struct wire_cell {
    int64_t row, n_tokens;
    int32_t type, k;
};

static sg_status pack_batch(struct run *r, char **buf, int64_t *bytes) {
    const struct tx1_batch *b = r->batch;
    const int64_t K           = r->enc.enc.k_codes;
    int64_t need              = 0;
    for (int64_t i = 0; i < b->n_cells; i++) need += (int64_t)sizeof(struct wire_cell) + b->len[i] * (8 + 8 * K);
    char *p = malloc(need > 0 ? (size_t)need : 1);
    if (!p) return sg_error(SG_ERR_NO_MEMORY, "out of memory for the codes of a batch (%lld bytes)", (long long)need);
    *buf       = p;
    *bytes     = need;
    int64_t at = 0;
    for (int64_t i = 0; i < b->n_cells; i++) {
        const struct sg_extract_cell c = batch_cell(r, i, at);
        const int64_t L                = c.n_tokens + 1;
        struct wire_cell h             = {.row = c.row, .n_tokens = c.n_tokens, .type = c.type, .k = c.k};
        memcpy(p, &h, sizeof h);
        p += sizeof h;
        memcpy(p, c.var, (size_t)L * 4);
        p += L * 4;
        memcpy(p, c.raw, (size_t)L * 4);
        p += L * 4;
        memcpy(p, c.idx, (size_t)(L * K) * 4);
        p += L * K * 4;
        memcpy(p, c.vals, (size_t)(L * K) * 4);
        p += L * K * 4;
        at += L;
    }
    return SG_OK;
}

/* the arrays are 4-byte aligned in the blob (the header is 24 bytes, the arrays 4-byte elements) */
static sg_status unpack_cells(struct run *r, const char *p, int64_t bytes) {
    const char *end = p + bytes;
    while (p < end) {
        struct wire_cell h;
        memcpy(&h, p, sizeof h);
        p += sizeof h;
        const int64_t L          = h.n_tokens + 1;
        struct sg_extract_cell c = {.row = h.row, .type = h.type, .n_tokens = h.n_tokens, .k = h.k};
        c.var                    = (const int32_t *)(const void *)p;
        p += L * 4;
        c.raw = (const float *)(const void *)p;
        p += L * 4;
        c.idx = (const int32_t *)(const void *)p;
        p += L * h.k * 4;
        c.vals = (const float *)(const void *)p;
        p += L * h.k * 4;
        sg_status st = consume_cell(r, &c);
        if (st != SG_OK) return st;
    }
    return SG_OK;
}

/* A round from cell `start`: rank i encodes the batch at start + i * B; rank 0 takes the codes
 * of all of them in rank order, which is row order, so the accumulators see exactly what one
 * process would. */
static sg_status run_round(struct run *r, int64_t start) {
    const int64_t N = r->cells->n_cells, B = r->o->batch_cells;
    const int64_t first = start + r->rank * B;
    char *mine = NULL, *all = NULL;
    int64_t bytes = 0;
    sg_status st  = SG_OK;
    if (first < N) {
        st = encode_batch(r, first, N - first < B ? N - first : B);
        if (st == SG_OK) st = pack_batch(r, &mine, &bytes);
    }
    /* a rank that failed here ends the job (main: sg_dist_abort), so the others never wait long */
    int64_t *sizes = calloc((size_t)r->size, sizeof *sizes);
    if (st == SG_OK && !sizes) st = sg_error(SG_ERR_NO_MEMORY, "out of memory");
    if (st == SG_OK) st = sg_dist_gatherv(mine, bytes, 0, (void **)&all, sizes);
    int64_t total = 0;
    for (int64_t i = 0; st == SG_OK && i < r->size; i++) total += sizes[i];
    if (st == SG_OK && r->acc) st = unpack_cells(r, all, total);
    free(mine);
    free(all);
    free(sizes);
    return st;
}

static volatile sig_atomic_t g_interrupted;
static void on_sigint(int sig) {
    (void)sig;
    g_interrupted = 1;
}

/* Cells from r->next on, a round (one batch per rank) at a time; rank 0 checkpoints every
 * checkpoint_every seconds and when interrupted (every rank stops at the same round). */
static sg_status stream_rounds(struct run *r) {
    const int64_t N = r->cells->n_cells, B = r->o->batch_cells, step = B * r->size;
    const double t0 = now_s();
    double t_report = t0, t_ckpt = t0;
    for (int64_t first = r->next; first < N; first += step) {
        sg_status st = r->size > 1 ? run_round(r, first) : run_batch(r, first, N - first < B ? N - first : B);
        if (st != SG_OK) return st;
        const double now   = now_s();
        const int64_t done = first + step < N ? first + step : N;
        int64_t stop       = g_interrupted;
        if (r->size > 1) st = sg_dist_allreduce_max_i64(&stop, 1);
        if (st == SG_OK && r->acc && done < N && (stop || now - t_ckpt >= (double)r->o->checkpoint_every)) {
            st     = save_checkpoint(r, done);
            t_ckpt = now;
        }
        if (st != SG_OK) return st;
        if (now - t_report >= 10.0 || done == N) {
            double rate = (double)(done - r->next) / (now - t0 > 1e-9 ? now - t0 : 1e-9);
            SG_LOGI("extract: %lld/%lld cells (%.0f%%), %.1f cells/s, %.0f s left", (long long)done, (long long)N,
                    100.0 * (double)done / (double)N, rate, (double)(N - done) / rate);
            t_report = now;
        }
        if (stop && done < N)
            return sg_error(SG_ERR_CANCELLED,
                            "interrupted after %lld of %lld cells; the checkpoint is saved: continue with --resume",
                            (long long)done, (long long)N);
    }
    return SG_OK;
}

static sg_status stream_cells(struct run *r) {
    struct sigaction sa = {.sa_handler = on_sigint, .sa_flags = SA_RESTART}, old_sa; /* I/O in progress restarts */
    sigemptyset(&sa.sa_mask);
    g_interrupted = 0;
    sigaction(SIGINT, &sa, &old_sa);
    sg_status st = stream_rounds(r);
    sigaction(SIGINT, &old_sa, NULL);
    return st;
}

static sg_status write_outputs(struct run *r) {
    struct sg_extract_meta *m = &r->data.m;
    m->layer                  = r->layer;
    m->sae_dir                = r->o->sae_dir;
    m->data                   = r->o->data;
    m->model_dir              = r->cells->model_dir;
    m->truncated_tokens       = r->truncated;
    int64_t *rows = NULL, n_rows = 0;
    struct sg_extract_cells_info cells = {0};
    sg_status st                       = sg_extract_top_rows(r->acc, &rows, &n_rows);
    if (st == SG_OK) st = sg_extract_cells_read(r->cells->h, m, rows, n_rows, &cells);
    if (st == SG_OK) st = sg_extract_write_genes(r->acc, m, r->o->output);
    if (st == SG_OK) st = sg_extract_write_cells(r->acc, m, &cells, r->o->output);
    if (st == SG_OK) st = sg_extract_write_stats(r->acc, m, r->o->output);
    free(rows);
    sg_extract_cells_free(&cells, m->n_obs_keys);
    return st;
}

static void run_free(struct run *r) {
    sg_h5ad_obsm_abort(r->obsm);
    sg_spool_close(r->spool, !r->have_ckpt); /* an interrupted run's rows stay with its checkpoint */
    free(r->settings);
    sg_extract_acc_free(r->acc);
    sg_extract_data_free(&r->data);
    if (r->enc.ctx) sg_extract_enc_free(&r->enc);
    tx1_runner_free(r->runner);
    tx1_batch_free(r->batch);
    sg_cells_close(r->cells);
    sg_sae_free(r->sae);
    sg_stream_free(r->stream);
    free(r->var);
    free(r->raw);
    free(r->x);
    free(r->pad);
    free(r->idx);
    free(r->vals);
}

sg_status sg_extract_run(const struct sg_extract_opts *o, struct sg_extract_result *res) {
    struct run r = {.o = o, .rank = sg_dist_rank(), .size = sg_dist_size()};
    if (res) memset(res, 0, sizeof *res);
    sg_status st = check_opts(o);
    if (st == SG_OK) st = check_output(&r);
    if (st == SG_OK) st = open_run(&r);
    if (st == SG_OK) st = open_checkpoint(&r);
    if (st == SG_OK) {
        const struct sg_sae_config *c = &r.sae->cfg;
        SG_LOGI("extract: %s SAE %lld -> %lld at layer %d on %s: %lld cells, %lld genes in the vocabulary, "
                "%d codes per token",
                sg_sae_arch_name(c->arch), (long long)c->d_in, (long long)c->d_sae, r.layer, sg_device_name(r.dev),
                (long long)r.cells->n_cells, (long long)r.cells->genes.n_matched, (int)r.enc.enc.k_codes);
        st = stream_cells(&r);
    }
    if (st == SG_OK && !r.acc) { /* a rank other than 0: its batches went to rank 0 */
        if (res) {
            res->d_sae = r.sae->cfg.d_sae;
            res->layer = r.layer;
        }
        run_free(&r);
        return SG_OK;
    }
    if (st == SG_OK) st = sg_extract_acc_finish(r.acc);
    if (st == SG_OK)
        SG_LOGI("extract: %lld gene tokens; %llu (feature, gene) pairs scored (%.0f MB)", (long long)r.acc->n_tokens,
                (unsigned long long)r.acc->pairs.n, (double)r.acc->pairs.cap * sizeof(struct sg_pair) / 1e6);
    if (st == SG_OK && r.truncated)
        SG_LOGW("extract: %lld tokens had %d or more active latents: a token's latents beyond its %d largest were "
                "not counted (raise --max-codes)",
                (long long)r.truncated, (int)r.enc.enc.k_codes, (int)r.enc.enc.k_codes);
    if (st == SG_OK) st = write_outputs(&r);
    if (st == SG_OK && r.spool) st = write_h5ad(&r);
    if (st == SG_OK && r.acc) { /* done: the checkpoint and the spooled rows go */
        unlink(r.ckpt_path);
        remove_leftovers(&r);
        r.have_ckpt = false;
    }
    if (st == SG_OK && res) {
        res->n_cells          = r.acc->n_cells;
        res->n_tokens         = r.acc->n_tokens;
        res->d_sae            = r.sae->cfg.d_sae;
        res->layer            = r.layer;
        res->n_pairs          = (int64_t)r.acc->pairs.n;
        res->truncated_tokens = r.truncated;
        for (int64_t f = 0; f < res->d_sae; f++) res->n_alive += r.acc->n_active[f] > 0;
        res->has_symbols = r.data.m.symbol_key != NULL;
        snprintf(res->symbol_key, sizeof res->symbol_key, "%s", r.data.m.symbol_key ? r.data.m.symbol_key : "");
        snprintf(res->cell_type_key, sizeof res->cell_type_key, "%s",
                 r.data.m.cell_type_key ? r.data.m.cell_type_key : "");
        snprintf(res->h5ad, sizeof res->h5ad, "%s", o->write_h5ad ? r.h5ad_path : "");
    }
    run_free(&r);
    return st;
}
