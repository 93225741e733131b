/* SAELens v6 files (../shared/reference/sae.md §3): cfg.json, sae_weights.safetensors and
 * sparsity.safetensors, written atomically (temp file + rename) and read back with every key,
 * shape and dtype checked. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/types.h"
#include "io/safetensors.h"
#include "models/sae.h"

/* The format version written: SAELens treats anything below 6.0.0 as the pre-6 flat layout. */
#define SAE_LENS_FORMAT_VERSION "6.0.0"

static sg_status write_text_atomic(const char *path, const char *text) {
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return sg_error(SG_ERR_INVALID_ARG, "%s: path too long", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return sg_error(SG_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    size_t n = strlen(text);
    bool ok  = fwrite(text, 1, n, f) == n && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok       = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return sg_error(SG_ERR_IO, "cannot write %s: %s", path, strerror(e));
    }
    return SG_OK;
}

static sg_status get_host(const struct sg_tensor *t, float **out) {
    size_t n = (size_t)sg_nelements(t);
    *out     = malloc(n * sizeof(float));
    if (!*out) return sg_error(SG_ERR_NO_MEMORY, "SAE: out of memory reading %s", t->name);
    sg_status st = sg_tensor_get(t, *out, 0, n * sizeof(float));
    if (st != SG_OK) {
        free(*out);
        *out = NULL;
    }
    return st;
}

static cJSON *cfg_json(const struct sg_sae *sae, const struct sg_sae_meta *m) {
    const struct sg_sae_config *c = &sae->cfg;
    enum sg_sae_arch saved        = sg_sae_arch_saved(c->arch);
    cJSON *root                   = cJSON_CreateObject();
    if (!root) return NULL;
    cJSON_AddStringToObject(root, "architecture", sg_sae_arch_name(saved));
    cJSON_AddNumberToObject(root, "d_in", (double)c->d_in);
    cJSON_AddNumberToObject(root, "d_sae", (double)c->d_sae);
    cJSON_AddStringToObject(root, "dtype", "float32");
    cJSON_AddStringToObject(root, "device", "cpu");
    cJSON_AddBoolToObject(root, "apply_b_dec_to_input", true);
    cJSON_AddStringToObject(root, "normalize_activations", "none");
    cJSON_AddStringToObject(root, "reshape_activations", "none");
    if (saved == SG_SAE_TOPK) {
        cJSON_AddNumberToObject(root, "k", c->k);
        /* the decoder is kept at unit norm, so selection needs no rescaling */
        cJSON_AddBoolToObject(root, "rescale_acts_by_decoder_norm", false);
    }
    cJSON *md = cJSON_AddObjectToObject(root, "metadata");
    if (!md) {
        cJSON_Delete(root);
        return NULL;
    }
    char hook[64];
    snprintf(hook, sizeof hook, "transformer_encoder.layers.%d", m ? m->layer : 0);
    cJSON_AddStringToObject(md, "sae_lens_version", SAE_LENS_FORMAT_VERSION);
    cJSON_AddStringToObject(md, "sae_lens_training_version", SAE_LENS_FORMAT_VERSION);
    cJSON_AddStringToObject(md, "model_name", m && m->model_name ? m->model_name : "tahoe-x1");
    cJSON_AddStringToObject(md, "hook_name", hook);
    cJSON_AddNullToObject(md, "hook_head_index");
    cJSON_AddStringToObject(md, "model_class_name", "TahoeX1");
    cJSON_AddNumberToObject(md, "context_size", m ? (double)m->context_size : 0);
    cJSON_AddBoolToObject(md, "prepend_bos", true); /* every cell starts with its CLS token */
    if (m && m->dataset_path)
        cJSON_AddStringToObject(md, "dataset_path", m->dataset_path);
    else
        cJSON_AddNullToObject(md, "dataset_path");
    cJSON_AddBoolToObject(md, "exclude_special_tokens", m && m->tokens && strcmp(m->tokens, "genes") == 0);
    cJSON_AddNullToObject(md, "neuronpedia_id");
    /* our own fields: SAELens keeps unknown metadata as is */
    if (m && m->model_size) cJSON_AddStringToObject(md, "model_size", m->model_size);
    if (m && m->model_path) cJSON_AddStringToObject(md, "model_path", m->model_path);
    cJSON_AddNumberToObject(md, "layer", m ? m->layer : 0);
    cJSON_AddStringToObject(md, "token_selection", m && m->tokens ? m->tokens : "genes");
    cJSON_AddStringToObject(md, "training_architecture", sg_sae_arch_name(c->arch));
    if (sg_sae_arch_is_topk_family(c->arch)) cJSON_AddNumberToObject(md, "k", c->k);
    cJSON_AddStringToObject(md, "trained_with", "saeg");
    return root;
}

sg_status sg_sae_save(struct sg_sae *sae, const char *dir, const struct sg_sae_meta *meta) {
    const struct sg_sae_config *c = &sae->cfg;
    const int64_t D = c->d_in, M = c->d_sae;
    if (sae->scale != 1.0f) return sg_error(SG_ERR_INVALID_ARG, "SAE: fold the input scale before saving");
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return sg_error(SG_ERR_IO, "cannot create %s: %s", dir, strerror(errno));

    float *we = NULL, *be = NULL, *wd = NULL, *bd = NULL, *th = NULL, *wt = NULL;
    sg_status st = get_host(sae->W_enc, &we);
    if (st == SG_OK) st = get_host(sae->b_enc, &be);
    if (st == SG_OK) st = get_host(sae->W_dec, &wd);
    if (st == SG_OK) st = get_host(sae->b_dec, &bd);
    bool has_th = sg_sae_arch_saved(c->arch) == SG_SAE_JUMPRELU;
    if (st == SG_OK && has_th) st = get_host(sae->threshold, &th);
    if (st == SG_OK && !(wt = malloc((size_t)(D * M) * sizeof *wt))) st = sg_error(SG_ERR_NO_MEMORY, "out of memory");
    if (st == SG_OK) {
        /* rows of latents -> SAELens's W_enc [d_in, d_sae] */
        for (int64_t j = 0; j < M; j++)
            for (int64_t i = 0; i < D; i++) wt[i * M + j] = we[j * D + i];
    }
    char path[4200];
    if (st == SG_OK) {
        struct sg_st_decl d[5] = {
            {"W_enc", SG_ST_F32, 2, {D, M}}, {"b_enc", SG_ST_F32, 1, {M}},     {"W_dec", SG_ST_F32, 2, {M, D}},
            {"b_dec", SG_ST_F32, 1, {D}},    {"threshold", SG_ST_F32, 1, {M}},
        };
        const float *data[5]        = {wt, be, wd, bd, th};
        const char *const meta_st[] = {"format", "pt", NULL};
        struct sg_st_writer *w;
        snprintf(path, sizeof path, "%s/sae_weights.safetensors", dir);
        st = sg_st_writer_open(path, d, has_th ? 5 : 4, meta_st, &w);
        for (int i = 0; st == SG_OK && i < (has_th ? 5 : 4); i++) {
            size_t n = 4;
            for (int k = 0; k < d[i].n_dims; k++) n *= (size_t)d[i].shape[k];
            st = sg_st_writer_put(w, i, 0, data[i], n);
        }
        if (st == SG_OK)
            st = sg_st_writer_close(w);
        else if (w)
            sg_st_writer_abort(w);
    }
    if (st == SG_OK) {
        cJSON *root = cfg_json(sae, meta);
        char *text  = root ? cJSON_Print(root) : NULL;
        cJSON_Delete(root);
        if (!text) st = sg_error(SG_ERR_NO_MEMORY, "out of memory writing cfg.json");
        snprintf(path, sizeof path, "%s/cfg.json", dir);
        if (st == SG_OK) st = write_text_atomic(path, text);
        free(text);
    }
    free(we);
    free(be);
    free(wd);
    free(bd);
    free(th);
    free(wt);
    return st;
}

sg_status sg_sae_save_sparsity(const char *dir, const float *freq, int64_t d_sae) {
    float *s = malloc((size_t)d_sae * sizeof *s);
    if (!s) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    for (int64_t i = 0; i < d_sae; i++) s[i] = (float)log10((double)freq[i] + 1e-10);
    char path[4200];
    snprintf(path, sizeof path, "%s/sparsity.safetensors", dir);
    struct sg_st_decl d      = {"sparsity", SG_ST_F32, 1, {d_sae}};
    const char *const meta[] = {"format", "pt", NULL};
    struct sg_st_writer *w   = NULL;
    sg_status st             = sg_st_writer_open(path, &d, 1, meta, &w);
    if (st == SG_OK) st = sg_st_writer_put(w, 0, 0, s, (size_t)d_sae * sizeof(float));
    if (st == SG_OK)
        st = sg_st_writer_close(w);
    else
        sg_st_writer_abort(w);
    free(s);
    return st;
}

/* ---- reading ----------------------------------------------------------------------------- */

static char *read_file(const char *path, long *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
            if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
                free(buf);
                buf = NULL;
            } else {
                buf[n] = '\0';
                *size  = n;
            }
        }
    }
    fclose(f);
    return buf;
}

static sg_status json_int(const cJSON *root, const char *path, const char *key, int64_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 1)
        return sg_error(SG_ERR_FORMAT, "%s: '%s' must be a positive integer", path, key);
    *out = (int64_t)v->valuedouble;
    return SG_OK;
}

/* One tensor of the weights file into t (converted to F32); shape given outermost first. */
static sg_status load_tensor(const struct sg_st_file *f, const char *name, int n_dims, const int64_t *shape,
                             bool transpose, struct sg_tensor *t) {
    const struct sg_st_tensor *st = sg_st_find(f, name);
    if (!st) return sg_error(SG_ERR_FORMAT, "%s: no tensor '%s'", sg_st_path(f), name);
    bool ok = st->n_dims == n_dims;
    for (int i = 0; ok && i < n_dims; i++) ok = st->shape[i] == shape[i];
    if (!ok) {
        char want[64], got[64];
        int a = snprintf(want, sizeof want, "[");
        for (int i = 0; i < n_dims; i++)
            a += snprintf(want + a, sizeof want - (size_t)a, "%s%lld", i ? ", " : "", (long long)shape[i]);
        snprintf(want + a, sizeof want - (size_t)a, "]");
        int b = snprintf(got, sizeof got, "[");
        for (int i = 0; i < st->n_dims && b < (int)sizeof got; i++)
            b += snprintf(got + b, sizeof got - (size_t)b, "%s%lld", i ? ", " : "", (long long)st->shape[i]);
        if (b < (int)sizeof got) snprintf(got + b, sizeof got - (size_t)b, "]");
        return sg_error(SG_ERR_FORMAT, "%s: '%s' has shape %s, cfg.json implies %s", sg_st_path(f), name, got, want);
    }
    if (st->dtype != SG_ST_F32 && st->dtype != SG_ST_F16 && st->dtype != SG_ST_BF16)
        return sg_error(SG_ERR_FORMAT, "%s: '%s' is %s; expected F32, F16 or BF16", sg_st_path(f), name,
                        sg_st_dtype_name(st->dtype));
    int64_t n = st->n_elements;
    float *h = calloc((size_t)n, sizeof *h), *o = transpose ? calloc((size_t)n, sizeof *o) : h;
    if (!h || !o) {
        free(h);
        if (o != h) free(o);
        return sg_error(SG_ERR_NO_MEMORY, "out of memory reading %s", name);
    }
    const unsigned char *p = st->data;
    for (int64_t i = 0; i < n; i++) {
        if (st->dtype == SG_ST_F32) {
            memcpy(&h[i], p + i * 4, 4);
        } else {
            uint16_t u;
            memcpy(&u, p + i * 2, 2);
            h[i] = st->dtype == SG_ST_F16 ? sg_f16_to_f32(u) : sg_bf16_to_f32(u);
        }
    }
    if (transpose) { /* [d_in, d_sae] -> rows of latents */
        const int64_t D = shape[0], M = shape[1];
        for (int64_t i = 0; i < D; i++)
            for (int64_t j = 0; j < M; j++) o[j * D + i] = h[i * M + j];
    }
    sg_status s = sg_tensor_set(t, o, 0, (size_t)n * sizeof(float));
    free(h);
    if (o != h) free(o);
    return s;
}

sg_status sg_sae_read_meta(const char *dir, struct sg_sae_file_meta *out) {
    *out = (struct sg_sae_file_meta){.layer = -1};
    snprintf(out->tokens, sizeof out->tokens, "genes");
    char path[4200];
    snprintf(path, sizeof path, "%s/cfg.json", dir);
    long size  = 0;
    char *text = read_file(path, &size);
    if (!text) return sg_error(SG_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    cJSON *root = cJSON_ParseWithLength(text, (size_t)size);
    free(text);
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(root, "metadata");
    const cJSON *l  = cJSON_GetObjectItemCaseSensitive(md, "layer");
    const cJSON *t  = cJSON_GetObjectItemCaseSensitive(md, "token_selection");
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(md, "model_size");
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(md, "context_size");
    if (cJSON_IsNumber(l) && l->valuedouble >= 0 && l->valuedouble < 1e6) out->layer = (int)l->valuedouble;
    if (cJSON_IsString(t)) snprintf(out->tokens, sizeof out->tokens, "%s", t->valuestring);
    if (cJSON_IsString(ms)) snprintf(out->model_size, sizeof out->model_size, "%s", ms->valuestring);
    if (cJSON_IsNumber(cs) && cs->valuedouble > 0) out->context_size = (int64_t)cs->valuedouble;
    bool ok = cJSON_IsObject(root);
    cJSON_Delete(root);
    return ok ? SG_OK : sg_error(SG_ERR_FORMAT, "%s: not a JSON object", path);
}

sg_status sg_sae_load(const char *dir, struct sg_device *dev, struct sg_sae **out) {
    *out = NULL;
    char path[4200];
    snprintf(path, sizeof path, "%s/cfg.json", dir);
    long size  = 0;
    char *text = read_file(path, &size);
    if (!text) return sg_error(SG_ERR_IO, "cannot read %s: %s (is %s an SAE folder?)", path, strerror(errno), dir);
    cJSON *root = cJSON_ParseWithLength(text, (size_t)size);
    free(text);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return sg_error(SG_ERR_FORMAT, "%s: not a JSON object", path);
    }
    sg_status st           = SG_OK;
    const cJSON *arch      = cJSON_GetObjectItemCaseSensitive(root, "architecture");
    enum sg_sae_arch a     = SG_SAE_TOPK;
    struct sg_sae_config c = {0};
    int64_t D = 0, M = 0, k = 0;
    if (!cJSON_IsString(arch))
        st = sg_error(SG_ERR_FORMAT, "%s: no 'architecture' (a SAELens v6 cfg.json names one)", path);
    else if (sg_sae_arch_parse(arch->valuestring, &a) != SG_OK || sg_sae_arch_saved(a) != a)
        st = sg_error(SG_ERR_UNSUPPORTED, "%s: architecture '%s' (saeg reads topk, jumprelu and standard)", path,
                      arch->valuestring);
    if (st == SG_OK) st = json_int(root, path, "d_in", &D);
    if (st == SG_OK) st = json_int(root, path, "d_sae", &M);
    if (st == SG_OK && a == SG_SAE_TOPK) st = json_int(root, path, "k", &k);
    const cJSON *pre  = cJSON_GetObjectItemCaseSensitive(root, "apply_b_dec_to_input");
    const cJSON *norm = cJSON_GetObjectItemCaseSensitive(root, "normalize_activations");
    const cJSON *resc = cJSON_GetObjectItemCaseSensitive(root, "rescale_acts_by_decoder_norm");
    if (st == SG_OK && pre && !cJSON_IsTrue(pre))
        st = sg_error(SG_ERR_UNSUPPORTED, "%s: apply_b_dec_to_input false is not supported", path);
    if (st == SG_OK && norm && !(cJSON_IsString(norm) && strcmp(norm->valuestring, "none") == 0))
        st = sg_error(SG_ERR_UNSUPPORTED, "%s: normalize_activations '%s' is not supported (fold it into the weights)",
                      path, cJSON_IsString(norm) ? norm->valuestring : "?");
    if (st == SG_OK && resc && cJSON_IsTrue(resc))
        st = sg_error(SG_ERR_UNSUPPORTED, "%s: rescale_acts_by_decoder_norm true is not supported (fold the norms)",
                      path);
    cJSON_Delete(root);
    if (st != SG_OK) return st;
    if (k > M) return sg_error(SG_ERR_FORMAT, "%s: k = %lld exceeds d_sae = %lld", path, (long long)k, (long long)M);
    sg_sae_config_default(&c, a, D, M);
    c.k = (int)(k ? k : 1);

    struct sg_sae *s;
    st = sg_sae_new(&c, dev, &s);
    if (st != SG_OK) return st;
    struct sg_st_file *f = NULL;
    snprintf(path, sizeof path, "%s/sae_weights.safetensors", dir);
    st = sg_st_open(path, &f);
    if (st == SG_OK) st = load_tensor(f, "W_enc", 2, (int64_t[]){D, M}, true, s->W_enc);
    if (st == SG_OK) st = load_tensor(f, "b_enc", 1, (int64_t[]){M}, false, s->b_enc);
    if (st == SG_OK) st = load_tensor(f, "W_dec", 2, (int64_t[]){M, D}, false, s->W_dec);
    if (st == SG_OK) st = load_tensor(f, "b_dec", 1, (int64_t[]){D}, false, s->b_dec);
    if (st == SG_OK && a == SG_SAE_JUMPRELU) st = load_tensor(f, "threshold", 1, (int64_t[]){M}, false, s->threshold);
    for (int i = 0; st == SG_OK && i < sg_st_count(f); i++) {
        const char *n = sg_st_get(f, i)->name;
        bool known    = !strcmp(n, "W_enc") || !strcmp(n, "b_enc") || !strcmp(n, "W_dec") || !strcmp(n, "b_dec") ||
                     (a == SG_SAE_JUMPRELU && !strcmp(n, "threshold")) || !strcmp(n, "scaling_factor");
        if (!known)
            st = sg_error(SG_ERR_FORMAT, "%s: unexpected tensor '%s' for a %s SAE", path, n, sg_sae_arch_name(a));
    }
    sg_st_close(f);
    if (st != SG_OK) {
        sg_sae_free(s);
        return st;
    }
    *out = s;
    return SG_OK;
}
