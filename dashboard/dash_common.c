/* Shared helpers of the dashboard loaders: string interning, paths, notes, feature lookup. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/dash_priv.h"

static uint64_t hash(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

long dash_intern_find(const struct dash_intern *t, const char *key) {
    if (!t->n_slots) return -1;
    for (size_t i = hash(key) & (t->n_slots - 1);; i = (i + 1) & (t->n_slots - 1)) {
        uint32_t s = t->slots[i];
        if (!s) return -1;
        if (strcmp(t->keys[s - 1], key) == 0) return (long)s - 1;
    }
}

static int grow(struct dash_intern *t) {
    size_t ns    = t->n_slots ? t->n_slots * 2 : 64;
    uint32_t *sl = calloc(ns, sizeof *sl);
    if (!sl) return 0;
    for (size_t k = 0; k < t->n; k++) {
        size_t i = hash(t->keys[k]) & (ns - 1);
        while (sl[i]) i = (i + 1) & (ns - 1);
        sl[i] = (uint32_t)k + 1;
    }
    free(t->slots);
    t->slots   = sl;
    t->n_slots = ns;
    return 1;
}

long dash_intern(struct dash_intern *t, const char *key) {
    long found = dash_intern_find(t, key);
    if (found >= 0) return found;
    if ((t->n + 1) * 2 > t->n_slots && !grow(t)) return -1;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        char **k   = realloc(t->keys, cap * sizeof *k);
        if (!k) return -1;
        t->keys = k;
        t->cap  = cap;
    }
    char *copy = strdup(key);
    if (!copy) return -1;
    t->keys[t->n] = copy;
    size_t i      = hash(key) & (t->n_slots - 1);
    while (t->slots[i]) i = (i + 1) & (t->n_slots - 1);
    t->slots[i] = (uint32_t)++t->n;
    return (long)t->n - 1;
}

void dash_intern_free(struct dash_intern *t) {
    for (size_t i = 0; i < t->n; i++) free(t->keys[i]);
    free(t->keys);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

char *dash_path(const char *dir, const char *name) {
    size_t n = strlen(dir);
    char *p  = malloc(n + strlen(name) + 2);
    if (p) sprintf(p, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
    return p;
}

void dash_note(struct dash_run *r, const char *section, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!r->notes) r->notes = cJSON_CreateObject();
    if (r->notes && !cJSON_GetObjectItemCaseSensitive(r->notes, section))
        cJSON_AddStringToObject(r->notes, section, msg);
}

/* f[] is sorted by id (dash_load_stats). */
long dash_find_feature(const struct dash_run *r, int64_t id) {
    size_t lo = 0, hi = r->n_features;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->f[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->n_features && r->f[lo].id == id ? (long)lo : -1;
}

void dash_run_free(struct dash_run *r) {
    for (size_t i = 0; i < r->n_features; i++) {
        free(r->f[i].edges);
        free(r->f[i].counts);
        dash_jw_free(&r->f[i].genes);
        dash_jw_free(&r->f[i].cells);
        dash_jw_free(&r->f[i].val);
    }
    free(r->f);
    free(r->order);
    dash_intern_free(&r->genes);
    free(r->rank_by);
    free(r->cell_type_key);
    for (size_t i = 0; i < r->n_obs_keys; i++) free(r->obs_keys[i]);
    free(r->obs_keys);
    dash_intern_free(&r->types);
    free(r->type_sizes);
    for (size_t i = 0; i < r->n_cells; i++) dash_jw_free(&r->cells[i].info);
    free(r->cells);
    dash_intern_free(&r->cell_rows);
    free(r->steps);
    for (size_t i = 0; i < r->n_series; i++) {
        free(r->series[i].name);
        free(r->series[i].v);
    }
    free(r->series);
    cJSON_Delete(r->eval);
    cJSON_Delete(r->cfg);
    cJSON_Delete(r->val_summary);
    for (size_t i = 0; i < r->n_val_sources; i++) free(r->val_sources[i]);
    free(r->val_sources);
    cJSON_Delete(r->notes);
    memset(r, 0, sizeof *r);
}
