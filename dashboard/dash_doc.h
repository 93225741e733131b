/* Reading the run directory's JSON files without holding a whole parsed tree.
 *
 *     static const char *big[] = {"features", NULL};
 *     struct dash_doc d;
 *     if (dash_doc_open("run/feature_stats.json", big, &d) != SG_OK) return st;  // names the file
 *     double n; dash_num(&d, d.head, NULL, "n_tokens", false, &n);   // small members: d.head
 *     struct dash_iter it = dash_doc_iter(&d, "features");
 *     cJSON *f; int i;
 *     while ((st = dash_iter_next(&d, &it, &f, &i)) == SG_OK && f) { ...; cJSON_Delete(f); }
 *     dash_doc_close(&d);
 *
 * The members named in `big` are top-level arrays (one entry per feature or cell, possibly
 * hundreds of MB): their elements are parsed one at a time. Everything else is parsed into
 * d.head. Field getters fail with one line naming the file and the field:
 * "run/feature_stats.json: features[3].frequency: expected a number, found a string".
 */
#ifndef SAEG_DASH_DOC_H
#define SAEG_DASH_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/status.h"

#define DASH_DOC_MAX_BIG 4

struct dash_doc {
    char *path;
    char *text;
    size_t len;
    cJSON *head; /* the top-level object without the big members */
    const char *big_key[DASH_DOC_MAX_BIG];
    const char *big_at[DASH_DOC_MAX_BIG]; /* span of each big member's array, or NULL */
    size_t big_len[DASH_DOC_MAX_BIG];
};

struct dash_iter {
    const char *at, *end;
    int index;
    const char *key;
};

/* SG_ERR_NOT_FOUND (with a message naming the file) when the file does not exist. */
sg_status dash_doc_open(const char *path, const char *const *big, struct dash_doc *d);
void dash_doc_close(struct dash_doc *d);
bool dash_file_exists(const char *path);

/* Checks "schema": absent is accepted; "<name>/<major>" with major 1 is; anything else fails. */
sg_status dash_doc_schema(const struct dash_doc *d, const char *name);

/* Iterates a big member's elements; an absent member iterates nothing (check dash_doc_has). */
bool dash_doc_has(const struct dash_doc *d, const char *key);
struct dash_iter dash_doc_iter(const struct dash_doc *d, const char *key);
/* *item is NULL at the end; the caller frees each item with cJSON_Delete. */
sg_status dash_iter_next(const struct dash_doc *d, struct dash_iter *it, cJSON **item, int *index);

/* Field getters. `where` names obj in messages ("features[3]"; NULL for the top level). A
 * missing optional field leaves *out untouched and returns SG_OK; *present (may be NULL) says
 * whether it was there. null counts as missing. */
sg_status dash_num(const struct dash_doc *d, const cJSON *obj, const char *where, const char *key, bool required,
                   double *out);
sg_status dash_int(const struct dash_doc *d, const cJSON *obj, const char *where, const char *key, bool required,
                   int64_t min, int64_t *out);
sg_status dash_str(const struct dash_doc *d, const cJSON *obj, const char *where, const char *key, bool required,
                   const char **out);
sg_status dash_arr(const struct dash_doc *d, const cJSON *obj, const char *where, const char *key, bool required,
                   const cJSON **out);
/* A feature id: a non-negative integer, or a string of digits. */
sg_status dash_feature_id(const struct dash_doc *d, const cJSON *obj, const char *where, int64_t *out);
/* "<file>: <where>.<key>: <what>" as this thread's error, returned as SG_ERR_FORMAT. */
sg_status dash_field_error(const struct dash_doc *d, const char *where, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A value as text (strings as they are, numbers formatted, others ""), for obs values. */
const char *dash_text(const cJSON *v, char *buf, size_t cap);

#endif
