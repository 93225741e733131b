#include "validation/strmap.h"

#include <stdlib.h>
#include <string.h>

static uint64_t strmap_hash(const char *s, size_t len) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static int key_eq(const char *k, const char *s, size_t len) { return strncmp(k, s, len) == 0 && k[len] == '\0'; }

static sg_status strmap_grow(struct sgv_strmap *m) {
    size_t cap    = m->cap ? m->cap * 2 : 64;
    char **keys   = calloc(cap, sizeof *keys);
    int32_t *vals = calloc(cap, sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return sg_error(SG_ERR_NO_MEMORY, "hash map: out of memory (%zu slots)", cap);
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = strmap_hash(m->keys[i], strlen(m->keys[i])) & (cap - 1);
        while (keys[j]) j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap  = cap;
    return SG_OK;
}

sg_status sgv_strmap_putn(struct sgv_strmap *m, const char *key, size_t len, int32_t val) {
    if ((m->count + 1) * 4 > m->cap * 3) {
        sg_status st = strmap_grow(m);
        if (st != SG_OK) return st;
    }
    size_t j = strmap_hash(key, len) & (m->cap - 1);
    while (m->keys[j]) {
        if (key_eq(m->keys[j], key, len)) {
            m->vals[j] = val;
            return SG_OK;
        }
        j = (j + 1) & (m->cap - 1);
    }
    char *k = malloc(len + 1);
    if (!k) return sg_error(SG_ERR_NO_MEMORY, "hash map: out of memory");
    memcpy(k, key, len);
    k[len]     = '\0';
    m->keys[j] = k;
    m->vals[j] = val;
    m->count++;
    return SG_OK;
}

sg_status sgv_strmap_put(struct sgv_strmap *m, const char *key, int32_t val) {
    return sgv_strmap_putn(m, key, strlen(key), val);
}

int sgv_strmap_getn(const struct sgv_strmap *m, const char *key, size_t len, int32_t *val) {
    if (!m->cap) return 0;
    size_t j = strmap_hash(key, len) & (m->cap - 1);
    while (m->keys[j]) {
        if (key_eq(m->keys[j], key, len)) {
            if (val) *val = m->vals[j];
            return 1;
        }
        j = (j + 1) & (m->cap - 1);
    }
    return 0;
}

int sgv_strmap_get(const struct sgv_strmap *m, const char *key, int32_t *val) {
    return sgv_strmap_getn(m, key, strlen(key), val);
}

void sgv_strmap_free(struct sgv_strmap *m) {
    for (size_t i = 0; i < m->cap; i++) free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}
