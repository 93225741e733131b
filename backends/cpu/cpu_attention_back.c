/* ATTENTION_BACK: gradients of sg_attention packed as contiguous [dq | dk | dv].
 *
 * With P = softmax(S), S = scale q k^T (masked), O = P v, per (batch, head):
 *   pass 1, per query block: the forward pass again (online softmax) gives each query's row
 *           maximum m, sum l and D = dO . O;
 *   pass 2, per key block and then query block: P = exp(S - m) / l, dP = dO v^T,
 *           dS = P (dP - D); dv += P^T dO, dk += scale dS^T q, dq += scale dS k.
 * Threads own whole (batch, head) pairs, so every gradient element is summed by one thread in
 * a fixed order: results do not depend on timing. Memory: O(block^2 + Sq) per thread. */
#include "backends/cpu/cpu_attention.h"
#include "backends/cpu/cpu_ops.h"

/* Per-thread scratch; widths padded (Dp, Dvp), rows of key blocks BK, of query blocks BQ. */
struct sg_cpu_attn_bwd {
    float *q, *dout, *o;   /* BQ x Dp (pre-scaled), BQ x Dvp, BQ x Dvp (pass 1) */
    float *kt, *krow, *vt; /* Dp x BK, BK x Dp, Dvp x BK */
    float *vrow;           /* BK x Dvp (pass 1) */
    float *dk, *dv;        /* BK x Dp, BK x Dvp: the key block's gradients */
    float *dq;             /* 4 x Dp */
    float *mb, *lb;        /* BQ: pass 1 state of the query block */
    float *m, *l, *dsum;   /* Sq: per query */
    int32_t *codes;        /* BK */
};

static size_t sg_cpu_attn_bwd_floats(const struct sg_cpu_attn *a) {
    int64_t BQ = SG_CPU_ATTN_BQ, BK = SG_CPU_ATTN_BK;
    return (size_t)(BQ * (a->Dp + 2 * a->Dvp) + 3 * BK * a->Dp + 3 * BK * a->Dvp + 4 * a->Dp + 2 * BQ + 3 * a->Sq + BK);
}

size_t sg_cpu_attention_back_work_size(const struct sg_tensor *node, int nth) {
    struct sg_cpu_attn a = sg_cpu_attn_make(node);
    return (size_t)nth * sg_cpu_align_up(sg_cpu_attn_bwd_floats(&a) * sizeof(float));
}

static struct sg_cpu_attn_bwd sg_cpu_attn_bwd_scratch(const struct sg_cpu_params *p, const struct sg_cpu_attn *a) {
    int64_t BQ = SG_CPU_ATTN_BQ, BK = SG_CPU_ATTN_BK;
    struct sg_cpu_attn_bwd s;
    s.q     = sg_cpu_thread_scratch(p, sg_cpu_attn_bwd_floats(a) * sizeof(float));
    s.dout  = s.q + BQ * a->Dp;
    s.o     = s.dout + BQ * a->Dvp;
    s.kt    = s.o + BQ * a->Dvp;
    s.krow  = s.kt + a->Dp * BK;
    s.vt    = s.krow + BK * a->Dp;
    s.vrow  = s.vt + a->Dvp * BK;
    s.dk    = s.vrow + BK * a->Dvp;
    s.dv    = s.dk + BK * a->Dp;
    s.dq    = s.dv + BK * a->Dvp;
    s.mb    = s.dq + 4 * a->Dp;
    s.lb    = s.mb + BQ;
    s.m     = s.lb + BQ;
    s.l     = s.m + a->Sq;
    s.dsum  = s.l + a->Sq;
    s.codes = (int32_t *)(s.dsum + a->Sq);
    return s;
}

/* acc_j += sum_r p[r][j] x_r for the BK rows acc_j (width W) and 4 rows x (stride W). */
SG_CPU_INLINE void sg_cpu_attn_outer4(const float p[4][SG_CPU_ATTN_BK], const float *x, int64_t W, float *acc) {
    for (int64_t c = 0; c < W; c += SG_CPU_ATTN_V) {
        sg_cpu_v16 x0, x1, x2, x3;
        SG_CPU_V16_LOAD(x0, x + c);
        SG_CPU_V16_LOAD(x1, x + W + c);
        SG_CPU_V16_LOAD(x2, x + 2 * W + c);
        SG_CPU_V16_LOAD(x3, x + 3 * W + c);
        for (int j = 0; j < SG_CPU_ATTN_BK; j++) {
            sg_cpu_v16 a;
            SG_CPU_V16_LOAD(a, acc + j * W + c);
            a += p[0][j] * x0 + p[1][j] * x1 + p[2][j] * x2 + p[3][j] * x3;
            SG_CPU_V16_STORE(acc + j * W + c, a);
        }
    }
}

/* Pass 1 for the loaded key block and the query block's nq queries. */
SG_CPU_CLONES static void sg_cpu_attn_bwd_stats(const struct sg_cpu_attn *a, const struct sg_cpu_attn_bwd *w,
                                                int64_t nq, int64_t i0, int64_t nk, int64_t j0, bool all_visible) {
    for (int64_t r = 0; r < nq; r += 4)
        sg_cpu_attn_online4(w->q + r * a->Dp, a->Dp, w->kt, w->vrow, a->Dvp, w->codes, all_visible, nk, i0 + r, j0,
                            w->mb + r, w->lb + r, w->o + r * a->Dvp);
}

/* Pass 2 for the loaded key block and the query block's nq queries: dk and dv of the key block
 * accumulate in scratch, dq straight into dst's rows (stride sq floats). */
SG_CPU_CLONES static void sg_cpu_attn_bwd_grads(const struct sg_cpu_attn *a, const struct sg_cpu_attn_bwd *w,
                                                int64_t nq, int64_t i0, int64_t nk, int64_t j0, bool all_visible,
                                                float *dq_dst) {
    const int64_t sq = a->D * a->H;
    for (int64_t r0 = 0; r0 < nq; r0 += 4) {
        float p[4][SG_CPU_ATTN_BK], ds[4][SG_CPU_ATTN_BK];
        sg_cpu_attn_dots4(w->q + r0 * a->Dp, a->Dp, w->kt, a->Dp, p);
        sg_cpu_attn_mask4(p, w->codes, all_visible, nk, i0 + r0, j0);
        sg_cpu_attn_dots4(w->dout + r0 * a->Dvp, a->Dvp, w->vt, a->Dvp, ds);
        for (int r = 0; r < 4; r++) {
            /* rows past the block, or that see no key at all, get P = 0 */
            bool live = r0 + r < nq && w->l[i0 + r0 + r] > 0.0f;
            float m = live ? w->m[i0 + r0 + r] : 0.0f, inv = live ? 1.0f / w->l[i0 + r0 + r] : 0.0f;
            float dsum = live ? w->dsum[i0 + r0 + r] : 0.0f;
            for (int j = 0; j < SG_CPU_ATTN_BK; j++) {
                p[r][j]  = sg_cpu_expf(p[r][j] - m) * inv;
                ds[r][j] = p[r][j] * (ds[r][j] - dsum);
            }
        }
        sg_cpu_attn_outer4((const float(*)[SG_CPU_ATTN_BK])p, w->dout + r0 * a->Dvp, a->Dvp, w->dv);
        sg_cpu_attn_outer4((const float(*)[SG_CPU_ATTN_BK])ds, w->q + r0 * a->Dp, a->Dp, w->dk); /* q carries scale */
        memset(w->dq, 0, (size_t)(4 * a->Dp) * sizeof(float));
        sg_cpu_attn_mix4((const float(*)[SG_CPU_ATTN_BK])ds, w->krow, a->Dp, w->dq);
        for (int r = 0; r < 4 && r0 + r < nq; r++) {
            float *row = dq_dst + (i0 + r0 + r) * sq;
            for (int64_t d = 0; d < a->D; d++) row[d] += a->scale * w->dq[r * a->Dp + d];
        }
    }
}

/* D_i = dO_i . O_i / l_i for the query block, and its m and l, into the per-query arrays. */
SG_CPU_CLONES static void sg_cpu_attn_bwd_finish_stats(const struct sg_cpu_attn *a, const struct sg_cpu_attn_bwd *w,
                                                       int64_t nq, int64_t i0) {
    for (int64_t i = 0; i < nq; i++) {
        float l         = w->lb[i];
        w->m[i0 + i]    = w->mb[i];
        w->l[i0 + i]    = l;
        w->dsum[i0 + i] = l > 0.0f ? sg_cpu_dot_f32(a->Dvp, w->dout + i * a->Dvp, w->o + i * a->Dvp) / l : 0.0f;
    }
}

/* Loads the mask codes of key block j0; false when no query can see any of its keys. */
static bool sg_cpu_attn_bwd_mask(const struct sg_cpu_attn *a, const struct sg_cpu_attn_bwd *w, int64_t b, int64_t j0,
                                 int64_t nk, bool *all_visible) {
    *all_visible = sg_cpu_attn_load_mask(a, b, j0, nk, w->codes);
    return *all_visible || sg_cpu_attn_any_visible(w->codes, nk);
}

void sg_cpu_attention_back_compute(const struct sg_cpu_params *p, struct sg_tensor *dst) {
    struct sg_cpu_attn a         = sg_cpu_attn_make(dst);
    const struct sg_tensor *dout = dst->src[4];
    struct sg_cpu_attn_bwd w     = sg_cpu_attn_bwd_scratch(p, &a);
    const int64_t BQ = SG_CPU_ATTN_BQ, BK = SG_CPU_ATTN_BK;
    float *dq0 = dst->data;
    float *dk0 = dq0 + sg_nelements(a.q);
    float *dv0 = dk0 + sg_nelements(a.k);
    int64_t u0, u1;
    sg_cpu_range(a.B * a.H, p->ith, p->nth, &u0, &u1);
    for (int64_t u = u0; u < u1; u++) {
        int64_t h = u % a.H, b = u / a.H;
        /* this (b, h)'s first rows in the packed output; rows of one head are H rows apart */
        float *dq = dq0 + (b * a.Sq * a.H + h) * a.D;
        float *dk = dk0 + (b * a.Sk * a.H + h) * a.D;
        float *dv = dv0 + (b * a.Sk * a.H + h) * a.Dv;
        bool all_visible;

        for (int64_t i0 = 0; i0 < a.Sq; i0 += BQ) {
            int64_t nq = a.Sq - i0 < BQ ? a.Sq - i0 : BQ;
            sg_cpu_attn_load_rows(a.q, h, b, i0, nq, BQ, a.Dp, a.scale, w.q);
            sg_cpu_attn_load_rows(dout, h, b, i0, nq, BQ, a.Dvp, 1.0f, w.dout);
            for (int64_t i = 0; i < BQ; i++) w.mb[i] = -INFINITY, w.lb[i] = 0.0f;
            memset(w.o, 0, (size_t)(BQ * a.Dvp) * sizeof(float));
            for (int64_t j0 = 0; j0 < a.Sk; j0 += BK) {
                int64_t nk = a.Sk - j0 < BK ? a.Sk - j0 : BK;
                if (!sg_cpu_attn_bwd_mask(&a, &w, b, j0, nk, &all_visible)) continue;
                sg_cpu_attn_load_cols(a.k, h, b, j0, nk, a.Dp, w.kt);
                sg_cpu_attn_load_rows(a.v, h, b, j0, nk, BK, a.Dvp, 1.0f, w.vrow);
                sg_cpu_attn_bwd_stats(&a, &w, nq, i0, nk, j0, all_visible);
            }
            sg_cpu_attn_bwd_finish_stats(&a, &w, nq, i0);
        }

        for (int64_t i = 0; i < a.Sq; i++) memset(dq + i * a.D * a.H, 0, (size_t)a.D * sizeof(float));
        for (int64_t j0 = 0; j0 < a.Sk; j0 += BK) {
            int64_t nk = a.Sk - j0 < BK ? a.Sk - j0 : BK;
            memset(w.dk, 0, (size_t)(BK * a.Dp) * sizeof(float));
            memset(w.dv, 0, (size_t)(BK * a.Dvp) * sizeof(float));
            if (sg_cpu_attn_bwd_mask(&a, &w, b, j0, nk, &all_visible)) {
                sg_cpu_attn_load_cols(a.k, h, b, j0, nk, a.Dp, w.kt);
                sg_cpu_attn_load_rows(a.k, h, b, j0, nk, BK, a.Dp, 1.0f, w.krow);
                sg_cpu_attn_load_cols(a.v, h, b, j0, nk, a.Dvp, w.vt);
                for (int64_t i0 = 0; i0 < a.Sq; i0 += BQ) {
                    int64_t nq = a.Sq - i0 < BQ ? a.Sq - i0 : BQ;
                    sg_cpu_attn_load_rows(a.q, h, b, i0, nq, BQ, a.Dp, a.scale, w.q);
                    sg_cpu_attn_load_rows(dout, h, b, i0, nq, BQ, a.Dvp, 1.0f, w.dout);
                    sg_cpu_attn_bwd_grads(&a, &w, nq, i0, nk, j0, all_visible, dq);
                }
            }
            for (int64_t j = 0; j < nk; j++) {
                memcpy(dk + (j0 + j) * a.D * a.H, w.dk + j * a.Dp, (size_t)a.D * sizeof(float));
                memcpy(dv + (j0 + j) * a.Dv * a.H, w.dv + j * a.Dvp, (size_t)a.Dv * sizeof(float));
            }
        }
    }
}
