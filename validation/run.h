/* `saeg validate` without the argument parsing: validates every feature of a results folder
 * against the configured sources, or one GMT of query sets against one GMT of terms.
 *
 *     struct sgv_run_opts o = sgv_run_opts_default();
 *     o.results_dir = "results/exp1";
 *     o.config_path = "configs/validation/databases.yaml";
 *     o.offline = 1;
 *     int failed_sources;
 *     if (sgv_run(&o, &failed_sources) != SG_OK) fprintf(stderr, "%s\n", sg_last_error());
 *     // results/exp1/validation/<source>.json and summary.json
 *
 * A source that is disabled, has no offline files under --offline, or lacks its API key is
 * skipped and says why in summary.json; a source that fails (corrupt file, network error after
 * retries) is recorded as failed and counted, and the others still run.
 */
#ifndef SGV_RUN_H
#define SGV_RUN_H

#include "core/status.h"

struct sgv_run_opts {
    const char *results_dir; /* results mode: reads feature_gene_associations.json */
    const char *query_gmt;   /* query mode: sets to test ... */
    const char *gene_sets;   /* ... against these terms ... */
    const char *output;      /* ... written here */
    const char *config_path; /* NULL in query mode is fine */
    const char *data_dir;    /* overrides the config's data_dir */
    const char *cache_dir;   /* overrides the config's cache_dir */
    const char *background;  /* gene list overriding the background */
    const char *gene_table;  /* HGNC complete set (or org.Hs.eg.sqlite) overriding the config */
    const char *sources;     /* comma-separated subset of sources, or NULL */
    int offline;
    int no_cache;
    /* statistics overrides; < 0 keeps the config (or default) value */
    long top_n, min_term, max_term, min_overlap, null_repeats, seed;
    double fdr;
};

struct sgv_run_opts sgv_run_opts_default(void);
sg_status sgv_run(const struct sgv_run_opts *o, int *failed_sources);

#endif
