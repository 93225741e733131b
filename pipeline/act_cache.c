/* The activation cache: building it with one pass of the model, checking its manifest against
 * this run, and serving its shards as an activation source (position = token index). */
#include "pipeline/act_cache.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/types.h"
#include "io/safetensors.h"
#include "pipeline/dist.h"

#define CACHE_FORMAT "saeg.activations/1"

sg_status sg_file_fingerprint(const char *path, char out[17]) {
    FILE *f = fopen(path, "rb");
    if (!f) return sg_error(SG_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0) {
        fclose(f);
        return sg_error(SG_ERR_IO, "cannot stat %s: %s", path, strerror(errno));
    }
    uint64_t h    = 0xcbf29ce484222325ull;
    uint64_t size = (uint64_t)sb.st_size;
    for (int i = 0; i < 8; i++) h = (h ^ ((size >> (8 * i)) & 0xff)) * 0x100000001b3ull;
    enum { MIB = 1 << 20 };
    unsigned char *buf = malloc(MIB);
    if (!buf) {
        fclose(f);
        return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    }
    long starts[2] = {0, sb.st_size > 2 * MIB ? (long)(sb.st_size - MIB) : -1};
    for (int part = 0; part < 2; part++) {
        if (starts[part] < 0 || fseek(f, starts[part], SEEK_SET) != 0) continue;
        size_t n = fread(buf, 1, MIB, f);
        for (size_t i = 0; i < n; i++) h = (h ^ buf[i]) * 0x100000001b3ull;
    }
    free(buf);
    fclose(f);
    snprintf(out, 17, "%016" PRIx64, h);
    return SG_OK;
}

/* ---- identity ---------------------------------------------------------------------------- */

struct identity {
    char model[1024], model_fp[17], data[1024], data_fp[17], gene_key[128];
    int layer;
    const char *tokens;
    int64_t context, seed, n_cells, d_model;
};

static sg_status identity_of(const struct sg_act_cache_opts *o, struct identity *id) {
    const struct sg_cells *c = o->cells;
    memset(id, 0, sizeof *id);
    char path[1100];
    snprintf(id->model, sizeof id->model, "%s", c->model_dir);
    snprintf(path, sizeof path, "%s/model.safetensors", c->model_dir);
    sg_status st = sg_file_fingerprint(path, id->model_fp);
    if (st == SG_OK) st = sg_file_fingerprint(c->data, id->data_fp);
    snprintf(id->data, sizeof id->data, "%s", c->data);
    snprintf(id->gene_key, sizeof id->gene_key, "%s", c->genes.key[0] ? c->genes.key : "(var index)");
    id->layer   = o->layer;
    id->tokens  = sg_tokens_name(o->tokens);
    id->context = c->tk.context;
    id->seed    = (int64_t)c->tk.seed;
    id->n_cells = c->n_cells;
    id->d_model = c->m->cfg.d_model;
    return st;
}

static void identity_to_json(const struct identity *id, cJSON *o) {
    cJSON_AddStringToObject(o, "model", id->model);
    cJSON_AddStringToObject(o, "model_fingerprint", id->model_fp);
    cJSON_AddStringToObject(o, "data", id->data);
    cJSON_AddStringToObject(o, "data_fingerprint", id->data_fp);
    cJSON_AddStringToObject(o, "gene_id_key", id->gene_key);
    cJSON_AddNumberToObject(o, "layer", id->layer);
    cJSON_AddStringToObject(o, "tokens", id->tokens);
    cJSON_AddNumberToObject(o, "context", (double)id->context);
    cJSON_AddNumberToObject(o, "seed", (double)id->seed);
    cJSON_AddNumberToObject(o, "n_cells", (double)id->n_cells);
    cJSON_AddNumberToObject(o, "d_model", (double)id->d_model);
}

/* Appends "what (cache: X, this run: Y)" for every field that differs; returns how many. */
static int identity_diff(const cJSON *m, const struct identity *id, char *buf, size_t cap) {
    int n      = 0;
    size_t len = 0;
#define DIFF_STR(key, label, mine)                                                                                     \
    do {                                                                                                               \
        const cJSON *v_ = cJSON_GetObjectItemCaseSensitive(m, key);                                                    \
        const char *s_  = cJSON_IsString(v_) ? v_->valuestring : "?";                                                  \
        if (strcmp(s_, mine) != 0 && len < cap)                                                                        \
            len += (size_t)snprintf(buf + len, cap - len, "%s%s (cache: %s, this run: %s)", n++ ? "; " : "", label,    \
                                    s_, mine);                                                                         \
    } while (0)
#define DIFF_NUM(key, label, mine)                                                                                     \
    do {                                                                                                               \
        const cJSON *v_ = cJSON_GetObjectItemCaseSensitive(m, key);                                                    \
        double x_       = cJSON_IsNumber(v_) ? v_->valuedouble : -1;                                                   \
        if (x_ != (double)(mine) && len < cap)                                                                         \
            len += (size_t)snprintf(buf + len, cap - len, "%s%s (cache: %.0f, this run: %.0f)", n++ ? "; " : "",       \
                                    label, x_, (double)(mine));                                                        \
    } while (0)
    DIFF_STR("model_fingerprint", "model weights", id->model_fp);
    DIFF_STR("data_fingerprint", "data file", id->data_fp);
    DIFF_NUM("layer", "layer", id->layer);
    DIFF_STR("tokens", "tokens", id->tokens);
    DIFF_STR("gene_id_key", "gene ID column", id->gene_key);
    DIFF_NUM("context", "context", id->context);
    DIFF_NUM("seed", "seed", id->seed);
    DIFF_NUM("n_cells", "cells", id->n_cells);
    DIFF_NUM("d_model", "d_model", id->d_model);
#undef DIFF_STR
#undef DIFF_NUM
    return n;
}

#define SHARD_NAME 48 /* "shard_r<rank>_<index>.safetensors" */

/* ---- building ---------------------------------------------------------------------------- */

static sg_status write_shard(const char *dir, int idx, const float *rows, int64_t n, int64_t d, bool bf16,
                             uint16_t *conv, char *name, size_t name_cap) {
    /* several ranks write their own shards side by side: the rank is part of the name */
    if (sg_dist_size() > 1)
        snprintf(name, name_cap, "shard_r%04d_%05d.safetensors", sg_dist_rank(), idx);
    else
        snprintf(name, name_cap, "shard_%05d.safetensors", idx);
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct sg_st_decl decl   = {"acts", bf16 ? SG_ST_BF16 : SG_ST_F32, 2, {n, d}};
    const char *const meta[] = {"format", CACHE_FORMAT, NULL};
    struct sg_st_writer *w;
    sg_status st = sg_st_writer_open(path, &decl, 1, meta, &w);
    if (st != SG_OK) return st;
    if (bf16) {
        for (int64_t i = 0; i < n * d; i++) conv[i] = sg_f32_to_bf16(rows[i]);
        st = sg_st_writer_put(w, 0, 0, conv, (size_t)(n * d) * 2);
    } else {
        st = sg_st_writer_put(w, 0, 0, rows, (size_t)(n * d) * 4);
    }
    if (st == SG_OK) return sg_st_writer_close(w);
    sg_st_writer_abort(w);
    return st;
}

static sg_status write_manifest(const char *dir, const struct identity *id, bool bf16, const char (*names)[SHARD_NAME],
                                const int64_t *counts, int n_shards, int64_t total) {
    cJSON *root = cJSON_CreateObject();
    if (!root) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    cJSON_AddStringToObject(root, "format", CACHE_FORMAT);
    identity_to_json(id, root);
    cJSON_AddStringToObject(root, "dtype", bf16 ? "bf16" : "f32");
    cJSON_AddNumberToObject(root, "n_tokens", (double)total);
    cJSON *arr = cJSON_AddArrayToObject(root, "shards");
    for (int i = 0; arr && i < n_shards; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "file", names[i]);
        cJSON_AddNumberToObject(s, "n_tokens", (double)counts[i]);
        cJSON_AddItemToArray(arr, s);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    char path[1400], tmp[1400];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    snprintf(tmp, sizeof tmp, "%s/manifest.json.tmp", dir);
    FILE *f = fopen(tmp, "wb");
    bool ok = f && fputs(text, f) >= 0 && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok      = f && fclose(f) == 0 && ok;
    free(text);
    if (!ok || rename(tmp, path) != 0) return sg_error(SG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return SG_OK;
}

/* Several ranks: every rank's (name, tokens) shard list to rank 0, in rank order, which is cell
 * order; rank 0 writes the manifest of all of them. */
struct shard_rec {
    char name[SHARD_NAME];
    int64_t n_tokens;
};

static sg_status gather_manifest(const struct sg_act_cache_opts *o, const struct identity *id,
                                 char (*names)[SHARD_NAME], const int64_t *counts, int n_shards) {
    struct shard_rec *mine = calloc((size_t)n_shards + 1, sizeof *mine);
    if (!mine) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    for (int i = 0; i < n_shards; i++) {
        memcpy(mine[i].name, names[i], sizeof mine[i].name);
        mine[i].n_tokens = counts[i];
    }
    struct shard_rec *all = NULL;
    int64_t *sizes        = calloc((size_t)sg_dist_size(), sizeof *sizes);
    sg_status st          = sizes ? SG_OK : sg_error(SG_ERR_NO_MEMORY, "out of memory");
    if (st == SG_OK) st = sg_dist_gatherv(mine, (int64_t)(n_shards * sizeof *mine), 0, (void **)&all, sizes);
    free(mine);
    if (st == SG_OK && sg_dist_rank() == 0) {
        int64_t n = 0, total = 0;
        for (int i = 0; i < sg_dist_size(); i++) n += sizes[i] / (int64_t)sizeof *all;
        char(*all_names)[SHARD_NAME] = malloc((size_t)(n + 1) * sizeof *all_names);
        int64_t *all_counts          = malloc((size_t)(n + 1) * sizeof *all_counts);
        if (!all_names || !all_counts) st = sg_error(SG_ERR_NO_MEMORY, "out of memory");
        for (int64_t i = 0; st == SG_OK && i < n; i++) {
            memcpy(all_names[i], all[i].name, sizeof all_names[i]);
            all_counts[i] = all[i].n_tokens;
            total += all[i].n_tokens;
        }
        if (st == SG_OK && total == 0)
            st = sg_error(SG_ERR_INVALID_ARG, "%s: no cell has a token of the chosen kind", o->cells->data);
        if (st == SG_OK && n > INT32_MAX) st = sg_error(SG_ERR_INVALID_ARG, "too many activation-cache shards");
        if (st == SG_OK)
            st = write_manifest(o->dir, id, o->bf16, (const char(*)[SHARD_NAME])all_names, all_counts, (int)n, total);
        free(all_names);
        free(all_counts);
    }
    free(all);
    free(sizes);
    return st;
}

static sg_status build(const struct sg_act_cache_opts *o, const struct identity *id) {
    struct sg_cells *c = o->cells;
    /* several ranks: each runs a contiguous run of whole batches (cell order is rank order) */
    const int64_t n_batches = (c->n_cells + o->batch_cells - 1) / o->batch_cells;
    int64_t lo, hi;
    sg_dist_share(n_batches, sg_dist_rank(), sg_dist_size(), &lo, &hi);
    lo *= o->batch_cells;
    hi = hi * o->batch_cells < c->n_cells ? hi * o->batch_cells : c->n_cells;
    if (sg_dist_size() > 1) c->exact_reads = true;
    const int64_t d   = c->m->cfg.d_model;
    const bool bf16   = o->bf16;
    int64_t per_shard = o->shard_tokens > 0 ? o->shard_tokens : (int64_t)(256u << 20) / (d * (bf16 ? 2 : 4));
    if (per_shard < 1) per_shard = 1;
    const int64_t max_batch = o->batch_cells * c->tk.context;
    if (per_shard < max_batch) per_shard = max_batch; /* a whole forward pass fits */

    struct sg_act_model_opts mo = {
        .cells = c, .layer = o->layer, .tokens = o->tokens, .batch_cells = o->batch_cells, .stream = o->stream};
    struct tx1_runner *r      = NULL;
    struct tx1_runner_opts ro = {
        .batch = o->batch_cells, .context = c->tk.context, .n_resid = 1, .resid_layers = {mo.layer}};
    struct tx1_batch *b = tx1_batch_new(o->batch_cells, c->tk.context);
    float *rows         = malloc((size_t)((per_shard + max_batch) * d) * sizeof *rows);
    uint16_t *conv      = bf16 ? malloc((size_t)((per_shard + max_batch) * d) * sizeof *conv) : NULL;
    int cap_shards = 64, n_shards = 0;
    char(*names)[SHARD_NAME] = malloc((size_t)cap_shards * sizeof *names);
    int64_t *counts          = malloc((size_t)cap_shards * sizeof *counts);
    sg_status st             = tx1_runner_new(c->m, o->stream, &ro, &r);
    if (st == SG_OK && (!b || !rows || (bf16 && !conv) || !names || !counts))
        st = sg_error(SG_ERR_NO_MEMORY, "out of memory building the activation cache");
    int64_t fill = 0, total = 0;
    time_t t_report = time(NULL);
    for (int64_t first = lo; st == SG_OK && first < hi; first += o->batch_cells) {
        int64_t n = hi - first < o->batch_cells ? hi - first : o->batch_cells;
        st        = sg_cells_batch(c, first, n, b);
        if (st == SG_OK) st = tx1_runner_run(r, b);
        if (st != SG_OK) break;
        const float *resid = tx1_runner_resid(r, 0);
        for (int64_t i = 0; i < b->n_cells; i++)
            fill += sg_act_select_tokens(o->tokens, resid, tx1_runner_seq(r), d, i, b->len[i], rows + fill * d);
        bool last = first + n >= hi;
        if (fill >= per_shard || (last && fill > 0)) {
            if (n_shards == cap_shards) {
                cap_shards *= 2;
                void *nn = realloc(names, (size_t)cap_shards * sizeof *names);
                if (nn) names = nn;
                void *nc = realloc(counts, (size_t)cap_shards * sizeof *counts);
                if (nc) counts = nc;
                if (!nn || !nc) {
                    st = sg_error(SG_ERR_NO_MEMORY, "out of memory");
                    break;
                }
            }
            st               = write_shard(o->dir, n_shards, rows, fill, d, bf16, conv, names[n_shards], SHARD_NAME);
            counts[n_shards] = fill;
            n_shards++;
            total += fill;
            fill = 0;
        }
        if (st == SG_OK && (time(NULL) - t_report >= 10 || last)) {
            SG_LOGI("activation cache: %lld/%lld cells, %lld tokens", (long long)(first + n - lo), (long long)(hi - lo),
                    (long long)(total + fill));
            t_report = time(NULL);
        }
    }
    if (sg_dist_size() > 1) {
        if (st == SG_OK) st = gather_manifest(o, id, names, counts, n_shards);
    } else {
        if (st == SG_OK && total == 0)
            st = sg_error(SG_ERR_INVALID_ARG, "%s: no cell has a token of the chosen kind", c->data);
        if (st == SG_OK)
            st = write_manifest(o->dir, id, bf16, (const char(*)[SHARD_NAME])names, counts, n_shards, total);
    }
    tx1_runner_free(r);
    tx1_batch_free(b);
    free(rows);
    free(conv);
    free(names);
    free(counts);
    return st;
}

/* ---- reading ----------------------------------------------------------------------------- */

struct cache_source {
    struct sg_act_source base;
    int n_shards;
    struct sg_st_file **files;
    const struct sg_st_tensor **acts;
    int64_t *start; /* first token of each shard; start[n_shards] = total */
    struct sg_act_pos pos;
};

static sg_status cache_read(struct sg_act_source *base, float *dst, int64_t n, int64_t *got) {
    struct cache_source *s = (struct cache_source *)base;
    const int64_t d = base->d, total = base->n_tokens;
    int sh = 0;
    if (got) *got = 0;
    while (n > 0) {
        if (s->pos.item >= total) {
            s->pos.item = 0;
            s->pos.epoch++;
            if (got) return SG_OK;
        }
        while (sh + 1 < s->n_shards && s->start[sh + 1] <= s->pos.item) sh++;
        while (sh > 0 && s->start[sh] > s->pos.item) sh--;
        const struct sg_st_tensor *t = s->acts[sh];
        int64_t r0 = s->pos.item - s->start[sh], take = s->start[sh + 1] - s->pos.item;
        if (take > n) take = n;
        if (t->dtype == SG_ST_F32) {
            memcpy(dst, (const char *)t->data + (size_t)(r0 * d) * 4, (size_t)(take * d) * 4);
        } else {
            const unsigned char *p = (const unsigned char *)t->data + (size_t)(r0 * d) * 2;
            for (int64_t i = 0; i < take * d; i++) {
                uint16_t u;
                memcpy(&u, p + 2 * i, 2);
                dst[i] = sg_bf16_to_f32(u);
            }
        }
        dst += take * d;
        n -= take;
        if (got) *got += take;
        s->pos.item += take;
    }
    return SG_OK;
}

static struct sg_act_pos cache_tell(const struct sg_act_source *base) {
    return ((const struct cache_source *)base)->pos;
}

static sg_status cache_seek(struct sg_act_source *base, struct sg_act_pos pos) {
    struct cache_source *s = (struct cache_source *)base;
    if (pos.item < 0 || pos.item >= base->n_tokens)
        return sg_error(SG_ERR_INVALID_ARG, "activation position %lld is outside the cache's %lld tokens",
                        (long long)pos.item, (long long)base->n_tokens);
    s->pos = pos;
    return SG_OK;
}

static void cache_free(struct sg_act_source *base) {
    struct cache_source *s = (struct cache_source *)base;
    if (!s) return;
    for (int i = 0; s->files && i < s->n_shards; i++) sg_st_close(s->files[i]);
    free(s->files);
    free(s->acts);
    free(s->start);
    free(s);
}

static sg_status open_shards(const char *dir, const cJSON *m, int64_t d, struct sg_act_source **out) {
    const cJSON *shards = cJSON_GetObjectItemCaseSensitive(m, "shards");
    int n               = cJSON_GetArraySize(shards);
    if (!cJSON_IsArray(shards) || n < 1) return sg_error(SG_ERR_FORMAT, "%s/manifest.json: no shards", dir);
    struct cache_source *s = calloc(1, sizeof *s);
    if (!s) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    s->base =
        (struct sg_act_source){.d = d, .read = cache_read, .tell = cache_tell, .seek = cache_seek, .free = cache_free};
    s->files     = calloc((size_t)n, sizeof *s->files);
    s->acts      = calloc((size_t)n, sizeof *s->acts);
    s->start     = calloc((size_t)n + 1, sizeof *s->start);
    sg_status st = s->files && s->acts && s->start ? SG_OK : sg_error(SG_ERR_NO_MEMORY, "out of memory");
    for (int i = 0; st == SG_OK && i < n; i++) {
        const cJSON *e    = cJSON_GetArrayItem(shards, i);
        const cJSON *file = cJSON_GetObjectItemCaseSensitive(e, "file");
        const cJSON *cnt  = cJSON_GetObjectItemCaseSensitive(e, "n_tokens");
        if (!cJSON_IsString(file) || !cJSON_IsNumber(cnt) || strchr(file->valuestring, '/')) {
            st = sg_error(SG_ERR_FORMAT, "%s/manifest.json: shard %d is malformed", dir, i);
            break;
        }
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, file->valuestring);
        st          = sg_st_open(path, &s->files[i]);
        s->n_shards = i + 1;
        if (st != SG_OK) break;
        const struct sg_st_tensor *t = sg_st_find(s->files[i], "acts");
        if (!t || t->n_dims != 2 || t->shape[1] != d || t->shape[0] != (int64_t)cnt->valuedouble ||
            (t->dtype != SG_ST_F32 && t->dtype != SG_ST_BF16))
            st = sg_error(SG_ERR_FORMAT, "%s: 'acts' is not [%lld, %lld] F32/BF16 as the manifest says", path,
                          (long long)cnt->valuedouble, (long long)d);
        s->acts[i]      = t;
        s->start[i + 1] = s->start[i] + (int64_t)cnt->valuedouble;
    }
    if (st != SG_OK) {
        cache_free(&s->base);
        return st;
    }
    s->base.n_tokens = s->start[n];
    *out             = &s->base;
    return SG_OK;
}

static cJSON *read_manifest(const char *path, sg_status *st) {
    *st     = SG_OK;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *text = NULL;
    long n     = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (text = malloc((size_t)n + 1)))
        if (fread(text, 1, (size_t)n, f) != (size_t)n) n = -1;
    fclose(f);
    cJSON *m = text && n >= 0 ? cJSON_ParseWithLength(text, (size_t)n) : NULL;
    free(text);
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(m, "format");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, CACHE_FORMAT) != 0) {
        cJSON_Delete(m);
        *st = sg_error(SG_ERR_FORMAT, "%s is not an activation-cache manifest (%s)", path, CACHE_FORMAT);
        return NULL;
    }
    return m;
}

sg_status sg_act_cache_source(const struct sg_act_cache_opts *o, struct sg_act_source **out) {
    *out = NULL;
    struct identity id;
    sg_status st = identity_of(o, &id);
    if (st != SG_OK) return st;
    if (mkdir(o->dir, 0755) != 0 && errno != EEXIST)
        return sg_error(SG_ERR_IO, "--cache-activations %s: cannot create it: %s", o->dir, strerror(errno));
    char path[1400];
    snprintf(path, sizeof path, "%s/manifest.json", o->dir);
    /* rank 0 decides whether the cache is there (several ranks need a shared file system); a
     * missing one is built by every rank, each writing the shards of its cells */
    cJSON *m         = NULL;
    int64_t build_it = 0;
    if (sg_dist_rank() == 0) {
        m = read_manifest(path, &st);
        if (st != SG_OK) return sg_error_wrap(st, "--cache-activations %s", o->dir);
        if (m) {
            char diff[2048];
            if (identity_diff(m, &id, diff, sizeof diff) > 0) {
                cJSON_Delete(m);
                return sg_error(SG_ERR_INVALID_ARG,
                                "--cache-activations %s holds activations made differently from this run: %s. Use "
                                "another folder, or delete this one to rebuild it",
                                o->dir, diff);
            }
            SG_LOGI("activation cache: reusing %s", o->dir);
        }
        build_it = !m;
    }
    st = sg_dist_bcast(&build_it, sizeof build_it, 0);
    if (st == SG_OK && build_it) {
        SG_LOGI("activation cache: building %s (layer %d, %s tokens, %s%s)", o->dir, o->layer, id.tokens,
                o->bf16 ? "bf16" : "f32", sg_dist_size() > 1 ? ", every rank its own shards" : "");
        st = build(o, &id);
        if (st != SG_OK) return sg_error_wrap(st, "building the activation cache in %s", o->dir);
    }
    if (st == SG_OK) st = sg_dist_barrier(); /* the manifest is on disk */
    if (st == SG_OK && !m) {
        m = read_manifest(path, &st);
        if (st == SG_OK && !m) st = sg_error(SG_ERR_IO, "%s: missing after the cache was built", path);
    }
    if (st != SG_OK) {
        cJSON_Delete(m);
        return st;
    }
    st = open_shards(o->dir, m, id.d_model, out);
    cJSON_Delete(m);
    return st;
}
