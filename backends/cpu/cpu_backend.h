/* CPU-specific entry points of the built-in CPU backend.
 *
 *     struct sg_stream *s;
 *     sg_device_open_stream(sg_device_cpu(), 0, &s);     // threads: SAEG_THREADS or physical cores
 *     sg_cpu_stream_set_reference(s, true);             // run the scalar reference kernels
 */
#ifndef SG_CPU_BACKEND_H
#define SG_CPU_BACKEND_H

#include <stdbool.h>

#include "core/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Threads a CPU stream uses by default: SAEG_THREADS when set (a bad value is reported and
 * ignored), else the number of physical cores. */
int sg_cpu_default_threads(void);

/* Switches a CPU stream between the fast kernels and the reference kernels (the test oracle). */
void sg_cpu_stream_set_reference(struct sg_stream *s, bool reference);
bool sg_cpu_stream_is_cpu(const struct sg_stream *s);
int sg_cpu_stream_threads(const struct sg_stream *s);

/* The OpenBLAS kernel family in use ("Haswell", "SkylakeX", ...): OpenBLAS picks it for the
 * CPU when it loads, unless OPENBLAS_CORETYPE names one. */
const char *sg_cpu_blas_corename(void);
/* The OPENBLAS_CORETYPE this machine would run faster with, or NULL when the loaded kernels are
 * already right (or the user set the variable). It takes effect only in a new process. */
const char *sg_cpu_blas_better_coretype(void);

#ifdef __cplusplus
}
#endif

#endif
