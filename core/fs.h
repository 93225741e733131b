/* File-system helpers every layer needs (in saeg-base, so validation/ can use them too).
 *
 *     if (sg_mkdir_p("results/run1/sae") != SG_OK) fprintf(stderr, "%s\n", sg_last_error());
 */
#ifndef SAEG_CORE_FS_H
#define SAEG_CORE_FS_H

#include "core/status.h"

/* mkdir -p: creates dir and its missing parents (mode 0755); an existing folder is fine, an
 * existing file of that name is an error. */
sg_status sg_mkdir_p(const char *dir);

#endif
