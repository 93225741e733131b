/* The gene vocabulary: vocab.json maps token strings (Ensembl gene IDs and <pad>, <cls>, ...)
 * to dense ids. Lookups go through an open-addressing hash table. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/tahoe_x1.h"

struct tx1_vocab {
    int64_t n;
    char **tokens;  /* by id */
    int64_t *slots; /* hash table of ids, -1 = empty */
    size_t mask;
};

static uint64_t hash_str(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

void tx1_vocab_free(struct tx1_vocab *v) {
    if (!v) return;
    for (int64_t i = 0; v->tokens && i < v->n; i++) free(v->tokens[i]);
    free(v->tokens);
    free(v->slots);
    free(v);
}

int64_t tx1_vocab_size(const struct tx1_vocab *v) { return v->n; }

const char *tx1_vocab_token(const struct tx1_vocab *v, int64_t id) {
    return id >= 0 && id < v->n ? v->tokens[id] : NULL;
}

static int64_t lookup_n(const struct tx1_vocab *v, const char *s, size_t len) {
    for (size_t i = hash_str(s, len) & v->mask;; i = (i + 1) & v->mask) {
        int64_t id = v->slots[i];
        if (id < 0) return -1;
        if (strlen(v->tokens[id]) == len && memcmp(v->tokens[id], s, len) == 0) return id;
    }
}

int64_t tx1_vocab_lookup(const struct tx1_vocab *v, const char *token) { return lookup_n(v, token, strlen(token)); }

int64_t tx1_vocab_lookup_gene(const struct tx1_vocab *v, const char *gene_id) {
    size_t len = strlen(gene_id);
    int64_t id = lookup_n(v, gene_id, len);
    if (id >= 0) return id;
    /* an Ensembl version suffix: ".<digits>" at the end */
    const char *dot = strrchr(gene_id, '.');
    if (!dot || dot == gene_id || dot[1] == '\0') return -1;
    for (const char *p = dot + 1; *p; p++)
        if (*p < '0' || *p > '9') return -1;
    return lookup_n(v, gene_id, (size_t)(dot - gene_id));
}

/* Takes ownership of tokens[0..n) (all non-NULL). */
static sg_status build_index(struct tx1_vocab *v, const char *what) {
    size_t cap = 16;
    while (cap < (size_t)v->n * 2) cap <<= 1;
    v->slots = malloc(cap * sizeof *v->slots);
    if (!v->slots) return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
    v->mask = cap - 1;
    for (size_t i = 0; i < cap; i++) v->slots[i] = -1;
    for (int64_t id = 0; id < v->n; id++) {
        size_t len = strlen(v->tokens[id]);
        if (lookup_n(v, v->tokens[id], len) >= 0)
            return sg_error(SG_ERR_FORMAT, "%s: token '%s' appears twice", what, v->tokens[id]);
        size_t i = hash_str(v->tokens[id], len) & v->mask;
        while (v->slots[i] >= 0) i = (i + 1) & v->mask;
        v->slots[i] = id;
    }
    return SG_OK;
}

sg_status tx1_vocab_from_tokens(const char *const *tokens, int64_t n, struct tx1_vocab **out) {
    *out                = NULL;
    struct tx1_vocab *v = calloc(1, sizeof *v);
    if (!v || !(v->tokens = calloc((size_t)n + 1, sizeof(char *)))) {
        free(v);
        return sg_error(SG_ERR_NO_MEMORY, "vocabulary: out of memory");
    }
    v->n = n;
    for (int64_t i = 0; i < n; i++) {
        if (!(v->tokens[i] = strdup(tokens[i]))) {
            tx1_vocab_free(v);
            return sg_error(SG_ERR_NO_MEMORY, "vocabulary: out of memory");
        }
    }
    sg_status st = build_index(v, "vocabulary");
    if (st != SG_OK) {
        tx1_vocab_free(v);
        return st;
    }
    *out = v;
    return SG_OK;
}

sg_status tx1_vocab_load(const char *path, struct tx1_vocab **out) {
    *out     = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) return sg_error(errno == ENOENT ? SG_ERR_NOT_FOUND : SG_ERR_IO, "%s: %s", path, strerror(errno));
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *text = size >= 0 ? malloc((size_t)size + 1) : NULL;
    size_t got = text ? fread(text, 1, (size_t)size, fp) : 0;
    fclose(fp);
    if (!text || got != (size_t)size) {
        free(text);
        return sg_error(SG_ERR_IO, "%s: cannot read", path);
    }
    text[size]  = '\0';
    cJSON *root = cJSON_ParseWithLength(text, (size_t)size);
    free(text);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return sg_error(SG_ERR_FORMAT, "%s: expected a JSON object {\"token\": id}", path);
    }
    int64_t n           = cJSON_GetArraySize(root);
    struct tx1_vocab *v = calloc(1, sizeof *v);
    sg_status st        = SG_OK;
    if (!v || !(v->tokens = calloc((size_t)n + 1, sizeof(char *))))
        st = sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", path);
    if (v) v->n = n;
    const cJSON *e;
    cJSON_ArrayForEach(e, root) {
        if (st != SG_OK) break;
        double d   = cJSON_IsNumber(e) ? e->valuedouble : -1;
        int64_t id = d >= 0 && d < (double)n ? (int64_t)d : -1; /* out of range: converting is undefined */
        if (!cJSON_IsNumber(e) || d != (double)id || id < 0 || id >= n)
            st = sg_error(SG_ERR_FORMAT, "%s: token '%s' has id %s; ids must be 0..%lld, one per token", path,
                          e->string, cJSON_IsNumber(e) ? "out of range" : "that is not a number", (long long)n - 1);
        else if (v->tokens[id])
            st = sg_error(SG_ERR_FORMAT, "%s: tokens '%s' and '%s' share id %lld", path, v->tokens[id], e->string,
                          (long long)id);
        else if (!(v->tokens[id] = strdup(e->string)))
            st = sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", path);
    }
    cJSON_Delete(root);
    if (st == SG_OK) st = build_index(v, path);
    if (st != SG_OK) {
        tx1_vocab_free(v);
        return st;
    }
    *out = v;
    return SG_OK;
}
