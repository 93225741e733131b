/* Small file-system helpers for validation/: paths, whole-file reads, atomic writes.
 *
 *     char *p = sgv_path_join("results/run1", "validation/summary.json");
 *     sg_mkdir_p("results/run1/validation");            // core/fs.h
 *     sgv_write_file_atomic(p, text, strlen(text));   // temp file in the same folder + rename
 *     free(p);
 */
#ifndef SGV_FSUTIL_H
#define SGV_FSUTIL_H

#include <stddef.h>

#include "core/status.h"

/* a/b, or b alone when b is absolute or a is NULL/empty. Caller frees. */
char *sgv_path_join(const char *a, const char *b);
int sgv_file_exists(const char *path);
int sgv_is_dir(const char *path);
sg_status sgv_read_file(const char *path, char **data, size_t *len);
sg_status sgv_write_file_atomic(const char *path, const void *data, size_t len);
/* $XDG_CACHE_HOME/saeg, else $HOME/.cache/saeg. Caller frees; NULL when neither is set. */
char *sgv_user_cache_dir(void);
/* Today's date (UTC) as YYYY-MM-DD, and the current time as ISO 8601. */
void sgv_today(char buf[11]);
void sgv_now_iso(char buf[21]);

#endif
