/* String -> int32 hash map (open addressing), used for every identifier index in validation/.
 *
 *     struct sgv_strmap m = {0};
 *     sgv_strmap_put(&m, "TP53", 7);
 *     int32_t v;
 *     if (sgv_strmap_get(&m, "TP53", &v)) ...;
 *     sgv_strmap_free(&m);
 *
 * Keys are copied. The zero-initialised struct is an empty map.
 */
#ifndef SGV_STRMAP_H
#define SGV_STRMAP_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

struct sgv_strmap {
    char **keys;
    int32_t *vals;
    size_t cap; /* power of two, or 0 */
    size_t count;
};

/* Inserts or overwrites. */
sg_status sgv_strmap_put(struct sgv_strmap *m, const char *key, int32_t val);
/* Same with a key of explicit length (need not be NUL-terminated). */
sg_status sgv_strmap_putn(struct sgv_strmap *m, const char *key, size_t len, int32_t val);
int sgv_strmap_get(const struct sgv_strmap *m, const char *key, int32_t *val);
int sgv_strmap_getn(const struct sgv_strmap *m, const char *key, size_t len, int32_t *val);
void sgv_strmap_free(struct sgv_strmap *m);

#endif
