/* Small filesystem helpers shared by subcommands.
 *
 *     if (cli_make_dirs("runs/exp1/sae") != SG_OK) fprintf(stderr, "%s\n", sg_last_error());
 */
#ifndef SAEG_CLI_FS_H
#define SAEG_CLI_FS_H

#include "core/status.h"

/* mkdir -p: creates path and its missing parents (mode 0755); existing folders are fine. */
sg_status cli_make_dirs(const char *path);

#endif
