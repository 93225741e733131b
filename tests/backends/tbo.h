/* test-backend-ops: shared declarations.
 *
 * The program checks every op on every backend against the CPU reference kernels. It is split
 * by job:
 *   test-backend-ops.c   command line, devices, the four modes, summaries
 *   tbo_build.c          the case table, the graph builder (inputs, views, guards), input data
 *   tbo_check.c          test mode: run on a device and on the reference, compare, sentinels
 *   tbo_grad.c           grad mode: analytic gradients against finite differences
 *   tbo_perf.c           perf and support modes
 *   tbo_cases_*.c        the cases, one builder and one parameter table per op family
 *                        (tbo_cases_fused.c: fused ops, and in perf the op sequences they replace)
 *
 * A case is a builder that records a small graph (usually one op fed by inputs and views of
 * inputs) plus its tolerances. The same builder runs in every mode: test builds it twice (device
 * and reference), grad adds a loss and autodiff, perf times it.
 *
 * Adding a case: in the family's tbo_cases_*.c, call its add_<family>() with the shape and the
 * modes (TBO_TEST, TBO_GRAD, TBO_PERF). A new op needs a parameter struct, a builder that creates
 * inputs with tbo_input/tbo_param/tbo_input_view and wraps each op result in tbo_node, and an
 * add function; test and grad mode fail while an op has no case.
 */
#ifndef TBO_H
#define TBO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/backend.h"
#include "core/graph.h"
#include "core/ops.h"

/* ---- modes a case takes part in -------------------------------------------------------- */

enum tbo_mode {
    TBO_TEST = 1 << 0,
    TBO_GRAD = 1 << 1,
    TBO_PERF = 1 << 2,
};

/* ---- input data ------------------------------------------------------------------------ */

enum tbo_fill_kind {
    TBO_FILL_UNIFORM,   /* uniform in [lo, hi) */
    TBO_FILL_AWAY,      /* uniform in [lo, hi), nudged at least `margin` away from k[0..n_k) */
    TBO_FILL_KINKS,     /* uniform in [lo, hi), one element in four exactly one of k[0..n_k) */
    TBO_FILL_INDEX,     /* integers uniform in [lo, hi) */
    TBO_FILL_INDEX_OOR, /* integers in [0, hi), one in six out of range (negative, hi, INT32_MAX...) */
    TBO_FILL_TIES,      /* values from {-1, -0, 0, 0.5, 2}, so rows are full of ties (top_k) */
    TBO_FILL_SPECIAL,   /* casts: f16/bf16 edge values (overflow, subnormals, halfway cases) */
    TBO_FILL_NEG_INF,   /* uniform in [lo, hi), one element in five -inf (masked logits) */
    TBO_FILL_MASK,      /* attention key mask I32 [Sk, B]: a different pattern per batch */
    TBO_FILL_ADAM,      /* Adam hyper-parameters; lo is the clip norm (0: off) */
    TBO_FILL_CONST,     /* every element lo */
};

struct tbo_fill {
    enum tbo_fill_kind kind;
    double lo, hi;
    double k[3]; /* AWAY and KINKS points */
    int n_k;
    double margin; /* AWAY */
};

static inline struct tbo_fill tbo_uniform(double lo, double hi) {
    return (struct tbo_fill){.kind = TBO_FILL_UNIFORM, .lo = lo, .hi = hi};
}
/* Inputs of ops with kinks or poles (relu at 0, clamp at its bounds, 1/x at 0): finite
 * differences across a kink are meaningless, so grad cases keep inputs `margin` away. */
static inline struct tbo_fill tbo_away(double lo, double hi, double k0, double k1, int n_k, double margin) {
    return (struct tbo_fill){.kind = TBO_FILL_AWAY, .lo = lo, .hi = hi, .k = {k0, k1}, .n_k = n_k, .margin = margin};
}
static inline struct tbo_fill tbo_kinks(double lo, double hi, double k0, double k1, double k2, int n_k) {
    return (struct tbo_fill){.kind = TBO_FILL_KINKS, .lo = lo, .hi = hi, .k = {k0, k1, k2}, .n_k = n_k};
}
static inline struct tbo_fill tbo_index(int64_t lo, int64_t hi) {
    return (struct tbo_fill){.kind = TBO_FILL_INDEX, .lo = (double)lo, .hi = (double)hi};
}
static inline struct tbo_fill tbo_index_oor(int64_t n) {
    return (struct tbo_fill){.kind = TBO_FILL_INDEX_OOR, .hi = (double)n};
}
static inline struct tbo_fill tbo_fill_of(enum tbo_fill_kind kind, double lo, double hi) {
    return (struct tbo_fill){.kind = kind, .lo = lo, .hi = hi};
}

/* ---- building a case's graph ----------------------------------------------------------- */

/* How an input is laid out in memory. Kernels must honour strides, so every family takes some
 * of its inputs as views. */
enum tbo_layout {
    TBO_CONT = 0, /* contiguous */
    TBO_TRANS,    /* a transposed view of a contiguous tensor (dims 0 and 1 swapped) */
    TBO_PERM,     /* a permuted view: dims 0,1,2 of the base rotated (falls back to TRANS below rank 3) */
    TBO_STRIDED,  /* a slice: rows padded by 3 elements and starting 2 elements in */
    TBO_N_LAYOUTS
};
extern const char *const tbo_layout_names[TBO_N_LAYOUTS];

struct tbo_builder {
    struct sg_ctx *ctx;
    unsigned mode;          /* the one mode being built for */
    struct tbo_fill *fills; /* by tensor id; kind of leafs the builder created */
    bool *is_input;         /* by tensor id */
    int cap;
};

/* A new input (a leaf with data) of the given shape, followed by a guard tensor in test mode. */
struct sg_tensor *tbo_input(struct tbo_builder *b, enum sg_type type, int n_dims, const int64_t *ne,
                            struct tbo_fill fill);
/* The same, marked as a parameter in grad mode: its gradient is checked. */
struct sg_tensor *tbo_param(struct tbo_builder *b, enum sg_type type, int n_dims, const int64_t *ne,
                            struct tbo_fill fill);
/* An input seen through a view of the given layout; the returned view has shape ne. */
struct sg_tensor *tbo_input_view(struct tbo_builder *b, enum sg_type type, int n_dims, const int64_t *ne,
                                 enum tbo_layout layout, struct tbo_fill fill, bool param);
/* Records an op result: adds a guard right after it (it is the last tensor created) so that a
 * write past its end lands in the guard. Returns t. */
struct sg_tensor *tbo_node(struct tbo_builder *b, struct sg_tensor *t);

/* Builders return the tensor a case is about (perf times its graph; grad differentiates it).
 * Targets of in-place ops (cpy, adam_step) are flagged with sg_set_output so test compares them. */
typedef struct sg_tensor *(*tbo_build_fn)(struct tbo_builder *b, const void *params);

/* ---- cases ------------------------------------------------------------------------------ */

enum tbo_cmp {
    TBO_CMP_NMSE = 0, /* floats: NMSE against max_nmse, NaN/Inf must match the reference */
    TBO_CMP_EXACT,    /* integers and bit-exact copies */
    TBO_CMP_TOP_K,    /* exact indices; a mismatch is diagnosed as tie order or wrong selection */
};

struct tbo_case {
    int op; /* the op under test: -o filters on it, support reports it */
    unsigned modes;
    char name[192]; /* "matmul(m=64,n=33,k=17,a=f16,transA=1)" */
    tbo_build_fn build;
    void *params; /* owned copy of the family's parameter struct */
    enum tbo_cmp cmp;
    double max_nmse;     /* test: default 1e-7 */
    const char *why;     /* reason for a looser tolerance, printed with -v */
    double max_grad_err; /* grad: mean absolute asymmetric error, default 1e-4 */
    double grad_eps;     /* grad: finite-difference step (a power of two) */
};

struct tbo_case_list {
    struct tbo_case *v;
    int n, cap;
};

/* Appends a case; params (size bytes) are copied. The name is printf-formatted. Returns the
 * new case so the caller can adjust tolerances (valid until the next add). */
struct tbo_case *tbo_add(struct tbo_case_list *l, int op, unsigned modes, tbo_build_fn build, const void *params,
                         size_t size, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
void tbo_cases_free(struct tbo_case_list *l);

/* Case tables, one per family file. */
void tbo_cases_elementwise(struct tbo_case_list *l);
void tbo_cases_nn(struct tbo_case_list *l);
void tbo_cases_sparse(struct tbo_case_list *l);
void tbo_cases_fused(struct tbo_case_list *l);

/* ---- running ---------------------------------------------------------------------------- */

struct tbo_device {
    struct sg_device *dev;
    struct sg_stream *stream;
    const char *name;
    int n_ok, n_fail, n_unsupported, n_skipped;
    bool lacks[SG_OP_COUNT]; /* ops supports_op rejected in some case */
};

struct tbo_env {
    struct sg_stream *ref; /* CPU stream in reference mode: the oracle */
    bool verbose;
    int threads;
};

enum tbo_result { TBO_OK, TBO_FAIL, TBO_UNSUPPORTED, TBO_SKIP };

/* Builds the case in a fresh context for `mode`: returns the main tensor and its graph, or NULL
 * with the reason in err. */
struct sg_tensor *tbo_build(const struct tbo_case *c, unsigned mode, struct tbo_builder *b, struct sg_graph **g,
                            char *err, size_t err_size);
void tbo_builder_free(struct tbo_builder *b);
/* Whether the device supports every node of g; the first op it rejects goes to *op. */
bool tbo_graph_supported(const struct sg_device *dev, const struct sg_graph *g, int *op);
/* Deterministic input data for leaf t (host layout: contiguous, t's type). */
void tbo_fill_host(const struct sg_tensor *t, const struct tbo_fill *f, uint64_t seed, void *host, bool grad);
bool tbo_is_guard(const struct sg_tensor *t);
/* Fills every input leaf of b's context; host copies go to *copies (one per tensor id, NULL for
 * non-inputs) when copies is non-NULL. */
sg_status tbo_fill_inputs(struct tbo_builder *b, uint64_t seed, void ***copies);
void tbo_free_copies(void **copies, int n);

/* Reads any tensor (any strides and type) into doubles in logical order. */
sg_status tbo_read(const struct sg_tensor *t, double *out);

enum tbo_result tbo_run_test(struct tbo_env *env, struct tbo_device *d, const struct tbo_case *c, uint64_t seed,
                             char *msg, size_t msg_size);
enum tbo_result tbo_run_grad(struct tbo_env *env, struct tbo_device *d, const struct tbo_case *c, uint64_t seed,
                             char *msg, size_t msg_size);
enum tbo_result tbo_run_perf(struct tbo_env *env, struct tbo_device *d, const struct tbo_case *c, uint64_t seed,
                             char *msg, size_t msg_size);

/* ---- small helpers ---------------------------------------------------------------------- */

/* splitmix64: a seed per (case, tensor) keeps data identical across the two builds. */
static inline uint64_t tbo_mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}
static inline double tbo_rand01(uint64_t *s) {
    *s = tbo_mix(*s);
    return (double)(*s >> 11) * (1.0 / 9007199254740992.0);
}

double tbo_now(void); /* seconds, monotonic */
/* "10x5x4x3" (the first nd dims of ne) into buf; returns buf. */
const char *tbo_dims(char *buf, size_t size, int nd, const int64_t *ne);
/* Rank of ne: dims up to the last one > 1 (at least 1). */
int tbo_rank(const int64_t *ne, int max_dims);

#endif
