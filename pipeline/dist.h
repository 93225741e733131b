/* Running as one of several processes (MPI ranks): who am I, and the few collectives saeg needs.
 * Built without MPI (SAEG_MPI=OFF, or no MPI found) every call is the one-process identity, so
 * callers never need an #ifdef.
 *
 *     sg_dist_init(&argc, &argv);                 // main(): MPI_Init when started by mpirun/srun
 *     int r = sg_dist_rank(), n = sg_dist_size();
 *     sg_dist_allreduce_f32(grad, len);           // sum over ranks, in place
 *     void *all; int64_t sizes[n];
 *     sg_dist_gatherv(mine, bytes, 0, &all, sizes);   // rank 0: every rank's blob, in rank order
 *     sg_dist_finalize();
 *
 * A failed MPI call returns SG_ERR_IO with MPI's message; MPI_COMM_WORLD uses MPI_ERRORS_RETURN so
 * nothing aborts behind the caller's back. A rank that fails on its own calls sg_dist_abort, which
 * ends the whole job (the others may be waiting in a collective); mpirun reports which rank.
 */
#ifndef SG_PIPELINE_DIST_H
#define SG_PIPELINE_DIST_H

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"

/* MPI_Init when this process was started by an MPI launcher (mpirun, srun with PMI), else
 * nothing. Also: ranks other than 0 log only warnings and errors, and every line they write to
 * stderr starts with "[rank N] "; when several ranks share a machine and SAEG_THREADS is unset,
 * each gets cores / ranks threads. */
sg_status sg_dist_init(int *argc, char ***argv);
void sg_dist_finalize(void);

int sg_dist_rank(void);
int sg_dist_size(void);
int sg_dist_local_rank(void); /* among the ranks on this machine: picks the GPU */
int sg_dist_local_size(void);

/* Sums (or maxima) over all ranks, in place; every rank gets the result. */
sg_status sg_dist_allreduce_f32(float *x, int64_t n);
sg_status sg_dist_allreduce_f64(double *x, int64_t n);
sg_status sg_dist_allreduce_i64(int64_t *x, int64_t n);
sg_status sg_dist_allreduce_max_i64(int64_t *x, int64_t n);
sg_status sg_dist_bcast(void *buf, int64_t bytes, int root);
sg_status sg_dist_barrier(void);
/* Variable-size blobs: root (gatherv) or every rank (allgatherv) gets all of them back to back in
 * rank order in *all (malloc'd, caller frees; NULL on other ranks) and their sizes in sizes[size]
 * (may be NULL). At most 2 GiB in all per call. */
sg_status sg_dist_gatherv(const void *mine, int64_t bytes, int root, void **all, int64_t *sizes);
sg_status sg_dist_allgatherv(const void *mine, int64_t bytes, void **all, int64_t *sizes);
/* Ends every rank of the job with `code` after printing the message (say which rank in it). */
_Noreturn void sg_dist_abort(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Contiguous share of n items for a rank: [*lo, *hi). */
void sg_dist_share(int64_t n, int rank, int size, int64_t *lo, int64_t *hi);

#endif
