/* GMT gene-set files (MSigDB, Reactome, Enrichr, KEGG exports): one set per line,
 * NAME<TAB>DESCRIPTION<TAB>GENE<TAB>GENE...
 *
 *     struct sgv_library lib;
 *     sgv_library_init(&lib, "msigdb");
 *     if (sgv_gmt_load("h.all.v2024.1.Hs.symbols.gmt", genes, SGV_ID_ANY, SGV_GMT_ID_NAME, &lib) != SG_OK)
 *         fprintf(stderr, "%s\n", sg_last_error());
 *
 * SGV_ID_ANY takes all-digit IDs as Entrez (".entrez.gmt") and the rest as symbols.
 * Reactome's GMT puts the stable ID (R-HSA-…) in the description column: use SGV_GMT_ID_DESC.
 */
#ifndef SGV_GMT_H
#define SGV_GMT_H

#include "core/status.h"
#include "validation/geneid.h"
#include "validation/library.h"

enum sgv_gmt_id { SGV_GMT_ID_NAME, SGV_GMT_ID_DESC };

sg_status sgv_gmt_load(const char *path, struct sgv_genes *g, enum sgv_id_kind kind, enum sgv_gmt_id id_from,
                       struct sgv_library *lib);

#endif
