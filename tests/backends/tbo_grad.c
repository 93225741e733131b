/* test-backend-ops, grad mode: analytic gradients (sg_graph_backward) against central finite
 * differences, both computed on the device under test.
 *
 * loss = sum(out * R) with a fixed random R, so that errors in different elements cannot
 * cancel and every output element matters. The finite-difference loss is summed on the host in
 * double from the f32 output (f32 rounding of one big sum would otherwise dominate the
 * difference quotient), with the 4-point formula
 *     f'(x) ~ (8 f(x + h/2) - 8 f(x - h/2) - f(x + h) + f(x - h)) / (6 h)
 * whose truncation error is O(h^4). Inputs are multiples of 2^-12 and h a power of two, so the
 * perturbed inputs are exact.
 *
 * Error measure (the mean absolute asymmetric error of ggml, made robust near zero):
 *     mean_i |a_i - n_i| / (|a_i| + |n_i| + 0.1 rms(n))
 * A gradient element far below the typical one is judged on that typical scale, because finite
 * differences only resolve it to an absolute precision. The worst element is bounded too. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/context.h"
#include "tests/backends/tbo.h"

/* Elements checked per parameter; larger parameters get a seeded sample. */
#define TBO_GRAD_NMAX 192
/* A mean hides one bad element among hundreds: the worst one may be at most this many times the
 * mean's limit (a 2% error in a single element fails). */
#define TBO_GRAD_WORST_FACTOR 100

struct tbo_fd {
    struct sg_stream *stream;
    struct sg_graph *fwd;
    struct sg_tensor *out;
    const float *R;
    double *buf; /* out, read back */
    int64_t n_out;
};

/* The loss for the current inputs, from a forward run. */
static sg_status tbo_fd_loss(struct tbo_fd *fd, double *loss) {
    sg_status st = sg_stream_compute(fd->stream, fd->fwd);
    if (st == SG_OK) st = sg_stream_synchronize(fd->stream);
    if (st == SG_OK) st = tbo_read(fd->out, fd->buf);
    if (st != SG_OK) return st;
    double s = 0.0;
    for (int64_t i = 0; i < fd->n_out; i++) s += fd->buf[i] * (double)fd->R[i];
    *loss = s;
    return SG_OK;
}

/* d loss / d p[i] by finite differences; p is a contiguous F32 leaf whose host copy is x. */
static sg_status tbo_fd_grad(struct tbo_fd *fd, struct sg_tensor *p, const float *x, int64_t i, double h,
                             double *grad) {
    static const double steps[4] = {0.5, -0.5, 1.0, -1.0};
    double f[4];
    for (int s = 0; s < 4; s++) {
        float xp     = (float)((double)x[i] + steps[s] * h);
        sg_status st = sg_tensor_set(p, &xp, (size_t)i * sizeof(float), sizeof(float));
        if (st == SG_OK) st = tbo_fd_loss(fd, &f[s]);
        if (st != SG_OK) return st;
    }
    *grad = (8.0 * f[0] - 8.0 * f[1] - f[2] + f[3]) / (6.0 * h);
    return sg_tensor_set(p, &x[i], (size_t)i * sizeof(float), sizeof(float));
}

/* Checks every parameter of the case; adds to the error sum and element count. */
static bool tbo_grad_params(struct tbo_fd *fd, struct tbo_builder *b, struct sg_graph *g, void **copies,
                            const struct tbo_case *c, uint64_t seed, double *err_sum, int64_t *n_err, double *worst,
                            char *worst_at, size_t worst_size, char *msg, size_t msg_size) {
    int n_params = 0;
    for (int t = 0; t < sg_ctx_n_tensors(b->ctx); t++) {
        struct sg_tensor *p = sg_ctx_tensor(b->ctx, t);
        if (!(p->flags & SG_FLAG_PARAM)) continue;
        n_params++;
        struct sg_tensor *gp = sg_graph_grad(g, p);
        if (!gp) {
            snprintf(msg, msg_size, "no gradient reaches parameter '%s'", p->name);
            return false;
        }
        int64_t n   = sg_nelements(p);
        double *ana = malloc((size_t)n * sizeof *ana), *num = malloc((size_t)n * sizeof *num);
        int64_t *sel = malloc((size_t)n * sizeof *sel);
        bool ok      = ana && num && sel;
        if (!ok) snprintf(msg, msg_size, "out of memory");
        if (ok && tbo_read(gp, ana) != SG_OK) {
            snprintf(msg, msg_size, "reading the gradient of '%s' failed: %s", p->name, sg_last_error());
            ok = false;
        }
        /* which elements: all, or a seeded sample */
        int64_t m = n;
        for (int64_t i = 0; ok && i < n; i++) sel[i] = i;
        if (ok && n > TBO_GRAD_NMAX) {
            uint64_t s = tbo_mix(seed ^ (uint64_t)t);
            for (int64_t i = 0; i < TBO_GRAD_NMAX; i++) {
                int64_t j   = i + (int64_t)(tbo_rand01(&s) * (double)(n - i));
                int64_t tmp = sel[i];
                sel[i]      = sel[j];
                sel[j]      = tmp;
            }
            m = TBO_GRAD_NMAX;
        }
        double rms = 0.0;
        for (int64_t k = 0; ok && k < m; k++) {
            int64_t i = sel[k];
            if (!isfinite(ana[i])) {
                snprintf(msg, msg_size, "gradient of '%s' element %lld is %g", p->name, (long long)i, ana[i]);
                ok = false;
                break;
            }
            if (tbo_fd_grad(fd, p, copies[t], i, c->grad_eps, &num[i]) != SG_OK) {
                snprintf(msg, msg_size, "finite differences failed: %s", sg_last_error());
                ok = false;
                break;
            }
            rms += num[i] * num[i];
        }
        rms = sqrt(rms / (double)(m ? m : 1));
        for (int64_t k = 0; ok && k < m; k++) {
            int64_t i = sel[k];
            double e  = fabs(ana[i] - num[i]) / (fabs(ana[i]) + fabs(num[i]) + 0.1 * rms + 1e-30);
            *err_sum += e;
            (*n_err)++;
            if (e > *worst) {
                *worst = e;
                snprintf(worst_at, worst_size, "%s[%lld]: analytic %.7g, numeric %.7g", p->name, (long long)i, ana[i],
                         num[i]);
            }
        }
        free(ana);
        free(num);
        free(sel);
        if (!ok) return false;
    }
    if (n_params == 0) {
        snprintf(msg, msg_size, "the case has no parameters");
        return false;
    }
    return true;
}

enum tbo_result tbo_run_grad(struct tbo_env *env, struct tbo_device *d, const struct tbo_case *c, uint64_t seed,
                             char *msg, size_t msg_size) {
    (void)env;
    struct tbo_builder b       = {0};
    struct sg_graph *g0        = NULL;
    struct sg_buffer_list bufs = {0};
    void **copies              = NULL;
    double *outbuf             = NULL;
    enum tbo_result res        = TBO_FAIL;
    char err[512];
    int op;

    struct sg_tensor *out = tbo_build(c, TBO_GRAD, &b, &g0, err, sizeof err);
    if (!out) {
        snprintf(msg, msg_size, "%s", err);
        goto done;
    }
    struct sg_tensor *R    = tbo_input(&b, SG_TYPE_F32, SG_MAX_DIMS, out->ne, tbo_uniform(-1.0, 1.0));
    struct sg_tensor *loss = sg_sum(b.ctx, sg_mul(b.ctx, out, R));
    struct sg_graph *g     = sg_graph_new(b.ctx);
    if (!loss || !g || sg_graph_expand(g, loss) != SG_OK) {
        snprintf(msg, msg_size, "building the loss failed: %s", sg_ctx_error(b.ctx));
        goto done;
    }
    if (sg_graph_backward(g, loss) != SG_OK) {
        snprintf(msg, msg_size, "%s", sg_last_error());
        goto done;
    }
    if (!tbo_graph_supported(d->dev, g, &op)) {
        d->lacks[op] = true;
        snprintf(msg, msg_size, "%s", sg_op_name(op));
        res = TBO_UNSUPPORTED;
        goto done;
    }
    if (sg_alloc_ctx_tensors(b.ctx, sg_device_buffer_type(d->dev), &bufs) != SG_OK) {
        snprintf(msg, msg_size, "allocation on %s failed: %s", d->name, sg_last_error());
        res = TBO_SKIP;
        goto done;
    }
    if (tbo_fill_inputs(&b, seed, &copies) != SG_OK) {
        snprintf(msg, msg_size, "setting inputs failed: %s", sg_last_error());
        goto done;
    }
    sg_status st = sg_stream_compute(d->stream, g);
    if (st == SG_OK) st = sg_stream_synchronize(d->stream);
    if (st != SG_OK) {
        snprintf(msg, msg_size, "compute on %s failed: %s", d->name, sg_last_error());
        goto done;
    }
    outbuf = malloc((size_t)sg_nelements(out) * sizeof *outbuf);
    if (!outbuf) {
        snprintf(msg, msg_size, "out of memory");
        goto done;
    }
    struct tbo_fd fd = {
        .stream = d->stream, .fwd = g0, .out = out, .R = copies[R->id], .buf = outbuf, .n_out = sg_nelements(out)};
    double err_sum = 0.0, worst = 0.0;
    int64_t n_err      = 0;
    char worst_at[192] = "";
    if (!tbo_grad_params(&fd, &b, g, copies, c, seed, &err_sum, &n_err, &worst, worst_at, sizeof worst_at, msg,
                         msg_size))
        goto done;
    double maa = err_sum / (double)(n_err ? n_err : 1);
    if (maa > c->max_grad_err || worst > TBO_GRAD_WORST_FACTOR * c->max_grad_err) {
        snprintf(msg, msg_size, "%s: error=%.2e (limit %.0e) over %lld elements, worst %.2e at %s",
                 maa > c->max_grad_err ? "mean error too high" : "one element far off", maa, c->max_grad_err,
                 (long long)n_err, worst, worst_at);
        goto done;
    }
    snprintf(msg, msg_size, "error=%.1e (%lld elements, worst %.1e)", maa, (long long)n_err, worst);
    res = TBO_OK;

done:
    free(outbuf);
    tbo_free_copies(copies, b.ctx ? sg_ctx_n_tensors(b.ctx) : 0);
    sg_buffer_list_free(&bufs);
    tbo_builder_free(&b);
    return res;
}
