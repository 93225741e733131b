/* On-disk cache of API responses. Entries are keyed by the SHA-256 of the method, the URL
 * without its query, the query parameters sorted (secret ones such as apiKey left out) and
 * the body, and are stamped with the source's version: a new release misses the cache.
 *
 *     struct sgv_cache *c;
 *     sgv_cache_open("/home/me/.cache/saeg/validation", &c);
 *     char key[65];
 *     sgv_cache_key("GET", url, NULL, 0, key);
 *     char *body; size_t len;
 *     if (!sgv_cache_get(c, "reactome", "86", key, &body, &len)) {
 *         ... fetch; only a complete, parsed 2xx body is stored:
 *         sgv_cache_put(c, "reactome", "86", key, url, body, len);
 *     }
 *     sgv_cache_close(c);
 *
 * An entry is a body file and a meta file (JSON: redacted URL, fetch time, version, size and
 * body SHA-256); the meta is written last, so a crash never leaves a readable half entry, and a
 * body whose size or digest does not match its meta is treated as absent.
 */
#ifndef SGV_CACHE_H
#define SGV_CACHE_H

#include <stddef.h>

#include "core/status.h"

struct sgv_cache;

sg_status sgv_cache_open(const char *dir, struct sgv_cache **out);
void sgv_cache_close(struct sgv_cache *c);
const char *sgv_cache_dir(const struct sgv_cache *c);

/* Hex SHA-256 of the request identity (65 bytes with the NUL). */
sg_status sgv_cache_key(const char *method, const char *url, const char *body, size_t body_len, char key[65]);
/* Hex SHA-256 of arbitrary bytes. */
sg_status sgv_sha256_hex(const void *data, size_t len, char hex[65]);

/* 1 and a malloc'ed NUL-terminated body on a valid hit of the same version; 0 otherwise. */
int sgv_cache_get(struct sgv_cache *c, const char *source, const char *version, const char *key, char **body,
                  size_t *len);
sg_status sgv_cache_put(struct sgv_cache *c, const char *source, const char *version, const char *key, const char *url,
                        const char *body, size_t len);
void sgv_cache_drop(struct sgv_cache *c, const char *source, const char *key);

#endif
