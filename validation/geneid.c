#include "validation/geneid.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "validation/textfile.h"

#define GENE_AMBIGUOUS (-2)

static const char *const match_names[SGV_MATCH_COUNT] = {
    [SGV_MATCH_NONE] = "unmapped",       [SGV_MATCH_ENSEMBL] = "ensembl", [SGV_MATCH_ENTREZ] = "entrez",
    [SGV_MATCH_HGNC] = "hgnc_id",        [SGV_MATCH_SYMBOL] = "symbol",   [SGV_MATCH_PREVIOUS] = "previous_symbol",
    [SGV_MATCH_ALIAS] = "alias_symbol",  [SGV_MATCH_UNIPROT] = "uniprot", [SGV_MATCH_RAW] = "as_given",
    [SGV_MATCH_AMBIGUOUS] = "ambiguous",
};

const char *sgv_match_name(enum sgv_match m) { return (unsigned)m < SGV_MATCH_COUNT ? match_names[m] : "?"; }

void sgv_map_stats_add(struct sgv_map_stats *s, enum sgv_match how) {
    s->total++;
    if ((unsigned)how < SGV_MATCH_COUNT) s->by[how]++;
}

uint32_t sgv_map_stats_mapped(const struct sgv_map_stats *s) {
    return s->total - s->by[SGV_MATCH_NONE] - s->by[SGV_MATCH_AMBIGUOUS];
}

void sgv_ensembl_normalise(const char *id, char *buf, size_t cap) {
    size_t i = 0;
    for (; id[i] && id[i] != '.' && id[i] != '_' && i + 1 < cap; i++) buf[i] = id[i];
    buf[i] = '\0';
}

sg_status sgv_genes_new(const char *origin, struct sgv_genes **out) {
    struct sgv_genes *g = calloc(1, sizeof *g);
    if (!g || !(g->origin = strdup(origin ? origin : ""))) {
        free(g);
        return sg_error(SG_ERR_NO_MEMORY, "gene table: out of memory");
    }
    *out = g;
    return SG_OK;
}

sg_status sgv_genes_new_raw(struct sgv_genes **out) {
    sg_status st = sgv_genes_new("identifiers as given (no HGNC table)", out);
    if (st == SG_OK) (*out)->raw = 1;
    return st;
}

void sgv_genes_free(struct sgv_genes *g) {
    if (!g) return;
    for (uint32_t i = 0; i < g->n; i++) {
        struct sgv_gene *e = &g->genes[i];
        free(e->hgnc_id);
        free(e->symbol);
        free(e->ensembl);
        free(e->entrez);
        free(e->omim);
    }
    free(g->genes);
    free(g->origin);
    struct sgv_strmap *maps[] = {&g->by_ensembl, &g->by_entrez, &g->by_hgnc,   &g->by_symbol,
                                 &g->by_prev,    &g->by_alias,  &g->by_uniprot};
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) sgv_strmap_free(maps[i]);
    free(g);
}

/* Records key -> gene; a key already naming another gene becomes ambiguous. */
static sg_status map_claim(struct sgv_strmap *m, const char *key, int32_t gene) {
    int32_t old;
    if (sgv_strmap_get(m, key, &old)) {
        if (old == gene || old == GENE_AMBIGUOUS) return SG_OK;
        return sgv_strmap_put(m, key, GENE_AMBIGUOUS);
    }
    return sgv_strmap_put(m, key, gene);
}

static char *dup_or_null(const char *s) { return s && *s ? strdup(s) : NULL; }

static const char *strip_prefix(const char *s, const char *prefix) {
    size_t n = strlen(prefix);
    return strncasecmp(s, prefix, n) == 0 ? s + n : s;
}

int32_t sgv_genes_add(struct sgv_genes *g, const char *hgnc_id, const char *symbol, const char *ensembl,
                      const char *entrez) {
    if (g->n == g->cap) {
        uint32_t cap       = g->cap ? g->cap * 2 : 1024;
        struct sgv_gene *n = realloc(g->genes, cap * sizeof *n);
        if (!n) {
            sg_error(SG_ERR_NO_MEMORY, "gene table: out of memory");
            return -1;
        }
        g->genes = n;
        g->cap   = cap;
    }
    int32_t idx        = (int32_t)g->n;
    struct sgv_gene *e = &g->genes[g->n++];
    memset(e, 0, sizeof *e);
    char ens[64] = "", up[128];
    if (ensembl && *ensembl) sgv_ensembl_normalise(ensembl, ens, sizeof ens);
    e->hgnc_id   = dup_or_null(hgnc_id);
    e->symbol    = dup_or_null(symbol);
    e->ensembl   = ensembl && *ensembl ? strdup(ens) : NULL;
    e->entrez    = entrez && *entrez ? strdup(strip_prefix(entrez, "NCBIGene:")) : NULL;
    sg_status st = SG_OK;
    if (e->hgnc_id) {
        char h[64];
        snprintf(h, sizeof h, "%s", strip_prefix(e->hgnc_id, "HGNC:"));
        st = map_claim(&g->by_hgnc, h, idx);
    }
    if (st == SG_OK && e->symbol) {
        sgv_upper(e->symbol, up, sizeof up);
        st = map_claim(&g->by_symbol, up, idx);
    }
    if (st == SG_OK && e->ensembl) st = map_claim(&g->by_ensembl, e->ensembl, idx);
    if (st == SG_OK && e->entrez) st = map_claim(&g->by_entrez, e->entrez, idx);
    return st == SG_OK ? idx : -1;
}

sg_status sgv_genes_add_synonym(struct sgv_genes *g, int32_t gene, const char *name, enum sgv_synonym kind) {
    char key[128];
    if (!name || !*name) return SG_OK;
    switch (kind) {
    case SGV_SYN_PREVIOUS: sgv_upper(name, key, sizeof key); return map_claim(&g->by_prev, key, gene);
    case SGV_SYN_ALIAS: sgv_upper(name, key, sizeof key); return map_claim(&g->by_alias, key, gene);
    case SGV_SYN_UNIPROT: return map_claim(&g->by_uniprot, name, gene);
    case SGV_SYN_ENSEMBL:
        sgv_ensembl_normalise(name, key, sizeof key);
        if (!g->genes[gene].ensembl) g->genes[gene].ensembl = strdup(key);
        return map_claim(&g->by_ensembl, key, gene);
    }
    return SG_OK;
}

static int all_digits(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return 0;
    return 1;
}

static int32_t lookup(const struct sgv_strmap *m, const char *key, enum sgv_match ok, enum sgv_match *how) {
    int32_t v;
    if (!sgv_strmap_get(m, key, &v)) return -1;
    *how = v == GENE_AMBIGUOUS ? SGV_MATCH_AMBIGUOUS : ok;
    return v == GENE_AMBIGUOUS ? -1 : v;
}

static int32_t find_raw(struct sgv_genes *g, const char *id, enum sgv_match *how) {
    char up[256];
    sgv_upper(id, up, sizeof up);
    int32_t v;
    *how = SGV_MATCH_RAW;
    if (sgv_strmap_get(&g->by_symbol, up, &v)) return v;
    int32_t idx = sgv_genes_add(g, NULL, id, NULL, NULL);
    if (idx < 0) *how = SGV_MATCH_NONE;
    return idx;
}

int32_t sgv_genes_find(struct sgv_genes *g, const char *id, enum sgv_id_kind kind, enum sgv_match *how) {
    enum sgv_match dummy;
    if (!how) how = &dummy;
    *how = SGV_MATCH_NONE;
    if (!id) return -1;
    while (*id == ' ') id++;
    if (!*id) return -1;
    if (g->raw) return find_raw(g, id, how);
    if (kind == SGV_ID_ANY) {
        if (strncmp(id, "ENSG", 4) == 0)
            kind = SGV_ID_ENSEMBL;
        else if (strncasecmp(id, "HGNC:", 5) == 0)
            kind = SGV_ID_HGNC;
        else if (strncasecmp(id, "NCBIGene:", 9) == 0 || all_digits(id))
            kind = SGV_ID_ENTREZ;
        else
            kind = SGV_ID_SYMBOL;
    }
    char key[256];
    switch (kind) {
    case SGV_ID_ENSEMBL:
        sgv_ensembl_normalise(id, key, sizeof key);
        return lookup(&g->by_ensembl, key, SGV_MATCH_ENSEMBL, how);
    case SGV_ID_ENTREZ: return lookup(&g->by_entrez, strip_prefix(id, "NCBIGene:"), SGV_MATCH_ENTREZ, how);
    case SGV_ID_HGNC: return lookup(&g->by_hgnc, strip_prefix(id, "HGNC:"), SGV_MATCH_HGNC, how);
    case SGV_ID_UNIPROT: return lookup(&g->by_uniprot, id, SGV_MATCH_UNIPROT, how);
    case SGV_ID_SYMBOL:
    case SGV_ID_ANY: {
        sgv_upper(id, key, sizeof key);
        int32_t v = lookup(&g->by_symbol, key, SGV_MATCH_SYMBOL, how);
        if (*how != SGV_MATCH_NONE) return v;
        v = lookup(&g->by_prev, key, SGV_MATCH_PREVIOUS, how);
        if (*how != SGV_MATCH_NONE) return v;
        return lookup(&g->by_alias, key, SGV_MATCH_ALIAS, how);
    }
    }
    return -1;
}

const char *sgv_gene_label(const struct sgv_genes *g, uint32_t gene) {
    const struct sgv_gene *e = &g->genes[gene];
    if (e->symbol) return e->symbol;
    if (e->ensembl) return e->ensembl;
    if (e->entrez) return e->entrez;
    return e->hgnc_id ? e->hgnc_id : "?";
}

/* Adds each '|'-separated value of a multi-valued HGNC field. */
static sg_status add_multi(struct sgv_genes *g, int32_t gene, char *field, enum sgv_synonym kind) {
    char *save = NULL;
    for (char *tok = strtok_r(field, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
        sg_status st = sgv_genes_add_synonym(g, gene, sgv_trim(tok), kind);
        if (st != SG_OK) return st;
    }
    return SG_OK;
}

enum { H_ID, H_SYMBOL, H_ENTREZ, H_ENSEMBL, H_REQUIRED };

sg_status sgv_genes_load_hgnc(const char *path, struct sgv_genes **out) {
    *out = NULL;
    struct sgv_lines r;
    sg_status st = sgv_lines_open(&r, path);
    if (st != SG_OK) return st;
    char *line, *f[128];
    int rc = sgv_lines_next(&r, &line);
    if (rc <= 0) {
        sgv_lines_close(&r);
        return rc < 0 ? SG_ERR_IO : sg_error(SG_ERR_FORMAT, "%s: empty file (expected the HGNC complete set)", path);
    }
    size_t nh                      = sgv_split(line, '\t', f, 128);
    static const char *const req[] = {"hgnc_id", "symbol", "entrez_id", "ensembl_gene_id", NULL};
    int col[H_REQUIRED];
    st         = sgv_columns_find(path, f, nh, req, col);
    int c_prev = sgv_column(f, nh, "prev_symbol"), c_alias = sgv_column(f, nh, "alias_symbol");
    int c_uni = sgv_column(f, nh, "uniprot_ids"), c_omim = sgv_column(f, nh, "omim_id");
    int c_status        = sgv_column(f, nh, "status");
    struct sgv_genes *g = NULL;
    char origin[1100];
    snprintf(origin, sizeof origin, "HGNC complete set (%s)", path);
    if (st == SG_OK) st = sgv_genes_new(origin, &g);
    /* synonyms are added after all approved symbols so "not itself approved" can be checked */
    struct pending {
        int32_t gene;
        char *prev, *alias;
    } *pend       = NULL;
    size_t n_pend = 0, cap_pend = 0;
    while (st == SG_OK && (rc = sgv_lines_next(&r, &line)) > 0) {
        if (!*line) continue;
        size_t n = sgv_split_quoted(line, '\t', f, 128);
        if (n < nh) {
            st = sg_error(SG_ERR_FORMAT, "%s: line %ld has %zu fields, header has %zu", path, r.lineno, n, nh);
            break;
        }
        if (c_status >= 0 && strcmp(f[c_status], "Approved") != 0) continue;
        if (strncmp(f[col[H_ID]], "HGNC:", 5) != 0) {
            st = sg_error(SG_ERR_FORMAT, "%s: line %ld: hgnc_id '%s' is not HGNC:<number>", path, r.lineno,
                          f[col[H_ID]]);
            break;
        }
        int32_t idx = sgv_genes_add(g, f[col[H_ID]], f[col[H_SYMBOL]], f[col[H_ENSEMBL]], f[col[H_ENTREZ]]);
        if (idx < 0) {
            st = SG_ERR_NO_MEMORY;
            break;
        }
        if (c_uni >= 0) st = add_multi(g, idx, f[c_uni], SGV_SYN_UNIPROT);
        if (st == SG_OK && c_omim >= 0 && *f[c_omim]) g->genes[idx].omim = strdup(f[c_omim]);
        if (n_pend == cap_pend) {
            cap_pend = cap_pend ? cap_pend * 2 : 4096;
            void *p  = realloc(pend, cap_pend * sizeof *pend);
            if (!p) {
                st = sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", path);
                break;
            }
            pend = p;
        }
        pend[n_pend++] =
            (struct pending){idx, c_prev >= 0 ? strdup(f[c_prev]) : NULL, c_alias >= 0 ? strdup(f[c_alias]) : NULL};
    }
    if (rc < 0 && st == SG_OK) st = SG_ERR_IO;
    for (size_t i = 0; i < n_pend; i++) {
        if (st == SG_OK && pend[i].prev) st = add_multi(g, pend[i].gene, pend[i].prev, SGV_SYN_PREVIOUS);
        if (st == SG_OK && pend[i].alias) st = add_multi(g, pend[i].gene, pend[i].alias, SGV_SYN_ALIAS);
        free(pend[i].prev);
        free(pend[i].alias);
    }
    free(pend);
    sgv_lines_close(&r);
    if (st == SG_OK && g->n == 0) st = sg_error(SG_ERR_FORMAT, "%s: no approved genes", path);
    if (st != SG_OK) {
        sgv_genes_free(g);
        return st;
    }
    *out = g;
    return SG_OK;
}
