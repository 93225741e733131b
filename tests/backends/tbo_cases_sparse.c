/* test-backend-ops cases: get_rows, top_k, gather, scatter, the embedding-bag family of a sparse
 * SAE decoder (embed_bag, sparse_dot, scatter_outer) and the Adam step.
 *
 * Every indexing op gets a case with out-of-range indices (negative, n, INT32_MAX, INT32_MIN):
 * the contract is that they read as zero and write nowhere, so the sentinels must stay intact. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tests/backends/tbo.h"

#define F32  SG_TYPE_F32
#define F16  SG_TYPE_F16
#define BF16 SG_TYPE_BF16
#define I32  SG_TYPE_I32

static struct tbo_fill idx_fill(int64_t n, bool oor) { return oor ? tbo_index_oor(n) : tbo_index(0, n); }

/* ---- get_rows ----------------------------------------------------------------------------- */

struct p_get_rows {
    int64_t D, N;
    int64_t ids[5];
    enum sg_type tw;
    enum tbo_layout lw, lids;
    bool oor;
};

static struct sg_tensor *build_get_rows(struct tbo_builder *b, const void *pp) {
    const struct p_get_rows *p = pp;
    struct sg_tensor *w = tbo_input_view(b, p->tw, 2, (int64_t[]){p->D, p->N}, p->lw, tbo_uniform(-1, 1), p->tw == F32);
    int nd              = tbo_rank(p->ids, 5);
    struct sg_tensor *ids = tbo_input_view(b, I32, nd, p->ids, p->lids, idx_fill(p->N, p->oor), false);
    return tbo_node(b, sg_get_rows(b->ctx, w, ids));
}

static void add_get_rows(struct tbo_case_list *l, unsigned modes, int64_t D, int64_t N, const int64_t ids[5],
                         enum sg_type tw, enum tbo_layout lw, enum tbo_layout lids, bool oor) {
    struct p_get_rows p = {.D = D, .N = N, .tw = tw, .lw = lw, .lids = lids, .oor = oor};
    memcpy(p.ids, ids, sizeof p.ids);
    char s[48];
    tbo_add(l, SG_OP_GET_ROWS, modes, build_get_rows, &p, sizeof p, "get_rows(D=%lld,N=%lld,ids=%s,w=%s%s%s%s%s%s)",
            (long long)D, (long long)N, tbo_dims(s, 48, tbo_rank(ids, 5), ids), sg_type_name(tw), lw ? ",w=" : "",
            lw ? tbo_layout_names[lw] : "", lids ? ",ids=" : "", lids ? tbo_layout_names[lids] : "",
            oor ? ",out_of_range" : "");
}

static void cases_get_rows(struct tbo_case_list *l) {
    static const enum sg_type types[] = {F32, F16, BF16};
    for (size_t t = 0; t < 3; t++) {
        add_get_rows(l, TBO_TEST, 17, 33, (int64_t[]){9, 1, 1, 1, 1}, types[t], 0, 0, false);
        add_get_rows(l, TBO_TEST, 129, 1000, (int64_t[]){5, 3, 1, 1, 1}, types[t], 0, 0, true);
        add_get_rows(l, TBO_TEST, 33, 17, (int64_t[]){7, 1, 1, 1, 1}, types[t], TBO_TRANS, 0, false);
    }
    add_get_rows(l, TBO_TEST, 1, 5, (int64_t[]){7, 1, 1, 1, 1}, F32, 0, 0, false);
    add_get_rows(l, TBO_TEST, 17, 33, (int64_t[]){2, 3, 1, 2, 2}, F32, 0, 0, false); /* ids of rank 5 */
    add_get_rows(l, TBO_TEST, 17, 33, (int64_t[]){4, 6, 1, 1, 1}, F32, 0, TBO_TRANS, true);
    add_get_rows(l, TBO_TEST, 17, 33, (int64_t[]){9, 1, 1, 1, 1}, F32, TBO_STRIDED, TBO_STRIDED, false);
    add_get_rows(l, TBO_TEST, 512, 4096, (int64_t[]){333, 1, 1, 1, 1}, BF16, 0, 0, true);

    add_get_rows(l, TBO_GRAD, 5, 7, (int64_t[]){9, 1, 1, 1, 1}, F32, 0, 0, false); /* repeated rows add up */
    add_get_rows(l, TBO_GRAD, 4, 6, (int64_t[]){3, 4, 1, 1, 1}, F32, 0, 0, false);
    add_get_rows(l, TBO_GRAD, 4, 6, (int64_t[]){3, 4, 1, 1, 1}, F32, 0, 0, true); /* out-of-range ids: no gradient */

    add_get_rows(l, TBO_PERF, 512, 60000, (int64_t[]){2048, 32, 1, 1, 1}, F32, 0, 0, false);
    add_get_rows(l, TBO_PERF, 512, 60000, (int64_t[]){2048, 32, 1, 1, 1}, BF16, 0, 0, false);
}

/* ---- top_k -------------------------------------------------------------------------------- */

struct p_top_k {
    int64_t ne[4];
    int k;
    enum tbo_layout l;
    int fill; /* 0 uniform, 1 ties, 2 +-inf */
};

static struct sg_tensor *build_top_k(struct tbo_builder *b, const void *pp) {
    const struct p_top_k *p = pp;
    struct tbo_fill f       = p->fill == 1   ? tbo_fill_of(TBO_FILL_TIES, 0, 0)
                              : p->fill == 2 ? tbo_kinks(-1, 1, INFINITY, -INFINITY, 0, 2)
                                             : tbo_uniform(-1, 1);
    struct sg_tensor *x     = tbo_input_view(b, F32, 4, p->ne, p->l, f, false);
    return tbo_node(b, sg_top_k(b->ctx, x, p->k));
}

static void add_top_k(struct tbo_case_list *l, unsigned modes, const int64_t ne[4], int k, enum tbo_layout lay,
                      int fill) {
    static const char *const fills[] = {"", ",ties", ",inf"};
    struct p_top_k p                 = {.k = k, .l = lay, .fill = fill};
    memcpy(p.ne, ne, sizeof p.ne);
    char s[48];
    tbo_add(l, SG_OP_TOP_K, modes, build_top_k, &p, sizeof p, "top_k(ne=%s,k=%d%s%s%s)",
            tbo_dims(s, 48, tbo_rank(ne, 4), ne), k, lay ? ",x=" : "", lay ? tbo_layout_names[lay] : "", fills[fill]);
}

static void cases_top_k(struct tbo_case_list *l) {
    add_top_k(l, TBO_TEST, (int64_t[]){1, 4, 1, 1}, 1, 0, 0);
    add_top_k(l, TBO_TEST, (int64_t[]){17, 3, 1, 1}, 1, 0, 0);
    add_top_k(l, TBO_TEST, (int64_t[]){17, 3, 1, 1}, 17, 0, 0); /* k = N: a full sort */
    add_top_k(l, TBO_TEST, (int64_t[]){129, 5, 1, 1}, 5, 0, 0);
    add_top_k(l, TBO_TEST, (int64_t[]){4099, 3, 1, 1}, 64, 0, 0);
    add_top_k(l, TBO_TEST, (int64_t[]){16384, 2, 1, 1}, 64, 0, 0);
    /* long rows take the CPU's block-maximum prefilter: ties and infinities must rank the same */
    add_top_k(l, TBO_TEST, (int64_t[]){16384, 2, 1, 1}, 64, 0, 1);
    add_top_k(l, TBO_TEST, (int64_t[]){8192, 3, 1, 1}, 16, 0, 2);
    add_top_k(l, TBO_TEST, (int64_t[]){33, 9, 1, 1}, 8, 0, 1); /* ties go to the lower index */
    add_top_k(l, TBO_TEST, (int64_t[]){1000, 3, 1, 1}, 100, 0, 1);
    add_top_k(l, TBO_TEST, (int64_t[]){4099, 2, 1, 1}, 129, 0, 1);
    add_top_k(l, TBO_TEST, (int64_t[]){129, 5, 1, 1}, 9, 0, 2);
    add_top_k(l, TBO_TEST, (int64_t[]){33, 17, 1, 1}, 4, TBO_TRANS, 0);
    add_top_k(l, TBO_TEST, (int64_t[]){33, 17, 1, 1}, 4, TBO_STRIDED, 1);
    add_top_k(l, TBO_TEST, (int64_t[]){20, 3, 2, 2}, 3, 0, 0);
    add_top_k(l, TBO_PERF, (int64_t[]){16384, 4096, 1, 1}, 64, 0, 0);
    add_top_k(l, TBO_PERF, (int64_t[]){16384, 4096, 1, 1}, 32, 0, 0);
}

/* ---- gather and scatter ------------------------------------------------------------------- */

struct p_gather {
    int op;       /* GATHER or SCATTER */
    int64_t N, K; /* x rows are N long (gather) / the output is n = N long (scatter) */
    int64_t rows[3];
    enum tbo_layout lx;
    bool oor;
};

static struct sg_tensor *build_gather(struct tbo_builder *b, const void *pp) {
    const struct p_gather *p = pp;
    int64_t nx[4]            = {p->op == SG_OP_GATHER ? p->N : p->K, p->rows[0], p->rows[1], p->rows[2]};
    int64_t ni[4]            = {p->K, p->rows[0], p->rows[1], p->rows[2]};
    struct sg_tensor *x      = tbo_input_view(b, F32, 4, nx, p->lx, tbo_uniform(-1, 1), true);
    struct sg_tensor *idx    = tbo_input(b, I32, 4, ni, idx_fill(p->N, p->oor));
    if (p->op == SG_OP_GATHER) return tbo_node(b, sg_gather(b->ctx, x, idx));
    return tbo_node(b, sg_scatter(b->ctx, x, idx, p->N));
}

static void add_gather(struct tbo_case_list *l, unsigned modes, int op, int64_t N, int64_t K, const int64_t rows[3],
                       enum tbo_layout lx, bool oor) {
    struct p_gather p = {.op = op, .N = N, .K = K, .lx = lx, .oor = oor};
    memcpy(p.rows, rows, sizeof p.rows);
    char s[48];
    tbo_add(l, op, modes, build_gather, &p, sizeof p, "%s(%s=%lld,K=%lld,rows=%s%s%s%s)", sg_op_name(op),
            op == SG_OP_GATHER ? "N" : "n", (long long)N, (long long)K, tbo_dims(s, 48, tbo_rank(rows, 3), rows),
            lx ? ",x=" : "", lx ? tbo_layout_names[lx] : "", oor ? ",out_of_range" : "");
}

static void cases_gather(struct tbo_case_list *l) {
    for (int o = 0; o < 2; o++) {
        int op = o ? SG_OP_SCATTER : SG_OP_GATHER;
        add_gather(l, TBO_TEST, op, 17, 5, (int64_t[]){3, 1, 1}, 0, false);
        add_gather(l, TBO_TEST, op, 1, 4, (int64_t[]){7, 1, 1}, 0, false);
        add_gather(l, TBO_TEST, op, 129, 64, (int64_t[]){33, 1, 1}, 0, false);
        add_gather(l, TBO_TEST, op, 5, 20, (int64_t[]){9, 1, 1}, 0, false); /* many repeated indices */
        add_gather(l, TBO_TEST, op, 17, 5, (int64_t[]){3, 2, 2}, 0, false);
        add_gather(l, TBO_TEST, op, 33, 9, (int64_t[]){17, 1, 1}, 0, true);
        add_gather(l, TBO_TEST, op, 17, 5, (int64_t[]){9, 1, 1}, TBO_TRANS, true);
        add_gather(l, TBO_TEST, op, 17, 5, (int64_t[]){9, 2, 1}, TBO_STRIDED, false);
        add_gather(l, TBO_GRAD, op, 6, 8, (int64_t[]){3, 1, 1}, 0, false);
        add_gather(l, TBO_GRAD, op, 9, 6, (int64_t[]){4, 2, 1}, TBO_TRANS, true);
        add_gather(l, TBO_PERF, op, 16384, 64, (int64_t[]){4096, 1, 1}, 0, false);
    }
}

/* ---- embed_bag, sparse_dot, scatter_outer ------------------------------------------------- */

struct p_sparse {
    int op;
    int64_t D, N, K, B;           /* table [D, N]; K codes per column; B columns */
    enum tbo_layout lw, lidx, lx; /* table, indices, dense operand (v, x or c) */
    bool oor;
    bool no_coef; /* scatter_outer with c = NULL */
};

static struct sg_tensor *build_sparse(struct tbo_builder *b, const void *pp) {
    const struct p_sparse *p = pp;
    struct sg_ctx *ctx       = b->ctx;
    const int64_t kb[2] = {p->K, p->B}, db[2] = {p->D, p->B};
    if (p->op == SG_OP_SCATTER_OUTER) {
        struct sg_tensor *idx = tbo_input_view(b, I32, 2, kb, p->lidx, idx_fill(p->N, p->oor), false);
        struct sg_tensor *c   = p->no_coef ? NULL : tbo_param(b, F32, 2, kb, tbo_uniform(-1, 1));
        struct sg_tensor *x   = tbo_input_view(b, F32, 2, db, p->lx, tbo_uniform(-1, 1), true);
        return tbo_node(b, sg_scatter_outer(ctx, idx, c, x, p->N));
    }
    struct sg_tensor *w   = tbo_input_view(b, F32, 2, (int64_t[]){p->D, p->N}, p->lw, tbo_uniform(-1, 1), true);
    struct sg_tensor *idx = tbo_input_view(b, I32, 2, kb, p->lidx, idx_fill(p->N, p->oor), false);
    if (p->op == SG_OP_EMBED_BAG) {
        struct sg_tensor *v = tbo_input_view(b, F32, 2, kb, p->lx, tbo_uniform(0, 2), true);
        return tbo_node(b, sg_embed_bag(ctx, w, idx, v));
    }
    struct sg_tensor *x = tbo_input_view(b, F32, 2, db, p->lx, tbo_uniform(-1, 1), true);
    return tbo_node(b, sg_sparse_dot(ctx, w, idx, x));
}

static void add_sparse(struct tbo_case_list *l, unsigned modes, int op, int64_t D, int64_t N, int64_t K, int64_t B,
                       enum tbo_layout lw, enum tbo_layout lidx, enum tbo_layout lx, bool oor, bool no_coef) {
    struct p_sparse p = {
        .op = op, .D = D, .N = N, .K = K, .B = B, .lw = lw, .lidx = lidx, .lx = lx, .oor = oor, .no_coef = no_coef};
    char lay[96] = "";
    size_t e     = 0;
    if (lw) e += (size_t)snprintf(lay + e, sizeof lay - e, ",w=%s", tbo_layout_names[lw]);
    if (lidx) e += (size_t)snprintf(lay + e, sizeof lay - e, ",idx=%s", tbo_layout_names[lidx]);
    if (lx) snprintf(lay + e, sizeof lay - e, ",%s=%s", op == SG_OP_EMBED_BAG ? "v" : "x", tbo_layout_names[lx]);
    tbo_add(l, op, modes, build_sparse, &p, sizeof p, "%s(D=%lld,%s=%lld,K=%lld,B=%lld%s%s%s)", sg_op_name(op),
            (long long)D, op == SG_OP_SCATTER_OUTER ? "n" : "N", (long long)N, (long long)K, (long long)B, lay,
            oor ? ",out_of_range" : "", no_coef ? ",c=none" : "");
}

static void cases_sparse(struct tbo_case_list *l) {
    static const int ops[] = {SG_OP_EMBED_BAG, SG_OP_SPARSE_DOT, SG_OP_SCATTER_OUTER};
    for (int o = 0; o < 3; o++) {
        int op = ops[o];
        add_sparse(l, TBO_TEST, op, 17, 33, 4, 5, 0, 0, 0, false, false);
        add_sparse(l, TBO_TEST, op, 1, 5, 3, 2, 0, 0, 0, false, false);
        add_sparse(l, TBO_TEST, op, 129, 1000, 64, 9, 0, 0, 0, false, false);
        add_sparse(l, TBO_TEST, op, 33, 4, 8, 17, 0, 0, 0, false, false); /* repeated indices, collisions */
        add_sparse(l, TBO_TEST, op, 17, 33, 5, 7, 0, 0, 0, true, false);
        add_sparse(l, TBO_TEST, op, 17, 33, 5, 7, TBO_TRANS, TBO_TRANS, TBO_TRANS, false, false);
        add_sparse(l, TBO_TEST, op, 17, 33, 5, 7, TBO_STRIDED, TBO_STRIDED, TBO_STRIDED, true, false);
        add_sparse(l, TBO_TEST, op, 512, 16384, 64, 33, 0, 0, 0, true, false); /* SAE shapes, few columns */
        add_sparse(l, TBO_GRAD, op, 5, 7, 3, 4, 0, 0, 0, false, false);
        add_sparse(l, TBO_GRAD, op, 6, 4, 5, 3, TBO_TRANS, 0, TBO_TRANS, true, false);
        add_sparse(l, TBO_PERF, op, 512, 16384, 64, 4096, 0, 0, 0, false, false);
    }
    add_sparse(l, TBO_TEST, SG_OP_SCATTER_OUTER, 17, 33, 4, 5, 0, 0, 0, false, true);
    add_sparse(l, TBO_TEST, SG_OP_SCATTER_OUTER, 9, 3, 8, 17, 0, 0, 0, true, true);
    add_sparse(l, TBO_GRAD, SG_OP_SCATTER_OUTER, 4, 6, 3, 5, 0, 0, TBO_TRANS, false, false);
}

/* ---- adam_step ---------------------------------------------------------------------------- */

struct p_adam {
    int64_t ne[2];
    enum tbo_layout lg;
    double clip;    /* 0: off */
    double norm_sq; /* < 0: no grad_norm_sq input */
};

static struct sg_tensor *build_adam(struct tbo_builder *b, const void *pp) {
    const struct p_adam *p = pp;
    struct sg_tensor *w    = tbo_input(b, F32, 2, p->ne, tbo_uniform(-1, 1));
    struct sg_tensor *g    = tbo_input_view(b, F32, 2, p->ne, p->lg, tbo_uniform(-1, 1), false);
    struct sg_tensor *m    = tbo_input(b, F32, 2, p->ne, tbo_uniform(-0.1, 0.1));
    struct sg_tensor *v    = tbo_input(b, F32, 2, p->ne, tbo_uniform(0, 0.01));
    struct sg_tensor *hp = tbo_input(b, F32, 1, (int64_t[]){SG_ADAM_N_PARAMS}, tbo_fill_of(TBO_FILL_ADAM, p->clip, 0));
    struct sg_tensor *gn2 =
        p->norm_sq >= 0 ? tbo_input(b, F32, 1, (int64_t[]){1}, tbo_fill_of(TBO_FILL_CONST, p->norm_sq, 0)) : NULL;
    sg_set_output(w); /* w, m and v are updated in place: all three are compared */
    sg_set_output(m);
    sg_set_output(v);
    return tbo_node(b, sg_adam_step(b->ctx, w, g, m, v, hp, gn2));
}

static void add_adam(struct tbo_case_list *l, unsigned modes, int64_t n0, int64_t n1, enum tbo_layout lg, double clip,
                     double norm_sq) {
    struct p_adam p = {.ne = {n0, n1}, .lg = lg, .clip = clip, .norm_sq = norm_sq};
    char s[48], gn[48] = "";
    if (norm_sq >= 0) snprintf(gn, sizeof gn, ",norm_sq=%g", norm_sq);
    tbo_add(l, SG_OP_ADAM_STEP, modes, build_adam, &p, sizeof p, "adam_step(ne=%s,clip=%g%s%s%s)",
            tbo_dims(s, 48, tbo_rank(p.ne, 2), p.ne), clip, gn, lg ? ",g=" : "", lg ? tbo_layout_names[lg] : "");
}

static void cases_adam(struct tbo_case_list *l) {
    add_adam(l, TBO_TEST, 1, 1, 0, 0, -1);
    add_adam(l, TBO_TEST, 17, 3, 0, 0, -1);        /* no clipping */
    add_adam(l, TBO_TEST, 129, 33, 0, 1.0, 100.0); /* clipped: g scaled by 0.1 */
    add_adam(l, TBO_TEST, 129, 33, 0, 1.0, 0.25);  /* norm below the clip: unscaled */
    add_adam(l, TBO_TEST, 129, 33, 0, 1.0, -1);    /* clip set but no norm given: unscaled */
    add_adam(l, TBO_TEST, 129, 33, 0, 0, 100.0);   /* norm given but clipping off */
    add_adam(l, TBO_TEST, 4099, 3, 0, 0.5, 7.0);
    add_adam(l, TBO_TEST, 33, 17, TBO_TRANS, 1.0, 100.0);
    add_adam(l, TBO_TEST, 33, 17, TBO_STRIDED, 0, -1);
    add_adam(l, TBO_PERF, 512, 16384, 0, 1.0, 100.0);
}

void tbo_cases_sparse(struct tbo_case_list *l) {
    cases_get_rows(l);
    cases_top_k(l);
    cases_gather(l);
    cases_sparse(l);
    cases_adam(l);
}
