/* Shared pieces of the flash-style attention kernels (cpu_attention.c, cpu_attention_back.c).
 *
 * Both walk (batch, head) pairs in blocks of SG_CPU_ATTN_BQ queries and SG_CPU_ATTN_BK keys.
 * Each block of q, k, v (any strides: views of a fused QKV are fine) is first copied into
 * contiguous per-thread scratch, k and v also transposed, with head sizes padded with zeros to
 * a multiple of 16 and short blocks padded with zero rows. The products then run on fixed-size
 * 16-float vectors, four query rows at a time, with no tails. No Sq x Sk matrix ever exists.
 *
 * The product helpers are SG_CPU_INLINE so that they are compiled inside each caller's
 * SG_CPU_CLONES versions (AVX-512, AVX2, baseline). */
#ifndef SG_CPU_ATTENTION_H
#define SG_CPU_ATTENTION_H

#include "backends/cpu/cpu_util.h"
#include "core/ops.h"

#define SG_CPU_ATTN_BQ 64
#define SG_CPU_ATTN_BK 64
#define SG_CPU_ATTN_V  16 /* floats per vector; head sizes are padded to a multiple */

/* 16 floats: one AVX-512 register, two AVX2 ones, four SSE ones. Loaded and stored with
 * memcpy (unaligned), and never passed by value, so no ISA-dependent ABI is involved. */
typedef float sg_cpu_v16 __attribute__((vector_size(64)));
typedef int32_t sg_cpu_v16i __attribute__((vector_size(64)));
#define SG_CPU_V16_LOAD(v, p)  memcpy(&(v), (p), sizeof(sg_cpu_v16))
#define SG_CPU_V16_STORE(p, v) memcpy((p), &(v), sizeof(sg_cpu_v16))

struct sg_cpu_attn {
    const struct sg_tensor *q, *k, *v, *mask;
    int64_t D, Dv, H, Sq, Sk, B;
    int64_t Dp, Dvp; /* padded to SG_CPU_ATTN_V */
    float scale;
};

static inline int64_t sg_cpu_attn_pad(int64_t n) { return (n + SG_CPU_ATTN_V - 1) / SG_CPU_ATTN_V * SG_CPU_ATTN_V; }

static inline struct sg_cpu_attn sg_cpu_attn_make(const struct sg_tensor *dst) {
    const struct sg_tensor *q = dst->src[0], *k = dst->src[1], *v = dst->src[2];
    return (struct sg_cpu_attn){
        .q     = q,
        .k     = k,
        .v     = v,
        .mask  = dst->src[3],
        .D     = q->ne[0],
        .Dv    = v->ne[0],
        .H     = q->ne[1],
        .Sq    = q->ne[2],
        .Sk    = k->ne[2],
        .B     = q->ne[3],
        .Dp    = sg_cpu_attn_pad(q->ne[0]),
        .Dvp   = sg_cpu_attn_pad(v->ne[0]),
        .scale = sg_get_param_f32(dst, 0),
    };
}

static inline const char *sg_cpu_attn_row(const struct sg_tensor *t, int64_t h, int64_t i, int64_t b) {
    return (const char *)t->data + (size_t)h * t->nb[1] + (size_t)i * t->nb[2] + (size_t)b * t->nb[3];
}

/* out[i][c] = s * t(c, h, i0 + i, b): rows of width W (zero padding past ne[0]); rows n..rows
 * are zero. */
static inline void sg_cpu_attn_load_rows(const struct sg_tensor *t, int64_t h, int64_t b, int64_t i0, int64_t n,
                                         int64_t rows, int64_t W, float s, float *out) {
    int64_t C = t->ne[0];
    for (int64_t i = 0; i < rows; i++) {
        float *o = out + i * W;
        if (i < n) {
            sg_cpu_gather_f32(sg_cpu_attn_row(t, h, i0 + i, b), t->nb[0], C, o);
            if (s != 1.0f)
                for (int64_t c = 0; c < C; c++) o[c] *= s;
            for (int64_t c = C; c < W; c++) o[c] = 0.0f;
        } else {
            memset(o, 0, (size_t)W * sizeof(float));
        }
    }
}

/* out[c][j] = t(c, h, j0 + j, b): the block transposed into W rows of SG_CPU_ATTN_BK, zero
 * past n keys and past ne[0]. */
static inline void sg_cpu_attn_load_cols(const struct sg_tensor *t, int64_t h, int64_t b, int64_t j0, int64_t n,
                                         int64_t W, float *out) {
    memset(out, 0, (size_t)(W * SG_CPU_ATTN_BK) * sizeof(float));
    for (int64_t j = 0; j < n; j++) {
        const char *row = sg_cpu_attn_row(t, h, j0 + j, b);
        for (int64_t c = 0; c < t->ne[0]; c++)
            out[c * SG_CPU_ATTN_BK + j] = *(const float *)(row + (size_t)c * t->nb[0]);
    }
}

/* Key codes of keys j0.. of batch b (all VISIBLE without a mask); returns whether every key of
 * the block is visible to every query. */
static inline bool sg_cpu_attn_load_mask(const struct sg_cpu_attn *a, int64_t b, int64_t j0, int64_t n,
                                         int32_t *codes) {
    bool all = true;
    for (int64_t j = 0; j < n; j++) {
        codes[j] =
            a->mask ? sg_cpu_load_i32((const char *)a->mask->data + (size_t)b * a->mask->nb[1], a->mask->nb[0], j0 + j)
                    : SG_ATTN_KEY_VISIBLE;
        all &= codes[j] == SG_ATTN_KEY_VISIBLE;
    }
    return all;
}

/* Whether any query can see a key of the block (else the block is skipped). */
static inline bool sg_cpu_attn_any_visible(const int32_t *codes, int64_t n) {
    for (int64_t j = 0; j < n; j++)
        if (codes[j] == SG_ATTN_KEY_VISIBLE || codes[j] == SG_ATTN_KEY_SELF) return true;
    return false;
}

/* s[r][j] = x_r . yt[:, j] for 4 rows x (stride ldx) and the BK columns of yt (W rows). */
SG_CPU_INLINE void sg_cpu_attn_dots4(const float *x, int64_t ldx, const float *yt, int64_t W,
                                     float s[4][SG_CPU_ATTN_BK]) {
    for (int jc = 0; jc < SG_CPU_ATTN_BK; jc += SG_CPU_ATTN_V) {
        sg_cpu_v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        for (int64_t c = 0; c < W; c++) {
            sg_cpu_v16 y;
            SG_CPU_V16_LOAD(y, yt + c * SG_CPU_ATTN_BK + jc);
            a0 += x[c] * y;
            a1 += x[ldx + c] * y;
            a2 += x[2 * ldx + c] * y;
            a3 += x[3 * ldx + c] * y;
        }
        SG_CPU_V16_STORE(&s[0][jc], a0);
        SG_CPU_V16_STORE(&s[1][jc], a1);
        SG_CPU_V16_STORE(&s[2][jc], a2);
        SG_CPU_V16_STORE(&s[3][jc], a3);
    }
}

/* o_r += sum_j p[r][j] y_j for 4 rows o (stride W) and the BK rows y_j (width W). */
SG_CPU_INLINE void sg_cpu_attn_mix4(const float p[4][SG_CPU_ATTN_BK], const float *y, int64_t W, float *o) {
    for (int64_t c = 0; c < W; c += SG_CPU_ATTN_V) {
        sg_cpu_v16 a0, a1, a2, a3;
        SG_CPU_V16_LOAD(a0, o + c);
        SG_CPU_V16_LOAD(a1, o + W + c);
        SG_CPU_V16_LOAD(a2, o + 2 * W + c);
        SG_CPU_V16_LOAD(a3, o + 3 * W + c);
        for (int j = 0; j < SG_CPU_ATTN_BK; j++) {
            sg_cpu_v16 yj;
            SG_CPU_V16_LOAD(yj, y + j * W + c);
            a0 += p[0][j] * yj;
            a1 += p[1][j] * yj;
            a2 += p[2][j] * yj;
            a3 += p[3][j] * yj;
        }
        SG_CPU_V16_STORE(o + c, a0);
        SG_CPU_V16_STORE(o + W + c, a1);
        SG_CPU_V16_STORE(o + 2 * W + c, a2);
        SG_CPU_V16_STORE(o + 3 * W + c, a3);
    }
}

/* Maximum and sum of a score row (BK floats, a multiple of the vector size). */
SG_CPU_INLINE float sg_cpu_attn_row_max(const float *s) {
    sg_cpu_v16 m;
    SG_CPU_V16_LOAD(m, s);
    for (int j = SG_CPU_ATTN_V; j < SG_CPU_ATTN_BK; j += SG_CPU_ATTN_V) {
        sg_cpu_v16 x;
        SG_CPU_V16_LOAD(x, s + j);
        sg_cpu_v16i gt = x > m; /* lanes of all ones where x is larger (C has no vector ?:) */
        m              = (sg_cpu_v16)(((sg_cpu_v16i)x & gt) | ((sg_cpu_v16i)m & ~gt));
    }
    float r = m[0];
    for (int i = 1; i < SG_CPU_ATTN_V; i++) r = m[i] > r ? m[i] : r;
    return r;
}

SG_CPU_INLINE float sg_cpu_attn_row_sum(const float *s) {
    sg_cpu_v16 acc = {0};
    for (int j = 0; j < SG_CPU_ATTN_BK; j += SG_CPU_ATTN_V) {
        sg_cpu_v16 x;
        SG_CPU_V16_LOAD(x, s + j);
        acc += x;
    }
    float r = 0.0f;
    for (int i = 0; i < SG_CPU_ATTN_V; i++) r += acc[i];
    return r;
}

/* Sets s[r][j] to -inf where query qi0 + r cannot see key j0 + j, or j is past the block's n
 * keys; nothing to do when every key is visible and the block is full. */
SG_CPU_INLINE void sg_cpu_attn_mask4(float s[4][SG_CPU_ATTN_BK], const int32_t *codes, bool all_visible, int64_t n,
                                     int64_t qi0, int64_t j0) {
    if (all_visible && n == SG_CPU_ATTN_BK) return;
    for (int r = 0; r < 4; r++)
        for (int64_t j = 0; j < SG_CPU_ATTN_BK; j++) {
            bool vis =
                j < n && (codes[j] == SG_ATTN_KEY_VISIBLE || (codes[j] == SG_ATTN_KEY_SELF && qi0 + r == j0 + j));
            if (!vis) s[r][j] = -INFINITY;
        }
}

/* One key block folded into the online softmax of 4 query rows: running maximum m[r] and sum
 * l[r], unnormalized output rows o (stride Wv). q rows are pre-scaled (stride Wq); kt is the
 * key block transposed, v its value rows. */
SG_CPU_INLINE void sg_cpu_attn_online4(const float *q, int64_t Wq, const float *kt, const float *v, int64_t Wv,
                                       const int32_t *codes, bool all_visible, int64_t n, int64_t qi0, int64_t j0,
                                       float *m, float *l, float *o) {
    float s[4][SG_CPU_ATTN_BK];
    sg_cpu_attn_dots4(q, Wq, kt, Wq, s);
    sg_cpu_attn_mask4(s, codes, all_visible, n, qi0, j0);
    for (int r = 0; r < 4; r++) {
        float mx = sg_cpu_attn_row_max(s[r]);
        if (mx == -INFINITY) { /* the row sees no key of this block */
            for (int j = 0; j < SG_CPU_ATTN_BK; j++) s[r][j] = 0.0f;
            continue;
        }
        float m_new = mx > m[r] ? mx : m[r];
        float corr  = sg_cpu_expf(m[r] - m_new); /* 0 on the row's first visible block */
        for (int j = 0; j < SG_CPU_ATTN_BK; j++) s[r][j] = sg_cpu_expf(s[r][j] - m_new);
        l[r] = l[r] * corr + sg_cpu_attn_row_sum(s[r]);
        m[r] = m_new;
        for (int64_t c = 0; c < Wv; c++) o[r * Wv + c] *= corr;
    }
    sg_cpu_attn_mix4((const float(*)[SG_CPU_ATTN_BK])s, v, Wv, o);
}

#endif
