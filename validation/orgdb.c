#include "validation/orgdb.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static sg_status orgdb_open(const char *path, sqlite3 **db) {
    *db     = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return sg_error(SG_ERR_NOT_FOUND, "%s: cannot open (org.Hs.eg.sqlite from r-bioc-org.hs.eg.db)", path);
    fclose(f);
    int rc = sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        sg_status st = sg_error(SG_ERR_IO, "%s: %s", path, *db ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
        sqlite3_close(*db);
        *db = NULL;
        return st;
    }
    return SG_OK;
}

static sg_status orgdb_prepare(sqlite3 *db, const char *path, const char *sql, sqlite3_stmt **s) {
    if (sqlite3_prepare_v2(db, sql, -1, s, NULL) == SQLITE_OK) return SG_OK;
    return sg_error(SG_ERR_FORMAT, "%s: %s (is this org.Hs.eg.sqlite?)", path, sqlite3_errmsg(db));
}

static const char *col_text(sqlite3_stmt *s, int i) {
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? (const char *)t : "";
}

sg_status sgv_orgdb_metadata(const char *path, const char *name, char *buf, size_t cap) {
    sqlite3 *db;
    sqlite3_stmt *s = NULL;
    buf[0]          = '\0';
    sg_status st    = orgdb_open(path, &db);
    if (st == SG_OK) st = orgdb_prepare(db, path, "SELECT value FROM metadata WHERE name = ?1", &s);
    if (st == SG_OK) {
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW) snprintf(buf, cap, "%s", col_text(s, 0));
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return st;
}

/* Runs sql (two text columns per row) and hands each row to fn. */
static sg_status orgdb_rows(const char *path, const char *sql,
                            sg_status (*fn)(const char *a, const char *b, void *user), void *user) {
    sqlite3 *db;
    sqlite3_stmt *s = NULL;
    sg_status st    = orgdb_open(path, &db);
    if (st == SG_OK) st = orgdb_prepare(db, path, sql, &s);
    int rc = SQLITE_DONE;
    while (st == SG_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) st = fn(col_text(s, 0), col_text(s, 1), user);
    if (st == SG_OK && rc != SQLITE_DONE) st = sg_error(SG_ERR_IO, "%s: %s", path, sqlite3_errmsg(db));
    sqlite3_finalize(s);
    sqlite3_close(db);
    return st;
}

static sg_status add_gene_row(const char *entrez, const char *symbol, void *user) {
    return sgv_genes_add(user, NULL, symbol, NULL, entrez) < 0 ? SG_ERR_NO_MEMORY : SG_OK;
}

struct syn_ctx {
    struct sgv_genes *g;
    enum sgv_synonym kind;
};

static sg_status add_syn_row(const char *entrez, const char *name, void *user) {
    struct syn_ctx *c = user;
    enum sgv_match how;
    int32_t gene = sgv_genes_find(c->g, entrez, SGV_ID_ENTREZ, &how);
    if (gene < 0) return SG_OK;
    if (c->kind == SGV_SYN_ALIAS) { /* ALIAS2EG lists the symbol itself too */
        const char *sym = c->g->genes[gene].symbol;
        if (sym && strcasecmp(sym, name) == 0) return SG_OK;
    }
    return sgv_genes_add_synonym(c->g, gene, name, c->kind);
}

sg_status sgv_orgdb_load_genes(const char *path, struct sgv_genes **out) {
    *out = NULL;
    char origin[1100];
    snprintf(origin, sizeof origin, "org.Hs.eg.db (%s)", path);
    struct sgv_genes *g;
    sg_status st = sgv_genes_new(origin, &g);
    if (st != SG_OK) return st;
    st = orgdb_rows(path, "SELECT g.gene_id, i.symbol FROM genes g JOIN gene_info i USING(_id) ORDER BY g._id",
                    add_gene_row, g);
    struct syn_ctx ens = {g, SGV_SYN_ENSEMBL}, al = {g, SGV_SYN_ALIAS};
    if (st == SG_OK)
        st = orgdb_rows(path, "SELECT g.gene_id, e.ensembl_id FROM ensembl e JOIN genes g USING(_id)", add_syn_row,
                        &ens);
    if (st == SG_OK)
        st =
            orgdb_rows(path, "SELECT g.gene_id, a.alias_symbol FROM alias a JOIN genes g USING(_id)", add_syn_row, &al);
    if (st == SG_OK && g->n == 0) st = sg_error(SG_ERR_FORMAT, "%s: the genes table is empty", path);
    if (st != SG_OK) {
        sgv_genes_free(g);
        return st;
    }
    *out = g;
    return SG_OK;
}

struct term_ctx {
    struct sgv_genes *g;
    struct sgv_library *lib;
};

static sg_status add_term_row(const char *entrez, const char *term, void *user) {
    struct term_ctx *c = user;
    return sgv_library_add_id(c->lib, c->g, term, NULL, entrez, SGV_ID_ENTREZ);
}

/* (Entrez, term) rows into lib, stamped "<what> <metadata date> (org.Hs.eg.db)". */
static sg_status orgdb_terms(const char *path, const char *sql, struct sgv_genes *g, struct sgv_library *lib,
                             const char *date_key, const char *what) {
    struct term_ctx c = {g, lib};
    sg_status st      = orgdb_rows(path, sql, add_term_row, &c);
    char date[64];
    if (st == SG_OK) st = sgv_orgdb_metadata(path, date_key, date, sizeof date);
    if (st == SG_OK && *date) {
        char v[128];
        snprintf(v, sizeof v, "%s %s (org.Hs.eg.db)", what, date);
        sgv_library_set_version(lib, v);
    }
    return st == SG_OK ? sgv_library_finish(lib) : st;
}

sg_status sgv_orgdb_load_go(const char *path, const char *ontology, struct sgv_genes *g, struct sgv_library *lib) {
    const char *table = NULL;
    if (strcasecmp(ontology, "BP") == 0)
        table = "go_bp_all";
    else if (strcasecmp(ontology, "MF") == 0)
        table = "go_mf_all";
    else if (strcasecmp(ontology, "CC") == 0)
        table = "go_cc_all";
    else
        return sg_error(SG_ERR_INVALID_ARG, "GO ontology '%s': expected BP, MF or CC", ontology);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT DISTINCT g.gene_id, a.go_id FROM %s a JOIN genes g USING(_id) WHERE a.evidence <> 'ND'", table);
    return orgdb_terms(path, sql, g, lib, "GOSOURCEDATE", "GO");
}

sg_status sgv_orgdb_load_omim(const char *path, struct sgv_genes *g, struct sgv_library *lib) {
    return orgdb_terms(path, "SELECT g.gene_id, 'OMIM:' || o.omim_id FROM omim o JOIN genes g USING(_id)", g, lib,
                       "EGSOURCEDATE", "NCBI Gene");
}
