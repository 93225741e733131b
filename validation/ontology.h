/* OBO ontologies (hp.obo, go-basic.obo) and the true-path rule: a gene annotated to a term is
 * annotated to all of its ancestors.
 *
 *     static const char *const rels[] = {"part_of", NULL};           // GO: is_a + part_of
 *     struct sgv_ontology *o;
 *     sgv_ontology_load_obo("go-basic.obo", rels, &o);
 *     struct sgv_onto_filter f = {.namespace = "biological_process"};
 *     sgv_ontology_propagate(o, &direct, &f, &propagated);           // libraries, see library.h
 *     sgv_ontology_free(o);
 *
 * alt_id resolves to its primary term; an obsolete term resolves through replaced_by or is
 * dropped (and counted). [Typedef] stanzas are skipped.
 */
#ifndef SGV_ONTOLOGY_H
#define SGV_ONTOLOGY_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "validation/library.h"
#include "validation/strmap.h"

struct sgv_onto_term {
    char *id, *name, *ns;
    uint32_t *parents;
    uint32_t n_parents;
    int obsolete;
    char *replaced_by;
    uint32_t *anc; /* sorted ancestors (closure), filled lazily */
    uint32_t n_anc;
    int anc_state; /* 0 not computed, 1 in progress, 2 done */
};

struct sgv_ontology {
    char *path;
    char *version; /* the header's data-version, or NULL */
    struct sgv_onto_term *terms;
    size_t n, cap;
    struct sgv_strmap index; /* id and alt_id -> term */
};

struct sgv_onto_filter {
    const char *root;           /* keep only proper descendants of this term, or NULL */
    const char *const *exclude; /* NULL-terminated: drop these terms and their descendants */
    const char *namespace;      /* keep only this namespace, or NULL */
};

struct sgv_propagate_stats {
    uint32_t direct_terms;  /* terms in the direct annotations */
    uint32_t unknown_terms; /* not in the ontology (dropped) */
    uint32_t obsolete_remapped;
    uint32_t obsolete_dropped;
};

/* `relations` lists the relationship types followed besides is_a (NULL: is_a only). */
sg_status sgv_ontology_load_obo(const char *path, const char *const *relations, struct sgv_ontology **out);
void sgv_ontology_free(struct sgv_ontology *o);

/* Term index for an id or alt_id, following replaced_by for obsolete terms; -1 if none. */
int32_t sgv_ontology_find(const struct sgv_ontology *o, const char *id);

/* Sorted ancestor closure of term t (t itself excluded). */
sg_status sgv_ontology_ancestors(struct sgv_ontology *o, uint32_t t, const uint32_t **anc, uint32_t *n);
int sgv_ontology_is_ancestor(struct sgv_ontology *o, uint32_t anc, uint32_t t);

/* Builds `out` (initialised by the caller) from the direct annotations in `direct`: every
 * gene is added to its terms and all their ancestors, then `f` selects the terms kept. */
sg_status sgv_ontology_propagate(struct sgv_ontology *o, const struct sgv_library *direct,
                                 const struct sgv_onto_filter *f, struct sgv_library *out,
                                 struct sgv_propagate_stats *stats);

#endif
