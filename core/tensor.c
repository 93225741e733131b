#include "tensor.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "backend_impl.h"
#include "context.h"
#include "core_impl.h"
#include "ops.h"

void sg_tensor_set_shape(struct sg_tensor *t, enum sg_type type, int n_dims, const int64_t *ne) {
    t->type = type;
    for (int d = 0; d < SG_MAX_DIMS; d++) t->ne[d] = d < n_dims ? ne[d] : 1;
    t->nb[0] = sg_type_size(type);
    for (int d = 1; d < SG_MAX_DIMS; d++) t->nb[d] = t->nb[d - 1] * (size_t)t->ne[d - 1];
}

static struct sg_tensor *tensor_alloc(struct sg_ctx *ctx) {
    struct sg_tensor *t = sg_ctx_alloc(ctx, sizeof *t);
    if (!t || sg_ctx_add_tensor(ctx, t) != 0)
        return sg_ctx_fail(ctx, SG_ERR_NO_MEMORY, "out of memory for tensor metadata");
    t->ctx = ctx;
    return t;
}

struct sg_tensor *sg_new_tensor(struct sg_ctx *ctx, enum sg_type type, int n_dims, const int64_t *ne) {
    if (!ctx) return NULL;
    if ((unsigned)type >= SG_TYPE_COUNT)
        return sg_ctx_fail(ctx, SG_ERR_INVALID_ARG, "new tensor: unknown type %d", (int)type);
    if (n_dims < 1 || n_dims > SG_MAX_DIMS)
        return sg_ctx_fail(ctx, SG_ERR_INVALID_ARG, "new tensor: rank %d outside 1..%d", n_dims, SG_MAX_DIMS);
    for (int d = 0; d < n_dims; d++)
        if (ne[d] < 1)
            return sg_ctx_fail(ctx, SG_ERR_INVALID_ARG, "new tensor: dimension %d has size %lld", d, (long long)ne[d]);
    struct sg_tensor *t = tensor_alloc(ctx);
    if (!t) return NULL;
    sg_tensor_set_shape(t, type, n_dims, ne);
    return t;
}

struct sg_tensor *sg_new_tensor_1d(struct sg_ctx *ctx, enum sg_type type, int64_t ne0) {
    return sg_new_tensor(ctx, type, 1, (int64_t[]){ne0});
}

struct sg_tensor *sg_new_tensor_2d(struct sg_ctx *ctx, enum sg_type type, int64_t ne0, int64_t ne1) {
    return sg_new_tensor(ctx, type, 2, (int64_t[]){ne0, ne1});
}

struct sg_tensor *sg_new_tensor_3d(struct sg_ctx *ctx, enum sg_type type, int64_t ne0, int64_t ne1, int64_t ne2) {
    return sg_new_tensor(ctx, type, 3, (int64_t[]){ne0, ne1, ne2});
}

struct sg_tensor *sg_new_tensor_4d(struct sg_ctx *ctx, enum sg_type type, int64_t ne0, int64_t ne1, int64_t ne2,
                                   int64_t ne3) {
    return sg_new_tensor(ctx, type, 4, (int64_t[]){ne0, ne1, ne2, ne3});
}

struct sg_tensor *sg_dup_tensor(struct sg_ctx *ctx, const struct sg_tensor *a) {
    if (!a) return NULL;
    return sg_new_tensor(ctx, a->type, SG_MAX_DIMS, a->ne);
}

struct sg_tensor *sg_set_name(struct sg_tensor *t, const char *fmt, ...) {
    if (!t) return NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
    return t;
}

static struct sg_tensor *set_flag(struct sg_tensor *t, int flag) {
    if (t) t->flags |= flag;
    return t;
}

struct sg_tensor *sg_set_input(struct sg_tensor *t) {
    return set_flag(t, SG_FLAG_INPUT);
}
struct sg_tensor *sg_set_output(struct sg_tensor *t) {
    return set_flag(t, SG_FLAG_OUTPUT);
}

struct sg_tensor *sg_set_param(struct sg_tensor *t) {
    if (t && t->op != SG_OP_NONE)
        return sg_ctx_fail(t->ctx, SG_ERR_INVALID_ARG, "set_param: '%s' is computed by %s, not a leaf", t->name,
                           sg_op_name(t->op));
    return set_flag(t, SG_FLAG_PARAM);
}

struct sg_tensor *sg_set_loss(struct sg_tensor *t) {
    if (t && (sg_nelements(t) != 1 || t->type != SG_TYPE_F32))
        return sg_ctx_fail(t->ctx, SG_ERR_INVALID_ARG, "set_loss: '%s' must be a scalar f32", t->name);
    return set_flag(t, SG_FLAG_LOSS);
}

/* ---- shape queries ---------------------------------------------------------------------- */

int sg_rank(const struct sg_tensor *t) {
    int r = SG_MAX_DIMS;
    while (r > 1 && t->ne[r - 1] == 1) r--;
    return r;
}

int64_t sg_nelements(const struct sg_tensor *t) {
    int64_t n = 1;
    for (int d = 0; d < SG_MAX_DIMS; d++) n *= t->ne[d];
    return n;
}

int64_t sg_nrows(const struct sg_tensor *t) { return sg_nelements(t) / t->ne[0]; }

size_t sg_nbytes(const struct sg_tensor *t) {
    size_t n = sg_type_size(t->type);
    for (int d = 0; d < SG_MAX_DIMS; d++) n += (size_t)(t->ne[d] - 1) * t->nb[d];
    return n;
}

size_t sg_row_size(enum sg_type type, int64_t ne0) { return sg_type_size(type) * (size_t)ne0; }

bool sg_is_contiguous(const struct sg_tensor *t) {
    size_t expect = sg_type_size(t->type);
    for (int d = 0; d < SG_MAX_DIMS; d++) {
        if (t->ne[d] != 1 && t->nb[d] != expect) return false;
        expect *= (size_t)t->ne[d];
    }
    return true;
}

bool sg_is_rows_contiguous(const struct sg_tensor *t) { return t->ne[0] == 1 || t->nb[0] == sg_type_size(t->type); }

bool sg_is_transposed(const struct sg_tensor *t) { return t->nb[0] > t->nb[1]; }

bool sg_same_shape(const struct sg_tensor *a, const struct sg_tensor *b) {
    for (int d = 0; d < SG_MAX_DIMS; d++)
        if (a->ne[d] != b->ne[d]) return false;
    return true;
}

int sg_collapse_dims(int64_t ne[SG_MAX_DIMS], int64_t st[][SG_MAX_DIMS], int n_ops) {
    int rank = 0;
    for (int d = 0; d < SG_MAX_DIMS; d++) {
        if (ne[d] == 1) continue;
        bool merge = rank > 0;
        for (int k = 0; k < n_ops && merge; k++) merge = st[k][d] == st[k][rank - 1] * ne[rank - 1];
        if (merge) {
            ne[rank - 1] *= ne[d];
            continue;
        }
        ne[rank] = ne[d];
        for (int k = 0; k < n_ops; k++) st[k][rank] = st[k][d];
        rank++;
    }
    for (int d = rank; d < SG_MAX_DIMS; d++) {
        ne[d] = 1;
        for (int k = 0; k < n_ops; k++) st[k][d] = 0;
    }
    return rank;
}

bool sg_is_view_op(int op) {
    return op == SG_OP_VIEW || op == SG_OP_RESHAPE || op == SG_OP_PERMUTE || op == SG_OP_TRANSPOSE ||
           op == SG_OP_DETACH;
}

const char *sg_shape_str(const struct sg_tensor *t, char *buf, size_t size) {
    int r    = sg_rank(t);
    size_t n = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < r && n < size; d++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", d ? ", " : "", (long long)t->ne[d]);
    if (n < size) snprintf(buf + n, size - n, "] %s", sg_type_name(t->type));
    return buf;
}

/* ---- views ------------------------------------------------------------------------------ */

void sg_tensor_make_view(struct sg_tensor *node, struct sg_tensor *base, size_t offset) {
    if (base->view_src) {
        offset += base->view_offs;
        base = base->view_src;
    }
    node->view_src  = base;
    node->view_offs = offset;
    if (base->data) { /* already allocated: the view is usable at once */
        node->buffer = base->buffer;
        node->data   = (char *)base->data + offset;
    }
}

static struct sg_tensor *view_node(struct sg_ctx *ctx, enum sg_op op, struct sg_tensor *a, size_t offset) {
    struct sg_tensor *t = tensor_alloc(ctx);
    if (!t) return NULL;
    t->op     = op;
    t->type   = a->type;
    t->src[0] = a;
    sg_tensor_make_view(t, a, offset);
    return t;
}

struct sg_tensor *sg_view(struct sg_ctx *ctx, struct sg_tensor *a, int n_dims, const int64_t *ne, const size_t *nb,
                          size_t offset) {
    if (!a) return NULL;
    if (n_dims < 1 || n_dims > SG_MAX_DIMS) return sg_ctx_fail(ctx, SG_ERR_INVALID_ARG, "view: rank %d", n_dims);
    struct sg_tensor probe = {.type = a->type};
    for (int d = 0; d < SG_MAX_DIMS; d++) {
        probe.ne[d] = d < n_dims ? ne[d] : 1;
        if (probe.ne[d] < 1)
            return sg_ctx_fail(ctx, SG_ERR_INVALID_ARG, "view of '%s': dimension %d is %lld", a->name, d,
                               (long long)probe.ne[d]);
        if (nb && d < n_dims)
            probe.nb[d] = nb[d];
        else
            probe.nb[d] = d == 0 ? sg_type_size(a->type) : probe.nb[d - 1] * (size_t)probe.ne[d - 1];
    }
    if (offset + sg_nbytes(&probe) > sg_nbytes(a))
        return sg_ctx_fail(ctx, SG_ERR_INVALID_ARG, "view of '%s': bytes [%zu, %zu) exceed its %zu bytes", a->name,
                           offset, offset + sg_nbytes(&probe), sg_nbytes(a));
    struct sg_tensor *t = view_node(ctx, SG_OP_VIEW, a, offset);
    if (!t) return NULL;
    memcpy(t->ne, probe.ne, sizeof t->ne);
    memcpy(t->nb, probe.nb, sizeof t->nb);
    memcpy(t->op_params, &offset, sizeof offset);
    return t;
}

struct sg_tensor *sg_view_1d(struct sg_ctx *ctx, struct sg_tensor *a, int64_t ne0, size_t offset) {
    return sg_view(ctx, a, 1, (int64_t[]){ne0}, NULL, offset);
}

struct sg_tensor *sg_view_2d(struct sg_ctx *ctx, struct sg_tensor *a, int64_t ne0, int64_t ne1, size_t nb1,
                             size_t offset) {
    return sg_view(ctx, a, 2, (int64_t[]){ne0, ne1}, (size_t[]){sg_type_size(a->type), nb1}, offset);
}

struct sg_tensor *sg_reshape(struct sg_ctx *ctx, struct sg_tensor *a, int n_dims, const int64_t *ne) {
    if (!a) return NULL;
    char s[96];
    if (!sg_is_contiguous(a))
        return sg_ctx_fail(ctx, SG_ERR_INVALID_ARG, "reshape: '%s' %s is not contiguous (use sg_cont first)", a->name,
                           sg_shape_str(a, s, sizeof s));
    if (n_dims < 1 || n_dims > SG_MAX_DIMS) return sg_ctx_fail(ctx, SG_ERR_INVALID_ARG, "reshape: rank %d", n_dims);
    int64_t n = 1;
    for (int d = 0; d < n_dims; d++) n *= ne[d];
    if (n != sg_nelements(a))
        return sg_ctx_fail(ctx, SG_ERR_INVALID_ARG, "reshape: '%s' %s has %lld elements, the new shape %lld", a->name,
                           sg_shape_str(a, s, sizeof s), (long long)sg_nelements(a), (long long)n);
    struct sg_tensor *t = view_node(ctx, SG_OP_RESHAPE, a, 0);
    if (!t) return NULL;
    sg_tensor_set_shape(t, a->type, n_dims, ne);
    return t;
}

struct sg_tensor *sg_reshape_2d(struct sg_ctx *ctx, struct sg_tensor *a, int64_t ne0, int64_t ne1) {
    return sg_reshape(ctx, a, 2, (int64_t[]){ne0, ne1});
}

struct sg_tensor *sg_reshape_3d(struct sg_ctx *ctx, struct sg_tensor *a, int64_t ne0, int64_t ne1, int64_t ne2) {
    return sg_reshape(ctx, a, 3, (int64_t[]){ne0, ne1, ne2});
}

struct sg_tensor *sg_reshape_4d(struct sg_ctx *ctx, struct sg_tensor *a, int64_t ne0, int64_t ne1, int64_t ne2,
                                int64_t ne3) {
    return sg_reshape(ctx, a, 4, (int64_t[]){ne0, ne1, ne2, ne3});
}

struct sg_tensor *sg_permute(struct sg_ctx *ctx, struct sg_tensor *a, const int axes[SG_MAX_DIMS]) {
    if (!a) return NULL;
    bool seen[SG_MAX_DIMS] = {false};
    for (int d = 0; d < SG_MAX_DIMS; d++) {
        if (axes[d] < 0 || axes[d] >= SG_MAX_DIMS || seen[axes[d]])
            return sg_ctx_fail(ctx, SG_ERR_INVALID_ARG, "permute of '%s': axes are not a permutation of 0..%d", a->name,
                               SG_MAX_DIMS - 1);
        seen[axes[d]] = true;
    }
    struct sg_tensor *t = view_node(ctx, SG_OP_PERMUTE, a, 0);
    if (!t) return NULL;
    for (int d = 0; d < SG_MAX_DIMS; d++) {
        t->ne[axes[d]]  = a->ne[d];
        t->nb[axes[d]]  = a->nb[d];
        t->op_params[d] = axes[d];
    }
    return t;
}

struct sg_tensor *sg_transpose(struct sg_ctx *ctx, struct sg_tensor *a) {
    if (!a) return NULL;
    struct sg_tensor *t = view_node(ctx, SG_OP_TRANSPOSE, a, 0);
    if (!t) return NULL;
    memcpy(t->ne, a->ne, sizeof t->ne);
    memcpy(t->nb, a->nb, sizeof t->nb);
    t->ne[0] = a->ne[1];
    t->ne[1] = a->ne[0];
    t->nb[0] = a->nb[1];
    t->nb[1] = a->nb[0];
    return t;
}

struct sg_tensor *sg_detach(struct sg_ctx *ctx, struct sg_tensor *a) {
    if (!a) return NULL;
    struct sg_tensor *t = view_node(ctx, SG_OP_DETACH, a, 0);
    if (!t) return NULL;
    memcpy(t->ne, a->ne, sizeof t->ne);
    memcpy(t->nb, a->nb, sizeof t->nb);
    return t;
}

/* ---- data transfer ---------------------------------------------------------------------- */

static sg_status check_range(const struct sg_tensor *t, size_t offset, size_t size, const char *what) {
    if (!t->buffer || !t->data)
        return sg_error(SG_ERR_INVALID_ARG,
                        "%s '%s': tensor has no memory yet (allocate it or run the scheduler's prepare)", what,
                        t->name);
    if (offset > sg_nbytes(t) || size > sg_nbytes(t) - offset)
        return sg_error(SG_ERR_INVALID_ARG, "%s '%s': bytes [%zu, %zu) outside its %zu bytes", what, t->name, offset,
                        offset + size, sg_nbytes(t));
    return SG_OK;
}

sg_status sg_tensor_set(struct sg_tensor *t, const void *data, size_t offset, size_t size) {
    sg_status st = check_range(t, offset, size, "set");
    if (st != SG_OK || size == 0) return st;
    return t->buffer->iface->set_tensor(t->buffer, t, data, offset, size);
}

sg_status sg_tensor_get(const struct sg_tensor *t, void *data, size_t offset, size_t size) {
    sg_status st = check_range(t, offset, size, "get");
    if (st != SG_OK || size == 0) return st;
    return t->buffer->iface->get_tensor(t->buffer, t, data, offset, size);
}

sg_status sg_tensor_memset(struct sg_tensor *t, uint8_t value) {
    sg_status st = check_range(t, 0, sg_nbytes(t), "memset");
    if (st != SG_OK) return st;
    return t->buffer->iface->memset_tensor(t->buffer, t, value, 0, sg_nbytes(t));
}
