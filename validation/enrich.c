#include "validation/enrich.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Point probabilities follow Loader (2000), "Fast and accurate computation of binomial
 * probabilities": differences of lgamma at populations of 10^4-10^5 lose ~1e-10 to rounding,
 * while the Stirling remainder + deviance form below stays near 1e-15. */
#define LOG_SQRT_2PI 0.918938533204672741780329736406

/* log(n!) - log(sqrt(2 pi n) (n/e)^n) for integer n >= 1 */
static double stirlerr(double n) {
    if (n <= 15.0) return lgamma(n + 1.0) - (n + 0.5) * log(n) + n - LOG_SQRT_2PI;
    const double s0 = 1.0 / 12, s1 = 1.0 / 360, s2 = 1.0 / 1260, s3 = 1.0 / 1680, s4 = 1.0 / 1188;
    double nn = n * n;
    if (n > 500) return (s0 - s1 / nn) / n;
    if (n > 80) return (s0 - (s1 - s2 / nn) / nn) / n;
    if (n > 35) return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / n;
    return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n;
}

/* deviance term x log(x/np) + np - x, by a series when x is close to np */
static double bd0(double x, double np) {
    if (fabs(x - np) < 0.1 * (x + np)) {
        double v = (x - np) / (x + np), s = (x - np) * v, ej = 2 * x * v;
        v *= v;
        for (int j = 1; j < 1000; j++) {
            ej *= v;
            double s1 = s + ej / (2 * j + 1);
            if (s1 == s) return s1;
            s = s1;
        }
        return s;
    }
    return x * log(x / np) + np - x;
}

/* log of the binomial probability of x successes in n trials */
static double log_dbinom(double x, double n, double p, double q) {
    if (x == 0) return n == 0 ? 0.0 : (p < 0.5 ? n * log1p(-p) : n * log(q));
    if (x == n) return q < 0.5 ? n * log1p(-q) : n * log(p);
    double lc = stirlerr(n) - stirlerr(x) - stirlerr(n - x) - bd0(x, n * p) - bd0(n - x, n * q);
    return lc - 0.5 * (2 * LOG_SQRT_2PI + log(x) + log1p(-x / n));
}

/* log P(X = i), X ~ Hypergeometric(N, K, n): three binomials at p = n/N cancel to the ratio of
 * binomial coefficients exactly */
static double hyper_logpmf(uint32_t N, uint32_t K, uint32_t n, uint32_t i) {
    double p = (double)n / N, q = (double)(N - n) / N;
    return log_dbinom(i, K, p, q) + log_dbinom((double)n - i, (double)N - K, p, q) - log_dbinom(n, N, p, q);
}

double sgv_hyper_logsf(uint32_t N, uint32_t K, uint32_t n, uint32_t k) {
    if (K > N || n > N) return NAN;
    uint32_t lo = n + K > N ? n + K - N : 0;
    uint32_t hi = n < K ? n : K;
    if (k <= lo) return 0.0;
    if (k > hi) return -INFINITY;
    double mode = floor(((double)n + 1) * ((double)K + 1) / ((double)N + 2));
    /* N - K - n may be negative: do that arithmetic in double, never in uint32 */
    double rest = (double)N - K - n;
    if ((double)k >= mode) {
        /* terms fall monotonically from k upwards: sum them relative to P(X = k) */
        double s = 1.0, t = 1.0;
        for (uint32_t i = k; i < hi; i++) {
            t *= ((double)(K - i) * (n - i)) / (((double)i + 1) * (rest + i + 1));
            s += t;
            if (t < s * 1e-17) break;
        }
        return hyper_logpmf(N, K, n, k) + log(s);
    }
    /* below the mode p is large: 1 - P(X <= k-1), that lower tail falls monotonically downwards */
    double s = 1.0, t = 1.0;
    for (uint32_t i = k - 1; i > lo; i--) {
        t *= ((double)i * (rest + i)) / (((double)(K - i) + 1) * ((double)(n - i) + 1));
        s += t;
        if (t < s * 1e-17) break;
    }
    double lower = exp(hyper_logpmf(N, K, n, k - 1) + log(s));
    return lower >= 1.0 ? -INFINITY : log1p(-lower);
}

struct bh_item {
    double logp;
    size_t idx;
};

static int cmp_bh(const void *a, const void *b) {
    const struct bh_item *x = a, *y = b;
    if (x->logp < y->logp) return -1;
    if (x->logp > y->logp) return 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

sg_status sgv_bh_log(const double *logp, size_t count, size_t m, double *logq) {
    if (count == 0) return SG_OK;
    if (m < count) return sg_error(SG_ERR_INVALID_ARG, "BH: %zu p-values but only %zu tests", count, m);
    struct bh_item *it = malloc(count * sizeof *it);
    if (!it) return sg_error(SG_ERR_NO_MEMORY, "BH: out of memory (%zu tests)", count);
    for (size_t i = 0; i < count; i++) it[i] = (struct bh_item){logp[i], i};
    qsort(it, count, sizeof *it, cmp_bh);
    double logm = log((double)m), run = 0.0; /* reverse cumulative minimum, capped at q = 1 */
    for (size_t r = count; r-- > 0;) {
        double q = it[r].logp + logm - log((double)(r + 1));
        if (q < run) run = q;
        logq[it[r].idx] = run;
    }
    free(it);
    return SG_OK;
}

sg_status sgv_bh_pool_push(struct sgv_bh_pool *b, double logp) {
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        double *lp = realloc(b->lp, cap * sizeof *lp);
        if (!lp) return sg_error(SG_ERR_NO_MEMORY, "BH: out of memory (%zu p-values)", b->n);
        b->lp  = lp;
        b->cap = cap;
    }
    b->lp[b->n++] = logp;
    return SG_OK;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define BH_BLOCK 64

sg_status sgv_bh_pool_finish(struct sgv_bh_pool *b, size_t m) {
    if (m < b->n) return sg_error(SG_ERR_INVALID_ARG, "BH: %zu p-values but only %zu tests", b->n, m);
    if (b->n > 1) qsort(b->lp, b->n, sizeof *b->lp, cmp_double);
    b->logm  = log((double)(m ? m : 1));
    b->n_blk = (b->n + BH_BLOCK - 1) / BH_BLOCK;
    free(b->blk);
    b->blk = malloc((b->n_blk + 1) * sizeof *b->blk);
    if (!b->blk) return sg_error(SG_ERR_NO_MEMORY, "BH: out of memory (%zu p-values)", b->n);
    double run = 0.0; /* reverse cumulative minimum, capped at q = 1 */
    for (size_t r = b->n; r-- > 0;) {
        double q = b->lp[r] + b->logm - log((double)(r + 1));
        if (q < run) run = q;
        if (r % BH_BLOCK == 0) b->blk[r / BH_BLOCK] = run;
    }
    b->blk[b->n_blk] = 0.0;
    return SG_OK;
}

/* log q at sorted position i: the stored minimum of the following blocks, then this block's tail */
static double pool_q_at(const struct sgv_bh_pool *b, size_t i) {
    size_t blk = i / BH_BLOCK, end = (blk + 1) * BH_BLOCK;
    double run = b->blk[blk + 1 <= b->n_blk ? blk + 1 : b->n_blk];
    if (end > b->n) end = b->n;
    for (size_t j = end; j-- > i;) {
        double q = b->lp[j] + b->logm - log((double)(j + 1));
        if (q < run) run = q;
    }
    return run;
}

double sgv_bh_pool_logq(const struct sgv_bh_pool *b, double logp) {
    /* ties share the q of the last tie: take the last position holding a value <= logp */
    size_t lo = 0, hi = b->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->lp[mid] <= logp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? pool_q_at(b, lo - 1) : 0.0;
}

double sgv_bh_pool_cutoff(const struct sgv_bh_pool *b, double log_alpha) {
    /* q never decreases along the sorted p-values: find the last position still below alpha */
    size_t lo = 0, hi = b->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pool_q_at(b, mid) < log_alpha)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? b->lp[lo - 1] : -INFINITY;
}

void sgv_bh_pool_free(struct sgv_bh_pool *b) {
    free(b->lp);
    free(b->blk);
    memset(b, 0, sizeof *b);
}

double sgv_fold_enrichment(uint32_t N, uint32_t K, uint32_t n, uint32_t k) {
    if (!n || !K) return 0.0;
    return ((double)k * N) / ((double)n * K);
}

double sgv_log2_odds_ratio(uint32_t N, uint32_t K, uint32_t n, uint32_t k) {
    double a = k + 0.5, b = (double)(K - k) + 0.5, c = (double)(n - k) + 0.5;
    double d = (double)N - K - n + k + 0.5;
    return log2((a * d) / (b * c));
}

double sgv_jaccard(uint32_t K, uint32_t n, uint32_t k) {
    uint32_t u = n + K - k;
    return u ? (double)k / u : 0.0;
}

void sgv_prepared_free(struct sgv_prepared *p) {
    if (!p) return;
    free(p->in_universe);
    free(p->universe);
    free(p->term);
    free(p->K);
    free(p->gene_off);
    free(p->gene_terms);
    free(p->count);
    free(p->touched);
    free(p);
}

sg_status sgv_prepare(const struct sgv_library *lib, const uint32_t *universe, size_t n_universe, uint32_t n_hub,
                      const struct sgv_enrich_opts *opts, struct sgv_prepared **out) {
    *out                   = NULL;
    struct sgv_prepared *p = calloc(1, sizeof *p);
    uint8_t *allowed       = calloc(n_hub ? n_hub : 1, 1);
    if (!p || !allowed) goto oom;
    p->lib         = lib;
    p->n_hub       = n_hub;
    p->in_universe = calloc(n_hub ? n_hub : 1, 1);
    if (!p->in_universe) goto oom;
    if (universe) {
        for (size_t i = 0; i < n_universe; i++)
            if (universe[i] < n_hub) allowed[universe[i]] = 1;
    } else {
        memset(allowed, 1, n_hub);
    }
    for (size_t t = 0; t < lib->n_terms; t++) {
        const struct sgv_term *e = &lib->terms[t];
        for (uint32_t j = 0; j < e->n_genes; j++) {
            uint32_t g = e->genes[j];
            if (g >= n_hub) continue;
            if (p->in_universe[g] == 0) {
                p->in_universe[g] = 2; /* annotated; 2 marks "seen" before the universe filter */
                p->n_annotated++;
            }
        }
    }
    for (uint32_t g = 0; g < n_hub; g++) {
        p->in_universe[g] = p->in_universe[g] && allowed[g];
        p->N += p->in_universe[g];
    }
    free(allowed);
    allowed     = NULL;
    p->universe = malloc((p->N ? p->N : 1) * sizeof *p->universe);
    p->term     = malloc((lib->n_terms ? lib->n_terms : 1) * sizeof *p->term);
    p->K        = malloc((lib->n_terms ? lib->n_terms : 1) * sizeof *p->K);
    p->gene_off = calloc((size_t)n_hub + 1, sizeof *p->gene_off);
    if (!p->universe || !p->term || !p->K || !p->gene_off) goto oom;
    for (uint32_t g = 0, w = 0; g < n_hub; g++)
        if (p->in_universe[g]) p->universe[w++] = g;
    size_t n_pairs = 0;
    for (size_t t = 0; t < lib->n_terms; t++) {
        const struct sgv_term *e = &lib->terms[t];
        uint32_t K               = 0;
        for (uint32_t j = 0; j < e->n_genes; j++) K += e->genes[j] < n_hub && p->in_universe[e->genes[j]];
        if (K < opts->min_term || K > opts->max_term || K == 0) continue;
        p->term[p->m] = (uint32_t)t;
        p->K[p->m]    = K;
        p->m++;
        for (uint32_t j = 0; j < e->n_genes; j++) {
            uint32_t g = e->genes[j];
            if (g < n_hub && p->in_universe[g]) p->gene_off[g + 1]++;
        }
        n_pairs += K;
    }
    for (uint32_t g = 0; g < n_hub; g++) p->gene_off[g + 1] += p->gene_off[g];
    p->gene_terms  = malloc((n_pairs ? n_pairs : 1) * sizeof *p->gene_terms);
    uint32_t *fill = calloc(n_hub ? n_hub : 1, sizeof *fill);
    p->count       = calloc(p->m ? p->m : 1, sizeof *p->count);
    p->touched     = malloc((p->m ? p->m : 1) * sizeof *p->touched);
    if (!p->gene_terms || !fill || !p->count || !p->touched) {
        free(fill);
        goto oom;
    }
    for (uint32_t t = 0; t < p->m; t++) {
        const struct sgv_term *e = &lib->terms[p->term[t]];
        for (uint32_t j = 0; j < e->n_genes; j++) {
            uint32_t g = e->genes[j];
            if (g < n_hub && p->in_universe[g]) p->gene_terms[p->gene_off[g] + fill[g]++] = t;
        }
    }
    free(fill);
    *out = p;
    return SG_OK;
oom:
    free(allowed);
    sgv_prepared_free(p);
    return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory preparing the enrichment tables", lib->source);
}

static int cmp_hit(const void *a, const void *b) {
    const struct sgv_hit *x = a, *y = b;
    if (x->logp < y->logp) return -1;
    if (x->logp > y->logp) return 1;
    return (x->t > y->t) - (x->t < y->t);
}

void sgv_set_result_free(struct sgv_set_result *r) {
    free(r->hits);
    memset(r, 0, sizeof *r);
}

sg_status sgv_enrich_set(struct sgv_prepared *p, const uint32_t *genes, size_t n_genes, struct sgv_set_result *r) {
    r->n_hits          = 0;
    r->m               = p->m;
    r->n_input         = (uint32_t)n_genes;
    r->n               = 0;
    uint32_t n_touched = 0;
    /* in_universe doubles as a "seen in this query" mark (bit 1) so duplicates count once */
    for (size_t i = 0; i < n_genes; i++) {
        uint32_t g = genes[i];
        if (g >= p->n_hub || !(p->in_universe[g] & 1) || (p->in_universe[g] & 2)) continue;
        p->in_universe[g] |= 2;
        r->n++;
        for (uint32_t j = p->gene_off[g]; j < p->gene_off[g + 1]; j++) {
            uint32_t t = p->gene_terms[j];
            if (p->count[t]++ == 0) p->touched[n_touched++] = t;
        }
    }
    for (size_t i = 0; i < n_genes; i++)
        if (genes[i] < p->n_hub) p->in_universe[genes[i]] &= 1;
    sg_status st = SG_OK;
    if (n_touched > r->cap) {
        struct sgv_hit *h = realloc(r->hits, n_touched * sizeof *h);
        if (!h)
            st = sg_error(SG_ERR_NO_MEMORY, "enrichment: out of memory");
        else {
            r->hits = h;
            r->cap  = n_touched;
        }
    }
    for (uint32_t i = 0; i < n_touched; i++) {
        uint32_t t = p->touched[i];
        if (st == SG_OK)
            r->hits[r->n_hits++] = (struct sgv_hit){t, p->count[t], sgv_hyper_logsf(p->N, p->K[t], r->n, p->count[t])};
        p->count[t] = 0;
    }
    if (st == SG_OK && r->n_hits > 1) qsort(r->hits, r->n_hits, sizeof *r->hits, cmp_hit);
    return st;
}

size_t sgv_overlap(const struct sgv_prepared *p, uint32_t t, const uint32_t *genes, size_t n_genes, uint32_t *out) {
    const struct sgv_term *e = &p->lib->terms[p->term[t]];
    size_t w                 = 0;
    for (size_t i = 0; i < n_genes; i++) {
        uint32_t g = genes[i];
        if (g >= p->n_hub || !p->in_universe[g]) continue;
        /* term genes are sorted: binary search */
        uint32_t lo = 0, hi = e->n_genes;
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            if (e->genes[mid] < g)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < e->n_genes && e->genes[lo] == g) {
            int dup = 0;
            for (size_t j = 0; j < w; j++) dup |= out[j] == g;
            if (!dup) out[w++] = g;
        }
    }
    return w;
}
