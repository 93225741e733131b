/* GenCC gene–disease validity curations: the submissions export (TSV whose quoted fields may
 * span lines). Submissions collapse to (gene, disease) pairs; kept classifications default to
 * Definitive, Strong and Moderate. GenCC has no API: online means downloading the export. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validation/fsutil.h"
#include "validation/sources/source.h"
#include "validation/tsv.h"

static const char *const gc_files[]   = {"submissions", NULL};
static const char *const gc_options[] = {"classifications", NULL};

static sg_status gc_read(struct sgv_source_ctx *c, const char *path, struct sgv_library *lib) {
    const char **keep = NULL;
    size_t nk;
    sg_status st                   = sgv_cfg_str_list(c->cfg, "classifications", &keep, &nk);
    static const char *const def[] = {"Definitive", "Strong", "Moderate", NULL};
    struct sgv_tsv t;
    if (st == SG_OK) st = sgv_tsv_open(&t, path, '\t', 1);
    if (st != SG_OK) {
        free(keep);
        return st;
    }
    static const char *const names[] = {"gene_curie", "disease_curie", "disease_title", "classification_title", NULL};
    int col[4], rc = 0;
    st = sgv_tsv_require(&t, names, col);
    while (st == SG_OK && (rc = sgv_tsv_next(&t)) > 0) {
        int ok = 0;
        for (const char *const *k = nk ? keep : def; *k && !ok; k++) ok = strcmp(*k, t.f[col[3]]) == 0;
        if (!ok || !*t.f[col[1]]) continue;
        st = sgv_library_add_id(lib, c->genes, t.f[col[1]], t.f[col[2]], t.f[col[0]], SGV_ID_HGNC);
    }
    if (st == SG_OK && rc < 0) st = SG_ERR_FORMAT;
    sgv_tsv_close(&t);
    free(keep);
    return st == SG_OK ? sgv_library_finish(lib) : st;
}

static sg_status gc_offline(struct sgv_source_ctx *c, struct sgv_library *lib) {
    char *path   = sgv_src_file(c, "submissions");
    sg_status st = path ? gc_read(c, path, lib) : SG_ERR_NOT_FOUND;
    if (st == SG_OK) sgv_src_set_version(c, lib, NULL);
    free(path);
    return st;
}

static sg_status gc_online(struct sgv_source_ctx *c, struct sgv_library *lib) {
    char *base = NULL, *file = NULL, url[1024], today[11];
    sg_status st = sgv_src_api(c, &base);
    sgv_today(today);
    if (st == SG_OK) {
        /* the export carries no release ID: its download date is the version */
        sgv_src_set_version(c, lib, today);
        snprintf(url, sizeof url, "%s/download/action/submissions-export-tsv", base);
        struct sgv_endpoint ep = sgv_src_endpoint(c);
        st                     = sgv_download(c->net, &ep, url, "gencc-submissions.tsv", &file);
    }
    if (st == SG_OK) st = gc_read(c, file, lib);
    free(file);
    free(base);
    return st;
}

const struct sgv_source sgv_source_gencc = {
    .name         = "gencc",
    .title        = "GenCC",
    .tier         = 3,
    .licence      = "CC0 1.0",
    .attribution  = "Gene Curation Coalition (https://thegencc.org), DiStefano et al., Genet. Med. 2022",
    .term_url     = "https://search.thegencc.org/diseases/%s",
    .files        = gc_files,
    .options      = gc_options,
    .api_url      = "https://search.thegencc.org",
    .api_rate     = 1,
    .max_term     = 1000,
    .load_offline = gc_offline,
    .load_online  = gc_online,
};
