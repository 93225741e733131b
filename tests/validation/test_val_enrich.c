/* Enrichment statistics against references computed by scipy (fixtures/stats/, written by
 * make_stats_reference.py): Fisher p-values, BH q-values, and whole enrichment runs.
 * Tolerance 1e-9 relative: lgamma-based log-binomials of populations up to 60,000 carry
 * about 1e-11 absolute error in log p. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/validation/harness.h"
#include "validation/enrich.h"
#include "validation/features.h"
#include "validation/gmt.h"
#include "validation/tsv.h"

#define STATS FIX "/stats"

static double rel_err(double a, double b) {
    if (a == b) return 0;
    return fabs(a - b) / fmax(fabs(a), fabs(b));
}

static void test_fisher_greater_matches_scipy_to_1e9(void) {
    struct sgv_tsv t;
    TH_CHECK(sgv_tsv_open(&t, STATS "/fisher_table.tsv", '\t', 0) == SG_OK);
    static const char *const cols[] = {"N", "K", "n", "k", "p", NULL};
    int c[5];
    TH_CHECK(sgv_tsv_require(&t, cols, c) == SG_OK);
    double worst = 0;
    int rows     = 0;
    while (sgv_tsv_next(&t) > 0) {
        unsigned N = (unsigned)atoi(t.f[c[0]]), K = (unsigned)atoi(t.f[c[1]]);
        unsigned n = (unsigned)atoi(t.f[c[2]]), k = (unsigned)atoi(t.f[c[3]]);
        double want = strtod(t.f[c[4]], NULL), got = exp(sgv_hyper_logsf(N, K, n, k));
        double e = rel_err(got, want);
        if (e > worst) worst = e;
        TH_CHECKF(e <= 1e-9, "N=%u K=%u n=%u k=%u: got %.17g, scipy %.17g (rel %.2e)", N, K, n, k, got, want, e);
        rows++;
    }
    sgv_tsv_close(&t);
    TH_CHECK(rows > 300);
    fprintf(stderr, "   %d Fisher p-values, max relative error vs scipy %.3e\n", rows, worst);
}

static void test_fisher_handles_impossible_and_certain_tables(void) {
    TH_CHECK(sgv_hyper_logsf(100, 10, 10, 0) == 0.0);        /* k = 0: p = 1 */
    TH_CHECK(sgv_hyper_logsf(100, 10, 10, 11) == -INFINITY); /* k > min(n, K) */
    TH_CHECK(sgv_hyper_logsf(10, 8, 8, 6) == 0.0);           /* k <= n + K - N: certain */
    TH_CHECK(isnan(sgv_hyper_logsf(10, 11, 2, 1)));          /* K > N is no table at all */
    /* far beyond double range the log stays finite and ordered */
    double a = sgv_hyper_logsf(60000, 500, 500, 400), b = sgv_hyper_logsf(60000, 500, 500, 450);
    TH_CHECK(isfinite(a) && isfinite(b) && b < a && a < log(1e-300));
}

static void test_bh_matches_literal_reference(void) {
    struct sgv_tsv t;
    TH_CHECK(sgv_tsv_open(&t, STATS "/bh_reference.tsv", '\t', 0) == SG_OK);
    static const char *const cols[] = {"case", "m", "p", "q", NULL};
    int c[4];
    TH_CHECK(sgv_tsv_require(&t, cols, c) == SG_OK);
    double p[512], q[512], lp[512], lq[512];
    int cur = -1, n = 0, m = 0, cases = 0, more = 1;
    while (more) {
        more   = sgv_tsv_next(&t) > 0;
        int cs = more ? atoi(t.f[c[0]]) : -2;
        if (cs != cur && n) {
            for (int i = 0; i < n; i++) lp[i] = log(p[i]);
            TH_CHECK(sgv_bh_log(lp, (size_t)n, (size_t)m, lq) == SG_OK);
            for (int i = 0; i < n; i++)
                TH_CHECKF(rel_err(exp(lq[i]), q[i]) <= 1e-12, "case %d p=%g: q %.17g, reference %.17g", cur, p[i],
                          exp(lq[i]), q[i]);
            /* the pooled form used for global BH gives the same q, ties included */
            struct sgv_bh_pool pool = {0};
            for (int i = 0; i < n; i++) sgv_bh_pool_push(&pool, lp[i]);
            TH_CHECK(sgv_bh_pool_finish(&pool, (size_t)m) == SG_OK);
            double cut = -INFINITY;
            for (int i = 0; i < n; i++) {
                TH_CHECKF(rel_err(exp(sgv_bh_pool_logq(&pool, lp[i])), q[i]) <= 1e-12, "pool, case %d p=%g", cur, p[i]);
                if (q[i] < 0.05 && lp[i] > cut) cut = lp[i];
            }
            TH_CHECKF(sgv_bh_pool_cutoff(&pool, log(0.05)) == cut, "case %d: cutoff", cur);
            sgv_bh_pool_free(&pool);
            cases++;
            n = 0;
        }
        if (!more) break;
        cur    = cs;
        m      = atoi(t.f[c[1]]);
        p[n]   = strtod(t.f[c[2]], NULL);
        q[n++] = strtod(t.f[c[3]], NULL);
    }
    sgv_tsv_close(&t);
    TH_CHECK(cases == 5);
    /* m below the number of p-values is a caller error, not a silent result */
    TH_CHECK(sgv_bh_log(lp, 3, 2, lq) == SG_ERR_INVALID_ARG);
}

/* The pool keeps one running minimum per 64 sorted values: check it across many blocks. */
static void test_bh_pool_matches_bh_across_blocks(void) {
    enum { N = 5000, M = 20000 };
    static double lp[N], lq[N];
    unsigned long long x    = 12345;
    struct sgv_bh_pool pool = {0};
    for (int i = 0; i < N; i++) {
        x        = x * 6364136223846793005ull + 1442695040888963407ull;
        double u = ((x >> 11) + 1.0) / 9007199254740993.0;
        lp[i]    = log(u) * (i % 7 == 0 ? 12 : 1); /* a spread from 1 down to tiny p, with repeats */
        if (i % 50 == 0 && i) lp[i] = lp[i - 1];
        sgv_bh_pool_push(&pool, lp[i]);
    }
    TH_CHECK(sgv_bh_log(lp, N, M, lq) == SG_OK && sgv_bh_pool_finish(&pool, M) == SG_OK);
    double worst = 0, cut = -INFINITY;
    for (int i = 0; i < N; i++) {
        double e = fabs(sgv_bh_pool_logq(&pool, lp[i]) - lq[i]);
        if (e > worst) worst = e;
        if (lq[i] < log(0.05) && lp[i] > cut) cut = lp[i];
    }
    TH_CHECKF(worst < 1e-12, "max |log q| difference %g", worst);
    TH_CHECK(sgv_bh_pool_cutoff(&pool, log(0.05)) == cut && isfinite(cut));
    sgv_bh_pool_free(&pool);
}

/* Runs query.gmt against terms.gmt as validation/ does and compares every (set, term) row. */
static void check_enrichment(const char *expected, int with_background) {
    struct sgv_genes *g;
    TH_CHECK(sgv_genes_new_raw(&g) == SG_OK);
    struct sgv_library lib;
    sgv_library_init(&lib, "terms");
    TH_CHECK(sgv_gmt_load(STATS "/terms.gmt", g, SGV_ID_ANY, SGV_GMT_ID_NAME, &lib) == SG_OK);
    struct sgv_features fs;
    TH_CHECK(sgv_features_load_gmt(STATS "/query.gmt", g, &fs) == SG_OK);
    if (with_background) TH_CHECK(sgv_background_load(STATS "/background.txt", g, &fs) == SG_OK);
    struct sgv_enrich_opts eo = {.min_term = 5, .max_term = 500, .min_overlap = 2};
    struct sgv_prepared *p;
    TH_CHECK(sgv_prepare(&lib, fs.background, fs.n_background, g->n, &eo, &p) == SG_OK);

    struct row {
        char set[8], term[8];
        unsigned N, K, n, k;
        double p, q, qg, fold, lor, jac;
    } *want       = calloc(1024, sizeof *want);
    size_t n_want = 0;
    struct sgv_tsv t;
    TH_CHECK(sgv_tsv_open(&t, expected, '\t', 0) == SG_OK);
    while (sgv_tsv_next(&t) > 0 && n_want < 1024) {
        struct row *r = &want[n_want++];
        snprintf(r->set, sizeof r->set, "%s", t.f[0]);
        snprintf(r->term, sizeof r->term, "%s", t.f[1]);
        r->N    = (unsigned)atoi(t.f[2]);
        r->K    = (unsigned)atoi(t.f[3]);
        r->n    = (unsigned)atoi(t.f[4]);
        r->k    = (unsigned)atoi(t.f[5]);
        r->p    = strtod(t.f[6], NULL);
        r->q    = strtod(t.f[7], NULL);
        r->qg   = strtod(t.f[8], NULL);
        r->fold = strtod(t.f[9], NULL);
        r->lor  = strtod(t.f[10], NULL);
        r->jac  = strtod(t.f[11], NULL);
    }
    sgv_tsv_close(&t);

    /* per set: hits and per-set BH; then global BH over everything tested */
    double all_lp[1024], all_lq[1024], set_lq[1024];
    struct {
        size_t f, h;
    } where[1024];
    size_t n_all = 0, tested = 0;
    struct sgv_set_result res[16] = {{0}};
    for (size_t i = 0; i < fs.n && i < 16; i++) {
        TH_CHECK(sgv_enrich_set(p, fs.items[i].genes, fs.items[i].n_genes, &res[i]) == SG_OK);
        if (res[i].n < 3) continue;
        tested++;
        for (size_t h = 0; h < res[i].n_hits; h++) {
            where[n_all].f  = i;
            where[n_all].h  = h;
            all_lp[n_all++] = res[i].hits[h].logp;
        }
    }
    TH_CHECK(sgv_bh_log(all_lp, n_all, tested * p->m, all_lq) == SG_OK);
    size_t matched = 0;
    double worst_p = 0, worst_q = 0;
    for (size_t a = 0; a < n_all; a++) {
        size_t i = where[a].f, h = where[a].h;
        if (h == 0) { /* per-set BH once per set */
            double lp[1024];
            for (size_t x = 0; x < res[i].n_hits; x++) lp[x] = res[i].hits[x].logp;
            TH_CHECK(sgv_bh_log(lp, res[i].n_hits, p->m, set_lq) == SG_OK);
        }
        const struct sgv_hit *hit = &res[i].hits[h];
        const char *term          = lib.terms[p->term[hit->t]].id;
        for (size_t w = 0; w < n_want; w++) {
            struct row *r = &want[w];
            if (strcmp(r->set, fs.items[i].id) || strcmp(r->term, term)) continue;
            matched++;
            TH_CHECKF(r->N == p->N && r->K == p->K[hit->t] && r->n == res[i].n && r->k == hit->k,
                      "%s/%s: N K n k = %u %u %u %u, reference %u %u %u %u", r->set, r->term, p->N, p->K[hit->t],
                      res[i].n, hit->k, r->N, r->K, r->n, r->k);
            double ep = rel_err(exp(hit->logp), r->p), eq = rel_err(exp(set_lq[h]), r->q),
                   eg = rel_err(exp(all_lq[a]), r->qg);
            if (ep > worst_p) worst_p = ep;
            if (eq > worst_q) worst_q = eq;
            if (eg > worst_q) worst_q = eg;
            TH_CHECKF(ep <= 1e-9 && eq <= 1e-9 && eg <= 1e-9,
                      "%s/%s: p %.17g q %.17g qg %.17g; reference %.17g %.17g %.17g", r->set, r->term, exp(hit->logp),
                      exp(set_lq[h]), exp(all_lq[a]), r->p, r->q, r->qg);
            TH_CHECK(rel_err(sgv_fold_enrichment(p->N, r->K, r->n, r->k), r->fold) <= 1e-12);
            TH_CHECK(rel_err(sgv_log2_odds_ratio(p->N, r->K, r->n, r->k), r->lor) <= 1e-12);
            TH_CHECK(rel_err(sgv_jaccard(r->K, r->n, r->k), r->jac) <= 1e-12);
        }
    }
    TH_CHECKF(matched == n_want && n_all == n_want, "matched %zu of %zu reference rows; C produced %zu", matched,
              n_want, n_all);
    fprintf(stderr, "   %s: %zu rows, max relative error p %.2e, q %.2e\n", expected, matched, worst_p, worst_q);
    for (size_t i = 0; i < 16; i++) sgv_set_result_free(&res[i]);
    free(want);
    sgv_prepared_free(p);
    sgv_features_free(&fs);
    sgv_library_free(&lib);
    sgv_genes_free(g);
}

static void test_enrichment_with_background_matches_reference(void) {
    check_enrichment(STATS "/enrich_expected_bg.tsv", 1);
}

static void test_enrichment_without_background_uses_annotated_genes(void) {
    check_enrichment(STATS "/enrich_expected_nobg.tsv", 0);
}

static void test_terms_outside_size_limits_are_not_tests(void) {
    struct sgv_genes *g;
    TH_CHECK(sgv_genes_new_raw(&g) == SG_OK);
    struct sgv_library lib;
    sgv_library_init(&lib, "tiny");
    const char *big[6] = {"A", "B", "C", "D", "E", "F"};
    for (int i = 0; i < 6; i++)
        sgv_library_add(&lib, "six", NULL, (uint32_t)sgv_genes_find(g, big[i], SGV_ID_ANY, NULL));
    for (int i = 0; i < 2; i++)
        sgv_library_add(&lib, "two", NULL, (uint32_t)sgv_genes_find(g, big[i], SGV_ID_ANY, NULL));
    sgv_library_finish(&lib);
    struct sgv_enrich_opts eo = {.min_term = 3, .max_term = 5, .min_overlap = 1};
    struct sgv_prepared *p;
    TH_CHECK(sgv_prepare(&lib, NULL, 0, g->n, &eo, &p) == SG_OK);
    TH_CHECK(p->m == 0 && p->N == 6); /* 6 > max, 2 < min: nothing testable, nothing dilutes BH */
    sgv_prepared_free(p);
    eo.max_term = 6;
    TH_CHECK(sgv_prepare(&lib, NULL, 0, g->n, &eo, &p) == SG_OK);
    TH_CHECK(p->m == 1 && p->K[0] == 6);
    sgv_prepared_free(p);
    sgv_library_free(&lib);
    sgv_genes_free(g);
}

int main(void) {
    TH_RUN(test_fisher_greater_matches_scipy_to_1e9);
    TH_RUN(test_fisher_handles_impossible_and_certain_tables);
    TH_RUN(test_bh_matches_literal_reference);
    TH_RUN(test_bh_pool_matches_bh_across_blocks);
    TH_RUN(test_enrichment_with_background_matches_reference);
    TH_RUN(test_enrichment_without_background_uses_annotated_genes);
    TH_RUN(test_terms_outside_size_limits_are_not_tests);
    return th_report();
}
