/* test-backend-ops: the case table, the graph builder and deterministic input data. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/context.h"
#include "tests/backends/tbo.h"

const char *const tbo_layout_names[TBO_N_LAYOUTS] = {"cont", "trans", "perm", "strided"};

/* Elements of a guard tensor: more than the widest vector store (64 bytes) a kernel could
 * spill past the end of a tensor. */
#define TBO_GUARD_ELEMS 256
#define TBO_GUARD_NAME  "~guard"

double tbo_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

const char *tbo_dims(char *buf, size_t size, int nd, const int64_t *ne) {
    size_t n = 0;
    buf[0]   = '\0';
    for (int d = 0; d < nd && n < size; d++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", d ? "x" : "", (long long)ne[d]);
    return buf;
}

int tbo_rank(const int64_t *ne, int max_dims) {
    int r = max_dims;
    while (r > 1 && ne[r - 1] == 1) r--;
    return r;
}

/* ---- case table -------------------------------------------------------------------------- */

struct tbo_case *tbo_add(struct tbo_case_list *l, int op, unsigned modes, tbo_build_fn build, const void *params,
                         size_t size, const char *fmt, ...) {
    if (l->n == l->cap) {
        int cap            = l->cap ? 2 * l->cap : 256;
        struct tbo_case *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) {
            fprintf(stderr, "test-backend-ops: out of memory for the case table\n");
            exit(1);
        }
        l->v   = v;
        l->cap = cap;
    }
    struct tbo_case *c = &l->v[l->n++];
    *c                 = (struct tbo_case){
                        .op = op, .modes = modes, .build = build, .max_nmse = 1e-7, .max_grad_err = 1e-4, .grad_eps = 0.0625};
    c->params = malloc(size ? size : 1);
    if (!c->params) {
        fprintf(stderr, "test-backend-ops: out of memory for the case table\n");
        exit(1);
    }
    memcpy(c->params, params, size);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->name, sizeof c->name, fmt, ap);
    va_end(ap);
    return c;
}

void tbo_cases_free(struct tbo_case_list *l) {
    for (int i = 0; i < l->n; i++) free(l->v[i].params);
    free(l->v);
    *l = (struct tbo_case_list){0};
}

/* ---- builder ----------------------------------------------------------------------------- */

bool tbo_is_guard(const struct sg_tensor *t) { return strcmp(t->name, TBO_GUARD_NAME) == 0; }

/* Makes room for the per-tensor records of b up to tensor id. */
static bool tbo_builder_reserve(struct tbo_builder *b, int id) {
    if (id < b->cap) return true;
    int cap = b->cap ? b->cap : 32;
    while (cap <= id) cap *= 2;
    struct tbo_fill *f = realloc(b->fills, (size_t)cap * sizeof *f);
    if (!f) return false;
    b->fills = f;
    bool *in = realloc(b->is_input, (size_t)cap * sizeof *in);
    if (!in) return false;
    b->is_input = in;
    memset(b->is_input + b->cap, 0, (size_t)(cap - b->cap) * sizeof *in);
    b->cap = cap;
    return true;
}

/* In test mode every tensor with memory is followed by a guard, so an out-of-bounds write lands
 * in memory the test owns and checks (sg_alloc_ctx_tensors places tensors in creation order). */
static void tbo_guard(struct tbo_builder *b) {
    if (b->mode != TBO_TEST) return;
    sg_set_name(sg_new_tensor_1d(b->ctx, SG_TYPE_F32, TBO_GUARD_ELEMS), TBO_GUARD_NAME);
}

static struct sg_tensor *tbo_new_input(struct tbo_builder *b, enum sg_type type, int n_dims, const int64_t *ne,
                                       struct tbo_fill fill, bool param) {
    struct sg_tensor *t = sg_new_tensor(b->ctx, type, n_dims, ne);
    if (!t) return NULL;
    if (!tbo_builder_reserve(b, t->id)) {
        sg_ctx_fail(b->ctx, SG_ERR_NO_MEMORY, "test-backend-ops: out of memory");
        return NULL;
    }
    int n_inputs = 0;
    for (int i = 0; i < t->id; i++) n_inputs += b->is_input[i];
    sg_set_name(t, "%s%d", param ? "p" : "in", n_inputs);
    b->fills[t->id]    = fill;
    b->is_input[t->id] = true;
    if (param && b->mode == TBO_GRAD) sg_set_param(t);
    tbo_guard(b);
    return t;
}

struct sg_tensor *tbo_input(struct tbo_builder *b, enum sg_type type, int n_dims, const int64_t *ne,
                            struct tbo_fill fill) {
    return tbo_new_input(b, type, n_dims, ne, fill, false);
}

struct sg_tensor *tbo_param(struct tbo_builder *b, enum sg_type type, int n_dims, const int64_t *ne,
                            struct tbo_fill fill) {
    return tbo_new_input(b, type, n_dims, ne, fill, true);
}

struct sg_tensor *tbo_input_view(struct tbo_builder *b, enum sg_type type, int n_dims, const int64_t *ne,
                                 enum tbo_layout layout, struct tbo_fill fill, bool param) {
    int64_t full[SG_MAX_DIMS] = {1, 1, 1, 1, 1, 1};
    for (int d = 0; d < n_dims; d++) full[d] = ne[d];
    if (layout == TBO_PERM && n_dims < 3) layout = TBO_TRANS;
    if (layout == TBO_TRANS && n_dims < 2) n_dims = 2;

    int64_t base_ne[SG_MAX_DIMS];
    memcpy(base_ne, full, sizeof base_ne);
    switch (layout) {
    case TBO_CONT: break;
    case TBO_TRANS:
        base_ne[0] = full[1];
        base_ne[1] = full[0];
        break;
    case TBO_PERM: /* base dims 0,1,2 land at 1,2,0 */
        base_ne[0] = full[1];
        base_ne[1] = full[2];
        base_ne[2] = full[0];
        break;
    case TBO_STRIDED: base_ne[0] = full[0] + 3; break;
    case TBO_N_LAYOUTS: break;
    }
    struct sg_tensor *base = tbo_new_input(b, type, n_dims, base_ne, fill, param);
    if (!base) return NULL;
    switch (layout) {
    case TBO_TRANS: return sg_transpose(b->ctx, base);
    case TBO_PERM: return sg_permute(b->ctx, base, (const int[SG_MAX_DIMS]){1, 2, 0, 3, 4, 5});
    case TBO_STRIDED: {
        size_t esize = sg_type_size(type);
        return sg_view(b->ctx, base, n_dims, full, base->nb, 2 * esize);
    }
    default: return base;
    }
}

struct sg_tensor *tbo_node(struct tbo_builder *b, struct sg_tensor *t) {
    if (!t) return NULL;
    if (!t->name[0]) sg_set_name(t, "%s", sg_op_name(t->op));
    if (!t->view_src) tbo_guard(b);
    return t;
}

struct sg_tensor *tbo_build(const struct tbo_case *c, unsigned mode, struct tbo_builder *b, struct sg_graph **g,
                            char *err, size_t err_size) {
    *b = (struct tbo_builder){.ctx = sg_ctx_new(), .mode = mode};
    *g = NULL;
    if (!b->ctx) {
        snprintf(err, err_size, "out of memory for a context");
        return NULL;
    }
    struct sg_tensor *out = c->build(b, c->params);
    if (!out || sg_ctx_status(b->ctx) != SG_OK) {
        snprintf(err, err_size, "building the graph failed: %s", sg_ctx_error(b->ctx));
        return NULL;
    }
    *g = sg_graph_new(b->ctx);
    if (!*g || sg_graph_expand(*g, out) != SG_OK) {
        snprintf(err, err_size, "graph: %s", sg_last_error());
        return NULL;
    }
    return out;
}

void tbo_builder_free(struct tbo_builder *b) {
    sg_ctx_free(b->ctx);
    free(b->fills);
    free(b->is_input);
    *b = (struct tbo_builder){0};
}

bool tbo_graph_supported(const struct sg_device *dev, const struct sg_graph *g, int *op) {
    for (int i = 0; i < g->n_nodes; i++) {
        if (!sg_device_supports_op(dev, g->nodes[i])) {
            *op = g->nodes[i]->op;
            return false;
        }
    }
    return true;
}

/* ---- input data -------------------------------------------------------------------------- */

/* Values that exercise f16/bf16 conversion: the largest finite values and just past them,
 * overflow to infinity, subnormals, halfway cases that round to even either way, signed zero. */
static const double tbo_special_values[] = {
    65504.0,
    65519.0,
    65520.0,
    70000.0,
    -70000.0,
    5.9604644775390625e-8,
    1e-5,
    -3e-39,
    1.0 + 1.0 / 2048,
    1.0 + 3.0 / 2048,
    1.0 + 1.0 / 256,
    1.0 + 3.0 / 256,
    -0.0,
    1e38,
    3.4e38,
    0.1,
};

/* The Adam step the hyper-parameters describe: t = 3 with the usual betas. */
static double tbo_adam_value(int i, double clip) {
    const double beta1 = 0.9, beta2 = 0.999;
    switch (i) {
    case SG_ADAM_LR: return 1e-2;
    case SG_ADAM_BETA1: return beta1;
    case SG_ADAM_BETA2: return beta2;
    case SG_ADAM_EPS: return 1e-8;
    case SG_ADAM_WEIGHT_DECAY: return 0.1;
    case SG_ADAM_BETA1H: return 1.0 / (1.0 - beta1 * beta1 * beta1);
    case SG_ADAM_BETA2H: return 1.0 / (1.0 - beta2 * beta2 * beta2);
    case SG_ADAM_CLIP: return clip;
    default: return 0.0;
    }
}

static const int32_t tbo_oor_values[] = {-1, -7, 0 /* n */, 5 /* n + 5 */, INT32_MAX, INT32_MIN};

/* One element of an integer fill. */
static int32_t tbo_fill_int(const struct tbo_fill *f, const struct sg_tensor *t, int64_t i, uint64_t *s) {
    switch (f->kind) {
    case TBO_FILL_INDEX: return (int32_t)(f->lo + floor((f->hi - f->lo) * tbo_rand01(s)));
    case TBO_FILL_INDEX_OOR: {
        int64_t n = (int64_t)f->hi;
        if (tbo_rand01(s) < 1.0 / 6) {
            int k     = (int)(tbo_rand01(s) * 6);
            int32_t v = tbo_oor_values[k];
            return k == 2 || k == 3 ? (int32_t)(n + v) : v;
        }
        return (int32_t)floor((double)n * tbo_rand01(s));
    }
    case TBO_FILL_MASK: {
        /* a different pattern per batch column: mixed codes, padding-only (a fully hidden row:
         * no query sees any key), all SELF (queries past Sk see nothing), trailing padding */
        int64_t sk = t->ne[0], j = i % sk, b = i / sk;
        switch (b % 4) {
        case 0: {
            if (j < 3) return (int32_t)j; /* every code at least once */
            double r = tbo_rand01(s);
            return r < 0.25 ? SG_ATTN_KEY_HIDDEN : r < 0.75 ? SG_ATTN_KEY_VISIBLE : SG_ATTN_KEY_SELF;
        }
        case 1: return SG_ATTN_KEY_HIDDEN;
        case 2: return SG_ATTN_KEY_SELF;
        default: return j < sk - sk / 3 ? SG_ATTN_KEY_VISIBLE : SG_ATTN_KEY_HIDDEN;
        }
    }
    case TBO_FILL_CONST: return (int32_t)f->lo;
    default: return (int32_t)floor(4 * tbo_rand01(s));
    }
}

/* One element of a float fill. Grad fills are multiples of 2^-12 so that x +- eps (a power of
 * two) is exact: finite differences then see exactly the step they divide by. */
static double tbo_fill_float(const struct tbo_fill *f, const struct sg_tensor *t, int64_t i, uint64_t *s, bool grad) {
    double v = f->lo + (f->hi - f->lo) * tbo_rand01(s);
    if (grad) v = round(v * 4096.0) / 4096.0;
    switch (f->kind) {
    case TBO_FILL_UNIFORM: break;
    case TBO_FILL_AWAY:
        for (int k = 0; k < f->n_k; k++)
            if (fabs(v - f->k[k]) < f->margin) v = f->k[k] + (v >= f->k[k] ? f->margin : -f->margin);
        break;
    case TBO_FILL_KINKS:
        if (f->n_k > 0 && tbo_rand01(s) < 0.25) v = f->k[(int)(tbo_rand01(s) * f->n_k) % f->n_k];
        break;
    case TBO_FILL_TIES: {
        /* -0 and +0 compare equal: a radix select on the raw bits would rank them apart */
        static const double set[] = {-1.0, -0.0, 0.0, 0.5, 2.0};
        v                         = set[(int)(tbo_rand01(s) * 5) % 5];
        break;
    }
    case TBO_FILL_SPECIAL: {
        const int n = (int)(sizeof tbo_special_values / sizeof tbo_special_values[0]);
        if (i % 2 == 0) v = tbo_special_values[(i / 2) % n];
        break;
    }
    case TBO_FILL_NEG_INF:
        if (i % t->ne[0] != 0 && tbo_rand01(s) < 0.2) v = -INFINITY; /* element 0 of a row stays finite */
        break;
    case TBO_FILL_ADAM: v = tbo_adam_value((int)i, f->lo); break;
    case TBO_FILL_CONST: v = f->lo; break;
    default: break;
    }
    return v;
}

void tbo_fill_host(const struct sg_tensor *t, const struct tbo_fill *f, uint64_t seed, void *host, bool grad) {
    uint64_t s    = seed;
    int64_t n     = sg_nelements(t);
    bool int_kind = f->kind == TBO_FILL_INDEX || f->kind == TBO_FILL_INDEX_OOR || f->kind == TBO_FILL_MASK;
    for (int64_t i = 0; i < n; i++) {
        if (t->type == SG_TYPE_I32) {
            ((int32_t *)host)[i] =
                int_kind || f->kind == TBO_FILL_CONST ? tbo_fill_int(f, t, i, &s) : (int32_t)floor(8 * tbo_rand01(&s));
            continue;
        }
        float v = (float)tbo_fill_float(f, t, i, &s, grad);
        switch (t->type) {
        case SG_TYPE_F32: ((float *)host)[i] = v; break;
        case SG_TYPE_F16: ((uint16_t *)host)[i] = sg_f32_to_f16(v); break;
        case SG_TYPE_BF16: ((uint16_t *)host)[i] = sg_f32_to_bf16(v); break;
        default: break;
        }
    }
}

void tbo_free_copies(void **copies, int n) {
    if (!copies) return;
    for (int i = 0; i < n; i++) free(copies[i]);
    free(copies);
}

sg_status tbo_fill_inputs(struct tbo_builder *b, uint64_t seed, void ***copies) {
    int n       = sg_ctx_n_tensors(b->ctx);
    void **keep = NULL;
    if (copies) {
        keep = calloc((size_t)(n ? n : 1), sizeof *keep);
        if (!keep) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
        *copies = keep;
    }
    for (int i = 0; i < n && i < b->cap; i++) {
        if (!b->is_input[i]) continue;
        struct sg_tensor *t = sg_ctx_tensor(b->ctx, i);
        size_t bytes        = sg_nbytes(t);
        void *host          = malloc(bytes);
        if (!host) return sg_error(SG_ERR_NO_MEMORY, "out of memory for %zu bytes of input", bytes);
        tbo_fill_host(t, &b->fills[i], tbo_mix(seed ^ tbo_mix((uint64_t)i)), host, b->mode == TBO_GRAD);
        sg_status st = sg_tensor_set(t, host, 0, bytes);
        if (keep)
            keep[i] = host;
        else
            free(host);
        if (st != SG_OK) return st;
    }
    return SG_OK;
}

/* ---- reading results --------------------------------------------------------------------- */

sg_status tbo_read(const struct sg_tensor *t, double *out) {
    size_t span = sg_nbytes(t);
    char *raw   = malloc(span ? span : 1);
    if (!raw) return sg_error(SG_ERR_NO_MEMORY, "out of memory reading '%s'", t->name);
    sg_status st = sg_tensor_get(t, raw, 0, span);
    if (st == SG_OK) {
        int64_t n = sg_nelements(t), i[SG_MAX_DIMS] = {0};
        for (int64_t k = 0; k < n; k++) {
            size_t off = 0;
            for (int d = 0; d < SG_MAX_DIMS; d++) off += (size_t)i[d] * t->nb[d];
            const void *p = raw + off;
            switch (t->type) {
            case SG_TYPE_F32: out[k] = *(const float *)p; break;
            case SG_TYPE_F16: out[k] = sg_f16_to_f32(*(const uint16_t *)p); break;
            case SG_TYPE_BF16: out[k] = sg_bf16_to_f32(*(const uint16_t *)p); break;
            case SG_TYPE_I32: out[k] = *(const int32_t *)p; break;
            default: out[k] = NAN; break;
            }
            for (int d = 0; d < SG_MAX_DIMS; d++) {
                if (++i[d] < t->ne[d]) break;
                i[d] = 0;
            }
        }
    }
    free(raw);
    return st;
}
