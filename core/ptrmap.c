#include "ptrmap.h"

#include <stdint.h>
#include <stdlib.h>

static size_t slot_of(const struct sg_ptrmap *m, const void *key) {
    uintptr_t h = (uintptr_t)key;
    h ^= h >> 17;
    h *= (uintptr_t)0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    size_t i = (size_t)h & (m->cap - 1);
    while (m->keys[i] && m->keys[i] != key) i = (i + 1) & (m->cap - 1);
    return i;
}

void *sg_ptrmap_get(const struct sg_ptrmap *m, const void *key) {
    if (!m->cap) return NULL;
    size_t i = slot_of(m, key);
    return m->keys[i] ? m->vals[i] : NULL;
}

bool sg_ptrmap_has(const struct sg_ptrmap *m, const void *key) { return m->cap && m->keys[slot_of(m, key)] != NULL; }

static bool grow(struct sg_ptrmap *m) {
    struct sg_ptrmap bigger = {.cap = m->cap ? 2 * m->cap : 64};
    bigger.keys             = calloc(bigger.cap, sizeof *bigger.keys);
    bigger.vals             = calloc(bigger.cap, sizeof *bigger.vals);
    if (!bigger.keys || !bigger.vals) {
        free(bigger.keys);
        free(bigger.vals);
        return false;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j       = slot_of(&bigger, m->keys[i]);
        bigger.keys[j] = m->keys[i];
        bigger.vals[j] = m->vals[i];
        bigger.n++;
    }
    free(m->keys);
    free(m->vals);
    m->keys = bigger.keys;
    m->vals = bigger.vals;
    m->cap  = bigger.cap;
    m->n    = bigger.n;
    return true;
}

bool sg_ptrmap_put(struct sg_ptrmap *m, const void *key, void *val) {
    if (2 * (m->n + 1) > m->cap && !grow(m)) return false;
    size_t i = slot_of(m, key);
    if (!m->keys[i]) {
        m->keys[i] = key;
        m->n++;
    }
    m->vals[i] = val;
    return true;
}

void sg_ptrmap_free(struct sg_ptrmap *m) {
    free(m->keys);
    free(m->vals);
    *m = (struct sg_ptrmap){0};
}
