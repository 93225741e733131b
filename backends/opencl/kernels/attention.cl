/* ATTENTION (flash-style) and ATTENTION_BACK. Never forms the S x S score matrix: keys stream
 * through local memory in blocks of BK while a block of BQ queries keeps a running max, sum and
 * output (online softmax). The backward pass recomputes probabilities from the row statistics
 * L = max + log(sum) and Dd = dO . O that attn_fwd writes in stats mode, then one kernel forms dq
 * per query block and another dk, dv per key block: no atomics, deterministic.
 *
 * q [D, H, Sq, B], k [D, H, Sk, B], v [Dv, H, Sk, B] with byte strides qnb, knb, vnb (s0..s3);
 * key mask I32 [Sk, B] (strides mnb0, mnb1) of enum sg_attn_key codes, or has_mask == 0.
 * Work-groups: dim 0 a block of queries (or keys), dim 1 the head, dim 2 the batch. */

#define SG_KEY_VISIBLE 1
#define SG_KEY_SELF    2

int sg_key_code(__global const char *mask, ulong moff, long mnb0, long mnb1, int has_mask, long j, long b) {
    return has_mask ? *SG_PTR(const int, mask, moff + j * mnb0 + b * mnb1) : SG_KEY_VISIBLE;
}

bool sg_key_visible(int code, long iq, long j) { return code == SG_KEY_VISIBLE || (code == SG_KEY_SELF && iq == j); }

/* rows [r0, r0 + n) of a [width, H, S, B] operand (rows along dim 2) into dst with row stride
 * `stride`, multiplied by mul. */
void sg_load_rows(__local float *dst, int stride, __global const char *src, ulong off, long8 nb, long h, long b,
                  long r0, int n, int width, float mul) {
    for (int t = get_local_id(0); t < n * width; t += get_local_size(0)) {
        int r = t / width, c = t % width;
        long o              = off + c * nb.s0 + h * nb.s1 + (r0 + r) * nb.s2 + b * nb.s3;
        dst[r * stride + c] = mul * *SG_PTR(const float, src, o);
    }
}

float sg_dot_local(__local const float *a, __local const float *b, int n) {
    float s = 0.0f;
    for (int d = 0; d < n; d++) s += a[d] * b[d];
    return s;
}

/* mode 0: out = attention output [Dv, H, Sq, B] (strides onb).
 * mode 1: stats[row] = L, stats[n_rows + row] = dO . O for row = (b H + h) Sq + iq, dO read
 *         from dout (strides dnb); out is unused. */
__kernel void attn_fwd(__global char *out, ulong ooff, long8 onb, __global const char *q, ulong qoff, long8 qnb,
                       __global const char *k, ulong koff, long8 knb, __global const char *v, ulong voff, long8 vnb,
                       __global const char *mask, ulong moff, long mnb0, long mnb1, int has_mask, int D, int Dv, int H,
                       int Sq, int Sk, int B, float scale, int BQ, int BK, int mode, __global char *stats, ulong stoff,
                       __global const char *dout, ulong dooff, long8 dnb, __local float *lm, __local int *vis) {
    const long h = get_global_id(1), b = get_global_id(2);
    const int i0 = SG_GROUP(0) * BQ, nq = min(BQ, Sq - i0);
    const int lid = get_local_id(0), W = get_local_size(0), KS = D + 1;
    __local float *Qs   = lm;           /* [BQ][D], pre-scaled */
    __local float *Ks   = Qs + BQ * D;  /* [BK][D + 1] (padded against bank conflicts) */
    __local float *Vs   = Ks + BK * KS; /* [BK][Dv] */
    __local float *S    = Vs + BK * Dv; /* [BQ][BK] scores, then probabilities */
    __local float *O    = S + BQ * BK;  /* [BQ][Dv] unnormalised output */
    __local float *mrow = O + BQ * Dv;  /* running max */
    __local float *lrow = mrow + BQ;    /* running sum */
    __local float *arow = lrow + BQ;    /* rescale factor of this block */

    sg_load_rows(Qs, D, q, qoff, qnb, h, b, i0, nq, D, scale);
    for (int t = lid; t < nq * Dv; t += W) O[t] = 0.0f;
    for (int i = lid; i < nq; i += W) {
        mrow[i] = -INFINITY;
        lrow[i] = 0.0f;
    }
    for (int j0 = 0; j0 < Sk; j0 += BK) {
        const int nk = min(BK, Sk - j0);
        barrier(CLK_LOCAL_MEM_FENCE);
        sg_load_rows(Ks, KS, k, koff, knb, h, b, j0, nk, D, 1.0f);
        sg_load_rows(Vs, Dv, v, voff, vnb, h, b, j0, nk, Dv, 1.0f);
        for (int j = lid; j < nk; j += W) vis[j] = sg_key_code(mask, moff, mnb0, mnb1, has_mask, j0 + j, b);
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int t = lid; t < nq * nk; t += W) {
            int i = t / nk, j = t % nk;
            bool seen     = sg_key_visible(vis[j], i0 + i, j0 + j);
            S[i * BK + j] = seen ? sg_dot_local(Qs + i * D, Ks + j * KS, D) : -INFINITY;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int i = lid; i < nq; i += W) {
            float mx = mrow[i];
            for (int j = 0; j < nk; j++) mx = fmax(mx, S[i * BK + j]);
            float alpha = 1.0f, sum = 0.0f;
            if (mx == -INFINITY) { /* nothing visible yet: keep zeros */
                for (int j = 0; j < nk; j++) S[i * BK + j] = 0.0f;
            } else {
                alpha = exp(mrow[i] - mx);
                for (int j = 0; j < nk; j++) {
                    float p       = exp(S[i * BK + j] - mx);
                    S[i * BK + j] = p;
                    sum += p;
                }
            }
            lrow[i] = lrow[i] * alpha + sum;
            mrow[i] = mx;
            arow[i] = alpha;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int t = lid; t < nq * Dv; t += W) {
            int i = t / Dv, e = t % Dv;
            float acc = O[t] * arow[i];
            for (int j = 0; j < nk; j++) acc += S[i * BK + j] * Vs[j * Dv + e];
            O[t] = acc;
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (mode == 0) {
        for (int t = lid; t < nq * Dv; t += W) {
            int i = t / Dv, e = t % Dv;
            float l = lrow[i];
            *SG_PTR(float, out, ooff + e * onb.s0 + h * onb.s1 + (i0 + i) * onb.s2 + b * onb.s3) =
                l > 0.0f ? O[t] / l : 0.0f;
        }
    } else {
        const long n_rows = (long)Sq * H * B, row0 = (b * H + h) * Sq + i0;
        for (int i = lid; i < nq; i += W) {
            float l = lrow[i], dd = 0.0f;
            for (int e = 0; l > 0.0f && e < Dv; e++)
                dd += *SG_PTR(const float, dout, dooff + e * dnb.s0 + h * dnb.s1 + (i0 + i) * dnb.s2 + b * dnb.s3) *
                      (O[i * Dv + e] / l);
            /* a query that sees no key gets L = +inf, so every recomputed probability is 0 */
            *SG_PTR(float, stats, stoff + 4 * (row0 + i))          = l > 0.0f ? mrow[i] + log(l) : INFINITY;
            *SG_PTR(float, stats, stoff + 4 * (n_rows + row0 + i)) = dd;
        }
    }
}

/* dS[i][j] = P (dP - Dd_i) for a block of queries and keys, with P = exp(q.k - L) and
 * dP = dO_i . v_j; also P itself into P_out when want_p. */
void sg_attn_ds(__local float *dS, __local float *P_out, int want_p, int BK, __local const float *Qs,
                __local const float *dOs, __local const float *Ks, __local const float *Vs, __local const int *vis,
                __local const float *L, __local const float *Dd, int D, int Dv, int i0, int nq, int j0, int nk) {
    const int KS = D + 1, VS = Dv + 1;
    for (int t = get_local_id(0); t < nq * nk; t += get_local_size(0)) {
        int i = t / nk, j = t % nk;
        float p = 0.0f, dp = 0.0f;
        if (sg_key_visible(vis[j], i0 + i, j0 + j)) {
            p = exp(sg_dot_local(Qs + i * D, Ks + j * KS, D) - L[i]);
            for (int e = 0; e < Dv; e++) dp += dOs[i * Dv + e] * Vs[j * VS + e];
        }
        dS[i * BK + j] = p * (dp - Dd[i]);
        if (want_p) P_out[i * BK + j] = p;
    }
}

void sg_load_stats(__local float *L, __local float *Dd, __global const char *stats, ulong stoff, long n_rows, long row0,
                   int nq) {
    for (int i = get_local_id(0); i < nq; i += get_local_size(0)) {
        L[i]  = *SG_PTR(const float, stats, stoff + 4 * (row0 + i));
        Dd[i] = *SG_PTR(const float, stats, stoff + 4 * (n_rows + row0 + i));
    }
}

/* dq = scale dS k for a block of BQ queries; written to dst (contiguous f32) at offset 0. */
__kernel void attn_bwd_dq(__global char *dst, ulong dstoff, __global const char *q, ulong qoff, long8 qnb,
                          __global const char *k, ulong koff, long8 knb, __global const char *v, ulong voff, long8 vnb,
                          __global const char *mask, ulong moff, long mnb0, long mnb1, int has_mask, int D, int Dv,
                          int H, int Sq, int Sk, int B, float scale, int BQ, int BK, __global const char *stats,
                          ulong stoff, __global const char *dout, ulong dooff, long8 dnb, __local float *lm,
                          __local int *vis) {
    const long h = get_global_id(1), b = get_global_id(2);
    const int i0 = SG_GROUP(0) * BQ, nq = min(BQ, Sq - i0);
    const int lid = get_local_id(0), W = get_local_size(0), KS = D + 1, VS = Dv + 1;
    const long n_rows  = (long)Sq * H * B;
    __local float *Qs  = lm;            /* [BQ][D] pre-scaled */
    __local float *dOs = Qs + BQ * D;   /* [BQ][Dv] */
    __local float *L   = dOs + BQ * Dv; /* [BQ] */
    __local float *Dd  = L + BQ;        /* [BQ] */
    __local float *Ks  = Dd + BQ;       /* [BK][D + 1] */
    __local float *Vs  = Ks + BK * KS;  /* [BK][Dv + 1] */
    __local float *dS  = Vs + BK * VS;  /* [BQ][BK] */
    __local float *dQ  = dS + BQ * BK;  /* [BQ][D] */

    sg_load_rows(Qs, D, q, qoff, qnb, h, b, i0, nq, D, scale);
    sg_load_rows(dOs, Dv, dout, dooff, dnb, h, b, i0, nq, Dv, 1.0f);
    sg_load_stats(L, Dd, stats, stoff, n_rows, (b * H + h) * Sq + i0, nq);
    for (int t = lid; t < nq * D; t += W) dQ[t] = 0.0f;
    for (int j0 = 0; j0 < Sk; j0 += BK) {
        const int nk = min(BK, Sk - j0);
        barrier(CLK_LOCAL_MEM_FENCE);
        sg_load_rows(Ks, KS, k, koff, knb, h, b, j0, nk, D, 1.0f);
        sg_load_rows(Vs, VS, v, voff, vnb, h, b, j0, nk, Dv, 1.0f);
        for (int j = lid; j < nk; j += W) vis[j] = sg_key_code(mask, moff, mnb0, mnb1, has_mask, j0 + j, b);
        barrier(CLK_LOCAL_MEM_FENCE);
        sg_attn_ds(dS, dS, 0, BK, Qs, dOs, Ks, Vs, vis, L, Dd, D, Dv, i0, nq, j0, nk);
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int t = lid; t < nq * D; t += W) {
            int i = t / D, d = t % D;
            float acc = dQ[t];
            for (int j = 0; j < nk; j++) acc += dS[i * BK + j] * Ks[j * KS + d];
            dQ[t] = acc;
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int t = lid; t < nq * D; t += W) {
        int i = t / D, d = t % D;
        *SG_PTR(float, dst, dstoff + 4 * (d + D * (h + H * (i0 + i + (long)Sq * b)))) = scale * dQ[t];
    }
}

/* dk = scale dS^T q and dv = P^T dO for a block of BK keys, written after dq in dst. */
__kernel void attn_bwd_dkdv(__global char *dst, ulong dstoff, __global const char *q, ulong qoff, long8 qnb,
                            __global const char *k, ulong koff, long8 knb, __global const char *v, ulong voff,
                            long8 vnb, __global const char *mask, ulong moff, long mnb0, long mnb1, int has_mask, int D,
                            int Dv, int H, int Sq, int Sk, int B, float scale, int BQ, int BK,
                            __global const char *stats, ulong stoff, __global const char *dout, ulong dooff, long8 dnb,
                            __local float *lm, __local int *vis) {
    const long h = get_global_id(1), b = get_global_id(2);
    const int j0 = SG_GROUP(0) * BK, nk = min(BK, Sk - j0);
    const int lid = get_local_id(0), W = get_local_size(0), KS = D + 1, VS = Dv + 1;
    const long n_rows  = (long)Sq * H * B;
    __local float *Ks  = lm;            /* [BK][D + 1] */
    __local float *Vs  = Ks + BK * KS;  /* [BK][Dv + 1] */
    __local float *dK  = Vs + BK * VS;  /* [BK][D] */
    __local float *dV  = dK + BK * D;   /* [BK][Dv] */
    __local float *Qs  = dV + BK * Dv;  /* [BQ][D] pre-scaled */
    __local float *dOs = Qs + BQ * D;   /* [BQ][Dv] */
    __local float *L   = dOs + BQ * Dv; /* [BQ] */
    __local float *Dd  = L + BQ;        /* [BQ] */
    __local float *P   = Dd + BQ;       /* [BQ][BK] */
    __local float *dS  = P + BQ * BK;   /* [BQ][BK] */

    sg_load_rows(Ks, KS, k, koff, knb, h, b, j0, nk, D, 1.0f);
    sg_load_rows(Vs, VS, v, voff, vnb, h, b, j0, nk, Dv, 1.0f);
    for (int j = lid; j < nk; j += W) vis[j] = sg_key_code(mask, moff, mnb0, mnb1, has_mask, j0 + j, b);
    for (int t = lid; t < nk * D; t += W) dK[t] = 0.0f;
    for (int t = lid; t < nk * Dv; t += W) dV[t] = 0.0f;
    for (int i0 = 0; i0 < Sq; i0 += BQ) {
        const int nq = min(BQ, Sq - i0);
        barrier(CLK_LOCAL_MEM_FENCE);
        sg_load_rows(Qs, D, q, qoff, qnb, h, b, i0, nq, D, scale);
        sg_load_rows(dOs, Dv, dout, dooff, dnb, h, b, i0, nq, Dv, 1.0f);
        sg_load_stats(L, Dd, stats, stoff, n_rows, (b * H + h) * Sq + i0, nq);
        barrier(CLK_LOCAL_MEM_FENCE);
        sg_attn_ds(dS, P, 1, BK, Qs, dOs, Ks, Vs, vis, L, Dd, D, Dv, i0, nq, j0, nk);
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int t = lid; t < nk * D; t += W) {
            int j = t / D, d = t % D;
            float acc = dK[t];
            for (int i = 0; i < nq; i++) acc += dS[i * BK + j] * Qs[i * D + d];
            dK[t] = acc;
        }
        for (int t = lid; t < nk * Dv; t += W) {
            int j = t / Dv, e = t % Dv;
            float acc = dV[t];
            for (int i = 0; i < nq; i++) acc += P[i * BK + j] * dOs[i * Dv + e];
            dV[t] = acc;
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    const long dk0 = (long)D * H * Sq * B, dv0 = dk0 + (long)D * H * Sk * B;
    for (int t = lid; t < nk * D; t += W) {
        int j = t / D, d = t % D;
        *SG_PTR(float, dst, dstoff + 4 * (dk0 + d + D * (h + H * (j0 + j + (long)Sk * b)))) = dK[t];
    }
    for (int t = lid; t < nk * Dv; t += W) {
        int j = t / Dv, e = t % Dv;
        *SG_PTR(float, dst, dstoff + 4 * (dv0 + e + Dv * (h + H * (j0 + j + (long)Sk * b)))) = dV[t];
    }
}
