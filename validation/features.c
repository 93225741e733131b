#include "validation/features.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validation/fsutil.h"
#include "validation/gmt.h"
#include "validation/library.h"
#include "validation/textfile.h"

void sgv_features_free(struct sgv_features *f) {
    for (size_t i = 0; i < f->n; i++) {
        free(f->items[i].id);
        free(f->items[i].genes);
    }
    free(f->items);
    free(f->background);
    free(f->rank_by);
    free(f->path);
    memset(f, 0, sizeof *f);
}

/* Appends gene to a list unless present (lists are short: top-n genes). */
static int push_unique(uint32_t *list, uint32_t *n, uint32_t gene) {
    for (uint32_t i = 0; i < *n; i++)
        if (list[i] == gene) return 0;
    list[(*n)++] = gene;
    return 1;
}

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

/* A gene entry: {"ensembl_id", "symbol", <score fields>}. The Ensembl ID is preferred; the
 * symbol is the fallback (and what a symbol-only vocabulary provides). */
static int32_t json_gene(struct sgv_genes *g, const cJSON *e, enum sgv_match *how) {
    const cJSON *ens = get(e, "ensembl_id"), *sym = get(e, "symbol");
    int32_t idx = -1;
    *how        = SGV_MATCH_NONE;
    if (cJSON_IsString(ens) && *ens->valuestring) idx = sgv_genes_find(g, ens->valuestring, SGV_ID_ENSEMBL, how);
    if (idx < 0 && cJSON_IsString(sym) && *sym->valuestring) {
        enum sgv_match h2;
        idx = sgv_genes_find(g, sym->valuestring, SGV_ID_SYMBOL, &h2);
        if (idx >= 0 || *how == SGV_MATCH_NONE) *how = h2;
    }
    return idx;
}

static sg_status json_background(const char *path, const cJSON *bg, struct sgv_genes *g, struct sgv_features *out) {
    int n           = cJSON_GetArraySize(bg);
    out->background = malloc(((size_t)n + 1) * sizeof *out->background);
    uint8_t *seen   = calloc(g->n + (size_t)n + 1, 1);
    if (!out->background || !seen) {
        free(seen);
        return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", path);
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, bg) {
        if (!cJSON_IsString(e)) {
            free(seen);
            return sg_error(SG_ERR_FORMAT, "%s: background_genes must hold strings", path);
        }
        enum sgv_match how;
        int32_t idx = sgv_genes_find(g, e->valuestring, SGV_ID_ANY, &how);
        sgv_map_stats_add(&out->bg_map, how);
        if (idx >= 0 && !seen[idx]) {
            seen[idx]                            = 1;
            out->background[out->n_background++] = (uint32_t)idx;
        }
    }
    free(seen);
    return SG_OK;
}

static sg_status json_feature(const char *path, const cJSON *fe, int index, struct sgv_genes *g, unsigned top_n,
                              const char *score_key, struct sgv_features *out) {
    const cJSON *id = get(fe, "id"), *genes = get(fe, "genes"), *e;
    if (!cJSON_IsNumber(id) && !cJSON_IsString(id))
        return sg_error(SG_ERR_FORMAT, "%s: features[%d] has no \"id\" (number or string)", path, index);
    if (!cJSON_IsArray(genes)) return sg_error(SG_ERR_FORMAT, "%s: features[%d] has no \"genes\" list", path, index);
    struct sgv_feature *f = &out->items[out->n++];
    memset(f, 0, sizeof *f);
    char idbuf[32];
    if (cJSON_IsNumber(id)) snprintf(idbuf, sizeof idbuf, "%d", id->valueint);
    f->id    = strdup(cJSON_IsNumber(id) ? idbuf : id->valuestring);
    int n    = cJSON_GetArraySize(genes);
    f->genes = malloc(((size_t)n + 1) * sizeof *f->genes);
    if (!f->id || !f->genes) return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", path);
    int j = 0;
    cJSON_ArrayForEach(e, genes) {
        if (f->n_listed >= top_n) break;
        if (!cJSON_IsObject(e))
            return sg_error(SG_ERR_FORMAT, "%s: features[%d].genes[%d] is not an object", path, index, j);
        const cJSON *score = get(e, score_key);
        if (score && !cJSON_IsNumber(score))
            return sg_error(SG_ERR_FORMAT, "%s: features[%d].genes[%d].%s is not a number", path, index, j, score_key);
        j++;
        if (score && score->valuedouble <= 0) continue; /* the feature does not fire on this gene */
        f->n_listed++;
        enum sgv_match how;
        int32_t idx = json_gene(g, e, &how);
        sgv_map_stats_add(&out->map, how);
        if (idx >= 0) push_unique(f->genes, &f->n_genes, (uint32_t)idx);
    }
    if (f->n_listed == 0) out->n_empty++;
    return SG_OK;
}

sg_status sgv_features_load_json(const char *path, struct sgv_genes *g, unsigned top_n, struct sgv_features *out) {
    memset(out, 0, sizeof *out);
    char *text;
    size_t len;
    sg_status st = sgv_read_file(path, &text, &len);
    if (st != SG_OK) return st;
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        long off       = at && at >= text && at <= text + len ? (long)(at - text) : -1;
        free(text);
        return sg_error(SG_ERR_FORMAT, "%s: not valid JSON (error near byte %ld)", path, off);
    }
    free(text);
    out->path          = strdup(path);
    const cJSON *feats = get(root, "features"), *rank = get(root, "rank_by"), *bg = get(root, "background_genes");
    if (!cJSON_IsArray(feats))
        st = sg_error(SG_ERR_FORMAT, "%s: no \"features\" list (see docs/feature_gene_associations.md)", path);
    if (st == SG_OK && rank && !cJSON_IsString(rank))
        st = sg_error(SG_ERR_FORMAT, "%s: \"rank_by\" must be a string", path);
    const char *score_key = rank ? rank->valuestring : "mean";
    if (st == SG_OK && strcmp(score_key, "sum") != 0 && strcmp(score_key, "mean") != 0 && strcmp(score_key, "max") != 0)
        st = sg_error(SG_ERR_FORMAT, "%s: \"rank_by\" is '%s'; expected sum, mean or max", path, score_key);
    if (st == SG_OK) out->rank_by = strdup(score_key);
    if (st == SG_OK && bg && !cJSON_IsArray(bg))
        st = sg_error(SG_ERR_FORMAT, "%s: \"background_genes\" must be a list", path);
    if (st == SG_OK && bg) st = json_background(path, bg, g, out);
    int nf = st == SG_OK ? cJSON_GetArraySize(feats) : 0;
    if (st == SG_OK && !(out->items = calloc((size_t)nf + 1, sizeof *out->items)))
        st = sg_error(SG_ERR_NO_MEMORY, "out of memory");
    const cJSON *fe;
    int i              = 0;
    const cJSON *flist = st == SG_OK ? feats : NULL;
    cJSON_ArrayForEach(fe, flist) {
        if (st != SG_OK) break;
        st = json_feature(path, fe, i++, g, top_n ? top_n : 100, score_key, out);
    }
    cJSON_Delete(root);
    if (st != SG_OK) sgv_features_free(out);
    return st;
}

sg_status sgv_features_load_gmt(const char *path, struct sgv_genes *g, struct sgv_features *out) {
    memset(out, 0, sizeof *out);
    struct sgv_library lib;
    sgv_library_init(&lib, "query");
    sg_status st = sgv_gmt_load(path, g, SGV_ID_ANY, SGV_GMT_ID_NAME, &lib);
    if (st == SG_OK && !(out->items = calloc(lib.n_terms + 1, sizeof *out->items)))
        st = sg_error(SG_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; st == SG_OK && i < lib.n_terms; i++) {
        struct sgv_feature *f = &out->items[out->n++];
        struct sgv_term *t    = &lib.terms[i];
        f->id                 = strdup(t->id);
        f->genes              = t->genes; /* take ownership: already unique */
        f->n_genes = f->n_listed = t->n_genes;
        t->genes                 = NULL;
        if (!f->id) st = sg_error(SG_ERR_NO_MEMORY, "out of memory");
        if (t->n_genes == 0) out->n_empty++;
    }
    if (st == SG_OK) {
        out->map  = lib.map;
        out->path = strdup(path);
    }
    sgv_library_free(&lib);
    if (st != SG_OK) sgv_features_free(out);
    return st;
}

sg_status sgv_background_load(const char *path, struct sgv_genes *g, struct sgv_features *out) {
    struct sgv_lines r;
    sg_status st = sgv_lines_open(&r, path);
    if (st != SG_OK) return st;
    free(out->background);
    out->background   = NULL;
    out->n_background = 0;
    memset(&out->bg_map, 0, sizeof out->bg_map);
    size_t cap = 0, seen_cap = 0;
    uint8_t *seen = NULL;
    char *line;
    int rc;
    while (st == SG_OK && (rc = sgv_lines_next(&r, &line)) > 0) {
        char *id = sgv_trim(line);
        if (!*id || id[0] == '#') continue;
        id[strcspn(id, "\t ,")] = '\0'; /* first column of a TSV/CSV works too */
        enum sgv_match how;
        int32_t idx = sgv_genes_find(g, id, SGV_ID_ANY, &how);
        sgv_map_stats_add(&out->bg_map, how);
        if (idx < 0) continue;
        if ((size_t)idx >= seen_cap) { /* a raw hub grows while we read: grow the marks too */
            size_t nc  = g->n + 1024;
            uint8_t *s = realloc(seen, nc);
            if (!s) {
                st = sg_error(SG_ERR_NO_MEMORY, "out of memory");
                break;
            }
            memset(s + seen_cap, 0, nc - seen_cap);
            seen     = s;
            seen_cap = nc;
        }
        if (out->n_background == cap) {
            cap         = cap ? cap * 2 : 4096;
            uint32_t *b = realloc(out->background, cap * sizeof *b);
            if (!b) {
                st = sg_error(SG_ERR_NO_MEMORY, "out of memory");
                break;
            }
            out->background = b;
        }
        if (seen[idx]) continue;
        seen[idx]                            = 1;
        out->background[out->n_background++] = (uint32_t)idx;
    }
    if (st == SG_OK && rc < 0) st = SG_ERR_IO;
    sgv_lines_close(&r);
    free(seen);
    if (st == SG_OK && out->n_background == 0)
        st = sg_error(SG_ERR_FORMAT, "%s: no background gene maps to the gene table (%u identifiers read)", path,
                      out->bg_map.total);
    return st;
}
