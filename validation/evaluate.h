/* Runs every feature's gene set through one source and the null baseline, and builds that
 * source's JSON report (docs/validation.md, "validation/<source>.json").
 *
 *     struct sgv_stats_opts so = sgv_stats_opts_default();
 *     struct sgv_eval_summary sum;
 *     cJSON *doc = cJSON_CreateObject();
 *     sgv_eval_terms(&lib, &features, background, n_background, genes, &so, src, doc, &sum);
 *     printf("%.1f%% of features enriched (null %.1f%%)\n",
 *            100.0 * sum.enriched / sum.tested, 100.0 * sum.null_enriched / sum.null_sets);
 *
 * Per feature, BH runs over the source's testable terms (per-feature scope); a second BH runs
 * over all features × terms of the source (global scope). The null draws, for every tested
 * feature, `null_repeats` random sets of the feature's size from the same universe and
 * applies the same tests and corrections.
 */
#ifndef SGV_EVALUATE_H
#define SGV_EVALUATE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "validation/enrich.h"
#include "validation/features.h"
#include "validation/ppi.h"
#include "validation/sources/source.h"

struct sgv_stats_opts {
    struct sgv_enrich_opts enrich;
    double fdr;            /* significance threshold on q (default 0.05) */
    double report_p;       /* terms listed per feature: p below this ... */
    unsigned max_terms;    /* ... at most this many (default 10) */
    unsigned min_query;    /* genes a feature needs inside the universe to be tested (default 3) */
    unsigned null_repeats; /* random sets per tested feature (0: no null) */
    uint64_t seed;
};

struct sgv_eval_summary {
    size_t features;        /* features given */
    size_t tested;          /* with >= min_query genes in the universe */
    size_t enriched;        /* >= 1 term at per-feature q < fdr */
    size_t enriched_global; /* >= 1 term at global q < fdr */
    size_t null_sets, null_enriched, null_enriched_global;
    uint32_t N;        /* universe size */
    uint32_t m;        /* testable terms (1 for PPI) */
    uint8_t *hit;      /* per feature: enriched (for the any-source fraction); caller frees */
    uint8_t *null_hit; /* per feature: its first null set enriched */
};

struct sgv_stats_opts sgv_stats_opts_default(void);

sg_status sgv_eval_terms(const struct sgv_library *lib, const struct sgv_features *fs, const uint32_t *background,
                         size_t n_background, struct sgv_genes *g, const struct sgv_stats_opts *so,
                         const struct sgv_source *src, cJSON *doc, struct sgv_eval_summary *sum);

/* PPI: eval answers one gene set; pool is where null sets are drawn from. */
typedef sg_status (*sgv_ppi_fn)(void *ctx, const uint32_t *genes, size_t n, struct sgv_ppi_result *r);
sg_status sgv_eval_ppi(sgv_ppi_fn eval, void *ctx, const struct sgv_features *fs, const uint8_t *in_pool,
                       const uint32_t *pool, size_t n_pool, struct sgv_genes *g, const struct sgv_stats_opts *so,
                       const char *stream, cJSON *doc, struct sgv_eval_summary *sum);

void sgv_eval_summary_free(struct sgv_eval_summary *s);

#endif
