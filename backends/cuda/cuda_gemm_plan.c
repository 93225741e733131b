/* matmul(a, b) as column-major cuBLAS calls (see struct sg_cuda_gemm in cuda_ops.h). Pure host
 * code: tests/backends/test_cuda_gemm_plan.c runs the plans on the CPU against the reference. */
#include <limits.h>
#include <string.h>

#include "cuda_ops.h"

/* One operand of the product as a column-major matrix of rows x cols: element (r, c) at byte
 * offset r * rs + c * cs, elements of es bytes. cuBLAS wants one of the two strides to be one
 * element and the other (the leading dimension) to be at least the row count of the stored
 * matrix. A size-1 dim's stride is free, so it never blocks a layout. */
static bool operand(int64_t rows, int64_t cols, int64_t rs, int64_t cs, int64_t es, bool *trans, int64_t *ld) {
    const int64_t r1 = rows > 1 ? rows : 1, c1 = cols > 1 ? cols : 1;
    /* as stored: unit stride down a column */
    int64_t r = rows == 1 ? es : rs, c = cols == 1 ? r1 * es : cs;
    if (r == es && c % es == 0 && c / es >= r1) {
        *trans = false;
        *ld    = c / es;
        return true;
    }
    /* transposed: stored as cols x rows, unit stride along a row */
    c = cols == 1 ? es : cs;
    r = rows == 1 ? c1 * es : rs;
    if (c == es && r % es == 0 && r / es >= c1) {
        *trans = true;
        *ld    = r / es;
        return true;
    }
    return false;
}

static bool fits_int(int64_t v) { return v >= 0 && v <= INT_MAX; }

bool sg_cuda_gemm_plan(const struct sg_tensor *node, const struct sg_tensor *a, const struct sg_tensor *b,
                       struct sg_cuda_gemm *g) {
    memset(g, 0, sizeof *g);
    const int64_t K = a->ne[0], M = a->ne[1], N = b->ne[0];
    const int64_t es = (int64_t)sizeof(float); /* of C */
    g->bf16          = a->type == SG_TYPE_BF16;
    if (a->type != b->type || (a->type != SG_TYPE_F32 && !g->bf16) || node->type != SG_TYPE_F32) return false;
    const int64_t ei = (int64_t)sg_type_size(a->type); /* of A and B */
    if (!fits_int(M) || !fits_int(N) || !fits_int(K) || M == 0 || N == 0 || K == 0) return false;
    g->m = (int)N;
    g->n = (int)M;
    g->k = (int)K;
    /* cuBLAS A = our b: N x K, element (n, k) at n nb0 + k nb1 */
    if (!operand(N, K, (int64_t)b->nb[0], (int64_t)b->nb[1], ei, &g->trans_a, &g->lda)) return false;
    /* cuBLAS B = our a: K x M, element (k, m) at k nb0 + m nb1 */
    if (!operand(K, M, (int64_t)a->nb[0], (int64_t)a->nb[1], ei, &g->trans_b, &g->ldb)) return false;
    /* C = node: N x M, never transposed */
    bool tc;
    if (!operand(N, M, (int64_t)node->nb[0], (int64_t)node->nb[1], es, &tc, &g->ldc) || tc) return false;
    if (g->ldc < N || !fits_int(g->lda) || !fits_int(g->ldb) || !fits_int(g->ldc)) return false;

    /* Batch dims: the first dim > 1 (and the dims after it that merge with it) become the
     * strided batch, in elements; the rest an outer loop, in bytes. */
    int64_t ne[4] = {0}, sa[4] = {0}, sb[4] = {0}, sc[4] = {0};
    int nd = 0;
    for (int d = 2; d < SG_MAX_DIMS; d++) {
        if (node->ne[d] == 1) continue;
        int64_t xa = a->ne[d] == 1 ? 0 : (int64_t)a->nb[d];
        int64_t xb = b->ne[d] == 1 ? 0 : (int64_t)b->nb[d];
        int64_t xc = (int64_t)node->nb[d];
        if (nd > 0 && xa == sa[nd - 1] * ne[nd - 1] && xb == sb[nd - 1] * ne[nd - 1] && xc == sc[nd - 1] * ne[nd - 1]) {
            ne[nd - 1] *= node->ne[d]; /* continues the previous dim: merge */
            continue;
        }
        ne[nd] = node->ne[d];
        sa[nd] = xa;
        sb[nd] = xb;
        sc[nd] = xc;
        nd++;
    }
    for (int d = 0; d < 4; d++) g->outer_ne[d] = 1;
    g->batch = 1;
    if (nd == 0) return true;
    if (sa[0] % ei || sb[0] % ei || sc[0] % es || !fits_int(ne[0])) return false;
    /* the batch stride of C must keep batches apart (cuBLAS writes them concurrently) */
    if (sc[0] < g->ldc * M * es) return false;
    g->batch    = (int)ne[0];
    g->stride_a = sb[0] / ei; /* cuBLAS A is our b */
    g->stride_b = sa[0] / ei;
    g->stride_c = sc[0] / es;
    for (int d = 1; d < nd; d++) {
        g->outer_ne[d - 1] = ne[d];
        g->outer_a[d - 1]  = sb[d];
        g->outer_b[d - 1]  = sa[d];
        g->outer_c[d - 1]  = sc[d];
    }
    return true;
}
