/* MSigDB (or any GMT collection: Enrichr libraries, custom sets). GMT only: MSigDB has no API
 * and its downloads need a free registration, so there is no online client. */
#include "validation/sources/source.h"

static const char *const msigdb_files[] = {"gmt", NULL};

static sg_status msigdb_offline(struct sgv_source_ctx *c, struct sgv_library *lib) {
    return sgv_src_load_gmt(c, "gmt", SGV_GMT_ID_NAME, lib);
}

const struct sgv_source sgv_source_msigdb = {
    .name  = "msigdb",
    .title = "MSigDB / GMT gene sets",
    .tier  = 0,
    .licence =
        "CC BY 4.0 (MSigDB v2022.1+); KEGG_MEDICUS CC BY-SA 4.0; KEGG_LEGACY under KEGG's terms; check each collection",
    .attribution  = "Molecular Signatures Database (https://www.gsea-msigdb.org), Liberzon et al., Cell Systems 2015",
    .term_url     = "https://www.gsea-msigdb.org/gsea/msigdb/human/geneset/%s.html",
    .files        = msigdb_files,
    .max_term     = 500,
    .load_offline = msigdb_offline,
};
