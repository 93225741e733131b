#include "io/yaml.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

struct sg_yaml {
    yaml_document_t doc;
    char *what;
};

void sg_yaml_free(struct sg_yaml *y) {
    if (!y) return;
    yaml_document_delete(&y->doc);
    free(y->what);
    free(y);
}

sg_status sg_yaml_parse(const char *text, size_t len, const char *what, struct sg_yaml **out) {
    *out              = NULL;
    struct sg_yaml *y = calloc(1, sizeof *y);
    if (!y || !(y->what = strdup(what))) {
        free(y);
        return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", what);
    }
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        sg_yaml_free(y);
        return sg_error(SG_ERR_NO_MEMORY, "%s: cannot start the YAML parser", what);
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, &y->doc)) {
        sg_status st = sg_error(SG_ERR_FORMAT, "%s:%zu:%zu: YAML error: %s", what, p.problem_mark.line + 1,
                                p.problem_mark.column + 1, p.problem ? p.problem : "unknown");
        yaml_parser_delete(&p);
        free(y->what);
        free(y);
        return st;
    }
    yaml_parser_delete(&p);
    if (!yaml_document_get_root_node(&y->doc) || yaml_document_get_root_node(&y->doc)->type != YAML_MAPPING_NODE) {
        sg_yaml_free(y);
        return sg_error(SG_ERR_FORMAT, "%s: expected a YAML mapping at the top level", what);
    }
    *out = y;
    return SG_OK;
}

sg_status sg_yaml_load(const char *path, struct sg_yaml **out) {
    *out     = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) return sg_error(errno == ENOENT ? SG_ERR_NOT_FOUND : SG_ERR_IO, "%s: %s", path, strerror(errno));
    char *buf  = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 > cap) {
            cap      = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(fp);
                return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", path);
            }
            buf = nb;
        }
        size_t k = fread(buf + len, 1, cap - len, fp);
        len += k;
        if (k == 0) break;
    }
    int err = ferror(fp);
    fclose(fp);
    if (err) {
        free(buf);
        return sg_error(SG_ERR_IO, "%s: read error", path);
    }
    sg_status st = sg_yaml_parse(buf, len, path, out);
    free(buf);
    return st;
}

/* The node at a dotted path ("a.b.c"), or NULL. */
static yaml_node_t *find_node(const struct sg_yaml *y, const char *path) {
    yaml_document_t *doc = (yaml_document_t *)&y->doc;
    yaml_node_t *node    = yaml_document_get_root_node(doc);
    const char *seg      = path;
    while (node && *seg) {
        const char *dot = strchr(seg, '.');
        size_t n        = dot ? (size_t)(dot - seg) : strlen(seg);
        if (node->type != YAML_MAPPING_NODE) return NULL;
        yaml_node_t *next = NULL;
        for (yaml_node_pair_t *pr = node->data.mapping.pairs.start; pr < node->data.mapping.pairs.top; pr++) {
            yaml_node_t *k = yaml_document_get_node(doc, pr->key);
            if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == n &&
                memcmp(k->data.scalar.value, seg, n) == 0) {
                next = yaml_document_get_node(doc, pr->value);
                break;
            }
        }
        node = next;
        seg  = dot ? dot + 1 : seg + n;
    }
    return node;
}

bool sg_yaml_has(const struct sg_yaml *y, const char *path) { return find_node(y, path) != NULL; }

int64_t sg_yaml_len(const struct sg_yaml *y, const char *path) {
    yaml_node_t *n = find_node(y, path);
    if (!n) return 0;
    if (n->type == YAML_MAPPING_NODE) return n->data.mapping.pairs.top - n->data.mapping.pairs.start;
    if (n->type == YAML_SEQUENCE_NODE) return n->data.sequence.items.top - n->data.sequence.items.start;
    return 0;
}

static bool is_null_scalar(const yaml_node_t *n) {
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
    const char *s = (const char *)n->data.scalar.value;
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
           strcmp(s, "NULL") == 0;
}

const char *sg_yaml_str(const struct sg_yaml *y, const char *path) {
    yaml_node_t *n = find_node(y, path);
    if (!n || n->type != YAML_SCALAR_NODE || is_null_scalar(n)) return NULL;
    return (const char *)n->data.scalar.value;
}

/* A non-scalar where a scalar is expected is a format error; absence is reported as NULL. */
static sg_status scalar_at(const struct sg_yaml *y, const char *path, const char **out) {
    *out           = NULL;
    yaml_node_t *n = find_node(y, path);
    if (!n) return SG_OK;
    if (n->type != YAML_SCALAR_NODE) return sg_error(SG_ERR_FORMAT, "%s: %s: expected a single value", y->what, path);
    if (!is_null_scalar(n)) *out = (const char *)n->data.scalar.value;
    return SG_OK;
}

static sg_status parse_int(const struct sg_yaml *y, const char *path, const char *s, int64_t *out) {
    char *end;
    errno = 0;
    /* YAML allows 1_000 as a digit separator; configs written by OmegaConf never use it */
    long long v = strtoll(s, &end, 0);
    if (errno || end == s || *end)
        return sg_error(SG_ERR_FORMAT, "%s: %s: expected an integer, got '%.40s'", y->what, path, s);
    *out = v;
    return SG_OK;
}

sg_status sg_yaml_int(const struct sg_yaml *y, const char *path, int64_t def, int64_t *out) {
    const char *s;
    sg_status st = scalar_at(y, path, &s);
    if (st != SG_OK) return st;
    if (!s) {
        *out = def;
        return SG_OK;
    }
    return parse_int(y, path, s, out);
}

sg_status sg_yaml_int_required(const struct sg_yaml *y, const char *path, int64_t *out) {
    const char *s;
    sg_status st = scalar_at(y, path, &s);
    if (st != SG_OK) return st;
    if (!s) return sg_error(SG_ERR_NOT_FOUND, "%s: required key '%s' is missing", y->what, path);
    return parse_int(y, path, s, out);
}

sg_status sg_yaml_double(const struct sg_yaml *y, const char *path, double def, double *out) {
    const char *s;
    sg_status st = scalar_at(y, path, &s);
    if (st != SG_OK) return st;
    if (!s) {
        *out = def;
        return SG_OK;
    }
    char *end;
    errno    = 0;
    double v = strtod(s, &end);
    if (errno == ERANGE || end == s || *end || !isfinite(v))
        return sg_error(SG_ERR_FORMAT, "%s: %s: expected a number, got '%.40s'", y->what, path, s);
    *out = v;
    return SG_OK;
}

sg_status sg_yaml_bool(const struct sg_yaml *y, const char *path, bool def, bool *out) {
    const char *s;
    sg_status st = scalar_at(y, path, &s);
    if (st != SG_OK) return st;
    if (!s) {
        *out = def;
        return SG_OK;
    }
    static const char *const yes[] = {"true", "yes", "on", "y"};
    static const char *const no[]  = {"false", "no", "off", "n"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return SG_OK;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return SG_OK;
        }
    }
    return sg_error(SG_ERR_FORMAT, "%s: %s: expected true or false, got '%.40s'", y->what, path, s);
}
