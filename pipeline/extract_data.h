/* The extraction metadata read from the h5ad and the model: gene IDs and symbols, the
 * background, cell types, obs keys, and the annotations of the top cells.
 *
 *     struct sg_extract_data d;
 *     sg_extract_data_read(&d, cells, &opts);      // d.m is the sg_extract_meta of the files
 *     ...
 *     sg_extract_data_free(&d);
 *
 * Defaults (docs/extract.md): symbols from the first of var's gene_short_name, feature_name,
 * gene_symbols, gene_symbol, symbol, gene_name, gene_names (or the index when the IDs come from a
 * column and the index does not hold Ensembl IDs); cell types from obs['cell_type'] when present.
 * "none" turns either off.
 */
#ifndef SG_PIPELINE_EXTRACT_DATA_H
#define SG_PIPELINE_EXTRACT_DATA_H

#include "io/h5ad.h"
#include "pipeline/cells.h"
#include "pipeline/extract_priv.h"

#define SG_EXTRACT_MAX_OBS_KEYS 16 /* obs columns copied for the top cells */

struct sg_extract_data {
    struct sg_extract_meta m;
    struct sg_h5ad_strings ids, symbols;
    char **background; /* borrowed from the vocabulary */
    char **types;
    char **obs_keys;    /* borrowed from the h5ad */
    int32_t *cell_type; /* [n_cells] index into types, -1: missing; NULL without types */
    char gene_id_key[128], symbol_key[128], cell_type_key[128];
};

sg_status sg_extract_data_read(struct sg_extract_data *d, struct sg_cells *c, const struct sg_extract_opts *o);
void sg_extract_data_free(struct sg_extract_data *d);

/* Names and obs values of the given rows. */
sg_status sg_extract_cells_read(struct sg_h5ad *h, const struct sg_extract_meta *m, const int64_t *rows, int64_t n,
                                struct sg_extract_cells_info *out);
void sg_extract_cells_free(struct sg_extract_cells_info *c, int n_obs_keys);

#endif
