#include "validation/config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

struct sgv_config {
    char *path;
    yaml_document_t doc;
};

const char *sgv_config_path(const struct sgv_config *c) { return c->path; }

sg_status sgv_config_parse(const char *text, size_t len, const char *label, struct sgv_config **out) {
    *out                 = NULL;
    struct sgv_config *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(label))) {
        free(c);
        return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", label);
    }
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        free(c->path);
        free(c);
        return sg_error(SG_ERR_NO_MEMORY, "%s: cannot start the YAML parser", label);
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, &c->doc)) {
        sg_status st = sg_error(SG_ERR_FORMAT, "%s:%zu:%zu: YAML error: %s%s%s", label, p.problem_mark.line + 1,
                                p.problem_mark.column + 1, p.problem ? p.problem : "unknown", p.context ? " " : "",
                                p.context ? p.context : "");
        yaml_parser_delete(&p);
        free(c->path);
        free(c);
        return st;
    }
    yaml_parser_delete(&p);
    yaml_node_t *root = yaml_document_get_root_node(&c->doc);
    if (!root || root->type != YAML_MAPPING_NODE) {
        sgv_config_free(c);
        return sg_error(SG_ERR_FORMAT, "%s: the top level must be a mapping of settings", label);
    }
    *out = c;
    return SG_OK;
}

sg_status sgv_config_load(const char *path, struct sgv_config **out) {
    *out    = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return sg_error(errno == ENOENT ? SG_ERR_NOT_FOUND : SG_ERR_IO, "%s: cannot open config: %s", path,
                        strerror(errno));
    char *buf  = NULL;
    size_t len = 0, cap = 0, got;
    do {
        if (cap - len < 4096) {
            cap     = cap ? cap * 2 : 16384;
            char *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                fclose(f);
                return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", path);
            }
            buf = b;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
    } while (got > 0);
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return sg_error(SG_ERR_IO, "%s: read error", path);
    }
    sg_status st = sgv_config_parse(buf, len, path, out);
    free(buf);
    return st;
}

void sgv_config_free(struct sgv_config *c) {
    if (!c) return;
    yaml_document_delete(&c->doc);
    free(c->path);
    free(c);
}

/* Dotted paths only label messages: a long one may be cut short. */
static void path_fmt(char *dst, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}

static yaml_node_t *node_of(struct sgv_cfg n) {
    return n.node ? yaml_document_get_node((yaml_document_t *)&n.c->doc, n.node) : NULL;
}

struct sgv_cfg sgv_cfg_root(const struct sgv_config *c) {
    struct sgv_cfg r = {.c = c, .node = 1};
    return r;
}

int sgv_cfg_present(struct sgv_cfg n) {
    yaml_node_t *y = node_of(n);
    /* "key:" with nothing after it is an empty scalar: treat as absent */
    return y && !(y->type == YAML_SCALAR_NODE && y->data.scalar.length == 0 &&
                  y->data.scalar.style == YAML_PLAIN_SCALAR_STYLE);
}

int sgv_cfg_is_map(struct sgv_cfg n) {
    yaml_node_t *y = node_of(n);
    return y && y->type == YAML_MAPPING_NODE;
}

static struct sgv_cfg child1(struct sgv_cfg m, const char *key, size_t klen) {
    struct sgv_cfg r = {.c = m.c, .node = 0};
    path_fmt(r.path, sizeof r.path, "%s%s%.*s", m.path, m.path[0] ? "." : "", (int)klen, key);
    yaml_node_t *y = node_of(m);
    if (!y || y->type != YAML_MAPPING_NODE) return r;
    for (yaml_node_pair_t *p = y->data.mapping.pairs.start; p < y->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node((yaml_document_t *)&m.c->doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == klen &&
            memcmp(k->data.scalar.value, key, klen) == 0) {
            r.node = p->value;
            return r;
        }
    }
    return r;
}

struct sgv_cfg sgv_cfg_child(struct sgv_cfg m, const char *dotted) {
    struct sgv_cfg cur = m;
    const char *s      = dotted;
    while (*s) {
        const char *dot = strchr(s, '.');
        size_t len      = dot ? (size_t)(dot - s) : strlen(s);
        cur             = child1(cur, s, len);
        if (!dot) break;
        s = dot + 1;
    }
    return cur;
}

static sg_status type_error(struct sgv_cfg n, const char *want) {
    yaml_node_t *y  = node_of(n);
    const char *got = y->type == YAML_SCALAR_NODE    ? (const char *)y->data.scalar.value
                      : y->type == YAML_MAPPING_NODE ? "a mapping"
                                                     : "a list";
    return sg_error(SG_ERR_INVALID_ARG, "%s:%zu: %s: expected %s, got %s%s%s", sgv_config_path(n.c),
                    y->start_mark.line + 1, n.path, want, y->type == YAML_SCALAR_NODE ? "'" : "", got,
                    y->type == YAML_SCALAR_NODE ? "'" : "");
}

static const char *scalar(struct sgv_cfg n) {
    yaml_node_t *y = node_of(n);
    return y && y->type == YAML_SCALAR_NODE ? (const char *)y->data.scalar.value : NULL;
}

sg_status sgv_cfg_str(struct sgv_cfg m, const char *key, const char *def, const char **out) {
    struct sgv_cfg n = sgv_cfg_child(m, key);
    *out             = def;
    if (!sgv_cfg_present(n)) return SG_OK;
    const char *v = scalar(n);
    if (!v) return type_error(n, "a string");
    *out = v;
    return SG_OK;
}

sg_status sgv_cfg_num(struct sgv_cfg m, const char *key, double def, double *out) {
    struct sgv_cfg n = sgv_cfg_child(m, key);
    *out             = def;
    if (!sgv_cfg_present(n)) return SG_OK;
    const char *v = scalar(n);
    char *end;
    double d = v ? strtod(v, &end) : 0;
    if (!v || end == v || *end || !isfinite(d)) return type_error(n, "a number");
    *out = d;
    return SG_OK;
}

sg_status sgv_cfg_uint(struct sgv_cfg m, const char *key, unsigned def, unsigned *out) {
    double d;
    sg_status st = sgv_cfg_num(m, key, def, &d);
    if (st != SG_OK) return st;
    if (d < 0 || d != floor(d) || d > 4e9) return type_error(sgv_cfg_child(m, key), "a whole number >= 0");
    *out = (unsigned)d;
    return SG_OK;
}

sg_status sgv_cfg_bool(struct sgv_cfg m, const char *key, int def, int *out) {
    struct sgv_cfg n = sgv_cfg_child(m, key);
    *out             = def;
    if (!sgv_cfg_present(n)) return SG_OK;
    const char *v                  = scalar(n);
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
    for (int i = 0; v && i < 3; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = 1;
            return SG_OK;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = 0;
            return SG_OK;
        }
    }
    return type_error(n, "true or false");
}

sg_status sgv_cfg_str_list(struct sgv_cfg m, const char *key, const char ***out, size_t *n_out) {
    struct sgv_cfg n = sgv_cfg_child(m, key);
    *out             = NULL;
    *n_out           = 0;
    yaml_node_t *y   = node_of(n);
    size_t count     = 0;
    if (sgv_cfg_present(n)) {
        if (y->type == YAML_SCALAR_NODE)
            count = 1;
        else if (y->type == YAML_SEQUENCE_NODE)
            count = (size_t)(y->data.sequence.items.top - y->data.sequence.items.start);
        else
            return type_error(n, "a string or a list of strings");
    }
    const char **list = calloc(count + 1, sizeof *list);
    if (!list) return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", n.path);
    if (count == 1 && y->type == YAML_SCALAR_NODE) list[0] = (const char *)y->data.scalar.value;
    for (size_t i = 0; y && y->type == YAML_SEQUENCE_NODE && i < count; i++) {
        struct sgv_cfg item = {.c = n.c, .node = y->data.sequence.items.start[i]};
        path_fmt(item.path, sizeof item.path, "%s[%zu]", n.path, i);
        if (!(list[i] = scalar(item))) {
            free(list);
            return type_error(item, "a string");
        }
    }
    *out   = list;
    *n_out = count;
    return SG_OK;
}

int sgv_cfg_entry(struct sgv_cfg m, size_t i, const char **key, struct sgv_cfg *value) {
    yaml_node_t *y = node_of(m);
    if (!y || y->type != YAML_MAPPING_NODE) return 0;
    yaml_node_pair_t *p = y->data.mapping.pairs.start + i;
    if (p >= y->data.mapping.pairs.top) return 0;
    yaml_node_t *k = yaml_document_get_node((yaml_document_t *)&m.c->doc, p->key);
    *key           = k && k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
    value->c       = m.c;
    value->node    = p->value;
    path_fmt(value->path, sizeof value->path, "%s%s%s", m.path, m.path[0] ? "." : "", *key);
    return 1;
}

sg_status sgv_cfg_check_keys(struct sgv_cfg m, const char *const *allowed) {
    const char *key;
    struct sgv_cfg v;
    if (sgv_cfg_present(m) && !sgv_cfg_is_map(m)) return type_error(m, "a mapping");
    for (size_t i = 0; sgv_cfg_entry(m, i, &key, &v); i++) {
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++) ok = strcmp(*a, key) == 0;
        if (ok) continue;
        char list[512];
        size_t o = 0;
        for (const char *const *a = allowed; *a && o + 4 < sizeof list; a++)
            o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", a == allowed ? "" : ", ", *a);
        yaml_node_t *y = node_of(v);
        return sg_error(SG_ERR_INVALID_ARG, "%s:%zu: %s: unknown setting (known here: %s)", sgv_config_path(m.c),
                        y ? y->start_mark.line + 1 : 0, v.path, list);
    }
    return SG_OK;
}
