/* Reactome pathways: ReactomePathways.gmt (symbols; the stable ID sits in the description
 * column) or NCBI2Reactome_All_Levels.txt (Entrez; all species, already propagated to every
 * ancestor pathway). Online: the NCBI2Reactome file from the download server, stamped with the
 * release number the content service reports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validation/gmt.h"
#include "validation/sources/source.h"
#include "validation/tsv.h"

static const char *const reactome_options[] = {"species", "download_url", NULL};

static int reactome_ready(struct sgv_source_ctx *c, char *why, size_t cap) {
    static const char *const gmt[] = {"gmt", NULL}, *const ncbi[] = {"ncbi2reactome", NULL};
    if (sgv_src_file_set(c, "ncbi2reactome")) return sgv_src_files_exist(c, ncbi, why, cap);
    return sgv_src_files_exist(c, gmt, why, cap);
}

/* No header: Entrez, stable ID, URL, pathway name, evidence, species. */
static sg_status reactome_read_ncbi(struct sgv_source_ctx *c, const char *path, struct sgv_library *lib) {
    const char *species;
    sg_status st = sgv_src_opt_str(c, "species", "Homo sapiens", &species);
    struct sgv_tsv t;
    if (st == SG_OK) st = sgv_tsv_open_headerless(&t, path, '\t');
    if (st != SG_OK) return st;
    sgv_tsv_need(&t, 6);
    int rc = 0;
    while (st == SG_OK && (rc = sgv_tsv_next(&t)) > 0) {
        if (strcmp(t.f[5], species) != 0) continue;
        if (strncmp(t.f[1], "R-", 2) != 0) {
            st = sg_error(SG_ERR_FORMAT, "%s: line %ld: '%s' is not a Reactome stable ID (R-HSA-…)", path,
                          sgv_tsv_line(&t), t.f[1]);
            break;
        }
        st = sgv_library_add_id(lib, c->genes, t.f[1], t.f[3], t.f[0], SGV_ID_ENTREZ);
    }
    if (st == SG_OK && rc < 0) st = SG_ERR_FORMAT;
    sgv_tsv_close(&t);
    if (st == SG_OK && lib->n_terms == 0)
        st = sg_error(SG_ERR_FORMAT, "%s: no pathways for species '%s'", path, species);
    return st == SG_OK ? sgv_library_finish(lib) : st;
}

static sg_status reactome_offline(struct sgv_source_ctx *c, struct sgv_library *lib) {
    if (!sgv_src_file_set(c, "ncbi2reactome")) return sgv_src_load_gmt(c, "gmt", SGV_GMT_ID_DESC, lib);
    char *path   = sgv_src_file(c, "ncbi2reactome");
    sg_status st = path ? reactome_read_ncbi(c, path, lib) : SG_ERR_NOT_FOUND;
    if (st == SG_OK) sgv_src_set_version(c, lib, NULL);
    free(path);
    return st;
}

static sg_status reactome_online(struct sgv_source_ctx *c, struct sgv_library *lib) {
    char *base = NULL, *body = NULL, *file = NULL;
    size_t len;
    sg_status st = sgv_src_api(c, &base);
    char url[1024], version[64] = "";
    if (st == SG_OK) {
        snprintf(url, sizeof url, "%s/ContentService/data/database/version", base);
        struct sg_http_request rq = {.url = url};
        struct sgv_endpoint ep    = sgv_src_endpoint(c);
        ep.version                = NULL; /* unversioned answers are cached for the day only */
        st                        = sgv_fetch(c->net, &ep, &rq, &body, &len, NULL);
        if (st == SG_OK) {
            snprintf(version, sizeof version, "%.*s", (int)strcspn(body, "\r\n"), body);
            if (!*version || strspn(version, "0123456789") != strlen(version))
                st = sg_error(SG_ERR_FORMAT, "reactome: %s answered '%.40s', not a release number", url, body);
        }
    }
    const char *dl;
    if (st == SG_OK) st = sgv_src_opt_str(c, "download_url", NULL, &dl);
    if (st == SG_OK) {
        char durl[1024];
        if (dl)
            snprintf(durl, sizeof durl, "%s", dl);
        else
            snprintf(durl, sizeof durl, "%s/download/current/NCBI2Reactome_All_Levels.txt", base);
        sgv_src_set_version(c, lib, version);
        struct sgv_endpoint ep = sgv_src_endpoint(c);
        st                     = sgv_download(c->net, &ep, durl, "NCBI2Reactome_All_Levels.txt", &file);
    }
    if (st == SG_OK) st = reactome_read_ncbi(c, file, lib);
    if (st == SG_OK) sgv_src_set_version(c, lib, version);
    free(file);
    free(body);
    free(base);
    return st;
}

const struct sgv_source sgv_source_reactome = {
    .name          = "reactome",
    .title         = "Reactome",
    .tier          = 0,
    .licence       = "CC0 1.0 (annotation files); site and software CC BY 4.0",
    .attribution   = "Reactome (https://reactome.org), Milacic et al., Nucleic Acids Res.",
    .term_url      = "https://reactome.org/content/detail/%s",
    .offline_ready = reactome_ready,
    .options       = reactome_options,
    .api_url       = "https://reactome.org",
    .api_rate      = 5,
    .max_term      = 500,
    .load_offline  = reactome_offline,
    .load_online   = reactome_online,
};
