/* eval.json and sae/cfg.json: small files the page shows as they are. */
#include <stdlib.h>

#include "dashboard/dash_doc.h"
#include "dashboard/dash_priv.h"

/* Parses an optional file into *out; absent -> a note for `section`. */
static sg_status load_optional(struct dash_run *r, const char *name, const char *schema, const char *section,
                               const char *absent, cJSON **out) {
    char *path = dash_path(r->dir, name);
    if (!path) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    struct dash_doc d;
    sg_status st = dash_doc_open(path, NULL, &d);
    free(path);
    if (st == SG_ERR_NOT_FOUND) {
        sg_error_clear();
        dash_note(r, section, "%s", absent);
        return SG_OK;
    }
    if (st == SG_OK && schema) st = dash_doc_schema(&d, schema);
    if (st == SG_OK) {
        *out   = d.head;
        d.head = NULL;
    }
    dash_doc_close(&d);
    return st;
}

sg_status dash_load_small(struct dash_run *r) {
    sg_status st = load_optional(
        r, "eval.json", "saeg.eval", "eval",
        "No eval.json in this results folder: run 'saeg eval' (training writes it at the end).", &r->eval);
    if (st == SG_OK)
        st = load_optional(r, "sae/cfg.json", NULL, "sae", "No sae/cfg.json in this results folder.", &r->cfg);
    return st;
}
