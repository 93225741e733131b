/* ATTENTION, flash-style: for each (batch, head, block of queries) the key blocks are visited
 * once with an online softmax (running maximum m and sum l per query, the output rescaled when
 * the maximum grows), so memory is O(block^2) per thread whatever the sequence length.
 * Units of (b, h, query block) are divided between threads; each writes only its own rows. */
#include "backends/cpu/cpu_attention.h"
#include "backends/cpu/cpu_ops.h"

/* Per-thread scratch. */
struct sg_cpu_attn_fwd {
    float *q;       /* BQ x Dp, pre-scaled */
    float *kt;      /* Dp x BK */
    float *v;       /* BK x Dvp */
    float *o;       /* BQ x Dvp, unnormalized output */
    float *m, *l;   /* BQ */
    int32_t *codes; /* BK */
};

static size_t sg_cpu_attn_fwd_floats(const struct sg_cpu_attn *a) {
    return (size_t)(SG_CPU_ATTN_BQ * a->Dp + a->Dp * SG_CPU_ATTN_BK + SG_CPU_ATTN_BK * a->Dvp +
                    SG_CPU_ATTN_BQ * a->Dvp + 2 * SG_CPU_ATTN_BQ + SG_CPU_ATTN_BK);
}

size_t sg_cpu_attention_work_size(const struct sg_tensor *node, int nth) {
    struct sg_cpu_attn a = sg_cpu_attn_make(node);
    return (size_t)nth * sg_cpu_align_up(sg_cpu_attn_fwd_floats(&a) * sizeof(float));
}

static struct sg_cpu_attn_fwd sg_cpu_attn_fwd_scratch(const struct sg_cpu_params *p, const struct sg_cpu_attn *a) {
    struct sg_cpu_attn_fwd s;
    s.q     = sg_cpu_thread_scratch(p, sg_cpu_attn_fwd_floats(a) * sizeof(float));
    s.kt    = s.q + SG_CPU_ATTN_BQ * a->Dp;
    s.v     = s.kt + a->Dp * SG_CPU_ATTN_BK;
    s.o     = s.v + SG_CPU_ATTN_BK * a->Dvp;
    s.m     = s.o + SG_CPU_ATTN_BQ * a->Dvp;
    s.l     = s.m + SG_CPU_ATTN_BQ;
    s.codes = (int32_t *)(s.l + SG_CPU_ATTN_BQ);
    return s;
}

/* Folds the loaded key block into the state of the block's nq queries, four at a time. */
SG_CPU_CLONES static void sg_cpu_attn_fwd_block(const struct sg_cpu_attn *a, const struct sg_cpu_attn_fwd *w,
                                                int64_t nq, int64_t i0, int64_t nk, int64_t j0, bool all_visible) {
    for (int64_t r = 0; r < nq; r += 4)
        sg_cpu_attn_online4(w->q + r * a->Dp, a->Dp, w->kt, w->v, a->Dvp, w->codes, all_visible, nk, i0 + r, j0,
                            w->m + r, w->l + r, w->o + r * a->Dvp);
}

void sg_cpu_attention_compute(const struct sg_cpu_params *p, struct sg_tensor *dst) {
    struct sg_cpu_attn a     = sg_cpu_attn_make(dst);
    struct sg_cpu_attn_fwd w = sg_cpu_attn_fwd_scratch(p, &a);
    int64_t nqb              = (a.Sq + SG_CPU_ATTN_BQ - 1) / SG_CPU_ATTN_BQ;
    int64_t u0, u1;
    sg_cpu_range(a.B * a.H * nqb, p->ith, p->nth, &u0, &u1);
    for (int64_t u = u0; u < u1; u++) {
        int64_t qb = u % nqb, h = (u / nqb) % a.H, b = u / (nqb * a.H);
        int64_t i0 = qb * SG_CPU_ATTN_BQ;
        int64_t nq = a.Sq - i0 < SG_CPU_ATTN_BQ ? a.Sq - i0 : SG_CPU_ATTN_BQ;
        sg_cpu_attn_load_rows(a.q, h, b, i0, nq, SG_CPU_ATTN_BQ, a.Dp, a.scale, w.q);
        for (int64_t i = 0; i < SG_CPU_ATTN_BQ; i++) w.m[i] = -INFINITY, w.l[i] = 0.0f;
        memset(w.o, 0, (size_t)(SG_CPU_ATTN_BQ * a.Dvp) * sizeof(float));

        for (int64_t j0 = 0; j0 < a.Sk; j0 += SG_CPU_ATTN_BK) {
            int64_t nk       = a.Sk - j0 < SG_CPU_ATTN_BK ? a.Sk - j0 : SG_CPU_ATTN_BK;
            bool all_visible = sg_cpu_attn_load_mask(&a, b, j0, nk, w.codes);
            if (!all_visible && !sg_cpu_attn_any_visible(w.codes, nk)) continue;
            sg_cpu_attn_load_cols(a.k, h, b, j0, nk, a.Dp, w.kt);
            sg_cpu_attn_load_rows(a.v, h, b, j0, nk, SG_CPU_ATTN_BK, a.Dvp, 1.0f, w.v);
            sg_cpu_attn_fwd_block(&a, &w, nq, i0, nk, j0, all_visible);
        }

        for (int64_t i = 0; i < nq; i++) {
            float inv = w.l[i] > 0.0f ? 1.0f / w.l[i] : 0.0f; /* no visible key: zeros */
            float *o  = w.o + i * a.Dvp;
            for (int64_t e = 0; e < a.Dv; e++) o[e] *= inv;
            char *row =
                (char *)dst->data + (size_t)h * dst->nb[1] + (size_t)(i0 + i) * dst->nb[2] + (size_t)b * dst->nb[3];
            sg_cpu_scatter_f32(o, a.Dv, row, dst->nb[0]);
        }
    }
}
