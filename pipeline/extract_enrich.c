/* Cell-type enrichment of each feature's active cells: for every cell type with cells, the
 * one-sided Fisher exact test P(X >= k), X ~ Hypergeometric(n_cells, K, n_active), and the
 * Benjamini-Hochberg q-values over the feature's types. The statistics are validation's
 * (validation/enrich.h), the same code `saeg validate` trusts. */
#include <math.h>
#include <stdlib.h>

#include "pipeline/extract_priv.h"
#include "validation/enrich.h"

static int by_p(const void *pa, const void *pb) {
    const struct sg_enrich_row *a = pa, *b = pb;
    if (a->p != b->p) return a->p < b->p ? -1 : 1;
    return (a->type > b->type) - (a->type < b->type);
}

sg_status sg_extract_enrich(struct sg_extract_acc *a) {
    const int32_t T = a->o.n_types;
    int32_t used    = 0;
    for (int32_t t = 0; t < T; t++) used += a->type_size[t] > 0;
    a->n_enrich = used;
    if (used == 0) return SG_OK;
    if (a->n_cells > UINT32_MAX) return sg_error(SG_ERR_INVALID_ARG, "enrichment: more than 2^32 cells");
    const size_t M = (size_t)a->o.d_sae;
    a->enrich      = malloc(M * (size_t)used * sizeof *a->enrich);
    double *logp = malloc((size_t)used * sizeof *logp), *logq = malloc((size_t)used * sizeof *logq);
    sg_status st = a->enrich && logp && logq ? SG_OK : sg_error(SG_ERR_NO_MEMORY, "out of memory for the enrichment");
    const uint32_t N = (uint32_t)a->n_cells;
    for (size_t f = 0; st == SG_OK && f < M; f++) {
        struct sg_enrich_row *r = a->enrich + f * (size_t)used;
        const uint32_t n        = (uint32_t)a->n_active_cells[f];
        int32_t j               = 0;
        for (int32_t t = 0; t < T; t++) {
            if (a->type_size[t] == 0) continue;
            const uint32_t K = (uint32_t)a->type_size[t], k = a->type_active[f * (size_t)T + (size_t)t];
            logp[j] = sgv_hyper_logsf(N, K, n, k);
            r[j]    = (struct sg_enrich_row){
                   .type = t, .k = k, .K = K, .fold = n ? sgv_fold_enrichment(N, K, n, k) : NAN, .p = exp(logp[j])};
            j++;
        }
        st = sgv_bh_log(logp, (size_t)used, (size_t)used, logq);
        for (int32_t i = 0; st == SG_OK && i < used; i++) r[i].q = exp(logq[i]);
        qsort(r, (size_t)used, sizeof *r, by_p);
    }
    free(logp);
    free(logq);
    return st;
}
