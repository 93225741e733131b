/* Persistent thread pool with spin-then-sleep waits (see cpu_threadpool.h), and the default
 * thread count (physical cores). */
#define _GNU_SOURCE
#include "backends/cpu/cpu_threadpool.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/cpu_simd.h"
#include "core/log.h"

/* How long a waiting thread polls before it sleeps: long enough to cover the gap between two
 * small nodes (a futex wake costs tens of microseconds), short enough that a thread waiting
 * for a descheduled peer gives its core back quickly. After the first fifth it yields between
 * polls, so a peer that shares its core (more threads than cores) gets to finish. */
#define SG_CPU_SPIN_NS 50000

struct sg_cpu_spin {
    int64_t yield_ns; /* pure spinning until then (0 when threads outnumber cores) */
    int64_t sleep_ns; /* then yield until this, then sleep */
};

#define SG_CPU_MAX_THREADS 1024

/* A counter that threads wait on until it changes. Sleepers are counted so that bumping it
 * costs one atomic add when nobody sleeps. */
struct sg_cpu_event {
    _Alignas(64) atomic_uint value;
    atomic_int sleepers;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

struct sg_cpu_worker {
    struct sg_cpu_pool *pool;
    int ith;
};

struct sg_cpu_pool {
    int n_threads;
    struct sg_cpu_spin spin;
    pthread_t *threads; /* n_threads - 1 workers */
    struct sg_cpu_worker *workers;
    int n_started;

    sg_cpu_pool_fn fn; /* the current run; written before `start` is bumped */
    void *arg;
    atomic_bool stop;

    struct sg_cpu_event start;       /* bumped once per run */
    struct sg_cpu_event phase;       /* bumped when a barrier opens */
    _Alignas(64) atomic_int arrived; /* threads inside the current barrier */
};

static int64_t sg_cpu_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sg_cpu_event_init(struct sg_cpu_event *ev) {
    atomic_init(&ev->value, 0);
    atomic_init(&ev->sleepers, 0);
    pthread_mutex_init(&ev->mu, NULL);
    pthread_cond_init(&ev->cv, NULL);
}

static void sg_cpu_event_destroy(struct sg_cpu_event *ev) {
    pthread_mutex_destroy(&ev->mu);
    pthread_cond_destroy(&ev->cv);
}

/* Returns once ev->value != old. The sleeper count is raised before the value is checked under
 * the mutex, and the bumper reads the count after raising the value (both sequentially
 * consistent), so either the sleeper sees the new value or the bumper sees the sleeper. */
static void sg_cpu_event_wait(struct sg_cpu_event *ev, unsigned old, const struct sg_cpu_spin *spin) {
    if (atomic_load_explicit(&ev->value, memory_order_acquire) != old) return;
    int64_t t0 = sg_cpu_now_ns();
    for (unsigned i = 1;; i++) {
        sg_cpu_relax();
        if (atomic_load_explicit(&ev->value, memory_order_acquire) != old) return;
        if ((i & 63) != 0) continue;
        int64_t waited = sg_cpu_now_ns() - t0;
        if (waited > spin->sleep_ns) break;
        /* let a descheduled peer that shares this core run first */
        if (waited > spin->yield_ns) sched_yield();
    }
    pthread_mutex_lock(&ev->mu);
    atomic_fetch_add(&ev->sleepers, 1);
    while (atomic_load(&ev->value) == old) pthread_cond_wait(&ev->cv, &ev->mu);
    atomic_fetch_sub(&ev->sleepers, 1);
    pthread_mutex_unlock(&ev->mu);
}

static void sg_cpu_event_bump(struct sg_cpu_event *ev) {
    atomic_fetch_add(&ev->value, 1);
    if (atomic_load(&ev->sleepers) > 0) {
        pthread_mutex_lock(&ev->mu);
        pthread_cond_broadcast(&ev->cv);
        pthread_mutex_unlock(&ev->mu);
    }
}

void sg_cpu_pool_barrier(struct sg_cpu_pool *pool) {
    if (pool->n_threads == 1) return;
    unsigned phase = atomic_load(&pool->phase.value);
    if (atomic_fetch_add(&pool->arrived, 1) == pool->n_threads - 1) {
        atomic_store(&pool->arrived, 0);
        sg_cpu_event_bump(&pool->phase);
    } else {
        sg_cpu_event_wait(&pool->phase, phase, &pool->spin);
    }
}

static void *sg_cpu_worker_main(void *p) {
    struct sg_cpu_worker *w  = p;
    struct sg_cpu_pool *pool = w->pool;
    unsigned seen            = 0;
    for (;;) {
        sg_cpu_event_wait(&pool->start, seen, &pool->spin);
        seen++; /* a run cannot start again before this thread passed the last run's barrier */
        if (atomic_load(&pool->stop)) break;
        pool->fn(w->ith, pool->n_threads, pool->arg);
        sg_cpu_pool_barrier(pool);
    }
    return NULL;
}

void sg_cpu_pool_run(struct sg_cpu_pool *pool, sg_cpu_pool_fn fn, void *arg) {
    pool->fn  = fn;
    pool->arg = arg;
    sg_cpu_event_bump(&pool->start);
    fn(0, pool->n_threads, arg);
    sg_cpu_pool_barrier(pool);
}

int sg_cpu_pool_threads(const struct sg_cpu_pool *pool) { return pool->n_threads; }

/* CPUs this process may run on (its affinity mask), or the online CPUs. */
static int sg_cpu_usable_cpus(void) {
#ifdef __linux__
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

void sg_cpu_pool_free(struct sg_cpu_pool *pool) {
    if (!pool) return;
    atomic_store(&pool->stop, true);
    sg_cpu_event_bump(&pool->start);
    for (int i = 0; i < pool->n_started; i++) pthread_join(pool->threads[i], NULL);
    sg_cpu_event_destroy(&pool->start);
    sg_cpu_event_destroy(&pool->phase);
    free(pool->threads);
    free(pool->workers);
    free(pool);
}

sg_status sg_cpu_pool_new(int n_threads, struct sg_cpu_pool **out) {
    *out = NULL;
    if (n_threads < 1 || n_threads > SG_CPU_MAX_THREADS)
        return sg_error(SG_ERR_INVALID_ARG, "cpu: %d threads requested (1 to %d allowed)", n_threads,
                        SG_CPU_MAX_THREADS);
    struct sg_cpu_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return sg_error(SG_ERR_NO_MEMORY, "cpu: out of memory creating a thread pool");
    pool->n_threads = n_threads;
    pool->spin      = (struct sg_cpu_spin){
             .yield_ns = n_threads > sg_cpu_usable_cpus() ? 0 : SG_CPU_SPIN_NS / 5,
             .sleep_ns = SG_CPU_SPIN_NS,
    };
    atomic_init(&pool->stop, false);
    atomic_init(&pool->arrived, 0);
    sg_cpu_event_init(&pool->start);
    sg_cpu_event_init(&pool->phase);
    pool->threads = calloc((size_t)n_threads, sizeof *pool->threads);
    pool->workers = calloc((size_t)n_threads, sizeof *pool->workers);
    if (!pool->threads || !pool->workers) {
        sg_cpu_pool_free(pool);
        return sg_error(SG_ERR_NO_MEMORY, "cpu: out of memory creating a thread pool");
    }
    for (int i = 1; i < n_threads; i++) {
        pool->workers[i] = (struct sg_cpu_worker){.pool = pool, .ith = i};
        int rc           = pthread_create(&pool->threads[i - 1], NULL, sg_cpu_worker_main, &pool->workers[i]);
        if (rc != 0) {
            sg_cpu_pool_free(pool);
            return sg_error(SG_ERR_BACKEND, "cpu: cannot start worker thread %d of %d: %s", i, n_threads, strerror(rc));
        }
        pool->n_started++;
    }
    *out = pool;
    return SG_OK;
}

/* ---- default thread count ---------------------------------------------------------------- */

static bool sg_cpu_read_long(const char *path, long *out) {
    FILE *f = fopen(path, "r");
    if (!f) return false;
    char line[64];
    bool ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (!ok) return false;
    char *end;
    errno = 0;
    *out  = strtol(line, &end, 10);
    return end != line && errno == 0;
}

/* Physical cores among the CPUs we may use: unique (package, core) pairs from sysfs, so SMT
 * siblings count once (they share the FMA units the kernels saturate). 0 when unknown. */
static int sg_cpu_physical_cores(void) {
#ifdef __linux__
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
    int n_cores = 0;
    long seen[2 * SG_CPU_MAX_THREADS];
    for (int cpu = 0; cpu < CPU_SETSIZE && n_cores < SG_CPU_MAX_THREADS; cpu++) {
        if (!CPU_ISSET(cpu, &set)) continue;
        char path[128];
        long pkg, core;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/physical_package_id", cpu);
        if (!sg_cpu_read_long(path, &pkg)) return 0;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/core_id", cpu);
        if (!sg_cpu_read_long(path, &core)) return 0;
        bool dup = false;
        for (int i = 0; i < n_cores && !dup; i++) dup = seen[2 * i] == pkg && seen[2 * i + 1] == core;
        if (dup) continue;
        seen[2 * n_cores]     = pkg;
        seen[2 * n_cores + 1] = core;
        n_cores++;
    }
    return n_cores;
#else
    return 0;
#endif
}

/* A cgroup v2 CPU quota ("cpu.max": "<quota> <period>", as set by docker --cpus) caps the cores
 * we can keep busy even when more are visible; 0 when there is none. */
static int sg_cpu_quota_cores(void) {
    FILE *f = fopen("/sys/fs/cgroup/cpu.max", "r");
    if (!f) return 0;
    char line[64] = ""; /* "<quota|max> <period>" */
    bool got      = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    char *end;
    long q      = strtol(line, &end, 10);
    long period = got && end != line && *end == ' ' ? strtol(end + 1, NULL, 10) : 0;
    return q > 0 && period > 0 ? (int)((q + period - 1) / period) : 0;
}

int sg_cpu_default_threads(void) {
    static atomic_int cached_cores;
    static atomic_bool warned;
    int cores = atomic_load(&cached_cores);
    if (cores <= 0) {
        cores = sg_cpu_physical_cores();
        if (cores <= 0) cores = sg_cpu_usable_cpus();
        int quota = sg_cpu_quota_cores();
        if (quota > 0 && quota < cores) cores = quota;
        atomic_store(&cached_cores, cores);
    }

    const char *env = getenv("SAEG_THREADS");
    if (!env || !*env) return cores;
    char *end;
    errno  = 0;
    long v = strtol(env, &end, 10);
    if (errno == 0 && *end == '\0' && v >= 1 && v <= SG_CPU_MAX_THREADS) return (int)v;
    if (!atomic_exchange(&warned, true))
        SG_LOGW("SAEG_THREADS=\"%s\" is not a thread count (1 to %d); using %d (physical cores)", env,
                SG_CPU_MAX_THREADS, cores);
    return cores;
}
