/* Tahoe X1 forward pass against the plain PyTorch reference (scripts/python/tx1_reference.py,
 * outputs committed by tests/models/gen_tx1_fixtures.py): tokens from cells.h5ad must equal the
 * reference collator's exactly; cell embeddings, every layer's residual stream and both heads
 * must match within tolerance, batched with padding and one cell at a time, at inference and
 * with a generative mask. Runs on every device present (the CPU always). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/backend.h"
#include "core/ops.h"
#include "io/h5ad.h"
#include "io/safetensors.h"
#include "models/tahoe_x1.h"
#include "tests/test_util.h"

#define FIX     "tests/models/fixtures/"
#define CONTEXT 64

/* |got - want| <= atol + rtol |want|. On the CPU everything is fp32 like the reference, but the
 * summation order of matmuls, attention and LayerNorm differs from PyTorch's: a few ulp per op,
 * measured up to 2.4e-6 absolute on values of size ~1-5 after three blocks, so 1e-5 + 1e-5|x|
 * leaves a 4x margin. BF16 models compute in fp32 from the same bf16-rounded weights, so the
 * bound is the same. Other devices may accumulate in other orders or use TF32 tensor cores
 * (10-bit mantissas): 2e-3 + 2e-3|x|. */
static double ATOL = 1e-5, RTOL = 1e-5;

/* --dtype bf16 against ref_<model>_bf16.safetensors (gen_tx1_bf16_fixtures.py: the same bf16
 * GEMM semantics, products summed in float64). Both sides round the same activations to bf16,
 * but an activation that differs in its last fp32 bits (summation order) can round to the
 * neighbouring bf16 value, a 2^-8 relative step in one input of the next GEMM, which then
 * spreads. Measured on the CPU: max abs error 9.7e-3 (values of size ~1-5), RMS error up to
 * 5.2e-4, while the same run against the f32 reference has RMS 1.7e-3 to 8.1e-3. Bounds:
 * 2e-2 + 2e-2|x| per element and RMS 1.5e-3, on every device. */
#define BF16_TOL     2e-2
#define BF16_RMS_TOL 1.5e-3

struct ref {
    struct sg_st_file *f;
    int64_t n, S;
    const int32_t *ids, *len;
    const float *values;
    const uint8_t *gen;
};

static const void *ref_get(const struct ref *r, const char *name) {
    const struct sg_st_tensor *t = sg_st_find(r->f, name);
    if (!t) {
        fprintf(stderr, "fixture tensor %s missing\n", name);
        exit(1);
    }
    return t->data;
}

struct err {
    double max_abs, max_rel;
    double sq, n; /* squared errors and their count: the RMS error */
    int bad;
};

/* bf16 only: the RMS error must stay below this. A rounding flip is rare, so the RMS stays near
 * the fp32 level while the max does not; skipping the bf16 rounding of one GEMM operand would
 * move every element by ~2^-9 and fail here. */
static double RMS_TOL = INFINITY;

static void compare(struct err *e, float got, float want) {
    double d = fabs((double)got - want);
    e->sq += d * d;
    e->n += 1;
    if (d > e->max_abs) e->max_abs = d;
    double rel = d / (fabs(want) + 1e-3);
    if (rel > e->max_rel) e->max_rel = rel;
    if (!(d <= ATOL + RTOL * fabs(want))) e->bad++;
}

static void report(const char *what, const struct err *e) {
    const double rms = e->n > 0 ? sqrt(e->sq / e->n) : 0.0;
    printf("    %-34s max abs %.3g  max rel %.3g  rms %.3g%s\n", what, e->max_abs, e->max_rel, rms,
           e->bad || rms > RMS_TOL ? "  FAIL" : "");
    CHECK_MSG(e->bad == 0, "%s: %d values outside atol %g + rtol %g", what, e->bad, ATOL, RTOL);
    CHECK_MSG(rms <= RMS_TOL, "%s: rms error %.3g above %.3g", what, rms, RMS_TOL);
}

/* Tokenizes every cell of cells.h5ad into one batch. */
static struct tx1_batch *tokenize_all(const struct tx1_model *m, const struct tx1_tokenizer *tk) {
    struct sg_h5ad *h;
    if (sg_h5ad_open(FIX "cells.h5ad", &h) != SG_OK) {
        fprintf(stderr, "%s\n", sg_last_error());
        exit(1);
    }
    struct tx1_gene_map gm;
    CHECK(tx1_gene_map_build(m->vocab, h, NULL, &gm) == SG_OK);
    struct sg_h5ad_rows rows = {0};
    CHECK(sg_h5ad_read_rows(h, 0, sg_h5ad_n_obs(h), &rows) == SG_OK);
    struct tx1_batch *b = tx1_batch_new(rows.n_rows, CONTEXT);
    int32_t *gid        = malloc((size_t)(rows.nnz + 1) * sizeof *gid);
    for (int64_t p = 0; p < rows.nnz; p++) gid[p] = gm.ids[rows.cols[p]];
    for (int64_t c = 0; c < rows.n_rows; c++)
        CHECK(tx1_batch_add(b, tk, c, gid + rows.indptr[c], rows.vals + rows.indptr[c],
                            rows.indptr[c + 1] - rows.indptr[c]) == SG_OK);
    free(gid);
    sg_h5ad_rows_free(&rows);
    tx1_gene_map_free(&gm);
    sg_h5ad_close(h);
    return b;
}

static void test_tokens_match_reference_collator(const struct ref *r, const struct tx1_batch *b) {
    CHECK(b->n_cells == r->n);
    int bad = 0;
    for (int64_t c = 0; c < r->n && c < b->n_cells; c++) {
        CHECK_MSG(b->len[c] == r->len[c], "cell %lld: %lld tokens, reference %d", (long long)c, (long long)b->len[c],
                  r->len[c]);
        for (int64_t t = 0; t < r->len[c]; t++) {
            bad += b->ids[c * b->cap_seq + t] != r->ids[c * r->S + t];
            bad += b->values[c * b->cap_seq + t] != r->values[c * r->S + t];
        }
    }
    CHECK_MSG(bad == 0, "%d token ids or bins differ from the reference collator", bad);
}

/* A batch holding cells [c0, c1) of `all`, optionally with the reference's generative mask. */
static void sub_batch(struct tx1_batch *dst, const struct tx1_batch *all, const struct ref *r, int64_t c0, int64_t c1,
                      bool generative) {
    tx1_batch_clear(dst);
    for (int64_t c = c0; c < c1; c++) {
        int64_t i  = dst->n_cells++;
        size_t row = (size_t)all->cap_seq;
        memcpy(dst->ids + i * dst->cap_seq, all->ids + c * all->cap_seq, row * sizeof(int32_t));
        memcpy(dst->values + i * dst->cap_seq, all->values + c * all->cap_seq, row * sizeof(float));
        memcpy(dst->key_mask + i * dst->cap_seq, all->key_mask + c * all->cap_seq, row * sizeof(int32_t));
        for (int64_t t = 0; t < dst->cap_seq; t++) {
            bool g                         = generative && t < r->S && r->gen[c * r->S + t];
            dst->gen[i * dst->cap_seq + t] = g ? 1.0f : 0.0f;
            if (g) dst->key_mask[i * dst->cap_seq + t] = SG_ATTN_KEY_SELF;
        }
        dst->cell[i] = c;
        dst->len[i]  = all->len[c];
        if (all->len[c] > dst->seq) dst->seq = all->len[c];
    }
}

struct outputs {
    int64_t d, L;
    float *cell_emb;   /* [n][d] */
    float *resid;      /* [L][n][S][d] */
    float *expr, *mvc; /* [n][S] */
};

static void run_all(const struct tx1_model *m, struct sg_stream *s, const struct tx1_batch *all, const struct ref *r,
                    int64_t batch, bool generative, struct outputs *o) {
    const int64_t d = m->cfg.d_model, L = m->cfg.n_layers, S = r->S, n = r->n;
    struct tx1_runner_opts ro = {
        .batch = batch, .context = CONTEXT, .generative = generative, .heads = true, .n_resid = (int)L};
    for (int i = 0; i < L; i++) ro.resid_layers[i] = i;
    struct tx1_runner *run;
    sg_status st = tx1_runner_new(m, s, &ro, &run);
    CHECK_MSG(st == SG_OK, "%s", sg_last_error());
    if (st != SG_OK) return;
    o->d                = d;
    o->L                = L;
    o->cell_emb         = calloc((size_t)(n * d), sizeof(float));
    o->resid            = calloc((size_t)(L * n * S * d), sizeof(float));
    o->expr             = calloc((size_t)(n * S), sizeof(float));
    o->mvc              = calloc((size_t)(n * S), sizeof(float));
    struct tx1_batch *b = tx1_batch_new(batch, CONTEXT);
    for (int64_t c0 = 0; c0 < n; c0 += batch) {
        int64_t c1 = c0 + batch < n ? c0 + batch : n;
        sub_batch(b, all, r, c0, c1, generative);
        st = tx1_runner_run(run, b);
        CHECK_MSG(st == SG_OK, "%s", sg_last_error());
        if (st != SG_OK) break;
        const int64_t Sr = tx1_runner_seq(run);
        for (int64_t i = 0; i < b->n_cells; i++) {
            const int64_t c = c0 + i;
            memcpy(o->cell_emb + c * d, tx1_runner_cell_emb(run) + i * d, (size_t)d * sizeof(float));
            for (int64_t t = 0; t < b->len[i]; t++) {
                o->expr[c * S + t] = tx1_runner_expr_pred(run)[i * Sr + t];
                o->mvc[c * S + t]  = tx1_runner_mvc_pred(run)[i * Sr + t];
                for (int l = 0; l < L; l++)
                    memcpy(o->resid + ((l * n + c) * S + t) * d, tx1_runner_resid(run, l) + (i * Sr + t) * d,
                           (size_t)d * sizeof(float));
            }
        }
    }
    tx1_batch_free(b);
    tx1_runner_free(run);
}

static void outputs_free(struct outputs *o) {
    free(o->cell_emb);
    free(o->resid);
    free(o->expr);
    free(o->mvc);
}

/* Compares outputs with the reference (or with other outputs when `other` is given). */
static void check_outputs(const struct ref *r, const struct outputs *o, const char *mode, const char *label) {
    const int64_t n = r->n, S = r->S, d = o->d;
    char name[64], what[96];
    struct err e = {0};
    snprintf(name, sizeof name, "%s.cell_emb", mode);
    const float *want = ref_get(r, name);
    for (int64_t i = 0; i < n * d; i++) compare(&e, o->cell_emb[i], want[i]);
    snprintf(what, sizeof what, "%s %s", label, name);
    report(what, &e);
    for (int l = 0; l < o->L; l++) {
        memset(&e, 0, sizeof e);
        snprintf(name, sizeof name, "%s.resid.%d", mode, l);
        want = ref_get(r, name);
        for (int64_t c = 0; c < n; c++)
            for (int64_t t = 0; t < r->len[c]; t++)
                for (int64_t k = 0; k < d; k++)
                    compare(&e, o->resid[((l * n + c) * S + t) * d + k], want[(c * S + t) * d + k]);
        snprintf(what, sizeof what, "%s %s", label, name);
        report(what, &e);
    }
    static const char *const heads[2] = {"expr_pred", "mvc_pred"};
    for (int hd = 0; hd < 2; hd++) {
        memset(&e, 0, sizeof e);
        snprintf(name, sizeof name, "%s.%s", mode, heads[hd]);
        want             = ref_get(r, name);
        const float *got = hd == 0 ? o->expr : o->mvc;
        for (int64_t c = 0; c < n; c++)
            for (int64_t t = 0; t < r->len[c]; t++) compare(&e, got[c * S + t], want[c * S + t]);
        snprintf(what, sizeof what, "%s %s", label, name);
        report(what, &e);
    }
}

/* Batched (with padding) against one cell at a time: the padding must not leak into any cell. */
static void check_batched_equals_single(const struct ref *r, const struct outputs *a, const struct outputs *b) {
    struct err e = {0};
    for (int64_t i = 0; i < r->n * a->d; i++) compare(&e, a->cell_emb[i], b->cell_emb[i]);
    for (int l = 0; l < a->L; l++)
        for (int64_t c = 0; c < r->n; c++)
            for (int64_t t = 0; t < r->len[c]; t++)
                for (int64_t k = 0; k < a->d; k++) {
                    size_t i = (size_t)(((l * r->n + c) * r->S + t) * a->d + k);
                    compare(&e, a->resid[i], b->resid[i]);
                }
    report("batched vs one at a time", &e);
}

static void test_model(const char *name, struct sg_device *dev, enum tx1_dtype dtype) {
    char dir[256], refpath[256];
    snprintf(dir, sizeof dir, FIX "%s", name);
    /* the F16 copy holds tiny_relu's weights rounded to half precision: compare with the F32
     * reference at the F16 rounding bound (2^-11 relative per weight) */
    bool f16 = strstr(name, "_f16") != NULL, bf16 = dtype == TX1_DTYPE_BF16;
    snprintf(refpath, sizeof refpath, FIX "ref_%s%s.safetensors", f16 ? "tiny_relu" : name, bf16 ? "_bf16" : "");
    printf("  %s on %s, --dtype %s\n", name, sg_device_name(dev), tx1_dtype_name(dtype));
    ATOL = RTOL = sg_device_type(dev) == SG_DEVICE_CPU ? 1e-5 : 2e-3;
    RMS_TOL     = bf16 ? BF16_RMS_TOL : INFINITY;
    if (bf16) ATOL = RTOL = BF16_TOL;

    struct tx1_model *m;
    sg_status st = tx1_model_load_as(dir, dev, dtype, &m);
    CHECK_MSG(st == SG_OK, "%s", sg_last_error());
    if (st != SG_OK) return;
    /* Linear weights BF16, embeddings F32 (torch autocast's split) */
    const enum sg_type lin = bf16 ? SG_TYPE_BF16 : SG_TYPE_F32;
    CHECK(m->dtype == dtype && m->w.layers[0].wqkv->type == lin && m->w.mvc_w->type == lin &&
          m->w.gene_emb->type == SG_TYPE_F32 && m->w.layers[0].bqkv->type == SG_TYPE_F32);
    struct ref r = {0};
    CHECK(sg_st_open(refpath, &r.f) == SG_OK);
    const struct sg_st_tensor *ids = sg_st_find(r.f, "ids");
    r.n                            = ids->shape[0];
    r.S                            = ids->shape[1];
    r.ids                          = ids->data;
    r.len                          = ref_get(&r, "len");
    r.values                       = ref_get(&r, "values");
    r.gen                          = ref_get(&r, "gen");

    struct tx1_tokenizer tk;
    tx1_tokenizer_init(&tk, m, CONTEXT, 0);
    struct tx1_batch *all = tokenize_all(m, &tk);
    test_tokens_match_reference_collator(&r, all);

    struct sg_stream *s;
    CHECK(sg_device_open_stream(dev, 0, &s) == SG_OK);
    struct outputs batched = {0}, single = {0}, gen = {0};
    run_all(m, s, all, &r, 5, false, &batched);
    run_all(m, s, all, &r, 1, false, &single);
    run_all(m, s, all, &r, 4, true, &gen);
    if (f16) {
        /* only a loose check against the F32 reference; the exact checks ran on tiny_relu */
        struct err e      = {0};
        const float *want = ref_get(&r, "inf.cell_emb");
        for (int64_t i = 0; i < r.n * batched.d; i++) {
            double dd = fabs((double)batched.cell_emb[i] - want[i]);
            if (dd > e.max_abs) e.max_abs = dd;
            if (dd > 2e-2) e.bad++;
        }
        printf("    %-34s max abs %.3g (tol 2e-2: F16 weights)\n", "f16 cell_emb vs f32 reference", e.max_abs);
        CHECK(e.bad == 0);
    } else {
        check_outputs(&r, &batched, "inf", "batch 5:");
        check_outputs(&r, &single, "inf", "batch 1:");
        check_outputs(&r, &gen, "gen", "generative, batch 4:");
    }
    check_batched_equals_single(&r, &batched, &single);
    outputs_free(&batched);
    outputs_free(&single);
    outputs_free(&gen);
    sg_stream_free(s);
    tx1_batch_free(all);
    sg_st_close(r.f);
    tx1_model_free(m);
}

int main(void) {
    if (sg_backends_load() != SG_OK) {
        fprintf(stderr, "%s\n", sg_last_error());
        return 1;
    }
    static const char *const models[] = {"tiny_relu", "tiny_gelu_bf16", "tiny_relu_f16"};
    for (int i = 0; i < sg_backend_reg_count(); i++) {
        struct sg_backend_reg *reg = sg_backend_reg_get(i);
        for (int j = 0; j < sg_backend_reg_device_count(reg); j++) {
            struct sg_device *dev = sg_backend_reg_device(reg, j);
            for (size_t k = 0; k < sizeof models / sizeof models[0]; k++) test_model(models[k], dev, TX1_DTYPE_F32);
            /* bf16 GEMMs: an F32 checkpoint converted on load, and a BF16 one kept as is */
            test_model("tiny_relu", dev, TX1_DTYPE_BF16);
            test_model("tiny_gelu_bf16", dev, TX1_DTYPE_BF16);
        }
    }
    printf("%s test_tx1_parity\n", test_failures ? "FAIL" : "ok  ");
    return test_exit_code();
}
