/* The gene sets to validate: one per SAE feature, read from feature_gene_associations.json
 * (docs/feature_gene_associations.md) or from a GMT file, plus the background gene list.
 *
 *     struct sgv_features fs;
 *     if (sgv_features_load_json("run/feature_gene_associations.json", genes, 100, &fs) != SG_OK) ...
 *     for (size_t i = 0; i < fs.n; i++) test(fs.items[i].genes, fs.items[i].n_genes);
 *     sgv_features_free(&fs);
 *
 * Each feature's genes are taken in the file's order (ranked best first), at most top_n of
 * them, and only those with a positive score. Identifiers resolve through the gene hub;
 * how many mapped (per feature and overall) is kept for the report.
 */
#ifndef SGV_FEATURES_H
#define SGV_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "validation/geneid.h"

struct sgv_feature {
    char *id;
    uint32_t *genes; /* hub indices, rank order, unique */
    uint32_t n_genes;
    uint32_t n_listed; /* genes considered (after top_n and the score filter) */
};

struct sgv_features {
    struct sgv_feature *items;
    size_t n;
    size_t n_empty;           /* features with no positive-score genes (dead): not tested */
    struct sgv_map_stats map; /* every gene identifier considered */
    uint32_t *background;     /* hub indices, unique; NULL when the input gives none */
    size_t n_background;
    struct sgv_map_stats bg_map;
    char *rank_by; /* the score the genes were ranked by, if stated */
    char *path;
};

sg_status sgv_features_load_json(const char *path, struct sgv_genes *g, unsigned top_n, struct sgv_features *out);
sg_status sgv_features_load_gmt(const char *path, struct sgv_genes *g, struct sgv_features *out);
/* One identifier per line (blank and '#' lines skipped); replaces out->background. */
sg_status sgv_background_load(const char *path, struct sgv_genes *g, struct sgv_features *out);
void sgv_features_free(struct sgv_features *f);

#endif
