/* pipeline/dist.h: MPI when built with it (SAEG_HAVE_MPI) and started by an MPI launcher; the
 * one-process identity otherwise. */
#define _GNU_SOURCE /* fopencookie */
#include "pipeline/dist.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

#ifdef SAEG_HAVE_MPI
#include <mpi.h>
#endif

static int g_rank, g_size = 1, g_local_rank, g_local_size = 1;

int sg_dist_rank(void) { return g_rank; }
int sg_dist_size(void) { return g_size; }
int sg_dist_local_rank(void) { return g_local_rank; }
int sg_dist_local_size(void) { return g_local_size; }

void sg_dist_share(int64_t n, int rank, int size, int64_t *lo, int64_t *hi) {
    *lo = n * rank / size;
    *hi = n * (rank + 1) / size;
}

/* one process: its own blob, copied */
static sg_status gather_local(const void *mine, int64_t bytes, int root, void **all, int64_t *sizes) {
    (void)root;
    *all = malloc(bytes > 0 ? (size_t)bytes : 1);
    if (!*all) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    if (bytes > 0) memcpy(*all, mine, (size_t)bytes);
    if (sizes) sizes[0] = bytes;
    return SG_OK;
}

#ifdef SAEG_HAVE_MPI

static bool g_mpi; /* MPI_Init was called */

/* stderr of ranks other than 0: every line starts with "[rank N] ", whoever writes it (the log,
 * a command's error message, a library's diagnostics), so interleaved output stays attributable */
struct rank_stderr {
    int fd;
    bool line_start;
};

static bool write_fd(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0) return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

static ssize_t rank_stderr_write(void *cookie, const char *buf, size_t size) {
    struct rank_stderr *c = cookie;
    char prefix[32];
    const int np = snprintf(prefix, sizeof prefix, "[rank %d] ", g_rank);
    size_t done  = 0;
    while (done < size) {
        if (c->line_start && !write_fd(c->fd, prefix, (size_t)np)) return -1;
        const char *nl = memchr(buf + done, '\n', size - done);
        size_t n       = nl ? (size_t)(nl - (buf + done)) + 1 : size - done;
        if (!write_fd(c->fd, buf + done, n)) return -1;
        c->line_start = nl != NULL;
        done += n;
    }
    return (ssize_t)size;
}

static void prefix_stderr(void) {
    static struct rank_stderr c;
    c.fd         = dup(STDERR_FILENO);
    c.line_start = true;
    if (c.fd < 0) return;
    FILE *f = fopencookie(&c, "w", (cookie_io_functions_t){.write = rank_stderr_write});
    if (!f) return;
    setvbuf(f, NULL, _IOLBF, 0);
    fflush(stderr);
    stderr = f;
}

/* Ranks that share a machine share its cores: without SAEG_THREADS each would start one thread
 * per core and they would all fight over them. */
static void share_threads(void) {
    const char *env = getenv("SAEG_THREADS");
    if (g_local_size <= 1 || (env && *env)) return;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long n     = cores > 0 ? cores / g_local_size : 1;
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", n < 1 ? 1 : n);
    setenv("SAEG_THREADS", buf, 0);
}

static void setup_ranks(void) {
    if (g_size <= 1) return;
    share_threads();
    if (g_rank != 0) {
        /* progress is rank 0's to print; the others speak up only about problems */
        const char *env = getenv("SAEG_LOG");
        if (!env || !*env) sg_log_set_level(SG_LOG_WARN);
        prefix_stderr();
    }
}

static sg_status mpi_status(int rc, const char *what) {
    if (rc == MPI_SUCCESS) return SG_OK;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    return sg_error(SG_ERR_IO, "MPI %s failed on rank %d of %d: %.*s (another rank may have died)", what, g_rank,
                    g_size, len, msg);
}

/* Started by mpirun/mpiexec (Open MPI, MPICH) or srun (PMI/PMIx)? A plain `saeg ...` never
 * initialises MPI, so it needs no launcher and pays nothing. */
static bool launched_by_mpi(void) {
    static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "MPI_LOCALNRANKS"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i])) return true;
    return false;
}

/* Open MPI busy-polls while a rank waits in a collective. When the ranks on this machine are at
 * least as many as its cores (a laptop, a CI container, mpirun --oversubscribe) that spinning
 * takes the cores the other ranks compute on, so let waiting ranks yield (unless the user chose). */
static void yield_when_crowded(void) {
    const char *local = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    long n = local ? strtol(local, NULL, 10) : 0, cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (n > 1 && cores > 0 && n >= cores) setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0);
}

sg_status sg_dist_init(int *argc, char ***argv) {
    if (g_mpi || !launched_by_mpi()) return SG_OK;
    yield_when_crowded();
    int provided = 0;
    int rc       = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) return sg_error(SG_ERR_IO, "MPI_Init failed (error %d)", rc);
    g_mpi = true;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    MPI_Comm local;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_rank, MPI_INFO_NULL, &local) == MPI_SUCCESS) {
        MPI_Comm_rank(local, &g_local_rank);
        MPI_Comm_size(local, &g_local_size);
        MPI_Comm_free(&local);
    }
    setup_ranks();
    return SG_OK;
}

void sg_dist_finalize(void) {
    if (!g_mpi) return;
    MPI_Finalize();
    g_mpi = false;
}

/* MPI counts are ints: large buffers go in pieces */
#define PIECE (1 << 28)

static sg_status allreduce(void *x, int64_t n, MPI_Datatype type, size_t elem, MPI_Op op) {
    if (g_size <= 1) return SG_OK;
    for (int64_t i = 0; i < n; i += PIECE) {
        int cnt = (int)(n - i < PIECE ? n - i : PIECE);
        int rc  = MPI_Allreduce(MPI_IN_PLACE, (char *)x + (size_t)i * elem, cnt, type, op, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return mpi_status(rc, "Allreduce");
    }
    return SG_OK;
}

sg_status sg_dist_allreduce_f32(float *x, int64_t n) { return allreduce(x, n, MPI_FLOAT, sizeof *x, MPI_SUM); }
sg_status sg_dist_allreduce_f64(double *x, int64_t n) { return allreduce(x, n, MPI_DOUBLE, sizeof *x, MPI_SUM); }
sg_status sg_dist_allreduce_i64(int64_t *x, int64_t n) { return allreduce(x, n, MPI_INT64_T, sizeof *x, MPI_SUM); }
sg_status sg_dist_allreduce_max_i64(int64_t *x, int64_t n) { return allreduce(x, n, MPI_INT64_T, sizeof *x, MPI_MAX); }

sg_status sg_dist_bcast(void *buf, int64_t bytes, int root) {
    if (g_size <= 1) return SG_OK;
    for (int64_t i = 0; i < bytes; i += PIECE) {
        int cnt = (int)(bytes - i < PIECE ? bytes - i : PIECE);
        int rc  = MPI_Bcast((char *)buf + i, cnt, MPI_BYTE, root, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return mpi_status(rc, "Bcast");
    }
    return SG_OK;
}

sg_status sg_dist_barrier(void) {
    if (g_size <= 1) return SG_OK;
    return mpi_status(MPI_Barrier(MPI_COMM_WORLD), "Barrier");
}

static sg_status gather_blobs(const void *mine, int64_t bytes, int root, void **all, int64_t *sizes) {
    if (g_size <= 1) return gather_local(mine, bytes, root, all, sizes);
    *all            = NULL;
    const bool recv = root < 0 || g_rank == root;
    int64_t *sz     = calloc((size_t)g_size, sizeof *sz);
    int *cnt = calloc((size_t)g_size, sizeof *cnt), *disp = calloc((size_t)g_size, sizeof *disp);
    if (!sz || !cnt || !disp) {
        free(sz);
        free(cnt);
        free(disp);
        return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    }
    int rc        = MPI_Allgather(&bytes, 1, MPI_INT64_T, sz, 1, MPI_INT64_T, MPI_COMM_WORLD);
    sg_status st  = mpi_status(rc, "Allgather");
    int64_t total = 0;
    for (int i = 0; i < g_size; i++) total += sz[i];
    if (st == SG_OK && total > 0x7fffffff)
        st = sg_error(SG_ERR_INVALID_ARG,
                      "MPI gather of %lld bytes: more than 2 GiB at once (use smaller batches: --batch)",
                      (long long)total);
    char *buf = NULL;
    if (st == SG_OK && recv) {
        buf = malloc(total ? (size_t)total : 1);
        if (!buf) st = sg_error(SG_ERR_NO_MEMORY, "out of memory for %lld gathered bytes", (long long)total);
    }
    /* every rank learned the sizes, so an error above is the same on every rank */
    if (st == SG_OK) {
        int64_t off = 0;
        for (int i = 0; i < g_size; i++) {
            cnt[i]  = (int)sz[i];
            disp[i] = (int)off;
            off += sz[i];
        }
        if (root < 0)
            rc = MPI_Allgatherv(mine, (int)bytes, MPI_BYTE, buf, cnt, disp, MPI_BYTE, MPI_COMM_WORLD);
        else
            rc = MPI_Gatherv(mine, (int)bytes, MPI_BYTE, buf, cnt, disp, MPI_BYTE, root, MPI_COMM_WORLD);
        st = mpi_status(rc, root < 0 ? "Allgatherv" : "Gatherv");
    }
    if (st == SG_OK && sizes)
        for (int i = 0; i < g_size; i++) sizes[i] = sz[i];
    if (st == SG_OK)
        *all = buf;
    else
        free(buf);
    free(sz);
    free(cnt);
    free(disp);
    return st;
}

void sg_dist_abort(int code, const char *fmt, ...) {
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "saeg: %s\n", msg);
    fflush(stderr);
    if (g_mpi) MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

#else /* one process */

sg_status sg_dist_init(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    /* N copies of a build without MPI would each run the whole job into the same files */
    static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && strtol(v, NULL, 10) > 1)
            return sg_error(SG_ERR_UNSUPPORTED,
                            "started as one of %s processes (%s), but this saeg was built without MPI (SAEG_MPI=OFF "
                            "or no MPI found); every process would run the whole job. Rebuild with MPI "
                            "(openmpi-bin libopenmpi-dev, -DSAEG_MPI=ON) or run one process",
                            v, vars[i]);
    }
    return SG_OK;
}
void sg_dist_finalize(void) {}
sg_status sg_dist_allreduce_f32(float *x, int64_t n) {
    (void)x;
    (void)n;
    return SG_OK;
}
sg_status sg_dist_allreduce_f64(double *x, int64_t n) {
    (void)x;
    (void)n;
    return SG_OK;
}
sg_status sg_dist_allreduce_i64(int64_t *x, int64_t n) {
    (void)x;
    (void)n;
    return SG_OK;
}
sg_status sg_dist_allreduce_max_i64(int64_t *x, int64_t n) {
    (void)x;
    (void)n;
    return SG_OK;
}
sg_status sg_dist_bcast(void *buf, int64_t bytes, int root) {
    (void)buf;
    (void)bytes;
    (void)root;
    return SG_OK;
}
sg_status sg_dist_barrier(void) { return SG_OK; }

static sg_status gather_blobs(const void *mine, int64_t bytes, int root, void **all, int64_t *sizes) {
    return gather_local(mine, bytes, root, all, sizes);
}

void sg_dist_abort(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("saeg: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(code);
}

#endif

sg_status sg_dist_gatherv(const void *mine, int64_t bytes, int root, void **all, int64_t *sizes) {
    return gather_blobs(mine, bytes, root, all, sizes);
}
sg_status sg_dist_allgatherv(const void *mine, int64_t bytes, void **all, int64_t *sizes) {
    return gather_blobs(mine, bytes, -1, all, sizes);
}
