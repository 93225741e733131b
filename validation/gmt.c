#include "validation/gmt.h"

#include <stdlib.h>
#include <string.h>

#include "validation/textfile.h"

sg_status sgv_gmt_load(const char *path, struct sgv_genes *g, enum sgv_id_kind kind, enum sgv_gmt_id id_from,
                       struct sgv_library *lib) {
    struct sgv_lines r;
    sg_status st = sgv_lines_open(&r, path);
    if (st != SG_OK) return st;
    char *line;
    int rc;
    size_t sets = 0;
    while (st == SG_OK && (rc = sgv_lines_next(&r, &line)) > 0) {
        if (!*line || line[0] == '#') continue;
        char *name = line, *tab = strchr(line, '\t');
        if (!tab) {
            st = sg_error(SG_ERR_FORMAT, "%s: line %ld: no tab (GMT lines are NAME<TAB>DESCRIPTION<TAB>GENES...)", path,
                          r.lineno);
            break;
        }
        *tab       = '\0';
        char *desc = tab + 1, *genes = strchr(desc, '\t');
        if (genes) *genes++ = '\0';
        name              = sgv_trim(name);
        desc              = sgv_trim(desc);
        const char *id    = id_from == SGV_GMT_ID_DESC ? desc : name;
        const char *label = id_from == SGV_GMT_ID_DESC ? name : desc;
        if (!*id) {
            st = sg_error(SG_ERR_FORMAT, "%s: line %ld: empty set %s", path, r.lineno,
                          id_from == SGV_GMT_ID_DESC ? "description (the ID column)" : "name");
            break;
        }
        int32_t seen;
        if (sgv_strmap_get(&lib->index, id, &seen)) {
            st = sg_error(SG_ERR_FORMAT, "%s: line %ld: set '%s' appears twice", path, r.lineno, id);
            break;
        }
        /* a URL in the description column is not a useful display name */
        if (id_from == SGV_GMT_ID_NAME && strncmp(label, "http", 4) == 0) label = NULL;
        int32_t t = sgv_library_term(lib, id, label);
        if (t < 0) {
            st = SG_ERR_NO_MEMORY;
            break;
        }
        sets++;
        char *save = NULL;
        for (char *tok = genes ? strtok_r(genes, "\t", &save) : NULL; tok && st == SG_OK;
             tok       = strtok_r(NULL, "\t", &save)) {
            tok = sgv_trim(tok);
            if (!*tok) continue;
            /* Enrichr libraries append ",1.0" weights to each gene */
            char *comma = strchr(tok, ',');
            if (comma) *comma = '\0';
            enum sgv_match how;
            int32_t gene = sgv_genes_find(g, tok, kind, &how);
            sgv_map_stats_add(&lib->map, how);
            if (gene >= 0)
                st = sgv_library_add_gene(lib, t, (uint32_t)gene);
            else
                st = sgv_strmap_put(&lib->unmapped, tok, 1);
        }
    }
    if (st == SG_OK && rc < 0) st = SG_ERR_IO;
    sgv_lines_close(&r);
    if (st == SG_OK && sets == 0) st = sg_error(SG_ERR_FORMAT, "%s: no gene sets", path);
    if (st == SG_OK) st = sgv_library_finish(lib);
    return st;
}
