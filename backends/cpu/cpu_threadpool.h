/* A persistent pthread pool for one CPU stream.
 *
 *     struct sg_cpu_pool *pool;
 *     sg_cpu_pool_new(4, &pool);                 // 3 workers; the caller is thread 0
 *     sg_cpu_pool_run(pool, fn, arg);            // fn(0..3, 4, arg) on 4 threads, then returns
 *     sg_cpu_pool_free(pool);
 *
 * Inside fn, every thread may call sg_cpu_pool_barrier(pool); all must call it equally often.
 * Waiting threads spin for a few microseconds (pause) and then sleep on a condition variable,
 * so a machine with more threads than free cores (a 2-core CI runner running two tests) keeps
 * making progress instead of burning its cores in spin loops.
 */
#ifndef SG_CPU_THREADPOOL_H
#define SG_CPU_THREADPOOL_H

#include "core/status.h"

struct sg_cpu_pool;

typedef void (*sg_cpu_pool_fn)(int ith, int nth, void *arg);

sg_status sg_cpu_pool_new(int n_threads, struct sg_cpu_pool **out);
void sg_cpu_pool_free(struct sg_cpu_pool *pool);
int sg_cpu_pool_threads(const struct sg_cpu_pool *pool);

/* Runs fn on every thread of the pool (the caller is thread 0) and returns when all are done.
 * Not reentrant: one run at a time per pool. */
void sg_cpu_pool_run(struct sg_cpu_pool *pool, sg_cpu_pool_fn fn, void *arg);

/* Waits until every thread of the current run has reached this barrier. */
void sg_cpu_pool_barrier(struct sg_cpu_pool *pool);

#endif
