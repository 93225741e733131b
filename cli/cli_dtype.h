/* --dtype, shared by the subcommands that run Tahoe X1 (embed, extract, train, eval, pipeline,
 * bench model).
 *
 *     case O_DTYPE: rc = cli_parse_dtype(optarg, &o->dtype); break;
 */
#ifndef SAEG_CLI_DTYPE_H
#define SAEG_CLI_DTYPE_H

#include "models/tahoe_x1.h"

/* 0, or 2 after saying on stderr what --dtype accepts. */
int cli_parse_dtype(const char *arg, enum tx1_dtype *out);

#endif
