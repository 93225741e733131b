#include "validation/evaluate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "validation/nullset.h"

struct sgv_stats_opts sgv_stats_opts_default(void) {
    struct sgv_stats_opts s = {
        .enrich       = {.min_term = 5, .max_term = 500, .min_overlap = 2},
        .fdr          = 0.05,
        .report_p     = 0.05,
        .max_terms    = 10,
        .min_query    = 3,
        .null_repeats = 1,
        .seed         = 42,
    };
    return s;
}

void sgv_eval_summary_free(struct sgv_eval_summary *s) {
    free(s->hit);
    free(s->null_hit);
    s->hit = s->null_hit = NULL;
}

static void add_log_p(cJSON *o, double logp) {
    cJSON_AddNumberToObject(o, "p", exp(logp));
    cJSON_AddNumberToObject(o, "log10_p", logp / M_LN10);
}

/* Per-set BH into lq (hits are sorted, so lq[0] is the set's smallest q); lp is scratch. */
static sg_status set_bh(const struct sgv_set_result *r, double *lp, double *lq) {
    for (size_t h = 0; h < r->n_hits; h++) lp[h] = r->hits[h].logp;
    return sgv_bh_log(lp, r->n_hits, r->m, lq);
}

static cJSON *term_row(const struct sgv_prepared *p, const struct sgv_source *src, struct sgv_genes *g,
                       const struct sgv_feature *f, const struct sgv_set_result *r, size_t h, double logq,
                       double logq_g, uint32_t *scratch) {
    const struct sgv_hit *hit = &r->hits[h];
    const struct sgv_term *t  = &p->lib->terms[p->term[hit->t]];
    uint32_t K                = p->K[hit->t];
    cJSON *o                  = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "term_id", t->id);
    if (t->name)
        cJSON_AddStringToObject(o, "term_name", t->name);
    else
        cJSON_AddNullToObject(o, "term_name");
    if (src && src->term_url) {
        const char *id = t->id, *colon = strchr(id, ':');
        char url[512];
        snprintf(url, sizeof url, src->term_url, src->url_local_id && colon ? colon + 1 : id);
        cJSON_AddStringToObject(o, "url", url);
    }
    cJSON_AddNumberToObject(o, "N", p->N);
    cJSON_AddNumberToObject(o, "K", K);
    cJSON_AddNumberToObject(o, "n", r->n);
    cJSON_AddNumberToObject(o, "k", hit->k);
    add_log_p(o, hit->logp);
    cJSON_AddNumberToObject(o, "q_bh", exp(logq));
    cJSON_AddNumberToObject(o, "q_bh_global", exp(logq_g));
    cJSON_AddNumberToObject(o, "fold_enrichment", sgv_fold_enrichment(p->N, K, r->n, hit->k));
    cJSON_AddNumberToObject(o, "log2_odds_ratio", sgv_log2_odds_ratio(p->N, K, r->n, hit->k));
    cJSON_AddNumberToObject(o, "jaccard", sgv_jaccard(K, r->n, hit->k));
    size_t no = sgv_overlap(p, hit->t, f->genes, f->n_genes, scratch);
    cJSON *ov = cJSON_AddArrayToObject(o, "overlap_genes");
    for (size_t i = 0; i < no; i++) cJSON_AddItemToArray(ov, cJSON_CreateString(sgv_gene_label(g, scratch[i])));
    return o;
}

/* Null baseline for a term library: per tested feature, `repeats` random sets of its size. */
static sg_status null_terms(struct sgv_prepared *p, const uint32_t *sizes, const uint8_t *tested, size_t nf,
                            const struct sgv_stats_opts *so, double *lp, double *lq, struct sgv_eval_summary *sum) {
    if (!so->null_repeats || !p->N) return SG_OK;
    struct sgv_rng rng;
    sgv_rng_seed(&rng, so->seed, p->lib->source);
    uint32_t *pool = malloc(p->N * sizeof *pool), *set = malloc(p->N * sizeof *set);
    double *best  = NULL; /* per null set: its smallest log p, which decides global significance */
    size_t n_sets = 0, cap = 0;
    struct sgv_bh_pool all  = {0};
    struct sgv_set_result r = {0};
    sg_status st            = pool && set ? SG_OK : sg_error(SG_ERR_NO_MEMORY, "null baseline: out of memory");
    if (st == SG_OK) memcpy(pool, p->universe, p->N * sizeof *pool);
    double log_fdr = log(so->fdr);
    for (size_t i = 0; st == SG_OK && i < nf; i++) {
        if (!tested[i]) continue;
        for (unsigned rep = 0; st == SG_OK && rep < so->null_repeats; rep++) {
            sgv_sample(&rng, pool, p->N, sizes[i], set);
            st = sgv_enrich_set(p, set, sizes[i], &r);
            if (st == SG_OK) st = set_bh(&r, lp, lq);
            if (st != SG_OK) break;
            int sig = r.n_hits && lq[0] < log_fdr;
            sum->null_enriched += sig;
            if (rep == 0 && sum->null_hit) sum->null_hit[i] = (uint8_t)sig;
            for (size_t h = 0; st == SG_OK && h < r.n_hits; h++) st = sgv_bh_pool_push(&all, r.hits[h].logp);
            if (n_sets == cap) {
                cap       = cap ? cap * 2 : 1024;
                double *b = realloc(best, cap * sizeof *b);
                if (!b) {
                    st = sg_error(SG_ERR_NO_MEMORY, "null baseline: out of memory");
                    break;
                }
                best = b;
            }
            best[n_sets++] = r.n_hits ? r.hits[0].logp : 0.0;
        }
    }
    sum->null_sets = n_sets;
    if (st == SG_OK) st = sgv_bh_pool_finish(&all, n_sets * (size_t)p->m);
    double cut = st == SG_OK ? sgv_bh_pool_cutoff(&all, log_fdr) : -INFINITY;
    for (size_t k = 0; st == SG_OK && k < n_sets; k++) sum->null_enriched_global += best[k] < 0 && best[k] <= cut;
    sgv_bh_pool_free(&all);
    sgv_set_result_free(&r);
    free(pool);
    free(set);
    free(best);
    return st;
}

static void add_summary_json(cJSON *doc, const struct sgv_eval_summary *sum, const struct sgv_stats_opts *so) {
    cJSON *s = cJSON_AddObjectToObject(doc, "summary");
    cJSON_AddNumberToObject(s, "features", (double)sum->features);
    cJSON_AddNumberToObject(s, "features_tested", (double)sum->tested);
    cJSON_AddNumberToObject(s, "features_enriched", (double)sum->enriched);
    cJSON_AddNumberToObject(s, "features_enriched_global", (double)sum->enriched_global);
    if (sum->tested) {
        cJSON_AddNumberToObject(s, "fraction_enriched", (double)sum->enriched / (double)sum->tested);
        cJSON_AddNumberToObject(s, "fraction_enriched_global", (double)sum->enriched_global / (double)sum->tested);
    } else {
        cJSON_AddNullToObject(s, "fraction_enriched");
        cJSON_AddNullToObject(s, "fraction_enriched_global");
    }
    cJSON *n = cJSON_AddObjectToObject(doc, "null");
    cJSON_AddStringToObject(
        n, "method",
        "random gene sets of each tested feature's size, drawn uniformly without replacement from the same universe");
    cJSON_AddNumberToObject(n, "seed", (double)so->seed);
    cJSON_AddNumberToObject(n, "repeats", so->null_repeats);
    cJSON_AddNumberToObject(n, "sets", (double)sum->null_sets);
    if (sum->null_sets) {
        cJSON_AddNumberToObject(n, "fraction_enriched", (double)sum->null_enriched / (double)sum->null_sets);
        cJSON_AddNumberToObject(n, "fraction_enriched_global",
                                (double)sum->null_enriched_global / (double)sum->null_sets);
    } else {
        cJSON_AddNullToObject(n, "fraction_enriched");
        cJSON_AddNullToObject(n, "fraction_enriched_global");
    }
}

/* Two passes keep memory near 8 bytes per (feature, term) hit: the first only feeds the global
 * BH pool, the second recomputes each feature's hits and writes them out. */
sg_status sgv_eval_terms(const struct sgv_library *lib, const struct sgv_features *fs, const uint32_t *background,
                         size_t n_background, struct sgv_genes *g, const struct sgv_stats_opts *so,
                         const struct sgv_source *src, cJSON *doc, struct sgv_eval_summary *sum) {
    memset(sum, 0, sizeof *sum);
    struct sgv_prepared *p;
    sg_status st = sgv_prepare(lib, background, n_background, g->n, &so->enrich, &p);
    if (st != SG_OK) return st;
    sum->features   = fs->n;
    sum->N          = p->N;
    sum->m          = p->m;
    sum->hit        = calloc(fs->n + 1, 1);
    sum->null_hit   = calloc(fs->n + 1, 1);
    uint8_t *tested = calloc(fs->n + 1, 1);
    uint32_t *sizes = calloc(fs->n + 1, sizeof *sizes), *scratch = malloc((g->n + 1) * sizeof *scratch);
    double *lp = malloc(((size_t)p->m + 1) * sizeof *lp), *lq = malloc(((size_t)p->m + 1) * sizeof *lq);
    struct sgv_bh_pool all  = {0};
    struct sgv_set_result r = {0};
    if (!tested || !sizes || !scratch || !lp || !lq || !sum->hit || !sum->null_hit)
        st = sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", lib->source);
    for (size_t i = 0; st == SG_OK && i < fs->n; i++) {
        st        = sgv_enrich_set(p, fs->items[i].genes, fs->items[i].n_genes, &r);
        sizes[i]  = r.n;
        tested[i] = r.n >= so->min_query && p->m > 0;
        sum->tested += tested[i];
        for (size_t h = 0; st == SG_OK && tested[i] && h < r.n_hits; h++) st = sgv_bh_pool_push(&all, r.hits[h].logp);
    }
    /* global scope: every tested feature × testable term of this source */
    if (st == SG_OK) st = sgv_bh_pool_finish(&all, sum->tested * (size_t)p->m);
    SG_LOGD("%s: global BH over %zu p-values (k >= 1) of %zu tests", lib->source, all.n, sum->tested * (size_t)p->m);

    double log_fdr = log(so->fdr), log_rep = log(so->report_p);
    double cut = st == SG_OK ? sgv_bh_pool_cutoff(&all, log_fdr) : -INFINITY; /* global q < fdr <=> log p <= cut */
    cJSON *u   = cJSON_AddObjectToObject(doc, "universe");
    cJSON_AddStringToObject(u, "definition",
                            background ? "background genes (model vocabulary ∩ data) that this source annotates"
                                       : "all genes this source annotates (no background given)");
    cJSON_AddNumberToObject(u, "N", p->N);
    cJSON_AddNumberToObject(u, "annotated_genes", p->n_annotated);
    if (background)
        cJSON_AddNumberToObject(u, "background_genes", (double)n_background);
    else
        cJSON_AddNullToObject(u, "background_genes");
    cJSON *tj = cJSON_AddObjectToObject(doc, "terms");
    cJSON_AddNumberToObject(tj, "total", (double)lib->n_terms);
    cJSON_AddNumberToObject(tj, "testable", p->m);
    cJSON *farr = cJSON_AddArrayToObject(doc, "features");
    for (size_t i = 0; st == SG_OK && i < fs->n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(farr, o);
        cJSON_AddStringToObject(o, "id", fs->items[i].id);
        cJSON_AddNumberToObject(o, "n_genes", fs->items[i].n_genes);
        cJSON_AddNumberToObject(o, "n_in_universe", sizes[i]);
        cJSON_AddBoolToObject(o, "tested", tested[i]);
        if (!tested[i]) continue;
        st = sgv_enrich_set(p, fs->items[i].genes, fs->items[i].n_genes, &r);
        if (st == SG_OK) st = set_bh(&r, lp, lq);
        if (st != SG_OK) break;
        size_t sig = 0, sig_g = 0;
        cJSON *rows     = cJSON_CreateArray();
        unsigned listed = 0;
        for (size_t h = 0; h < r.n_hits; h++) {
            sig += lq[h] < log_fdr;
            sig_g += r.hits[h].logp <= cut;
            if (listed < so->max_terms && r.hits[h].k >= so->enrich.min_overlap && r.hits[h].logp < log_rep) {
                double lqg = sgv_bh_pool_logq(&all, r.hits[h].logp);
                cJSON_AddItemToArray(rows, term_row(p, src, g, &fs->items[i], &r, h, lq[h], lqg, scratch));
                listed++;
            }
        }
        sum->enriched += sig > 0;
        sum->enriched_global += sig_g > 0;
        sum->hit[i] = sig > 0;
        cJSON_AddNumberToObject(o, "n_tests", p->m);
        cJSON_AddNumberToObject(o, "n_significant", (double)sig);
        cJSON_AddNumberToObject(o, "n_significant_global", (double)sig_g);
        cJSON_AddItemToObject(o, "terms", rows);
    }
    sgv_bh_pool_free(&all);
    if (st == SG_OK) st = null_terms(p, sizes, tested, fs->n, so, lp, lq, sum);
    if (st == SG_OK) add_summary_json(doc, sum, so);
    sgv_set_result_free(&r);
    free(tested);
    free(sizes);
    free(scratch);
    free(lp);
    free(lq);
    sgv_prepared_free(p);
    return st;
}

struct ppi_item {
    struct sgv_ppi_result r;
    int tested;
    uint32_t n_pool;
};

sg_status sgv_eval_ppi(sgv_ppi_fn eval, void *ctx, const struct sgv_features *fs, const uint8_t *in_pool,
                       const uint32_t *pool_in, size_t n_pool, struct sgv_genes *g, const struct sgv_stats_opts *so,
                       const char *stream, cJSON *doc, struct sgv_eval_summary *sum) {
    memset(sum, 0, sizeof *sum);
    sum->features       = fs->n;
    sum->N              = (uint32_t)n_pool;
    sum->m              = 1;
    struct ppi_item *it = calloc(fs->n + 1, sizeof *it);
    uint32_t *set = malloc((g->n + 1) * sizeof *set), *pool = malloc((n_pool + 1) * sizeof *pool);
    double *lp = malloc((fs->n + 1) * sizeof *lp), *lq = malloc((fs->n + 1) * sizeof *lq);
    sum->hit           = calloc(fs->n + 1, 1);
    sum->null_hit      = calloc(fs->n + 1, 1);
    sg_status st       = it && set && pool && lp && lq && sum->hit && sum->null_hit
                             ? SG_OK
                             : sg_error(SG_ERR_NO_MEMORY, "PPI: out of memory");
    unsigned min_nodes = so->min_query > 2 ? so->min_query : 2;
    size_t nt          = 0;
    for (size_t i = 0; st == SG_OK && i < fs->n; i++) {
        uint32_t n = 0;
        for (uint32_t j = 0; j < fs->items[i].n_genes; j++)
            if (!in_pool || in_pool[fs->items[i].genes[j]]) set[n++] = fs->items[i].genes[j];
        it[i].n_pool = n;
        if (n < min_nodes) continue;
        st           = eval(ctx, set, n, &it[i].r);
        it[i].tested = st == SG_OK && it[i].r.n_nodes >= 2;
        if (it[i].tested) lp[nt++] = it[i].r.logp;
    }
    sum->tested = nt;
    if (st == SG_OK) st = sgv_bh_log(lp, nt, nt, lq);
    double log_fdr = log(so->fdr);
    cJSON *u       = cJSON_AddObjectToObject(doc, "universe");
    cJSON_AddStringToObject(u, "definition", "network proteins among the background genes");
    cJSON_AddNumberToObject(u, "N", (double)n_pool);
    cJSON *farr = cJSON_AddArrayToObject(doc, "features");
    for (size_t i = 0, k = 0; st == SG_OK && i < fs->n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(farr, o);
        cJSON_AddStringToObject(o, "id", fs->items[i].id);
        cJSON_AddNumberToObject(o, "n_genes", fs->items[i].n_genes);
        cJSON_AddNumberToObject(o, "n_in_universe", it[i].n_pool);
        cJSON_AddBoolToObject(o, "tested", it[i].tested);
        if (!it[i].tested) continue;
        const struct sgv_ppi_result *r = &it[i].r;
        cJSON_AddNumberToObject(o, "n_nodes", r->n_nodes);
        cJSON_AddNumberToObject(o, "edges", (double)r->edges);
        cJSON_AddNumberToObject(o, "expected_edges", r->expected);
        add_log_p(o, r->logp);
        cJSON_AddNumberToObject(o, "q_bh", exp(lq[k]));
        int sig = lq[k++] < log_fdr;
        cJSON_AddBoolToObject(o, "significant", sig);
        sum->enriched += sig;
        sum->hit[i] = (uint8_t)sig;
    }
    sum->enriched_global = sum->enriched; /* one test per feature: both scopes coincide */
    /* null: random sets of each tested feature's size from the pool, BH across the null sets */
    if (st == SG_OK && so->null_repeats && n_pool) {
        memcpy(pool, pool_in, n_pool * sizeof *pool);
        struct sgv_rng rng;
        sgv_rng_seed(&rng, so->seed, stream);
        size_t ns = 0, cap = nt * so->null_repeats + 1;
        double *nl = malloc(cap * sizeof *nl), *nq = malloc(cap * sizeof *nq);
        size_t *owner = malloc(cap * sizeof *owner);
        if (!nl || !nq || !owner) st = sg_error(SG_ERR_NO_MEMORY, "PPI null: out of memory");
        for (size_t i = 0; st == SG_OK && i < fs->n; i++) {
            if (!it[i].tested) continue;
            for (unsigned rep = 0; st == SG_OK && rep < so->null_repeats; rep++) {
                struct sgv_ppi_result r;
                sgv_sample(&rng, pool, n_pool, it[i].n_pool, set);
                st = eval(ctx, set, it[i].n_pool < n_pool ? it[i].n_pool : n_pool, &r);
                if (st != SG_OK) break;
                owner[ns] = rep == 0 ? i : (size_t)-1;
                nl[ns++]  = r.logp;
            }
        }
        if (st == SG_OK) st = sgv_bh_log(nl, ns, ns, nq);
        for (size_t s = 0; st == SG_OK && s < ns; s++) {
            int sig = nq[s] < log_fdr;
            sum->null_enriched += sig;
            if (owner[s] != (size_t)-1) sum->null_hit[owner[s]] = (uint8_t)sig;
        }
        sum->null_enriched_global = sum->null_enriched;
        sum->null_sets            = ns;
        free(nl);
        free(nq);
        free(owner);
    }
    if (st == SG_OK) add_summary_json(doc, sum, so);
    free(it);
    free(set);
    free(pool);
    free(lp);
    free(lq);
    return st;
}
