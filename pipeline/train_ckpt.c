/* Checkpoints: output/checkpoint.safetensors, written to a temporary file and renamed, so a kill
 * at any moment leaves the previous checkpoint or the new one, never a torn file. Tensors hold
 * the weights, Adam moments, dead-latent counters and the shuffle pool; the metadata key
 * "saeg.checkpoint" holds the step, generator states and data position as JSON. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "pipeline/train_priv.h"

#define CKPT_KEY     "saeg.checkpoint"
#define CKPT_VERSION 1
#define MAX_TENSORS  (3 * SG_TRAIN_MAX_PARAMS + 4)

void sg_checkpoint_path(const char *output, char *out, size_t cap) {
    snprintf(out, cap, "%s/checkpoint.safetensors", output);
}

static void add_u64(cJSON *o, const char *key, uint64_t v) {
    char s[24];
    snprintf(s, sizeof s, "%016" PRIx64, v);
    cJSON_AddStringToObject(o, key, s);
}

static bool get_u64(const cJSON *o, const char *key, uint64_t *v) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(x)) return false;
    char *end;
    *v = strtoull(x->valuestring, &end, 16);
    return *end == '\0';
}

static double get_num(const cJSON *o, const char *key, double dflt) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(x) ? x->valuedouble : dflt;
}

/* What must agree between a checkpoint and the run resuming it. */
static void identity_json(const struct sg_trainer *t, cJSON *o) {
    const struct sg_sae_config *c = &t->sae->cfg;
    cJSON_AddStringToObject(o, "architecture", sg_sae_arch_name(c->arch));
    cJSON_AddNumberToObject(o, "d_in", (double)c->d_in);
    cJSON_AddNumberToObject(o, "d_sae", (double)c->d_sae);
    cJSON_AddNumberToObject(o, "k", c->k);
    cJSON_AddNumberToObject(o, "batch", (double)t->o.batch);
    cJSON_AddNumberToObject(o, "pool_tokens", (double)t->pool->cap);
    cJSON_AddNumberToObject(o, "layer", t->layer);
    cJSON_AddStringToObject(o, "tokens", sg_tokens_name(t->o.tokens));
    cJSON_AddStringToObject(o, "model_fingerprint", t->model_fp);
    cJSON_AddStringToObject(o, "data_fingerprint", t->data_fp);
}

static char *state_json(const struct sg_trainer *t) {
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    cJSON_AddNumberToObject(root, "version", CKPT_VERSION);
    identity_json(t, root);
    cJSON_AddNumberToObject(root, "step", (double)t->step);
    cJSON_AddNumberToObject(root, "steps", (double)t->o.steps);
    cJSON_AddNumberToObject(root, "tokens_seen", (double)t->tokens_seen);
    cJSON_AddNumberToObject(root, "window_tokens", (double)t->window_tokens);
    cJSON_AddNumberToObject(root, "elapsed_s", t->elapsed_s);
    cJSON_AddNumberToObject(root, "scale", (double)t->sae->scale);
    cJSON_AddNumberToObject(root, "batch_threshold", t->sae->batch_threshold);
    cJSON_AddNumberToObject(root, "pool_cursor", (double)t->pool->cursor);
    cJSON_AddBoolToObject(root, "pool_filled", t->pool->filled);
    cJSON *rng = cJSON_AddObjectToObject(root, "pool_rng");
    for (int i = 0; rng && i < 4; i++) {
        char k[4] = {'s', (char)('0' + i), 0};
        add_u64(rng, k, t->pool->rng.s[i]);
    }
    struct sg_act_pos pos = t->src->tell(t->src);
    cJSON *p              = cJSON_AddObjectToObject(root, "data_position");
    if (p) {
        cJSON_AddNumberToObject(p, "epoch", (double)pos.epoch);
        cJSON_AddNumberToObject(p, "item", (double)pos.item);
        cJSON_AddNumberToObject(p, "offset", (double)pos.offset);
    }
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}

/* Host copies of the device tensors, in checkpoint order. */
struct dump {
    int n;
    struct sg_st_decl decl[MAX_TENSORS];
    void *data[MAX_TENSORS];
    bool owned[MAX_TENSORS];
};

static void dump_free(struct dump *d) {
    for (int i = 0; i < d->n; i++)
        if (d->owned[i]) free(d->data[i]);
}

static sg_status dump_tensor(struct dump *d, const char *name, const struct sg_tensor *t) {
    size_t n = (size_t)sg_nelements(t);
    void *h  = malloc(n * sizeof(float));
    if (!h) return sg_error(SG_ERR_NO_MEMORY, "checkpoint: out of memory");
    sg_status st = sg_tensor_get(t, h, 0, n * sizeof(float));
    if (st != SG_OK) {
        free(h);
        return st;
    }
    struct sg_st_decl *dc = &d->decl[d->n];
    *dc                   = (struct sg_st_decl){.name = name, .dtype = SG_ST_F32, .n_dims = sg_rank(t)};
    for (int k = 0; k < dc->n_dims; k++) dc->shape[k] = t->ne[dc->n_dims - 1 - k];
    d->data[d->n]  = h;
    d->owned[d->n] = true;
    d->n++;
    return SG_OK;
}

static void dump_host(struct dump *d, const char *name, enum sg_st_dtype dt, int n_dims, const int64_t *shape,
                      void *data) {
    struct sg_st_decl *dc = &d->decl[d->n];
    *dc                   = (struct sg_st_decl){.name = name, .dtype = dt, .n_dims = n_dims};
    for (int k = 0; k < n_dims; k++) dc->shape[k] = shape[k];
    d->data[d->n]  = data;
    d->owned[d->n] = false;
    d->n++;
}

static size_t decl_bytes(const struct sg_st_decl *d) {
    size_t n = sg_st_dtype_size(d->dtype);
    for (int i = 0; i < d->n_dims; i++) n *= (size_t)d->shape[i];
    return n;
}

sg_status sg_checkpoint_save(struct sg_trainer *t) {
    struct dump d = {0};
    char names[SG_TRAIN_MAX_PARAMS][3][80];
    sg_status st = SG_OK;
    for (int i = 0; st == SG_OK && i < t->adam.n; i++) {
        snprintf(names[i][0], 80, "%s", t->adam.param[i]->name);
        snprintf(names[i][1], 80, "adam.m.%s", t->adam.param[i]->name);
        snprintf(names[i][2], 80, "adam.v.%s", t->adam.param[i]->name);
        st = dump_tensor(&d, names[i][0], t->adam.param[i]);
        if (st == SG_OK) st = dump_tensor(&d, names[i][1], t->adam.m[i]);
        if (st == SG_OK) st = dump_tensor(&d, names[i][2], t->adam.v[i]);
    }
    const int64_t M = t->sae->cfg.d_sae;
    if (st == SG_OK) {
        dump_host(&d, "since_fired", SG_ST_I64, 1, (int64_t[]){M}, t->since_fired);
        dump_host(&d, "window_fired", SG_ST_F64, 1, (int64_t[]){M}, t->window_fired);
        dump_host(&d, "pool.rows", SG_ST_F32, 2, (int64_t[]){t->pool->cap, t->pool->d}, t->pool->rows);
        dump_host(&d, "pool.perm", SG_ST_I32, 1, (int64_t[]){t->pool->cap}, t->pool->perm);
    }
    char *state = st == SG_OK ? state_json(t) : NULL;
    if (st == SG_OK && !state) st = sg_error(SG_ERR_NO_MEMORY, "checkpoint: out of memory");
    char path[4200];
    sg_checkpoint_path(t->o.output, path, sizeof path);
    struct sg_st_writer *w = NULL;
    const char *meta[]     = {CKPT_KEY, state, NULL};
    if (st == SG_OK) st = sg_st_writer_open(path, d.decl, d.n, meta, &w);
    for (int i = 0; st == SG_OK && i < d.n; i++) st = sg_st_writer_put(w, i, 0, d.data[i], decl_bytes(&d.decl[i]));
    if (st == SG_OK)
        st = sg_st_writer_close(w);
    else
        sg_st_writer_abort(w);
    free(state);
    dump_free(&d);
    return st == SG_OK ? SG_OK : sg_error_wrap(st, "writing the checkpoint");
}

/* ---- loading ----------------------------------------------------------------------------- */

static sg_status load_into(const struct sg_st_file *f, const char *name, enum sg_st_dtype dt, void *dst, size_t bytes) {
    const struct sg_st_tensor *x = sg_st_find(f, name);
    if (!x || x->dtype != dt || x->nbytes != bytes)
        return sg_error(SG_ERR_FORMAT, "%s: tensor '%s' is missing or has another size", sg_st_path(f), name);
    memcpy(dst, x->data, bytes);
    return SG_OK;
}

static sg_status load_tensor(const struct sg_st_file *f, const char *name, struct sg_tensor *t) {
    size_t bytes = (size_t)sg_nelements(t) * sizeof(float);
    float *h     = malloc(bytes);
    if (!h) return sg_error(SG_ERR_NO_MEMORY, "checkpoint: out of memory");
    sg_status st = load_into(f, name, SG_ST_F32, h, bytes);
    if (st == SG_OK) st = sg_tensor_set(t, h, 0, bytes);
    free(h);
    return st;
}

/* Names every identity field where the checkpoint and this run differ. */
static int identity_diff(const cJSON *ck, const struct sg_trainer *t, char *buf, size_t cap) {
    cJSON *mine = cJSON_CreateObject();
    if (!mine) return 0;
    identity_json(t, mine);
    int n      = 0;
    size_t len = 0;
    for (const cJSON *m = mine->child; m; m = m->next) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(ck, m->string);
        char a[128], b[128];
        if (cJSON_IsString(m))
            snprintf(a, sizeof a, "%s", m->valuestring);
        else
            snprintf(a, sizeof a, "%.0f", m->valuedouble);
        if (cJSON_IsString(c))
            snprintf(b, sizeof b, "%s", c->valuestring);
        else if (cJSON_IsNumber(c))
            snprintf(b, sizeof b, "%.0f", c->valuedouble);
        else
            snprintf(b, sizeof b, "(none)");
        if (strcmp(a, b) != 0 && len < cap)
            len += (size_t)snprintf(buf + len, cap - len, "%s%s (checkpoint: %s, this run: %s)", n++ ? "; " : "",
                                    m->string, b, a);
    }
    cJSON_Delete(mine);
    return n;
}

sg_status sg_checkpoint_load(struct sg_trainer *t) {
    char path[4200];
    sg_checkpoint_path(t->o.output, path, sizeof path);
    struct sg_st_file *f;
    sg_status st = sg_st_open(path, &f);
    if (st != SG_OK) return sg_error_wrap(st, "--resume");
    const char *meta = sg_st_metadata(f, CKPT_KEY);
    cJSON *ck        = meta ? cJSON_Parse(meta) : NULL;
    if (!ck || get_num(ck, "version", 0) != CKPT_VERSION) {
        cJSON_Delete(ck);
        sg_st_close(f);
        return sg_error(SG_ERR_FORMAT, "%s: not a saeg checkpoint (no '%s' metadata of version %d)", path, CKPT_KEY,
                        CKPT_VERSION);
    }
    char diff[2048];
    if (identity_diff(ck, t, diff, sizeof diff) > 0) {
        cJSON_Delete(ck);
        sg_st_close(f);
        return sg_error(SG_ERR_INVALID_ARG, "--resume: %s was written by a different run: %s", path, diff);
    }
    for (int i = 0; st == SG_OK && i < t->adam.n; i++) {
        char n[80];
        st = load_tensor(f, t->adam.param[i]->name, t->adam.param[i]);
        snprintf(n, sizeof n, "adam.m.%s", t->adam.param[i]->name);
        if (st == SG_OK) st = load_tensor(f, n, t->adam.m[i]);
        snprintf(n, sizeof n, "adam.v.%s", t->adam.param[i]->name);
        if (st == SG_OK) st = load_tensor(f, n, t->adam.v[i]);
    }
    const int64_t M   = t->sae->cfg.d_sae;
    struct sg_pool *p = t->pool;
    if (st == SG_OK) st = load_into(f, "since_fired", SG_ST_I64, t->since_fired, (size_t)M * 8);
    if (st == SG_OK) st = load_into(f, "window_fired", SG_ST_F64, t->window_fired, (size_t)M * 8);
    if (st == SG_OK) st = load_into(f, "pool.rows", SG_ST_F32, p->rows, (size_t)(p->cap * p->d) * 4);
    if (st == SG_OK) st = load_into(f, "pool.perm", SG_ST_I32, p->perm, (size_t)p->cap * 4);
    const cJSON *rng = cJSON_GetObjectItemCaseSensitive(ck, "pool_rng");
    for (int i = 0; st == SG_OK && i < 4; i++) {
        char k[4] = {'s', (char)('0' + i), 0};
        if (!get_u64(rng, k, &p->rng.s[i])) st = sg_error(SG_ERR_FORMAT, "%s: bad pool_rng", path);
    }
    if (st == SG_OK) {
        t->step                 = (int64_t)get_num(ck, "step", 0);
        t->tokens_seen          = (int64_t)get_num(ck, "tokens_seen", 0);
        t->window_tokens        = (int64_t)get_num(ck, "window_tokens", 0);
        t->elapsed_s            = get_num(ck, "elapsed_s", 0);
        t->sae->scale           = (float)get_num(ck, "scale", 1);
        t->sae->batch_threshold = get_num(ck, "batch_threshold", 0);
        p->cursor               = (int64_t)get_num(ck, "pool_cursor", 0);
        p->filled               = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ck, "pool_filled"));
        const cJSON *dp         = cJSON_GetObjectItemCaseSensitive(ck, "data_position");
        struct sg_act_pos pos   = {(int64_t)get_num(dp, "epoch", 0), (int64_t)get_num(dp, "item", 0),
                                   (int64_t)get_num(dp, "offset", 0)};
        if (p->cursor < 0 || p->cursor > p->cap) st = sg_error(SG_ERR_FORMAT, "%s: bad pool cursor", path);
        if (st == SG_OK) st = t->src->seek(t->src, pos);
    }
    cJSON_Delete(ck);
    sg_st_close(f);
    return st;
}
