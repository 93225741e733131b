/* Loading a released Tahoe X1 folder: configs, vocabulary and model.safetensors, with every
 * key and shape checked against the configuration before anything is allocated. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "core/types.h"
#include "io/safetensors.h"
#include "models/tx1_priv.h"

#define MAX_LISTED 12

struct st_check {
    const struct sg_st_file *f;
    const char *prefix; /* "model." in released files */
    char msg[4096];
    size_t len;
    int n_missing, n_shape, n_dtype;
    /* unexpected-key probe */
    const char *probe;
    bool probe_found;
    /* upload: raw file bytes, then converted to the tensor's type */
    void *raw, *buf;
    size_t buf_cap; /* elements */
    sg_status st;
};

static void note(struct st_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct st_check *c, const char *fmt, ...) {
    if (c->len >= sizeof c->msg - 1) return;
    if (c->len) c->len += (size_t)snprintf(c->msg + c->len, sizeof c->msg - c->len, "; ");
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(c->msg + c->len, sizeof c->msg - c->len, fmt, ap);
    va_end(ap);
    if (k > 0) c->len = c->len + (size_t)k < sizeof c->msg ? c->len + (size_t)k : sizeof c->msg - 1;
}

static void shape_str(int nd, const int64_t *shape, char *buf, size_t cap) {
    size_t len = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < nd && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%" PRId64, i ? ", " : "", shape[i]);
    if (len < cap) snprintf(buf + len, cap - len, "]");
}

static void check_key(const char *key, int nd, const int64_t *shape, struct sg_tensor **slot, void *user) {
    (void)slot;
    struct st_check *c = user;
    char full[200];
    snprintf(full, sizeof full, "%s%s", c->prefix, key);
    const struct sg_st_tensor *t = sg_st_find(c->f, full);
    if (!t) {
        if (c->n_missing++ < MAX_LISTED) note(c, "missing %s", full);
        return;
    }
    bool same = t->n_dims == nd;
    for (int i = 0; same && i < nd; i++) same = t->shape[i] == shape[i];
    if (!same && c->n_shape++ < MAX_LISTED) {
        char got[96], want[96];
        shape_str(t->n_dims, t->shape, got, sizeof got);
        shape_str(nd, shape, want, sizeof want);
        note(c, "%s has shape %s, expected %s", full, got, want);
    }
    if (t->dtype != SG_ST_F32 && t->dtype != SG_ST_BF16 && t->dtype != SG_ST_F16 && c->n_dtype++ < MAX_LISTED)
        note(c, "%s has dtype %s (F32, BF16 or F16 expected)", full, sg_st_dtype_name(t->dtype));
}

static void probe_key(const char *key, int nd, const int64_t *shape, struct sg_tensor **slot, void *user) {
    (void)nd;
    (void)shape;
    (void)slot;
    struct st_check *c = user;
    if (strcmp(key, c->probe) == 0) c->probe_found = true;
}

/* Keys in the file the model does not use; 3B's chemical encoder is expected and skipped, as
 * the reference does with the drug token off. */
static void check_unexpected(const struct tx1_config *cfg, struct st_check *c) {
    struct tx1_weights scratch;
    int n             = 0;
    const size_t plen = strlen(c->prefix);
    for (int i = 0; i < sg_st_count(c->f); i++) {
        const char *name = sg_st_get(c->f, i)->name;
        bool ok          = strncmp(name, c->prefix, plen) == 0;
        if (ok) {
            c->probe = name + plen;
            if (cfg->has_chem_encoder && strncmp(c->probe, "chem_encoder.", 13) == 0) continue;
            c->probe_found = false;
            tx1_weights_each(cfg, &scratch, probe_key, c);
            ok = c->probe_found;
        }
        if (!ok && n++ < MAX_LISTED) note(c, "unexpected %s", name);
    }
    if (n > MAX_LISTED) note(c, "%d unexpected keys in all", n);
}

static void upload_key(const char *key, int nd, const int64_t *shape, struct sg_tensor **slot, void *user) {
    (void)nd;
    (void)shape;
    struct st_check *c = user;
    if (c->st != SG_OK) return;
    char full[200];
    snprintf(full, sizeof full, "%s%s", c->prefix, key);
    const struct sg_st_tensor *t = sg_st_find(c->f, full);
    const enum sg_type src = t->dtype == SG_ST_F32 ? SG_TYPE_F32 : t->dtype == SG_ST_BF16 ? SG_TYPE_BF16 : SG_TYPE_F16;
    const enum sg_type dst = (*slot)->type; /* F32, or BF16 for Linear weights with --dtype bf16 */
    const size_t esz = sg_st_dtype_size(t->dtype), n = (size_t)t->n_elements, dsz = sg_type_size(dst);
    /* slices through host buffers: the mapping may be unaligned, and a whole converted copy is
     * never needed. BF16 into BF16 is a plain copy. */
    for (size_t off = 0; off < n && c->st == SG_OK; off += c->buf_cap) {
        const size_t k = n - off < c->buf_cap ? n - off : c->buf_cap;
        memcpy(c->raw, (const char *)t->data + off * esz, k * esz);
        sg_convert_row(dst, c->buf, src, c->raw, (int64_t)k);
        c->st = sg_tensor_set(*slot, c->buf, off * dsz, k * dsz);
    }
    if (c->st != SG_OK) c->st = sg_error_wrap(c->st, "%s: %s", sg_st_path(c->f), full);
}

static sg_status check_folder(const char *dir, char paths[4][1024]) {
    static const char *const files[4] = {"model_config.yml", "collator_config.yml", "vocab.json", "model.safetensors"};
    char missing[256]                 = "";
    size_t len                        = 0;
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return sg_error(SG_ERR_NOT_FOUND, "%s: no such model folder (pass --model DIR or --model-size)", dir);
    for (int i = 0; i < 4; i++) {
        snprintf(paths[i], 1024, "%s/%s", dir, files[i]);
        if (stat(paths[i], &sb) != 0)
            len += (size_t)snprintf(missing + len, sizeof missing - len, "%s%s", len ? ", " : "", files[i]);
    }
    if (len)
        return sg_error(SG_ERR_NOT_FOUND,
                        "%s: not a Tahoe X1 model folder: missing %s (expected the released layout: model.safetensors, "
                        "model_config.yml, collator_config.yml, vocab.json)",
                        dir, missing);
    return SG_OK;
}

static sg_status check_vocab(const struct tx1_config *cfg, const struct tx1_vocab *v, const char *path, int64_t *cls) {
    if (tx1_vocab_size(v) > cfg->vocab_size)
        return sg_error(SG_ERR_FORMAT, "%s: %" PRId64 " tokens but model_config.yml has vocab_size %" PRId64, path,
                        tx1_vocab_size(v), cfg->vocab_size);
    *cls = tx1_vocab_lookup(v, "<cls>");
    if (*cls < 0) return sg_error(SG_ERR_FORMAT, "%s: has no <cls> token", path);
    int64_t pad = tx1_vocab_lookup(v, "<pad>");
    if (pad >= 0 && pad != cfg->pad_token_id)
        return sg_error(SG_ERR_FORMAT, "%s: <pad> has id %" PRId64 " but collator_config.yml has pad_token_id %" PRId64,
                        path, pad, cfg->pad_token_id);
    return SG_OK;
}

sg_status tx1_model_load(const char *dir, struct sg_device *dev, struct tx1_model **out) {
    return tx1_model_load_as(dir, dev, TX1_DTYPE_AUTO, out);
}

sg_status tx1_model_load_as(const char *dir, struct sg_device *dev, enum tx1_dtype dtype, struct tx1_model **out) {
    *out = NULL;
    char paths[4][1024];
    struct tx1_config cfg;
    struct tx1_vocab *vocab = NULL;
    struct sg_st_file *f    = NULL;
    struct tx1_model *m     = NULL;
    int64_t cls             = -1;
    sg_status st            = check_folder(dir, paths);
    if (st == SG_OK) st = tx1_config_load(paths[0], paths[1], &cfg);
    if (st == SG_OK) st = tx1_vocab_load(paths[2], &vocab);
    if (st == SG_OK) st = check_vocab(&cfg, vocab, paths[2], &cls);
    if (st == SG_OK) st = sg_st_open(paths[3], &f);

    struct st_check c = {.f = f, .buf_cap = 1 << 20};
    if (st == SG_OK) {
        c.prefix =
            sg_st_find(f, "model.gene_encoder.embedding.weight") || !sg_st_find(f, "gene_encoder.embedding.weight")
                ? "model."
                : "";
        struct tx1_weights scratch;
        tx1_weights_each(&cfg, &scratch, check_key, &c);
        check_unexpected(&cfg, &c);
        if (c.len) st = sg_error(SG_ERR_FORMAT, "%s does not match %s: %s", paths[3], paths[0], c.msg);
    }
    if (st == SG_OK) st = tx1_model_alloc(&cfg, dev, dtype, &m);
    if (st == SG_OK) {
        c.raw = malloc(c.buf_cap * sizeof(float));
        c.buf = malloc(c.buf_cap * sizeof(float));
        c.st  = c.raw && c.buf ? SG_OK : sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", paths[3]);
        if (c.st == SG_OK) tx1_weights_each(&cfg, &m->w, upload_key, &c);
        free(c.raw);
        free(c.buf);
        st = c.st;
    }
    if (st == SG_OK) {
        m->vocab                     = vocab;
        m->cls_id                    = cls;
        vocab                        = NULL;
        const struct sg_st_tensor *t = sg_st_find(f, "model.gene_encoder.embedding.weight");
        if (!t) t = sg_st_find(f, "gene_encoder.embedding.weight");
        snprintf(m->weights_dtype, sizeof m->weights_dtype, "%s", sg_st_dtype_name(t->dtype));
        SG_LOGI("model: %s: %.2f M parameters (%s), d_model %" PRId64 ", %" PRId64 " layers, %" PRId64
                " heads, vocab %" PRId64 "; --dtype %s%s: %.1f MB of weights on %s%s",
                dir, (double)tx1_config_n_params(&cfg) / 1e6, m->weights_dtype, cfg.d_model, cfg.n_layers, cfg.n_heads,
                tx1_vocab_size(m->vocab), tx1_dtype_name(m->dtype),
                dtype == TX1_DTYPE_AUTO ? " (the default here)" : "", (double)m->weight_bytes / 1e6,
                sg_device_name(dev), cfg.has_chem_encoder ? "; chemical encoder ignored (drug token off)" : "");
    }
    sg_st_close(f);
    tx1_vocab_free(vocab);
    if (st != SG_OK) {
        tx1_model_free(m);
        return st;
    }
    *out = m;
    return SG_OK;
}
