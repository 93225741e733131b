#include <string.h>

#include "validation/sources/source.h"

extern const struct sgv_source sgv_source_open_targets, sgv_source_hpo, sgv_source_gwas, sgv_source_disgenet,
    sgv_source_monarch, sgv_source_string, sgv_source_omim, sgv_source_orphanet, sgv_source_clinvar, sgv_source_gencc,
    sgv_source_go, sgv_source_reactome, sgv_source_kegg, sgv_source_msigdb;

/* The user's three tiers first, then the pathway and gene-set collections. */
const struct sgv_source *const sgv_sources[] = {
    &sgv_source_open_targets, &sgv_source_hpo,      &sgv_source_gwas,     &sgv_source_disgenet, &sgv_source_monarch,
    &sgv_source_string,       &sgv_source_omim,     &sgv_source_orphanet, &sgv_source_clinvar,  &sgv_source_gencc,
    &sgv_source_go,           &sgv_source_reactome, &sgv_source_kegg,     &sgv_source_msigdb,   NULL,
};

const struct sgv_source *sgv_source_find(const char *name) {
    for (const struct sgv_source *const *s = sgv_sources; *s; s++)
        if (strcmp((*s)->name, name) == 0) return *s;
    return NULL;
}
