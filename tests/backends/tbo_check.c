/* test-backend-ops, test mode: run a case on the device under test and on the CPU reference
 * kernels, compare every result, and check that nothing outside the results was written. Then
 * run it again through a scheduler, twice, the second time on new data (plan replay).
 *
 * Sentinels. After allocation every byte of the device's buffers is set to a NaN pattern. Inputs
 * are then written over it; results must overwrite their own bytes. After the run:
 *   - bytes that belong to no tensor (the guard tensors after each tensor, alignment padding)
 *     must still hold the pattern: anything else is an out-of-bounds write;
 *   - inputs must hold exactly what was written (unless the op updates them in place);
 *   - a result element the kernel forgot to write still holds the NaN pattern and fails the
 *     NaN check; a kernel reading past an input's end reads NaN and fails it too.
 * The whole buffer is read through a tensor placed over it at offset 0; a backend whose buffers
 * refuse that (init_tensor fails) gets the guard tensors checked one by one instead. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/context.h"
#include "core/sched.h"
#include "tests/backends/tbo.h"

/* A quiet NaN as f32 (and, read as f16 halves, a NaN and a small negative number); as I32 far
 * outside any index range. */
#define TBO_PATTERN 0x7fc5a5a5u

/* Largest squared error of a single element, in units of max_nmse x the mean squared reference. */
#define TBO_ELEM_FACTOR 1e3

/* ---- sentinels --------------------------------------------------------------------------- */

struct tbo_sentinels {
    struct sg_ctx *ctx; /* holds the whole-buffer tensors */
    int n;
    struct sg_tensor **whole; /* one per buffer, NULL where placing it failed */
    struct sg_buffer_list *bufs;
};

static void tbo_pattern(void *p, size_t bytes) {
    uint32_t w       = TBO_PATTERN;
    unsigned char *c = p;
    for (size_t i = 0; i < bytes; i++) c[i] = ((const unsigned char *)&w)[i % 4];
}

static bool tbo_is_pattern(const unsigned char *c, size_t off) {
    uint32_t w = TBO_PATTERN;
    return c[0] == ((const unsigned char *)&w)[off % 4];
}

/* Writes the pattern over every buffer of the case (or over each tensor with memory when a
 * whole-buffer tensor cannot be placed). */
static sg_status tbo_sentinels_arm(struct tbo_sentinels *s, struct sg_ctx *ctx, struct sg_buffer_list *bufs) {
    *s       = (struct tbo_sentinels){.ctx = sg_ctx_new(), .n = bufs->n, .bufs = bufs};
    s->whole = calloc((size_t)(bufs->n ? bufs->n : 1), sizeof *s->whole);
    if (!s->ctx || !s->whole) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    bool all = true;
    for (int i = 0; i < bufs->n; i++) {
        size_t size         = sg_buffer_size(bufs->bufs[i]);
        struct sg_tensor *w = sg_new_tensor_1d(s->ctx, SG_TYPE_I32, (int64_t)(size / 4));
        if (!w) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
        sg_set_name(w, "~buffer%d", i);
        if (sg_buffer_place_tensor(bufs->bufs[i], w, 0) != SG_OK) {
            all = false;
            continue;
        }
        void *host = malloc(size);
        if (!host) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
        tbo_pattern(host, size);
        sg_status st = sg_tensor_set(w, host, 0, sg_nbytes(w));
        free(host);
        if (st != SG_OK) return st;
        s->whole[i] = w;
    }
    if (all) return SG_OK;
    for (int i = 0; i < sg_ctx_n_tensors(ctx); i++) { /* fallback: tensor by tensor */
        struct sg_tensor *t = sg_ctx_tensor(ctx, i);
        if (t->view_src || !t->data) continue;
        size_t bytes = sg_nbytes(t);
        void *host   = malloc(bytes);
        if (!host) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
        tbo_pattern(host, bytes);
        sg_status st = sg_tensor_set(t, host, 0, bytes);
        free(host);
        if (st != SG_OK) return st;
    }
    return SG_OK;
}

static void tbo_sentinels_free(struct tbo_sentinels *s) {
    if (s->ctx) sg_ctx_free(s->ctx);
    free(s->whole);
    *s = (struct tbo_sentinels){0};
}

/* Bytes of a tensor that the test reads as its own. */
struct tbo_range {
    size_t off, end;
    const struct sg_tensor *t;
};

static int tbo_range_cmp(const void *a, const void *b) {
    const struct tbo_range *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

static bool tbo_updated_in_place(const struct sg_tensor *t) { return (t->flags & SG_FLAG_OUTPUT) != 0; }

/* Checks one buffer read back whole. */
static bool tbo_check_buffer(const unsigned char *raw, size_t size, const struct sg_tensor *whole, struct sg_ctx *ctx,
                             const struct sg_buffer *buf, void **inputs, char *msg, size_t msg_size) {
    int n = sg_ctx_n_tensors(ctx), nr = 0;
    struct tbo_range *r = malloc((size_t)(n ? n : 1) * sizeof *r);
    if (!r) {
        snprintf(msg, msg_size, "out of memory");
        return false;
    }
    for (int i = 0; i < n; i++) {
        struct sg_tensor *t = sg_ctx_tensor(ctx, i);
        if (t->view_src || t->buffer != buf || !t->data || tbo_is_guard(t)) continue;
        size_t off = (size_t)((const char *)t->data - (const char *)whole->data);
        r[nr++]    = (struct tbo_range){off, off + sg_nbytes(t), t};
    }
    qsort(r, (size_t)nr, sizeof *r, tbo_range_cmp);
    bool ok    = true;
    size_t pos = 0;
    for (int k = 0; k <= nr && ok; k++) {
        size_t stop = k < nr ? r[k].off : size;
        for (size_t p = pos; p < stop; p++) {
            if (tbo_is_pattern(raw + p, p)) continue;
            size_t q = p;
            while (q < stop && !tbo_is_pattern(raw + q, q)) q++;
            if (k > 0)
                snprintf(msg, msg_size, "out-of-bounds write: bytes %zu..%zu past the end of '%s' (%s) were changed",
                         p - r[k - 1].end, q - r[k - 1].end, r[k - 1].t->name, sg_op_name(r[k - 1].t->op));
            else
                snprintf(msg, msg_size, "out-of-bounds write: bytes %zu..%zu before the first tensor were changed", p,
                         q);
            ok = false;
            break;
        }
        if (k == nr || !ok) break;
        const struct sg_tensor *t = r[k].t;
        if (inputs && inputs[t->id] && !tbo_updated_in_place(t) &&
            memcmp(raw + r[k].off, inputs[t->id], r[k].end - r[k].off) != 0) {
            snprintf(msg, msg_size, "input '%s' was modified by the computation", t->name);
            ok = false;
        }
        if (r[k].end > pos) pos = r[k].end;
    }
    free(r);
    return ok;
}

/* Fallback check through the guard tensors and inputs, tensor by tensor. */
static bool tbo_check_tensors(struct sg_ctx *ctx, void **inputs, char *msg, size_t msg_size) {
    for (int i = 0; i < sg_ctx_n_tensors(ctx); i++) {
        struct sg_tensor *t = sg_ctx_tensor(ctx, i);
        bool input          = inputs && inputs[i] && !tbo_updated_in_place(t);
        if (t->view_src || !t->data || !(tbo_is_guard(t) || input)) continue;
        size_t bytes       = sg_nbytes(t);
        unsigned char *raw = malloc(bytes);
        if (!raw || sg_tensor_get(t, raw, 0, bytes) != SG_OK) {
            free(raw);
            snprintf(msg, msg_size, "reading '%s' back failed: %s", t->name, sg_last_error());
            return false;
        }
        bool ok = true;
        if (input) {
            ok = memcmp(raw, inputs[i], bytes) == 0;
            if (!ok) snprintf(msg, msg_size, "input '%s' was modified by the computation", t->name);
        } else {
            for (size_t p = 0; p < bytes && ok; p++) ok = tbo_is_pattern(raw + p, p);
            if (!ok) {
                const struct sg_tensor *prev = i > 0 ? sg_ctx_tensor(ctx, i - 1) : t;
                snprintf(msg, msg_size, "out-of-bounds write into the guard after '%s' (%s)", prev->name,
                         sg_op_name(prev->op));
            }
        }
        free(raw);
        if (!ok) return false;
    }
    return true;
}

static bool tbo_sentinels_check(struct tbo_sentinels *s, struct sg_ctx *ctx, void **inputs, char *msg,
                                size_t msg_size) {
    bool fallback = false;
    for (int i = 0; i < s->n; i++) {
        if (!s->whole[i]) {
            fallback = true;
            continue;
        }
        size_t size        = sg_nbytes(s->whole[i]);
        unsigned char *raw = malloc(size);
        if (!raw || sg_tensor_get(s->whole[i], raw, 0, size) != SG_OK) {
            free(raw);
            snprintf(msg, msg_size, "reading the buffer back failed: %s", sg_last_error());
            return false;
        }
        bool ok = tbo_check_buffer(raw, size, s->whole[i], ctx, s->bufs->bufs[i], inputs, msg, msg_size);
        free(raw);
        if (!ok) return false;
    }
    return !fallback || tbo_check_tensors(ctx, inputs, msg, msg_size);
}

/* ---- comparing results ------------------------------------------------------------------- */

/* "[3, 1]" for element k of t. */
static void tbo_index_str(const struct sg_tensor *t, int64_t k, char *buf, size_t size) {
    int r    = sg_rank(t);
    size_t n = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < r && n < size; d++) {
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", d ? ", " : "", (long long)(k % t->ne[d]));
        k /= t->ne[d];
    }
    if (n < size) snprintf(buf + n, size - n, "]");
}

/* NMSE sum((a-r)^2) / sum(r^2) over the finite reference values; non-finite reference values
 * must be matched exactly, and a NaN or Inf where the reference is finite fails outright. */
static bool tbo_cmp_nmse(const struct sg_tensor *t, const double *a, const double *r, int64_t n, double max_nmse,
                         double *nmse, char *msg, size_t msg_size) {
    double num = 0.0, den = 0.0, worst = -1.0;
    int64_t iw = 0;
    char at[64];
    for (int64_t i = 0; i < n; i++) {
        if (isnan(r[i]) || isinf(r[i]) || !isfinite(a[i])) {
            if ((isnan(r[i]) && isnan(a[i])) || (isinf(r[i]) && a[i] == r[i])) continue;
            tbo_index_str(t, i, at, sizeof at);
            snprintf(msg, msg_size, "'%s' element %s is %g, the reference %g", t->name, at, a[i], r[i]);
            *nmse = INFINITY;
            return false;
        }
        double e = (a[i] - r[i]) * (a[i] - r[i]);
        num += e;
        den += r[i] * r[i];
        if (e > worst) worst = e, iw = i;
    }
    *nmse = den > 0.0 ? num / den : num; /* an all-zero reference: the absolute squared error */
    /* NMSE averages: one wrong element in a large tensor barely moves it. So the worst element
     * must also stay within TBO_ELEM_FACTOR x max_nmse of the mean squared reference value
     * (rounding spreads evenly; a bug in one tile or tail element does not). */
    double ms    = den > 0.0 ? den / (double)n : 1.0;
    bool elem_ok = worst <= TBO_ELEM_FACTOR * max_nmse * ms;
    if (*nmse <= max_nmse && elem_ok) return true;
    tbo_index_str(t, iw, at, sizeof at);
    snprintf(msg, msg_size, "'%s' %s (nmse=%.2e, limit %.0e; worst element %s: %.9g, reference %.9g)", t->name,
             *nmse > max_nmse ? "nmse too high" : "one element far off", *nmse, max_nmse, at, a[iw], r[iw]);
    return false;
}

static bool tbo_cmp_exact(const struct sg_tensor *t, const double *a, const double *r, int64_t n, char *msg,
                          size_t msg_size) {
    for (int64_t i = 0; i < n; i++) {
        if (a[i] == r[i] || (isnan(a[i]) && isnan(r[i]))) continue;
        char at[64];
        tbo_index_str(t, i, at, sizeof at);
        snprintf(msg, msg_size, "'%s' element %s is %.9g, the reference %.9g (exact match expected)", t->name, at, a[i],
                 r[i]);
        return false;
    }
    return true;
}

/* top_k: the contract fixes the order (value descending, ties to the lower index), so indices
 * must match exactly; a mismatch is explained as a tie-order or a selection error. */
static bool tbo_cmp_top_k(const struct sg_tensor *t_ref, const double *a, const double *r, char *msg, size_t msg_size) {
    const struct sg_tensor *x = t_ref->src[0];
    int64_t k = t_ref->ne[0], rows = sg_nrows(t_ref), N = x->ne[0];
    int64_t bad = -1;
    for (int64_t i = 0; i < k * rows && bad < 0; i++)
        if (a[i] != r[i]) bad = i;
    if (bad < 0) return true;
    int64_t row = bad / k;
    double *xv  = malloc((size_t)sg_nelements(x) * sizeof *xv);
    if (!xv || tbo_read(x, xv) != SG_OK) {
        free(xv);
        snprintf(msg, msg_size, "top_k row %lld rank %lld: index %g, reference %g", (long long)row,
                 (long long)(bad % k), a[bad], r[bad]);
        return false;
    }
    const double *xr = xv + row * N;
    const double *ar = a + row * k, *rr = r + row * k;
    const char *what = "tie order differs (ties must go to the lower index)";
    for (int64_t j = 0; j < k; j++) {
        if (ar[j] < 0 || ar[j] >= (double)N) {
            what = "index out of range";
            break;
        }
        for (int64_t m = 0; m < j; m++)
            if (ar[m] == ar[j]) what = "duplicate index";
        if (xr[(int64_t)ar[j]] != xr[(int64_t)rr[j]]) {
            what = "wrong selection or order";
            break;
        }
    }
    int64_t j = bad % k;
    double xa = ar[j] >= 0 && ar[j] < (double)N ? xr[(int64_t)ar[j]] : NAN;
    snprintf(msg, msg_size, "top_k row %lld rank %lld: index %g (x=%g), reference %g (x=%g): %s", (long long)row,
             (long long)j, ar[j], xa, rr[j], xr[(int64_t)rr[j]], what);
    free(xv);
    return false;
}

/* Tensors a case's results live in: every node with its own memory, and the inputs an op
 * updates in place (flagged OUTPUT by the builder). */
static bool tbo_is_result(const struct sg_tensor *t, const struct sg_graph *g) {
    if (t->view_src || tbo_is_guard(t) || !sg_graph_contains(g, t)) return false;
    return t->op != SG_OP_NONE || (t->flags & SG_FLAG_OUTPUT);
}

/* Compares every result; *worst is the largest NMSE, or -1 when every result was compared
 * exactly. */
static bool tbo_compare(const struct tbo_case *c, struct tbo_builder *bd, struct sg_graph *gd, struct tbo_builder *br,
                        double *worst, char *msg, size_t msg_size) {
    *worst = -1.0;
    int n  = sg_ctx_n_tensors(bd->ctx);
    for (int i = 0; i < n; i++) {
        const struct sg_tensor *td = sg_ctx_tensor(bd->ctx, i), *tr = sg_ctx_tensor(br->ctx, i);
        if (!tbo_is_result(td, gd)) continue;
        int64_t ne = sg_nelements(td);
        double *a = malloc((size_t)ne * sizeof *a), *r = malloc((size_t)ne * sizeof *r);
        bool ok = a && r;
        if (!ok) snprintf(msg, msg_size, "out of memory comparing '%s'", td->name);
        if (ok && (tbo_read(td, a) != SG_OK || tbo_read(tr, r) != SG_OK)) {
            snprintf(msg, msg_size, "reading '%s' failed: %s", td->name, sg_last_error());
            ok = false;
        }
        if (ok) {
            double nmse = -1.0;
            if (td->type == SG_TYPE_I32 && td->op == SG_OP_TOP_K)
                ok = tbo_cmp_top_k(tr, a, r, msg, msg_size);
            else if (td->type == SG_TYPE_I32 || c->cmp == TBO_CMP_EXACT)
                ok = tbo_cmp_exact(td, a, r, ne, msg, msg_size);
            else
                ok = tbo_cmp_nmse(td, a, r, ne, c->max_nmse, &nmse, msg, msg_size);
            if (nmse > *worst) *worst = nmse;
        }
        free(a);
        free(r);
        if (!ok) return false;
    }
    return true;
}

/* ---- one case ---------------------------------------------------------------------------- */

/* Runs the reference on data `seed`, then compares the device's results (already computed on
 * the same data) and checks the sentinels. */
static bool tbo_verify(struct tbo_env *env, const struct tbo_case *c, struct tbo_builder *bd, struct sg_graph *gd,
                       struct tbo_builder *br, struct sg_graph *gr, struct tbo_sentinels *sent, void **inputs,
                       uint64_t seed, double *nmse, char *msg, size_t msg_size) {
    if (tbo_fill_inputs(br, seed, NULL) != SG_OK) {
        snprintf(msg, msg_size, "setting reference inputs failed: %s", sg_last_error());
        return false;
    }
    if (sg_stream_compute(env->ref, gr) != SG_OK) {
        snprintf(msg, msg_size, "reference compute failed: %s", sg_last_error());
        return false;
    }
    return tbo_compare(c, bd, gd, br, nmse, msg, msg_size) && tbo_sentinels_check(sent, bd->ctx, inputs, msg, msg_size);
}

/* Pattern over the device's buffers, then inputs `seed` over it. */
static bool tbo_arm(struct tbo_sentinels *sent, struct tbo_builder *bd, struct sg_buffer_list *bufs, uint64_t seed,
                    void ***inputs, char *msg, size_t msg_size) {
    tbo_sentinels_free(sent);
    tbo_free_copies(*inputs, sg_ctx_n_tensors(bd->ctx));
    *inputs = NULL;
    if (tbo_sentinels_arm(sent, bd->ctx, bufs) != SG_OK || tbo_fill_inputs(bd, seed, inputs) != SG_OK) {
        snprintf(msg, msg_size, "setting inputs failed: %s", sg_last_error());
        return false;
    }
    return true;
}

/* Graph reuse: a backend may record a plan (command buffers, a CUDA graph) the first time a
 * scheduler runs a graph and replay it afterwards. Run the graph through a scheduler on other
 * data (recording), then on fresh data over fresh sentinels (replaying): the replay must read
 * the new inputs and write every result again. */
static bool tbo_replay(struct tbo_env *env, struct tbo_device *d, const struct tbo_case *c, struct tbo_builder *bd,
                       struct sg_graph *gd, struct tbo_builder *br, struct sg_graph *gr, struct sg_buffer_list *bufs,
                       struct tbo_sentinels *sent, void ***inputs, uint64_t seed, double *nmse, char *msg,
                       size_t msg_size) {
    struct sg_sched *sched = NULL;
    bool ok                = false;
    char why[768];
    if (sg_sched_new(d->stream, env->threads, &sched) != SG_OK) {
        snprintf(msg, msg_size, "replay: cannot create a scheduler: %s", sg_last_error());
        return false;
    }
    if (tbo_fill_inputs(bd, tbo_mix(seed + 1), NULL) != SG_OK || sg_sched_compute(sched, gd) != SG_OK) {
        snprintf(msg, msg_size, "replay: first scheduled run failed: %s", sg_last_error());
        goto done;
    }
    if (!tbo_arm(sent, bd, bufs, tbo_mix(seed + 2), inputs, msg, msg_size)) goto done;
    if (sg_sched_compute(sched, gd) != SG_OK) {
        snprintf(msg, msg_size, "replay: second scheduled run failed: %s", sg_last_error());
        goto done;
    }
    ok = tbo_verify(env, c, bd, gd, br, gr, sent, *inputs, tbo_mix(seed + 2), nmse, why, sizeof why);
    if (!ok) snprintf(msg, msg_size, "replay with new inputs: %s", why);
done:
    sg_sched_free(sched);
    return ok;
}

enum tbo_result tbo_run_test(struct tbo_env *env, struct tbo_device *d, const struct tbo_case *c, uint64_t seed,
                             char *msg, size_t msg_size) {
    struct tbo_builder bd = {0}, br = {0};
    struct sg_graph *gd = NULL, *gr = NULL;
    struct sg_buffer_list bufs_d = {0}, bufs_r = {0};
    struct tbo_sentinels sent = {0};
    void **inputs             = NULL;
    enum tbo_result res       = TBO_FAIL;
    char err[512];
    int op;

    if (!tbo_build(c, TBO_TEST, &bd, &gd, err, sizeof err)) {
        snprintf(msg, msg_size, "%s", err);
        goto done;
    }
    if (!tbo_graph_supported(d->dev, gd, &op)) {
        d->lacks[op] = true;
        snprintf(msg, msg_size, "%s", sg_op_name(op));
        res = TBO_UNSUPPORTED;
        goto done;
    }
    if (!tbo_build(c, TBO_TEST, &br, &gr, err, sizeof err)) {
        snprintf(msg, msg_size, "reference: %s", err);
        goto done;
    }
    if (sg_alloc_ctx_tensors(bd.ctx, sg_device_buffer_type(d->dev), &bufs_d) != SG_OK) {
        snprintf(msg, msg_size, "allocation on %s failed: %s", d->name, sg_last_error());
        res = TBO_SKIP;
        goto done;
    }
    if (sg_alloc_ctx_tensors(br.ctx, sg_device_buffer_type(sg_device_cpu()), &bufs_r) != SG_OK) {
        snprintf(msg, msg_size, "allocation for the reference failed: %s", sg_last_error());
        res = TBO_SKIP;
        goto done;
    }
    if (!tbo_arm(&sent, &bd, &bufs_d, seed, &inputs, msg, msg_size)) goto done;
    sg_status st = sg_stream_compute(d->stream, gd);
    if (st == SG_OK) st = sg_stream_synchronize(d->stream);
    if (st != SG_OK) {
        snprintf(msg, msg_size, "compute on %s failed: %s", d->name, sg_last_error());
        goto done;
    }
    double nmse, nmse2;
    if (!tbo_verify(env, c, &bd, gd, &br, gr, &sent, inputs, seed, &nmse, msg, msg_size)) goto done;
    if (!tbo_replay(env, d, c, &bd, gd, &br, gr, &bufs_d, &sent, &inputs, seed, &nmse2, msg, msg_size)) goto done;
    if (nmse2 > nmse) nmse = nmse2;
    if (nmse < 0)
        snprintf(msg, msg_size, "exact");
    else
        snprintf(msg, msg_size, "nmse=%.1e", nmse);
    res = TBO_OK;

done:
    tbo_free_copies(inputs, bd.ctx ? sg_ctx_n_tensors(bd.ctx) : 0);
    tbo_sentinels_free(&sent);
    sg_buffer_list_free(&bufs_d);
    sg_buffer_list_free(&bufs_r);
    tbo_builder_free(&bd);
    tbo_builder_free(&br);
    return res;
}
