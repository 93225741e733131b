#include "validation/library.h"

#include <stdlib.h>
#include <string.h>

void sgv_library_init(struct sgv_library *lib, const char *source) {
    memset(lib, 0, sizeof *lib);
    lib->source = strdup(source ? source : "");
}

void sgv_library_free(struct sgv_library *lib) {
    for (size_t i = 0; i < lib->n_terms; i++) {
        free(lib->terms[i].id);
        free(lib->terms[i].name);
        free(lib->terms[i].genes);
    }
    free(lib->terms);
    free(lib->source);
    free(lib->version);
    sgv_strmap_free(&lib->index);
    sgv_strmap_free(&lib->unmapped);
    memset(lib, 0, sizeof *lib);
}

int32_t sgv_library_term(struct sgv_library *lib, const char *id, const char *name) {
    int32_t t;
    if (sgv_strmap_get(&lib->index, id, &t)) {
        struct sgv_term *e = &lib->terms[t];
        if (!e->name && name && *name) e->name = strdup(name);
        return t;
    }
    if (lib->n_terms == lib->cap) {
        size_t cap         = lib->cap ? lib->cap * 2 : 256;
        struct sgv_term *n = realloc(lib->terms, cap * sizeof *n);
        if (!n) {
            sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", lib->source);
            return -1;
        }
        lib->terms = n;
        lib->cap   = cap;
    }
    t = (int32_t)lib->n_terms;
    if (sgv_strmap_put(&lib->index, id, t) != SG_OK) return -1;
    struct sgv_term *e = &lib->terms[lib->n_terms++];
    memset(e, 0, sizeof *e);
    e->id   = strdup(id);
    e->name = name && *name ? strdup(name) : NULL;
    return e->id ? t : -1;
}

sg_status sgv_library_add_gene(struct sgv_library *lib, int32_t term, uint32_t gene) {
    struct sgv_term *e = &lib->terms[term];
    if (e->n_genes && e->genes[e->n_genes - 1] == gene) return SG_OK; /* cheap dedupe of runs */
    if (e->n_genes == e->cap) {
        uint32_t cap = e->cap ? e->cap * 2 : 8;
        uint32_t *n  = realloc(e->genes, cap * sizeof *n);
        if (!n) return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", lib->source);
        e->genes = n;
        e->cap   = cap;
    }
    e->genes[e->n_genes++] = gene;
    return SG_OK;
}

sg_status sgv_library_add(struct sgv_library *lib, const char *term_id, const char *term_name, uint32_t gene) {
    int32_t t = sgv_library_term(lib, term_id, term_name);
    if (t < 0) return SG_ERR_NO_MEMORY;
    return sgv_library_add_gene(lib, t, gene);
}

sg_status sgv_library_add_id(struct sgv_library *lib, struct sgv_genes *g, const char *term_id, const char *term_name,
                             const char *gene_id, enum sgv_id_kind kind) {
    enum sgv_match how;
    int32_t gene = sgv_genes_find(g, gene_id, kind, &how);
    sgv_map_stats_add(&lib->map, how);
    if (gene < 0) return sgv_strmap_put(&lib->unmapped, gene_id, 1);
    return sgv_library_add(lib, term_id, term_name, (uint32_t)gene);
}

sg_status sgv_library_set_version(struct sgv_library *lib, const char *version) {
    free(lib->version);
    lib->version = version ? strdup(version) : NULL;
    return SG_OK;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

sg_status sgv_library_finish(struct sgv_library *lib) {
    for (size_t i = 0; i < lib->n_terms; i++) {
        struct sgv_term *e = &lib->terms[i];
        if (e->n_genes > 1) qsort(e->genes, e->n_genes, sizeof *e->genes, cmp_u32);
        uint32_t w = 0;
        for (uint32_t j = 0; j < e->n_genes; j++)
            if (!w || e->genes[w - 1] != e->genes[j]) e->genes[w++] = e->genes[j];
        e->n_genes = w;
    }
    return SG_OK;
}

void sgv_library_take_unmapped(struct sgv_library *lib, struct sgv_library *from) {
    sgv_strmap_free(&lib->unmapped);
    lib->unmapped = from->unmapped;
    memset(&from->unmapped, 0, sizeof from->unmapped);
}
