/* Extraction checkpoints (extract_ckpt.h). The accumulators are plain arrays and go in as they
 * are; the ragged parts are flattened: top-cell heaps as [d_sae][top_k_cells] with a count per
 * feature (heap order kept), histogram reservoirs concatenated with a count per feature, and
 * the (feature, gene) table as its occupied slots (re-inserted on load: the table's layout
 * never reaches the output, whose ties are broken by id). */
#include "pipeline/extract_ckpt.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"

#define CKPT_FORMAT "saeg.extract-checkpoint.v1"

enum {
    T_N_ACTIVE,
    T_SUM_ACT,
    T_MIN_ACT,
    T_MAX_ACT,
    T_N_ACTIVE_CELLS,
    T_TYPE_ACTIVE,
    T_TYPE_SIZE,
    T_CLS_N,
    T_CLS_SUM,
    T_CLS_MAX,
    T_TOP_N,
    T_TOP_SCORE,
    T_TOP_ID,
    T_TOP_EXTRA,
    T_EXPRESSED,
    T_RES_N,
    T_RES_V,
    T_PAIR_KEY,
    T_PAIR_SUM,
    T_PAIR_MAX,
    T_PAIR_N,
    T_COUNT
};

/* name, dtype, element count and (host) data of each tensor */
struct slot {
    const char *name;
    enum sg_st_dtype dtype;
    int64_t n;
    void *data;
    bool owned; /* a flattened copy made for the writer */
};

/* The plain arrays; the flattened ones are filled in by the callers. */
static void plain_slots(const struct sg_extract_acc *a, struct slot s[T_COUNT]) {
    const int64_t M = a->o.d_sae, T = a->o.n_types ? a->o.n_types : 1, KC = a->o.top_k_cells;
    s[T_N_ACTIVE]       = (struct slot){"n_active", SG_ST_I64, M, a->n_active, false};
    s[T_SUM_ACT]        = (struct slot){"sum_act", SG_ST_F64, M, a->sum_act, false};
    s[T_MIN_ACT]        = (struct slot){"min_act", SG_ST_F32, M, a->min_act, false};
    s[T_MAX_ACT]        = (struct slot){"max_act", SG_ST_F32, M, a->max_act, false};
    s[T_N_ACTIVE_CELLS] = (struct slot){"n_active_cells", SG_ST_I64, M, a->n_active_cells, false};
    s[T_TYPE_ACTIVE]    = (struct slot){"type_active", SG_ST_U32, M * T, a->type_active, false};
    s[T_TYPE_SIZE]      = (struct slot){"type_size", SG_ST_I64, T, a->type_size, false};
    s[T_CLS_N]          = (struct slot){"cls_n", SG_ST_I64, M, a->cls_n, false};
    s[T_CLS_SUM]        = (struct slot){"cls_sum", SG_ST_F64, M, a->cls_sum, false};
    s[T_CLS_MAX]        = (struct slot){"cls_max", SG_ST_F32, M, a->cls_max, false};
    s[T_TOP_N]          = (struct slot){"top_cells.n", SG_ST_I32, M, NULL, false};
    s[T_TOP_SCORE]      = (struct slot){"top_cells.score", SG_ST_F64, M * KC, NULL, false};
    s[T_TOP_ID]         = (struct slot){"top_cells.id", SG_ST_I64, M * KC, NULL, false};
    s[T_TOP_EXTRA]      = (struct slot){"top_cells.extra", SG_ST_F32, M * KC, NULL, false};
    s[T_EXPRESSED]      = (struct slot){"expressed", SG_ST_I64, a->o.n_var, a->expressed, false};
    s[T_RES_N]          = (struct slot){"reservoir.n", SG_ST_I32, M, NULL, false};
    s[T_RES_V]          = (struct slot){"reservoir.values", SG_ST_F32, 0, NULL, false};
    s[T_PAIR_KEY]       = (struct slot){"pairs.key", SG_ST_U64, (int64_t)a->pairs.n, NULL, false};
    s[T_PAIR_SUM]       = (struct slot){"pairs.sum", SG_ST_F64, (int64_t)a->pairs.n, NULL, false};
    s[T_PAIR_MAX]       = (struct slot){"pairs.max", SG_ST_F64, (int64_t)a->pairs.n, NULL, false};
    s[T_PAIR_N]         = (struct slot){"pairs.n", SG_ST_U32, (int64_t)a->pairs.n, NULL, false};
    int64_t n_res       = 0;
    for (int64_t f = 0; f < M; f++) n_res += a->res[f].n;
    s[T_RES_V].n = n_res;
}

/* ---- save ------------------------------------------------------------------------------------ */

/* the flattened arrays, in host memory for the writer */
static sg_status flatten(const struct sg_extract_acc *a, struct slot s[T_COUNT]) {
    for (int i = T_TOP_N; i <= T_PAIR_N; i++) {
        if (s[i].data) continue;
        s[i].owned = true;
        s[i].data  = malloc((size_t)(s[i].n ? s[i].n : 1) * sg_st_dtype_size(s[i].dtype));
        if (!s[i].data) return sg_error(SG_ERR_NO_MEMORY, "out of memory for the checkpoint's %s", s[i].name);
    }
    const int64_t M = a->o.d_sae, KC = a->o.top_k_cells;
    int32_t *top_n = s[T_TOP_N].data, *res_n = s[T_RES_N].data;
    double *score = s[T_TOP_SCORE].data;
    int64_t *id   = s[T_TOP_ID].data;
    float *extra = s[T_TOP_EXTRA].data, *res_v = s[T_RES_V].data;
    int64_t at = 0;
    for (int64_t f = 0; f < M; f++) {
        const struct sg_topk *h = &a->top_cells[f];
        top_n[f]                = h->n;
        for (int64_t j = 0; j < KC; j++) {
            const struct sg_topk_entry e = j < h->n ? h->e[j] : (struct sg_topk_entry){0};
            score[f * KC + j]            = e.score;
            id[f * KC + j]               = e.id;
            extra[f * KC + j]            = e.extra;
        }
        res_n[f] = a->res[f].n;
        if (a->res[f].n) memcpy(res_v + at, a->res[f].v, (size_t)a->res[f].n * sizeof *res_v);
        at += a->res[f].n;
    }
    uint64_t *key = s[T_PAIR_KEY].data;
    double *sum = s[T_PAIR_SUM].data, *max = s[T_PAIR_MAX].data;
    uint32_t *cnt = s[T_PAIR_N].data;
    uint64_t k    = 0;
    for (uint64_t i = 0; i < a->pairs.cap; i++) {
        const struct sg_pair *p = &a->pairs.slot[i];
        if (p->key == UINT64_MAX) continue;
        key[k] = p->key;
        sum[k] = p->sum;
        max[k] = p->max;
        cnt[k] = p->n;
        k++;
    }
    return SG_OK;
}

sg_status sg_extract_ckpt_save(const struct sg_extract_acc *a, const char *path,
                               const struct sg_extract_ckpt_state *s) {
    struct slot sl[T_COUNT];
    plain_slots(a, sl);
    sg_status st = flatten(a, sl);
    struct sg_st_decl decls[T_COUNT];
    for (int i = 0; i < T_COUNT; i++) decls[i] = (struct sg_st_decl){sl[i].name, sl[i].dtype, 1, {sl[i].n}};
    char next[24], trunc[24], spool[24], cells[24], tokens[24], rng[24];
    snprintf(next, sizeof next, "%" PRId64, s->next_cell);
    snprintf(trunc, sizeof trunc, "%" PRId64, s->truncated);
    snprintf(spool, sizeof spool, "%" PRId64, s->spool_bytes);
    snprintf(cells, sizeof cells, "%" PRId64, a->n_cells);
    snprintf(tokens, sizeof tokens, "%" PRId64, a->n_tokens);
    snprintf(rng, sizeof rng, "%016" PRIx64, a->rng);
    const char *meta[]     = {"format",    CKPT_FORMAT, "settings",    s->settings, "next_cell", next,
                              "truncated", trunc,       "spool_bytes", spool,       "n_cells",   cells,
                              "n_tokens",  tokens,      "rng",         rng,         NULL};
    struct sg_st_writer *w = NULL;
    if (st == SG_OK) st = sg_st_writer_open(path, decls, T_COUNT, meta, &w);
    for (int i = 0; st == SG_OK && i < T_COUNT; i++)
        if (sl[i].n) st = sg_st_writer_put(w, i, 0, sl[i].data, (size_t)sl[i].n * sg_st_dtype_size(sl[i].dtype));
    if (st == SG_OK) {
        st = sg_st_writer_close(w); /* fsync, then rename over the previous checkpoint */
        w  = NULL;
    }
    sg_st_writer_abort(w);
    for (int i = 0; i < T_COUNT; i++)
        if (sl[i].owned) free(sl[i].data);
    return st;
}

/* ---- load ------------------------------------------------------------------------------------ */

/* The first setting that differs, as "key: was X, now Y" (cJSON objects of strings/numbers). */
static void first_difference(const char *was, const char *now, char *out, size_t cap) {
    cJSON *a = cJSON_Parse(was), *b = cJSON_Parse(now);
    snprintf(out, cap, "the settings differ");
    const cJSON *x;
    cJSON_ArrayForEach(x, b) {
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(a, x->string);
        char *sx = cJSON_PrintUnformatted(x), *sy = y ? cJSON_PrintUnformatted(y) : NULL;
        const bool same = sx && sy && strcmp(sx, sy) == 0;
        if (!same) snprintf(out, cap, "%s was %s, now %s", x->string, sy ? sy : "(unset)", sx ? sx : "?");
        free(sx);
        free(sy);
        if (!same) break;
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
}

static int64_t meta_i64(const struct sg_st_file *f, const char *key, bool *ok) {
    const char *v = sg_st_metadata(f, key);
    char *end;
    long long x = v ? strtoll(v, &end, 10) : 0;
    if (!v || *end || x < 0) *ok = false;
    return x;
}

static sg_status read_slot(const struct sg_st_file *f, const struct slot *s) {
    const struct sg_st_tensor *t = sg_st_find(f, s->name);
    if (!t || t->dtype != s->dtype || t->n_elements != s->n)
        return sg_error(SG_ERR_INVALID_ARG, "%s: %s is missing or has another size (%" PRId64 " %s expected)",
                        sg_st_path(f), s->name, s->n, sg_st_dtype_name(s->dtype));
    if (s->data && s->n) memcpy(s->data, t->data, t->nbytes);
    return SG_OK;
}

static sg_status restore_ragged(struct sg_extract_acc *a, const struct sg_st_file *f) {
    const int64_t M = a->o.d_sae, KC = a->o.top_k_cells;
    const char *path              = sg_st_path(f);
    const struct sg_st_tensor *tn = sg_st_find(f, "top_cells.n"), *sc = sg_st_find(f, "top_cells.score"),
                              *id = sg_st_find(f, "top_cells.id"), *ex = sg_st_find(f, "top_cells.extra"),
                              *rn = sg_st_find(f, "reservoir.n"), *rv = sg_st_find(f, "reservoir.values");
    for (int64_t f_ = 0, at = 0; f_ < M; f_++) {
        int32_t n, r;
        memcpy(&n, (const char *)tn->data + f_ * 4, 4);
        memcpy(&r, (const char *)rn->data + f_ * 4, 4);
        if (n < 0 || n > KC || r < 0 || r > a->o.histogram_samples || at + r > rv->n_elements)
            return sg_error(SG_ERR_INVALID_ARG, "%s: feature %" PRId64 " has inconsistent counts (damaged?)", path, f_);
        struct sg_topk *h = &a->top_cells[f_];
        h->n              = n;
        for (int32_t j = 0; j < n; j++) {
            const int64_t i = f_ * KC + j;
            memcpy(&h->e[j].score, (const char *)sc->data + i * 8, 8);
            memcpy(&h->e[j].id, (const char *)id->data + i * 8, 8);
            memcpy(&h->e[j].extra, (const char *)ex->data + i * 4, 4);
        }
        if (r) {
            a->res[f_].v = malloc((size_t)r * sizeof(float));
            if (!a->res[f_].v) return sg_error(SG_ERR_NO_MEMORY, "out of memory for the histogram samples");
            memcpy(a->res[f_].v, (const char *)rv->data + at * 4, (size_t)r * 4);
            a->res[f_].n = a->res[f_].cap = r;
        }
        at += r;
    }
    const struct sg_st_tensor *key = sg_st_find(f, "pairs.key"), *sum = sg_st_find(f, "pairs.sum"),
                              *max = sg_st_find(f, "pairs.max"), *cnt = sg_st_find(f, "pairs.n");
    for (int64_t i = 0; i < key->n_elements; i++) {
        uint64_t k;
        double s, m;
        uint32_t n;
        memcpy(&k, (const char *)key->data + i * 8, 8);
        memcpy(&s, (const char *)sum->data + i * 8, 8);
        memcpy(&m, (const char *)max->data + i * 8, 8);
        memcpy(&n, (const char *)cnt->data + i * 4, 4);
        const uint32_t feature = (uint32_t)(k >> 32), gene = (uint32_t)k;
        if (feature >= (uint64_t)M || gene >= (uint64_t)a->o.n_var || n == 0)
            return sg_error(SG_ERR_INVALID_ARG, "%s: pair %" PRId64 " is out of range (damaged?)", path, i);
        sg_status st = sg_pairs_set(&a->pairs, feature, gene, s, m, n);
        if (st != SG_OK) return st;
    }
    return SG_OK;
}

sg_status sg_extract_ckpt_load(struct sg_extract_acc *a, const char *path, struct sg_extract_ckpt_state *s) {
    struct sg_st_file *f = NULL;
    sg_status st         = sg_st_open(path, &f);
    if (st != SG_OK) return st;
    const char *fmt = sg_st_metadata(f, "format"), *settings = sg_st_metadata(f, "settings");
    if (!fmt || strcmp(fmt, CKPT_FORMAT) != 0 || !settings) {
        st = sg_error(SG_ERR_INVALID_ARG, "%s: not an extraction checkpoint of this saeg (format %s)", path,
                      fmt ? fmt : "missing");
    } else if (strcmp(settings, s->settings) != 0) {
        char diff[512];
        first_difference(settings, s->settings, diff, sizeof diff);
        st = sg_error(SG_ERR_INVALID_ARG, "%s: the interrupted extraction had other settings (%s)", path, diff);
    }
    bool ok          = true;
    s->next_cell     = meta_i64(f, "next_cell", &ok);
    s->truncated     = meta_i64(f, "truncated", &ok);
    s->spool_bytes   = meta_i64(f, "spool_bytes", &ok);
    int64_t n_cells  = meta_i64(f, "n_cells", &ok);
    int64_t n_tokens = meta_i64(f, "n_tokens", &ok);
    const char *rng  = sg_st_metadata(f, "rng");
    if (st == SG_OK && (!ok || !rng || n_cells != s->next_cell))
        st = sg_error(SG_ERR_INVALID_ARG, "%s: damaged metadata (next_cell, counts or rng)", path);
    struct slot sl[T_COUNT];
    plain_slots(a, sl);
    /* the ragged sizes are whatever was saved; everything else must be this run's shape */
    const struct sg_st_tensor *rv = sg_st_find(f, "reservoir.values"), *pk = sg_st_find(f, "pairs.key");
    sl[T_RES_V].n = rv ? rv->n_elements : -1;
    for (int i = T_PAIR_KEY; i <= T_PAIR_N; i++) sl[i].n = pk ? pk->n_elements : -1;
    for (int i = 0; st == SG_OK && i < T_COUNT; i++) st = read_slot(f, &sl[i]);
    if (st == SG_OK) st = restore_ragged(a, f);
    if (st == SG_OK) {
        a->n_cells  = n_cells;
        a->n_tokens = n_tokens;
        a->rng      = strtoull(rng, NULL, 16);
    }
    sg_st_close(f);
    return st;
}
