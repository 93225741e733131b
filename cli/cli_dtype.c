/* --dtype for the subcommands that run Tahoe X1. */
#include "cli/cli_dtype.h"

#include <stdio.h>

int cli_parse_dtype(const char *arg, enum tx1_dtype *out) {
    if (tx1_dtype_parse(arg, "--dtype", out) == SG_OK) return 0;
    fprintf(stderr, "saeg: %s\n", sg_last_error());
    return 2;
}
