/* Reading YAML configuration files (libyaml) by dotted key paths.
 *
 *     struct sg_yaml *y;
 *     if (sg_yaml_load("model_config.yml", &y) != SG_OK) die(sg_last_error());
 *     int64_t d;
 *     sg_yaml_int(y, "d_model", -1, &d);                       // error if absent (default < 0 = required)
 *     const char *impl = sg_yaml_str(y, "attn_config.attn_impl"); // NULL if absent
 *     sg_yaml_free(y);
 *
 * Typed getters fail with a message naming the file and the key ("model_config.yml: d_model:
 * expected an integer, got 'abc'"). Booleans accept YAML 1.1 spellings (true/True/yes/on, ...).
 */
#ifndef SG_IO_YAML_H
#define SG_IO_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sg_yaml;

sg_status sg_yaml_load(const char *path, struct sg_yaml **out);
/* Parses a document held in memory; `what` names it in errors. */
sg_status sg_yaml_parse(const char *text, size_t len, const char *what, struct sg_yaml **out);
void sg_yaml_free(struct sg_yaml *y);

/* Whether the dotted path names any node (mapping, sequence, or scalar, including null). */
bool sg_yaml_has(const struct sg_yaml *y, const char *path);
/* Entries of the mapping or sequence at path; 0 for scalars, null and absent keys. */
int64_t sg_yaml_len(const struct sg_yaml *y, const char *path);
/* The scalar at path, or NULL when absent, null ("~", "null", empty) or not a scalar. */
const char *sg_yaml_str(const struct sg_yaml *y, const char *path);

/* Typed scalars. When the key is absent (or null) `*out` gets `def` and the call succeeds;
 * `required` variants fail instead. A present value of the wrong form always fails. */
sg_status sg_yaml_int(const struct sg_yaml *y, const char *path, int64_t def, int64_t *out);
sg_status sg_yaml_int_required(const struct sg_yaml *y, const char *path, int64_t *out);
sg_status sg_yaml_double(const struct sg_yaml *y, const char *path, double def, double *out);
sg_status sg_yaml_bool(const struct sg_yaml *y, const char *path, bool def, bool *out);

#ifdef __cplusplus
}
#endif

#endif
