/* ATTENTION and ATTENTION_BACK, one (batch, head, query) at a time.
 *   q [D, H, Sq, B], k [D, H, Sk, B], v [Dv, H, Sk, B], key_mask I32 [Sk, B] or NULL,
 *   out [Dv, H, Sq, B].
 * Unlike the fast kernels, the reference forms each probability row in full (in double): the
 * point is to be obviously right, not to save memory. */
#include <math.h>
#include <stdlib.h>

#include "backends/cpu/ref/ref.h"

/* Whether query iq of batch b may attend to key j (enum sg_attn_key; unknown codes hide). */
static bool ref_key_visible(const struct sg_tensor *mask, int64_t iq, int64_t j, int64_t b) {
    if (!mask) return true;
    const int32_t code = ref_at_i32(mask, (size_t)j * mask->nb[0] + (size_t)b * mask->nb[1]);
    return code == SG_ATTN_KEY_VISIBLE || (code == SG_ATTN_KEY_SELF && iq == j);
}

/* p[0..Sk) = softmax over the visible keys of scale * q . k for (b, h, iq); hidden keys get 0.
 * Returns false, with p all zero, when the query sees no key. */
static bool ref_attn_probs(const struct sg_tensor *q, const struct sg_tensor *k, const struct sg_tensor *mask,
                           double scale, int64_t b, int64_t h, int64_t iq, double *p) {
    const int64_t D  = q->ne[0];
    const int64_t Sk = k->ne[2];

    double max = -INFINITY;
    bool any   = false;
    for (int64_t j = 0; j < Sk; j++) {
        p[j] = -INFINITY;
        if (!ref_key_visible(mask, iq, j, b)) continue;
        double dot = 0.0;
        for (int64_t d = 0; d < D; d++) dot += (double)ref_get4(q, d, h, iq, b) * ref_get4(k, d, h, j, b);
        p[j] = scale * dot;
        max  = fmax(max, p[j]);
        any  = true;
    }
    if (!any) {
        for (int64_t j = 0; j < Sk; j++) p[j] = 0.0;
        return false;
    }
    double sum = 0.0;
    for (int64_t j = 0; j < Sk; j++) {
        p[j] = exp(p[j] - max); /* exp(-inf) = 0 for hidden keys */
        sum += p[j];
    }
    for (int64_t j = 0; j < Sk; j++) p[j] /= sum;
    return true;
}

void sg_ref_attention(struct sg_tensor *dst) {
    const struct sg_tensor *q    = dst->src[0];
    const struct sg_tensor *k    = dst->src[1];
    const struct sg_tensor *v    = dst->src[2];
    const struct sg_tensor *mask = dst->src[3];
    const double scale           = sg_get_param_f32(dst, 0);
    const int64_t H = q->ne[1], Sq = q->ne[2], B = q->ne[3];
    const int64_t Sk = k->ne[2], Dv = v->ne[0];

    double *p = sg_ref_calloc((size_t)Sk, sizeof(double));
    for (int64_t b = 0; b < B; b++) {
        for (int64_t h = 0; h < H; h++) {
            for (int64_t iq = 0; iq < Sq; iq++) {
                ref_attn_probs(q, k, mask, scale, b, h, iq, p); /* no visible key: p = 0, out = 0 */
                for (int64_t e = 0; e < Dv; e++) {
                    double acc = 0.0;
                    for (int64_t j = 0; j < Sk; j++) acc += p[j] * ref_get4(v, e, h, j, b);
                    const int64_t i[SG_MAX_DIMS] = {e, h, iq, b, 0, 0};
                    ref_set(dst, i, (float)acc);
                }
            }
        }
    }
    free(p);
}

/* Writes element `flat` of the packed F32 gradient vector. */
static void ref_put_flat(struct sg_tensor *dst, int64_t flat, double x) {
    ref_put(dst, (size_t)flat * dst->nb[0], (float)x);
}

/* With P = softmax(S), S = scale q k^T (masked), O = P v:
 *   dv = P^T dO,  dP = dO v^T,  dS = P (dP - rowsum(P dP)),  dq = scale dS k,  dk = scale dS^T q.
 * dst packs dq, dk, dv contiguously, each in its source's shape. */
void sg_ref_attention_back(struct sg_tensor *dst) {
    const struct sg_tensor *q    = dst->src[0];
    const struct sg_tensor *k    = dst->src[1];
    const struct sg_tensor *v    = dst->src[2];
    const struct sg_tensor *mask = dst->src[3];
    const struct sg_tensor *dout = dst->src[4];
    const double scale           = sg_get_param_f32(dst, 0);
    const int64_t D = q->ne[0], H = q->ne[1], Sq = q->ne[2], B = q->ne[3];
    const int64_t Sk = k->ne[2], Dv = v->ne[0];
    const int64_t dk0 = sg_nelements(q);
    const int64_t dv0 = dk0 + sg_nelements(k);

    double *P  = sg_ref_calloc((size_t)(Sq * Sk), sizeof(double));
    double *dS = sg_ref_calloc((size_t)(Sq * Sk), sizeof(double));
    for (int64_t b = 0; b < B; b++) {
        for (int64_t h = 0; h < H; h++) {
            for (int64_t iq = 0; iq < Sq; iq++) {
                double *p  = P + iq * Sk;
                double *ds = dS + iq * Sk;
                ref_attn_probs(q, k, mask, scale, b, h, iq, p);
                double rowsum = 0.0;
                for (int64_t j = 0; j < Sk; j++) {
                    double dp = 0.0;
                    for (int64_t e = 0; e < Dv; e++)
                        dp += (double)ref_get4(dout, e, h, iq, b) * ref_get4(v, e, h, j, b);
                    ds[j] = dp;
                    rowsum += p[j] * dp;
                }
                for (int64_t j = 0; j < Sk; j++) ds[j] = p[j] * (ds[j] - rowsum);
            }

            for (int64_t iq = 0; iq < Sq; iq++) {
                for (int64_t d = 0; d < D; d++) {
                    double acc = 0.0;
                    for (int64_t j = 0; j < Sk; j++) acc += dS[iq * Sk + j] * ref_get4(k, d, h, j, b);
                    ref_put_flat(dst, d + D * (h + H * (iq + Sq * b)), scale * acc);
                }
            }
            for (int64_t j = 0; j < Sk; j++) {
                for (int64_t d = 0; d < D; d++) {
                    double acc = 0.0;
                    for (int64_t iq = 0; iq < Sq; iq++) acc += dS[iq * Sk + j] * ref_get4(q, d, h, iq, b);
                    ref_put_flat(dst, dk0 + d + D * (h + H * (j + Sk * b)), scale * acc);
                }
                for (int64_t e = 0; e < Dv; e++) {
                    double acc = 0.0;
                    for (int64_t iq = 0; iq < Sq; iq++) acc += P[iq * Sk + j] * ref_get4(dout, e, h, iq, b);
                    ref_put_flat(dst, dv0 + e + Dv * (h + H * (j + Sk * b)), acc);
                }
            }
        }
    }
    free(P);
    free(dS);
}
