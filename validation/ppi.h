/* Network-level protein–protein interaction enrichment (STRING's "PPI enrichment"): are there
 * more edges among a gene set than a degree-preserving null expects?
 *
 *     struct sgv_ppi_net *net;
 *     sgv_ppi_net_new(n_hub_genes, &net);
 *     sgv_ppi_net_add_node(net, a);  sgv_ppi_net_add_edge(net, a, b);   // duplicates merged
 *     struct sgv_ppi_result r;
 *     sgv_ppi_enrich(net, genes, n, &r);      // r.edges, r.expected, r.logp
 *     sgv_ppi_net_free(net);
 *
 * Method (reference/validation.md §3.8, after STRINGdb's ppi_enrichment): with d_i the degree of
 * node i in the whole network and E the network's edge count, each pair i < j of the set's
 * nodes carries an edge with probability 1 - exp(-d_i d_j / 2E); λ is their sum, and p is the
 * Poisson upper tail at the observed edge count, truncated at n(n-1)/2. Self-pairs are not
 * counted (the R code's i = j terms are a quirk we do not copy).
 */
#ifndef SGV_PPI_H
#define SGV_PPI_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

struct sgv_ppi_net {
    uint32_t n_hub;
    uint8_t *node; /* gene is a protein of the network (even with degree 0) */
    uint32_t *deg;
    uint64_t *edge; /* open-addressing set of (min << 32 | max) + 1 */
    uint64_t edge_cap, n_edges;
    uint32_t n_nodes;
};

struct sgv_ppi_result {
    uint32_t n_input; /* genes given */
    uint32_t n_nodes; /* of them, network nodes */
    uint64_t edges;   /* observed edges among them */
    double expected;  /* λ */
    double logp;
};

sg_status sgv_ppi_net_new(uint32_t n_hub, struct sgv_ppi_net **out);
void sgv_ppi_net_free(struct sgv_ppi_net *net);
void sgv_ppi_net_add_node(struct sgv_ppi_net *net, uint32_t a);
sg_status sgv_ppi_net_add_edge(struct sgv_ppi_net *net, uint32_t a, uint32_t b);
int sgv_ppi_net_has_edge(const struct sgv_ppi_net *net, uint32_t a, uint32_t b);

sg_status sgv_ppi_enrich(const struct sgv_ppi_net *net, const uint32_t *genes, size_t n, struct sgv_ppi_result *r);

/* log P(X >= k) for X ~ Poisson(lambda). */
double sgv_poisson_logsf(uint64_t k, double lambda);

#endif
