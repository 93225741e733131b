/* The gene-identifier hub: every source's gene IDs are mapped to one row index of this table,
 * and all set operations run on those indices.
 *
 *     struct sgv_genes *g;
 *     if (sgv_genes_load_hgnc("hgnc_complete_set.txt", &g) != SG_OK) return 1;
 *     enum sgv_match how;
 *     int32_t i = sgv_genes_find(g, "ENSG00000141510.17", SGV_ID_ANY, &how);  // version stripped
 *     if (i >= 0) printf("%s via %s\n", g->genes[i].symbol, sgv_match_name(how));  // TP53 via ensembl
 *     sgv_genes_free(g);
 *
 * Resolution order (reference/validation.md §2): Ensembl, Entrez, HGNC ID, approved symbol,
 * then a previous symbol only when it names one gene and is not an approved symbol, then an
 * alias only when it names one gene and is neither approved nor previous. Anything that names
 * two genes is reported as ambiguous, never picked silently.
 *
 * A "raw" hub (sgv_genes_new_raw) has no reference table: each new identifier becomes its own
 * gene, matched case-insensitively. `saeg validate --query` uses it when no HGNC file is given.
 */
#ifndef SGV_GENEID_H
#define SGV_GENEID_H

#include <stdint.h>

#include "core/status.h"
#include "validation/strmap.h"

struct sgv_gene {
    char *hgnc_id; /* "HGNC:11998", or NULL */
    char *symbol;  /* approved symbol, for display */
    char *ensembl; /* unversioned ENSG, or NULL */
    char *entrez;  /* decimal NCBI Gene ID, or NULL */
    char *omim;    /* gene MIM numbers, '|'-separated, or NULL */
};

enum sgv_id_kind {
    SGV_ID_ANY, /* guessed from the form: ENSG…, HGNC:…, digits / NCBIGene:…, else symbol */
    SGV_ID_ENSEMBL,
    SGV_ID_ENTREZ,
    SGV_ID_HGNC,
    SGV_ID_SYMBOL, /* approved, then previous, then alias */
    SGV_ID_UNIPROT,
};

enum sgv_match {
    SGV_MATCH_NONE,
    SGV_MATCH_ENSEMBL,
    SGV_MATCH_ENTREZ,
    SGV_MATCH_HGNC,
    SGV_MATCH_SYMBOL,
    SGV_MATCH_PREVIOUS,
    SGV_MATCH_ALIAS,
    SGV_MATCH_UNIPROT,
    SGV_MATCH_RAW,
    SGV_MATCH_AMBIGUOUS,
    SGV_MATCH_COUNT
};

enum sgv_synonym { SGV_SYN_PREVIOUS, SGV_SYN_ALIAS, SGV_SYN_UNIPROT, SGV_SYN_ENSEMBL };

struct sgv_genes {
    struct sgv_gene *genes;
    uint32_t n, cap;
    char *origin; /* what the table was built from, for reports */
    int raw;
    struct sgv_strmap by_ensembl, by_entrez, by_hgnc, by_symbol, by_prev, by_alias, by_uniprot;
};

/* How many identifiers of a list resolved, and how. */
struct sgv_map_stats {
    uint32_t total;
    uint32_t by[SGV_MATCH_COUNT];
};

sg_status sgv_genes_load_hgnc(const char *path, struct sgv_genes **out);
sg_status sgv_genes_new(const char *origin, struct sgv_genes **out);
sg_status sgv_genes_new_raw(struct sgv_genes **out);
void sgv_genes_free(struct sgv_genes *g);

/* Adds a gene; any identifier may be NULL or "". Returns the new index or -1 (error set). */
int32_t sgv_genes_add(struct sgv_genes *g, const char *hgnc_id, const char *symbol, const char *ensembl,
                      const char *entrez);
sg_status sgv_genes_add_synonym(struct sgv_genes *g, int32_t gene, const char *name, enum sgv_synonym kind);

/* Index of the gene `id` names, or -1 (how = NONE or AMBIGUOUS). A raw hub adds unseen IDs. */
int32_t sgv_genes_find(struct sgv_genes *g, const char *id, enum sgv_id_kind kind, enum sgv_match *how);

/* Display name: the symbol, else the Ensembl/Entrez/HGNC identifier. */
const char *sgv_gene_label(const struct sgv_genes *g, uint32_t gene);

const char *sgv_match_name(enum sgv_match m);
void sgv_map_stats_add(struct sgv_map_stats *s, enum sgv_match how);
uint32_t sgv_map_stats_mapped(const struct sgv_map_stats *s);

/* "ENSG00000141510.17" -> "ENSG00000141510", "ENSG00000002586_PAR_Y" -> X copy. */
void sgv_ensembl_normalise(const char *id, char *buf, size_t cap);

#endif
