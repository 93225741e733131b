#include "validation/ppi.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

sg_status sgv_ppi_net_new(uint32_t n_hub, struct sgv_ppi_net **out) {
    struct sgv_ppi_net *n = calloc(1, sizeof *n);
    if (n) {
        n->n_hub = n_hub;
        n->node  = calloc(n_hub ? n_hub : 1, 1);
        n->deg   = calloc(n_hub ? n_hub : 1, sizeof *n->deg);
    }
    if (!n || !n->node || !n->deg) {
        sgv_ppi_net_free(n);
        return sg_error(SG_ERR_NO_MEMORY, "PPI network: out of memory");
    }
    *out = n;
    return SG_OK;
}

void sgv_ppi_net_free(struct sgv_ppi_net *net) {
    if (!net) return;
    free(net->node);
    free(net->deg);
    free(net->edge);
    free(net);
}

void sgv_ppi_net_add_node(struct sgv_ppi_net *net, uint32_t a) {
    if (a < net->n_hub && !net->node[a]) {
        net->node[a] = 1;
        net->n_nodes++;
    }
}

static uint64_t edge_key(uint32_t a, uint32_t b) {
    uint32_t lo = a < b ? a : b, hi = a < b ? b : a;
    return (((uint64_t)lo << 32) | hi) + 1; /* +1: zero marks an empty slot */
}

static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int edge_insert(uint64_t *tab, uint64_t cap, uint64_t key) {
    uint64_t j = mix64(key) & (cap - 1);
    while (tab[j]) {
        if (tab[j] == key) return 0;
        j = (j + 1) & (cap - 1);
    }
    tab[j] = key;
    return 1;
}

int sgv_ppi_net_has_edge(const struct sgv_ppi_net *net, uint32_t a, uint32_t b) {
    if (!net->edge_cap) return 0;
    uint64_t key = edge_key(a, b), j = mix64(key) & (net->edge_cap - 1);
    while (net->edge[j]) {
        if (net->edge[j] == key) return 1;
        j = (j + 1) & (net->edge_cap - 1);
    }
    return 0;
}

sg_status sgv_ppi_net_add_edge(struct sgv_ppi_net *net, uint32_t a, uint32_t b) {
    if (a == b || a >= net->n_hub || b >= net->n_hub) return SG_OK;
    if ((net->n_edges + 1) * 2 > net->edge_cap) {
        uint64_t cap  = net->edge_cap ? net->edge_cap * 2 : 1024;
        uint64_t *tab = calloc(cap, sizeof *tab);
        if (!tab)
            return sg_error(SG_ERR_NO_MEMORY, "PPI network: out of memory (%llu edges)",
                            (unsigned long long)net->n_edges);
        for (uint64_t i = 0; i < net->edge_cap; i++)
            if (net->edge[i]) edge_insert(tab, cap, net->edge[i]);
        free(net->edge);
        net->edge     = tab;
        net->edge_cap = cap;
    }
    if (edge_insert(net->edge, net->edge_cap, edge_key(a, b))) {
        net->n_edges++;
        net->deg[a]++;
        net->deg[b]++;
        sgv_ppi_net_add_node(net, a);
        sgv_ppi_net_add_node(net, b);
    }
    return SG_OK;
}

double sgv_poisson_logsf(uint64_t k, double lambda) {
    if (k == 0) return 0.0;
    if (lambda <= 0) return -INFINITY;
    double kd = (double)k;
    if (kd > lambda) { /* terms fall from k upwards */
        double s = 1.0, t = 1.0;
        for (uint64_t i = k;; i++) {
            t *= lambda / ((double)i + 1);
            s += t;
            if (t < s * 1e-17) break;
        }
        return -lambda + kd * log(lambda) - lgamma(kd + 1) + log(s);
    }
    /* 1 - P(X <= k-1); that lower tail falls from k-1 downwards */
    double s = 1.0, t = 1.0;
    for (uint64_t i = k - 1; i > 0; i--) {
        t *= (double)i / lambda;
        s += t;
        if (t < s * 1e-17) break;
    }
    double km1   = kd - 1;
    double lower = exp(-lambda + km1 * log(lambda) - lgamma(km1 + 1) + log(s));
    return lower >= 1.0 ? -INFINITY : log1p(-lower);
}

/* log P(a <= X <= b) */
static double poisson_log_range(uint64_t a, uint64_t b, double lambda) {
    double la = sgv_poisson_logsf(a, lambda), lb = sgv_poisson_logsf(b + 1, lambda);
    if (lb == -INFINITY) return la;
    double d = lb - la;
    return d >= 0 ? -INFINITY : la + log1p(-exp(d));
}

sg_status sgv_ppi_enrich(const struct sgv_ppi_net *net, const uint32_t *genes, size_t n, struct sgv_ppi_result *r) {
    memset(r, 0, sizeof *r);
    r->n_input      = (uint32_t)n;
    uint32_t *nodes = malloc((n ? n : 1) * sizeof *nodes);
    if (!nodes) return sg_error(SG_ERR_NO_MEMORY, "PPI: out of memory");
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t g = genes[i];
        if (g >= net->n_hub || !net->node[g]) continue;
        int dup = 0;
        for (size_t j = 0; j < m && !dup; j++) dup = nodes[j] == g;
        if (!dup) nodes[m++] = g;
    }
    r->n_nodes   = (uint32_t)m;
    double two_e = 2.0 * (double)net->n_edges, lambda = 0;
    for (size_t i = 0; i < m; i++) {
        for (size_t j = i + 1; j < m; j++) {
            if (two_e > 0) lambda += -expm1(-((double)net->deg[nodes[i]] * net->deg[nodes[j]]) / two_e);
            r->edges += (uint64_t)sgv_ppi_net_has_edge(net, nodes[i], nodes[j]);
        }
    }
    free(nodes);
    r->expected   = lambda;
    uint64_t emax = m > 1 ? (uint64_t)m * (m - 1) / 2 : 0;
    if (emax == 0 || r->edges == 0) {
        r->logp = 0.0;
        return SG_OK;
    }
    r->logp = poisson_log_range(r->edges, emax, lambda) - poisson_log_range(0, emax, lambda);
    if (r->logp > 0) r->logp = 0;
    return SG_OK;
}
