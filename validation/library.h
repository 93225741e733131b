/* A term library: the gene set of every term (disease, phenotype, pathway, GO term) of one
 * source, as sorted indices into the gene hub (validation/geneid.h).
 *
 *     struct sgv_library lib;
 *     sgv_library_init(&lib, "hpo");
 *     sgv_library_add(&lib, "HP:0001250", "Seizure", gene);   // repeated pairs are merged
 *     ...
 *     sgv_library_finish(&lib);            // sorts and de-duplicates every term's genes
 *     for (size_t t = 0; t < lib.n_terms; t++) use(lib.terms[t].genes, lib.terms[t].n_genes);
 *     sgv_library_free(&lib);
 *
 * Loaders also count the identifiers they met (map) so every run can report how many of a
 * source's genes reached the hub.
 */
#ifndef SGV_LIBRARY_H
#define SGV_LIBRARY_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "validation/geneid.h"
#include "validation/strmap.h"

struct sgv_term {
    char *id;
    char *name; /* may be NULL until a name is known */
    uint32_t *genes;
    uint32_t n_genes, cap;
};

struct sgv_library {
    char *source;
    char *version; /* release / file date, or NULL */
    struct sgv_term *terms;
    size_t n_terms, cap;
    struct sgv_strmap index;    /* term id -> position */
    struct sgv_map_stats map;   /* gene identifiers met while loading */
    struct sgv_strmap unmapped; /* distinct identifiers that did not resolve (count only) */
};

void sgv_library_init(struct sgv_library *lib, const char *source);
void sgv_library_free(struct sgv_library *lib);

/* Term position, creating the term when new; a non-empty name fills a missing one. */
int32_t sgv_library_term(struct sgv_library *lib, const char *id, const char *name);
sg_status sgv_library_add(struct sgv_library *lib, const char *term_id, const char *term_name, uint32_t gene);
sg_status sgv_library_add_gene(struct sgv_library *lib, int32_t term, uint32_t gene);

/* Resolves `gene_id` through the hub, counts the outcome, and adds it to the term when it maps.
 * Unresolved IDs are counted (once each) and skipped. */
sg_status sgv_library_add_id(struct sgv_library *lib, struct sgv_genes *g, const char *term_id, const char *term_name,
                             const char *gene_id, enum sgv_id_kind kind);

sg_status sgv_library_set_version(struct sgv_library *lib, const char *version);
sg_status sgv_library_finish(struct sgv_library *lib);
/* Moves the unmapped-identifier record of `from` (a loader's direct annotations) into lib. */
void sgv_library_take_unmapped(struct sgv_library *lib, struct sgv_library *from);

#endif
