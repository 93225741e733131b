/* Over-representation statistics: the one-sided hypergeometric test (Fisher's exact test,
 * alternative "greater"), Benjamini–Hochberg q-values, and effect sizes.
 *
 *     double lp = sgv_hyper_logsf(20000, 200, 50, 5);      // log P(X >= 5) = log(1.39842e-4)
 *
 *     struct sgv_prepared *p;                               // a library tested inside a universe
 *     sgv_prepare(&lib, universe, n_universe, n_hub_genes, &opts, &p);
 *     struct sgv_set_result r = {0};
 *     sgv_enrich_set(p, query, n_query, &r);               // r.hits: terms with overlap >= 1
 *     sgv_bh_log(logp, r.n_hits, r.m, logq);               // per-set BH over all m testable terms
 *     sgv_set_result_free(&r);
 *     sgv_prepared_free(p);
 *
 * Universe (reference/validation.md §3.2): U = the given universe ∩ genes annotated in the
 * library; the query and every term are intersected with U; terms whose size inside U is
 * outside [min_term, max_term] are not tested and do not count towards m.
 * Everything stays in log space so p-values far below 1e-308 still rank correctly.
 */
#ifndef SGV_ENRICH_H
#define SGV_ENRICH_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "validation/library.h"

/* log P(X >= k) for X ~ Hypergeometric(population N, K successes, n draws). 0 when p = 1. */
double sgv_hyper_logsf(uint32_t N, uint32_t K, uint32_t n, uint32_t k);

/* Benjamini–Hochberg in log space. `count` p-values are given; the other m - count tests have
 * p = 1. logq may alias nothing; q = min(1, min_{j>=i} m p_(j) / j). */
sg_status sgv_bh_log(const double *logp, size_t count, size_t m, double *logq);

/* BH over a pool too large to keep per-test records for (every feature × term of a source):
 * push every log p, finish with the total test count m, then ask for the log q of any value or
 * for the largest log p still significant at a level. About 8 bytes per p-value: only the
 * sorted p-values and one running minimum per 64 are kept. */
struct sgv_bh_pool {
    double *lp; /* sorted after finish */
    size_t n, cap;
    double logm;
    double *blk; /* blk[b] = min over j >= 64 b of (log p_(j) + log m - log j), capped at 0 */
    size_t n_blk;
};
sg_status sgv_bh_pool_push(struct sgv_bh_pool *b, double logp);
sg_status sgv_bh_pool_finish(struct sgv_bh_pool *b, size_t m);
double sgv_bh_pool_logq(const struct sgv_bh_pool *b, double logp);
/* The largest pushed log p whose q is below exp(log_alpha); -INFINITY when none is. */
double sgv_bh_pool_cutoff(const struct sgv_bh_pool *b, double log_alpha);
void sgv_bh_pool_free(struct sgv_bh_pool *b);

double sgv_fold_enrichment(uint32_t N, uint32_t K, uint32_t n, uint32_t k);
/* log2 of the odds ratio with the Haldane–Anscombe +0.5 correction on every cell. */
double sgv_log2_odds_ratio(uint32_t N, uint32_t K, uint32_t n, uint32_t k);
double sgv_jaccard(uint32_t K, uint32_t n, uint32_t k);

struct sgv_enrich_opts {
    uint32_t min_term;    /* smallest testable term inside the universe (default 5) */
    uint32_t max_term;    /* largest (default 500) */
    uint32_t min_overlap; /* reporting floor on k (default 2); all k >= 1 are tested */
};

struct sgv_prepared {
    const struct sgv_library *lib;
    uint32_t n_hub;       /* genes in the hub */
    uint8_t *in_universe; /* per hub gene */
    uint32_t N;           /* universe size */
    uint32_t *universe;   /* sorted hub indices */
    uint32_t m;           /* testable terms */
    uint32_t *term;       /* testable -> library term */
    uint32_t *K;          /* testable -> term size inside U */
    uint32_t *gene_off;   /* CSR over hub genes: testable terms containing the gene */
    uint32_t *gene_terms;
    uint32_t n_annotated; /* library genes before intersecting with the given universe */
    uint32_t *count;      /* scratch, per testable term */
    uint32_t *touched;    /* scratch */
};

struct sgv_hit {
    uint32_t t; /* testable term index */
    uint32_t k;
    double logp;
};

struct sgv_set_result {
    uint32_t n_input; /* query genes given (mapped) */
    uint32_t n;       /* query genes inside U */
    uint32_t m;
    struct sgv_hit *hits; /* terms with k >= 1, sorted by logp ascending */
    size_t n_hits, cap;
};

/* `universe` (sorted or not, duplicates allowed) restricts U; NULL means all annotated genes. */
sg_status sgv_prepare(const struct sgv_library *lib, const uint32_t *universe, size_t n_universe, uint32_t n_hub,
                      const struct sgv_enrich_opts *opts, struct sgv_prepared **out);
void sgv_prepared_free(struct sgv_prepared *p);

/* Tests one gene set (hub indices, duplicates ignored) against every testable term. */
sg_status sgv_enrich_set(struct sgv_prepared *p, const uint32_t *genes, size_t n_genes, struct sgv_set_result *r);
void sgv_set_result_free(struct sgv_set_result *r);

/* Writes the members of `genes` that are in testable term t (and in U) into out; returns count. */
size_t sgv_overlap(const struct sgv_prepared *p, uint32_t t, const uint32_t *genes, size_t n_genes, uint32_t *out);

#endif
