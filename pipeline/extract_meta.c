/* What the extraction files say about the data: gene IDs and symbols from var, the background
 * (model vocabulary ∩ data genes), cell types and the obs annotations of the top cells. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "pipeline/extract_data.h"

/* var columns that hold gene symbols in common data sets, in the order they are tried */
static const char *const symbol_columns[] = {"gene_short_name", "feature_name", "gene_symbols", "gene_symbol",
                                             "symbol",          "gene_name",    "gene_names",   NULL};

/* "24h" < "72h" < "100h": digit runs compare as numbers */
static int natural_cmp(const char *a, const char *b) {
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            while (*a == '0' && isdigit((unsigned char)a[1])) a++;
            while (*b == '0' && isdigit((unsigned char)b[1])) b++;
            size_t la = 0, lb = 0;
            while (isdigit((unsigned char)a[la])) la++;
            while (isdigit((unsigned char)b[lb])) lb++;
            if (la != lb) return la < lb ? -1 : 1;
            int c = strncmp(a, b, la);
            if (c) return c;
            a += la;
            b += lb;
            continue;
        }
        if (*a != *b) return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    return (*a != 0) - (*b != 0);
}

/* a total order: natural, then byte order ("01h" and "1h" are different types) */
static int type_cmp(const char *a, const char *b) {
    int c = natural_cmp(a, b);
    return c ? c : strcmp(a, b);
}

static int cmp_types(const void *pa, const void *pb) { return type_cmp(*(char *const *)pa, *(char *const *)pb); }

/* whether most of the first 100 names are gene symbols rather than Ensembl IDs */
static bool mostly_symbols(char *const *names, int64_t count) {
    int64_t seen = 0, ens = 0;
    for (int64_t i = 0; i < count && i < 100; i++, seen++) ens += strncmp(names[i], "ENS", 3) == 0;
    return seen > 0 && 2 * ens < seen;
}

static sg_status read_symbols(struct sg_extract_data *d, struct sg_h5ad *h, const char *key) {
    const char *path = sg_h5ad_path(h);
    if (key && strcmp(key, "none") == 0) return SG_OK;
    if (key) {
        char cols[1024];
        sg_h5ad_column_list(h, SG_H5AD_VAR, cols, sizeof cols);
        if (!sg_h5ad_has_column(h, SG_H5AD_VAR, key))
            return sg_error(SG_ERR_NOT_FOUND, "%s: var has no column '%s' (columns: %s); pass --symbol-key", path, key,
                            cols);
    }
    for (int i = 0; !key && symbol_columns[i]; i++)
        if (sg_h5ad_has_column(h, SG_H5AD_VAR, symbol_columns[i]) && strcmp(symbol_columns[i], d->m.gene_id_key) != 0)
            key = symbol_columns[i];
    bool from_index = false;
    if (!key && d->m.gene_id_key[0]) {
        /* IDs from a column and no symbol column: scanpy-style files keep the symbols in the index */
        struct sg_h5ad_strings idx = {0};
        sg_status st               = sg_h5ad_column_strings(h, SG_H5AD_VAR, NULL, &idx);
        if (st != SG_OK) return st;
        if (mostly_symbols(idx.s, idx.n)) {
            d->symbols = idx;
            from_index = true;
        } else {
            sg_h5ad_strings_free(&idx);
        }
    }
    if (!key && !from_index) {
        SG_LOGI("extract: %s: no gene symbol column in var (tried gene_short_name, feature_name, gene_symbols, ...); "
                "genes are shown by Ensembl ID (pass --symbol-key)",
                path);
        return SG_OK;
    }
    if (key) {
        sg_status st = sg_h5ad_column_strings(h, SG_H5AD_VAR, key, &d->symbols);
        if (st != SG_OK) return st;
    }
    snprintf(d->symbol_key, sizeof d->symbol_key, "%s", key ? key : "");
    d->m.symbol_key = d->symbol_key;
    d->m.symbol     = d->symbols.s;
    SG_LOGI("extract: gene symbols from var%s%s%s", key ? "['" : " index", key ? key : "", key ? "']" : "");
    return SG_OK;
}

static sg_status read_background(struct sg_extract_data *d, const struct sg_cells *c) {
    const struct tx1_vocab *v = c->m->vocab;
    uint8_t *seen             = calloc((size_t)tx1_vocab_size(v), 1);
    d->background             = malloc((size_t)(c->genes.n_var ? c->genes.n_var : 1) * sizeof *d->background);
    if (!seen || !d->background) {
        free(seen);
        return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    }
    int64_t n = 0;
    for (int64_t j = 0; j < c->genes.n_var; j++) {
        int32_t id = c->genes.ids[j];
        if (id < 0 || seen[id]) continue;
        seen[id]           = 1;
        d->background[n++] = (char *)tx1_vocab_token(v, id);
    }
    free(seen);
    d->m.background   = d->background;
    d->m.n_background = n;
    return SG_OK;
}

static sg_status read_cell_types(struct sg_extract_data *d, struct sg_h5ad *h, const char *key, int64_t n_cells) {
    const char *path = sg_h5ad_path(h);
    if (key && strcmp(key, "none") == 0) return SG_OK;
    if (key && !sg_h5ad_has_column(h, SG_H5AD_OBS, key)) {
        char cols[1024];
        sg_h5ad_column_list(h, SG_H5AD_OBS, cols, sizeof cols);
        return sg_error(SG_ERR_NOT_FOUND, "%s: obs has no column '%s' (columns: %s); pass --cell-type-key", path, key,
                        cols);
    }
    if (!key && sg_h5ad_has_column(h, SG_H5AD_OBS, "cell_type")) key = "cell_type";
    if (!key) {
        SG_LOGI("extract: %s: no obs 'cell_type' column; no cell-type enrichment (pass --cell-type-key)", path);
        return SG_OK;
    }
    struct sg_h5ad_strings col = {0};
    sg_status st               = sg_h5ad_column_strings(h, SG_H5AD_OBS, key, &col);
    if (st != SG_OK) return st;
    /* distinct non-missing values among the cells run, in natural order */
    char **names = malloc((size_t)(n_cells ? n_cells : 1) * sizeof *names);
    d->cell_type = malloc((size_t)(n_cells ? n_cells : 1) * sizeof *d->cell_type);
    if (!names || !d->cell_type) st = sg_error(SG_ERR_NO_MEMORY, "out of memory");
    int64_t n = 0;
    for (int64_t i = 0; st == SG_OK && i < n_cells; i++)
        if (col.s[i][0]) names[n++] = col.s[i];
    if (st == SG_OK) qsort(names, (size_t)n, sizeof *names, cmp_types);
    int64_t u = 0;
    for (int64_t i = 0; st == SG_OK && i < n; i++)
        if (u == 0 || strcmp(names[u - 1], names[i]) != 0) names[u++] = names[i];
    if (st == SG_OK && u > 100000)
        st = sg_error(SG_ERR_INVALID_ARG,
                      "%s: obs['%s'] has %lld distinct values; is it "
                      "a cell-type column?",
                      path, key, (long long)u);
    d->types = calloc((size_t)(u ? u : 1), sizeof *d->types);
    if (st == SG_OK && !d->types) st = sg_error(SG_ERR_NO_MEMORY, "out of memory");
    for (int64_t i = 0; st == SG_OK && i < u; i++)
        if (!(d->types[i] = strdup(names[i]))) st = sg_error(SG_ERR_NO_MEMORY, "out of memory");
    for (int64_t i = 0; st == SG_OK && i < n_cells; i++) {
        d->cell_type[i] = -1;
        if (!col.s[i][0]) continue;
        int64_t lo = 0, hi = u - 1; /* binary search in the sorted names */
        while (lo <= hi) {
            int64_t mid = (lo + hi) / 2;
            int c       = type_cmp(d->types[mid], col.s[i]);
            if (c == 0) {
                d->cell_type[i] = (int32_t)mid;
                break;
            }
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid - 1;
        }
    }
    free(names);
    sg_h5ad_strings_free(&col);
    if (st != SG_OK) return st;
    snprintf(d->cell_type_key, sizeof d->cell_type_key, "%s", key);
    d->m.cell_type_key = d->cell_type_key;
    d->m.n_types       = (int32_t)u;
    d->m.type_name     = d->types;
    SG_LOGI("extract: cell types from obs['%s']: %lld types", key, (long long)u);
    return SG_OK;
}

static sg_status read_obs_keys(struct sg_extract_data *d, const struct sg_h5ad *h) {
    int n       = sg_h5ad_n_columns(h, SG_H5AD_OBS);
    d->obs_keys = malloc((size_t)(n + 1) * sizeof *d->obs_keys);
    if (!d->obs_keys) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    int k = 0;
    if (d->m.cell_type_key) d->obs_keys[k++] = d->cell_type_key;
    for (int i = 0; i < n && k < SG_EXTRACT_MAX_OBS_KEYS; i++) {
        const char *name = sg_h5ad_column_name(h, SG_H5AD_OBS, i);
        if (!d->m.cell_type_key || strcmp(name, d->m.cell_type_key) != 0) d->obs_keys[k++] = (char *)name;
    }
    d->m.obs_keys   = d->obs_keys;
    d->m.n_obs_keys = k;
    return SG_OK;
}

sg_status sg_extract_data_read(struct sg_extract_data *d, struct sg_cells *c, const struct sg_extract_opts *o) {
    memset(d, 0, sizeof *d);
    struct sg_h5ad *h = c->h;
    snprintf(d->gene_id_key, sizeof d->gene_id_key, "%s", c->genes.key);
    d->m.gene_id_key   = d->gene_id_key;
    d->m.n_var         = c->genes.n_var;
    d->m.n_cells       = c->n_cells;
    d->m.n_cells_total = sg_h5ad_n_obs(h);
    sg_status st       = sg_h5ad_column_strings(h, SG_H5AD_VAR, c->genes.key[0] ? c->genes.key : NULL, &d->ids);
    if (st == SG_OK) d->m.gene_id = d->ids.s;
    if (st == SG_OK) st = read_symbols(d, h, o->symbol_key);
    if (st == SG_OK) st = read_background(d, c);
    if (st == SG_OK) st = read_cell_types(d, h, o->cell_type_key, c->n_cells);
    if (st == SG_OK) st = read_obs_keys(d, h);
    return st;
}

void sg_extract_data_free(struct sg_extract_data *d) {
    sg_h5ad_strings_free(&d->ids);
    sg_h5ad_strings_free(&d->symbols);
    free(d->background);
    for (int32_t i = 0; d->types && i < d->m.n_types; i++) free(d->types[i]);
    free(d->types);
    free(d->obs_keys);
    free(d->cell_type);
    memset(d, 0, sizeof *d);
}

/* numbers as the reader prints them ("23.916672999999999") shortened to 7 significant digits */
static char *tidy_value(const char *s) {
    char *end;
    double v = strtod(s, &end);
    if (*s && !*end && strlen(s) > 10 && strpbrk(s, ".eE")) {
        char buf[32];
        snprintf(buf, sizeof buf, "%.7g", v);
        return strdup(buf);
    }
    return strdup(s);
}

sg_status sg_extract_cells_read(struct sg_h5ad *h, const struct sg_extract_meta *m, const int64_t *rows, int64_t n,
                                struct sg_extract_cells_info *out) {
    memset(out, 0, sizeof *out);
    out->n    = n;
    out->rows = malloc((size_t)(n ? n : 1) * sizeof *out->rows);
    out->name = calloc((size_t)(n ? n : 1), sizeof *out->name);
    out->obs  = calloc((size_t)(n ? n : 1) * (size_t)(m->n_obs_keys ? m->n_obs_keys : 1), sizeof *out->obs);
    if (!out->rows || !out->name || !out->obs) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    memcpy(out->rows, rows, (size_t)n * sizeof *rows);
    /* one column in memory at a time, keeping only the rows asked for */
    for (int j = -1; j < m->n_obs_keys; j++) {
        struct sg_h5ad_strings col = {0};
        sg_status st               = sg_h5ad_column_strings(h, SG_H5AD_OBS, j < 0 ? NULL : m->obs_keys[j], &col);
        if (st != SG_OK) return st;
        for (int64_t i = 0; i < n && st == SG_OK; i++) {
            const char *v = rows[i] < col.n ? col.s[rows[i]] : "";
            char *copy    = j < 0 ? strdup(v) : tidy_value(v);
            if (!copy) st = sg_error(SG_ERR_NO_MEMORY, "out of memory");
            if (j < 0)
                out->name[i] = copy;
            else
                out->obs[i * m->n_obs_keys + j] = copy;
        }
        sg_h5ad_strings_free(&col);
        if (st != SG_OK) return st;
    }
    return SG_OK;
}

void sg_extract_cells_free(struct sg_extract_cells_info *c, int n_obs_keys) {
    for (int64_t i = 0; i < c->n; i++) {
        if (c->name) free(c->name[i]);
        for (int j = 0; c->obs && j < n_obs_keys; j++) free(c->obs[i * n_obs_keys + j]);
    }
    free(c->rows);
    free(c->name);
    free(c->obs);
    memset(c, 0, sizeof *c);
}
