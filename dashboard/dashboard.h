/* The HTML dashboard: one self-contained page (styles, script and data inline; nothing is
 * fetched when it is opened) built from a run directory's JSON files (docs/schemas.md).
 *
 *     struct sg_dashboard_opts o = {.results_dir = "results/exp1", .top_n = 100};
 *     struct sg_dashboard_info info;
 *     if (sg_dashboard_write(&o, &info) != SG_OK) { fprintf(stderr, "%s\n", sg_last_error()); ... }
 *     printf("%s: %zu of %zu features\n", info.output, info.n_shown, info.n_features);
 *
 * Required inputs: feature_stats.json, feature_gene_associations.json. Optional (the page says
 * when one is absent): feature_cell_associations.json, training_log.jsonl, eval.json,
 * sae/cfg.json, validation/. A missing or malformed required file, or a malformed optional one,
 * fails with one line naming the file and the field. This layer does not use the engine.
 */
#ifndef SAEG_DASHBOARD_H
#define SAEG_DASHBOARD_H

#include <stddef.h>

#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sg_dashboard_opts {
    const char *results_dir;
    const char *output; /* NULL: <results_dir>/dashboard.html */
    long top_n;         /* features shown, most frequent first; 0 = all */
    const char *title;  /* NULL: the results folder's name */
};

struct sg_dashboard_info {
    char output[4096];
    size_t n_features; /* in feature_stats.json */
    size_t n_shown;
    size_t n_genes; /* distinct genes in the page */
    size_t bytes;   /* size of the page */
};

sg_status sg_dashboard_write(const struct sg_dashboard_opts *opts, struct sg_dashboard_info *info);

/* Parses a --top-n-features value: a positive integer, or "all" (0). */
sg_status sg_dashboard_parse_top_n(const char *s, long *out);

#ifdef __cplusplus
}
#endif

#endif
