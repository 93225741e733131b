/* The null baseline: seeded, reproducible, uniform sampling without replacement; and, end to
 * end through sgv_eval_terms, random gene sets are called enriched at about the nominal rate
 * while planted ones are not missed. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/validation/harness.h"
#include "validation/evaluate.h"
#include "validation/nullset.h"

static void test_sampling_is_seeded_and_distinct(void) {
    uint32_t pool[50], a[10], b[10], c[10];
    struct sgv_rng r1, r2, r3;
    for (uint32_t i = 0; i < 50; i++) pool[i] = i;
    sgv_rng_seed(&r1, 42, "hpo");
    sgv_sample(&r1, pool, 50, 10, a);
    for (uint32_t i = 0; i < 50; i++) pool[i] = i;
    sgv_rng_seed(&r2, 42, "hpo");
    sgv_sample(&r2, pool, 50, 10, b);
    for (uint32_t i = 0; i < 50; i++) pool[i] = i;
    sgv_rng_seed(&r3, 42, "go");
    sgv_sample(&r3, pool, 50, 10, c);
    TH_CHECK(!memcmp(a, b, sizeof a) && memcmp(a, c, sizeof a));
    for (int i = 0; i < 10; i++)
        for (int j = i + 1; j < 10; j++) TH_CHECK(a[i] != a[j]);
}

static void test_sampling_is_uniform(void) {
    enum { N = 20, K = 5, DRAWS = 40000 };
    uint32_t pool[N], out[K];
    long count[N] = {0};
    struct sgv_rng r;
    sgv_rng_seed(&r, 1, "uniform");
    for (uint32_t i = 0; i < N; i++) pool[i] = i;
    for (int d = 0; d < DRAWS; d++) {
        sgv_sample(&r, pool, N, K, out);
        for (int k = 0; k < K; k++) count[out[k]]++;
    }
    /* each element is drawn with probability K/N; chi-square with 19 dof stays below 45 with p > 0.999 */
    double expect = (double)DRAWS * K / N, chi = 0;
    for (int i = 0; i < N; i++) chi += (count[i] - expect) * (count[i] - expect) / expect;
    TH_CHECKF(chi < 45.3, "chi-square %.1f", chi);
    TH_CHECK(sgv_rng_below(&r, 1) == 0);
}

/* 2000 genes, 60 terms of 40 genes; 300 uniformly random query sets and 20 planted ones. */
static void test_random_sets_are_enriched_at_the_nominal_rate(void) {
    struct sgv_genes *g;
    TH_CHECK(sgv_genes_new_raw(&g) == SG_OK);
    char name[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof name, "G%04d", i);
        sgv_genes_find(g, name, SGV_ID_ANY, NULL);
    }
    struct sgv_rng rng;
    sgv_rng_seed(&rng, 99, "calibration");
    uint32_t pool[2000], set[64];
    for (uint32_t i = 0; i < 2000; i++) pool[i] = i;
    struct sgv_library lib;
    sgv_library_init(&lib, "synthetic");
    for (int t = 0; t < 60; t++) {
        snprintf(name, sizeof name, "T%02d", t);
        sgv_sample(&rng, pool, 2000, 40, set);
        for (int k = 0; k < 40; k++) sgv_library_add(&lib, name, NULL, set[k]);
    }
    sgv_library_finish(&lib);
    struct sgv_features fs = {0};
    enum { RANDOM = 300, PLANTED = 20 };
    fs.items = calloc(RANDOM + PLANTED, sizeof *fs.items);
    for (int f = 0; f < RANDOM + PLANTED; f++) {
        struct sgv_feature *it = &fs.items[fs.n++];
        snprintf(name, sizeof name, "%d", f);
        it->id    = strdup(name);
        it->genes = malloc(30 * sizeof *it->genes);
        sgv_sample(&rng, pool, 2000, 30, it->genes);
        if (f >= RANDOM) /* planted: 12 of the 30 genes from one term */
            memcpy(it->genes, lib.terms[f % 60].genes, 12 * sizeof *it->genes);
        it->n_genes = it->n_listed = 30;
        for (int a = 0; a < 30; a++) /* planting may duplicate: keep the list unique */
            for (int b = a + 1; b < (int)it->n_genes; b++)
                if (it->genes[a] == it->genes[b]) it->genes[b--] = it->genes[--it->n_genes];
    }
    struct sgv_stats_opts so = sgv_stats_opts_default();
    so.null_repeats          = 2;
    struct sgv_eval_summary sum;
    cJSON *doc = cJSON_CreateObject();
    TH_CHECK(sgv_eval_terms(&lib, &fs, NULL, 0, g, &so, NULL, doc, &sum) == SG_OK);
    size_t fp = 0, tp = 0;
    for (int f = 0; f < RANDOM; f++) fp += sum.hit[f];
    for (int f = RANDOM; f < RANDOM + PLANTED; f++) tp += sum.hit[f];
    double fp_rate = (double)fp / RANDOM, null_rate = (double)sum.null_enriched / sum.null_sets;
    fprintf(stderr, "   random sets enriched %.3f, null baseline %.3f, planted found %zu/%d\n", fp_rate, null_rate, tp,
            PLANTED);
    /* BH per set keeps the chance of any false call near alpha; 3 binomial sd above 0.05 */
    TH_CHECK(fp_rate <= 0.05 + 3 * sqrt(0.05 * 0.95 / RANDOM));
    TH_CHECK(null_rate <= 0.05 + 3 * sqrt(0.05 * 0.95 / (double)sum.null_sets));
    TH_CHECK(sum.null_sets == 2 * (RANDOM + PLANTED) && tp == PLANTED);
    /* same seed, same null: the baseline is reproducible */
    struct sgv_eval_summary again;
    cJSON *doc2 = cJSON_CreateObject();
    TH_CHECK(sgv_eval_terms(&lib, &fs, NULL, 0, g, &so, NULL, doc2, &again) == SG_OK);
    TH_CHECK(again.null_enriched == sum.null_enriched && again.null_enriched_global == sum.null_enriched_global);
    sgv_eval_summary_free(&again);
    sgv_eval_summary_free(&sum);
    cJSON_Delete(doc);
    cJSON_Delete(doc2);
    sgv_features_free(&fs);
    sgv_library_free(&lib);
    sgv_genes_free(g);
}

int main(void) {
    TH_RUN(test_sampling_is_seeded_and_distinct);
    TH_RUN(test_sampling_is_uniform);
    TH_RUN(test_random_sets_are_enriched_at_the_nominal_rate);
    return th_report();
}
