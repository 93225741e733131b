#include "validation/ontology.h"

#include <stdlib.h>
#include <string.h>

#include "validation/textfile.h"

/* parent ids are kept as strings until every stanza is read */
struct pending_parent {
    uint32_t child;
    char *id;
};

struct obo_parse {
    struct sgv_ontology *o;
    struct pending_parent *pend;
    size_t n_pend, cap_pend;
    struct {
        uint32_t term;
        char *alt;
    } * alts;
    size_t n_alts, cap_alts;
};

static int grow(void **p, size_t *cap, size_t n, size_t elem) {
    if (n < *cap) return 1;
    size_t c = *cap ? *cap * 2 : 256;
    void *q  = realloc(*p, c * elem);
    if (!q) return 0;
    *p   = q;
    *cap = c;
    return 1;
}

/* "GO:0000001 ! label {qualifier}" -> "GO:0000001" */
static char *obo_first_word(char *v) {
    v       = sgv_trim(v);
    char *e = v;
    while (*e && *e != ' ' && *e != '\t' && *e != '!' && *e != '{') e++;
    *e = '\0';
    return v;
}

static int add_parent(struct obo_parse *ps, uint32_t child, const char *id) {
    if (!grow((void **)&ps->pend, &ps->cap_pend, ps->n_pend, sizeof *ps->pend)) return 0;
    ps->pend[ps->n_pend].child = child;
    ps->pend[ps->n_pend].id    = strdup(id);
    return ps->pend[ps->n_pend++].id != NULL;
}

static int wants_relation(const char *const *relations, const char *rel) {
    for (const char *const *r = relations; r && *r; r++)
        if (strcmp(*r, rel) == 0) return 1;
    return 0;
}

void sgv_ontology_free(struct sgv_ontology *o) {
    if (!o) return;
    for (size_t i = 0; i < o->n; i++) {
        struct sgv_onto_term *t = &o->terms[i];
        free(t->id);
        free(t->name);
        free(t->ns);
        free(t->parents);
        free(t->replaced_by);
        free(t->anc);
    }
    free(o->terms);
    free(o->path);
    free(o->version);
    sgv_strmap_free(&o->index);
    free(o);
}

static sg_status obo_line(struct obo_parse *ps, int32_t cur, char *line, const char *const *rel, long lineno) {
    struct sgv_ontology *o = ps->o;
    char *colon            = strchr(line, ':');
    if (!colon) return SG_OK;
    *colon    = '\0';
    char *tag = line, *val = sgv_trim(colon + 1);
    if (cur < 0) {
        if (strcmp(tag, "data-version") == 0 && !o->version) o->version = strdup(val);
        return SG_OK;
    }
    struct sgv_onto_term *t = &o->terms[cur];
    if (strcmp(tag, "id") == 0) {
        if (t->id) return sg_error(SG_ERR_FORMAT, "%s: line %ld: second id in one stanza", o->path, lineno);
        t->id = strdup(obo_first_word(val));
        int32_t old;
        if (sgv_strmap_get(&o->index, t->id, &old))
            return sg_error(SG_ERR_FORMAT, "%s: line %ld: term %s defined twice", o->path, lineno, t->id);
        return sgv_strmap_put(&o->index, t->id, cur);
    }
    if (strcmp(tag, "name") == 0 && !t->name)
        t->name = strdup(val);
    else if (strcmp(tag, "namespace") == 0 && !t->ns)
        t->ns = strdup(val);
    else if (strcmp(tag, "is_obsolete") == 0)
        t->obsolete = strcmp(val, "true") == 0;
    else if (strcmp(tag, "replaced_by") == 0 && !t->replaced_by)
        t->replaced_by = strdup(obo_first_word(val));
    else if (strcmp(tag, "is_a") == 0) {
        if (!add_parent(ps, (uint32_t)cur, obo_first_word(val))) return SG_ERR_NO_MEMORY;
    } else if (strcmp(tag, "relationship") == 0) {
        char *sp = strchr(val, ' ');
        if (!sp) return sg_error(SG_ERR_FORMAT, "%s: line %ld: relationship without target", o->path, lineno);
        *sp = '\0';
        if (wants_relation(rel, val) && !add_parent(ps, (uint32_t)cur, obo_first_word(sp + 1))) return SG_ERR_NO_MEMORY;
    } else if (strcmp(tag, "alt_id") == 0) {
        if (!grow((void **)&ps->alts, &ps->cap_alts, ps->n_alts, sizeof *ps->alts)) return SG_ERR_NO_MEMORY;
        ps->alts[ps->n_alts].term  = (uint32_t)cur;
        ps->alts[ps->n_alts++].alt = strdup(obo_first_word(val));
    }
    return SG_OK;
}

static sg_status obo_resolve(struct obo_parse *ps) {
    struct sgv_ontology *o = ps->o;
    for (size_t i = 0; i < ps->n_alts; i++) {
        int32_t old;
        if (!sgv_strmap_get(&o->index, ps->alts[i].alt, &old)) {
            sg_status st = sgv_strmap_put(&o->index, ps->alts[i].alt, (int32_t)ps->alts[i].term);
            if (st != SG_OK) return st;
        }
    }
    for (size_t i = 0; i < ps->n_pend; i++) {
        int32_t p;
        struct sgv_onto_term *c = &o->terms[ps->pend[i].child];
        if (!sgv_strmap_get(&o->index, ps->pend[i].id, &p))
            return sg_error(SG_ERR_FORMAT, "%s: term %s names parent %s, which is not defined", o->path, c->id,
                            ps->pend[i].id);
        uint32_t *n = realloc(c->parents, (c->n_parents + 1) * sizeof *n);
        if (!n) return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", o->path);
        c->parents                 = n;
        c->parents[c->n_parents++] = (uint32_t)p;
    }
    return SG_OK;
}

sg_status sgv_ontology_load_obo(const char *path, const char *const *relations, struct sgv_ontology **out) {
    *out = NULL;
    struct sgv_lines r;
    sg_status st = sgv_lines_open(&r, path);
    if (st != SG_OK) return st;
    struct sgv_ontology *o = calloc(1, sizeof *o);
    struct obo_parse ps    = {.o = o};
    if (!o || !(o->path = strdup(path))) {
        free(o);
        sgv_lines_close(&r);
        return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", path);
    }
    int32_t cur   = -1; /* current [Term], -1 in the header or another stanza kind */
    int in_header = 1, rc;
    char *line;
    while (st == SG_OK && (rc = sgv_lines_next(&r, &line)) > 0) {
        if (line[0] == '[') {
            in_header = 0;
            cur       = -1;
            if (strncmp(line, "[Term]", 6) == 0) {
                if (!grow((void **)&o->terms, &o->cap, o->n, sizeof *o->terms)) {
                    st = SG_ERR_NO_MEMORY;
                    break;
                }
                memset(&o->terms[o->n], 0, sizeof o->terms[0]);
                cur = (int32_t)o->n++;
            }
            continue;
        }
        if (!*line || line[0] == '!') continue;
        if (cur < 0 && !in_header) continue; /* [Typedef] and friends */
        st = obo_line(&ps, cur, line, relations, r.lineno);
    }
    if (st == SG_OK && rc < 0) st = SG_ERR_IO;
    for (size_t i = 0; st == SG_OK && i < o->n; i++)
        if (!o->terms[i].id) st = sg_error(SG_ERR_FORMAT, "%s: a [Term] stanza has no id (stanza %zu)", path, i + 1);
    if (st == SG_OK && o->n == 0) st = sg_error(SG_ERR_FORMAT, "%s: no [Term] stanzas (not an OBO file?)", path);
    if (st == SG_OK) st = obo_resolve(&ps);
    for (size_t i = 0; i < ps.n_pend; i++) free(ps.pend[i].id);
    for (size_t i = 0; i < ps.n_alts; i++) free(ps.alts[i].alt);
    free(ps.pend);
    free(ps.alts);
    sgv_lines_close(&r);
    if (st != SG_OK) {
        if (st == SG_ERR_NO_MEMORY) sg_error(st, "%s: out of memory", path);
        sgv_ontology_free(o);
        return st;
    }
    *out = o;
    return SG_OK;
}

int32_t sgv_ontology_find(const struct sgv_ontology *o, const char *id) {
    int32_t t;
    if (!sgv_strmap_get(&o->index, id, &t)) return -1;
    for (int hops = 0; o->terms[t].obsolete && hops < 8; hops++) {
        const char *rep = o->terms[t].replaced_by;
        if (!rep || !sgv_strmap_get(&o->index, rep, &t)) return -1;
    }
    return o->terms[t].obsolete ? -1 : t;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

sg_status sgv_ontology_ancestors(struct sgv_ontology *o, uint32_t t, const uint32_t **anc, uint32_t *n) {
    struct sgv_onto_term *e = &o->terms[t];
    if (e->anc_state == 1) return sg_error(SG_ERR_FORMAT, "%s: the is_a graph has a cycle through %s", o->path, e->id);
    if (e->anc_state == 0) {
        e->anc_state = 1;
        size_t cap = 0, len = 0;
        uint32_t *list = NULL;
        for (uint32_t i = 0; i < e->n_parents; i++) {
            const uint32_t *pa;
            uint32_t pn;
            sg_status st = sgv_ontology_ancestors(o, e->parents[i], &pa, &pn);
            if (st != SG_OK) {
                free(list);
                e->anc_state = 0;
                return st;
            }
            if (len + pn + 1 > cap) {
                cap          = (len + pn + 1) * 2;
                uint32_t *nl = realloc(list, cap * sizeof *nl);
                if (!nl) {
                    free(list);
                    e->anc_state = 0;
                    return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", o->path);
                }
                list = nl;
            }
            list[len++] = e->parents[i];
            if (pn) memcpy(list + len, pa, pn * sizeof *pa);
            len += pn;
        }
        if (len) qsort(list, len, sizeof *list, cmp_u32);
        uint32_t w = 0;
        for (size_t i = 0; i < len; i++)
            if (!w || list[w - 1] != list[i]) list[w++] = list[i];
        e->anc       = list;
        e->n_anc     = w;
        e->anc_state = 2;
    }
    *anc = e->anc;
    *n   = e->n_anc;
    return SG_OK;
}

int sgv_ontology_is_ancestor(struct sgv_ontology *o, uint32_t anc, uint32_t t) {
    const uint32_t *a;
    uint32_t n;
    if (sgv_ontology_ancestors(o, t, &a, &n) != SG_OK || n == 0) return 0;
    return bsearch(&anc, a, n, sizeof *a, cmp_u32) != NULL;
}

static int term_kept(struct sgv_ontology *o, uint32_t t, int32_t root, const int32_t *excl, size_t n_excl,
                     const char *ns) {
    const struct sgv_onto_term *e = &o->terms[t];
    if (e->obsolete) return 0;
    if (ns && (!e->ns || strcmp(e->ns, ns) != 0)) return 0;
    if (root >= 0 && !sgv_ontology_is_ancestor(o, (uint32_t)root, t)) return 0;
    if (root < 0 && e->n_parents == 0) return 0; /* ontology roots say nothing */
    for (size_t i = 0; i < n_excl; i++)
        if (excl[i] == (int32_t)t || sgv_ontology_is_ancestor(o, (uint32_t)excl[i], t)) return 0;
    return 1;
}

sg_status sgv_ontology_propagate(struct sgv_ontology *o, const struct sgv_library *direct,
                                 const struct sgv_onto_filter *f, struct sgv_library *out,
                                 struct sgv_propagate_stats *stats) {
    struct sgv_propagate_stats s = {0};
    int32_t root                 = -1;
    int32_t excl[64];
    size_t n_excl = 0;
    if (f && f->root && (root = sgv_ontology_find(o, f->root)) < 0)
        return sg_error(SG_ERR_NOT_FOUND, "%s: root term %s is not in the ontology", o->path, f->root);
    for (const char *const *x = f ? f->exclude : NULL; x && *x && n_excl < 64; x++) {
        int32_t t = sgv_ontology_find(o, *x);
        if (t >= 0) excl[n_excl++] = t;
    }
    /* bucket every gene under the ontology term it propagates to */
    struct sgv_library all;
    sgv_library_init(&all, out->source);
    sg_status st = SG_OK;
    for (size_t i = 0; st == SG_OK && i < direct->n_terms; i++) {
        const struct sgv_term *d = &direct->terms[i];
        s.direct_terms++;
        int32_t raw, t = sgv_ontology_find(o, d->id);
        if (t < 0) {
            int known = sgv_strmap_get(&o->index, d->id, &raw);
            if (known)
                s.obsolete_dropped++;
            else
                s.unknown_terms++;
            continue;
        }
        if (sgv_strmap_get(&o->index, d->id, &raw) && o->terms[raw].obsolete) s.obsolete_remapped++;
        const uint32_t *anc;
        uint32_t n_anc;
        st = sgv_ontology_ancestors(o, (uint32_t)t, &anc, &n_anc);
        for (uint32_t a = 0; st == SG_OK && a <= n_anc; a++) {
            uint32_t target = a < n_anc ? anc[a] : (uint32_t)t;
            int32_t lt      = sgv_library_term(&all, o->terms[target].id, o->terms[target].name);
            if (lt < 0) {
                st = SG_ERR_NO_MEMORY;
                break;
            }
            for (uint32_t j = 0; st == SG_OK && j < d->n_genes; j++) st = sgv_library_add_gene(&all, lt, d->genes[j]);
        }
    }
    if (st == SG_OK) st = sgv_library_finish(&all);
    for (size_t i = 0; st == SG_OK && i < all.n_terms; i++) {
        int32_t t = sgv_ontology_find(o, all.terms[i].id);
        if (t < 0 || !term_kept(o, (uint32_t)t, root, excl, n_excl, f ? f->namespace : NULL)) continue;
        int32_t lt = sgv_library_term(out, all.terms[i].id, all.terms[i].name);
        if (lt < 0) {
            st = SG_ERR_NO_MEMORY;
            break;
        }
        for (uint32_t j = 0; st == SG_OK && j < all.terms[i].n_genes; j++)
            st = sgv_library_add_gene(out, lt, all.terms[i].genes[j]);
    }
    sgv_library_free(&all);
    if (st == SG_OK) st = sgv_library_finish(out);
    if (st == SG_OK && o->version && !out->version) sgv_library_set_version(out, o->version);
    if (stats) *stats = s;
    return st;
}
