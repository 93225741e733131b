/* Matching an h5ad's genes to the model vocabulary: var[gene_id_key] (default 'ensembl_id',
 * falling back to the var index), version suffixes stripped. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "io/h5ad.h"
#include "models/tahoe_x1.h"

void tx1_gene_map_free(struct tx1_gene_map *m) {
    free(m->ids);
    m->ids   = NULL;
    m->n_var = m->n_matched = 0;
}

/* "a, b, c" from the first entries of a list, skipping "<special>" tokens. */
static void examples(char *buf, size_t cap, const char *const *s, int64_t n, bool skip_special) {
    size_t len = 0;
    int shown  = 0;
    buf[0]     = '\0';
    for (int64_t i = 0; i < n && shown < 3 && len < cap; i++) {
        if (skip_special && s[i][0] == '<') continue;
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", shown ? ", " : "", s[i]);
        shown++;
    }
}

static void vocab_examples(const struct tx1_vocab *v, char *buf, size_t cap) {
    const char *s[3];
    int n = 0;
    for (int64_t id = 0; id < tx1_vocab_size(v) && n < 3; id++) {
        const char *t = tx1_vocab_token(v, id);
        if (t[0] != '<') s[n++] = t;
    }
    examples(buf, cap, s, n, false);
}

sg_status tx1_gene_map_build(const struct tx1_vocab *v, struct sg_h5ad *h, const char *gene_id_key,
                             struct tx1_gene_map *out) {
    memset(out, 0, sizeof *out);
    const char *path = sg_h5ad_path(h);
    char cols[1024];
    sg_h5ad_column_list(h, SG_H5AD_VAR, cols, sizeof cols);
    const char *key = gene_id_key;
    if (key && !sg_h5ad_has_column(h, SG_H5AD_VAR, key))
        return sg_error(SG_ERR_NOT_FOUND,
                        "%s: var has no column '%s' (columns: %s); pass --gene-id-key with the column holding Ensembl "
                        "gene IDs, or leave it out to use 'ensembl_id' or the var index",
                        path, key, cols);
    if (!key && sg_h5ad_has_column(h, SG_H5AD_VAR, "ensembl_id")) key = "ensembl_id";
    if (!key) SG_LOGI("genes: %s: var has no 'ensembl_id' column; matching the var index", path);

    struct sg_h5ad_strings ids = {0};
    sg_status st               = sg_h5ad_column_strings(h, SG_H5AD_VAR, key, &ids);
    if (st != SG_OK) return st;
    out->ids = malloc(((size_t)ids.n + 1) * sizeof *out->ids);
    if (!out->ids) {
        sg_h5ad_strings_free(&ids);
        return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", path);
    }
    out->n_var = ids.n;
    for (int64_t j = 0; j < ids.n; j++) {
        out->ids[j] = (int32_t)tx1_vocab_lookup_gene(v, ids.s[j]);
        out->n_matched += out->ids[j] >= 0;
    }
    snprintf(out->key, sizeof out->key, "%s", key ? key : "");
    if (out->n_matched == 0) {
        char ours[256], theirs[256];
        examples(ours, sizeof ours, (const char *const *)ids.s, ids.n, false);
        vocab_examples(v, theirs, sizeof theirs);
        char where[200];
        if (key)
            snprintf(where, sizeof where, "column '%s'", key);
        else
            snprintf(where, sizeof where, "index");
        st = sg_error(SG_ERR_NOT_FOUND,
                      "%s: none of the %" PRId64
                      " genes in var %s (e.g. %s) is in the model's vocabulary (e.g. %s); the "
                      "vocabulary holds Ensembl gene IDs: pass --gene-id-key naming the var column that holds them "
                      "(columns: %s)",
                      path, ids.n, where, ids.n ? ours : "none", theirs, cols);
        tx1_gene_map_free(out);
    } else {
        SG_LOGI("genes: %" PRId64 " of %" PRId64 " genes (var %s%s%s) are in the vocabulary; %" PRId64 " dropped",
                out->n_matched, out->n_var, key ? "column '" : "index", key ? key : "", key ? "'" : "",
                out->n_var - out->n_matched);
    }
    sg_h5ad_strings_free(&ids);
    return st;
}
