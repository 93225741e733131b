/* What OpenBLAS chose for this machine, for device descriptions and benchmark headers. */
#include <cblas.h>

#include "backends/cpu/cpu_backend.h"

const char *sg_cpu_blas_corename(void) { return openblas_get_corename(); }
