/* Bioconductor's org.Hs.eg.db SQLite file (Debian r-bioc-org.hs.eg.db) as a gene-ID hub and as
 * a source of GO and OMIM gene sets: NCBI Gene, Ensembl and GO data in one offline file.
 *
 *     struct sgv_genes *g;
 *     sgv_orgdb_load_genes("org.Hs.eg.sqlite", &g);             // Entrez-keyed hub
 *     struct sgv_library go;
 *     sgv_library_init(&go, "go");
 *     sgv_orgdb_load_go("org.Hs.eg.sqlite", "BP", g, &go);      // go_bp_all: already propagated
 *
 * The *_all GO tables are propagated over is_a, part_of and the regulates relations
 * (reference/validation.md §4); the omim table maps genes to MIM numbers (gene and phenotype
 * entries mixed, no titles). Its KEGG table is a 2011 snapshot under KEGG's terms and is not read.
 */
#ifndef SGV_ORGDB_H
#define SGV_ORGDB_H

#include <stddef.h>

#include "core/status.h"
#include "validation/geneid.h"
#include "validation/library.h"

sg_status sgv_orgdb_load_genes(const char *path, struct sgv_genes **out);
/* ontology: "BP", "MF" or "CC". Annotations with evidence ND (no data) are left out. */
sg_status sgv_orgdb_load_go(const char *path, const char *ontology, struct sgv_genes *g, struct sgv_library *lib);
sg_status sgv_orgdb_load_omim(const char *path, struct sgv_genes *g, struct sgv_library *lib);
/* A value of the metadata table (e.g. "GOSOURCEDATE") into buf; "" when absent. */
sg_status sgv_orgdb_metadata(const char *path, const char *name, char *buf, size_t cap);

#endif
