/* MATMUL: dst[m, n] = sum_k a[m, k] b[k, n] per batch (a [K, M], b [N, K], dst [N, M]; dims
 * 2.. broadcast). LINEAR: the same product, then act(dst + bias) applied by each thread to the
 * tile it has just computed, while the tile is still in its cache (the GEMM epilogue).
 *
 * Large products go to OpenBLAS sgemm, one call per (batch, tile) on each pool thread, with
 * OpenBLAS itself single-threaded. Measured on 2 cores: 2048^3 ran at 230-235 GFLOP/s this way
 * against 237-239 for one multi-threaded cblas_sgemm; but in a graph of 8 (matmul, gelu, add,
 * layer_norm) blocks (2048 x 512), having thread 0 call multi-threaded OpenBLAS while the pool
 * slept took 54-66 ms per run against 50-52 ms, because OpenBLAS's workers keep spinning
 * (sched_yield) for about 100 ms after each call and compete with the pool's next kernels.
 *
 * Operands that sgemm can read in place (rows or columns contiguous: a transposed view is
 * CblasTrans with its leading dimension) are passed as they are; F16/BF16 `a` and views that are
 * neither are first converted to contiguous F32 scratch by all threads. Small products use our
 * own loops, which read any layout directly.
 *
 * A bf16 GEMM (a BF16 operand, see sg_matmul) converts both operands, rounding each element to
 * bf16, in either path: then sgemm's fp32 products are exact and only the accumulation is fp32,
 * as on a tensor core. */
#include <cblas.h>
#include <limits.h>
#include <math.h>

#include "backends/cpu/cpu_ops.h"
#include "backends/cpu/cpu_util.h"

/* Below this many multiply-adds our loops beat sgemm's call and packing overhead, and so they
 * do for a single row (a vector-matrix product). Measured on 2 threads: 16^3 own 0.56 us vs
 * sgemm 0.80 us, 32^3 1.63 vs 1.19 us; 1x512x512 15 vs 29 us; 4x512x512 44 vs 26 us. */
#define SG_CPU_MM_BLAS_MIN_MNK (32 * 32 * 16)

/* Rows of `a` (or b) processed together by the small kernel, and its column block. */
#define SG_CPU_MM_ROWS 4
#define SG_CPU_MM_COLS 256

/* One operand seen as a rows x cols matrix per batch: element (r, c) at r * nb[1] + c * nb[0]. */
struct sg_cpu_mm_operand {
    const struct sg_tensor *t;
    int64_t rows, cols;
    int64_t nbatch; /* the operand's own batches (product of ne[2..]) */
    bool convert;   /* goes through contiguous F32 scratch first */
    bool round;     /* ... rounding each element to bf16 */
    bool trans;     /* stored column-major: pass CblasTrans */
    int64_t ld;     /* leading dimension, in elements */
    size_t offset;  /* of its scratch within wdata */
};

struct sg_cpu_mm_plan {
    int64_t M, N, K, nbatch;
    bool blas;
    struct sg_cpu_mm_operand a, b;
    size_t shared;     /* converted operands */
    size_t per_thread; /* small kernel: SG_CPU_MM_ROWS rows of a */
};

/* LINEAR's epilogue: bias (contiguous, N floats, or NULL) and activation. */
struct sg_cpu_mm_epilogue {
    const float *bias;
    int act; /* enum sg_linear_act */
    float slope;
};

#define SG_CPU_MM_SQRT1_2 0.70710678118654752f

/* y[0..n) = act(y + bias[0..n)); bias already offset to y's first column. */
SG_CPU_CLONES static void sg_cpu_mm_epilogue_row(const struct sg_cpu_mm_epilogue *ep, float *y, const float *bias,
                                                 int64_t n) {
    if (bias)
        for (int64_t j = 0; j < n; j++) y[j] += bias[j];
    switch (ep->act) {
    case SG_LINEAR_RELU:
        for (int64_t j = 0; j < n; j++) y[j] = y[j] < 0.0f ? 0.0f : y[j];
        break;
    case SG_LINEAR_GELU:
        for (int64_t j = 0; j < n; j++) y[j] = 0.5f * y[j] * (1.0f + erff(y[j] * SG_CPU_MM_SQRT1_2));
        break;
    case SG_LINEAR_LEAKY_RELU:
        for (int64_t j = 0; j < n; j++) y[j] = y[j] > 0.0f ? y[j] : ep->slope * y[j];
        break;
    default: break;
    }
}

static int64_t sg_cpu_mm_batches(const struct sg_tensor *t) {
    int64_t n = 1;
    for (int d = 2; d < SG_MAX_DIMS; d++) n *= t->ne[d];
    return n;
}

/* Can sgemm read the operand in place, and how? */
static void sg_cpu_mm_operand_init(struct sg_cpu_mm_operand *o, const struct sg_tensor *t, int64_t rows, int64_t cols) {
    const size_t f = sizeof(float);
    *o             = (struct sg_cpu_mm_operand){.t = t, .rows = rows, .cols = cols, .nbatch = sg_cpu_mm_batches(t)};
    if (t->type == SG_TYPE_F32 && t->nb[0] == f && (rows == 1 || (t->nb[1] % f == 0 && t->nb[1] / f >= (size_t)cols))) {
        o->ld = rows == 1 ? cols : (int64_t)(t->nb[1] / f);
    } else if (t->type == SG_TYPE_F32 && t->nb[1] == f &&
               (cols == 1 || (t->nb[0] % f == 0 && t->nb[0] / f >= (size_t)rows))) {
        o->trans = true;
        o->ld    = cols == 1 ? rows : (int64_t)(t->nb[0] / f);
    } else {
        o->convert = true;
        o->ld      = cols;
    }
    if (o->ld > INT_MAX) {
        o->convert = true;
        o->trans   = false;
        o->ld      = cols;
    }
}

/* Both operands of a bf16 GEMM go through scratch, rounded. */
static void sg_cpu_mm_operand_round(struct sg_cpu_mm_operand *o, const struct sg_tensor *t, int64_t rows,
                                    int64_t cols) {
    *o = (struct sg_cpu_mm_operand){
        .t = t, .rows = rows, .cols = cols, .nbatch = sg_cpu_mm_batches(t), .convert = true, .round = true, .ld = cols};
}

/* Scratch space for the operands that are converted. */
static void sg_cpu_mm_scratch(struct sg_cpu_mm_plan *pl) {
    if (pl->a.convert) {
        pl->a.offset = pl->shared;
        pl->shared += sg_cpu_align_up((size_t)(pl->M * pl->K * pl->a.nbatch) * sizeof(float));
    }
    if (pl->b.convert) {
        pl->b.offset = pl->shared;
        pl->shared += sg_cpu_align_up((size_t)(pl->K * pl->N * pl->b.nbatch) * sizeof(float));
    }
}

static struct sg_cpu_mm_plan sg_cpu_mm_plan_make(const struct sg_tensor *dst) {
    const struct sg_tensor *a = dst->src[0], *b = dst->src[1];
    const bool bf16          = sg_matmul_is_bf16(dst);
    struct sg_cpu_mm_plan pl = {.M = a->ne[1], .N = b->ne[0], .K = a->ne[0], .nbatch = sg_cpu_mm_batches(dst)};
    double mnk               = (double)pl.M * (double)pl.N * (double)pl.K;
    bool dst_ok              = dst->nb[0] == sizeof(float) &&
                  (pl.M == 1 || (dst->nb[1] % sizeof(float) == 0 && dst->nb[1] / sizeof(float) >= (size_t)pl.N &&
                                 dst->nb[1] / sizeof(float) <= INT_MAX));
    pl.blas = dst_ok && mnk >= SG_CPU_MM_BLAS_MIN_MNK && pl.M > 1 && pl.N > 1 && pl.M <= INT_MAX && pl.N <= INT_MAX &&
              pl.K <= INT_MAX;
    if (bf16) {
        sg_cpu_mm_operand_round(&pl.a, a, pl.M, pl.K);
        sg_cpu_mm_operand_round(&pl.b, b, pl.K, pl.N);
    } else if (pl.blas) {
        sg_cpu_mm_operand_init(&pl.a, a, pl.M, pl.K);
        sg_cpu_mm_operand_init(&pl.b, b, pl.K, pl.N);
    }
    sg_cpu_mm_scratch(&pl);
    if (!pl.blas && !bf16) pl.per_thread = sg_cpu_align_up(SG_CPU_MM_ROWS * (size_t)pl.K * sizeof(float));
    return pl;
}

size_t sg_cpu_matmul_work_size(const struct sg_tensor *node, int nth) {
    struct sg_cpu_mm_plan pl = sg_cpu_mm_plan_make(node);
    return pl.shared + (size_t)nth * pl.per_thread;
}

/* Byte offset of batch `bi` (dst's linear batch index) in t, broadcasting dims of 1. */
static size_t sg_cpu_mm_batch_offset(const struct sg_tensor *t, const struct sg_tensor *dst, int64_t bi) {
    size_t off = 0;
    for (int d = 2; d < SG_MAX_DIMS; d++) {
        int64_t i = bi % dst->ne[d];
        bi /= dst->ne[d];
        if (t->ne[d] > 1) off += (size_t)i * t->nb[d];
    }
    return off;
}

/* Index of batch `bi` of dst among t's own batches (for converted scratch). */
static int64_t sg_cpu_mm_batch_index(const struct sg_tensor *t, const struct sg_tensor *dst, int64_t bi) {
    int64_t idx = 0, stride = 1;
    for (int d = 2; d < SG_MAX_DIMS; d++) {
        int64_t i = bi % dst->ne[d];
        bi /= dst->ne[d];
        if (t->ne[d] > 1) idx += i * stride;
        stride *= t->ne[d];
    }
    return idx;
}

/* All threads convert the operand's rows (every batch) into contiguous F32. */
static void sg_cpu_mm_convert(const struct sg_cpu_params *p, const struct sg_cpu_mm_operand *o) {
    const struct sg_tensor *t = o->t;
    float *out                = (float *)((char *)p->wdata + o->offset);
    int64_t nrows             = o->rows * o->nbatch;
    int64_t r0, r1;
    sg_cpu_range(nrows, p->ith, p->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        int64_t row = r % o->rows, bat = r / o->rows;
        size_t off  = (size_t)row * t->nb[1];
        int64_t rem = bat;
        for (int d = 2; d < SG_MAX_DIMS; d++) {
            off += (size_t)(rem % t->ne[d]) * t->nb[d];
            rem /= t->ne[d];
        }
        float *dst = out + r * o->cols;
        sg_cpu_load_row(t->type, (const char *)t->data + off, t->nb[0], o->cols, dst);
        if (o->round && t->type != SG_TYPE_BF16)
            for (int64_t c = 0; c < o->cols; c++) dst[c] = sg_cpu_bf16_to_f32(sg_cpu_f32_to_bf16(dst[c]));
    }
}

static const float *sg_cpu_mm_operand_ptr(const struct sg_cpu_params *p, const struct sg_cpu_mm_operand *o,
                                          const struct sg_tensor *dst, int64_t bi) {
    if (o->convert)
        return (const float *)((char *)p->wdata + o->offset) + sg_cpu_mm_batch_index(o->t, dst, bi) * o->rows * o->cols;
    return (const float *)((const char *)o->t->data + sg_cpu_mm_batch_offset(o->t, dst, bi));
}

static int64_t sg_cpu_gcd(int64_t x, int64_t y) {
    while (y) {
        int64_t t = x % y;
        x         = y;
        y         = t;
    }
    return x;
}

/* Splits each batch into tiles so that every thread gets the same number of (batch, tile)
 * units; the tile grid tm x tn minimizes the panel rows+columns each sgemm packs. */
static void sg_cpu_mm_blas(const struct sg_cpu_params *p, struct sg_tensor *dst, const struct sg_cpu_mm_plan *pl,
                           const struct sg_cpu_mm_epilogue *ep) {
    int64_t tiles = pl->nbatch >= 8 * (int64_t)p->nth ? 1 : p->nth / sg_cpu_gcd(pl->nbatch, p->nth);
    int64_t tm = 1, best = INT64_MAX;
    for (int64_t d = 1; d <= tiles; d++) {
        if (tiles % d) continue;
        int64_t cost = (pl->M + d - 1) / d + (pl->N + tiles / d - 1) / (tiles / d);
        if (cost < best) best = cost, tm = d;
    }
    int64_t tn = tiles / tm;
    int64_t u0, u1;
    sg_cpu_range(pl->nbatch * tiles, p->ith, p->nth, &u0, &u1);
    int ldc = pl->M == 1 ? (int)pl->N : (int)(dst->nb[1] / sizeof(float));
    for (int64_t u = u0; u < u1; u++) {
        int64_t bi = u / tiles, t = u % tiles;
        int64_t m0, m1, n0, n1;
        sg_cpu_range(pl->M, (int)(t / tn), (int)tm, &m0, &m1);
        sg_cpu_range(pl->N, (int)(t % tn), (int)tn, &n0, &n1);
        if (m0 >= m1 || n0 >= n1) continue;
        const float *A = sg_cpu_mm_operand_ptr(p, &pl->a, dst, bi);
        const float *B = sg_cpu_mm_operand_ptr(p, &pl->b, dst, bi);
        float *C       = (float *)((char *)dst->data + sg_cpu_mm_batch_offset(dst, dst, bi));
        /* rows m0.. of A and columns n0.. of B, whichever way each is stored */
        A += pl->a.trans ? m0 : m0 * pl->a.ld;
        B += pl->b.trans ? n0 * pl->b.ld : n0;
        C += m0 * ldc + n0;
        cblas_sgemm(CblasRowMajor, pl->a.trans ? CblasTrans : CblasNoTrans, pl->b.trans ? CblasTrans : CblasNoTrans,
                    (int)(m1 - m0), (int)(n1 - n0), (int)pl->K, 1.0f, A, (int)pl->a.ld, B, (int)pl->b.ld, 0.0f, C, ldc);
        if (ep)
            for (int64_t m = m0; m < m1; m++)
                sg_cpu_mm_epilogue_row(ep, C + (m - m0) * ldc, ep->bias ? ep->bias + n0 : NULL, n1 - n0);
    }
}

/* ---- small products: our own loops over any layout ---------------------------------------- */

/* c[i][0..n) += sum_k a_i[k] * b[k][n0 + ...] for `rows` rows, b rows contiguous. */
SG_CPU_CLONES static void sg_cpu_mm_axpy_rows(int rows, const float *const arow[SG_CPU_MM_ROWS], const char *b,
                                              size_t nb1, int64_t K, int64_t n0, int64_t n, float *acc) {
    memset(acc, 0, (size_t)rows * SG_CPU_MM_COLS * sizeof(float));
    for (int64_t k = 0; k < K; k++) {
        const float *bk = (const float *)(b + (size_t)k * nb1) + n0;
        for (int i = 0; i < rows; i++) {
            float av  = arow[i][k];
            float *ci = acc + i * SG_CPU_MM_COLS;
            for (int64_t j = 0; j < n; j++) ci[j] += av * bk[j];
        }
    }
}

SG_CPU_CLONES static float sg_cpu_mm_dot(const float *x, const float *y, int64_t n) { return sg_cpu_dot_f32(n, x, y); }

/* Units of (batch, SG_CPU_MM_ROWS rows, SG_CPU_MM_COLS columns), so a single long row is still
 * shared between threads. */
static void sg_cpu_mm_small(const struct sg_cpu_params *p, struct sg_tensor *dst, const struct sg_cpu_mm_plan *pl,
                            const struct sg_cpu_mm_epilogue *ep) {
    const struct sg_tensor *a = dst->src[0], *b = dst->src[1];
    float *abuf = pl->a.convert ? NULL : sg_cpu_thread_scratch(p, pl->per_thread);
    /* b as read: the tensor, or its rounded contiguous copy (bf16) */
    const size_t bnb0 = pl->b.convert ? sizeof(float) : b->nb[0];
    const size_t bnb1 = pl->b.convert ? (size_t)pl->N * sizeof(float) : b->nb[1];
    float acc[SG_CPU_MM_ROWS * SG_CPU_MM_COLS];
    int64_t mblocks = (pl->M + SG_CPU_MM_ROWS - 1) / SG_CPU_MM_ROWS;
    int64_t nblocks = (pl->N + SG_CPU_MM_COLS - 1) / SG_CPU_MM_COLS;
    /* b's columns contiguous over k (a transposed view, or one column): dot products */
    bool dots = bnb1 == sizeof(float) && (bnb0 != sizeof(float) || pl->N == 1);
    int64_t u0, u1, loaded = -1;
    const float *arow[SG_CPU_MM_ROWS];
    int rows = 0;
    sg_cpu_range(pl->nbatch * mblocks * nblocks, p->ith, p->nth, &u0, &u1);
    for (int64_t u = u0; u < u1; u++) {
        int64_t nb = u % nblocks, mb = u / nblocks; /* mb: batch * mblocks + row block */
        int64_t bi     = mb / mblocks;
        int64_t m0     = (mb % mblocks) * SG_CPU_MM_ROWS;
        int64_t n0     = nb * SG_CPU_MM_COLS;
        int64_t n      = pl->N - n0 < SG_CPU_MM_COLS ? pl->N - n0 : SG_CPU_MM_COLS;
        const char *bb = pl->b.convert ? (const char *)sg_cpu_mm_operand_ptr(p, &pl->b, dst, bi)
                                       : (const char *)b->data + sg_cpu_mm_batch_offset(b, dst, bi);
        char *db       = (char *)dst->data + sg_cpu_mm_batch_offset(dst, dst, bi);
        if (mb != loaded) {
            const char *ab = (const char *)a->data + sg_cpu_mm_batch_offset(a, dst, bi);
            rows           = (int)(pl->M - m0 < SG_CPU_MM_ROWS ? pl->M - m0 : SG_CPU_MM_ROWS);
            for (int i = 0; i < rows; i++) {
                const char *src = ab + (size_t)(m0 + i) * a->nb[1];
                if (pl->a.convert) {
                    arow[i] = sg_cpu_mm_operand_ptr(p, &pl->a, dst, bi) + (m0 + i) * pl->K;
                } else if (a->type == SG_TYPE_F32 && a->nb[0] == sizeof(float)) {
                    arow[i] = (const float *)src;
                } else {
                    sg_cpu_load_row(a->type, src, a->nb[0], pl->K, abuf + i * pl->K);
                    arow[i] = abuf + i * pl->K;
                }
            }
            loaded = mb;
        }
        if (dots) {
            for (int i = 0; i < rows; i++)
                for (int64_t j = 0; j < n; j++)
                    acc[i * SG_CPU_MM_COLS + j] =
                        sg_cpu_mm_dot(arow[i], (const float *)(bb + (size_t)(n0 + j) * bnb0), pl->K);
        } else if (bnb0 == sizeof(float)) {
            sg_cpu_mm_axpy_rows(rows, arow, bb, bnb1, pl->K, n0, n, acc);
        } else {
            for (int i = 0; i < rows; i++)
                for (int64_t j = 0; j < n; j++) {
                    float s = 0.0f;
                    for (int64_t k = 0; k < pl->K; k++)
                        s += arow[i][k] * *(const float *)(bb + (size_t)k * bnb1 + (size_t)(n0 + j) * bnb0);
                    acc[i * SG_CPU_MM_COLS + j] = s;
                }
        }
        for (int i = 0; ep && i < rows; i++)
            sg_cpu_mm_epilogue_row(ep, acc + i * SG_CPU_MM_COLS, ep->bias ? ep->bias + n0 : NULL, n);
        for (int i = 0; i < rows; i++)
            sg_cpu_scatter_f32(acc + i * SG_CPU_MM_COLS, n,
                               db + (size_t)(m0 + i) * dst->nb[1] + (size_t)n0 * dst->nb[0], dst->nb[0]);
    }
}

static void sg_cpu_mm_run(const struct sg_cpu_params *p, struct sg_tensor *dst, const struct sg_cpu_mm_epilogue *ep) {
    struct sg_cpu_mm_plan pl = sg_cpu_mm_plan_make(dst);
    if (pl.a.convert) sg_cpu_mm_convert(p, &pl.a);
    if (pl.b.convert) sg_cpu_mm_convert(p, &pl.b);
    if (!pl.blas) {
        if (pl.a.convert || pl.b.convert) sg_cpu_barrier(p);
        sg_cpu_mm_small(p, dst, &pl, ep);
        return;
    }
    /* each pool thread makes its own single-threaded sgemm calls (see the top of this file);
     * set here rather than once because other code in the process may change it */
    if (p->ith == 0 && openblas_get_num_threads() != 1) openblas_set_num_threads(1);
    sg_cpu_barrier(p);
    sg_cpu_mm_blas(p, dst, &pl, ep);
}

void sg_cpu_matmul_compute(const struct sg_cpu_params *p, struct sg_tensor *dst) { sg_cpu_mm_run(p, dst, NULL); }

/* After the product's scratch, one slot per thread for a strided bias gathered contiguous. */
size_t sg_cpu_linear_work_size(const struct sg_tensor *node, int nth) {
    return sg_cpu_align_up(sg_cpu_matmul_work_size(node, nth)) +
           (size_t)nth * sg_cpu_align_up((size_t)node->ne[0] * sizeof(float));
}

void sg_cpu_linear_compute(const struct sg_cpu_params *p, struct sg_tensor *dst) {
    const struct sg_tensor *bias = dst->src[2];
    struct sg_cpu_mm_epilogue ep = {.act = sg_get_param_i32(dst, 0), .slope = sg_get_param_f32(dst, 1)};
    if (bias && bias->nb[0] == sizeof(float)) {
        ep.bias = (const float *)bias->data;
    } else if (bias) {
        size_t base = sg_cpu_align_up(sg_cpu_matmul_work_size(dst, p->nth));
        float *tmp  = (float *)((char *)p->wdata + base + (size_t)p->ith * sg_cpu_align_up((size_t)dst->ne[0] * 4));
        sg_cpu_gather_f32(bias->data, bias->nb[0], dst->ne[0], tmp);
        ep.bias = tmp;
    }
    sg_cpu_mm_run(p, dst, &ep);
}
