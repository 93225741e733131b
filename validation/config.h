/* Typed access to the validation YAML config (configs/validation/databases.yaml) via libyaml.
 *
 *     struct sgv_config *c;
 *     if (sgv_config_load("configs/validation/databases.yaml", &c) != SG_OK) return 1;
 *     struct sgv_cfg hpo = sgv_cfg_child(sgv_cfg_root(c), "databases.hpo");
 *     int on;
 *     if (sgv_cfg_bool(hpo, "enabled", 1, &on) != SG_OK)   // "…yaml:14: databases.hpo.enabled:
 *         fprintf(stderr, "%s\n", sg_last_error());        //  expected true or false, got 'maybe'"
 *     sgv_config_free(c);
 *
 * A missing key yields the default; a key of the wrong type is an error naming the file, line
 * and dotted key. sgv_cfg_check_keys() rejects unknown keys so typos do not pass silently.
 */
#ifndef SGV_CONFIG_H
#define SGV_CONFIG_H

#include <stddef.h>

#include "core/status.h"

struct sgv_config;

/* A node plus the dotted path that names it in messages. node == 0: absent. */
struct sgv_cfg {
    const struct sgv_config *c;
    int node;
    char path[160];
};

sg_status sgv_config_load(const char *path, struct sgv_config **out);
sg_status sgv_config_parse(const char *text, size_t len, const char *label, struct sgv_config **out);
void sgv_config_free(struct sgv_config *c);
const char *sgv_config_path(const struct sgv_config *c);

struct sgv_cfg sgv_cfg_root(const struct sgv_config *c);
/* Follows a dotted key ("databases.hpo.offline"); absent keys give node 0. */
struct sgv_cfg sgv_cfg_child(struct sgv_cfg m, const char *dotted);
int sgv_cfg_present(struct sgv_cfg n);
int sgv_cfg_is_map(struct sgv_cfg n);

sg_status sgv_cfg_str(struct sgv_cfg m, const char *key, const char *def, const char **out);
sg_status sgv_cfg_num(struct sgv_cfg m, const char *key, double def, double *out);
sg_status sgv_cfg_uint(struct sgv_cfg m, const char *key, unsigned def, unsigned *out);
sg_status sgv_cfg_bool(struct sgv_cfg m, const char *key, int def, int *out);
/* A scalar or a sequence of scalars; *out (NULL-terminated, free the array only) points into
 * the document. An absent key gives an empty list. */
sg_status sgv_cfg_str_list(struct sgv_cfg m, const char *key, const char ***out, size_t *n);

/* Mapping iteration: key i (0-based) and its value node; returns 0 past the end. */
int sgv_cfg_entry(struct sgv_cfg m, size_t i, const char **key, struct sgv_cfg *value);

/* Fails on any key of mapping m not in `allowed` (NULL-terminated). */
sg_status sgv_cfg_check_keys(struct sgv_cfg m, const char *const *allowed);

#endif
